/**
 * The standard normal distribution: density, CDF, upper tail and quantile.
 *
 * - CDF: for |x| < 3 Marsaglia's series Φ(x) = ½ + φ(x)·Σ x^{2k+1}/(1·3·…·(2k+1)) (all terms
 *   positive, no cancellation); beyond, the Laplace continued fraction for the Mills ratio
 *   Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))), so tails keep their relative precision.
 *   (G. Marsaglia, "Evaluating the Normal Distribution", J. Stat. Software 11(4), 2004.)
 * - Quantile: P. J. Acklam's rational approximation (relative error 1.15e-9) polished by two Halley
 *   steps on the accurate CDF, giving full double precision.
 */

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { exp, sqrt, log, log1p, abs, PI } = Math;

const SQRT_2PI = sqrt(2 * PI);

/** φ(x), the standard normal density. */
export function normalPdf(x: number): number {
  return exp(-0.5 * x * x) / SQRT_2PI;
}

/** Upper tail Q(x) = 1 − Φ(x), accurate in relative terms far into the tail. */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x < 0) return 1 - normalSf(-x);
  if (x < 3) return 0.5 - marsagliaSeries(x);
  if (x > 40) return 0;
  // Continued fraction Q(x) = φ(x) / (x + 1/(x + 2/(x + 3/(x + …)))), evaluated bottom-up.
  let f = x;
  for (let k = 80; k >= 1; k--) f = x + k / f;
  return normalPdf(x) / f;
}

/** Φ(x), the standard normal CDF. */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (abs(x) < 3) return 0.5 + marsagliaSeries(x);
  return x > 0 ? 1 - normalSf(x) : normalSf(-x);
}

/** Φ(x) − ½ for |x| < 3 by the series φ(x)·(x + x³/3 + x⁵/(3·5) + …). */
function marsagliaSeries(x: number): number {
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let k = 1; k < 200; k++) {
    term *= x2 / (2 * k + 1);
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  return sum * normalPdf(x);
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Φ⁻¹(p): the x with Φ(x) = p, for p in (0, 1); −∞ and +∞ at 0 and 1. */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`normalQuantile expects p in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const pLow = 0.02425;
  let x: number;
  if (p < pLow) {
    const q = sqrt(-2 * log(p));
    x = (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  } else if (p <= 1 - pLow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q) / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1);
  } else {
    const q = sqrt(-2 * log1p(-p));
    x = -(((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5]) / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1);
  }
  // Halley refinement: e = Φ(x) − p computed on the side where it keeps its precision.
  for (let i = 0; i < 2; i++) {
    const e = p < 0.5 ? normalCdf(x) - p : (1 - p) - normalSf(x);
    const u = e * SQRT_2PI * exp(0.5 * x * x);
    x = x - u / (1 + 0.5 * x * u);
  }
  return x;
}
