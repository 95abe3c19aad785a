import { judgeOpeGate, type OpeEvaluationSummary } from './ope-gate';
import type { OpeGatePlan } from './plan';

const PLAN: OpeGatePlan = { enabled: true, windowMs: 3_600_000, estimator: null, tolerance: 0.02, alpha: 0.05, nBootstrap: 1000, minRounds: 100 };
const WINDOW = { from: '2026-01-01T00:00:00.000Z', to: '2026-01-01T01:00:00.000Z' };

function summary(candidate: { value: number; lower: number; upper: number }, extra: Partial<OpeEvaluationSummary> = {}): OpeEvaluationSummary {
  return {
    nRounds: 1000,
    logging: { value: 0.5, lower: 0.48, upper: 0.52 },
    estimates: { snipw: candidate, ipw: { value: 0.9, lower: 0.1, upper: 1.5 } },
    skippedEstimators: { dr: 'the joint action space has 720 actions (> maxJointActions 64)' },
    gate: { estimator: 'snipw' },
    reportUri: 'file:///r.json',
    evaluationId: 'e1',
    ...extra,
  };
}

describe('the canary OPE gate rule', () => {
  const judge = (plan: OpeGatePlan, result: OpeEvaluationSummary | null, error: string | null = null) => judgeOpeGate(plan, { result, error, workflowId: 'canary/m/ope/r', window: WINDOW });

  it('passes when the lower bound is above the champion value minus the tolerance, with the evaluation\'s own estimator by default', () => {
    const g = judge(PLAN, summary({ value: 0.55, lower: 0.49, upper: 0.6 }));
    expect(g).toMatchObject({ verdict: 'pass', estimator: 'snipw', candidate: { lower: 0.49 }, champion: { value: 0.5 }, rounds: 1000, reportUri: 'file:///r.json', opeEvaluationId: 'e1' });
    expect(g.reasons).toEqual(['snipw lower bound 0.4900 > champion 0.5000 − tolerance 0.0200 = 0.4800 on 1000 logged decisions']);
  });

  it('fails at the bar, below it, with too few rounds, with a skipped estimator, and when the evaluation failed', () => {
    expect(judge(PLAN, summary({ value: 0.5, lower: 0.48, upper: 0.52 })).verdict).toBe('fail');
    expect(judge(PLAN, summary({ value: 0.4, lower: 0.3, upper: 0.5 })).reasons[0]).toMatch(/^snipw estimate of v-candidate 0\.4000 \(95% CI \[0\.3000, 0\.5000\]\): lower bound not above the champion's value 0\.5000 − tolerance 0\.0200 = 0\.4800$/);
    expect(judge(PLAN, summary({ value: 0.6, lower: 0.55, upper: 0.65 }, { nRounds: 50 })).reasons).toEqual(['50 rewarded logged decisions in the window, the gate needs minRounds = 100']);
    expect(judge({ ...PLAN, estimator: 'dr' }, summary({ value: 0.6, lower: 0.55, upper: 0.65 })).reasons).toEqual(['estimator dr did not run: the joint action space has 720 actions (> maxJointActions 64)']);
    const failed = judge(PLAN, null, 'no rewarded decisions of deployment m in the window');
    expect(failed).toMatchObject({ verdict: 'fail', candidate: null, champion: null, rounds: 0, reasons: ['off-policy evaluation failed: no rewarded decisions of deployment m in the window'] });
  });
});
