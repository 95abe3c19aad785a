/**
 * Human feedback on served text-policy decisions (issue "Oumi policy" item 4; table in migration 023).
 *
 * A reviewer's verdict (`APPROVE` or `FLAG`, with an optional reason) is recorded once per decision: the
 * same verdict again is accepted as a duplicate, a different one is a ConflictError naming what was
 * recorded (a second reviewer who disagrees is a new review process, not an overwrite). The row copies
 * the decision's deployment, model, version, time and served verdict, so the override rate — the share
 * of the policy's answers a human reversed — is read from this table alone (`feedbackSummary`), and
 * `iterateReviewedDecisions` joins the verdicts back to the decisions' inputs for training data
 * (activities/data-export/feedback.ts).
 */
import type { Db } from '../registry/db';
import { ConflictError, NotFoundError, ValidationError } from '../registry/errors';
import type { Json } from '../registry/types';
import { checkUuid } from '../registry/validate';

export const FEEDBACK_VERDICTS = ['APPROVE', 'FLAG'] as const;
export type FeedbackVerdict = (typeof FEEDBACK_VERDICTS)[number];
export const MAX_FEEDBACK_REASON = 2000;

/** The decision a verdict is about, as the table `decisions` holds it. */
export interface ReviewableDecision {
  decisionId: string;
  time: Date;
  deployment: string;
  model: string;
  version: number | null;
  /** metadata.kind: feedback is taken on `text-policy` decisions only. */
  kind: string | null;
  /** action.verdict: what the policy answered (null when the action has none). */
  servedVerdict: FeedbackVerdict | null;
  keyId: string | null;
}

export interface FeedbackInput {
  decision: ReviewableDecision;
  verdict: FeedbackVerdict;
  reason: string | null;
  keyId: string | null;
}

export interface FeedbackOutcome {
  inserted: boolean;
  /** The human reversed the served verdict. */
  overridden: boolean;
}

export function checkVerdict(value: unknown, field = 'verdict'): FeedbackVerdict {
  if (typeof value === 'string' && (FEEDBACK_VERDICTS as readonly string[]).includes(value)) return value as FeedbackVerdict;
  throw new ValidationError(field, value, `one of ${FEEDBACK_VERDICTS.join(', ')} (the reviewer's verdict on the served decision)`);
}

export function checkReason(value: unknown, field = 'reason'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.trim() === '' || value.length > MAX_FEEDBACK_REASON) {
    throw new ValidationError(field, value, `a non-empty string of at most ${MAX_FEEDBACK_REASON} characters, or absent`);
  }
  return value;
}

/** The decision `decisionId`, or null when `decisions` has no such row (yet: it may be in a decision-log batch). */
export async function findReviewableDecision(db: Db, decisionId: string): Promise<ReviewableDecision | null> {
  const id = checkUuid(decisionId, 'decisionId');
  const { rows } = await db.query<{ time: Date; deployment: string; model: string; version: number | null; kind: string | null; verdict: string | null; key_id: string | null }>(
    `SELECT time, deployment, model, version, metadata->>'kind' AS kind, action->>'verdict' AS verdict, key_id FROM decisions WHERE decision_id = $1`,
    [id],
  );
  if (rows.length === 0) return null;
  const r = rows[0];
  const served = r.verdict === 'APPROVE' || r.verdict === 'FLAG' ? r.verdict : null;
  return { decisionId: id, time: r.time, deployment: r.deployment, model: r.model, version: r.version, kind: r.kind, servedVerdict: served, keyId: r.key_id };
}

/** Records a verdict; `inserted: false` when the same verdict (and reason) was already recorded. */
export async function insertFeedback(db: Db, input: FeedbackInput): Promise<FeedbackOutcome> {
  const d = input.decision;
  if (d.servedVerdict === null) throw new ValidationError('decisionId', d.decisionId, 'a text-policy decision whose action has a verdict (APPROVE or FLAG)');
  const verdict = checkVerdict(input.verdict);
  const reason = checkReason(input.reason);
  const overridden = verdict !== d.servedVerdict;
  // Copied from the decisions row itself: its time keeps its microseconds (a JS Date would not).
  const res = await db.query(
    `INSERT INTO decision_feedback (decision_id, decision_time, deployment, model, version, served_verdict, verdict, reason, key_id)
     SELECT decision_id, time, deployment, model, version, action->>'verdict', $2, $3, $4 FROM decisions WHERE decision_id = $1
     ON CONFLICT (decision_id) DO NOTHING`,
    [d.decisionId, verdict, reason, input.keyId],
  );
  if (res.rowCount === 1) return { inserted: true, overridden };
  const { rows } = await db.query<{ verdict: string; reason: string | null }>('SELECT verdict, reason FROM decision_feedback WHERE decision_id = $1', [d.decisionId]);
  const stored = rows[0];
  if (stored === undefined) throw new NotFoundError('decision', d.decisionId, 'it was removed (retention) while its feedback was being recorded');
  if (stored.verdict === verdict && stored.reason === reason) return { inserted: false, overridden };
  throw new ConflictError(
    'feedback on decision',
    d.decisionId,
    `already recorded as ${JSON.stringify({ verdict: stored.verdict, reason: stored.reason })}; got ${JSON.stringify({ verdict, reason })} (one verdict per decision)`,
  );
}

export interface FeedbackSummaryQuery {
  deployment: string;
  /** Decisions made at or after (inclusive); absent: from the first. */
  from?: Date;
  /** Decisions made before (exclusive); absent: up to now. */
  to?: Date;
}

/** Review counts of one model version of a deployment (or of all of them: `version` undefined in the total). */
export interface FeedbackCounts {
  reviewed: number;
  /** Reviewed decisions the policy approved, and those a human flagged instead. */
  servedApprove: number;
  approveOverridden: number;
  /** Reviewed decisions the policy flagged, and those a human approved instead. */
  servedFlag: number;
  flagOverridden: number;
  /**
   * Seed 003's human override rate: approved decisions a human overrode / reviewed approved decisions
   * (null with none reviewed). The target is < 10%.
   */
  overrideRate: number | null;
  /** Reviewed decisions whose served verdict the human kept / reviewed (null with none). */
  agreement: number | null;
}

export interface FeedbackSummary {
  deployment: string;
  window: { from: string | null; to: string | null };
  total: FeedbackCounts;
  byVersion: (FeedbackCounts & { model: string; version: number | null })[];
}

function counts(r: { reviewed: string; served_approve: string; approve_overridden: string; served_flag: string; flag_overridden: string }): FeedbackCounts {
  const reviewed = Number(r.reviewed);
  const servedApprove = Number(r.served_approve);
  const approveOverridden = Number(r.approve_overridden);
  const servedFlag = Number(r.served_flag);
  const flagOverridden = Number(r.flag_overridden);
  return {
    reviewed,
    servedApprove,
    approveOverridden,
    servedFlag,
    flagOverridden,
    overrideRate: servedApprove > 0 ? approveOverridden / servedApprove : null,
    agreement: reviewed > 0 ? (reviewed - approveOverridden - flagOverridden) / reviewed : null,
  };
}

function windowWhere(q: FeedbackSummaryQuery, alias: string, params: unknown[]): string[] {
  if (typeof q.deployment !== 'string' || q.deployment === '') throw new ValidationError('deployment', q.deployment, 'a deployment name');
  const where = [`${alias}.deployment = $${params.push(q.deployment)}`];
  for (const k of ['from', 'to'] as const) {
    const v = q[k];
    if (v === undefined) continue;
    if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw new ValidationError(k, v, 'a valid time');
    where.push(`${alias}.decision_time ${k === 'from' ? '>=' : '<'} $${params.push(v.toISOString())}::timestamptz`);
  }
  return where;
}

/** The override rate and agreement of a deployment's reviewed decisions, in total and per model version. */
export async function feedbackSummary(db: Db, q: FeedbackSummaryQuery): Promise<FeedbackSummary> {
  const params: unknown[] = [];
  const where = windowWhere(q, 'f', params);
  const { rows } = await db.query<{ model: string | null; version: number | null; reviewed: string; served_approve: string; approve_overridden: string; served_flag: string; flag_overridden: string; total: boolean }>(
    `SELECT model, version, GROUPING(model, version) = 3 AS total, count(*) AS reviewed,
            count(*) FILTER (WHERE served_verdict = 'APPROVE') AS served_approve,
            count(*) FILTER (WHERE served_verdict = 'APPROVE' AND verdict = 'FLAG') AS approve_overridden,
            count(*) FILTER (WHERE served_verdict = 'FLAG') AS served_flag,
            count(*) FILTER (WHERE served_verdict = 'FLAG' AND verdict = 'APPROVE') AS flag_overridden
       FROM decision_feedback f WHERE ${where.join(' AND ')}
      GROUP BY GROUPING SETS ((model, version), ())
      ORDER BY total DESC, model, version`,
    params,
  );
  const totalRow = rows.find((r) => r.total);
  const zero = { reviewed: '0', served_approve: '0', approve_overridden: '0', served_flag: '0', flag_overridden: '0' };
  return {
    deployment: q.deployment,
    window: { from: q.from?.toISOString() ?? null, to: q.to?.toISOString() ?? null },
    total: counts(totalRow ?? zero),
    byVersion: rows.filter((r) => !r.total).map((r) => ({ model: r.model as string, version: r.version, ...counts(r) })),
  };
}

/** A reviewed decision: what the policy saw and answered, and the human's verdict. */
export interface ReviewedDecision {
  decisionId: string;
  time: Date;
  model: string;
  version: number | null;
  /** The decision's logged features: `{ snapshot }` (the decision record) or `{ text }` (a rendered prompt). */
  features: Json;
  servedVerdict: FeedbackVerdict;
  verdict: FeedbackVerdict;
  reason: string | null;
}

/** A deployment's reviewed decisions made in [from, to), oldest first, page by page (keyset on time, id). */
export async function* iterateReviewedDecisions(db: Db, q: Required<FeedbackSummaryQuery> & { pageSize?: number }): AsyncGenerator<ReviewedDecision[]> {
  const limit = q.pageSize ?? 2000;
  if (!Number.isInteger(limit) || limit < 1 || limit > 50_000) throw new ValidationError('pageSize', limit, 'an integer in 1..50000');
  let cursor: { t: string; id: string } | null = null;
  for (;;) {
    const params: unknown[] = [];
    const where = windowWhere(q, 'f', params);
    if (cursor !== null) where.push(`(f.decision_time, f.decision_id) > ($${params.push(cursor.t)}::timestamptz, $${params.push(cursor.id)}::uuid)`);
    const { rows } = await db.query<{ decision_id: string; decision_time: Date; time_exact: string; model: string; version: number | null; features: Json; served_verdict: FeedbackVerdict; verdict: FeedbackVerdict; reason: string | null }>(
      `SELECT f.decision_id, f.decision_time, to_char(f.decision_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS time_exact, f.model, f.version, d.features, f.served_verdict, f.verdict, f.reason
         FROM decision_feedback f JOIN decisions d ON d.decision_id = f.decision_id
        WHERE ${where.join(' AND ')} ORDER BY f.decision_time, f.decision_id LIMIT ${limit}`,
      params,
    );
    if (rows.length === 0) return;
    yield rows.map((r) => ({ decisionId: r.decision_id, time: r.decision_time, model: r.model, version: r.version, features: r.features, servedVerdict: r.served_verdict, verdict: r.verdict, reason: r.reason }));
    if (rows.length < limit) return;
    const last = rows[rows.length - 1];
    cursor = { t: last.time_exact, id: last.decision_id };
  }
}
