/**
 * The served kind `online-model` (config: ml/online/config.ts): an FTRL-Proximal or AdaGrad model over
 * hashed features whose state every server shares in Redis (./state.ts). Loading parses the config (a bad
 * one keeps the previous deployment serving), starts an empty state from a snapshot version when
 * `init` names one, and reads the shared state. Every `snapshotEverySeconds` one server (a Redis lease)
 * registers the state as a new version of the deployment's model (format json, tags stateKey and seq)
 * when it moved since the last snapshot: a later deployment can start from it (`init`), and a config
 * change swaps the served deployment in place like any other (the manager's map update).
 */
import type { Redis } from 'ioredis';
import type { CalibrationReport } from '../../ml/calibration';
import type { OnlineModelConfig } from '../../ml/online';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { OnlineModelDeployment, type OnlineOwner } from './deployment';
import { SharedModels, type SnapshotRegistry } from './shared-models';
import type { SharedOnlineState } from './state';

export type { SnapshotRegistry } from './shared-models';

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
  private readonly shared: SharedModels<OnlineModelDeployment>;

  constructor(private readonly opts: OnlineModelKindOptions) {
    this.shared = new SharedModels({
      ...opts,
      naming: {
        kind: 'online-model',
        keyPrefix: 'online',
        fileName: 'online-model.json',
        describe: (c, seq) => `online-model ${c.algorithm} state ${c.stateKey} at seq ${seq}`,
      },
    });
  }

  get snapshotsTaken(): number {
    return this.shared.snapshotsTaken;
  }

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
    let state: SharedOnlineState;
    try {
      state = await this.shared.open(d.deployment, d.model, config, 'state');
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `online-model deployment ${d.deployment} generation ${d.generation}: cannot load its state (${(err as Error).message})${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return cur ?? null;
    }
    const s = new OnlineModelDeployment(this, d.deployment, d.model, d.generation, config, configJson, state);
    this.shared.schedule(s, config);
    this.opts.log?.('info', `online-model deployment ${d.deployment}: ${config.algorithm} (${config.loss}), 2^${config.bits} coordinates, state ${state.key} (seq ${state.seq})`);
    return s;
  }

  /** Registers the state as a version when it moved since the last snapshot (SharedModels.snapshot). */
  snapshot(s: OnlineModelDeployment): Promise<ModelVersion | null> {
    return this.shared.snapshot(s, s.config);
  }

  released(s: OnlineModelDeployment): void {
    this.shared.release(s);
  }

  async close(): Promise<void> {
    const served: OnlineModelDeployment[] = [];
    for (const s of this.opts.map.values()) if (s instanceof OnlineModelDeployment) served.push(s);
    await this.shared.close(served);
  }
}
