/**
 * The server's Prometheus metrics (prom-client, one Registry per server so two servers in one process
 * — as in tests — never share counters). Label sets are bounded: routes are a fixed list, models and
 * versions are only those the server has loaded (series of released versions are removed), and a
 * deployment name a client sends that we do not serve never becomes a label.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CalibrationExporter, type CalibrationReport } from '../ml/calibration';

export type RouteLabel = 'decide' | 'rewards' | 'feedback' | 'predict' | 'labels' | 'cache_lookup' | 'cache_store' | 'cache_wrong_hit' | 'v2_infer' | 'v2_metadata' | 'health' | 'metrics' | 'not_found';

/** What a histogram child needs: `observe(seconds)`. */
export interface Observer {
  observe(value: number): void;
}

const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** What a counter child needs on the hot path: `inc()`. */
export interface Incrementer {
  inc(value?: number): void;
}

/**
 * One series of `LatencyHistogram`: counts into its own arrays. A prom-client child hashes and
 * validates its label set on every observation (about a microsecond and a few hundred bytes per call,
 * twice per decision); this does a bucket search and three additions.
 */
class LatencySeries implements Observer {
  /** Per-bucket counts (not cumulative); the last one is +Inf. */
  readonly counts = new Float64Array(LATENCY_BUCKETS.length + 1);
  sum = 0;
  count = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`latency must be a finite number of seconds, got ${value}`);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && value > LATENCY_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/**
 * The request-latency histogram: a metric the prom-client Registry formats like its own Histogram
 * (`_bucket` with cumulative `le` counts and `+Inf`, `_sum`, `_count`), whose series are resolved once
 * per label set and then observed without hashing.
 */
class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, LatencySeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  private static key(values: readonly string[]): string {
    return values.join('\u0000');
  }

  /** The series of these label values (in `labelNames` order), created on first use. */
  labels(...values: string[]): Observer {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name}: expected ${this.labelNames.length} label values (${this.labelNames.join(', ')}), got ${values.length}`);
    const key = LatencyHistogram.key(values);
    let s = this.series.get(key);
    if (s === undefined) {
      const labels: Record<string, string> = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i]));
      s = new LatencySeries(labels);
      this.series.set(key, s);
    }
    return s;
  }

  /** Drops the series whose labels match (a child still held keeps counting, unseen; `labels` makes a new one). */
  removeWhere(match: (labels: Readonly<Record<string, string>>) => boolean): void {
    for (const [key, s] of this.series) if (match(s.labels)) this.series.delete(key);
  }

  reset(): void {
    this.series.clear();
  }

  /** prom-client's metric shape (what `Registry.metrics()` formats). */
  get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string | number>; value: number; metricName: string }[] }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i <= LATENCY_BUCKETS.length; i++) {
        acc += s.counts[i];
        values.push({ labels: { le: i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i] : '+Inf', ...s.labels }, value: acc, metricName: `${this.name}_bucket` });
      }
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }
}

/** A counter child that adds up locally; its counter takes the sum in at scrape time (`collect`). */
class PendingCount implements Incrementer {
  pending = 0;

  constructor(readonly labels: Readonly<Record<string, string>>) {}

  inc(value = 1): void {
    if (!(Number.isFinite(value) && value >= 0)) throw new TypeError(`a counter increment must be a finite number >= 0, got ${value}`);
    this.pending += value;
  }
}

export class InferenceMetrics {
  readonly registry = new Registry();
  readonly requestDuration = new LatencyHistogram(
    'autopilot_inference_request_duration_seconds',
    'Time from request start to response end, by route, model, version and arm (model/version/arm are "-" when none served).',
    ['route', 'model', 'version', 'arm'],
  );
  /** Hot-path children of `decisions` (see `decisionCounter`), taken in when the counter is collected. */
  private readonly decisionCounts = new Map<string, PendingCount>();
  readonly errors = new Counter({
    name: 'autopilot_inference_errors_total',
    help: 'Responses with status >= 400, by route, status code and deployment ("unknown" when the request named no deployment served here: a malformed body, an unknown name, a route without one).',
    labelNames: ['route', 'status', 'deployment'] as const,
    registers: [this.registry],
  });
  readonly decisions = new Counter({
    name: 'autopilot_decisions_total',
    help: 'Decisions served, by deployment, version and arm (fallback decisions have version "fallback").',
    labelNames: ['deployment', 'version', 'arm'] as const,
    registers: [this.registry],
    collect: () => {
      for (const c of this.decisionCounts.values()) {
        if (c.pending > 0) {
          this.decisions.inc(c.labels, c.pending);
          c.pending = 0;
        }
      }
    },
  });
  /** The HTTP fast path's own counters (./http/fast-path.ts), read at scrape time. */
  private fastPath: { requests: number; handOffs: number } | null = null;
  readonly httpFastPath = new Counter({
    name: 'autopilot_inference_http_fast_path_total',
    help: 'Requests the HTTP fast path read and routed itself (event="request"), and connections it handed to node:http (event="hand_off": chunked bodies, Expect, HTTP/1.0, malformed requests...).',
    labelNames: ['event'] as const,
    registers: [this.registry],
    collect: () => {
      if (this.fastPath === null) return;
      this.httpFastPath.reset();
      this.httpFastPath.inc({ event: 'request' }, this.fastPath.requests);
      this.httpFastPath.inc({ event: 'hand_off' }, this.fastPath.handOffs);
    },
  });
  readonly fallbacks = new Counter({
    name: 'autopilot_fallbacks_total',
    help: 'Decisions answered with the deployment\'s static fallback action, by reason.',
    labelNames: ['deployment', 'reason'] as const,
    registers: [this.registry],
  });
  readonly feedback = new Counter({
    name: 'autopilot_policy_feedback_total',
    help: 'Reviewer verdicts recorded on served text-policy decisions (POST /v1/feedback), by the verdict served and the verdict given: served="APPROVE",verdict="FLAG" over served="APPROVE" is seed 003\'s human override rate.',
    labelNames: ['deployment', 'served', 'verdict'] as const,
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
  readonly deploymentsServed = new Gauge({
    name: 'autopilot_deployments_served',
    help: 'Deployments this server serves now, by kind (policy, bandit, text-policy).',
    labelNames: ['kind'] as const,
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

  // ── durability of the decision and reward logs (issue 19 item 4) ──
  private logSources: Record<'decisions' | 'rewards', { atRisk(): number; journalBytes(): number; journalFull(): boolean } | null> = { decisions: null, rewards: null };
  readonly rowsAtRisk = new Gauge({
    name: 'autopilot_decision_log_rows_at_risk',
    help: 'Rows acknowledged (answered) but not yet durable — in memory, not yet in the database nor fsynced in the journal — by log (decisions, rewards). Async durability: a kill -9 loses at most this many; journal durability: 0.',
    labelNames: ['log'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [log, src] of Object.entries(this.logSources)) if (src !== null) this.rowsAtRisk.labels(log).set(src.atRisk());
    },
  });
  readonly journalBytes = new Gauge({
    name: 'autopilot_decision_journal_bytes',
    help: 'Bytes of the local journal\'s segments, by log (decisions, rewards); capped by --journal-max-bytes.',
    labelNames: ['log'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [log, src] of Object.entries(this.logSources)) if (src !== null) this.journalBytes.labels(log).set(src.journalBytes());
    },
  });
  readonly journalFull = new Gauge({
    name: 'autopilot_decision_journal_full',
    help: '1 while the local journal is at its cap (--journal-max-bytes): rows that must be journaled are refused (journal durability, 503) or lost (async: rows_lost), by log.',
    labelNames: ['log'] as const,
    registers: [this.registry],
    collect: () => {
      for (const [log, src] of Object.entries(this.logSources)) if (src !== null) this.journalFull.labels(log).set(src.journalFull() ? 1 : 0);
    },
  });
  readonly rowsRefused = new Counter({
    name: 'autopilot_decision_log_rows_refused_total',
    help: 'Journal durability: rows the journal could not take (full, or failing), whose requests were answered 503 — never acknowledged, never written. By log.',
    labelNames: ['log'] as const,
    registers: [this.registry],
  });
  readonly journalLinesUnparsable = new Counter({
    name: 'autopilot_decision_journal_lines_unparsable_total',
    help: 'Journal lines that could not be parsed on replay (torn by a crash, or corrupted), by log: counted lost too, each named in the log with its file and line.',
    labelNames: ['log'] as const,
    registers: [this.registry],
  });
  readonly rewardRowsLost = new Counter({
    name: 'autopilot_reward_log_rows_lost_total',
    help: 'Bandit reward rows acknowledged that could be neither written nor journaled. Must stay 0.',
    registers: [this.registry],
  });

  /** The decision or reward log whose at-risk rows and journal the gauges above report at each scrape. */
  trackDecisionLog(src: { atRisk(): number; journalBytes(): number; journalFull(): boolean }, log: 'decisions' | 'rewards' = 'decisions'): void {
    this.logSources[log] = src;
  }

  // ---- Rewards (issue #20 item 2), fed by rewardAccepted() where a bandit reward is applied
  // (inference/bandits/rewards.ts settle()). Sums are gauges: rewards may be negative, and a counter must
  // not go down; chart the mean reward per arm as delta(sum[w]) / increase(received[w]).
  readonly rewardsReceived = new Counter({
    name: 'autopilot_rewards_received_total',
    help: 'Rewards accepted and applied (a duplicate of a recorded reward is not counted), by deployment, version and arm.',
    labelNames: ['deployment', 'version', 'arm'] as const,
    registers: [this.registry],
  });
  readonly rewardsSum = new Gauge({
    name: 'autopilot_rewards_sum',
    help: 'Sum of the rewards counted in autopilot_rewards_received_total, by deployment, version and arm (a gauge: rewards may be negative).',
    labelNames: ['deployment', 'version', 'arm'] as const,
    registers: [this.registry],
  });
  readonly rewardComponentsReceived = new Counter({
    name: 'autopilot_rewards_component_received_total',
    help: 'Accepted rewards that carried this component of the deployment\'s reward spec, by deployment, arm and component.',
    labelNames: ['deployment', 'arm', 'component'] as const,
    registers: [this.registry],
  });
  readonly rewardComponentsSum = new Gauge({
    name: 'autopilot_rewards_component_sum',
    help: 'Sum of a reward component\'s values over accepted rewards, by deployment, arm and component (a gauge: components may be negative).',
    labelNames: ['deployment', 'arm', 'component'] as const,
    registers: [this.registry],
  });

  /**
   * One accepted reward. Only components named in `componentNames` (the deployment's reward spec)
   * become labels, so a client cannot grow the label set.
   */
  rewardAccepted(labels: { deployment: string; version: string; arm: string }, reward: number, components: Record<string, number> | null, componentNames: readonly string[]): void {
    this.rewardsReceived.inc(labels);
    this.rewardsSum.inc(labels, reward);
    if (components === null) return;
    for (const name of componentNames) {
      const v = components[name];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      const c = { deployment: labels.deployment, arm: labels.arm, component: name };
      this.rewardComponentsReceived.inc(c);
      this.rewardComponentsSum.inc(c, v);
    }
  }

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    this.registry.registerMetric(this.requestDuration as never);
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'autopilot_inference_' });
    this.rowsLost.inc(0);
    this.rowsRejected.inc(0);
    this.rowsSpilled.inc(0);
    this.rowsWritten.inc(0);
  }

  /** Reports the fast path's counters (the object it keeps counting in) at every scrape. */
  trackFastPath(stats: { requests: number; handOffs: number }): void {
    this.fastPath = stats;
  }

  // --- overload and reward dead letters (issue "Trust" items 2 and 6) ---
  private overload: { open?: () => number; refused?: () => number; deadlines?: () => number } = {};
  readonly connectionsOpen = new Gauge({
    name: 'autopilot_inference_connections_open',
    help: 'Client connections open now (at most --max-connections).',
    registers: [this.registry],
    collect: () => {
      if (this.overload.open) this.connectionsOpen.set(this.overload.open());
    },
  });
  readonly connectionsRefused = new Counter({
    name: 'autopilot_inference_connections_refused_total',
    help: 'Connections answered 503 with Retry-After and closed because --max-connections were open.',
    registers: [this.registry],
    collect: () => {
      if (!this.overload.refused) return;
      this.connectionsRefused.reset();
      this.connectionsRefused.inc(this.overload.refused());
    },
  });
  readonly requestDeadlines = new Counter({
    name: 'autopilot_inference_request_deadlines_total',
    help: 'Connections of the HTTP fast path closed (408) because a request head or body missed its absolute deadline (--header-timeout, --body-timeout).',
    registers: [this.registry],
    collect: () => {
      if (!this.overload.deadlines) return;
      this.requestDeadlines.reset();
      this.requestDeadlines.inc(this.overload.deadlines());
    },
  });
  readonly rewardsDeadLettered = new Counter({
    name: 'autopilot_inference_rewards_dead_lettered_total',
    help: 'Rewards of bandit learner flushes the shared state refused (set aside in reward_dead_letters, not retried), by state key.',
    labelNames: ['state_key'] as const,
    registers: [this.registry],
  });

  // ---- Calibration of online models (issue 23 item 7): their rolling windows of (prediction before learning,
  // label), read at scrape time; the same gauge names the worker exports for driftMonitor's windows.
  private calibrationSource: (() => { deployment: string; model: string; report: CalibrationReport }[]) | null = null;
  private readonly calibrationShown = new Set<string>();
  readonly calibration = new CalibrationExporter((name, help, labelNames) => {
    const first = name === 'autopilot_calibration_pairs';
    return new Gauge({
      name, help, labelNames, registers: [this.registry],
      // The first gauge of the table collects for all of them (the registry reads them in registration order).
      ...(first ? { collect: () => this.collectCalibration() } : {}),
    });
  });

  /** Reads `source` at each scrape into the autopilot_calibration_* gauges; series of deployments gone are removed. */
  trackCalibration(source: () => { deployment: string; model: string; report: CalibrationReport }[]): void {
    this.calibrationSource = source;
  }

  private collectCalibration(): void {
    if (this.calibrationSource === null) return;
    const seen = new Set<string>();
    for (const c of this.calibrationSource()) {
      seen.add(`${c.deployment}\u0000${c.model}`);
      this.calibration.set(c.deployment, c.model, c.report);
    }
    for (const key of this.calibrationShown) {
      if (seen.has(key)) continue;
      const [deployment, model] = key.split('\u0000');
      this.calibration.remove(deployment, model);
    }
    this.calibrationShown.clear();
    for (const k of seen) this.calibrationShown.add(k);
  }

  /** Reads the overload counters (./http/overload.ts, the fast path's deadlines) at every scrape. */
  trackOverload(sources: { open?: () => number; refused?: () => number; deadlines?: () => number }): void {
    this.overload = { ...this.overload, ...sources };
  }

  /** A cached histogram child: resolve once per (route, model, version, arm), observe many times. */
  latency(route: RouteLabel, model = '-', version = '-', arm = '-'): Observer {
    return this.requestDuration.labels(route, model, version, arm);
  }

  /** The child of `decisions` every decision path counts through (no label hashing per increment; exact at every scrape). */
  decisionCounter(deployment: string, version: string, arm: string): Incrementer {
    const key = `${deployment}\u0000${version}\u0000${arm}`;
    let c = this.decisionCounts.get(key);
    if (c === undefined) {
      c = new PendingCount({ deployment, version, arm });
      this.decisionCounts.set(key, c);
    }
    return c;
  }

  /** Drops the series of a version no longer served, so label cardinality stays bounded. */
  forgetVersion(model: string, version: string): void {
    this.requestDuration.removeWhere((labels) => labels.model === model && labels.version === version);
  }
}
