import { DirectMethod } from './dm';
import { DoublyRobust } from './dr';
import { DoublyRobustWithShrinkage } from './dr-os';
import { InverseProbabilityWeighting } from './ipw';
import { SelfNormalizedDoublyRobust } from './sndr';
import { SelfNormalizedInverseProbabilityWeighting } from './snipw';
import { SwitchDoublyRobust } from './switch-dr';
import { evaluatePolicy, makeEstimator, ESTIMATOR_NAMES } from './estimators';
import { actionArray, type OpeInputs } from './types';

/**
 * Three rounds, two actions, hand-computed:
 *   w = π_e(a_i|x_i)/π_b = [0.2/0.5, 0.4/0.25, 0.5/0.8] = [0.4, 1.6, 0.625]
 *   q̂(x_i, π_e) = [0.2·0.3 + 0.8·0.7, 0.6·0.1 + 0.4·0.5, 0.5·1.0 + 0.5·1.5] = [0.62, 0.26, 1.25]
 *   q̂(x_i, a_i) = [0.3, 0.5, 1.5];  r − q̂(x_i, a_i) = [0.7, 0.5, 0.5]
 */
const fixture = (): OpeInputs => ({
  reward: Float64Array.from([1, 1, 2]),
  action: Int32Array.from([0, 1, 1]),
  pscore: Float64Array.from([0.5, 0.25, 0.8]),
  actionDist: actionArray([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]]),
  estimatedRewardsByRegModel: actionArray([[0.3, 0.7], [0.1, 0.5], [1.0, 1.5]]),
});

const rounds = (xs: Float64Array) => Array.from(xs);
function expectRounds(actual: Float64Array, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 12));
}

describe('estimators on a hand-computed fixture', () => {
  it('IPW: r·w, and r·min(λ, w) when clipped', () => {
    expectRounds(new InverseProbabilityWeighting().roundRewards(fixture()), [0.4, 1.6, 1.25]);
    expect(new InverseProbabilityWeighting().estimatePolicyValue(fixture())).toBeCloseTo(3.25 / 3, 12);
    expectRounds(new InverseProbabilityWeighting({ lambda: 1 }).roundRewards(fixture()), [0.4, 1.0, 1.25]);
  });

  it('SNIPW: r·w / mean(w)', () => {
    const meanW = (0.4 + 1.6 + 0.625) / 3;
    expectRounds(new SelfNormalizedInverseProbabilityWeighting().roundRewards(fixture()), [0.4 / meanW, 1.6 / meanW, 1.25 / meanW]);
    expect(new SelfNormalizedInverseProbabilityWeighting().estimatePolicyValue(fixture())).toBeCloseTo((0.4 * 1 + 1.6 * 1 + 0.625 * 2) / 2.625, 12);
  });

  it('DM: Σ_a π_e q̂', () => {
    expectRounds(new DirectMethod().roundRewards(fixture()), [0.62, 0.26, 1.25]);
    expect(new DirectMethod().estimatePolicyValue(fixture())).toBeCloseTo(2.13 / 3, 12);
  });

  it('DR: q̂(π_e) + w (r − q̂(a)), clipped at λ', () => {
    expectRounds(new DoublyRobust().roundRewards(fixture()), [0.62 + 0.4 * 0.7, 0.26 + 1.6 * 0.5, 1.25 + 0.625 * 0.5]);
    expectRounds(new DoublyRobust({ lambda: 1 }).roundRewards(fixture()), [0.62 + 0.4 * 0.7, 0.26 + 1 * 0.5, 1.25 + 0.625 * 0.5]);
  });

  it('SNDR: q̂(π_e) + w (r − q̂(a)) / mean(w)', () => {
    const m = 2.625 / 3;
    expectRounds(new SelfNormalizedDoublyRobust().roundRewards(fixture()), [0.62 + (0.4 * 0.7) / m, 0.26 + (1.6 * 0.5) / m, 1.25 + (0.625 * 0.5) / m]);
  });

  it('Switch-DR: drops the residual where w > λ; λ = ∞ is DR', () => {
    expectRounds(new SwitchDoublyRobust({ lambda: 1 }).roundRewards(fixture()), [0.62 + 0.4 * 0.7, 0.26, 1.25 + 0.625 * 0.5]);
    expect(rounds(new SwitchDoublyRobust().roundRewards(fixture()))).toEqual(rounds(new DoublyRobust().roundRewards(fixture())));
  });

  it('DR-os: shrinks w to λw/(w² + λ); λ = 0 is DM, λ = ∞ is DR', () => {
    const shrink = (w: number) => w / (w * w + 1);
    expectRounds(new DoublyRobustWithShrinkage({ lambda: 1 }).roundRewards(fixture()), [0.62 + shrink(0.4) * 0.7, 0.26 + shrink(1.6) * 0.5, 1.25 + shrink(0.625) * 0.5]);
    expectRounds(new DoublyRobustWithShrinkage().roundRewards(fixture()), [0.62, 0.26, 1.25]);
    expect(rounds(new DoublyRobustWithShrinkage({ lambda: Infinity }).roundRewards(fixture()))).toEqual(rounds(new DoublyRobust().roundRewards(fixture())));
  });

  it('reads the logged position of n × actions × positions inputs', () => {
    // Position 1 carries the fixture above; position 0 carries different numbers that must be ignored.
    const inputs: OpeInputs = {
      ...fixture(),
      actionDist: actionArray([[[1, 0.2], [0, 0.8]], [[1, 0.6], [0, 0.4]], [[0, 0.5], [1, 0.5]]]),
      estimatedRewardsByRegModel: actionArray([[[9, 0.3], [9, 0.7]], [[9, 0.1], [9, 0.5]], [[9, 1.0], [9, 1.5]]]),
      position: Int32Array.from([1, 1, 1]),
    };
    for (const name of ESTIMATOR_NAMES) {
      const est = makeEstimator(name, { lambda: 2, clip: 3 });
      expect(rounds(est.roundRewards(inputs))).toEqual(rounds(est.roundRewards(fixture())));
    }
  });

  it('SNIPW stays within the range of observed rewards (property over random data)', () => {
    let seed = 1;
    const next = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let trial = 0; trial < 50; trial++) {
      const n = 20;
      const dist: number[][] = [];
      const reward = new Float64Array(n), pscore = new Float64Array(n), action = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const p = next();
        dist.push([p, 1 - p]);
        action[i] = next() < 0.5 ? 0 : 1;
        pscore[i] = 0.05 + 0.9 * next();
        reward[i] = next() * 10 - 5;
      }
      const v = new SelfNormalizedInverseProbabilityWeighting().estimatePolicyValue({ reward, action, pscore, actionDist: actionArray(dist) });
      expect(v).toBeGreaterThanOrEqual(Math.min(...reward) - 1e-12);
      expect(v).toBeLessThanOrEqual(Math.max(...reward) + 1e-12);
    }
  });

  it('intervals come from the shared bootstrap: seeded, bracketing the point estimate', () => {
    const a = new DoublyRobust().estimateInterval(fixture(), { nBootstrapSamples: 2000, randomState: 3 });
    const b = new DoublyRobust().estimateInterval(fixture(), { nBootstrapSamples: 2000, randomState: 3 });
    expect(a).toEqual(b);
    expect(a.value).toBeCloseTo(3.5225 / 3, 12);
    expect(a.lower).toBeLessThan(a.value);
    expect(a.upper).toBeGreaterThan(a.value);
    // The bootstrap means are means of the three per-round values: bounded by their min and max.
    expect(a.lower).toBeGreaterThanOrEqual(0.9 - 1e-12);
    expect(a.upper).toBeLessThanOrEqual(1.5625 + 1e-12);
  });

  it('evaluatePolicy runs the chosen estimators and reports n_rounds', () => {
    const report = evaluatePolicy(fixture(), { estimators: ['ipw', 'dm'], nBootstrapSamples: 500 });
    expect(report.n_rounds).toBe(3);
    expect(Object.keys(report.estimates)).toEqual(['ipw', 'dm']);
    expect(report.estimates.ipw!.value).toBeCloseTo(3.25 / 3, 12);
    expect(report.estimates.dm!.value).toBeCloseTo(0.71, 12);
    expect(report.fitted_reward_model).toBe(false);
  });
});
