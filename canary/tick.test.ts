import { validateCanaryPlan } from '../activities/canary/plan-config';
import {
  awaitConfirmation,
  checksPerBake,
  eventsSince,
  preRolloutFailed,
  record,
  comparisonFor,
  initialStatus,
  nextCheckOffsetMs,
  nextDecisionLook,
  promoteRequested,
  startProgressing,
  tick,
  type CanaryAction,
} from './tick';
import type { CanaryStatus, CheckOutcome, CheckResult } from './status';

const plan = validateCanaryPlan({ stepWeights: [5, 25, 50, 100], interval: '1h', checkInterval: '30m', threshold: 2, maxInconclusive: 2 });
const T0 = Date.parse('2025-01-01T00:00:00Z');
const MIN = 60_000;

function check(outcome: CheckOutcome, extra: Partial<CheckResult> = {}): CheckResult {
  return {
    outcome,
    breach: false,
    reasons: outcome === 'pass' ? [] : [`${outcome} because fixture`],
    at: new Date(T0).toISOString(),
    window: { from: new Date(T0).toISOString(), to: new Date(T0).toISOString() },
    samples: { champion: 500, canary: 500 },
    metrics: [],
    delta: null,
    burnRate: [],
    decisionLook: false,
    ...extra,
  };
}

function progressing(): CanaryStatus {
  return startProgressing(initialStatus('ppo', 2, T0), plan, T0).status;
}

/** Runs checks in order, returning every status and the actions of each tick. */
function run(status: CanaryStatus, outcomes: (CheckOutcome | CheckResult)[]): { status: CanaryStatus; actions: CanaryAction[][] } {
  const actions: CanaryAction[][] = [];
  let s = status;
  let now = T0;
  for (const o of outcomes) {
    now += 30 * MIN;
    const r = tick(s, typeof o === 'string' ? check(o) : o, plan, now);
    s = r.status;
    actions.push(r.actions);
    if (r.actions.some((a) => a.type === 'rollback')) break;
  }
  return { status: s, actions };
}

describe('canary tick', () => {
  it('starts at the first weight', () => {
    const r = startProgressing(initialStatus('ppo', 2, T0), plan, T0);
    expect(r.actions).toEqual([{ type: 'setWeight', weight: 5, stepIndex: 0 }]);
    expect(r.status).toMatchObject({ phase: 'Progressing', canaryWeight: 5, stepIndex: 0, stepChecks: 0, failedChecks: 0, iterations: 0 });
  });

  it('bakes, then advances through every weight and promotes', () => {
    const { status, actions } = run(progressing(), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
    // two checks per 1h bake at 30m: the first keeps baking, the second decides
    expect(actions).toEqual([
      [], [{ type: 'setWeight', weight: 25, stepIndex: 1 }],
      [], [{ type: 'setWeight', weight: 50, stepIndex: 2 }],
      [], [{ type: 'setWeight', weight: 100, stepIndex: 3 }],
      [], [{ type: 'promote', reason: 'all 4 steps passed' }],
    ]);
    expect(status).toMatchObject({ phase: 'Promoting', canaryWeight: 100, iterations: 8, failedChecks: 0 });
    expect(status.lastChecks).toHaveLength(5);
    expect(status.history.filter((h) => h.event === 'weight').map((h) => h.detail)).toEqual(['0% → 5%', '5% → 25%', '25% → 50%', '50% → 100%']);
  });

  it('rolls back at once on a breach, whatever the threshold', () => {
    const { status, actions } = run(progressing(), [check('fail', { breach: true, reasons: ['burn rate 20x over 5m and 1h'] })]);
    expect(actions).toEqual([[{ type: 'rollback', reason: 'breach: burn rate 20x over 5m and 1h' }]]);
    expect(status.failedChecks).toBe(0);
  });

  it('counts failed checks and rolls back at threshold, not before', () => {
    const one = run(progressing(), ['fail']);
    expect(one.actions).toEqual([[]]);
    expect(one.status.failedChecks).toBe(1);
    const two = run(progressing(), ['fail', 'pass', 'fail']);
    // the decision look after one failure passes and advances; the second failure rolls back
    expect(two.actions[1]).toEqual([{ type: 'setWeight', weight: 25, stepIndex: 1 }]);
    expect(two.actions[2]).toEqual([{ type: 'rollback', reason: '2 failed checks (threshold 2); last: fail because fixture' }]);
  });

  it('extends an inconclusive decision look, then resolves', () => {
    const { actions, status } = run(progressing(), ['pass', 'inconclusive', 'inconclusive', 'pass']);
    expect(actions).toEqual([[], [], [], [{ type: 'setWeight', weight: 25, stepIndex: 1 }]]);
    expect(status.history.filter((h) => h.event === 'extended').map((h) => h.detail)).toEqual([
      'inconclusive: inconclusive because fixture; extra check 1/2',
      'inconclusive: inconclusive because fixture; extra check 2/2',
    ]);
  });

  it('rolls back when still inconclusive after maxInconclusive extensions', () => {
    const { actions } = run(progressing(), ['pass', 'inconclusive', 'inconclusive', 'inconclusive']);
    expect(actions[3]).toEqual([{ type: 'rollback', reason: 'not conclusive after the bake and 2 extra check(s) (maxInconclusive 2): inconclusive because fixture' }]);
  });

  it('ignores an inconclusive mid-bake check', () => {
    const { actions, status } = run(progressing(), ['inconclusive', 'pass']);
    expect(actions).toEqual([[], [{ type: 'setWeight', weight: 25, stepIndex: 1 }]]);
    expect(status.failedChecks).toBe(0);
  });

  it('schedules checks every checkInterval and extensions after the bake', () => {
    let s = progressing();
    const offsets: number[] = [];
    const looks: number[] = [];
    for (let i = 0; i < 4; i++) {
      offsets.push(nextCheckOffsetMs(s, plan) / MIN);
      looks.push(nextDecisionLook(s, plan));
      s = tick(s, check('inconclusive'), plan, T0).status;
    }
    expect(offsets).toEqual([30, 60, 90, 120]);
    expect(looks).toEqual([0, 1, 2, 3]);
    const odd = validateCanaryPlan({ stepWeights: [5, 100], interval: '50m', checkInterval: '20m' });
    const s2 = startProgressing(initialStatus('ppo', 2, T0), odd, T0).status;
    expect(checksPerBake(s2, odd)).toBe(3);
    expect([0, 1, 2, 3].map((n) => nextCheckOffsetMs({ ...s2, stepChecks: n }, odd) / MIN)).toEqual([20, 40, 50, 70]);
  });

  it('asks for superiority on the last step with champion traffic only', () => {
    const s = progressing();
    expect([0, 1, 2, 3].map((i) => comparisonFor({ ...s, stepIndex: i }, plan))).toEqual(['non-inferiority', 'non-inferiority', 'superiority', 'none']);
    const noFull = validateCanaryPlan({ stepWeights: [10, 50] });
    expect([0, 1].map((i) => comparisonFor({ ...s, stepIndex: i }, noFull))).toEqual(['non-inferiority', 'superiority']);
  });

  it('shadow stage: passes into the first step, skips or fails without data', () => {
    const shadowPlan = validateCanaryPlan({ interval: '1h', checkInterval: '1h', shadow: { enabled: true, interval: '1h' } });
    const shadow: CanaryStatus = { ...initialStatus('ppo', 2, T0), phase: 'Shadow', stepStartedAt: new Date(T0).toISOString() };
    expect(tick(shadow, check('pass'), shadowPlan, T0).actions).toEqual([{ type: 'setWeight', weight: 5, stepIndex: 0 }]);
    const missing = check('inconclusive', { missingData: true, reasons: ['no shadow-logged decisions'] });
    const skipped = tick(shadow, missing, shadowPlan, T0);
    expect(skipped.actions).toEqual([{ type: 'setWeight', weight: 5, stepIndex: 0 }]);
    expect(skipped.status.history.map((h) => h.event)).toContain('shadow-skipped');
    const strict = { ...shadowPlan, shadow: { ...shadowPlan.shadow, onMissingData: 'fail' as const } };
    expect(tick(shadow, missing, strict, T0).actions).toEqual([{ type: 'rollback', reason: 'shadow stage without data: no shadow-logged decisions' }]);
  });

  it('promote signal skips the remaining steps and says so', () => {
    const r = promoteRequested(progressing(), 'cli:alice', T0);
    expect(r.actions).toEqual([{ type: 'promote', reason: 'promote requested by cli:alice' }]);
    expect(r.status.phase).toBe('Promoting');
    expect(r.status.history.find((h) => h.event === 'promote-requested')?.detail).toBe('by cli:alice: remaining steps skipped (at 5%, step 1)');
  });

  it('refuses a check outside Shadow/Progressing', () => {
    expect(() => tick(initialStatus('ppo', 2, T0), check('pass'), plan, T0)).toThrow('tick: a check arrived in phase Initializing');
  });

  it('waits for confirm-promotion (WaitingPromotion): checks can only roll back; the phase is entered once', () => {
    const promoting = run(progressing(), ['pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass', 'pass']).status;
    expect(promoting.phase).toBe('Promoting');
    let s = awaitConfirmation(promoting, 'WaitingPromotion', 'release-gate', 'HTTP 403', T0);
    s = awaitConfirmation(s, 'WaitingPromotion', 'release-gate', 'HTTP 409', T0);
    expect(s.phase).toBe('WaitingPromotion');
    expect(s.message).toBe('waiting for the confirm-promotion webhook release-gate to answer 2xx (last: HTTP 409)');
    expect(s.history.filter((h) => h.event === 'phase').map((h) => h.detail).at(-1)).toBe('Promoting → WaitingPromotion: confirm-promotion webhook release-gate did not confirm');
    expect(s.history.filter((h) => h.detail.includes('WaitingPromotion'))).toHaveLength(1);
    // passing and inconclusive checks keep it waiting; they never advance or promote
    for (const o of ['pass', 'inconclusive'] as const) {
      const r = tick(s, check(o, { decisionLook: true }), plan, T0);
      expect(r.actions).toEqual([]);
      expect(r.status).toMatchObject({ phase: 'WaitingPromotion', iterations: s.iterations + 1 });
    }
    const once = tick(s, check('fail'), plan, T0);
    expect(once.actions).toEqual([]);
    const twice = tick(once.status, check('fail'), plan, T0);
    expect(twice.actions).toEqual([{ type: 'rollback', reason: '2 failed checks (threshold 2); last: fail because fixture' }]);
    const breach = tick(s, check('fail', { breach: true, reasons: ['burning'] }), plan, T0);
    expect(breach.actions).toEqual([{ type: 'rollback', reason: 'breach: burning' }]);
  });

  it('counts a failed pre-rollout webhook as a failed check, rolling back at the threshold', () => {
    const s0 = initialStatus('ppo', 2, T0);
    const one = preRolloutFailed(s0, plan, 'smoke: HTTP 500', T0);
    expect(one.actions).toEqual([]);
    expect(one.status).toMatchObject({ failedChecks: 1, phase: 'Initializing', message: 'pre-rollout webhook failed: smoke: HTTP 500' });
    const two = preRolloutFailed(one.status, plan, 'smoke: HTTP 500', T0);
    expect(two.actions).toEqual([{ type: 'rollback', reason: 'pre-rollout webhook failed 2 time(s) (threshold 2); last: smoke: HTTP 500' }]);
  });

  it('numbers history entries so the event webhook gets each one once, even after the list is trimmed', () => {
    let s = initialStatus('ppo', 2, T0);
    expect(eventsSince(s, 0).map((e) => [e.seq, e.entry.event])).toEqual([[1, 'started']]);
    for (let i = 0; i < 250; i++) s = record(s, T0, 'x', String(i));
    expect(s.history).toHaveLength(200);
    expect(s.eventSeq).toBe(251);
    const tail = eventsSince(s, 248);
    expect(tail.map((e) => [e.seq, e.entry.detail])).toEqual([[249, '247'], [250, '248'], [251, '249']]);
    expect(eventsSince(s, 251)).toEqual([]);
  });
});
