/**
 * Two-sample Kolmogorov–Smirnov test (two-sided) with the asymptotic p-value.
 *
 *   D = sup_x |F₁(x) − F₂(x)|   (empirical CDFs; ties advance both samples together)
 *   p ≈ Q_KS(√(n₁n₂/(n₁+n₂)) · D),   Q_KS(z) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²z²}
 *
 * Q_KS is the survival function of the Kolmogorov distribution (scipy.special.kolmogorov,
 * scipy.stats.kstwobign.sf). For small z the alternating series converges slowly, so there the
 * equivalent theta-function form 1 − (√(2π)/z) Σ_{k≥1} e^{−(2k−1)²π²/(8z²)} is used (z < 1.18,
 * as in Numerical Recipes). Note: scipy.stats.ks_2samp(method='asymp') instead uses the finite-n
 * distribution kstwo(round(n₁n₂/(n₁+n₂))); both agree as the samples grow.
 */

export interface KSResult {
  /** D, the largest distance between the two empirical CDFs. */
  statistic: number;
  /** Asymptotic two-sided p-value Q_KS(√nₑ · D). */
  pValue: number;
  /** Effective sample size nₑ = n₁n₂/(n₁+n₂). */
  effectiveN: number;
}

function checkSample(name: string, xs: readonly number[]): number[] {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`ksTwoSample: ${name} must be a non-empty array of numbers, got ${Array.isArray(xs) ? 'an empty array' : String(xs)}`);
  xs.forEach((v, i) => {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new Error(`ksTwoSample: ${name}[${i}] must be a number, got ${String(v)}`);
  });
  return [...xs].sort((a, b) => a - b);
}

/** Kolmogorov survival function Q_KS(z) = P(K > z). */
export function kolmogorovSf(z: number): number {
  if (Number.isNaN(z)) return Number.NaN;
  if (z <= 0) return 1;
  if (z < 1.18) {
    // 1 − (√(2π)/z) Σ exp(−(2k−1)²π²/(8z²))
    const w = (Math.PI * Math.PI) / (8 * z * z);
    let s = 0;
    for (let k = 1; k < 50; k++) {
      const term = Math.exp(-(2 * k - 1) * (2 * k - 1) * w);
      s += term;
      if (term < 1e-17 * s) break;
    }
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / z) * s));
  }
  let s = 0;
  for (let k = 1; k < 100; k++) {
    const term = Math.exp(-2 * k * k * z * z);
    s += k % 2 === 1 ? term : -term;
    if (term < 1e-17) break;
  }
  return Math.min(1, Math.max(0, 2 * s));
}

/** Two-sample KS test between a reference and a current sample. */
export function ksTwoSample(reference: readonly number[], current: readonly number[]): KSResult {
  const a = checkSample('reference', reference);
  const b = checkSample('current', current);
  const n1 = a.length, n2 = b.length;
  let i = 0, j = 0, d = 0;
  while (i < n1 && j < n2) {
    const x = Math.min(a[i], b[j]);
    while (i < n1 && a[i] === x) i++;
    while (j < n2 && b[j] === x) j++;
    const diff = Math.abs(i / n1 - j / n2);
    if (diff > d) d = diff;
  }
  const effectiveN = (n1 * n2) / (n1 + n2);
  return { statistic: d, pValue: kolmogorovSf(Math.sqrt(effectiveN) * d), effectiveN };
}
