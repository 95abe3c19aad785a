/**
 * Statistical behaviour on a synthetic contextual bandit with a known true value (see
 * `synthetic.ts`): 200 seeded repetitions of n = 1,000 logged rounds each. To keep the test fast the
 * bootstrap uses 1,000 resamples here (the default is 10,000). Takes a few seconds.
 */
import { makeSyntheticBandit, sampleLoggedData, trueValue } from './synthetic';
import { DoublyRobust } from './dr';
import { InverseProbabilityWeighting } from './ipw';
import { RegressionModel } from './regression-model';
import { SelfNormalizedInverseProbabilityWeighting } from './snipw';

const REPS = 200;
const N = 1000;
const bandit = makeSyntheticBandit(2024);
const truth = trueValue(bandit, 200_000, 99);

describe('OPE on a synthetic bandit with a known policy value', () => {
  const covered = { ipw: 0, snipw: 0, dr: 0 };
  const sqErr = { ipw: 0, dr: 0, drTrueQ: 0, dm: 0 };
  beforeAll(() => {
    for (let rep = 0; rep < REPS; rep++) {
      const { inputs, context, trueQ } = sampleLoggedData(bandit, N, 1000 + rep);
      const qHat = new RegressionModel({ nActions: bandit.nActions, alpha: 1 }).fitPredict(context, inputs.action!, inputs.reward!, undefined, { nFolds: 5, randomState: rep });
      const withModel = { ...inputs, estimatedRewardsByRegModel: qHat };
      const boot = { nBootstrapSamples: 1000, randomState: rep };
      const ipw = new InverseProbabilityWeighting().estimateInterval(inputs, boot);
      const snipw = new SelfNormalizedInverseProbabilityWeighting().estimateInterval(inputs, boot);
      const dr = new DoublyRobust().estimateInterval(withModel, boot);
      if (ipw.lower <= truth && truth <= ipw.upper) covered.ipw++;
      if (snipw.lower <= truth && truth <= snipw.upper) covered.snipw++;
      if (dr.lower <= truth && truth <= dr.upper) covered.dr++;
      sqErr.ipw += (ipw.value - truth) ** 2;
      sqErr.dr += (dr.value - truth) ** 2;
      sqErr.drTrueQ += (new DoublyRobust().estimatePolicyValue({ ...inputs, estimatedRewardsByRegModel: trueQ }) - truth) ** 2;
    }
  });

  it('the true value is a sensible probability and differs from the logging policy', () => {
    expect(truth).toBeGreaterThan(0.3);
    expect(truth).toBeLessThan(0.95);
  });

  it('95% intervals of IPW, SNIPW and DR cover the truth in at least 90% of 200 repetitions', () => {
    expect(covered.ipw / REPS).toBeGreaterThanOrEqual(0.9);
    expect(covered.snipw / REPS).toBeGreaterThanOrEqual(0.9);
    expect(covered.dr / REPS).toBeGreaterThanOrEqual(0.9);
  });

  it('DR has lower mean squared error than IPW with a good reward model (cross-fitted ridge, and the true q)', () => {
    expect(sqErr.dr).toBeLessThan(sqErr.ipw);
    expect(sqErr.drTrueQ).toBeLessThan(0.5 * sqErr.ipw);
  });
});
