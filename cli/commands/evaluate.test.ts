import type { OffPolicyEvaluationResult } from '../../contracts/off-policy-evaluation';
import { evaluateInput, humanResult } from './evaluate';

describe('autopilot evaluate', () => {
  const window = { from: '2025-03-01T00:00:00Z', to: '2025-03-02T00:00:00Z' };

  it('turns the arguments into the workflow input, the deployment defaulting to the model', () => {
    expect(evaluateInput('rag', '3', window)).toEqual({ deployment: 'rag', ...window, candidate: { model: 'rag', version: 3 } });
    expect(evaluateInput('rag', '3', {
      ...window, deployment: 'rag-eu', estimators: 'ipw, dr', gateEstimator: 'ipw', alpha: '0.1', nBootstrap: '2000', seed: '7',
      chunkSize: '10000', tolerance: '0.01', minImprovement: '0.02', clip: '50', lambda: '5', keepChunks: true,
    })).toEqual({
      deployment: 'rag-eu', ...window, candidate: { model: 'rag', version: 3 }, estimators: ['ipw', 'dr'], gateEstimator: 'ipw', alpha: 0.1,
      nBootstrap: 2000, seed: 7, chunkSize: 10000, tolerance: 0.01, minImprovement: 0.02, clip: 50, lambda: 5, keepChunks: true,
    });
  });

  it.each([
    ['rag', 'latest', window, '<version>: got "latest", expected a version number such as 3'],
    ['rag', '3', { to: window.to }, '--from: missing, expected the start of the window (ISO 8601, inclusive)'],
    ['rag', '3', { from: window.from }, '--to: missing, expected the end of the window (ISO 8601, exclusive)'],
    ['rag', '3', { ...window, from: 'monday' }, '--from: got "monday": expected an ISO 8601 time such as 2025-01-31T00:00:00Z'],
    ['rag', '3', { ...window, estimators: 'ipw,ips' }, '--estimators: got "ips": expected one of ipw, snipw, dm, dr, sndr, switch-dr, dr-os'],
    ['rag', '3', { ...window, alpha: 'five' }, '--alpha: got "five", expected a number'],
    ['rag', '3', { ...window, alpha: '2' }, '--alpha: got 2: expected a number in (0, 1), e.g. 0.05'],
    ['rag', '3', { ...window, chunkSize: '0' }, '--chunk-size: got 0: expected an integer in [1, 50000]'],
  ])('evaluate %s %s %j → %s', (model, version, flags, message) => {
    expect(() => evaluateInput(model, version, flags)).toThrow(message);
  });

  it('prints the verdict, each estimate with its interval and Δ, the gate marked, and the report URIs', () => {
    const iv = (value: number, lower: number, upper: number) => ({ value, lower, upper });
    const r = {
      workflowId: 'ope/rag/3/x', verdict: 'pass', reason: 'the lower bound of Δ [0.1000, 0.2000] is ≥ −tolerance = 0.0000',
      nRounds: 1000, roundsRead: 1002, chunks: 1, runs: 1, skipped: { no_propensity: 2 },
      logging: iv(0.5, 0.49, 0.51),
      estimates: { ipw: { ...iv(0.65, 0.6, 0.7), diff: iv(0.15, 0.1, 0.2) }, dr: { ...iv(0.66, 0.64, 0.68), diff: iv(0.16, 0.14, 0.18), diagnostics: { effectiveSampleSize: 87.25 } } },
      warnings: ['dr: effective sample size 87.3 of 1000 rounds (< 100; largest weight 40.0): a few rounds carry the estimate, its interval is not to be trusted'],
      skippedEstimators: { dm: 'too many actions' },
      gate: { estimator: 'dr', diff: iv(0.16, 0.14, 0.18), tolerance: 0, minImprovement: null, verdict: 'pass', reason: '' },
      reportUri: 'file:///r/report.json', csvUri: 'file:///r/estimates.csv', svgUri: 'file:///r/estimates.svg', evaluationId: 'e1',
    } as unknown as OffPolicyEvaluationResult;
    const out = humanResult(r, 'http://ui');
    expect(out).toMatch(/^offPolicyEvaluation ope\/rag\/3\/x: PASS\n/);
    expect(out).toContain('rounds: 1000 scored of 1002 rewarded decisions read, 1 chunk(s), 1 run(s); skipped {"no_propensity":2}');
    expect(out).toMatch(/ dr\* +0\.6600 +\[0\.6400, 0\.6800\] +0\.1600 +\[0\.1400, 0\.1800\] {2}87\.3\n/);
    expect(out).toContain('  warning: dr: effective sample size 87.3 of 1000 rounds');
    expect(out).toMatch(/ ipw +0\.6500/);
    expect(out).toContain('dm: not run (too many actions)');
    expect(out).toContain('report: file:///r/report.json');
  });
});
