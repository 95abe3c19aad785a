/**
 * Reconciles the registry into the deployment map (../serving/deployment-map.ts). For each deployment
 * in the registry it looks the row's kind up in the kind table (../serving/kinds.ts) and lets that
 * kind load it; what the kind returns is swapped into the map (the state it replaces is closed).
 * Nothing here knows what a kind serves.
 *
 * Change detection: `notify(name)` (called for each registry NOTIFY) re-reads one deployment; a
 * periodic `reconcileAll()` re-reads all of them as a safety net. Syncs of one deployment are
 * serialised and coalesced (a burst of notifications costs one extra read, not one per notification).
 * When the registry is unreachable at start, each kind restores what it saved at its last change.
 */
import type { AuditInput } from '../../registry/audit';
import { DEPLOYMENT_KINDS, type Deployment, type ModelVersion } from '../../registry/types';
import type { InferenceMetrics } from '../metrics';
import type { ServingState } from './serving-state';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedKind } from '../serving/served-deployment';
import type { ServedKinds } from '../serving/kinds';

export interface DeploymentRegistry {
  listDeployments(): Promise<Deployment[]>;
  findDeployment(model: string): Promise<Deployment | null>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  appendAudit(entry: AuditInput): Promise<number>;
}

export interface ManagerOptions {
  registry: Pick<DeploymentRegistry, 'listDeployments' | 'findDeployment'>;
  map: DeploymentMap;
  kinds: ServedKinds;
  /** `autopilot_deployments_served{kind}` is kept here. */
  metrics?: Pick<InferenceMetrics, 'deploymentsServed'>;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

interface SyncSlot {
  running: Promise<void> | null;
  again: boolean;
}

export class DeploymentManager {
  private readonly slots = new Map<string, SyncSlot>();
  /** Rows of a kind this server does not serve, by name → the generation already reported. */
  private readonly refused = new Map<string, number>();
  private closed = false;
  /** Set once the first reconcile (from the registry, or from the kinds' saved records) has finished. */
  ready = false;

  constructor(private readonly opts: ManagerOptions) {}

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.opts.log?.(level, msg);
  }

  /** The deployment map this manager keeps. */
  get deployments(): DeploymentMap {
    return this.opts.map;
  }

  /** The policy (ONNX) state of `name`: what the KServe v2 routes and the tests read; undefined for other kinds. */
  get(name: string): ServingState | undefined {
    return this.opts.kinds.policy.get(name);
  }

  /** Every served deployment's name, of every kind. */
  names(): string[] {
    return this.opts.map.names();
  }

  /** The last load failure of a policy deployment's champion. */
  lastFailure(name: string): { generation: number; error: string } | undefined {
    return this.opts.kinds.policy.lastFailure(name);
  }

  private kindsServed(): ServedKind[] {
    const out: ServedKind[] = [];
    for (const k of DEPLOYMENT_KINDS) {
      const kind = this.opts.kinds[k];
      if (kind !== null) out.push(kind);
    }
    return out;
  }

  /** Loads every deployment: from the registry, or (when it is unreachable) from what the kinds saved. */
  async start(): Promise<void> {
    try {
      await this.reconcileAll();
    } catch (err) {
      this.log('warn', `registry unreachable at start (${(err as Error).message}); serving the last known deployments`);
      for (const kind of this.kindsServed()) {
        if (kind.restore === undefined) continue;
        for (const s of await kind.restore()) this.opts.map.update(s);
      }
      this.countServed();
    }
    this.ready = true;
  }

  /** Re-reads every deployment from the registry (the periodic safety net). Throws if the registry is unreachable. */
  async reconcileAll(): Promise<void> {
    const list = await this.opts.registry.listDeployments();
    const seen = new Set<string>();
    for (const d of list) {
      seen.add(d.deployment);
      await this.sync(d.deployment, d);
    }
    for (const name of this.opts.map.names()) if (!seen.has(name)) this.unload(name);
  }

  /** A registry notification about `name`: re-read it (serialised and coalesced per deployment). */
  notify(name: string): Promise<void> {
    return this.sync(name, undefined);
  }

  private sync(name: string, known: Deployment | undefined): Promise<void> {
    let slot = this.slots.get(name);
    if (slot === undefined) {
      slot = { running: null, again: false };
      this.slots.set(name, slot);
    }
    if (slot.running !== null) {
      slot.again = true;
      return slot.running;
    }
    const s = slot;
    const run = async (): Promise<void> => {
      let d = known;
      do {
        s.again = false;
        try {
          if (d === undefined) {
            const fresh = await this.opts.registry.findDeployment(name);
            if (fresh === null) this.unload(name);
            else await this.apply(fresh);
          } else await this.apply(d);
        } catch (err) {
          this.log('warn', `cannot sync deployment ${name}: ${(err as Error).message}`);
        }
        d = undefined;
      } while (s.again && !this.closed);
    };
    s.running = run().finally(() => {
      s.running = null;
    });
    return s.running;
  }

  /** The registry row → its kind's load → the map. */
  private async apply(d: Deployment): Promise<void> {
    if (this.closed) return;
    const name = d.deployment;
    const kind: ServedKind | null | undefined = (this.opts.kinds as Partial<Record<string, ServedKind | null>>)[d.kind];
    if (kind === undefined || kind === null) {
      if (this.refused.get(name) !== d.generation) {
        this.refused.set(name, d.generation);
        const why = kind === null ? 'which this server is not set up to serve (bandit, online-model and semantic-cache deployments need Redis)' : `which this server does not know (known: ${DEPLOYMENT_KINDS.join(', ')})`;
        this.log('error', `deployment ${name} generation ${d.generation} is of kind ${JSON.stringify(d.kind)}, ${why}; not served`);
      }
      this.unload(name);
      return;
    }
    this.refused.delete(name);
    const cur = this.opts.map.get(name);
    const next = await kind.load(d, cur !== undefined && cur.kind === d.kind ? cur : undefined);
    // Kept: whatever serves the name now stays (the kind may have swapped it meanwhile, e.g. a canary ejected).
    if (next === cur) return;
    if (this.closed) {
      next?.close();
      return;
    }
    if (next === null) this.unload(name);
    else {
      this.opts.map.update(next);
      this.countServed();
    }
  }

  private unload(name: string): void {
    if (!this.opts.map.unload(name)) return;
    this.log('info', `deployment ${name} removed from the registry; no longer served`);
    this.countServed();
  }

  /** The served deployments by their kind label. */
  private countServed(): void {
    const gauge = this.opts.metrics?.deploymentsServed;
    if (gauge === undefined) return;
    const counts = new Map<string, number>(DEPLOYMENT_KINDS.map((k) => [k, 0]));
    for (const s of this.opts.map.values()) counts.set(s.metricsLabels.kind, (counts.get(s.metricsLabels.kind) ?? 0) + 1);
    for (const [kind, n] of counts) gauge.labels(kind).set(n);
  }

  /** Waits for running syncs; closes every kind (flushes, saves); then unloads every deployment (in-flight requests finish first). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.values()].map((s) => s.running));
    await Promise.all(this.kindsServed().map((k) => k.close()));
    this.opts.map.clear();
  }
}
