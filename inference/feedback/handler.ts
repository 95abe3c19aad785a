/**
 * POST /v1/feedback — a reviewer's verdict on a served text-policy decision (issue "Oumi policy" item 4;
 * seed 003's human oversight, the data of "RL from human feedback").
 *
 *   { "decisionId": "…", "verdict": "APPROVE" | "FLAG", "reason"?: "…" }
 *   → 201 { decisionId, accepted: true, duplicate: false, servedVerdict, verdict, overridden }
 *     200 the same verdict (and reason) was already recorded (duplicate: true)
 *     400 a field is wrong (named), or the decision is not a text-policy decision
 *     403 the key holds no `reward` scope on the decision's deployment (or the deployment takes rewards
 *         from the deciding key only and this is another key: feedback follows the same tenancy)
 *     404 no such decision (after waiting ~1 s for the decision log's batches)
 *     409 a different verdict was recorded for it
 *
 * Stored in `decision_feedback` (decision-log/feedback.ts) with the served verdict, so the override rate
 * is measured on real served decisions (`autopilot feedback summary`, and the counter
 * autopilot_policy_feedback_total{served,verdict}); `autopilot data export --feedback` turns the reviewed
 * decisions into SFT rows and DPO pairs for the next policyTraining run.
 */
import type { FeedbackOutcome, FeedbackVerdict, ReviewableDecision } from '../../decision-log/feedback';
import { checkReason, checkVerdict } from '../../decision-log/feedback';
import { RegistryError, ValidationError, ConflictError, NotFoundError } from '../../registry/errors';
import { checkUuid } from '../../registry/validate';
import { forbidden } from '../auth/store';
import { ClientError, badRequest, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';

export interface FeedbackStore {
  findReviewableDecision(decisionId: string): Promise<ReviewableDecision | null>;
  insertFeedback(input: { decision: ReviewableDecision; verdict: FeedbackVerdict; reason: string | null; keyId: string | null }): Promise<FeedbackOutcome>;
}

export interface FeedbackHandlerOptions {
  store: FeedbackStore;
  metrics: InferenceMetrics;
  /** Whether a deployment takes rewards (and so feedback) from the deciding key only (AuthStore.decidingKeyOnly). */
  decidingKeyOnly?: (deployment: string) => boolean;
  /** Waits before each new look-up of a decision not found yet (it may still be in a decision-log batch). */
  retryDelaysMs?: readonly number[];
}

export interface FeedbackResponse {
  decisionId: string;
  accepted: true;
  duplicate: boolean;
  servedVerdict: FeedbackVerdict;
  verdict: FeedbackVerdict;
  overridden: boolean;
}

const BODY_KEYS = new Set(['decisionId', 'verdict', 'reason']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function fieldError(err: unknown): never {
  if (err instanceof ValidationError) throw badRequest(err.message, err.field, err.expected);
  throw err;
}

export function createFeedbackHandler(opts: FeedbackHandlerOptions) {
  const delays = opts.retryDelaysMs ?? [30, 60, 120, 250, 500];
  return async function feedback(body: unknown, ctx: RequestContext): Promise<FeedbackResponse> {
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object', null, '{ "decisionId": "<uuid>", "verdict": "APPROVE" | "FLAG", "reason"?: "…" }');
    const b = body as Record<string, unknown>;
    for (const k in b) if (!BODY_KEYS.has(k)) throw badRequest(`unknown field ${k}`, k, 'only decisionId, verdict and reason');
    let id: string, verdict: FeedbackVerdict, reason: string | null;
    try {
      id = checkUuid(b.decisionId, 'decisionId');
      verdict = checkVerdict(b.verdict);
      reason = checkReason(b.reason);
    } catch (err) {
      fieldError(err);
    }
    let decision: ReviewableDecision | null;
    try {
      decision = await opts.store.findReviewableDecision(id);
      for (const delay of delays) {
        if (decision !== null) break;
        await sleep(delay);
        decision = await opts.store.findReviewableDecision(id);
      }
    } catch (err) {
      throw unavailable('cannot look the decision up now', err, 'the registry database');
    }
    if (decision === null) throw new ClientError(404, `decision ${id} not found`, 'decisionId', 'the decisionId of a served text-policy decision (decisions are recorded within about a second)');
    const p = ctx.principal;
    if (p != null) {
      if (!p.reward.all && !p.reward.on.has(decision.deployment)) throw forbidden(p, 'reward', decision.deployment, 'decisionId');
      if (opts.decidingKeyOnly?.(decision.deployment) && decision.keyId !== p.keyId) {
        throw new ClientError(403, `decision ${id} of deployment ${JSON.stringify(decision.deployment)} was asked for by another API key; this deployment takes rewards and feedback only from the deciding key`, 'decisionId', `the API key that asked for decision ${id}`);
      }
    }
    if (decision.kind !== 'text-policy' || decision.servedVerdict === null) {
      throw badRequest(`decision ${id} of deployment ${JSON.stringify(decision.deployment)} is a ${decision.kind ?? 'non-text-policy'} decision; feedback takes a reviewer's verdict on a text-policy decision`, 'decisionId', 'the decisionId of a served text-policy decision (use POST /v1/rewards for the others)');
    }
    let outcome: FeedbackOutcome;
    try {
      outcome = await opts.store.insertFeedback({ decision, verdict, reason, keyId: p?.keyId ?? null });
    } catch (err) {
      if (err instanceof ConflictError) throw new ClientError(409, err.message, 'verdict', 'the verdict already recorded (one verdict per decision)');
      if (err instanceof NotFoundError) throw new ClientError(404, err.message, 'decisionId', 'a decision that is still kept');
      if (err instanceof ValidationError) fieldError(err);
      if (err instanceof RegistryError) throw err;
      throw unavailable('cannot record the feedback now', err, 'the registry database');
    }
    if (outcome.inserted) {
      opts.metrics.feedback.labels(decision.deployment, decision.servedVerdict, verdict).inc();
      ctx.status = 201;
    }
    return { decisionId: id, accepted: true, duplicate: !outcome.inserted, servedVerdict: decision.servedVerdict, verdict, overridden: outcome.overridden };
  };
}
