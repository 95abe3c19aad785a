/**
 * What every served kind whose model is a shared online state (./state.ts) does alike — the `online-model`
 * kind and the `semantic-cache` kind's reuse model:
 *
 * - `open`: the state of a deployment's model config, started from a snapshot version when its `init`
 *   names one (written only into an empty state), then read from Redis;
 * - `schedule`: every `snapshotEverySeconds` one server (the Redis lease `<keyPrefix>:snapshot-lease:<stateKey>`)
 *   registers the state as a new version of the deployment's model (format json, an ml/online snapshot,
 *   tags kind, deployment, stateKey and seq) when it moved since the last snapshot of that state key;
 * - `release` / `close`: the timers stop and the states close; a closing state is awaited by `close`.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { buildOnlineLearner, parseSnapshot, snapshotOf, type OnlineModelConfig } from '../../ml/online';
import type { RegisterVersionInput } from '../../registry/register';
import type { ModelVersion } from '../../registry/types';
import { SharedOnlineState } from './state';

/** Registers and reads snapshot versions (the registry with its artifact store). */
export interface SnapshotRegistry {
  register(input: RegisterVersionInput): Promise<ModelVersion>;
  read(model: string, version: number): Promise<Buffer>;
}

/** A served deployment whose model is a shared online state. */
export interface SharedModelHolder {
  readonly name: string;
  readonly model: string;
  readonly state: SharedOnlineState;
}

/** How one kind names its snapshots. */
export interface SnapshotNaming {
  /** The kind, tagged on every snapshot version. */
  kind: string;
  /** Redis key prefix of the lease and the last snapshot's seq. */
  keyPrefix: string;
  /** The artifact's file name. */
  fileName: string;
  /** The version's description. */
  describe(config: OnlineModelConfig, seq: number): string;
}

export interface SharedModelsOptions {
  redis: Redis;
  /** null: no artifact store or registry writes; snapshots are skipped and `init` is refused. */
  snapshots: SnapshotRegistry | null;
  actor: string;
  refreshIntervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
  naming: SnapshotNaming;
}

export class SharedModels<T extends SharedModelHolder> {
  snapshotsTaken = 0;
  private readonly timers = new Map<T, NodeJS.Timeout>();
  private readonly instance = randomUUID();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly opts: SharedModelsOptions) {}

  /**
   * The started state of `config` for `deployment` of `model`; throws (the state closed) when the snapshot
   * named by `init` cannot be read or Redis cannot be. `what` names the model in the log line.
   */
  async open(deployment: string, model: string, config: OnlineModelConfig, what: string): Promise<SharedOnlineState> {
    const state = new SharedOnlineState({
      redis: this.opts.redis,
      config,
      learner: buildOnlineLearner(config),
      deployment,
      refreshIntervalMs: this.opts.refreshIntervalMs,
      // A server tailing faster than the default (tests) checks checkpoints as often.
      checkpointIntervalMs: this.opts.refreshIntervalMs === undefined ? undefined : Math.min(1000, this.opts.refreshIntervalMs),
      onError: (m) => this.opts.log?.('warn', m),
    });
    try {
      if (config.init !== null) {
        if (this.opts.snapshots === null) throw new Error('this server has no artifact store to read the snapshot from');
        const v = config.init.version;
        const snap = parseSnapshot(JSON.parse((await this.opts.snapshots.read(model, v)).toString('utf8')), config, `${model}@${v}`);
        const wrote = await state.initFrom(snap);
        this.opts.log?.('info', `${this.opts.naming.kind} deployment ${deployment}: ${what} ${state.key} ${wrote ? `started from ${model}@${v} (seq ${snap.seq})` : `already exists; init ${model}@${v} not applied`}`);
      }
      await state.start();
      return state;
    } catch (err) {
      void state.close();
      throw err;
    }
  }

  /** Snapshots `s` every `config.snapshotEverySeconds` (none when 0) until it is released. */
  schedule(s: T, config: OnlineModelConfig): void {
    if (config.snapshotEverySeconds <= 0) return;
    const t = setInterval(() => {
      this.snapshot(s, config).catch((err) => this.opts.log?.('warn', `${this.opts.naming.kind} ${s.name}: snapshot failed: ${(err as Error).message}`));
    }, config.snapshotEverySeconds * 1000);
    t.unref();
    this.timers.set(s, t);
  }

  /**
   * Registers the state as a version when it moved since the last snapshot of this state key; one server
   * per period (the lease). Returns the version, or null when skipped.
   */
  async snapshot(s: T, config: OnlineModelConfig): Promise<ModelVersion | null> {
    if (this.opts.snapshots === null) return null;
    const { redis, naming } = this.opts;
    const leaseMs = Math.max(1000, config.snapshotEverySeconds * 1000 - 100);
    const won = await redis.set(`${naming.keyPrefix}:snapshot-lease:${config.stateKey}`, this.instance, 'PX', leaseMs, 'NX');
    if (won !== 'OK') return null;
    await s.state.refresh();
    const seq = s.state.seq;
    const last = Number((await redis.get(`${naming.keyPrefix}:snapshot-seq:${config.stateKey}`)) ?? '-1');
    if (seq <= last) return null;
    const snap = snapshotOf(s.state.learner, config, seq);
    const v = await this.opts.snapshots.register({
      model: s.model,
      artifact: { buffer: Buffer.from(JSON.stringify(snap)) },
      fileName: naming.fileName,
      format: 'json',
      tags: { kind: naming.kind, deployment: s.name, stateKey: config.stateKey, seq: String(seq) },
      metrics: { seq, coordinates: snap.index.length },
      description: naming.describe(config, seq),
      actor: this.opts.actor,
    });
    await redis.set(`${naming.keyPrefix}:snapshot-seq:${config.stateKey}`, String(seq));
    this.snapshotsTaken++;
    this.opts.log?.('info', `${naming.kind} ${s.name}: snapshot ${v.model}@${v.version} (seq ${seq}, ${snap.index.length} coordinates)`);
    return v;
  }

  /** `s` no longer served: its timer stops and its state closes (awaited by `close`). */
  release(s: T): void {
    const t = this.timers.get(s);
    if (t) clearInterval(t);
    this.timers.delete(s);
    const p = s.state.close();
    this.closing.add(p);
    void p.finally(() => this.closing.delete(p));
  }

  /** Stops every timer and closes the states of `served` and those still closing. */
  async close(served: Iterable<T>): Promise<void> {
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
    const closing: Promise<void>[] = [...this.closing];
    for (const s of served) closing.push(s.state.close());
    await Promise.all(closing);
  }
}
