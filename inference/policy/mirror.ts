/**
 * Request mirroring for a deployment's shadow version (`config.shadowVersion`), Flagger's "traffic
 * mirroring": every decision served by the champion is handed here (sync, O(1)); after the response
 * has been sent, the queued requests are scored by the shadow model in one micro-batch per
 * event-loop turn (setImmediate runs after the turn that writes the response) and each gets a second
 * decision row: arm `shadow`, the shadow's version, action and propensity, `metadata.mirrorOf` = the
 * served decision's id. The served response and its row are never touched; nothing here can fail a
 * request.
 *
 * Bounded: at most `maxQueue` mirrors wait; beyond that they are dropped (counted, outcome `dropped`).
 * A shadow whose run fails is dropped from mirroring (`manager.ejectShadow`: metric + audit row).
 * The shadow samples with its own Rng, so sampled served actions are the same with or without a shadow.
 */
import type { Rng } from '../../ml/rng';
import type { DecisionInput } from '../../decision-log';
import type { Json } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { newDecisionStamp } from '../decisions/id';
import type { InferenceMetrics } from '../metrics';
import type { LoadedModel } from '../models/loaded-model';
import type { ServingState } from '../models/serving-state';

export interface MirrorJob {
  state: ServingState;
  shadow: LoadedModel;
  /** The served decision's id. */
  mirrorOf: string;
  /** The features the champion saw, as logged (store lookups already filled in). */
  features: Json;
  /** Fills the shadow's input vector from the logged features (may read the feature store). */
  input: (model: LoadedModel, features: Json) => Promise<Float32Array>;
  sample: boolean;
  unit: string | null;
}

/** Where the mirror reads a deployment's current policy state and drops a failing shadow (the policy kind). */
export interface ShadowOwner {
  get(name: string): ServingState | undefined;
  ejectShadow(name: string, model: LoadedModel, reason: string): ServingState | undefined;
}

export interface ShadowMirrorOptions {
  manager: ShadowOwner;
  log: DecisionLog;
  metrics: InferenceMetrics;
  rng: Rng;
  maxQueue?: number;
  onError?: (level: 'warn' | 'error', msg: string) => void;
}

export class ShadowMirror {
  private queue: MirrorJob[] = [];
  private scheduled = false;
  private readonly running = new Set<Promise<void>>();
  private readonly maxQueue: number;

  constructor(private readonly opts: ShadowMirrorOptions) {
    this.maxQueue = opts.maxQueue ?? 10_000;
  }

  /** Queues one mirror; never blocks, never throws. */
  enqueue(job: MirrorJob): void {
    if (this.queue.length >= this.maxQueue) {
      this.opts.metrics.shadowDecisions.labels(job.state.name, String(job.shadow.info.version), 'dropped').inc();
      return;
    }
    this.queue.push(job);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        const batch = this.queue;
        this.queue = [];
        const p = this.runBatch(batch).finally(() => this.running.delete(p));
        this.running.add(p);
      });
    }
  }

  private async runBatch(batch: MirrorJob[]): Promise<void> {
    await Promise.all(batch.map((job) => this.runOne(job)));
  }

  private async runOne(job: MirrorJob): Promise<void> {
    const { state, shadow } = job;
    const current = this.opts.manager.get(state.name);
    // Dropped (run-time error of an earlier mirror) or replaced since the request was served.
    if (current === undefined || current.shadow !== shadow) return;
    const version = String(shadow.info.version);
    const t0 = performance.now();
    shadow.acquire();
    try {
      if (shadow.decoder === null) throw new Error(`${shadow.key}'s signature has no policy heads`);
      const x = await job.input(shadow, job.features);
      const result = await shadow.infer(x);
      const ex = state.exploration;
      const decoded = shadow.decoder.decode(result.outputs, { mode: job.sample ? 'sample' : 'greedy', epsilon: ex.epsilon, temperature: ex.temperature, rng: this.opts.rng, row: result.row });
      const row: DecisionInput = {
        ...newDecisionStamp(),
        deployment: state.name,
        model: shadow.info.model,
        version: shadow.info.version,
        generation: state.generation,
        arm: 'shadow',
        features: job.features,
        action: decoded.action,
        propensity: decoded.propensity,
        density: decoded.density,
        unit: job.unit,
        latencyMs: performance.now() - t0,
        metadata: { mirrorOf: job.mirrorOf, policyProbability: decoded.policyProbability, mode: job.sample ? 'sample' : 'greedy', epsilon: ex.epsilon, temperature: job.sample ? ex.temperature : 1 },
      };
      this.opts.log.enqueue(row);
      this.opts.metrics.shadowDecisions.labels(state.name, version, 'logged').inc();
    } catch (err) {
      this.opts.metrics.shadowDecisions.labels(state.name, version, 'error').inc();
      this.opts.manager.ejectShadow(state.name, shadow, `run-time error: ${(err as Error).message}`);
    } finally {
      shadow.release();
    }
  }

  /** Waits until every queued mirror has been scored and handed to the decision log (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.scheduled || this.running.size > 0) {
      if (this.running.size > 0) await Promise.all([...this.running]);
      else await new Promise((r) => setImmediate(r));
    }
  }
}
