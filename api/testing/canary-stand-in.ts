/**
 * Stand-in activities for the real canaryPromotion workflow in the API's and the console's integration
 * tests (as in workflows/canaryPromotion.int.test.ts): the API only starts, signals and queries the
 * workflow, so its activities answer at once and record the rollbacks. With a plan whose checkInterval is
 * an hour the canary stays at its first step while a test drives it.
 */
import { validateCanaryPlan } from '../../activities/canary/plan-config';
import type { CheckResult } from '../../canary/status';
import type { CanaryActivities, CheckInput, RollbackInput } from '../../contracts/canary';

/**
 * A check whose gates pass (error rate, latency) with a reward delta and its interval; `pass` decides the
 * outcome (`inconclusive` otherwise: at a decision look the step is extended instead of advanced).
 */
export function standInCheck(input: CheckInput, pass: boolean): CheckResult {
  const now = new Date().toISOString();
  return {
    outcome: pass ? 'pass' : 'inconclusive',
    breach: false,
    reasons: pass ? [] : ['reward delta interval still includes the tolerance (stand-in)'],
    at: now,
    window: { from: input.from, to: now },
    samples: { champion: 950, canary: 50 },
    metrics: [
      { name: 'error_rate', value: 0.002, max: 0.01, ok: true, source: 'stand-in' },
      { name: 'latency_p99_ms', value: 41, max: 80, ok: true, source: 'stand-in' },
    ],
    delta: { estimate: 0.031, ci95: { lower: 0.004, upper: 0.058 }, lower: 0.002, upper: 0.06, look: input.decisionLook, informationFraction: null, nominalAlpha: 0.05, comparison: input.comparison, tolerance: 0.02 },
    burnRate: [],
    decisionLook: input.decisionLook > 0,
  };
}

/** `check`: the canaryCheck stand-in (default: throws, for plans whose first check is never due). */
export function standInCanaryActivities(rollbacks: RollbackInput[], check?: (input: CheckInput) => CheckResult): CanaryActivities {
  return {
    async canaryInitialize(input) {
      return { plan: validateCanaryPlan(input.plan ?? {}, 'input.plan'), championVersion: 1, generation: 2 };
    },
    async canarySetWeight() {
      return { generation: 3, changed: true };
    },
    async canaryShadow() {
      return { generation: 3, changed: false };
    },
    async canaryOpeGate() {
      throw new Error('the plans of these tests do not enable the OPE gate');
    },
    async canaryCheck(input) {
      if (check !== undefined) return check(input);
      throw new Error('no check is due within the test (checkInterval 1h)');
    },
    async canaryRollback(input) {
      rollbacks.push(input);
      return { generation: 4, restoredChampion: null };
    },
    async canaryPromote() {
      return { generation: 5, previousChampion: 1 };
    },
    async canaryWebhook() {
      return { ok: true, status: 200, ms: 1, error: null };
    },
  };
}
