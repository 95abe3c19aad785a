/**
 * The served kind `online-model` (config: ml/online/config.ts): an FTRL-Proximal or AdaGrad model over
 * hashed features whose state every server shares in Redis (./state.ts). Loading parses the config (a bad
 * one keeps the previous deployment serving), starts an empty state from a snapshot version when
 * `init` names one, and reads the shared state. Every `snapshotEverySeconds` one server (a Redis lease)
 * registers the state as a new version of the deployment's model (format json, tags stateKey and seq)
 * when it moved since the last snapshot: a later deployment can start from it (`init`), and a config
 * change swaps the served deployment in place like any other (the manager's map update).
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CalibrationReport } from '../../ml/calibration';
import { buildOnlineLearner, parseSnapshot, snapshotOf, type OnlineModelConfig } from '../../ml/online';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { RegisterVersionInput } from '../../registry/register';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { OnlineModelDeployment, type OnlineOwner } from './deployment';
import { SharedOnlineState } from './state';

/** Registers and reads snapshot versions (the registry with its artifact store). */
export interface SnapshotRegistry {
  register(input: RegisterVersionInput): Promise<ModelVersion>;
  read(model: string, version: number): Promise<Buffer>;
}

export interface OnlineModelKindOptions {
  map: DeploymentMap;
  redis: Redis;
  /** null: no artifact store or registry writes; snapshots and `init` are refused with a logged reason. */
  snapshots: SnapshotRegistry | null;
  actor: string;
  refreshIntervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export class OnlineModelKind implements ServedKind, OnlineOwner {
  applyFailures = 0;
  snapshotsTaken = 0;
  private readonly timers = new Map<OnlineModelDeployment, NodeJS.Timeout>();
  private readonly instance = randomUUID();
  private readonly closing = new Set<Promise<void>>();

  constructor(private readonly opts: OnlineModelKindOptions) {}

  /** The rolling calibration of every logistic online model served (for autopilot_calibration_*). */
  calibrationReports(): { deployment: string; model: string; report: CalibrationReport }[] {
    const out: { deployment: string; model: string; report: CalibrationReport }[] = [];
    for (const s of this.opts.map.values()) if (s instanceof OnlineModelDeployment && s.calibration !== null) out.push({ deployment: s.name, model: s.model, report: s.calibration.report() });
    return out;
  }

  /** The online-model deployment serving `name`, or undefined. */
  get(name: string): OnlineModelDeployment | undefined {
    const s = this.opts.map.get(name);
    return s instanceof OnlineModelDeployment ? s : undefined;
  }

  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof OnlineModelDeployment ? current : undefined;
    const configJson = JSON.stringify(d.config);
    if (cur !== undefined && cur.configJson === configJson) {
      cur.generation = d.generation;
      return cur;
    }
    let config: OnlineModelConfig;
    try {
      config = parseDeploymentConfig('online-model', d.config, d.deployment);
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `online-model deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return cur ?? null;
    }
    const state = new SharedOnlineState({
      redis: this.opts.redis,
      config,
      learner: buildOnlineLearner(config),
      deployment: d.deployment,
      refreshIntervalMs: this.opts.refreshIntervalMs,
      // A server tailing faster than the default (tests) checks checkpoints as often.
      checkpointIntervalMs: this.opts.refreshIntervalMs === undefined ? undefined : Math.min(1000, this.opts.refreshIntervalMs),
      onError: (m) => this.opts.log?.('warn', m),
    });
    try {
      if (config.init !== null) {
        if (this.opts.snapshots === null) throw new Error('this server has no artifact store to read the snapshot from');
        const v = config.init.version;
        const text = (await this.opts.snapshots.read(d.model, v)).toString('utf8');
        const snap = parseSnapshot(JSON.parse(text), config, `${d.model}@${v}`);
        const wrote = await state.initFrom(snap);
        this.opts.log?.('info', `online-model deployment ${d.deployment}: ${wrote ? `state ${state.key} started from ${d.model}@${v} (seq ${snap.seq})` : `state ${state.key} already exists; init ${d.model}@${v} not applied`}`);
      }
      await state.start();
    } catch (err) {
      void state.close();
      this.applyFailures++;
      this.opts.log?.('error', `online-model deployment ${d.deployment} generation ${d.generation}: cannot load its state (${(err as Error).message})${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return cur ?? null;
    }
    const s = new OnlineModelDeployment(this, d.deployment, d.model, d.generation, config, configJson, state);
    if (config.snapshotEverySeconds > 0) {
      const t = setInterval(() => {
        this.snapshot(s).catch((err) => this.opts.log?.('warn', `online-model ${s.name}: snapshot failed: ${(err as Error).message}`));
      }, config.snapshotEverySeconds * 1000);
      t.unref();
      this.timers.set(s, t);
    }
    this.opts.log?.('info', `online-model deployment ${d.deployment}: ${config.algorithm} (${config.loss}), 2^${config.bits} coordinates, state ${state.key} (seq ${state.seq})`);
    return s;
  }

  /**
   * Registers the state as a version when it moved since the last snapshot of this state key; one server
   * per period (the lease `online:snapshot-lease:<stateKey>`). Returns the version, or null when skipped.
   */
  async snapshot(s: OnlineModelDeployment): Promise<ModelVersion | null> {
    if (this.opts.snapshots === null) return null;
    const { redis } = this.opts;
    const c = s.config;
    const leaseMs = Math.max(1000, c.snapshotEverySeconds * 1000 - 100);
    const won = await redis.set(`online:snapshot-lease:${c.stateKey}`, this.instance, 'PX', leaseMs, 'NX');
    if (won !== 'OK') return null;
    await s.state.refresh();
    const seq = s.state.seq;
    const last = Number((await redis.get(`online:snapshot-seq:${c.stateKey}`)) ?? '-1');
    if (seq <= last) return null;
    const snap = snapshotOf(s.state.learner, c, seq);
    const v = await this.opts.snapshots.register({
      model: s.model,
      artifact: { buffer: Buffer.from(JSON.stringify(snap)) },
      fileName: 'online-model.json',
      format: 'json',
      tags: { kind: 'online-model', deployment: s.name, stateKey: c.stateKey, seq: String(seq) },
      metrics: { seq, coordinates: snap.index.length },
      description: `online-model ${c.algorithm} state ${c.stateKey} at seq ${seq}`,
      actor: this.opts.actor,
    });
    await redis.set(`online:snapshot-seq:${c.stateKey}`, String(seq));
    this.snapshotsTaken++;
    this.opts.log?.('info', `online-model ${s.name}: snapshot ${v.model}@${v.version} (seq ${seq}, ${snap.index.length} coordinates)`);
    return v;
  }

  released(s: OnlineModelDeployment): void {
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
    for (const s of this.opts.map.values()) if (s instanceof OnlineModelDeployment) closing.push(s.state.close());
    await Promise.all(closing);
  }
}
