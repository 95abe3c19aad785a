import { regretEstimate } from './regret';

describe('regretEstimate', () => {
  it('computes the pseudo-regret against the best arm by hand', () => {
    // arm 0: 10 pulls, mean 0.5; arm 1: 30 pulls, mean 0.8; arm 2: never pulled.
    const r = regretEstimate([{ n: 10, rSum: 5, rSqSum: 3 }, { n: 30, rSum: 24, rSqSum: 20 }, { n: 0, rSum: 0, rSqSum: 0 }]);
    expect(r.rounds).toBe(40);
    expect(r.cumulativeReward).toBe(29);
    expect(r.bestArm).toBe(1);
    expect(r.bestArmMean).toBeCloseTo(0.8, 12);
    expect(r.regret).toBeCloseTo(10 * 0.3, 12);
    expect(r.regretRatio).toBeCloseTo(3 / 32, 12);
  });

  it('is zero without observations', () => {
    expect(regretEstimate([{ n: 0, rSum: 0, rSqSum: 0 }, { n: 0, rSum: 0, rSqSum: 0 }])).toMatchObject({ rounds: 0, regret: 0, bestArm: -1 });
  });
});
