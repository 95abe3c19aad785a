/**
 * The optimiser workflows' tables (migration 014): budget-allocation solutions and request-rate
 * forecasts. Writes are keyed by `runKey` (workflow id + run id), so a retried activity finds its
 * first row instead of writing a second one.
 */
import type { Db } from './db';
import { NotFoundError, ValidationError } from './errors';
import type { Json, JsonObject } from './types';
import { checkFinite, checkJson, checkJsonObject, checkOptionalText } from './validate';

export interface BudgetSolutionRow {
  id: number;
  name: string;
  runKey: string;
  workflowId: string | null;
  status: 'optimal' | 'infeasible';
  problem: JsonObject;
  solution: JsonObject | null;
  error: string | null;
  plotUri: string | null;
  solvedAt: Date;
}

export interface SaveBudgetSolutionInput {
  name: string;
  runKey: string;
  workflowId?: string | null;
  status: 'optimal' | 'infeasible';
  problem: JsonObject;
  solution?: JsonObject | null;
  error?: string | null;
  plotUri?: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:\-/]{0,127}$/;

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw new ValidationError(field, value, 'a name of 1-128 letters, digits and _.:-/ starting with a letter or digit');
  return value;
}

function toBudget(r: Record<string, any>): BudgetSolutionRow {
  return { id: Number(r.id), name: r.name, runKey: r.run_key, workflowId: r.workflow_id, status: r.status, problem: r.problem, solution: r.solution, error: r.error, plotUri: r.plot_uri, solvedAt: r.solved_at };
}

/** Stores one solve; a second call with the same runKey returns the first row unchanged. */
export async function saveBudgetSolution(db: Db, input: SaveBudgetSolutionInput): Promise<BudgetSolutionRow> {
  checkName(input.name, 'name');
  if (typeof input.runKey !== 'string' || input.runKey === '' || input.runKey.length > 1000) throw new ValidationError('runKey', input.runKey, 'a non-empty key of at most 1000 characters');
  if (input.status !== 'optimal' && input.status !== 'infeasible') throw new ValidationError('status', input.status, '"optimal" or "infeasible"');
  const problem = checkJsonObject(input.problem, 'problem');
  const solution = input.solution === undefined || input.solution === null ? null : checkJsonObject(input.solution, 'solution');
  if (input.status === 'optimal' && solution === null) throw new ValidationError('solution', null, 'the allocation of an optimal solve');
  const error = checkOptionalText(input.error, 'error', 100_000);
  await db.query(
    `INSERT INTO budget_solutions (name, run_key, workflow_id, status, problem, solution, error, plot_uri) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)
     ON CONFLICT (run_key) DO NOTHING`,
    [input.name, input.runKey, input.workflowId ?? null, input.status, JSON.stringify(problem), solution === null ? null : JSON.stringify(solution), error, checkOptionalText(input.plotUri, 'plotUri', 2000)],
  );
  const { rows } = await db.query('SELECT * FROM budget_solutions WHERE run_key = $1', [input.runKey]);
  return toBudget(rows[0]);
}

/** The most recent solves of an allocation, newest first (every name when `name` is omitted). */
export async function listBudgetSolutions(db: Db, filter: { name?: string; limit?: number } = {}): Promise<BudgetSolutionRow[]> {
  const limit = Math.max(1, Math.min(filter.limit ?? 20, 1000)) | 0;
  const params: unknown[] = [];
  const where = filter.name === undefined ? '' : `WHERE name = $${params.push(checkName(filter.name, 'name'))}`;
  const { rows } = await db.query(`SELECT * FROM budget_solutions ${where} ORDER BY solved_at DESC, id DESC LIMIT ${limit}`, params);
  return rows.map(toBudget);
}

/** The newest solve of `name`; NotFoundError when it was never solved. */
export async function latestBudgetSolution(db: Db, name: string): Promise<BudgetSolutionRow> {
  const [row] = await listBudgetSolutions(db, { name, limit: 1 });
  if (!row) throw new NotFoundError('budget solution', name, 'solve it first with `autopilot budget solve`');
  return row;
}

export type Granularity = 'hour' | 'minute';
export const GRANULARITY_SECONDS: Record<Granularity, number> = { hour: 3600, minute: 60 };

export interface ForecastRow {
  id: number;
  deployment: string;
  granularity: Granularity;
  runKey: string;
  workflowId: string | null;
  method: string;
  origin: Date;
  stepSeconds: number;
  level: number;
  mean: number[];
  lower: number[];
  upper: number[];
  sd: number[];
  historyPoints: number;
  capacity: Json | null;
  createdAt: Date;
}

export type SaveForecastInput = Omit<ForecastRow, 'id' | 'createdAt' | 'workflowId' | 'capacity'> & { workflowId?: string | null; capacity?: JsonObject | null };

function toForecast(r: Record<string, any>): ForecastRow {
  return {
    id: Number(r.id), deployment: r.deployment, granularity: r.granularity, runKey: r.run_key, workflowId: r.workflow_id, method: r.method,
    origin: r.origin, stepSeconds: r.step_seconds, level: r.level, mean: r.mean, lower: r.lower, upper: r.upper, sd: r.sd,
    historyPoints: r.history_points, capacity: r.capacity, createdAt: r.created_at,
  };
}

/** Stores one forecast; a second call with the same (runKey, deployment, granularity) returns the first. */
export async function saveForecast(db: Db, input: SaveForecastInput): Promise<ForecastRow> {
  checkName(input.deployment, 'deployment');
  if (!(input.granularity in GRANULARITY_SECONDS)) throw new ValidationError('granularity', input.granularity, '"hour" or "minute"');
  const h = input.mean.length;
  if (h === 0) throw new ValidationError('mean', input.mean, 'at least one forecast step');
  for (const key of ['mean', 'lower', 'upper', 'sd'] as const) {
    if (input[key].length !== h) throw new ValidationError(key, input[key].length, `${h} values (one per step, like mean)`);
    input[key].forEach((v, i) => checkFinite(v, `${key}[${i}]`));
  }
  if (!(input.level > 0 && input.level < 1)) throw new ValidationError('level', input.level, 'a coverage in (0, 1)');
  if (!(input.origin instanceof Date) || Number.isNaN(input.origin.getTime())) throw new ValidationError('origin', input.origin, 'a valid Date');
  const capacity = input.capacity === undefined || input.capacity === null ? null : checkJson(input.capacity, 'capacity');
  await db.query(
    `INSERT INTO forecasts (deployment, granularity, run_key, workflow_id, method, origin, step_seconds, level, mean, lower, upper, sd, history_points, capacity)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb)
     ON CONFLICT (run_key, deployment, granularity) DO NOTHING`,
    [input.deployment, input.granularity, input.runKey, input.workflowId ?? null, input.method, input.origin.toISOString(), input.stepSeconds, input.level,
      input.mean, input.lower, input.upper, input.sd, input.historyPoints, capacity === null ? null : JSON.stringify(capacity)],
  );
  const { rows } = await db.query('SELECT * FROM forecasts WHERE run_key = $1 AND deployment = $2 AND granularity = $3', [input.runKey, input.deployment, input.granularity]);
  return toForecast(rows[0]);
}

/** The newest forecast of each deployment at a granularity (all deployments when `deployment` is omitted). */
export async function latestForecasts(db: Db, filter: { granularity: Granularity; deployment?: string }): Promise<ForecastRow[]> {
  const params: unknown[] = [filter.granularity];
  const where = filter.deployment === undefined ? '' : `AND deployment = $${params.push(checkName(filter.deployment, 'deployment'))}`;
  const { rows } = await db.query(
    `SELECT DISTINCT ON (deployment) * FROM forecasts WHERE granularity = $1 ${where} ORDER BY deployment, created_at DESC, id DESC`,
    params,
  );
  return rows.map(toForecast);
}

/**
 * The forecast's step covering `at` as { mean, lower, upper } (requests per second), or null when
 * `at` lies before the origin or past the horizon.
 */
export function forecastAt(f: ForecastRow, at: Date): { step: number; mean: number; lower: number; upper: number } | null {
  const step = Math.floor((at.getTime() - f.origin.getTime()) / (f.stepSeconds * 1000));
  if (step < 0 || step >= f.mean.length) return null;
  return { step, mean: f.mean[step], lower: f.lower[step], upper: f.upper[step] };
}

/**
 * The values of `autopilot_forecast_requests_per_second{deployment, quantile}` at `at`: for each
 * deployment's newest forecast at the granularity, the step covering `at` as three quantiles — the
 * mean as "0.5" and the interval's ends as (1 − level)/2 and (1 + level)/2 (e.g. "0.025", "0.975").
 * A deployment whose newest forecast does not cover `at` (stale or not yet started) has no value.
 * Read by a prom-client gauge's collect() in the process that exports it.
 */
export async function forecastGaugeValues(db: Db, at: Date, granularity: Granularity = 'hour'): Promise<{ deployment: string; quantile: string; value: number }[]> {
  const out: { deployment: string; quantile: string; value: number }[] = [];
  for (const f of await latestForecasts(db, { granularity })) {
    const v = forecastAt(f, at);
    if (!v) continue;
    const q = (p: number) => String(Number(p.toFixed(6)));
    out.push({ deployment: f.deployment, quantile: q((1 - f.level) / 2), value: v.lower });
    out.push({ deployment: f.deployment, quantile: '0.5', value: v.mean });
    out.push({ deployment: f.deployment, quantile: q((1 + f.level) / 2), value: v.upper });
  }
  return out;
}
