import loadHighs from 'highs';
import { Rng } from '../rng';
import { type AllocationProblem, solveBudgetAllocation } from './budget-allocation';
import { toCplexLp } from './linear-program';
import type { LpSolver } from './solver';

let highs: LpSolver;
beforeAll(async () => {
  highs = await loadHighs();
});

/** A random instance: S segments × M models, budget between the cheapest and the best allocation. */
function instance(seed: number, S: number, M: number, options: { floors?: boolean; unavailable?: boolean } = {}): AllocationProblem {
  const rng = new Rng(seed);
  const models = Array.from({ length: M }, (_, m) => ({ name: `model-${m}` }));
  const modelQuality = models.map(() => 0.5 + 0.4 * rng.uniform());
  const modelCost = modelQuality.map((q) => 1e-4 * Math.exp(8 * (q - 0.5)) * (0.5 + rng.uniform()));
  const segments = Array.from({ length: S }, (_, s) => ({ name: `tenant-${s % 3}/task-${s}`, demand: Math.round(1000 + 99000 * rng.uniform()) }));
  const quality = segments.map(() => modelQuality.map((q) => Math.min(1, Math.max(0, q + 0.1 * (rng.uniform() - 0.5)))));
  const costPerRequest = segments.map(() => modelCost.map((c) => c * (0.8 + 0.4 * rng.uniform())));
  const available = options.unavailable ? segments.map(() => models.map((_, m) => m === 0 || rng.uniform() > 0.2)) : undefined;
  let cheapest = 0;
  let dearest = 0;
  for (const [s, seg] of segments.entries()) {
    const idx = models.map((_, m) => m).filter((m) => !available || available[s][m]);
    cheapest += seg.demand * Math.min(...idx.map((m) => costPerRequest[s][m]));
    dearest += seg.demand * Math.max(...idx.map((m) => costPerRequest[s][m]));
  }
  const budget = cheapest + (0.3 + 0.3 * rng.uniform()) * (dearest - cheapest);
  if (options.floors) {
    for (const [s, seg] of segments.entries()) {
      if (rng.uniform() < 0.5) continue;
      const idx = models.map((_, m) => m).filter((m) => !available || available[s][m]);
      const qs = idx.map((m) => quality[s][m]);
      (seg as { qualityFloor?: number }).qualityFloor = Math.min(...qs) + 0.5 * (Math.max(...qs) - Math.min(...qs));
    }
  }
  return { segments, models, quality, costPerRequest, budget, available };
}

/** Constraint check straight from the problem's definition. */
function expectFeasible(p: AllocationProblem, shares: Record<string, Record<string, number>>, tolerance: number) {
  let cost = 0;
  for (const [s, seg] of p.segments.entries()) {
    let total = 0;
    let q = 0;
    for (const [m, model] of p.models.entries()) {
      const x = shares[seg.name][model.name] ?? 0;
      expect(x).toBeGreaterThanOrEqual(-tolerance);
      if (p.available && !p.available[s][m]) expect(x).toBe(0);
      total += x;
      q += p.quality[s][m] * x;
      cost += seg.demand * p.costPerRequest[s][m] * x;
    }
    expect(Math.abs(total - 1)).toBeLessThanOrEqual(tolerance);
    if (seg.qualityFloor !== undefined) expect(q).toBeGreaterThanOrEqual(seg.qualityFloor - tolerance);
  }
  for (const m of p.models) if ((m.fixedCost ?? 0) > 0 && p.segments.some((seg) => (shares[seg.name][m.name] ?? 0) > 0)) cost += m.fixedCost!;
  expect(cost).toBeLessThanOrEqual(p.budget * (1 + tolerance));
}

describe('solveBudgetAllocation (LP)', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('instance %i: feasible within 1e-9 and the dual objective equals the primal (strong duality)', (seed) => {
    const p = instance(seed, 12, 5, { floors: true, unavailable: seed % 2 === 0 });
    const a = solveBudgetAllocation(p, highs);
    expectFeasible(p, a.shares, 1e-9);
    // The dual, written from the header's program (not from the solver's model):
    //   min Σ_s π_s − Σ_s μ_s F_s + λ B   s.t.  π_s − μ_s q_sm + λ D_s c_sm ≥ D_s q_sm,  μ, λ ≥ 0.
    const { budget: lambda, floors, segments: pi } = a.shadowPrices;
    expect(lambda).toBeGreaterThanOrEqual(-1e-9);
    let dual = lambda * p.budget;
    for (const [s, seg] of p.segments.entries()) {
      const mu = floors[seg.name] ?? 0;
      expect(mu).toBeGreaterThanOrEqual(-1e-9);
      dual += pi[seg.name] - mu * (seg.qualityFloor ?? 0);
      for (let m = 0; m < p.models.length; m++) {
        if (p.available && !p.available[s][m]) continue;
        const slack = pi[seg.name] - mu * p.quality[s][m] + lambda * seg.demand * p.costPerRequest[s][m] - seg.demand * p.quality[s][m];
        expect(slack).toBeGreaterThanOrEqual(-1e-9 * seg.demand);
      }
    }
    expect(Math.abs(dual - a.expectedQuality)).toBeLessThanOrEqual(1e-9 * a.expectedQuality);
    // with a budget strictly inside (cheapest, dearest) the budget binds and has a positive price
    expect(a.cost).toBeCloseTo(p.budget, 6);
    expect(lambda).toBeGreaterThan(0);
  });

  it('the budget shadow price is what one more unit of budget buys (finite difference)', () => {
    const p = instance(11, 10, 4);
    const a = solveBudgetAllocation(p, highs);
    const delta = 1e-3 * p.budget;
    const b = solveBudgetAllocation({ ...p, budget: p.budget + delta }, highs);
    expect((b.expectedQuality - a.expectedQuality) / delta).toBeCloseTo(a.shadowPrices.budget, 4);
  });

  it('a floor\'s shadow price is the quality lost per unit of floor raised (finite difference)', () => {
    const p = instance(12, 6, 4);
    // the segment furthest below its best model: a floor halfway up binds
    const free = solveBudgetAllocation(p, highs);
    const gap = p.segments.map((seg, s) => Math.max(...p.quality[s]) - free.segmentQuality[seg.name]);
    const k = gap.indexOf(Math.max(...gap));
    expect(gap[k]).toBeGreaterThan(0.02);
    const floor = free.segmentQuality[p.segments[k].name] + gap[k] / 2;
    const withFloor = { ...p, segments: p.segments.map((s, i) => (i === k ? { ...s, qualityFloor: floor } : s)) };
    const a = solveBudgetAllocation(withFloor, highs);
    const mu = a.shadowPrices.floors[p.segments[k].name];
    expect(mu).toBeGreaterThan(0);
    const delta = 1e-4;
    const b = solveBudgetAllocation({ ...withFloor, segments: withFloor.segments.map((s, i) => (i === k ? { ...s, qualityFloor: floor + delta } : s)) }, highs);
    expect((a.expectedQuality - b.expectedQuality) / delta).toBeCloseTo(mu, 3);
  });

  it('spends nothing beyond need: with a budget above the best allocation every segment gets its best model and λ = 0', () => {
    const p = instance(3, 5, 3);
    const a = solveBudgetAllocation({ ...p, budget: 1e9 }, highs);
    for (const [s, seg] of p.segments.entries()) {
      const best = p.models[p.quality[s].indexOf(Math.max(...p.quality[s]))].name;
      expect(a.shares[seg.name][best]).toBeCloseTo(1, 12);
    }
    expect(a.shadowPrices.budget).toBe(0);
  });

  it('an infeasible budget names the binding floors and the budget needed', () => {
    const models = [{ name: 'cheap' }, { name: 'good' }];
    const p: AllocationProblem = {
      segments: [
        { name: 'acme/chat', demand: 1000, qualityFloor: 0.85 },
        { name: 'acme/code', demand: 1000 },
        { name: 'beta/chat', demand: 1000, qualityFloor: 0.6 },
      ],
      models,
      quality: [[0.6, 0.9], [0.6, 0.9], [0.6, 0.9]],
      costPerRequest: [[0.001, 0.01], [0.001, 0.01], [0.001, 0.01]],
      budget: 5,
    };
    // acme/chat needs ≥ 5/6 of its traffic on "good": 1000·(1/6·0.001 + 5/6·0.01) ≈ 8.5; the others 1 each.
    expect(() => solveBudgetAllocation(p, highs)).toThrow(/budget 5 is below 10\.5, the cheapest allocation that meets the quality floors; binding floors: "acme\/chat" \(floor 0\.85/);
    expect(() => solveBudgetAllocation(p, highs)).not.toThrow(/beta\/chat/);
    expect(() => solveBudgetAllocation({ ...p, segments: [{ name: 'x', demand: 1, qualityFloor: 0.95 }], quality: [[0.6, 0.9]], costPerRequest: [[1, 1]] }, highs))
      .toThrow('quality floors no model can meet: segment "x" floor 0.95 > best available quality 0.9');
  });

  it.each([
    [{ budget: -1 }, 'budget is -1, expected a finite number >= 0'],
    [{ segments: [] }, 'segments is empty'],
    [{ quality: [[0.5]] }, 'quality[0] has 1 entries, expected 2 (one per model)'],
    [{ costPerRequest: [[0.1, Number.NaN]] }, 'costPerRequest[0][1] (segment "s", model "b") is NaN, expected a finite number >= 0'],
    [{ minShare: 1.5 }, 'minShare is 1.5, expected a number in (0, 1]'],
    [{ maxActiveModels: 0 }, 'maxActiveModels is 0, expected an integer >= 1'],
    [{ available: [[false, false]] }, 'available[0] (segment "s") allows no model'],
    [{ models: [{ name: 'a' }, { name: 'a' }] }, 'model name "a" appears twice'],
  ])('rejects bad input %#', (patch, message) => {
    const base: AllocationProblem = { segments: [{ name: 's', demand: 10 }], models: [{ name: 'a' }, { name: 'b' }], quality: [[0.5, 0.6]], costPerRequest: [[0.1, 0.2]], budget: 100 };
    expect(() => solveBudgetAllocation({ ...base, ...patch } as AllocationProblem, highs)).toThrow(message);
  });
});

describe('solveBudgetAllocation (MIP: minimum share, on/off per model)', () => {
  it('respects minShare and maxActiveModels, and matches brute force over model subsets', () => {
    const p = { ...instance(21, 6, 4, { floors: true }), minShare: 0.2, maxActiveModels: 2 };
    const a = solveBudgetAllocation(p, highs);
    expect(a.kind).toBe('mip');
    expect(a.activeModels.length).toBeLessThanOrEqual(2);
    expectFeasible(p, a.shares, 1e-9);
    for (const seg of p.segments) for (const x of Object.values(a.shares[seg.name])) expect(x).toBeGreaterThanOrEqual(0.2 - 1e-9);
    for (const seg of p.segments) for (const model of Object.keys(a.shares[seg.name])) expect(a.activeModels).toContain(model);
    // brute force: every pair of models, the min-share MIP restricted to it via availability
    let best = -Infinity;
    for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) {
      try {
        const r = solveBudgetAllocation({ ...p, maxActiveModels: undefined, available: p.segments.map(() => [0, 1, 2, 3].map((m) => m === i || m === j)) }, highs);
        best = Math.max(best, r.expectedQuality);
      } catch { /* this pair cannot meet the floors within budget */ }
    }
    expect(a.expectedQuality).toBeCloseTo(best, 6);
    expect(a.shadowPrices.budget).toBeGreaterThanOrEqual(0);
  });

  it('charges a model\'s fixed cost only when it is switched on', () => {
    const p: AllocationProblem = {
      segments: [{ name: 's', demand: 100 }],
      models: [{ name: 'base' }, { name: 'premium', fixedCost: 50 }],
      quality: [[0.6, 0.9]],
      costPerRequest: [[0.1, 0.1]],
      budget: 40,
    };
    const a = solveBudgetAllocation(p, highs);
    expect(a.activeModels).toEqual(['base']);
    expect(a.cost).toBeCloseTo(10, 9);
    const b = solveBudgetAllocation({ ...p, budget: 70 }, highs);
    expect(b.activeModels).toEqual(['premium']);
    expect(b.cost).toBeCloseTo(60, 9);
  });

  it('an on/off limit no allocation can meet within budget says which limits to relax', () => {
    // floors need the good model in one segment and the budget needs the cheap one in the other
    const p: AllocationProblem = {
      segments: [{ name: 'a', demand: 100, qualityFloor: 0.85 }, { name: 'b', demand: 1000 }],
      models: [{ name: 'cheap' }, { name: 'good' }],
      quality: [[0.6, 0.9], [0.6, 0.9]],
      costPerRequest: [[0.001, 0.01], [0.001, 0.01]],
      budget: 3,
      maxActiveModels: 1,
    };
    expect(() => solveBudgetAllocation({ ...p, maxActiveModels: undefined }, highs)).not.toThrow();
    expect(() => solveBudgetAllocation(p, highs)).toThrow('no allocation satisfies minShare unset and maxActiveModels 1 together with the floors, fixed costs and budget 3 (the LP without those limits is feasible); relax minShare or maxActiveModels');
  });
});

describe('toCplexLp', () => {
  it('writes the sections HiGHS reads, with exponents and signs', () => {
    expect(toCplexLp({ sense: 'minimize', objective: [{ variable: 'a', coefficient: 1e-7 }, { variable: 'b', coefficient: -2 }], rows: [{ name: 'r', terms: [{ variable: 'a', coefficient: 1 }], sense: '>=', rhs: 3 }], bounds: { b: { upper: 4 } }, binaries: ['c'] }))
      .toBe('Minimize\n obj: 1e-7 a - 2 b\nSubject To\n r: 1 a >= 3\nBounds\n b <= 4\nBinary\n c\nEnd');
    expect(() => toCplexLp({ sense: 'maximize', objective: [{ variable: '1x', coefficient: 1 }], rows: [] })).toThrow('variable name "1x" is not a valid LP name');
  });
});
