/** Model versions: reading, searching and status changes. Registration is in register.ts. */
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { ModelVersion, VersionStatus } from './types';
import { checkFinite, checkModelName, checkOptionalText, checkStatus, checkTags, checkVersionNumber } from './validate';

export const VERSION_COLUMNS = `model, version, id, artifact_uri, artifact_layout, sha256, size, format, signature, metrics, tags, status,
  description, run_id, workflow_id, config_hash, dataset_manifest, code_commit, created_by, created_at`;

export function toVersion(r: Record<string, any>): ModelVersion {
  return {
    model: r.model,
    version: r.version,
    id: r.id,
    artifactUri: r.artifact_uri,
    artifactLayout: r.artifact_layout,
    sha256: r.sha256,
    size: Number(r.size),
    format: r.format,
    signature: r.signature,
    metrics: r.metrics,
    tags: r.tags,
    status: r.status,
    description: r.description,
    lineage: {
      runId: r.run_id,
      workflowId: r.workflow_id,
      configHash: r.config_hash,
      datasetManifest: r.dataset_manifest,
      codeCommit: r.code_commit,
    },
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

export async function getVersion(db: Db, model: string, version: number): Promise<ModelVersion> {
  checkModelName(model);
  checkVersionNumber(version);
  const { rows } = await db.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2`, [model, version]);
  if (rows.length === 0) {
    const m = await db.query('SELECT latest_version FROM models WHERE name = $1', [model]);
    if (m.rows.length === 0) throw new NotFoundError('model', model, 'see `autopilot models list`');
    throw new NotFoundError('version', `${model}/${version}`, `${model} has versions 1..${m.rows[0].latest_version}`);
  }
  return toVersion(rows[0]);
}

export type MetricOp = '>' | '>=' | '<' | '<=' | '=' | '!=';
const METRIC_OPS: MetricOp[] = ['>=', '<=', '!=', '>', '<', '='];

export interface MetricFilter {
  name: string;
  op: MetricOp;
  value: number;
}

export interface VersionQuery {
  model?: string;
  /** Every tag must match exactly. */
  tags?: Record<string, string>;
  /** Every comparison must hold; a version without the metric does not match. */
  metrics?: MetricFilter[];
  status?: VersionStatus | VersionStatus[];
  /** Default: newest version first. */
  orderBy?: { metric: string; direction?: 'asc' | 'desc' } | { field: 'version' | 'createdAt'; direction?: 'asc' | 'desc' };
  limit?: number;
}

/** Parses `reward_mean>=0.7` (CLI syntax) into a MetricFilter. */
export function parseMetricFilter(text: string): MetricFilter {
  const m = /^\s*([^<>=!\s][^<>=!]*?)\s*(>=|<=|!=|>|<|=)\s*(.*?)\s*$/.exec(text);
  if (!m) throw new ValidationError('metric filter', text, 'NAME OP NUMBER with OP one of >, >=, <, <=, =, != (e.g. reward_mean>=0.7)');
  const [, name, op, raw] = m;
  const value = Number(raw);
  if (raw === '' || !Number.isFinite(value)) {
    throw new ValidationError(`metric filter ${JSON.stringify(text)}`, raw, 'a number after the comparison, e.g. reward_mean>=0.7');
  }
  return { name, op: op as MetricOp, value };
}

export async function searchVersions(db: Db, query: VersionQuery = {}): Promise<ModelVersion[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown) => `$${params.push(v)}`;
  if (query.model !== undefined) where.push(`model = ${p(checkModelName(query.model))}`);
  if (query.tags && Object.keys(query.tags).length) where.push(`tags @> ${p(JSON.stringify(checkTags(query.tags)))}::jsonb`);
  for (const [i, f] of (query.metrics ?? []).entries()) {
    if (!METRIC_OPS.includes(f.op)) throw new ValidationError(`metrics[${i}].op`, f.op, `one of ${METRIC_OPS.join(' ')}`);
    if (typeof f.name !== 'string' || f.name === '') throw new ValidationError(`metrics[${i}].name`, f.name, 'a metric name');
    checkFinite(f.value, `metrics[${i}].value`);
    const name = p(f.name);
    where.push(`metrics ? ${name} AND jsonb_typeof(metrics -> ${name}) = 'number' AND (metrics ->> ${name})::double precision ${f.op === '!=' ? '<>' : f.op} ${p(f.value)}`);
  }
  if (query.status !== undefined) {
    const statuses = (Array.isArray(query.status) ? query.status : [query.status]).map((s) => checkStatus(s));
    where.push(`status = ANY(${p(statuses)}::text[])`);
  }
  let order = 'created_at DESC, model, version DESC';
  const ob = query.orderBy;
  if (ob) {
    const dir = ob.direction === 'asc' ? 'ASC' : 'DESC';
    if ('metric' in ob) {
      const name = p(ob.metric);
      order = `CASE WHEN jsonb_typeof(metrics -> ${name}) = 'number' THEN (metrics ->> ${name})::double precision END ${dir} NULLS LAST, model, version DESC`;
    } else if (ob.field === 'version') order = `model, version ${dir}`;
    else if (ob.field === 'createdAt') order = `created_at ${dir}, model, version ${dir}`;
    else throw new ValidationError('orderBy', ob, '{ metric: NAME } or { field: "version" | "createdAt" }');
  }
  const limit = query.limit ?? 1000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new ValidationError('limit', limit, 'an integer in 1..100000');
  const { rows } = await db.query(
    `SELECT ${VERSION_COLUMNS} FROM model_versions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit}`,
    params,
  );
  return rows.map(toVersion);
}

/** All versions of a model, newest first. */
export async function listVersions(db: Db, model: string): Promise<ModelVersion[]> {
  checkModelName(model);
  const m = await db.query('SELECT 1 FROM models WHERE name = $1', [model]);
  if (m.rows.length === 0) throw new NotFoundError('model', model, 'see `autopilot models list`');
  return searchVersions(db, { model, orderBy: { field: 'version', direction: 'desc' }, limit: 100_000 });
}

export interface SetVersionStatusInput {
  model: string;
  version: number;
  /** `champion` and `canary` are set by setDeployment, so only these three are accepted here. */
  status: 'registered' | 'rejected' | 'archived';
  actor: string;
  reason?: string;
}

/** Changes a version's status (audited, notified); a no-op when it already has it. */
export async function setVersionStatus(db: Db, input: SetVersionStatusInput): Promise<{ version: ModelVersion; changed: boolean }> {
  checkActor(input.actor);
  checkStatus(input.status);
  if (input.status === ('champion' as string) || input.status === ('canary' as string)) {
    throw new ValidationError('status', input.status, 'registered, rejected or archived (champion and canary follow the deployment: use setDeployment / `autopilot deploy`)');
  }
  const reason = checkOptionalText(input.reason, 'reason');
  return db.transaction(async (tx) => {
    await getVersion(tx, input.model, input.version);
    const { rows } = await tx.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE model = $1 AND version = $2 FOR UPDATE`, [
      input.model,
      input.version,
    ]);
    const before = toVersion(rows[0]);
    if (before.status === input.status) return { version: before, changed: false };
    const dep = await tx.query('SELECT champion_version, canary_version FROM deployments WHERE model = $1', [input.model]);
    const d = dep.rows[0];
    if (d && (d.champion_version === input.version || d.canary_version === input.version)) {
      const role = d.champion_version === input.version ? 'champion' : 'canary';
      throw new ConflictError(
        'version',
        `${input.model}/${input.version}`,
        `is the deployment's ${role}; deploy another version first (setDeployment / \`autopilot deploy\`) before marking it ${input.status}`,
      );
    }
    const updated = await tx.query(`UPDATE model_versions SET status = $3 WHERE model = $1 AND version = $2 RETURNING ${VERSION_COLUMNS}`, [
      input.model,
      input.version,
      input.status,
    ]);
    const after = toVersion(updated.rows[0]);
    await recordChange(
      tx,
      {
        actor: input.actor,
        action: 'version.status',
        entity: 'version',
        model: input.model,
        entityKey: `${input.model}/${input.version}`,
        before: { status: before.status },
        after: { status: after.status, ...(reason ? { reason } : {}) },
      },
      { entity: 'version', action: 'version.status', model: input.model, version: input.version, status: after.status },
    );
    return { version: after, changed: true };
  });
}

/** The version registered with this idempotency key (see registerVersion), or null. */
export async function findVersionByIdempotencyKey(db: Db, key: string): Promise<ModelVersion | null> {
  const { rows } = await db.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE idempotency_key = $1`, [key]);
  return rows.length === 0 ? null : toVersion(rows[0]);
}
