import { banditConstraintsFromAllocation } from './bandit-constraints';
import type { Allocation, AllocationProblem } from './budget-allocation';

const problem: AllocationProblem = {
  segments: [{ name: 'a', demand: 100 }, { name: 'b', demand: 300 }],
  models: [{ name: 'large' }, { name: 'small' }, { name: 'tiny' }],
  quality: [[0.9, 0.6, 0.1], [0.8, 0.7, 0.5]],
  costPerRequest: [[1, 1, 1], [1, 1, 1]],
  budget: 1,
  available: [[true, true, false], [true, true, true]],
};
const allocation = { shares: { a: { large: 0.25, small: 0.75 }, b: { large: 0.97, small: 0.03 } } } as unknown as Allocation;

describe('banditConstraintsFromAllocation', () => {
  it('caps each available model at its share + headroom, leaves out unavailable ones, and weights the priors by demand', () => {
    const c = banditConstraintsFromAllocation(problem, allocation, { segmentField: 'segment', headroom: 0.05, priorStrength: 4, unlisted: 'refuse' });
    expect(c.segments.field).toBe('segment');
    expect(c.segments.default).toBeUndefined();
    expect(c.segments.rules.a.arms).toEqual(['large', 'small']);
    expect(c.segments.rules.a.maxShare.large).toBeCloseTo(0.3, 15);
    expect(c.segments.rules.a.maxShare.small).toBeCloseTo(0.8, 15);
    // large: 0.97 + 0.05 ≥ 1 → uncapped; tiny: share 0 → the headroom.
    expect(c.segments.rules.b).toEqual({ arms: ['large', 'small', 'tiny'], maxShare: { small: 0.08, tiny: 0.05 } });
    expect(c.priors.large.mean).toBeCloseTo((100 * 0.9 + 300 * 0.8) / 400, 15);
    expect(c.priors.tiny).toEqual({ mean: 0.5, strength: 4 });
  });

  it('headroom 0 disallows models without a share; priorStrength 0 writes no priors; unlisted: unconstrained adds a default rule', () => {
    const c = banditConstraintsFromAllocation(problem, allocation, { segmentField: 's', headroom: 0, priorStrength: 0, unlisted: 'unconstrained' });
    expect(c.segments.rules.b.arms).toEqual(['large', 'small']);
    expect(c.priors).toEqual({});
    expect(c.segments.default).toEqual({});
    expect(() => banditConstraintsFromAllocation(problem, allocation, { segmentField: 's', headroom: 1.5, priorStrength: 0, unlisted: 'refuse' })).toThrow('headroom: got 1.5, expected a share in [0, 1]');
  });
});
