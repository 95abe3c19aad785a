/**
 * Reading decisions with their rewards. `readDecisionsWithRewards` pages through a deployment's time
 * window with a keyset cursor (time, decision_id), so a reader never skips or repeats a row however
 * large the window.
 */
import type { Db } from '../registry/db';
import { NotFoundError, ValidationError } from '../registry/errors';
import type { Json } from '../registry/types';
import { checkUuid } from '../registry/validate';
import type { DecisionPage, DecisionWindowQuery, DecisionWithReward } from './types';

const SELECT_JOINED = `SELECT d.decision_id, d.time, to_char(d.time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time_exact,
    d.deployment, d.model, d.version, d.generation, d.arm, d.features, d.action, d.propensity, d.density, d.unit,
    d.latency_ms, d.metadata, r.reward, r.components AS reward_components, r.time AS reward_time
  FROM decisions d LEFT JOIN rewards r ON r.decision_id = d.decision_id`;

export async function getDecision(db: Db, decisionId: string): Promise<DecisionWithReward> {
  const id = checkUuid(decisionId, 'decisionId');
  const { rows } = await db.query(`${SELECT_JOINED} WHERE d.decision_id = $1`, [id]);
  if (rows.length === 0) throw new NotFoundError('decision', id);
  return toDecision(rows[0]);
}

/** One page of a deployment's decisions in [from, to), oldest first, each with its reward (or null). */
export async function readDecisionsWithRewards(db: Db, q: DecisionWindowQuery): Promise<DecisionPage> {
  if (typeof q.deployment !== 'string' || q.deployment === '') throw new ValidationError('deployment', q.deployment, 'a deployment name');
  for (const k of ['from', 'to'] as const) {
    if (!(q[k] instanceof Date) || Number.isNaN(q[k].getTime())) throw new ValidationError(k, q[k], 'a valid Date');
  }
  const limit = q.limit ?? 5000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50_000) throw new ValidationError('limit', limit, 'an integer in 1..50000');
  const params: unknown[] = [q.deployment, q.from.toISOString(), q.to.toISOString()];
  const where = ['d.deployment = $1', 'd.time >= $2::timestamptz', 'd.time < $3::timestamptz'];
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    where.push(`(d.time, d.decision_id) > ($${params.push(c.t)}::timestamptz, $${params.push(c.id)}::uuid)`);
  }
  if (q.arm !== undefined) where.push(`d.arm = $${params.push(q.arm)}`);
  if (q.version !== undefined) where.push(`d.version = $${params.push(q.version)}`);
  if (q.rewardedOnly) where.push('r.decision_id IS NOT NULL');
  const { rows } = await db.query(`${SELECT_JOINED} WHERE ${where.join(' AND ')} ORDER BY d.time, d.decision_id LIMIT ${limit + 1}`, params);
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const last = page[page.length - 1];
  return {
    rows: page.map(toDecision),
    nextCursor: more && last ? encodeCursor(last.time_exact, last.decision_id) : null,
  };
}

/** Every page of a window, for readers that want a simple loop: `for await (const page of …)`. */
export async function* iterateDecisionsWithRewards(db: Db, q: Omit<DecisionWindowQuery, 'cursor'>): AsyncGenerator<DecisionWithReward[]> {
  let cursor: string | null = null;
  do {
    const page: DecisionPage = await readDecisionsWithRewards(db, { ...q, cursor });
    if (page.rows.length) yield page.rows;
    cursor = page.nextCursor;
  } while (cursor);
}

function toDecision(r: Record<string, any>): DecisionWithReward {
  return {
    decisionId: r.decision_id,
    time: r.time,
    deployment: r.deployment,
    model: r.model,
    version: r.version,
    generation: r.generation === null ? null : Number(r.generation),
    arm: r.arm,
    features: r.features as Json,
    action: r.action as Json,
    propensity: r.propensity,
    density: r.density,
    unit: r.unit,
    latencyMs: r.latency_ms,
    metadata: r.metadata as Json | null,
    reward: r.reward,
    rewardComponents: r.reward_components,
    rewardTime: r.reward_time,
  };
}

function encodeCursor(t: string, id: string): string {
  return Buffer.from(JSON.stringify({ t, id }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): { t: string; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { t: unknown; id: unknown };
    if (typeof c.t === 'string' && typeof c.id === 'string' && !Number.isNaN(Date.parse(c.t))) {
      return { t: c.t, id: checkUuid(c.id, 'cursor.id') };
    }
  } catch {
    // fall through
  }
  throw new ValidationError('cursor', cursor, 'the nextCursor of a previous page');
}
