/**
 * Student's t distribution with ν degrees of freedom (ν may be fractional, as Welch's test needs).
 *
 * CDF through the regularised incomplete beta: for t ≥ 0, P(T ≤ t) = 1 − ½·I_{ν/(ν+t²)}(ν/2, ½).
 * Quantile: closed forms for ν = 1 (Cauchy) and ν = 2; otherwise Newton's method on the CDF from
 * the normal quantile, safeguarded by bisection on a bracket, to ~1e-13.
 */
import { logGamma, regularizedIncompleteBeta } from './special';
import { normalCdf, normalQuantile } from './normal';

function checkDf(df: number): void {
  if (!(df > 0)) throw new Error(`Student t expects degrees of freedom > 0, got ${df}`);
}

/** Density of t with `df` degrees of freedom. */
export function studentTPdf(t: number, df: number): number {
  checkDf(df);
  if (!Number.isFinite(df)) return Math.exp(-0.5 * t * t) / Math.sqrt(2 * Math.PI);
  const logC = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  return Math.exp(logC - ((df + 1) / 2) * Math.log1p((t * t) / df));
}

/** P(T ≤ t) for T ~ t(df). */
export function studentTCdf(t: number, df: number): number {
  checkDf(df);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(df) || df > 1e7) return normalCdf(t);
  if (t === Infinity) return 1;
  if (t === -Infinity) return 0;
  const tail = 0.5 * regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The t with P(T ≤ t) = p for T ~ t(df). */
export function studentTQuantile(p: number, df: number): number {
  checkDf(df);
  if (!(p >= 0 && p <= 1)) throw new Error(`studentTQuantile expects p in [0, 1], got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  if (p === 0.5) return 0;
  if (!Number.isFinite(df) || df > 1e7) return normalQuantile(p);
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) {
    const a = 4 * p * (1 - p);
    return (2 * p - 1) * Math.sqrt(2 / a);
  }
  if (p > 0.5) return -studentTQuantile(1 - p, df);
  // p < 0.5 from here: the quantile is negative. Bracket it, then Newton with bisection fallback.
  let hi = 0;
  let lo = Math.min(normalQuantile(p), -1);
  while (studentTCdf(lo, df) > p) lo *= 2;
  let x = Math.max(lo, Math.min(hi, normalQuantile(p) * (1 + (normalQuantile(p) ** 2 + 1) / (4 * df))));
  for (let i = 0; i < 200; i++) {
    const f = studentTCdf(x, df) - p;
    if (f > 0) hi = x; else lo = x;
    const step = f / studentTPdf(x, df);
    let next = x - step;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - x) <= 1e-14 * Math.max(1, Math.abs(x))) return next;
    x = next;
  }
  return x;
}
