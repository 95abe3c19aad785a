import { BetaThompsonSampling, EpsilonGreedy, LinUCB } from '.';

describe('expectedReward: the prediction a decision is calibrated on', () => {
  it('Beta–Bernoulli TS: the posterior mean (α₀ + Σr) / (α₀ + β₀ + n), by hand', () => {
    const ts = new BetaThompsonSampling({ nArms: 2, alpha0: 1, beta0: 1 });
    for (const r of [1, 1, 0]) ts.update(undefined, 0, r);
    expect(ts.expectedReward(undefined, 0)).toBeCloseTo(3 / 5, 12);
    expect(ts.expectedReward(undefined, 1)).toBeCloseTo(1 / 2, 12);
    // A prior worth 1000 trials at 0.9 keeps the mean near 0.9 whatever a few rewards say (a miscalibrated model).
    const stubborn = new BetaThompsonSampling({ nArms: 1, priors: [{ mean: 0.9, strength: 1000 }] });
    for (let i = 0; i < 10; i++) stubborn.update(undefined, 0, 0);
    expect(stubborn.expectedReward(undefined, 0)).toBeCloseTo(900 / 1010, 12);
    expect(() => ts.expectedReward(undefined, 2)).toThrow('arm must be an integer in [0, 1], got 2');
  });

  it('LinUCB: xᵀθ̂ without the bonus; an exploration wrapper answers its base learner\'s', () => {
    // λ = 1, d = 1, one observation x = 1, r = 2: A = 2, b = 2, θ̂ = 1 → xᵀθ̂ at x = 3 is 3.
    const lin = new LinUCB({ nArms: 2, d: 1, alpha: 5, lambda: 1 });
    lin.update([1], 0, 2);
    expect(lin.expectedReward([3], 0)).toBeCloseTo(3, 12);
    expect(lin.pointScores([3])[0]).toBeGreaterThan(3);
    expect(new EpsilonGreedy(lin, { epsilon: 0.1 }).expectedReward([3], 0)).toBeCloseTo(3, 12);
    expect(() => lin.expectedReward([1, 2], 0)).toThrow('context has 2 features, expected 1');
  });
});
