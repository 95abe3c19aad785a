/**
 * Learners on simulated problems (R-ONLINE-REGRET): < 10% cumulative regret against the optimal
 * policy over 50,000 rounds, and a cost-aware selector that cuts cost by ≥ 30% against always
 * choosing the highest-quality arm while keeping ≥ 98% of its quality.
 */
import { Rng } from '../rng';
import {
  BanditPolicy, BetaThompsonSampling, costAwareReward, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB, paretoFrontier,
} from '.';

const T = 50_000;

/**
 * A linear contextual problem: d = 8 features (a bias and 7 uniform ones), 5 arms whose expected
 * reward is xᵀθ_a with θ_a drawn once, observed with Gaussian noise (sd 0.2), so which arm is best
 * changes with the context.
 */
function linearProblem(seed: number) {
  const rng = new Rng(seed);
  const d = 8, K = 5;
  const theta = Array.from({ length: K }, () => [0.35, ...Array.from({ length: d - 1 }, () => 0.15 * rng.normal())]);
  return {
    d, K,
    context: (env: Rng) => [1, ...Array.from({ length: d - 1 }, () => env.uniform())],
    mean: (x: number[], a: number) => x.reduce((s, xi, i) => s + xi * theta[a][i], 0),
  };
}

/** Plays `policy` (or uniform-random when null) for T rounds; returns regret / optimal reward. */
function relativeRegret(policy: BanditPolicy | null, seed: number): number {
  const p = linearProblem(seed);
  const env = new Rng(seed + 1);
  const rng = new Rng(seed + 2);
  let optimal = 0, regret = 0;
  let minPropensity = 1;
  for (let t = 0; t < T; t++) {
    const x = p.context(env);
    const means = Array.from({ length: p.K }, (_, a) => p.mean(x, a));
    const best = Math.max(...means);
    let arm: number;
    if (policy) {
      const dec = policy.select(x, rng);
      arm = dec.arm;
      minPropensity = Math.min(minPropensity, dec.propensity);
    } else {
      arm = rng.int(p.K);
    }
    policy?.update(x, arm, means[arm] + 0.2 * env.normal());
    optimal += best;
    regret += best - means[arm];
  }
  expect(minPropensity).toBeGreaterThan(0);
  return regret / optimal;
}

describe('cumulative regret over 50,000 rounds', () => {
  it('is far above 10% for a uniformly random policy (the problem is not trivial)', () => {
    expect(relativeRegret(null, 100)).toBeGreaterThan(0.2);
  });

  it('is below 10% of the optimal policy reward for LinUCB', () => {
    const r = relativeRegret(new LinUCB({ nArms: 5, d: 8, alpha: 1 }), 100);
    expect(r).toBeLessThan(0.1);
  });

  it('is below 10% for linear Thompson sampling', () => {
    const r = relativeRegret(new LinearThompsonSampling({ nArms: 5, d: 8, v: 0.2, propensityDraws: 1 }), 100);
    expect(r).toBeLessThan(0.1);
  });

  it('is below 10% for ε-greedy LinUCB (ε = 0.02), whose every decision has propensity ≥ ε/K', () => {
    const r = relativeRegret(new EpsilonGreedy(new LinUCB({ nArms: 5, d: 8, alpha: 0.5 }), { epsilon: 0.02 }), 100);
    expect(r).toBeLessThan(0.1);
  });
});

describe('A/B/n prompt variants (non-contextual Thompson sampling)', () => {
  /** Plays T rounds of a K-armed problem; returns regret / optimal reward and the best arm's share. */
  function play(policy: BanditPolicy, means: number[], draw: (mean: number, env: Rng) => number, rounds: number) {
    const env = new Rng(31), rng = new Rng(32);
    const best = Math.max(...means);
    let regret = 0, bestPulls = 0;
    for (let t = 0; t < rounds; t++) {
      const { arm } = policy.select(undefined, rng);
      policy.update(undefined, arm, draw(means[arm], env));
      regret += best - means[arm];
      if (means[arm] === best) bestPulls++;
    }
    return { relativeRegret: regret / (best * rounds), bestShare: bestPulls / rounds };
  }

  it('Beta–Bernoulli TS finds the best of five thumbs-up rates (0.30 … 0.40)', () => {
    const r = play(new BetaThompsonSampling({ nArms: 5, propensityDraws: 1 }), [0.3, 0.33, 0.4, 0.36, 0.31], (m, env) => (env.uniform() < m ? 1 : 0), 20000);
    expect(r.relativeRegret).toBeLessThan(0.05);
    expect(r.bestShare).toBeGreaterThan(0.8);
  });

  it('Gaussian (Normal–Gamma) TS finds the best of five judge-score means under noise sd 0.5', () => {
    const r = play(new GaussianThompsonSampling({ nArms: 5, propensityDraws: 1 }), [1.0, 1.1, 1.3, 1.2, 0.9], (m, env) => m + 0.5 * env.normal(), 20000);
    expect(r.relativeRegret).toBeLessThan(0.05);
    expect(r.bestShare).toBeGreaterThan(0.8);
  });
});

/**
 * LLM model selection: four models (large → tiny) with a per-call cost, three task types and a
 * prompt length. Quality depends on task type and length; cost grows with length. The large model
 * is the highest quality on every context, but on simple tasks the small models are nearly as good.
 */
const models = [
  { name: 'large', cost: 1.0 },
  { name: 'medium', cost: 0.3 },
  { name: 'small', cost: 0.08 },
  { name: 'tiny', cost: 0.02 },
];
const quality = [
  // simple, moderate, complex
  [0.9, 0.88, 0.85],
  [0.895, 0.87, 0.78],
  [0.89, 0.8, 0.65],
  [0.8, 0.6, 0.4],
];
const taskMix = [0.5, 0.3, 0.2];

function modelSelection(env: Rng) {
  const task = env.categorical(taskMix);
  const len = env.uniform();
  const x = [1, task === 0 ? 1 : 0, task === 1 ? 1 : 0, task === 2 ? 1 : 0, len];
  const q = models.map((_, a) => quality[a][task] - 0.05 * len);
  const c = models.map((m) => m.cost * (0.5 + len));
  return { x, q, c };
}

describe('cost-aware model selection', () => {
  it('cuts cost by ≥ 30% at ≥ 98% of the quality of always choosing the highest-quality model', () => {
    const lambda = 0.05;
    const learner = new EpsilonGreedy(new LinUCB({ nArms: 4, d: 5, alpha: 0.5 }), { epsilon: 0.02 });
    const env = new Rng(7), rng = new Rng(8);
    let qBest = 0, cBest = 0, qLearner = 0, cLearner = 0;
    for (let t = 0; t < T; t++) {
      const { x, q, c } = modelSelection(env);
      const best = q.indexOf(Math.max(...q));
      qBest += q[best];
      cBest += c[best];
      const { arm } = learner.select(x, rng);
      const observedQuality = q[arm] + 0.1 * env.normal(); // a noisy judge score
      learner.update(x, arm, costAwareReward(observedQuality, c[arm], lambda));
      qLearner += q[arm];
      cLearner += c[arm];
    }
    const costCut = 1 - cLearner / cBest;
    const qualityKept = qLearner / qBest;
    expect(costCut).toBeGreaterThanOrEqual(0.3);
    expect(qualityKept).toBeGreaterThanOrEqual(0.98);
  });

  it('always picks on the Pareto frontier of (quality, cost) whatever λ', () => {
    // Average (quality, cost) per model over the task mix at len = 0.5.
    const points = models.map((m, a) => ({
      quality: taskMix.reduce((s, w, k) => s + w * (quality[a][k] - 0.025), 0),
      cost: m.cost,
    }));
    points.push({ quality: 0.7, cost: 0.5 }); // a dominated option: costlier and worse than medium
    const frontier = paretoFrontier(points);
    expect(frontier).toEqual([3, 2, 1, 0]);
    for (const lambda of [0, 0.01, 0.05, 0.2, 1, 10]) {
      const r = points.map((p) => costAwareReward(p.quality, p.cost, lambda));
      expect(frontier).toContain(r.indexOf(Math.max(...r)));
    }
  });
});

describe('costAwareReward and paretoFrontier', () => {
  it('computes quality − λ·cost and rejects bad input', () => {
    expect(costAwareReward(0.9, 2, 0.1)).toBeCloseTo(0.7, 15);
    expect(() => costAwareReward(0.9, Number.NaN, 0.1)).toThrow('costAwareReward: cost must be a finite number, got NaN');
    expect(() => costAwareReward(0.9, 1, -1)).toThrow('costAwareReward: lambda must be >= 0, got -1');
  });

  it('keeps exactly the non-dominated points, duplicates included', () => {
    const pts = [
      { quality: 0.5, cost: 1 }, // dominated by 2
      { quality: 0.9, cost: 3 },
      { quality: 0.6, cost: 1 },
      { quality: 0.6, cost: 1 }, // duplicate of 2
      { quality: 0.9, cost: 4 }, // dominated by 1 (same quality, costlier)
      { quality: 0.2, cost: 0 },
    ];
    expect(paretoFrontier(pts)).toEqual([5, 2, 3, 1]);
    expect(paretoFrontier([])).toEqual([]);
    expect(() => paretoFrontier([{ quality: 1, cost: Number.NaN }])).toThrow('paretoFrontier: points[0] must have finite quality and cost');
  });
});
