/**
 * Gaussian-process regression surrogate for Bayesian optimisation (Rasmussen & Williams 2006,
 * Algorithm 2.1; the set-up of Snoek et al. 2012 and BoTorch's SingleTaskGP):
 *
 *   inputs in the unit cube (the search space encodes them), outputs standardised ỹ = (y − ȳ)/s_y,
 *   K = K_θ(X, X) + σ_n² I,   L = chol(K),   α = Lᵀ \ (L \ ỹ)
 *   μ(x*) = k*ᵀ α,   σ²(x*) = k(x*, x*) − vᵀv,  v = L \ k*
 *   log p(ỹ | X, θ) = −½ ỹᵀα − Σ_i log L_ii − (n/2) log 2π
 *   ∂/∂θ_j log p = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ_j)
 *
 * Hyperparameters θ = (log ℓ_1..ℓ_d, log σ_f², log σ_n²) are fitted by L-BFGS from several starts
 * on the log marginal likelihood plus weak log-normal priors on each hyperparameter (MAP; the priors
 * are wide and only keep the fit away from degenerate length scales and zero noise with few points,
 * as BoTorch's default priors do; `priors: false` maximises the marginal likelihood alone). The
 * noise variance σ_n² is fitted, so noisy observations are smoothed rather than interpolated; it
 * never drops below NOISE_FLOOR (in standardised units).
 */
import { Rng } from '../rng';
import { lbfgs } from './lbfgs';
import { matern52, matern52AndFactor, scaledSquaredDistance } from './kernel';
import { cholesky, inverseFromCholesky, solveLower, solveUpperTransposed } from './linalg';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { log, exp, sqrt, max } = Math;

export interface GpHyperparameters {
  /** ℓ_i, one per input dimension (unit-cube units). */
  lengthScales: number[];
  /** σ_f², the kernel's variance (standardised output units). */
  signalVariance: number;
  /** σ_n², the observation-noise variance (standardised output units). */
  noiseVariance: number;
}

export interface GpFitOptions {
  /** Fit θ by maximising the marginal likelihood (default true); false keeps `hyperparameters`. */
  optimise?: boolean;
  /** Starting/fixed hyperparameters; the default start is ℓ = 0.5, σ_f² = 1, σ_n² = 1e-2. */
  hyperparameters?: GpHyperparameters;
  /** Number of L-BFGS starts: the given/previous θ plus draws from the priors (default 3). */
  restarts?: number;
  /** L-BFGS iterations per start (default 60). */
  maxIterations?: number;
  /** Standardise y (default true); false uses ȳ = 0, s_y = 1 (the closed-form tests). */
  standardise?: boolean;
  /**
   * Add the weak log-normal priors of the header to the objective (default true, i.e. MAP); false
   * maximises the log marginal likelihood alone (type-II maximum likelihood).
   */
  priors?: boolean;
  /** Draws the random restarts (required when restarts > 1). */
  rng?: Rng;
}

export interface Prediction {
  mean: number;
  variance: number;
}

/** Smallest noise variance, in standardised units: a jitter that keeps K well conditioned. */
export const NOISE_FLOOR = 1e-6;
const LOG_2PI = log(2 * Math.PI);
/** Log-normal priors (mean, sd of the log) on ℓ, σ_f², σ_n². */
const PRIOR = { logLengthScale: [log(0.5), 1.5], logSignalVariance: [0, 1.5], logNoiseVariance: [log(1e-2), 3] } as const;

export class GaussianProcess {
  readonly dimension: number;
  hyperparameters: GpHyperparameters;
  private x: Float64Array[] = [];
  private yStd: Float64Array = new Float64Array(0);
  private yMean = 0;
  private yScale = 1;
  private chol: Float64Array = new Float64Array(0);
  private alpha: Float64Array = new Float64Array(0);
  private work: Float64Array = new Float64Array(0);
  private kStar: Float64Array = new Float64Array(0);

  constructor(dimension: number) {
    if (!(Number.isInteger(dimension) && dimension >= 1)) throw new Error(`GaussianProcess: dimension is ${dimension}, expected a positive integer`);
    this.dimension = dimension;
    this.hyperparameters = { lengthScales: new Array<number>(dimension).fill(0.5), signalVariance: 1, noiseVariance: 1e-2 };
  }

  get size(): number {
    return this.x.length;
  }

  /** Conditions on (X, y), X in the unit cube; fits θ unless `optimise` is false. */
  fit(x: ArrayLike<number>[], y: ArrayLike<number>, options: GpFitOptions = {}): this {
    const n = x.length;
    if (n === 0) throw new Error('GaussianProcess.fit: no observations, expected at least 1');
    if (y.length !== n) throw new Error(`GaussianProcess.fit: y has ${y.length} values, expected ${n} (one per row of X)`);
    this.x = x.map((row, i) => {
      if (row.length !== this.dimension) throw new Error(`GaussianProcess.fit: X[${i}] has ${row.length} coordinates, expected ${this.dimension}`);
      return Float64Array.from(row);
    });
    for (let i = 0; i < n; i++) if (!Number.isFinite(y[i])) throw new Error(`GaussianProcess.fit: y[${i}] is ${y[i]}, expected a finite number`);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += y[i];
    mean /= n;
    let sq = 0;
    for (let i = 0; i < n; i++) sq += (y[i] - mean) ** 2;
    const sd = sqrt(sq / n);
    const standardise = options.standardise ?? true;
    this.yMean = standardise ? mean : 0;
    this.yScale = standardise && sd > 0 ? sd : 1;
    this.yStd = new Float64Array(n);
    for (let i = 0; i < n; i++) this.yStd[i] = (y[i] - this.yMean) / this.yScale;
    if (options.hyperparameters) this.hyperparameters = copyHyperparameters(options.hyperparameters, this.dimension);
    if (options.optimise ?? true) this.optimiseHyperparameters(options);
    this.factorise();
    return this;
  }

  /** A copy conditioned also on (x, y) with the same θ and standardisation (Kriging believer). */
  withObservation(x: ArrayLike<number>, y: number): GaussianProcess {
    const gp = new GaussianProcess(this.dimension);
    gp.hyperparameters = copyHyperparameters(this.hyperparameters, this.dimension);
    gp.x = [...this.x, Float64Array.from(x)];
    gp.yMean = this.yMean;
    gp.yScale = this.yScale;
    gp.yStd = new Float64Array(this.yStd.length + 1);
    gp.yStd.set(this.yStd);
    gp.yStd[this.yStd.length] = (y - this.yMean) / this.yScale;
    gp.factorise();
    return gp;
  }

  /** Posterior mean and variance of the latent f(x) (without observation noise), in y's units. */
  predict(x: ArrayLike<number>): Prediction {
    const n = this.x.length;
    if (n === 0) throw new Error('GaussianProcess.predict: the GP has no observations; call fit first');
    const { lengthScales, signalVariance } = this.hyperparameters;
    const kStar = this.kStar;
    let mean = 0;
    for (let i = 0; i < n; i++) {
      kStar[i] = matern52(scaledSquaredDistance(x, this.x[i], lengthScales), signalVariance);
      mean += kStar[i] * this.alpha[i];
    }
    const v = solveLower(this.chol, n, kStar, this.work);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i] * v[i];
    const variance = max(signalVariance - vv, 0);
    return { mean: this.yMean + this.yScale * mean, variance: this.yScale * this.yScale * variance };
  }

  /** log p(ỹ | X, θ) at the current θ (standardised units). */
  logMarginalLikelihood(): number {
    return -this.negativeLogPosterior(encodeTheta(this.hyperparameters), null, false, this.hyperparameters);
  }

  private factorise(): void {
    const n = this.x.length;
    const k = this.covariance(this.hyperparameters);
    const l = choleskyWithJitter(k, n);
    this.chol = l;
    this.alpha = solveUpperTransposed(l, n, solveLower(l, n, this.yStd));
    this.work = new Float64Array(n);
    this.kStar = new Float64Array(n);
  }

  /** K = K_θ(X, X) + σ_n² I; with `factors`, also ∂k/∂log ℓ's common factor per pair (lower triangle). */
  private covariance(h: GpHyperparameters, factors?: Float64Array): Float64Array {
    const n = this.x.length;
    const k = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) {
        const r2 = scaledSquaredDistance(this.x[i], this.x[j], h.lengthScales);
        const v = factors ? matern52AndFactor(r2, h.signalVariance, factors, i * n + j) : matern52(r2, h.signalVariance);
        k[i * n + j] = v;
        k[j * n + i] = v;
      }
      k[i * n + i] = h.signalVariance + h.noiseVariance;
    }
    return k;
  }

  private optimiseHyperparameters(options: GpFitOptions): void {
    const restarts = options.restarts ?? 3;
    const withPrior = options.priors ?? true;
    if (restarts > 1 && !options.rng) throw new Error(`GaussianProcess.fit: restarts is ${restarts}, which needs an rng (options.rng) for the extra starts`);
    const starts: Float64Array[] = [encodeTheta(this.hyperparameters)];
    for (let r = 1; r < restarts; r++) {
      const theta = new Float64Array(this.dimension + 2);
      for (let i = 0; i < this.dimension; i++) theta[i] = PRIOR.logLengthScale[0] + PRIOR.logLengthScale[1] * 0.5 * options.rng!.normal();
      theta[this.dimension] = PRIOR.logSignalVariance[0] + 0.5 * options.rng!.normal();
      theta[this.dimension + 1] = PRIOR.logNoiseVariance[0] + options.rng!.normal();
      starts.push(theta);
    }
    let best: { x: Float64Array; f: number } | null = null;
    for (const start of starts) {
      let result;
      try {
        result = lbfgs((theta, grad) => this.negativeLogPosterior(theta, grad, withPrior), start, { maxIterations: options.maxIterations ?? 60, gradientTolerance: 1e-5, functionTolerance: 1e-9 });
      } catch {
        continue; // a start where K is singular even with jitter: the other starts decide
      }
      if (!best || result.f < best.f) best = result;
    }
    if (best) this.hyperparameters = decodeTheta(best.x, this.dimension);
  }

  /**
   * −log p(ỹ | X, θ) − log prior(θ) (or just −log p when withPrior is false); writes the gradient
   * with respect to θ into `grad` when given.
   */
  private negativeLogPosterior(theta: Float64Array, grad: Float64Array | null, withPrior: boolean, fixed?: GpHyperparameters): number {
    const d = this.dimension;
    const n = this.x.length;
    const h = fixed ?? decodeTheta(theta, d);
    if (!h.lengthScales.every((l) => Number.isFinite(l) && l > 0) || !Number.isFinite(h.signalVariance) || !Number.isFinite(h.noiseVariance)) return Infinity;
    const factors = grad ? new Float64Array(n * n) : undefined;
    const k = this.covariance(h, factors);
    const l = cholesky(k, n);
    if (!l) return Infinity;
    const alpha = solveUpperTransposed(l, n, solveLower(l, n, this.yStd));
    let fit = 0;
    for (let i = 0; i < n; i++) fit += this.yStd[i] * alpha[i];
    let logDet = 0;
    for (let i = 0; i < n; i++) logDet += log(l[i * n + i]);
    let nlp = 0.5 * fit + logDet + 0.5 * n * LOG_2PI;
    if (grad) {
      grad.fill(0);
      // W = ααᵀ − K⁻¹;  ∂(−log p)/∂θ_j = −½ tr(W ∂K/∂θ_j).
      const kinv = inverseFromCholesky(l, n);
      for (let i = 0; i < n; i++) {
        const xi = this.x[i];
        for (let j = 0; j < i; j++) {
          const xj = this.x[j];
          const w = alpha[i] * alpha[j] - kinv[i * n + j];
          const factor = factors![i * n + j];
          for (let m = 0; m < d; m++) {
            const t = (xi[m] - xj[m]) / h.lengthScales[m];
            grad[m] -= w * factor * t * t; // off-diagonal pairs count twice in the trace: ½·2
          }
          grad[d] -= w * (k[i * n + j]);
        }
        const wii = alpha[i] * alpha[i] - kinv[i * n + i];
        grad[d] -= 0.5 * wii * h.signalVariance;
        grad[d + 1] -= 0.5 * wii * (h.noiseVariance - NOISE_FLOOR);
      }
    }
    if (withPrior) {
      for (let m = 0; m < d; m++) nlp += gaussianPenalty(theta, m, PRIOR.logLengthScale, grad);
      nlp += gaussianPenalty(theta, d, PRIOR.logSignalVariance, grad);
      nlp += gaussianPenalty(theta, d + 1, PRIOR.logNoiseVariance, grad);
    }
    return nlp;
  }
}

/** −log N(θ_i; μ, s²) up to a constant, adding its derivative to grad. */
function gaussianPenalty(theta: Float64Array, i: number, [mu, sd]: readonly [number, number], grad: Float64Array | null): number {
  const z = (theta[i] - mu) / sd;
  if (grad) grad[i] += z / sd;
  return 0.5 * z * z;
}

function encodeTheta(h: GpHyperparameters): Float64Array {
  const d = h.lengthScales.length;
  const theta = new Float64Array(d + 2);
  for (let i = 0; i < d; i++) theta[i] = log(h.lengthScales[i]);
  theta[d] = log(h.signalVariance);
  theta[d + 1] = log(max(h.noiseVariance - NOISE_FLOOR, 1e-12));
  return theta;
}

function decodeTheta(theta: Float64Array, d: number): GpHyperparameters {
  const lengthScales = new Array<number>(d);
  for (let i = 0; i < d; i++) lengthScales[i] = exp(theta[i]);
  return { lengthScales, signalVariance: exp(theta[d]), noiseVariance: NOISE_FLOOR + exp(theta[d + 1]) };
}

function copyHyperparameters(h: GpHyperparameters, d: number): GpHyperparameters {
  if (h.lengthScales.length !== d) throw new Error(`GaussianProcess: hyperparameters.lengthScales has ${h.lengthScales.length} entries, expected ${d}`);
  for (const [i, l] of h.lengthScales.entries()) if (!(l > 0)) throw new Error(`GaussianProcess: hyperparameters.lengthScales[${i}] is ${l}, expected > 0`);
  if (!(h.signalVariance > 0)) throw new Error(`GaussianProcess: hyperparameters.signalVariance is ${h.signalVariance}, expected > 0`);
  if (!(h.noiseVariance >= 0)) throw new Error(`GaussianProcess: hyperparameters.noiseVariance is ${h.noiseVariance}, expected >= 0`);
  return { lengthScales: [...h.lengthScales], signalVariance: h.signalVariance, noiseVariance: h.noiseVariance };
}

/** Cholesky of K, adding growing jitter to the diagonal if K is numerically singular. */
function choleskyWithJitter(k: Float64Array, n: number): Float64Array {
  const l = cholesky(k, n);
  if (l) return l;
  for (let jitter = 1e-8; jitter <= 1e-2; jitter *= 10) {
    const kj = Float64Array.from(k);
    for (let i = 0; i < n; i++) kj[i * n + i] += jitter;
    const lj = cholesky(kj, n);
    if (lj) return lj;
  }
  throw new Error(`GaussianProcess: the covariance of ${n} observations is not positive definite even with jitter 1e-2 (duplicate inputs with noiseVariance 0?)`);
}
