/**
 * The served kind `policy`: an ONNX policy per deployment, champion and canary (and a shadow version,
 * `config.shadowVersion`, scored off the response path). For each deployment it loads the versions
 * (artifact fetched and sha256-verified through the ArtifactCache, session created and warmed) into a
 * new PolicyDeployment, which the manager swaps into the deployment map. Versions no longer served are
 * retired and their sessions released once in-flight requests finish.
 *
 * Degradation:
 * - canary fails to load → served without it (all traffic to the champion), a metric and an audit row;
 * - new champion fails to load (e.g. corrupted artifact) → the previous state keeps serving; retried at
 *   the next reconcile after `retryFailedMs`;
 * - nothing loadable and no previous state → a state with no models: requests get the fallback action;
 * - canary errors at run time → `ejectCanary` (same as a load failure);
 * - shadow version fails to load or errors at run time → dropped from mirroring (`ejectShadow`): a
 *   metric and a `shadow.ejected` audit row; serving unchanged.
 * Every change persists the deployment records to `<stateDir>/deployments.json`, so a restart without the
 * registry serves the last known state from the artifact cache (`restore`).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { AuditInput } from '../../registry/audit';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { InferenceMetrics } from '../metrics';
import type { ArtifactCache } from '../models/artifact-cache';
import { LoadedModel, type VersionInfo } from '../models/loaded-model';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import { PolicyDeployment, type DeploymentRecord, type PolicyOwner, type ServingState } from '../models/serving-state';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { VersionPool } from '../serving/version-pool';
import { createPolicyDecider, type PolicyDecider, type PolicyDecideDeps } from './decide';

export interface PolicyRegistry {
  getVersion(model: string, version: number): Promise<ModelVersion>;
  appendAudit(entry: AuditInput): Promise<number>;
}

export interface PolicyKindOptions {
  map: DeploymentMap;
  registry: PolicyRegistry;
  artifacts: ArtifactCache;
  metrics: InferenceMetrics;
  /** Where deployments.json is kept. */
  stateDir: string;
  /** Names this server in audit rows, e.g. `inference:host:8080`. */
  actor: string;
  retryFailedMs?: number;
  /** What decide needs beside the state (decision log, sampler, feature store, the shadow mirror). */
  decide: Omit<PolicyDecideDeps, 'ejectCanary'>;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

function versionInfo(v: ModelVersion): VersionInfo {
  return { model: v.model, version: v.version, artifactUri: v.artifactUri, sha256: v.sha256, format: v.format, signature: v.signature };
}

export class PolicyKind implements ServedKind, PolicyOwner {
  /** Loaded versions, retired when no state serves with them (states `install` made count until swapped in). */
  private readonly versions: VersionPool<LoadedModel, PolicyDeployment>;
  private readonly loading = new Map<string, Promise<LoadedModel>>();
  private readonly records = new Map<string, DeploymentRecord>();
  private readonly failures = new Map<string, { generation: number; at: number; error: string }>();
  private persistChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly decider: PolicyDecider;

  constructor(private readonly opts: PolicyKindOptions) {
    this.versions = new VersionPool({
      map: opts.map,
      owns: (s): s is PolicyDeployment => s instanceof PolicyDeployment,
      uses: (s) => [s.champion, s.canary, s.shadow],
      onRetired: (m) => opts.metrics.forgetVersion(m.info.model, String(m.info.version)),
      onCount: (n) => opts.metrics.modelsLoaded.set(n),
    });
    this.decider = createPolicyDecider({ ...opts.decide, ejectCanary: (state, model, reason) => this.ejectCanary(state.name, model, reason) });
  }

  private log(level: 'info' | 'warn' | 'error', msg: string): void {
    this.opts.log?.(level, msg);
  }

  decide(state: PolicyDeployment, body: Record<string, unknown>, ctx: Parameters<PolicyDecider['decide']>[2]): unknown {
    return this.decider.decide(state, body, ctx);
  }

  decideScanned(state: PolicyDeployment, body: Parameters<PolicyDecider['decideScanned']>[1], values: Float64Array, ctx: Parameters<PolicyDecider['decideScanned']>[3]): unknown {
    return this.decider.decideScanned(state, body, values, ctx);
  }

  /** The policy state serving `name`, or undefined (not served here, or of another kind). */
  get(name: string): PolicyDeployment | undefined {
    const s = this.opts.map.get(name);
    return s instanceof PolicyDeployment ? s : undefined;
  }

  lastFailure(name: string): { generation: number; error: string } | undefined {
    return this.failures.get(name);
  }

  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof PolicyDeployment ? current : undefined;
    if (cur !== undefined && cur.generation === d.generation) return cur;
    const failed = this.failures.get(d.deployment);
    if (failed !== undefined && failed.generation === d.generation && Date.now() - failed.at < (this.opts.retryFailedMs ?? 15_000)) return cur ?? null;
    const lookup = async (v: number | null) => (v === null ? null : versionInfo(await this.opts.registry.getVersion(d.model, v)));
    const [champion, canary] = await Promise.all([lookup(d.championVersion), lookup(d.canaryVersion)]);
    let sv: number | null = null;
    try {
      sv = parseDeploymentConfig('policy', d.config ?? {}, d.deployment).shadowVersion;
    } catch (err) {
      this.log('error', `deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}; served without a shadow`);
    }
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
    return this.install({ deployment: d, champion, canary, shadow }, 'registry', cur);
  }

  /** The deployments saved at the last change (deployments.json), loaded from the artifact cache. */
  async restore(): Promise<ServedDeployment[]> {
    let saved: DeploymentRecord[];
    try {
      saved = JSON.parse(await fs.readFile(join(this.opts.stateDir, 'deployments.json'), 'utf8')) as DeploymentRecord[];
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log('warn', `cannot read saved deployments: ${(err as Error).message}`);
      return [];
    }
    const out: ServedDeployment[] = [];
    for (const rec of saved) {
      rec.deployment.updatedAt = new Date(rec.deployment.updatedAt);
      try {
        const s = await this.install(rec, 'cache', undefined);
        if (s !== null) out.push(s);
      } catch (err) {
        this.log('error', `cannot serve saved deployment ${rec.deployment.deployment}: ${(err as Error).message}`);
      }
    }
    return out;
  }

  /** Loads the record's versions into a new state (or keeps `cur`); the caller swaps it into the map. */
  private async install(rec: DeploymentRecord, source: 'registry' | 'cache', cur: PolicyDeployment | undefined): Promise<PolicyDeployment | null> {
    const d = rec.deployment;
    const name = d.deployment;
    // The versions load side by side (artifact reads and onnxruntime session creation overlap); their
    // outcomes are handled one by one below, as if loaded in turn.
    const settle = (info: VersionInfo | null | undefined): Promise<{ model: LoadedModel | null; error: unknown }> =>
      info ? this.loadVersion(info, source).then((model) => ({ model, error: null }), (error: unknown) => ({ model: null, error })) : Promise.resolve({ model: null, error: null });
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
          this.versions.retireUnused(); // the canary or shadow that loaded beside it serves nobody
          return cur;
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
    if (this.closed) {
      this.versions.retireUnused();
      return cur ?? null;
    }
    // A champion that failed is already recorded above, with its error; anything else clears the record.
    if (champion !== null || rec.champion === null) this.failures.delete(name);
    this.records.set(name, rec);
    this.persist();
    this.opts.metrics.modelSwaps.labels(name).inc();
    const next = new PolicyDeployment(this, d, champion, canary, ejected, shadow, shadowEjected);
    this.versions.built(next);
    return next;
  }

  /** A state left the map (replaced, removed, or turned into another kind). */
  released(state: PolicyDeployment): void {
    // At close the map empties, but the records stay: a restart without the registry serves them.
    if (!this.closed && this.get(state.name) === undefined && this.records.delete(state.name)) this.persist();
    this.versions.released(state);
  }

  private loadVersion(info: VersionInfo, source: 'registry' | 'cache'): Promise<LoadedModel> {
    const key = `${info.model}@${info.version}#${info.sha256}`;
    const have = this.versions.get(key);
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
          this.versions.add(key, m);
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

  /** Swaps `next` into the map in place of the state it was made from. */
  private swap(next: PolicyDeployment): void {
    this.opts.map.update(next);
    this.opts.metrics.modelSwaps.labels(next.name).inc();
  }

  /**
   * Takes a canary that failed at run time out of rotation: all traffic to the champion until the
   * registry changes the deployment. Returns the new state (or the current one if already ejected).
   */
  ejectCanary(name: string, model: LoadedModel, reason: string): ServingState | undefined {
    const cur = this.get(name);
    if (cur === undefined || cur.canary !== model) return cur;
    const next = new PolicyDeployment(this, cur.deployment, cur.champion, null, reason, cur.shadow, cur.shadowEjected);
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
    const cur = this.get(name);
    if (cur === undefined || cur.shadow !== model) return cur;
    const next = new PolicyDeployment(this, cur.deployment, cur.champion, cur.canary, cur.canaryEjected, null, reason);
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

  /** Waits for loads and saves in flight; then retires every model no state refers to (in-flight requests finish first). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.loading.values()].map((p) => p.catch(() => undefined)));
    await this.persistChain;
    this.versions.retireUnused();
  }
}
