/**
 * The served kind `semantic-cache` (UC8, issue 23 item 2; config: ml/cache/config.ts, endpoints:
 * ./handlers.ts, what is shared and what is per server: ./deployment.ts).
 *
 * Loading parses the config (a bad one keeps the previous deployment serving), loads the embedding model
 * (one session per folder, shared by the deployments that name it), starts the reuse model's shared
 * state — from a snapshot version when `reuseModel.init` names one — and builds the cache, adopting the
 * entries of the deployment it replaces when the reuse model's hashing is unchanged (a hot swap of the
 * threshold, TTL, ε or cost model keeps the cached answers). Every `reuseModel.snapshotEverySeconds` one
 * server (a Redis lease) registers the reuse model as a new version of the deployment's model (format
 * json, an online-model snapshot: ml/online/snapshot.ts) when it learnt since the last snapshot, like the
 * online-model kind; a later config can start from it (`reuseModel.init`).
 */
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { SemanticCacheDeploymentConfig } from '../../ml/cache/config';
import { SemanticCache, type ReuseModel } from '../../ml/cache/semantic-cache';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { DEFAULT_MINILM_DIR, SentenceEmbedder } from '../embeddings/minilm';
import type { InferenceMetrics } from '../metrics';
import { SharedModels, type SnapshotRegistry } from '../online/shared-models';
import type { SharedOnlineState } from '../online/state';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { SemanticCacheDeployment, type CacheOwner } from './deployment';

export interface SemanticCacheKindOptions {
  map: DeploymentMap;
  redis: Redis;
  decisionLog: DecisionLog;
  metrics: InferenceMetrics | null;
  /** null: no artifact store; snapshots and `reuseModel.init` are refused with a logged reason. */
  snapshots: SnapshotRegistry | null;
  actor: string;
  /** Seeds the ε-greedy draws. */
  random: () => number;
  /** The embedding model's folder when a config names none (default .model-minilm). */
  defaultEmbeddingDir?: string;
  refreshIntervalMs?: number;
  /** Seconds now (tests move it; default the wall clock). */
  clock?: () => number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export class SemanticCacheKind implements ServedKind, CacheOwner {
  applyFailures = 0;
  /** Labels the reuse model could not learn (Redis refused them); logged. */
  labelsFailed = 0;
  private readonly embedders = new Map<string, Promise<SentenceEmbedder>>();
  private readonly shared: SharedModels<SemanticCacheDeployment>;

  constructor(private readonly opts: SemanticCacheKindOptions) {
    this.shared = new SharedModels({
      ...opts,
      naming: {
        kind: 'semantic-cache',
        keyPrefix: 'semantic-cache',
        fileName: 'semantic-cache-reuse-model.json',
        describe: (c, seq) => `semantic-cache reuse model (FTRL logistic) state ${c.stateKey} at seq ${seq}`,
      },
    });
  }

  get snapshotsTaken(): number {
    return this.shared.snapshotsTaken;
  }

  get decisionLog(): DecisionLog {
    return this.opts.decisionLog;
  }

  get metrics(): InferenceMetrics | null {
    return this.opts.metrics;
  }

  /** The semantic-cache deployment serving `name`, or undefined. */
  get(name: string): SemanticCacheDeployment | undefined {
    const s = this.opts.map.get(name);
    return s instanceof SemanticCacheDeployment ? s : undefined;
  }

  private embedder(dir: string): Promise<SentenceEmbedder> {
    let e = this.embedders.get(dir);
    if (e === undefined) {
      e = SentenceEmbedder.load(dir);
      this.embedders.set(dir, e);
      // A folder that failed to load is tried again by the next deployment that names it.
      e.catch(() => this.embedders.delete(dir));
    }
    return e;
  }

  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof SemanticCacheDeployment ? current : undefined;
    const configJson = JSON.stringify(d.config);
    if (cur !== undefined && cur.configJson === configJson) {
      cur.generation = d.generation;
      return cur;
    }
    const keeps = cur ? `; generation ${cur.generation} keeps serving` : '';
    let config: SemanticCacheDeploymentConfig;
    try {
      config = parseDeploymentConfig('semantic-cache', d.config, d.deployment);
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `semantic-cache deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${keeps}`);
      return cur ?? null;
    }
    const dir = resolve(config.embeddingModel ?? this.opts.defaultEmbeddingDir ?? DEFAULT_MINILM_DIR);
    let embedder: SentenceEmbedder;
    try {
      embedder = await this.embedder(dir);
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `semantic-cache deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${keeps}`);
      return cur ?? null;
    }
    const rc = config.reuseModel;
    let state: SharedOnlineState;
    try {
      state = await this.shared.open(d.deployment, d.model, rc, 'reuse model');
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `semantic-cache deployment ${d.deployment} generation ${d.generation}: cannot load its reuse model (${(err as Error).message})${keeps}`);
      return cur ?? null;
    }
    const model: ReuseModel = {
      predict: (idx, val, count) => state.learner.predict(idx, val, 0, count),
      learn: (idx, val, y) => {
        // One row in CSR form (ml/online's SparseBatch); the row's arrays are handed over (ReuseModel.learn).
        state.learn({ rows: 1, offsets: Int32Array.of(0, idx.length), idx, val, y: Float64Array.of(y) }).catch((err: Error) => {
          this.labelsFailed++;
          this.opts.log?.('warn', `semantic-cache ${d.deployment}: a reuse label was not learnt (${err.message})`);
        });
      },
    };
    const cache = new SemanticCache(config.cache, { random: this.opts.random, model, hashSeed: rc.hashSeed, bias: rc.bias });
    const s = new SemanticCacheDeployment(this, d.deployment, d.model, d.generation, config, configJson, state, embedder, cache, this.opts.clock);
    if (cur !== undefined) {
      const a = cur.config.reuseModel;
      const sameRows = a.bits === rc.bits && a.hashSeed === rc.hashSeed && a.bias === rc.bias && cur.embedder === embedder;
      if (sameRows) s.adopt(cur);
      this.opts.log?.('info', `semantic-cache deployment ${d.deployment}: generation ${d.generation} ${sameRows ? `took over ${s.cache.size} cached answer(s)` : 'starts empty (embedding model or reuse-model hashing changed)'}`);
    }
    this.shared.schedule(s, rc);
    this.opts.log?.('info', `semantic-cache deployment ${d.deployment}: ${dir}, threshold ${config.cache.threshold}, TTL ${config.cache.ttlSeconds} s, capacity ${config.cache.capacity}, admission ${config.cache.admission} (ε ${config.cache.epsilon}), reuse model ${state.key} (seq ${state.seq})`);
    return s;
  }

  /** Registers the reuse model as a version when it learnt since the last snapshot (SharedModels.snapshot). */
  snapshot(s: SemanticCacheDeployment): Promise<ModelVersion | null> {
    return this.shared.snapshot(s, s.config.reuseModel);
  }

  released(s: SemanticCacheDeployment): void {
    this.shared.release(s);
  }

  async close(): Promise<void> {
    const served: SemanticCacheDeployment[] = [];
    for (const s of this.opts.map.values()) if (s instanceof SemanticCacheDeployment) served.push(s);
    await this.shared.close(served);
    const embedders = [...this.embedders.values()];
    this.embedders.clear();
    await Promise.all(embedders.map((e) => e.then((x) => x.release(), () => undefined)));
  }
}
