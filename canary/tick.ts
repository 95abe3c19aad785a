/**
 * The canary state machine, Flagger-style: one pure function `tick(status, check, plan, now)` takes
 * the status and the result of one check and returns the next status and what to do (advance the
 * weight, roll back, start promoting, or nothing). The workflow runs the actions; everything it
 * decides is here, tested tick by tick.
 *
 * Phases: Initializing → (Waiting) → (Shadow) → Progressing → (WaitingPromotion) → Promoting →
 * Succeeded | Failed. Waiting and WaitingPromotion are Flagger's: a confirm-rollout or
 * confirm-promotion webhook has not answered 2xx yet; it is asked again every checkInterval, and while
 * the promotion waits the checks go on (a breach or `threshold` failures still roll back).
 *
 * A stage (the shadow stage or one step) bakes for its interval with a check every checkInterval;
 * the last check of the bake and every check after it are decision looks. Per check:
 *   breach                       → roll back now
 *   fail                         → failedChecks + 1; roll back when it reaches threshold
 *   mid-bake pass / inconclusive → keep baking
 *   decision look, pass          → next step (or Promoting after the last)
 *   decision look, otherwise     → one more check (an extension); after maxInconclusive of them, roll back
 */
import type { CanaryPlan } from './plan';
import { HISTORY_KEPT, LAST_CHECKS_KEPT, type CanaryPhase, type CanaryStatus, type CheckResult, type Comparison } from './status';

export type CanaryAction =
  | { type: 'setWeight'; weight: number; stepIndex: number }
  | { type: 'rollback'; reason: string }
  | { type: 'promote'; reason: string };

export interface TickResult {
  status: CanaryStatus;
  actions: CanaryAction[];
}

export function initialStatus(model: string, version: number, now: number): CanaryStatus {
  return {
    model,
    version,
    championVersion: null,
    phase: 'Initializing',
    canaryWeight: 0,
    stepIndex: -1,
    failedChecks: 0,
    iterations: 0,
    stepChecks: 0,
    stepStartedAt: null,
    paused: false,
    promoted: false,
    lastChecks: [],
    history: [{ at: iso(now), event: 'started', detail: `canary ${model} v${version}` }],
    eventSeq: 1,
    message: 'initializing',
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Appends a history entry (the list keeps the last HISTORY_KEPT). */
export function record(status: CanaryStatus, now: number, event: string, detail: string): CanaryStatus {
  const history = [...status.history, { at: iso(now), event, detail }];
  return { ...status, eventSeq: (status.eventSeq ?? status.history.length) + 1, history: history.length > HISTORY_KEPT ? history.slice(history.length - HISTORY_KEPT) : history };
}

export function enterPhase(status: CanaryStatus, phase: CanaryPhase, now: number, detail = ''): CanaryStatus {
  if (status.phase === phase) return status;
  return record({ ...status, phase }, now, 'phase', `${status.phase} → ${phase}${detail ? `: ${detail}` : ''}`);
}

/** Bake time of the current stage. */
export function stageIntervalMs(status: CanaryStatus, plan: CanaryPlan): number {
  return status.phase === 'Shadow' ? plan.shadow.intervalMs : plan.intervalsMs[Math.max(0, status.stepIndex)];
}

/** Checks in the current stage's bake: one every checkInterval, the last at the end of the bake. */
export function checksPerBake(status: CanaryStatus, plan: CanaryPlan): number {
  return Math.max(1, Math.ceil(stageIntervalMs(status, plan) / plan.checkIntervalMs));
}

/** Milliseconds after the stage's start at which check number `stepChecks + 1` is due. */
export function nextCheckOffsetMs(status: CanaryStatus, plan: CanaryPlan): number {
  const k = status.stepChecks + 1;
  const bake = stageIntervalMs(status, plan);
  const c = checksPerBake(status, plan);
  return k <= c ? Math.min(k * plan.checkIntervalMs, bake) : bake + (k - c) * plan.checkIntervalMs;
}

/** Decision look number of the next check within its stage (0: mid-bake). */
export function nextDecisionLook(status: CanaryStatus, plan: CanaryPlan): number {
  const k = status.stepChecks + 1;
  const c = checksPerBake(status, plan);
  return k >= c ? k - c + 1 : 0;
}

/**
 * What the reward statistics must show to leave the current stage: superiority on the last step that
 * still has champion traffic (the final promotion needs improvement), non-inferiority before it, and
 * nothing at 100% (no champion traffic to compare with). The shadow stage compares for non-inferiority.
 */
export function comparisonFor(status: CanaryStatus, plan: CanaryPlan): Comparison {
  if (status.phase === 'Shadow') return 'non-inferiority';
  const w = plan.stepWeights;
  const lastSplit = w.reduce((last, weight, i) => (weight < 100 ? i : last), -1);
  if (w[status.stepIndex] >= 100) return 'none';
  return status.stepIndex === lastSplit ? 'superiority' : 'non-inferiority';
}

/** The status after rolling back (the workflow runs the rollback activities). */
export function markRolledBack(status: CanaryStatus, reason: string, now: number): CanaryStatus {
  const s = record({ ...status, canaryWeight: 0, message: `rolled back: ${reason}` }, now, 'rollback', reason);
  return enterPhase(s, 'Failed', now);
}

/** Enters the first step: the canary takes stepWeights[0] of traffic. */
export function startProgressing(status: CanaryStatus, plan: CanaryPlan, now: number, detail = ''): TickResult {
  return advanceTo(enterPhase(status, 'Progressing', now, detail), 0, plan, now);
}

function advanceTo(status: CanaryStatus, stepIndex: number, plan: CanaryPlan, now: number): TickResult {
  const weight = plan.stepWeights[stepIndex];
  const s = record(
    { ...status, stepIndex, canaryWeight: weight, stepChecks: 0, stepStartedAt: iso(now), message: `step ${stepIndex + 1}/${plan.stepWeights.length}: ${weight}% to the canary` },
    now,
    'weight',
    `${status.canaryWeight}% → ${weight}%`,
  );
  return { status: s, actions: [{ type: 'setWeight', weight, stepIndex }] };
}

function promote(status: CanaryStatus, reason: string, now: number): TickResult {
  const s = enterPhase({ ...status, message: `promoting: ${reason}` }, 'Promoting', now, reason);
  return { status: s, actions: [{ type: 'promote', reason }] };
}

function rollback(status: CanaryStatus, reason: string): TickResult {
  return { status: { ...status, message: `rolling back: ${reason}` }, actions: [{ type: 'rollback', reason }] };
}

/** One check → the next status and actions. Pure: same inputs, same answer. */
export function tick(status: CanaryStatus, check: CheckResult, plan: CanaryPlan, now: number): TickResult {
  if (status.phase !== 'Shadow' && status.phase !== 'Progressing' && status.phase !== 'WaitingPromotion') {
    throw new Error(`tick: a check arrived in phase ${status.phase}; checks run only while Shadow, Progressing or WaitingPromotion`);
  }
  if (status.phase === 'WaitingPromotion') return tickWaitingPromotion(status, check, plan, now);
  const decisionLook = nextDecisionLook(status, plan);
  const lastChecks = [...status.lastChecks, { ...check, phase: status.phase, canaryWeight: status.canaryWeight }].slice(-LAST_CHECKS_KEPT);
  let s: CanaryStatus = { ...status, iterations: status.iterations + 1, stepChecks: status.stepChecks + 1, lastChecks };
  const why = check.reasons.join('; ') || check.outcome;

  if (check.breach) return rollback(record(s, now, 'breach', why), `breach: ${why}`);
  if (check.outcome === 'fail') {
    s = record({ ...s, failedChecks: s.failedChecks + 1 }, now, 'check-failed', `${s.failedChecks + 1}/${plan.threshold}: ${why}`);
    if (s.failedChecks >= plan.threshold) return rollback(s, `${s.failedChecks} failed checks (threshold ${plan.threshold}); last: ${why}`);
  }
  if (decisionLook === 0) {
    return { status: { ...s, message: `${s.phase === 'Shadow' ? 'shadow' : `step ${s.stepIndex + 1}/${plan.stepWeights.length} at ${s.canaryWeight}%`}: baking (check ${s.stepChecks}/${checksPerBake(s, plan)}: ${check.outcome})` }, actions: [] };
  }

  if (check.outcome === 'pass') {
    if (s.phase === 'Shadow') return startProgressing(s, plan, now, 'shadow comparison passed');
    if (s.stepIndex + 1 < plan.stepWeights.length) return advanceTo(s, s.stepIndex + 1, plan, now);
    return promote(s, `all ${plan.stepWeights.length} steps passed`, now);
  }
  if (s.phase === 'Shadow' && check.missingData && plan.shadow.onMissingData === 'skip') {
    return startProgressing(record(s, now, 'shadow-skipped', why), plan, now, 'no shadow-logged decisions; stage skipped');
  }
  if (s.phase === 'Shadow' && check.missingData && plan.shadow.onMissingData === 'fail') {
    return rollback(s, `shadow stage without data: ${why}`);
  }
  const extensions = decisionLook - 1;
  if (extensions >= plan.maxInconclusive) {
    return rollback(s, `not conclusive after the bake and ${extensions} extra check(s) (maxInconclusive ${plan.maxInconclusive}): ${why}`);
  }
  s = record(s, now, 'extended', `${check.outcome}: ${why}; extra check ${extensions + 1}/${plan.maxInconclusive}`);
  return { status: { ...s, message: `${s.phase === 'Shadow' ? 'shadow' : `step ${s.stepIndex + 1} at ${s.canaryWeight}%`}: bake extended (${extensions + 1}/${plan.maxInconclusive}): ${why}` }, actions: [] };
}

/** A check while the promotion waits for its confirmation: it can only roll back (Flagger keeps checking). */
function tickWaitingPromotion(status: CanaryStatus, check: CheckResult, plan: CanaryPlan, now: number): TickResult {
  const lastChecks = [...status.lastChecks, { ...check, phase: status.phase, canaryWeight: status.canaryWeight }].slice(-LAST_CHECKS_KEPT);
  let s: CanaryStatus = { ...status, iterations: status.iterations + 1, stepChecks: status.stepChecks + 1, lastChecks };
  const why = check.reasons.join('; ') || check.outcome;
  if (check.breach) return rollback(record(s, now, 'breach', why), `breach: ${why}`);
  if (check.outcome === 'fail') {
    s = record({ ...s, failedChecks: s.failedChecks + 1 }, now, 'check-failed', `${s.failedChecks + 1}/${plan.threshold}: ${why}`);
    if (s.failedChecks >= plan.threshold) return rollback(s, `${s.failedChecks} failed checks (threshold ${plan.threshold}); last: ${why}`);
  }
  return { status: s, actions: [] };
}

/**
 * A confirm-rollout (phase Waiting) or confirm-promotion (phase WaitingPromotion) webhook did not answer
 * 2xx: wait, and ask again at the next check. Entering the phase is recorded once; the message says why.
 */
export function awaitConfirmation(status: CanaryStatus, phase: 'Waiting' | 'WaitingPromotion', hook: string, why: string, now: number): CanaryStatus {
  const hookType = phase === 'Waiting' ? 'confirm-rollout' : 'confirm-promotion';
  const s = enterPhase(status, phase, now, `${hookType} webhook ${hook} did not confirm`);
  return { ...s, message: `waiting for the ${hookType} webhook ${hook} to answer 2xx (last: ${why})` };
}

/** A pre-rollout webhook did not answer 2xx: a failed check; at `threshold` of them, roll back. */
export function preRolloutFailed(status: CanaryStatus, plan: CanaryPlan, why: string, now: number): TickResult {
  const s = record({ ...status, failedChecks: status.failedChecks + 1, message: `pre-rollout webhook failed: ${why}` }, now, 'check-failed', `${status.failedChecks + 1}/${plan.threshold}: pre-rollout webhook ${why}`);
  if (s.failedChecks >= plan.threshold) return rollback(s, `pre-rollout webhook failed ${s.failedChecks} time(s) (threshold ${plan.threshold}); last: ${why}`);
  return { status: s, actions: [] };
}

/** The history entries recorded after the first `sent` (for the event webhook), in order. */
export function eventsSince(status: CanaryStatus, sent: number): { seq: number; entry: CanaryStatus['history'][number] }[] {
  const first = status.eventSeq - status.history.length;
  return status.history.map((entry, i) => ({ seq: first + i + 1, entry })).filter((e) => e.seq > sent);
}

/** The `promote` signal: skip the remaining steps (recorded). */
export function promoteRequested(status: CanaryStatus, by: string, now: number): TickResult {
  const s = record(status, now, 'promote-requested', `by ${by}: remaining steps skipped (at ${status.canaryWeight}%, step ${status.stepIndex + 1})`);
  return promote(s, `promote requested by ${by}`, now);
}
