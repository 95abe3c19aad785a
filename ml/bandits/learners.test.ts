import { Rng } from '../rng';
import {
  BetaThompsonSampling, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB, learnerFromJSON, Softmax, softmax,
} from '.';
import { invertGaussJordan, unpackSymmetric } from './linalg';

/** Φ(z) by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7). */
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

describe('LinUCB', () => {
  it('matches a hand-computed two-step update and UCB', () => {
    const l = new LinUCB({ nArms: 2, d: 2, alpha: 1, lambda: 1 });
    l.update([1, 0], 0, 1); // A = [[2,0],[0,1]], b = [1,0], θ̂ = [0.5, 0]
    expect(l.thetaHat(0)).toEqual([0.5, 0]);
    l.update([1, 1], 0, 0); // A = [[3,1],[1,2]], A⁻¹ = [[.4,−.2],[−.2,.6]], b = [1,0], θ̂ = [.4, −.2]
    const th = l.thetaHat(0);
    expect(th[0]).toBeCloseTo(0.4, 12);
    expect(th[1]).toBeCloseTo(-0.2, 12);
    expect(Array.from(l.arms.ainv[0]).map((v) => +v.toFixed(12))).toEqual([0.4, -0.2, -0.2, 0.6]);
    // p_0([0,1]) = −0.2 + √0.6, p_1([0,1]) = 0 + √1 → arm 1, propensity 1.
    const p = l.pointScores([0, 1]);
    expect(p[0]).toBeCloseTo(-0.2 + Math.sqrt(0.6), 12);
    expect(p[1]).toBeCloseTo(1, 12);
    const dec = l.select([0, 1], new Rng(1));
    expect(dec).toMatchObject({ arm: 1, propensity: 1 });
    expect(dec.scores[0]).toBeCloseTo(-0.2 + Math.sqrt(0.6), 12);
  });

  it('splits ties uniformly and reports 1/k as the propensity', () => {
    const l = new LinUCB({ nArms: 4, d: 3 });
    const rng = new Rng(5);
    const counts = [0, 0, 0, 0];
    const propensities = new Set<number>();
    for (let i = 0; i < 4000; i++) {
      const dec = l.select([1, 0.5, 0.2], rng);
      propensities.add(dec.propensity);
      counts[dec.arm]++;
    }
    expect([...propensities]).toEqual([0.25]);
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(120);
  });

  it('keeps A⁻¹ equal to the direct inverse of λI + Σ x xᵀ over many updates', () => {
    const rng = new Rng(9);
    const d = 5;
    const l = new LinUCB({ nArms: 3, d, lambda: 0.7 });
    for (let t = 0; t < 500; t++) {
      const x = Array.from({ length: d }, () => rng.normal());
      l.update(x, t % 3, rng.uniform());
    }
    for (let a = 0; a < 3; a++) {
      const direct = invertGaussJordan(unpackSymmetric(l.getStats().arms[a].xx!, d, 0.7), d);
      for (let i = 0; i < d * d; i++) expect(Math.abs(l.arms.ainv[a][i] - direct[i])).toBeLessThan(1e-10);
    }
  });

  it('rejects bad configuration, contexts, arms and rewards with exact messages', () => {
    expect(() => new LinUCB({ nArms: 0, d: 2 })).toThrow('LinUCB: nArms must be a positive integer, got 0');
    expect(() => new LinUCB({ nArms: 2, d: 2, alpha: -1 })).toThrow('LinUCB: alpha must be a finite number >= 0, got -1');
    expect(() => new LinUCB({ nArms: 2, d: 2, lambda: 0 })).toThrow('LinUCB: lambda must be a finite number > 0, got 0');
    const l = new LinUCB({ nArms: 2, d: 2 });
    expect(() => l.update([1, 2, 3], 0, 1)).toThrow('LinUCB.update: context has 3 features, expected 2');
    expect(() => l.update([1, NaN], 0, 1)).toThrow('LinUCB.update: context[1] must be a finite number, got NaN');
    expect(() => l.update([1, 2], 2, 1)).toThrow('LinUCB.update: arm must be an integer in [0, 1], got 2');
    expect(() => l.update([1, 2], 0, Infinity)).toThrow('LinUCB.update: reward must be a finite number, got Infinity');
  });
});

describe('Beta–Bernoulli Thompson sampling', () => {
  it('counts successes and failures on top of the prior', () => {
    const l = new BetaThompsonSampling({ nArms: 2, alpha0: 1, beta0: 1 });
    for (const r of [1, 0, 1, 1]) l.update(undefined, 0, r);
    l.update(undefined, 1, 0.25); // fractional pseudo-count
    expect(l.posterior(0)).toEqual({ alpha: 4, beta: 2 });
    expect(l.posterior(1)).toEqual({ alpha: 1.25, beta: 1.75 });
    expect(l.posteriorMean(0)).toBeCloseTo(4 / 6, 15);
    expect(() => l.update(undefined, 0, 2)).toThrow('BetaThompsonSampling.statsDelta: reward must be in [0, 1] for Beta–Bernoulli TS, got 2');
  });

  it('serves the Monte-Carlo TS probability, matching P(Beta(4,2) > Beta(2,4)) = 113/126', () => {
    // P(X > Y) = ∫ f_X(x) F_Y(x) dx = 113/126 ≈ 0.896825 (polynomial integral; scipy.integrate.quad agrees).
    const l = new BetaThompsonSampling({ nArms: 2, propensityDraws: 20000 });
    l.setStats({ kind: 'beta-ts', d: 0, arms: [{ n: 4, rSum: 3, rSqSum: 3 }, { n: 4, rSum: 1, rSqSum: 1 }] });
    const ad = l.actionDist(undefined, new Rng(3));
    expect(Math.abs(ad.dist[0] - 113 / 126)).toBeLessThan(0.01);
    const dec = l.select(undefined, new Rng(4));
    expect(dec.propensity).toBeGreaterThan(0);
  });
});

describe('Gaussian (Normal–Gamma) Thompson sampling', () => {
  it('has the hand-computed posterior', () => {
    const l = new GaussianThompsonSampling({ nArms: 1, mu0: 0, kappa0: 1, alpha0: 1, beta0: 1 });
    for (const r of [1, 2, 3]) l.update(undefined, 0, r);
    // n = 3, r̄ = 2, S = 2: κ = 4, μ = 6/4, α = 2.5, β = 1 + 1 + 1·3·4/(2·4) = 3.5
    const p = l.posterior(0);
    expect(p.kappa).toBe(4);
    expect(p.mu).toBeCloseTo(1.5, 15);
    expect(p.alpha).toBe(2.5);
    expect(p.beta).toBeCloseTo(3.5, 12);
  });

  it('draws means whose spread matches the Student-t marginal', () => {
    // Marginal of μ: Student-t with 2α dof, location μₙ, scale² β/(ακ): variance = β/(κ(α−1)).
    const l = new GaussianThompsonSampling({ nArms: 1 });
    const rng = new Rng(8);
    for (let i = 0; i < 50; i++) l.update(undefined, 0, 5 + 2 * rng.normal());
    const p = l.posterior(0);
    const n = 40000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const m = l.sampleMean(0, rng);
      s += m; s2 += m * m;
    }
    const mean = s / n;
    const variance = s2 / n - mean * mean;
    expect(Math.abs(mean - p.mu)).toBeLessThan(0.02);
    expect(Math.abs(variance / (p.beta / (p.kappa * (p.alpha - 1))) - 1)).toBeLessThan(0.05);
  });
});

describe('linear Thompson sampling', () => {
  function trained(sampler: 'marginal' | 'cholesky', draws: number): LinearThompsonSampling {
    const l = new LinearThompsonSampling({ nArms: 2, d: 3, v: 0.8, propensityDraws: draws, sampler });
    const rng = new Rng(12);
    for (let t = 0; t < 40; t++) {
      const x = [1, rng.uniform(), rng.uniform()];
      l.update(x, t % 2, t % 2 === 0 ? 0.5 * x[1] : 0.4 * x[2] + 0.1);
    }
    return l;
  }

  it('Cholesky samples have mean θ̂ and covariance v²A⁻¹', () => {
    const l = trained('cholesky', 1);
    const rng = new Rng(13);
    const n = 30000;
    const d = 3;
    const mu = l.thetaHat(0);
    const mean = new Float64Array(d);
    const cov = new Float64Array(d * d);
    for (let i = 0; i < n; i++) {
      const th = l.sampleTheta(0, rng);
      for (let a = 0; a < d; a++) {
        mean[a] += th[a] / n;
        for (let b = 0; b < d; b++) cov[a * d + b] += ((th[a] - mu[a]) * (th[b] - mu[b])) / n;
      }
    }
    const ainv = l.arms.ainv[0];
    for (let a = 0; a < d; a++) {
      expect(Math.abs(mean[a] - mu[a])).toBeLessThan(4 * 0.8 * Math.sqrt(ainv[a * d + a] / n));
      for (let b = 0; b < d; b++) expect(Math.abs(cov[a * d + b] - 0.64 * ainv[a * d + b])).toBeLessThan(0.03 * 0.64 * Math.sqrt(ainv[a * d + a] * ainv[b * d + b]) + 1e-12);
    }
  });

  it('serves P(xᵀθ̃₀ > xᵀθ̃₁) = Φ((m₀ − m₁)/√(s₀² + s₁²)) with either sampler', () => {
    const x = [1, 0.3, 0.9];
    const ref = trained('marginal', 1);
    const m0 = ref.pointScores(x)[0], m1 = ref.pointScores(x)[1];
    const s0 = 0.8 * Math.sqrt(ref.arms.variance(0, x)), s1 = 0.8 * Math.sqrt(ref.arms.variance(1, x));
    const exact = normalCdf((m0 - m1) / Math.sqrt(s0 * s0 + s1 * s1));
    expect(exact).toBeGreaterThan(0.05);
    expect(exact).toBeLessThan(0.95);
    for (const sampler of ['marginal', 'cholesky'] as const) {
      const ad = trained(sampler, 20000).actionDist(x, new Rng(21));
      expect(Math.abs(ad.dist[0] - exact)).toBeLessThan(0.012);
    }
  });

  it('with propensityDraws = 1 is classic TS: one draw, its argmax, propensity 1', () => {
    const l = trained('marginal', 1);
    const dec = l.select([1, 0.5, 0.5], new Rng(2));
    expect(dec.propensity).toBe(1);
    expect(dec.arm).toBe(dec.scores[0] > dec.scores[1] ? 0 : 1);
  });
});

describe('exploration wrappers', () => {
  it('ε-greedy mixes the base distribution with uniform: (1 − ε)π + ε/K, every arm > 0', () => {
    const base = new LinUCB({ nArms: 4, d: 2 });
    base.update([1, 0], 2, 1);
    const eg = new EpsilonGreedy(base, { epsilon: 0.2 });
    const ad = eg.actionDist([1, 0], new Rng(1));
    expect(Array.from(ad.dist).map((p) => +p.toFixed(12))).toEqual([0.05, 0.05, 0.85, 0.05]);
    const rng = new Rng(2);
    const counts = [0, 0, 0, 0];
    let mismatched = 0;
    for (let i = 0; i < 20000; i++) {
      const dec = eg.select([1, 0], rng);
      if (dec.propensity !== ad.dist[dec.arm]) mismatched++;
      counts[dec.arm]++;
    }
    expect(mismatched).toBe(0);
    expect(Math.abs(counts[2] / 20000 - 0.85)).toBeLessThan(0.01);
    expect(() => new EpsilonGreedy(base, { epsilon: 0 })).toThrow('EpsilonGreedy: epsilon must be a number in (0, 1] so that every arm keeps a propensity > 0, got 0');
  });

  it('softmax serves exp(s/τ)/Σexp on the base point scores', () => {
    const base = new BetaThompsonSampling({ nArms: 3 });
    base.update(undefined, 0, 1); // means 2/3, 1/2, 1/2
    const sm = new Softmax(base, { temperature: 0.5 });
    const ad = sm.actionDist(undefined, new Rng(1));
    const e = [Math.exp((2 / 3) / 0.5), Math.exp(0.5 / 0.5), Math.exp(0.5 / 0.5)];
    const z = e[0] + e[1] + e[2];
    for (let a = 0; a < 3; a++) expect(ad.dist[a]).toBeCloseTo(e[a] / z, 14);
    expect(Array.from(softmax([0, -1e6], 1))).toEqual([1, Number.MIN_VALUE]);
    expect(() => new Softmax(base, { temperature: 0 })).toThrow('Softmax: temperature must be a finite number > 0, got 0');
  });
});

describe('plain-JSON state', () => {
  it('round-trips every learner through JSON.stringify with the same scores', () => {
    const rng = new Rng(4);
    const learners = [
      new EpsilonGreedy(new LinUCB({ nArms: 3, d: 2, alpha: 0.7 }), { epsilon: 0.1 }),
      new Softmax(new LinearThompsonSampling({ nArms: 3, d: 2, v: 0.3 }), { temperature: 0.2 }),
      new BetaThompsonSampling({ nArms: 3, alpha0: 2 }),
      new GaussianThompsonSampling({ nArms: 3, mu0: 1 }),
    ];
    for (const l of learners) {
      for (let t = 0; t < 30; t++) l.update([rng.uniform(), 1], t % 3, rng.uniform());
      const copy = learnerFromJSON(JSON.parse(JSON.stringify(l.toJSON())));
      expect(copy.kind).toBe(l.kind);
      expect(copy.toJSON()).toEqual(l.toJSON());
      const a = l.pointScores([0.3, 1]), b = copy.pointScores([0.3, 1]);
      for (let i = 0; i < 3; i++) expect(b[i]).toBeCloseTo(a[i], 10);
    }
    expect(() => learnerFromJSON({ kind: 'ucb1' })).toThrow('learner.kind must be one of linucb, lints, beta-ts, gaussian-ts, epsilon-greedy, softmax, uncertainty-epsilon; got "ucb1"');
    expect(() => learnerFromJSON({ kind: 'softmax', base: { kind: 'linucb', config: { nArms: 2, d: 2 }, stats: { kind: 'lints', d: 2, arms: [] } } }))
      .toThrow("setStats: stats.kind is 'lints', expected 'linucb'");
  });
});
