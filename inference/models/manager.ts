/**
 * The model cache and hot swap. For each deployment in the registry it loads the champion and canary
 * versions (artifact fetched and sha256-verified through the ArtifactCache, session created and warmed)
 * and swaps the deployment's ServingState atomically. Versions no longer served are retired and their
 * sessions released once in-flight requests finish.
 *
 * Change detection: `notify(model)` (called for each registry NOTIFY) re-reads one deployment; a
 * periodic `reconcileAll()` re-reads all of them as a safety net. Syncs of one deployment are
 * serialised and coalesced (a burst of notifications costs one extra read, not one per notification).
 *
 * Degradation:
 * - canary fails to load → served without it (all traffic to the champion), a metric and an audit row;
 * - new champion fails to load (e.g. corrupted artifact) → the previous state keeps serving; retried at
 *   the next reconcile after `retryFailedMs`;
 * - nothing loadable and no previous state → a state with no models: requests get the fallback action;
 * - canary errors at run time → `ejectCanary` (same as a load failure);
 * - shadow version (`config.shadowVersion`, loaded like a canary) fails to load or errors at run time →
 *   dropped from mirroring (`ejectShadow`): a metric and a `shadow.ejected` audit row; serving unchanged.
 * Every successful swap persists the deployment records to `<cacheDir>/deployments.json`, so a restart
 * without the registry serves the last known state from the artifact cache.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AuditInput } from '../../registry/audit';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { InferenceMetrics } from '../metrics';
import type { ArtifactCache } from './artifact-cache';
import { LoadedModel, type VersionInfo } from './loaded-model';
import { buildState, shadowVersionOf, type DeploymentRecord, type ServingState } from './serving-state';

export interface DeploymentRegistry {
  listDeployments(): Promise<Deployment[]>;
  findDeployment(model: string): Promise<Deployment | null>;
  getVersion(model: string, version: number): Promise<ModelVersion>;
  appendAudit(entry: AuditInput): Promise<number>;
}

export interface ManagerOptions {
  registry: DeploymentRegistry;
  artifacts: ArtifactCache;
  metrics: InferenceMetrics;
  /** Where deployments.json is kept. */
  stateDir: string;
  /** Names this server in audit rows, e.g. `inference:host:8080`. */
  actor: string;
  retryFailedMs?: number;
  /** Deployments of kind `bandit` are handed to this instead of being loaded as ONNX versions. */
  bandits?: { apply(d: Deployment): Promise<void>; remove(name: string): void; retain(names: ReadonlySet<string>): void };
  /** Deployments of kind `text-policy` (inference/text-policy) are handed to this. */
  textPolicies?: { apply(d: Deployment): Promise<void>; remove(name: string): void; retain(names: ReadonlySet<string>): void };
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

function versionInfo(v: ModelVersion): VersionInfo {
  return { model: v.model, version: v.version, artifactUri: v.artifactUri, sha256: v.sha256, format: v.format, signature: v.signature };
}

interface SyncSlot {
  running: Promise<void> | null;
  again: boolean;
}

export class DeploymentManager {
  private readonly states = new Map<string, ServingState>();
  private readonly loaded = new Map<string, LoadedModel>();
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private readonly records = new Map<string, DeploymentRecord>();
  private readonly failures = new Map<string, { generation: number; at: number; error: string }>();
  private readonly slots = new Map<string, SyncSlot>();
  private persistChain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Set once the first reconcile (from the registry, or from the local records) has finished. */
  ready = false;

  constructor(private readonly opts: ManagerOptions) {}

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.opts.log?.(level, msg);
  }

  /** The current state of a deployment (undefined: not served here). Synchronous: the hot path. */
  get(name: string): ServingState | undefined {
    return this.states.get(name);
  }

  names(): string[] {
    return [...this.states.keys()];
  }

  /** Every state, for metadata endpoints. */
  all(): ServingState[] {
    return [...this.states.values()];
  }

  lastFailure(name: string): { generation: number; error: string } | undefined {
    return this.failures.get(name);
  }

  /** Loads every deployment: from the registry, or (when it is unreachable) from the local records. */
  async start(): Promise<void> {
    try {
      await this.reconcileAll();
    } catch (err) {
      this.log('warn', `registry unreachable at start (${(err as Error).message}); serving the last known deployments from ${this.opts.stateDir}`);
      await this.startFromRecords();
    }
    this.ready = true;
  }

  private async startFromRecords(): Promise<void> {
    let saved: DeploymentRecord[];
    try {
      saved = JSON.parse(await fs.readFile(join(this.opts.stateDir, 'deployments.json'), 'utf8')) as DeploymentRecord[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log('warn', `cannot read saved deployments: ${(err as Error).message}`);
      return;
    }
    for (const rec of saved) {
      rec.deployment.updatedAt = new Date(rec.deployment.updatedAt);
      await this.install(rec, 'cache').catch((err) => this.log('error', `cannot serve saved deployment ${rec.deployment.deployment}: ${(err as Error).message}`));
    }
  }

  /** Re-reads every deployment from the registry (the periodic safety net). Throws if the registry is unreachable. */
  async reconcileAll(): Promise<void> {
    const list = await this.opts.registry.listDeployments();
    const seen = new Set<string>();
    for (const d of list) {
      seen.add(d.deployment);
      await this.sync(d.deployment, d);
    }
    for (const name of [...this.states.keys()]) if (!seen.has(name)) this.remove(name);
    this.opts.bandits?.retain(new Set(list.filter((d) => d.kind === 'bandit').map((d) => d.deployment)));
    this.opts.textPolicies?.retain(new Set(list.filter((d) => d.kind === 'text-policy').map((d) => d.deployment)));
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
            if (fresh === null) {
              this.remove(name);
              this.opts.bandits?.remove(name);
              this.opts.textPolicies?.remove(name);
            } else await this.apply(fresh);
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

  private async apply(d: Deployment): Promise<void> {
    if (this.closed) return;
    if (this.opts.bandits !== undefined) {
      if (d.kind === 'bandit') {
        this.remove(d.deployment);
        return this.opts.bandits.apply(d);
      }
      this.opts.bandits.remove(d.deployment);
    }
    if (this.opts.textPolicies !== undefined) {
      if (d.kind === 'text-policy') {
        this.remove(d.deployment);
        return this.opts.textPolicies.apply(d);
      }
      this.opts.textPolicies.remove(d.deployment);
    }
    const cur = this.states.get(d.deployment);
    if (cur !== undefined && cur.generation === d.generation) return;
    const failed = this.failures.get(d.deployment);
    if (failed !== undefined && failed.generation === d.generation && Date.now() - failed.at < (this.opts.retryFailedMs ?? 15_000)) return;
    const lookup = async (v: number | null) => (v === null ? null : versionInfo(await this.opts.registry.getVersion(d.model, v)));
    const [champion, canary] = await Promise.all([lookup(d.championVersion), lookup(d.canaryVersion)]);
    const sv = shadowVersionOf(d);
    let shadow: VersionInfo | null = null;
    if (sv !== null) {
      try {
        shadow = versionInfo(await this.opts.registry.getVersion(d.model, sv));
      } catch (err) {
        // A shadow version the registry does not know is dropped like one that fails to load.
        shadow = { model: d.model, version: sv, artifactUri: '', sha256: '', format: `none (the registry: ${(err as Error).message})`, signature: null };
        this.log('warn', `deployment ${d.deployment}: shadow v${sv}: ${(err as Error).message}`);
      }
    }
    await this.install({ deployment: d, champion, canary, shadow }, 'registry');
  }

  /** Loads the record's versions and swaps the deployment's state (or keeps the previous one). */
  private async install(rec: DeploymentRecord, source: 'registry' | 'cache'): Promise<void> {
    const d = rec.deployment;
    const name = d.deployment;
    const cur = this.states.get(name);
    // The versions load side by side (artifact reads and onnxruntime session creation overlap); their
    // outcomes are handled one by one below, as if loaded in turn.
    const settle = (info: VersionInfo | null | undefined): Promise<{ model: LoadedModel | null; error: unknown }> =>
      info ? this.load(info, source).then((model) => ({ model, error: null }), (error: unknown) => ({ model: null, error })) : Promise.resolve({ model: null, error: null });
    const [championLoad, canaryLoad, shadowLoad] = await Promise.all([settle(rec.champion), settle(rec.canary), settle(rec.shadow)]);
    let champion: LoadedModel | null = null;
    if (rec.champion !== null) {
      if (championLoad.error === null) champion = championLoad.model;
      else {
        const msg = (championLoad.error as Error).message;
        this.failures.set(name, { generation: d.generation, at: Date.now(), error: msg });
        if (cur !== undefined) {
          this.log('error', `deployment ${name} generation ${d.generation}: champion ${rec.champion.model}@${rec.champion.version} failed to load (${msg}); generation ${cur.generation} keeps serving`);
          this.auditLater({ action: 'inference.load_failed', entity: 'version', model: d.model, entityKey: `${d.model}/${rec.champion.version}`, after: { deployment: name, generation: d.generation, error: msg, serving: cur.generation } });
          this.retireUnused(); // the canary or shadow that loaded beside it serves nobody
          return;
        }
        this.log('error', `deployment ${name}: champion ${rec.champion.model}@${rec.champion.version} failed to load (${msg}); serving the fallback action`);
        this.auditLater({ action: 'inference.load_failed', entity: 'version', model: d.model, entityKey: `${d.model}/${rec.champion.version}`, after: { deployment: name, generation: d.generation, error: msg, serving: 'fallback' } });
      }
    }
    let canary: LoadedModel | null = null;
    let ejected: string | null = null;
    if (rec.canary !== null) {
      if (canaryLoad.error === null) canary = canaryLoad.model;
      else {
        ejected = `canary ${rec.canary.model}@${rec.canary.version} failed to load: ${(canaryLoad.error as Error).message}`;
        this.opts.metrics.canaryEjections.labels(name, 'load_failed').inc();
        this.log('error', `deployment ${name}: ${ejected}; all traffic to the champion`);
        this.auditLater({ action: 'canary.ejected', entity: 'deployment', model: d.model, entityKey: name, before: { canaryVersion: rec.canary.version, canaryWeight: d.canaryWeight }, after: { canaryWeight: 0, reason: ejected, generation: d.generation } });
      }
    }
    let shadow: LoadedModel | null = null;
    let shadowEjected: string | null = null;
    if (rec.shadow) {
      if (shadowLoad.error === null) shadow = shadowLoad.model;
      else {
        shadowEjected = `shadow ${rec.shadow.model}@${rec.shadow.version} failed to load: ${(shadowLoad.error as Error).message}`;
        this.opts.metrics.shadowEjections.labels(name, 'load_failed').inc();
        this.log('error', `deployment ${name}: ${shadowEjected}; requests are not mirrored`);
        this.auditLater({ action: 'shadow.ejected', entity: 'deployment', model: d.model, entityKey: name, before: { shadowVersion: rec.shadow.version }, after: { reason: shadowEjected, generation: d.generation } });
      }
    }
    if (this.closed) return;
    // A champion that failed is already recorded above, with its error; anything else clears the record.
    if (champion !== null || rec.champion === null) this.failures.delete(name);
    this.swap(buildState(d, champion, canary, ejected, shadow, shadowEjected));
    this.records.set(name, rec);
    this.persist();
  }

  private swap(next: ServingState): void {
    this.states.set(next.name, next);
    this.opts.metrics.modelSwaps.labels(next.name).inc();
    this.retireUnused();
  }

  private remove(name: string): void {
    if (!this.states.delete(name)) return;
    this.records.delete(name);
    this.log('info', `deployment ${name} removed from the registry; no longer served`);
    this.retireUnused();
    this.persist();
  }

  /** Retires every loaded version no current state refers to. */
  private retireUnused(): void {
    const used = new Set<LoadedModel>();
    for (const s of this.states.values()) {
      if (s.champion) used.add(s.champion);
      if (s.canary) used.add(s.canary);
      if (s.shadow) used.add(s.shadow);
    }
    for (const [key, m] of this.loaded) {
      if (!used.has(m)) {
        this.loaded.delete(key);
        m.retire();
        this.opts.metrics.forgetVersion(m.info.model, String(m.info.version));
      }
    }
    this.opts.metrics.modelsLoaded.set(this.loaded.size);
  }

  private load(info: VersionInfo, source: 'registry' | 'cache'): Promise<LoadedModel> {
    const key = `${info.model}@${info.version}#${info.sha256}`;
    const have = this.loaded.get(key);
    if (have !== undefined) return Promise.resolve(have);
    let p = this.loading.get(key);
    if (p === undefined) {
      p = (async () => {
        if (info.format !== 'onnx') throw new Error(`${info.model}@${info.version} has format ${info.format}; this server serves onnx`);
        try {
          const fetched = await this.opts.artifacts.fetch(info.artifactUri, info.sha256);
          const m = await LoadedModel.create(info, fetched.bytes);
          this.opts.metrics.modelLoads.labels(info.model, 'ok', fetched.source === 'cache' ? 'cache' : source).inc();
          if (this.closed) {
            m.retire();
            throw new Error('server closing');
          }
          this.loaded.set(key, m);
          this.opts.metrics.modelsLoaded.set(this.loaded.size);
          return m;
        } catch (err) {
          const outcome = (err as Error).name === 'ArtifactIntegrityError' ? 'corrupt' : 'failed';
          this.opts.metrics.modelLoads.labels(info.model, outcome, source).inc();
          throw err;
        }
      })().finally(() => this.loading.delete(key));
      this.loading.set(key, p);
    }
    return p;
  }

  /**
   * Takes a canary that failed at run time out of rotation: all traffic to the champion until the
   * registry changes the deployment. Returns the new state (or the current one if already ejected).
   */
  ejectCanary(name: string, model: LoadedModel, reason: string): ServingState | undefined {
    const cur = this.states.get(name);
    if (cur === undefined || cur.canary !== model) return cur;
    const next = buildState(cur.deployment, cur.champion, null, reason, cur.shadow, cur.shadowEjected);
    this.swap(next);
    this.opts.metrics.canaryEjections.labels(name, 'runtime_error').inc();
    this.log('error', `deployment ${name}: canary ${model.key} ejected: ${reason}; all traffic to the champion`);
    this.auditLater({
      action: 'canary.ejected',
      entity: 'deployment',
      model: cur.model,
      entityKey: name,
      before: { canaryVersion: model.info.version, canaryWeight: cur.deployment.canaryWeight },
      after: { canaryWeight: 0, reason, generation: cur.generation },
    });
    return next;
  }

  /**
   * Drops a shadow that failed at run time from mirroring until the registry changes the deployment.
   * Serving is untouched. Returns the new state (or the current one if already dropped).
   */
  ejectShadow(name: string, model: LoadedModel, reason: string): ServingState | undefined {
    const cur = this.states.get(name);
    if (cur === undefined || cur.shadow !== model) return cur;
    const next = buildState(cur.deployment, cur.champion, cur.canary, cur.canaryEjected, null, reason);
    this.swap(next);
    this.opts.metrics.shadowEjections.labels(name, 'runtime_error').inc();
    this.log('error', `deployment ${name}: shadow ${model.key} dropped from mirroring: ${reason}`);
    this.auditLater({
      action: 'shadow.ejected',
      entity: 'deployment',
      model: cur.model,
      entityKey: name,
      before: { shadowVersion: model.info.version },
      after: { reason, generation: cur.generation },
    });
    return next;
  }

  private auditLater(entry: Omit<AuditInput, 'actor'>): void {
    this.opts.registry.appendAudit({ ...entry, actor: this.opts.actor }).catch((err) => {
      this.log('warn', `cannot write audit row ${entry.action} for ${entry.entityKey}: ${(err as Error).message}`);
    });
  }

  private persist(): void {
    const snapshot = JSON.stringify([...this.records.values()]);
    const file = join(this.opts.stateDir, 'deployments.json');
    this.persistChain = this.persistChain
      .then(async () => {
        await fs.mkdir(this.opts.stateDir, { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.writeFile(tmp, snapshot);
        await fs.rename(tmp, file);
      })
      .catch((err) => this.log('warn', `cannot save deployments to ${file}: ${(err as Error).message}`));
  }

  /** Waits for running syncs and saves; then retires every model (in-flight requests finish first). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.slots.values()].map((s) => s.running));
    await Promise.all([...this.loading.values()].map((p) => p.catch(() => undefined)));
    await this.persistChain;
    this.states.clear();
    this.retireUnused();
  }
}
