/**
 * The server's Prometheus metrics (prom-client, one Registry per server so two servers in one process
 * — as in tests — never share counters). Label sets are bounded: routes are a fixed list, models and
 * versions are only those the server has loaded (series of released versions are removed), and a
 * deployment name a client sends that we do not serve never becomes a label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type RouteLabel = 'decide' | 'rewards' | 'v2_infer' | 'v2_metadata' | 'health' | 'metrics' | 'not_found';

/** What a histogram child needs: `observe(seconds)`. */
export interface Observer {
  observe(value: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

export class InferenceMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new Histogram({
    name: 'autopilot_inference_request_duration_seconds',
    help: 'Time from request start to response end, by route, model, version and arm (model/version/arm are "-" when none served).',
    labelNames: ['route', 'model', 'version', 'arm'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: 'autopilot_inference_errors_total',
    help: 'Responses with status >= 400, by route and status code.',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'autopilot_decisions_total',
    help: 'Decisions served, by deployment, version and arm (fallback decisions have version "fallback").',
    labelNames: ['deployment', 'version', 'arm'] as const,
    registers: [this.registry],
  });
  readonly fallbacks = new Counter({
    name: 'autopilot_fallbacks_total',
    help: 'Decisions answered with the deployment\'s static fallback action, by reason.',
    labelNames: ['deployment', 'reason'] as const,
    registers: [this.registry],
  });
  readonly modelLoads = new Counter({
    name: 'autopilot_model_loads_total',
    help: 'Model version loads by outcome (ok, failed, corrupt) and source (registry, cache).',
    labelNames: ['model', 'outcome', 'source'] as const,
    registers: [this.registry],
  });
  readonly modelSwaps = new Counter({
    name: 'autopilot_model_swaps_total',
    help: 'Atomic swaps of a deployment\'s serving state (new champion, canary or weight).',
    labelNames: ['deployment'] as const,
    registers: [this.registry],
  });
  readonly canaryEjections = new Counter({
    name: 'autopilot_canary_ejections_total',
    help: 'Canaries taken out of rotation (load failure or run-time error).',
    labelNames: ['deployment', 'reason'] as const,
    registers: [this.registry],
  });
  readonly shadowDecisions = new Counter({
    name: 'autopilot_shadow_decisions_total',
    help: 'Mirrored requests scored by a deployment\'s shadow version, by outcome (logged, error, dropped: mirror queue full).',
    labelNames: ['deployment', 'version', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly shadowEjections = new Counter({
    name: 'autopilot_shadow_ejections_total',
    help: 'Shadow versions dropped from mirroring (load failure or run-time error); serving is unaffected.',
    labelNames: ['deployment', 'reason'] as const,
    registers: [this.registry],
  });
  readonly modelsLoaded = new Gauge({
    name: 'autopilot_models_loaded',
    help: 'ONNX sessions currently loaded.',
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'autopilot_decision_log_queue_depth',
    help: 'Decision rows waiting in memory to be written.',
    registers: [this.registry],
  });
  readonly journalPending = new Gauge({
    name: 'autopilot_decision_log_journal_pending',
    help: 'Decision rows spilled to the local journal and not yet replayed.',
    registers: [this.registry],
  });
  readonly rowsWritten = new Counter({
    name: 'autopilot_decision_log_rows_written_total',
    help: 'Decision rows written to the registry (directly or by journal replay).',
    registers: [this.registry],
  });
  readonly rowsSpilled = new Counter({
    name: 'autopilot_decision_log_rows_spilled_total',
    help: 'Decision rows spilled to the local journal because the database was slow or down.',
    registers: [this.registry],
  });
  readonly rowsRejected = new Counter({
    name: 'autopilot_decision_log_rows_rejected_total',
    help: 'Decision rows the database refused for their content, set aside in the journal directory\'s rejected.jsonl (the rest of their batch is written).',
    registers: [this.registry],
  });
  readonly rowsLost = new Counter({
    name: 'autopilot_decision_log_rows_lost_total',
    help: 'Decision rows that could be neither written nor journaled. Must stay 0.',
    registers: [this.registry],
  });

  private readonly children = new Map<string, Observer>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'autopilot_inference_' });
    this.rowsLost.inc(0);
    this.rowsRejected.inc(0);
    this.rowsSpilled.inc(0);
    this.rowsWritten.inc(0);
  }

  /** A cached histogram child: resolve once per (route, model, version, arm), observe many times. */
  latency(route: RouteLabel, model = '-', version = '-', arm = '-'): Observer {
    const key = `${route}\u0000${model}\u0000${version}\u0000${arm}`;
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.requestDuration.labels(route, model, version, arm);
      this.children.set(key, child);
    }
    return child;
  }

  /** Drops the series of a version no longer served, so label cardinality stays bounded. */
  forgetVersion(model: string, version: string): void {
    for (const [key] of this.children) {
      const [route, m, v, arm] = key.split('\u0000');
      if (m === model && v === version) {
        this.requestDuration.remove(route, m, v, arm);
        this.children.delete(key);
      }
    }
  }
}
