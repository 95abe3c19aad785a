import { Rng } from '../rng';
import { GaussianProcess, NOISE_FLOOR } from './gp';
import { matern52, matern52AndFactor, matern52LengthScaleFactor } from './kernel';
import { lbfgs } from './lbfgs';
import { cholesky, inverseFromCholesky, solveLower, solveUpperTransposed } from './linalg';

const fixed = { lengthScales: [0.3, 0.6], signalVariance: 1.7, noiseVariance: 0 };
const k = (a: number[], b: number[]) => matern52(((a[0] - b[0]) / 0.3) ** 2 + ((a[1] - b[1]) / 0.6) ** 2, 1.7);

describe('Matérn 5/2 kernel', () => {
  it('is σ_f² at r = 0 and σ_f²(1 + √5 + 5/3)e^{−√5} at r = 1', () => {
    expect(matern52(0, 2)).toBe(2);
    expect(matern52(1, 2)).toBeCloseTo(2 * (1 + Math.sqrt(5) + 5 / 3) * Math.exp(-Math.sqrt(5)), 14);
    const factors = new Float64Array(1);
    expect(matern52AndFactor(0.7, 1.3, factors, 0)).toBeCloseTo(matern52(0.7, 1.3), 15);
    expect(factors[0]).toBeCloseTo(matern52LengthScaleFactor(0.7, 1.3), 15);
  });
});

describe('GaussianProcess posterior (closed form, noise-free, fixed θ)', () => {
  it('with one observation: μ(x) = k(x, x₁) y₁ / σ_f², σ²(x) = σ_f² − k(x, x₁)²/σ_f²', () => {
    const x1 = [0.2, 0.4];
    const gp = new GaussianProcess(2).fit([x1], [3], { optimise: false, standardise: false, hyperparameters: fixed });
    const xs = [0.35, 0.1];
    const kx = k(xs, x1);
    const p = gp.predict(xs);
    expect(p.mean).toBeCloseTo((kx * 3) / 1.7, 12);
    expect(p.variance).toBeCloseTo(1.7 - (kx * kx) / 1.7, 12);
    expect(gp.predict(x1).mean).toBeCloseTo(3, 12);
    expect(gp.predict(x1).variance).toBeCloseTo(0, 12);
  });

  it('with two observations: the mean interpolates and matches kᵀK⁻¹y with the 2×2 inverse', () => {
    const x1 = [0.2, 0.4];
    const x2 = [0.5, 0.9];
    const y = [1, -2];
    const gp = new GaussianProcess(2).fit([x1, x2], y, { optimise: false, standardise: false, hyperparameters: fixed });
    const s = 1.7;
    const k12 = k(x1, x2);
    const det = s * s - k12 * k12;
    const kinv = [[s / det, -k12 / det], [-k12 / det, s / det]];
    const xs = [0.3, 0.7];
    const ks = [k(xs, x1), k(xs, x2)];
    const mean = ks[0] * (kinv[0][0] * y[0] + kinv[0][1] * y[1]) + ks[1] * (kinv[1][0] * y[0] + kinv[1][1] * y[1]);
    const quad = ks[0] * (kinv[0][0] * ks[0] + kinv[0][1] * ks[1]) + ks[1] * (kinv[1][0] * ks[0] + kinv[1][1] * ks[1]);
    expect(gp.predict(xs).mean).toBeCloseTo(mean, 12);
    expect(gp.predict(xs).variance).toBeCloseTo(s - quad, 12);
    expect(gp.predict(x1).mean).toBeCloseTo(1, 10);
    expect(gp.predict(x2).mean).toBeCloseTo(-2, 10);
    expect(gp.predict(x2).variance).toBeCloseTo(0, 10);
  });

  it('log marginal likelihood of one point is log N(y₁; 0, σ_f² + σ_n²)', () => {
    const h = { lengthScales: [0.5], signalVariance: 0.8, noiseVariance: 0.2 };
    const gp = new GaussianProcess(1).fit([[0.3]], [1.5], { optimise: false, standardise: false, hyperparameters: h });
    expect(gp.logMarginalLikelihood()).toBeCloseTo(-0.5 * 1.5 ** 2 / 1.0 - 0.5 * Math.log(1.0) - 0.5 * Math.log(2 * Math.PI), 12);
  });

  it('standardises y: the fitted posterior is in the units of y', () => {
    const x = [[0.1], [0.5], [0.9]];
    const gp = new GaussianProcess(1).fit(x, [1000, 1010, 1005], { optimise: false, hyperparameters: { lengthScales: [0.2], signalVariance: 1, noiseVariance: 0 } });
    expect(gp.predict([0.5]).mean).toBeCloseTo(1010, 8);
    expect(gp.predict([5]).mean).toBeCloseTo(1005, 6); // far away: back to ȳ
  });
});

describe('GaussianProcess hyperparameters', () => {
  it('the analytic gradient of −log p matches central differences', () => {
    const rng = new Rng(3);
    const x = Array.from({ length: 12 }, () => [rng.uniform(), rng.uniform(), rng.uniform()]);
    const y = x.map((u) => Math.sin(5 * u[0]) + u[1] * u[2] + 0.05 * rng.normal());
    const gp = new GaussianProcess(3).fit(x, y, { optimise: false });
    const f = (gp as unknown as { negativeLogPosterior(t: Float64Array, g: Float64Array | null, p: boolean): number }).negativeLogPosterior.bind(gp);
    const theta = Float64Array.from([Math.log(0.4), Math.log(0.7), Math.log(0.2), Math.log(1.3), Math.log(0.05)]);
    const grad = new Float64Array(5);
    f(theta, grad, true);
    for (let i = 0; i < 5; i++) {
      const h = 1e-5;
      const tp = Float64Array.from(theta); tp[i] += h;
      const tm = Float64Array.from(theta); tm[i] -= h;
      expect(grad[i]).toBeCloseTo((f(tp, null, true) - f(tm, null, true)) / (2 * h), 5);
    }
  });

  it('recovers the observation-noise variance of a noisy function (σ_n = 0.1)', () => {
    const rng = new Rng(1);
    const x: number[][] = [];
    const y: number[] = [];
    for (let i = 0; i < 60; i++) {
      const u = [rng.uniform()];
      x.push(u);
      y.push(Math.sin(6 * u[0]) + 0.1 * rng.normal());
    }
    const gp = new GaussianProcess(1).fit(x, y, { rng, restarts: 3 });
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const variance = y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length;
    const noise = gp.hyperparameters.noiseVariance * variance; // back to y's units
    expect(noise).toBeGreaterThan(0.005);
    expect(noise).toBeLessThan(0.02);
    expect(gp.hyperparameters.noiseVariance).toBeGreaterThan(NOISE_FLOOR);
    // smoothing, not interpolating: the posterior at a data point is not the noisy observation
    expect(Math.abs(gp.predict(x[0]).mean - Math.sin(6 * x[0][0]))).toBeLessThan(0.08);
  });

  it('fitting raises the log marginal likelihood above the default start', () => {
    const rng = new Rng(5);
    const x = Array.from({ length: 20 }, () => [rng.uniform(), rng.uniform()]);
    const y = x.map((u) => Math.cos(8 * u[0]) + 0.1 * u[1]);
    const start = new GaussianProcess(2).fit(x, y, { optimise: false }).logMarginalLikelihood();
    const fitted = new GaussianProcess(2).fit(x, y, { rng, restarts: 3 });
    expect(fitted.logMarginalLikelihood()).toBeGreaterThan(start);
    // without the priors (type-II maximum likelihood) the marginal likelihood is at least as high
    const ml = new GaussianProcess(2).fit(x, y, { rng: new Rng(5), restarts: 3, priors: false });
    expect(ml.logMarginalLikelihood()).toBeGreaterThanOrEqual(fitted.logMarginalLikelihood() - 1e-6);
    // the irrelevant second input gets the longer length scale (ARD)
    expect(fitted.hyperparameters.lengthScales[1]).toBeGreaterThan(fitted.hyperparameters.lengthScales[0]);
  });

  it('rejects bad input naming the field', () => {
    expect(() => new GaussianProcess(2).fit([[0.1, 0.2]], [Number.NaN])).toThrow('y[0] is NaN, expected a finite number');
    expect(() => new GaussianProcess(2).fit([[0.1]], [1])).toThrow('X[0] has 1 coordinates, expected 2');
    expect(() => new GaussianProcess(1).fit([[0.1], [0.2]], [1, 2], { restarts: 3 })).toThrow('restarts is 3, which needs an rng');
    expect(() => new GaussianProcess(1).predict([0.1])).toThrow('no observations');
  });
});

describe('linear algebra', () => {
  it('Cholesky, triangular solves and the inverse agree with A x = b', () => {
    const a = Float64Array.from([4, 2, 0.4, 2, 3, 0.5, 0.4, 0.5, 2]);
    const l = cholesky(a, 3)!;
    const x = solveUpperTransposed(l, 3, solveLower(l, 3, [1, 2, 3]));
    for (let i = 0; i < 3; i++) expect(a[i * 3] * x[0] + a[i * 3 + 1] * x[1] + a[i * 3 + 2] * x[2]).toBeCloseTo([1, 2, 3][i], 12);
    const inv = inverseFromCholesky(l, 3);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
      let s = 0;
      for (let m = 0; m < 3; m++) s += a[i * 3 + m] * inv[m * 3 + j];
      expect(s).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
  });
});

describe('lbfgs', () => {
  it('minimises the Rosenbrock function to (1, 1)', () => {
    const r = lbfgs((x, g) => {
      g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]);
      g[1] = 200 * (x[1] - x[0] * x[0]);
      return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] * x[0]) ** 2;
    }, [-1.2, 1], { maxIterations: 500, functionTolerance: 0 });
    expect(r.x[0]).toBeCloseTo(1, 4);
    expect(r.x[1]).toBeCloseTo(1, 4);
  });
});
