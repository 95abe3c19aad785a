/**
 * The model registry's typed API, over PostgreSQL (and an artifact store for version bytes).
 *
 *   const registry = new Registry({ pool, store });
 *   await registry.createModel({ name: 'ppo', actor: 'cli:alice' });
 *   const v = await registry.registerVersion({ model: 'ppo', artifact: { path: 'policy.onnx' }, format: 'onnx', actor });
 *   await registry.setDeployment({ model: 'ppo', championVersion: v.version, actor });
 *
 * Every state change (model, version, alias, deployment, evaluation, appendAudit) writes exactly one
 * `audit_log` row in its own transaction and issues `pg_notify('autopilot_registry', <RegistryNotification>)`.
 * Runs and run metrics (the lineage a version's `runId` points at) are records, neither audited nor
 * notified. `registry.transaction(async (tx) => …)` groups several changes into one transaction.
 * Decisions and rewards are logged data, not registry state: they live in the decision log
 * (`decision-log/`, `DecisionStore`), which shares this database and its migrations.
 *
 * Each method is also exported as a plain function taking a `Db` (`Db.fromPool(pool)`).
 */
import type { Pool } from 'pg';
import { removeAlias, listAliases, resolveAlias, resolveVersionRef, setAlias, type SetAliasInput } from './aliases';
import type { ArtifactStore } from './artifacts/store';
import { listAudit, notify, writeAudit, type AuditInput } from './audit';
import { Db } from './db';
import { findDeployment, findPreviousChampion, getDeployment, listDeployments, setDeployment, type SetDeploymentInput } from './deployments';
import { downloadVersion, openVersionArtifact } from './download';
import { RegistryError } from './errors';
import { listEvaluations, recordEvaluation, type RecordEvaluationInput } from './evaluations';
import { createModel, ensureModel, getModel, listModels, type CreateModelInput } from './models';
import { registerVersion, type RegisterVersionInput } from './register';
import {
  appendRunMetricRows,
  appendRunMetrics,
  finishRun,
  getRun,
  listRuns,
  readRunMetrics,
  recordRun,
  type FinishRunInput,
  type RecordRunInput,
} from './runs';
import { getVersion, listVersions, searchVersions, setVersionStatus, type SetVersionStatusInput, type VersionQuery } from './versions';

export class Registry {
  readonly db: Db;
  private readonly artifactStore: ArtifactStore | undefined;

  constructor(opts: { pool: Pool; store?: ArtifactStore } | { db: Db; store?: ArtifactStore }) {
    this.db = 'db' in opts ? opts.db : Db.fromPool(opts.pool);
    this.artifactStore = opts.store;
  }

  /** The artifact store versions are uploaded to (required by registerVersion and downloads). */
  get store(): ArtifactStore {
    if (!this.artifactStore) throw new RegistryError('this Registry has no artifact store: construct it with new Registry({ pool, store })');
    return this.artifactStore;
  }

  /** Runs `fn` in one transaction: every change inside commits (and notifies) together or not at all. */
  transaction<T>(fn: (tx: Registry) => Promise<T>): Promise<T> {
    return this.db.transaction((db) => fn(new Registry({ db, store: this.artifactStore })));
  }

  // models
  createModel(input: CreateModelInput) { return createModel(this.db, input); }
  ensureModel(input: CreateModelInput) { return ensureModel(this.db, input); }
  getModel(name: string) { return getModel(this.db, name); }
  listModels() { return listModels(this.db); }

  // versions
  registerVersion(input: RegisterVersionInput) { return registerVersion(this.db, this.store, input); }
  getVersion(model: string, version: number) { return getVersion(this.db, model, version); }
  listVersions(model: string) { return listVersions(this.db, model); }
  searchVersions(query: VersionQuery = {}) { return searchVersions(this.db, query); }
  setVersionStatus(input: SetVersionStatusInput) { return setVersionStatus(this.db, input); }
  openVersionArtifact(model: string, version: number) { return openVersionArtifact(this.db, this.store, model, version); }
  downloadVersion(model: string, version: number, outPath: string) { return downloadVersion(this.db, this.store, model, version, outPath); }

  // aliases
  setAlias(input: SetAliasInput) { return setAlias(this.db, input); }
  removeAlias(input: { model: string; alias: string; actor: string }) { return removeAlias(this.db, input); }
  resolveAlias(model: string, alias: string) { return resolveAlias(this.db, model, alias); }
  resolveVersionRef(model: string, ref: string | number) { return resolveVersionRef(this.db, model, ref); }
  listAliases(model: string) { return listAliases(this.db, model); }

  // deployments
  getDeployment(model: string) { return getDeployment(this.db, model); }
  findDeployment(model: string) { return findDeployment(this.db, model); }
  listDeployments() { return listDeployments(this.db); }
  setDeployment(input: SetDeploymentInput) { return setDeployment(this.db, input); }
  findPreviousChampion(model: string) { return findPreviousChampion(this.db, model); }

  // audit
  /** Appends an audit row for a change made outside these functions (e.g. a canary taken out of rotation) and notifies. */
  appendAudit(entry: AuditInput): Promise<number> {
    return this.db.transaction(async (tx) => {
      const id = await writeAudit(tx, entry);
      await notify(tx, { entity: 'audit', action: entry.action, model: entry.model ?? null });
      return id;
    });
  }
  listAudit(filter: Parameters<typeof listAudit>[1] = {}) { return listAudit(this.db, filter); }

  // runs
  recordRun(input: RecordRunInput) { return recordRun(this.db, input); }
  finishRun(id: string, input: FinishRunInput) { return finishRun(this.db, id, input); }
  getRun(id: string) { return getRun(this.db, id); }
  listRuns(filter: Parameters<typeof listRuns>[1] = {}) { return listRuns(this.db, filter); }
  appendRunMetrics(runId: string, step: number, metrics: Record<string, number>, time?: Date) { return appendRunMetrics(this.db, runId, step, metrics, time); }
  appendRunMetricRows(runId: string, rows: Parameters<typeof appendRunMetricRows>[2]) { return appendRunMetricRows(this.db, runId, rows); }
  readRunMetrics(runId: string, names?: string[]) { return readRunMetrics(this.db, runId, names); }

  // evaluations
  recordEvaluation(input: RecordEvaluationInput) { return recordEvaluation(this.db, input); }
  listEvaluations(model: string, version?: number) { return listEvaluations(this.db, model, version); }
}

export * from './types';
export * from './errors';
export { Db } from './db';
export { migrate, loadMigrations, MigrationError, type MigrateResult } from './migrate';
export { createPool, withPool } from './pool';
export { parseRegistryNotification, recordChange, writeAudit, notify, listAudit, type AuditInput, type AuditRow } from './audit';
export { createKey, listKeys, revokeKey, loadActiveKeys, parseScope, parseExpiry, splitToken, secretMatches, KEY_SCOPES, type ApiKey, type ActiveKey, type ScopeGrant, type KeyScope, type CreateKeyInput } from './keys';
export { createModel, ensureModel, getModel, listModels, type CreateModelInput } from './models';
export { registerVersion, registrationKey, versionArtifactKey, type RegisterVersionInput, type ArtifactSource } from './register';
export { getVersion, findVersionByIdempotencyKey, listVersions, searchVersions, setVersionStatus, parseMetricFilter, type VersionQuery, type MetricFilter, type MetricOp, type SetVersionStatusInput } from './versions';
export { setAlias, removeAlias, resolveAlias, resolveVersionRef, listAliases, type SetAliasInput } from './aliases';
export { getDeployment, findDeployment, findPreviousChampion, listDeployments, setDeployment, checkExploration, explorationSupport, DEFAULT_POLICY_EXPLORATION, DEFAULT_BANDIT_EXPLORATION, type SetDeploymentInput, type SetDeploymentResult } from './deployments';
export { openVersionArtifact, downloadVersion } from './download';
export { recordRun, finishRun, getRun, listRuns, appendRunMetrics, appendRunMetricRows, readRunMetrics, type RecordRunInput, type FinishRunInput } from './runs';
export { recordEvaluation, listEvaluations, type RecordEvaluationInput } from './evaluations';
