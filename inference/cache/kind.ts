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
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Redis } from 'ioredis';
import type { SemanticCacheDeploymentConfig } from '../../ml/cache/config';
import { SemanticCache, type ReuseModel } from '../../ml/cache/semantic-cache';
import { buildOnlineLearner, parseSnapshot, snapshotOf } from '../../ml/online';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { DEFAULT_MINILM_DIR, SentenceEmbedder } from '../embeddings/minilm';
import type { InferenceMetrics } from '../metrics';
import type { SnapshotRegistry } from '../online/kind';
import { SharedOnlineState } from '../online/state';
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
  snapshotsTaken = 0;
  /** Labels the reuse model could not learn (Redis refused them); logged. */
  labelsFailed = 0;
  private readonly embedders = new Map<string, Promise<SentenceEmbedder>>();
  private readonly timers = new Map<SemanticCacheDeployment, NodeJS.Timeout>();
  private readonly instance = randomUUID();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly opts: SemanticCacheKindOptions) {}

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
    const state = new SharedOnlineState({ redis: this.opts.redis, config: rc, learner: buildOnlineLearner(rc), refreshIntervalMs: this.opts.refreshIntervalMs, onError: (m) => this.opts.log?.('warn', m) });
    try {
      if (rc.init !== null) {
        if (this.opts.snapshots === null) throw new Error('this server has no artifact store to read the snapshot from');
        const v = rc.init.version;
        const snap = parseSnapshot(JSON.parse((await this.opts.snapshots.read(d.model, v)).toString('utf8')), rc, `${d.model}@${v}`);
        const wrote = await state.initFrom(snap);
        this.opts.log?.('info', `semantic-cache deployment ${d.deployment}: reuse model ${state.key} ${wrote ? `started from ${d.model}@${v} (seq ${snap.seq})` : `already exists; init ${d.model}@${v} not applied`}`);
      }
      await state.start();
    } catch (err) {
      void state.close();
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
    if (rc.snapshotEverySeconds > 0) {
      const t = setInterval(() => {
        this.snapshot(s).catch((err) => this.opts.log?.('warn', `semantic-cache ${s.name}: snapshot failed: ${(err as Error).message}`));
      }, rc.snapshotEverySeconds * 1000);
      t.unref();
      this.timers.set(s, t);
    }
    this.opts.log?.('info', `semantic-cache deployment ${d.deployment}: ${dir}, threshold ${config.cache.threshold}, TTL ${config.cache.ttlSeconds} s, capacity ${config.cache.capacity}, admission ${config.cache.admission} (ε ${config.cache.epsilon}), reuse model ${state.key} (seq ${state.seq})`);
    return s;
  }

  /**
   * Registers the reuse model as a version when it learnt since the last snapshot of its state key; one
   * server per period (the lease `semantic-cache:snapshot-lease:<stateKey>`). Returns the version, or null when skipped.
   */
  async snapshot(s: SemanticCacheDeployment): Promise<ModelVersion | null> {
    if (this.opts.snapshots === null) return null;
    const { redis } = this.opts;
    const c = s.config.reuseModel;
    const leaseMs = Math.max(1000, c.snapshotEverySeconds * 1000 - 100);
    const won = await redis.set(`semantic-cache:snapshot-lease:${c.stateKey}`, this.instance, 'PX', leaseMs, 'NX');
    if (won !== 'OK') return null;
    await s.state.refresh();
    const seq = s.state.seq;
    const last = Number((await redis.get(`semantic-cache:snapshot-seq:${c.stateKey}`)) ?? '-1');
    if (seq <= last) return null;
    const snap = snapshotOf(s.state.learner, c, seq);
    const v = await this.opts.snapshots.register({
      model: s.model,
      artifact: { buffer: Buffer.from(JSON.stringify(snap)) },
      fileName: 'semantic-cache-reuse-model.json',
      format: 'json',
      tags: { kind: 'semantic-cache', deployment: s.name, stateKey: c.stateKey, seq: String(seq) },
      metrics: { seq, coordinates: snap.index.length },
      description: `semantic-cache reuse model (FTRL logistic) state ${c.stateKey} at seq ${seq}`,
      actor: this.opts.actor,
    });
    await redis.set(`semantic-cache:snapshot-seq:${c.stateKey}`, String(seq));
    this.snapshotsTaken++;
    this.opts.log?.('info', `semantic-cache ${s.name}: reuse model snapshot ${v.model}@${v.version} (seq ${seq}, ${snap.index.length} coordinates)`);
    return v;
  }

  released(s: SemanticCacheDeployment): void {
    const t = this.timers.get(s);
    if (t) clearInterval(t);
    this.timers.delete(s);
    const p = s.state.close();
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    const closing: Promise<void>[] = [...this.closing];
    for (const s of this.opts.map.values()) if (s instanceof SemanticCacheDeployment) closing.push(s.state.close());
    await Promise.all(closing);
    const embedders = [...this.embedders.values()];
    this.embedders.clear();
    await Promise.all(embedders.map((e) => e.then((x) => x.release(), () => undefined)));
  }
}
