/**
 * The z-test and Welch's t-test, with confidence intervals for the tested difference.
 *
 * - `zTestFromEstimate`: an estimate with a known (or large-sample) standard error, e.g. an OPE
 *   estimate and its standard error, Z = (estimate − null) / se ~ N(0, 1) under H0.
 * - `zTest`: one-sample (or paired, on differences) large-sample z-test of the mean.
 * - `welchTTest`: two independent samples with unequal variances; t = (x̄ − ȳ) / √(s²ₓ/nₓ + s²ᵧ/nᵧ)
 *   with Welch–Satterthwaite degrees of freedom ν = (s²ₓ/nₓ + s²ᵧ/nᵧ)² / ((s²ₓ/nₓ)²/(nₓ−1) + (s²ᵧ/nᵧ)²/(nᵧ−1)).
 *   (B. L. Welch, "The generalization of Student's problem when several different population
 *   variances are involved", Biometrika 34, 1947.)
 */
import { normalCdf, normalQuantile, normalSf } from './normal';
import { studentTCdf, studentTQuantile } from './student-t';

/** H1: the difference is ≠, > or < the null value. */
export type Alternative = 'two-sided' | 'greater' | 'less';

export interface TestOptions {
  alternative?: Alternative;
  /** Significance level of the reported interval. Default 0.05. */
  alpha?: number;
  /** The value of the difference under H0. Default 0. */
  nullValue?: number;
}

export interface TestResult {
  /** The estimated difference (mean, or mean x − mean y). */
  estimate: number;
  standardError: number;
  /** Z or t. */
  statistic: number;
  /** Degrees of freedom (Infinity for z). */
  df: number;
  pValue: number;
  /** (1 − alpha) confidence interval; one-sided alternatives give a half-infinite interval. */
  lower: number;
  upper: number;
}

function sampleMoments(x: ArrayLike<number>, field: string): { n: number; mean: number; variance: number } {
  const n = x.length;
  if (n < 2) throw new RangeError(`${field}: got ${n} values, expected at least 2`);
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(x[i])) throw new RangeError(`${field}[${i}]: got ${x[i]}, expected a finite number`);
    mean += x[i];
  }
  mean /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[i] - mean) ** 2;
  return { n, mean, variance: ss / (n - 1) };
}

function finish(estimate: number, se: number, df: number, options: TestOptions): TestResult {
  const { alternative = 'two-sided', alpha = 0.05, nullValue = 0 } = options;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha: got ${alpha}, expected a number in (0, 1)`);
  if (!['two-sided', 'greater', 'less'].includes(alternative)) throw new RangeError(`alternative: got ${JSON.stringify(alternative)}, expected two-sided, greater or less`);
  const statistic = (estimate - nullValue) / se;
  const cdf = (t: number) => (df === Infinity ? normalCdf(t) : studentTCdf(t, df));
  const sf = (t: number) => (df === Infinity ? normalSf(t) : 1 - studentTCdf(t, df));
  const q = (p: number) => (df === Infinity ? normalQuantile(p) : studentTQuantile(p, df));
  let pValue: number, lower: number, upper: number;
  if (alternative === 'two-sided') {
    pValue = Math.min(1, 2 * (statistic >= 0 ? sf(statistic) : cdf(statistic)));
    const c = q(1 - alpha / 2);
    lower = estimate - c * se;
    upper = estimate + c * se;
  } else if (alternative === 'greater') {
    pValue = sf(statistic);
    lower = estimate - q(1 - alpha) * se;
    upper = Infinity;
  } else {
    pValue = cdf(statistic);
    lower = -Infinity;
    upper = estimate + q(1 - alpha) * se;
  }
  return { estimate, standardError: se, statistic, df, pValue, lower, upper };
}

/** z-test of an estimate with a standard error (e.g. from OPE: sd of per-round values / √n). */
export function zTestFromEstimate(estimate: number, standardError: number, options: TestOptions = {}): TestResult {
  if (!(standardError > 0) || !Number.isFinite(standardError)) throw new RangeError(`standardError: got ${standardError}, expected a finite number > 0`);
  return finish(estimate, standardError, Infinity, options);
}

/** Large-sample z-test of the mean of `x` (pass per-round differences for a paired test). */
export function zTest(x: ArrayLike<number>, options: TestOptions = {}): TestResult {
  const { n, mean, variance } = sampleMoments(x, 'x');
  return zTestFromEstimate(mean, Math.sqrt(variance / n), options);
}

/** Welch's unequal-variance t-test of mean(x) − mean(y). */
export function welchTTest(x: ArrayLike<number>, y: ArrayLike<number>, options: TestOptions = {}): TestResult {
  const a = sampleMoments(x, 'x');
  const b = sampleMoments(y, 'y');
  const vx = a.variance / a.n, vy = b.variance / b.n;
  const se = Math.sqrt(vx + vy);
  if (!(se > 0)) throw new RangeError('x, y: both samples are constant, so the standard error is 0 and the t statistic undefined');
  const df = (vx + vy) ** 2 / (vx ** 2 / (a.n - 1) + vy ** 2 / (b.n - 1));
  return finish(a.mean - b.mean, se, df, options);
}
