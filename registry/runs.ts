/**
 * Training/evaluation runs and their per-step metrics. Writes are idempotent so Temporal activity
 * retries are harmless: recording a run twice returns the first, a metric of a step written twice
 * keeps the last value.
 */
import { randomUUID } from 'node:crypto';
import type { Db } from './db';
import { NotFoundError, ValidationError } from './errors';
import { RUN_KINDS, type Json, type JsonObject, type Run, type RunKind, type RunMetric, type RunStatus } from './types';
import { checkFinite, checkJson, checkJsonObject, checkOptionalText } from './validate';

const COLUMNS = 'id, kind, model, workflow_id, status, config, summary, error, started_at, finished_at';

function toRun(r: Record<string, any>): Run {
  return {
    id: r.id,
    kind: r.kind,
    model: r.model,
    workflowId: r.workflow_id,
    status: r.status,
    config: r.config,
    summary: r.summary,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export interface RecordRunInput {
  /** Default: a random UUID. Give a stable id (e.g. the workflow id) to make retries idempotent. */
  id?: string;
  kind: RunKind;
  model?: string | null;
  workflowId?: string | null;
  config?: JsonObject;
}

/** Records a run as `running`; when the id exists already, returns the stored run unchanged. */
export async function recordRun(db: Db, input: RecordRunInput): Promise<Run> {
  const id = input.id ?? randomUUID();
  if (typeof id !== 'string' || id === '' || id.length > 500) throw new ValidationError('id', id, 'a non-empty run id of at most 500 characters');
  if (!(RUN_KINDS as readonly unknown[]).includes(input.kind)) {
    throw new ValidationError('kind', input.kind, `one of ${RUN_KINDS.join(', ')}`);
  }
  const config = input.config === undefined ? {} : checkJsonObject(input.config, 'config');
  const model = checkOptionalText(input.model, 'model', 128);
  const workflowId = checkOptionalText(input.workflowId, 'workflowId', 500);
  await db.query(
    `INSERT INTO runs (id, kind, model, workflow_id, config) VALUES ($1, $2, $3, $4, $5::jsonb) ON CONFLICT (id) DO NOTHING`,
    [id, input.kind, model, workflowId, JSON.stringify(config)],
  );
  return getRun(db, id);
}

export async function getRun(db: Db, id: string): Promise<Run> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM runs WHERE id = $1`, [id]);
  if (rows.length === 0) throw new NotFoundError('run', id);
  return toRun(rows[0]);
}

export async function listRuns(db: Db, filter: { model?: string; kind?: string; limit?: number } = {}): Promise<Run[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.model !== undefined) where.push(`model = $${params.push(filter.model)}`);
  if (filter.kind !== undefined) where.push(`kind = $${params.push(filter.kind)}`);
  const limit = Math.max(1, Math.min(filter.limit ?? 100, 10_000)) | 0;
  const { rows } = await db.query(
    `SELECT ${COLUMNS} FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ${limit}`,
    params,
  );
  return rows.map(toRun);
}

export interface FinishRunInput {
  status: Exclude<RunStatus, 'running'>;
  summary?: Json;
  error?: string;
}

/** Marks a run finished. Finishing an already finished run with the same status is a no-op. */
export async function finishRun(db: Db, id: string, input: FinishRunInput): Promise<Run> {
  if (!['succeeded', 'failed', 'cancelled'].includes(input.status)) {
    throw new ValidationError('status', input.status, 'succeeded, failed or cancelled');
  }
  const summary = input.summary === undefined ? null : checkJson(input.summary, 'summary');
  const error = checkOptionalText(input.error, 'error', 100_000);
  const { rows } = await db.query(
    `UPDATE runs SET status = $2, summary = COALESCE($3::jsonb, summary), error = COALESCE($4, error),
       finished_at = COALESCE(finished_at, now())
     WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, input.status, summary === null ? null : JSON.stringify(summary), error],
  );
  if (rows.length === 0) throw new NotFoundError('run', id, 'record it first with recordRun');
  return toRun(rows[0]);
}

/**
 * Appends one step's metrics (`{ 'charts/episodic_return': 12.5, 'losses/approx_kl': 0.01 }`) in a
 * single multi-row insert. A retried step overwrites its values.
 */
export async function appendRunMetrics(db: Db, runId: string, step: number, metrics: Record<string, number>, time?: Date): Promise<number> {
  return appendRunMetricRows(
    db,
    runId,
    Object.entries(metrics).map(([name, value]) => ({ step, name, value, time })),
  );
}

/** Appends many (step, name, value) rows in one statement. */
export async function appendRunMetricRows(
  db: Db,
  runId: string,
  rows: { step: number; name: string; value: number; time?: Date }[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const steps: number[] = [];
  const names: string[] = [];
  const values: number[] = [];
  const times: (string | null)[] = [];
  rows.forEach((r, i) => {
    if (!Number.isSafeInteger(r.step) || r.step < 0) throw new ValidationError(`metrics[${i}].step`, r.step, 'an integer >= 0');
    if (typeof r.name !== 'string' || r.name === '' || r.name.length > 200) {
      throw new ValidationError(`metrics[${i}].name`, r.name, 'a metric name of 1-200 characters, e.g. "losses/approx_kl"');
    }
    checkFinite(r.value, `metrics.${r.name} (step ${r.step})`);
    steps.push(r.step);
    names.push(r.name);
    values.push(r.value);
    times.push(r.time ? r.time.toISOString() : null);
  });
  try {
    const res = await db.query(
      `INSERT INTO run_metrics (run_id, step, name, value, time)
       SELECT $1, s, n, v, COALESCE(t, now()) FROM unnest($2::bigint[], $3::text[], $4::double precision[], $5::timestamptz[]) AS x(s, n, v, t)
       ON CONFLICT (run_id, name, step) DO UPDATE SET value = EXCLUDED.value, time = EXCLUDED.time`,
      [runId, steps, names, values, times],
    );
    return res.rowCount ?? 0;
  } catch (err) {
    if ((err as { code?: string }).code === '23503') throw new NotFoundError('run', runId, 'record it first with recordRun');
    if ((err as { code?: string }).code === '21000') {
      throw new ValidationError('metrics', names, 'each (step, name) once per call');
    }
    throw err;
  }
}

/** Metrics of a run in step order, optionally only some names. */
export async function readRunMetrics(db: Db, runId: string, names?: string[]): Promise<RunMetric[]> {
  const params: unknown[] = [runId];
  const filter = names && names.length ? `AND name = ANY($${params.push(names)}::text[])` : '';
  const { rows } = await db.query(`SELECT step, name, value, time FROM run_metrics WHERE run_id = $1 ${filter} ORDER BY step, name`, params);
  return rows.map((r) => ({ step: Number(r.step), name: r.name, value: r.value, time: r.time }));
}
