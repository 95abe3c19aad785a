import { Rng } from '../rng';
import { constrainActionDist, drawArm } from './constraints';
import { parseBanditConfig, buildLearner, BanditConfigError } from './config';
import { BetaThompsonSampling } from './beta-ts';
import { GaussianThompsonSampling } from './gaussian-ts';
import { LinUCB } from './linucb';
import { LinearThompsonSampling } from './lints';

const rule = (allowed: boolean[], maxShare: number[]) => ({ allowed, maxShare });

describe('constrainActionDist (per-segment caps and allowed arms)', () => {
  it('leaves a distribution within its caps unchanged', () => {
    expect(Array.from(constrainActionDist([0.5, 0.3, 0.2], rule([true, true, true], [1, 1, 1])))).toEqual([0.5, 0.3, 0.2]);
  });

  it('caps an arm and gives its excess to the others in proportion to π', () => {
    const p = constrainActionDist([0.8, 0.15, 0.05], rule([true, true, true], [0.3, 1, 1]));
    expect(p[0]).toBeCloseTo(0.3, 15);
    expect(p[1]).toBeCloseTo(0.7 * 0.75, 15);
    expect(p[2]).toBeCloseTo(0.7 * 0.25, 15);
  });

  it('gives a disallowed arm probability 0 and cascades caps', () => {
    // Arm 2 disallowed: its 0.1 goes to arms 0 and 1 in proportion (2:1), then arm 0 is capped at 0.5 and arm 1 takes the rest.
    const p = constrainActionDist([0.6, 0.3, 0.1], rule([true, true, false], [0.5, 1, 1]));
    expect(Array.from(p).map((v) => +v.toFixed(12))).toEqual([0.5, 0.5, 0]);
    const q = constrainActionDist([1, 0, 0], rule([true, true, true], [0.2, 0.5, 1]));
    // π puts nothing on arms 1 and 2: the mass is shared equally, then arm 1 capped at 0.5.
    expect(Array.from(q).map((v) => +v.toFixed(12))).toEqual([0.2, 0.4, 0.4]);
    const r = constrainActionDist([1, 0, 0], rule([true, true, true], [0.2, 0.3, 1]));
    expect(Array.from(r).map((v) => +v.toFixed(12))).toEqual([0.2, 0.3, 0.5]);
  });

  it('is a distribution within the caps for random inputs', () => {
    const rng = new Rng(3);
    for (let t = 0; t < 500; t++) {
      const k = 2 + Math.floor(rng.uniform() * 5);
      const dist = Array.from({ length: k }, () => (rng.uniform() < 0.3 ? 0 : rng.uniform()));
      const z = dist.reduce((a, b) => a + b, 0) || 1;
      const pi = dist.map((v) => (z > 0 ? v / z : 1 / k));
      const allowed = Array.from({ length: k }, (_, a) => a === 0 || rng.uniform() < 0.7);
      const maxShare = Array.from({ length: k }, () => 0.2 + 0.8 * rng.uniform());
      maxShare[0] = 1;
      const p = constrainActionDist(pi, rule(allowed, maxShare));
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      p.forEach((v, a) => {
        expect(v).toBeGreaterThanOrEqual(0);
        expect(v).toBeLessThanOrEqual((allowed[a] ? maxShare[a] : 0) + 1e-12);
      });
    }
  });

  it('drawArm never draws an arm of probability 0 and matches the distribution', () => {
    const rng = new Rng(5);
    const dist = [0, 0.25, 0, 0.75, 0];
    const n = [0, 0, 0, 0, 0];
    for (let i = 0; i < 20_000; i++) n[drawArm(dist, rng)]++;
    expect(n[0] + n[2] + n[4]).toBe(0);
    expect(n[1] / 20_000).toBeCloseTo(0.25, 1);
  });
});

describe('bandit config: priors and segments', () => {
  const base = { learner: { kind: 'linucb', params: { alpha: 0 } }, arms: ['large', 'small', 'tiny'], features: ['x'] };

  it('parses priors by arm and per-segment rules', () => {
    const c = parseBanditConfig({
      ...base,
      priors: { large: { mean: 0.9, strength: 5 } },
      segments: { field: 'segment', rules: { a: { arms: ['large', 'small'], maxShare: { large: 0.3 } } }, default: {} },
    }, 'router');
    expect(c.priors).toEqual([{ mean: 0.9, strength: 5 }, null, null]);
    expect(c.segments!.field).toBe('segment');
    expect(c.segments!.rules.get('a')).toEqual({ allowed: [true, true, false], maxShare: [0.3, 1, 1] });
    expect(c.segments!.default).toEqual({ allowed: [true, true, true], maxShare: [1, 1, 1] });
    expect(parseBanditConfig(base, 'r')).toMatchObject({ priors: [null, null, null], segments: null });
  });

  it.each([
    [{ ...base, priors: { huge: { mean: 1, strength: 1 } } }, 'config.priors.huge', /an arm of this deployment \(large, small, tiny\)/],
    [{ ...base, priors: { large: { mean: 1, strength: 0 } } }, 'config.priors.large.strength', /> 0/],
    [{ ...base, intercept: false, priors: { large: { mean: 1, strength: 1 } } }, 'config.priors', /intercept: true/],
    [{ learner: { kind: 'beta-ts' }, arms: ['a', 'b'], priors: { a: { mean: 1, strength: 2 } } }, 'config.priors.a.mean', /in \(0, 1\) for beta-ts/],
    [{ ...base, segments: { field: 'x', rules: {} } }, 'config.segments.field', /not "entity" nor one of the learner's features/],
    [{ ...base, segments: { field: 's', rules: { a: { arms: ['nope'] } } } }, 'config.segments.rules.a.arms.0', /an arm of this deployment/],
    [{ ...base, segments: { field: 's', rules: { a: { arms: ['large'], maxShare: { large: 0.5 } } } } }, 'config.segments.rules.a', /sum to 0.5\): every decision must be able to pick an arm/],
    [{ ...base, segments: { field: 's', rules: { a: { maxShare: { small: 1.5 } } } } }, 'config.segments.rules.a.maxShare.small', /a share in \[0, 1\]/],
  ])('refuses %j at %s', (config, field, expected) => {
    let err: unknown;
    try {
      parseBanditConfig(config as Record<string, unknown>, 'router');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BanditConfigError);
    expect((err as BanditConfigError).field).toBe(field);
    expect((err as Error).message).toMatch(expected);
  });

  it('hands the priors to the learner: with no data its means are the prior means', () => {
    const l = buildLearner(parseBanditConfig({ ...base, priors: { large: { mean: 0.9, strength: 5 }, tiny: { mean: -0.2, strength: 5 } } }, 'r'));
    const s = l.pointScores([1, 0]);
    expect(s[0]).toBeCloseTo(0.9, 12);
    expect(s[1]).toBe(0);
    expect(s[2]).toBeCloseTo(-0.2, 12);
    // Statistics stay the observations only (the shared state carries no prior).
    expect(l.getStats().arms[0]).toMatchObject({ n: 0, rSum: 0 });
  });
});

describe('per-arm priors in each learner', () => {
  it('Beta TS starts at Beta(m·s, (1 − m)·s)', () => {
    const l = new BetaThompsonSampling({ nArms: 2, priors: [{ mean: 0.75, strength: 8 }, null] });
    expect(l.posterior(0)).toEqual({ alpha: 6, beta: 2 });
    expect(l.posterior(1)).toEqual({ alpha: 1, beta: 1 });
    l.update(undefined, 0, 1);
    expect(l.posterior(0).alpha).toBe(7);
    expect(BetaThompsonSampling.fromJSON(l.toJSON()).posterior(0)).toEqual({ alpha: 7, beta: 2 });
  });

  it('Gaussian TS takes μ₀ = m, κ₀ = s per arm (Murphy 2007 §3)', () => {
    const l = new GaussianThompsonSampling({ nArms: 2, priors: [{ mean: 2, strength: 4 }, null] });
    for (const r of [1, 3, 2, 2]) l.update(undefined, 0, r);
    // κₙ = 8, μₙ = (4·2 + 8)/8 = 2; βₙ = 1 + S/2 + κ₀ n (r̄ − μ₀)²/(2κₙ) = 1 + 1 + 0
    expect(l.posterior(0)).toEqual({ mu: 2, kappa: 8, alpha: 3, beta: 2 });
    expect(l.posteriorMean(1)).toBe(0);
  });

  it('linear learners: θ̂ = m e₀ with no data, and the Bayesian ridge solution after it', () => {
    for (const L of [LinUCB, LinearThompsonSampling]) {
      const l = new L({ nArms: 1, d: 2, lambda: 1, priors: [{ mean: 0.5, strength: 3 }] });
      expect(l.thetaHat(0)).toEqual([0.5, 0]);
      l.update([1, 2], 0, 1);
      // A = [[1+3+1, 2], [2, 1+4]], b = [(1+3)·0.5 + 1, 2]
      const A = [[5, 2], [2, 5]], b = [3, 2];
      const det = A[0][0] * A[1][1] - A[0][1] * A[1][0];
      const expected = [(A[1][1] * b[0] - A[0][1] * b[1]) / det, (A[0][0] * b[1] - A[1][0] * b[0]) / det];
      expect(l.thetaHat(0)[0]).toBeCloseTo(expected[0], 12);
      expect(l.thetaHat(0)[1]).toBeCloseTo(expected[1], 12);
      l.setStats(l.getStats()); // rebuilt from the statistics (the prior is not in them): the same θ̂
      expect(l.thetaHat(0)[0]).toBeCloseTo(expected[0], 12);
    }
  });
});
