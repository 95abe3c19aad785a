import { MedianStoppingRule, SuccessiveHalving } from './early-stopping';

describe('MedianStoppingRule', () => {
  const completed = [[1, 2, 3, 4], [2, 3, 4, 5], [0.5, 1, 1.5, 2]]; // running averages at s = 2: 1.5, 2.5, 0.75 → median 1.5
  const rule = new MedianStoppingRule({ direction: 'maximize' });

  it('stops a trial whose best so far is below the median of the completed trials’ running averages', () => {
    expect(rule.shouldStop([1, 1.4], completed)).toBe(true);
    expect(rule.shouldStop([1, 1.6], completed)).toBe(false);
    // minimising: the best so far is the smallest value; 1 < 1.5 continues, 1.6 > 1.5 stops
    expect(new MedianStoppingRule({ direction: 'minimize' }).shouldStop([1, 1.6], completed)).toBe(false);
    expect(new MedianStoppingRule({ direction: 'minimize' }).shouldStop([1.6, 1.7], completed)).toBe(true);
  });

  it('waits for the grace period and for enough completed trials', () => {
    expect(new MedianStoppingRule({ direction: 'maximize', gracePeriod: 3 }).shouldStop([0, 0], completed)).toBe(false);
    expect(rule.shouldStop([0, 0], completed.slice(0, 2))).toBe(false);
    expect(() => new MedianStoppingRule({ direction: 'maximize', gracePeriod: 0 })).toThrow('gracePeriod is 0, expected an integer >= 1');
  });
});

describe('SuccessiveHalving', () => {
  it('has rungs at r_min η^k', () => {
    const sha = new SuccessiveHalving({ direction: 'minimize', minResource: 2, reductionFactor: 3 });
    expect([1, 2, 3, 6, 12, 18, 54].map((s) => sha.rungOf(s))).toEqual([-1, 0, -1, 1, -1, 2, 3]);
  });

  it('keeps the top ⌊n/η⌋ at a rung (at least one) and lets trials between rungs run', () => {
    const sha = new SuccessiveHalving({ direction: 'minimize', minResource: 1, reductionFactor: 3 });
    const others = [[5], [4], [3], [6], [7], [8], [9], [2]];
    // 9 values at rung 0 with this one: the best ⌊9/3⌋ = 3 continue
    expect(sha.shouldStop([2.5], others)).toBe(false); // 2, 2.5, 3: third best
    expect(sha.shouldStop([3.5], others)).toBe(false); // 2, 3, 3.5
    expect(sha.shouldStop([4.5], others)).toBe(true); // 2, 3, 4 go on
    expect(sha.shouldStop([100], [])).toBe(false); // the first trial at a rung always continues
    expect(sha.shouldStop([100, 100], others)).toBe(false); // step 2 is not a rung
    expect(new SuccessiveHalving({ direction: 'maximize' }).shouldStop([3.5], others)).toBe(true); // maximising: top 3 are 9, 8, 7
  });
});
