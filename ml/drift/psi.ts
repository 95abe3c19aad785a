/**
 * Population Stability Index between a reference sample (training / last week) and a current one,
 * bucketed on the reference's quantiles:
 *
 *   edges = reference quantiles at 1/B, …, (B−1)/B (linear interpolation, numpy's default),
 *   bins (−∞, e₁], (e₁, e₂], …, (e_{B−1}, ∞) (duplicate edges from ties are merged),
 *   PSI = Σ_i (a_i − e_i) ln(a_i / e_i),  e_i / a_i = reference / current share of bin i
 *
 * A share of 0 is replaced by `epsilon` (default 1e-4) so empty bins give a large but finite term.
 * Bands (the industry convention): PSI < 0.1 'stable', < 0.25 'moderate', otherwise 'significant'.
 */

export type PSIBand = 'stable' | 'moderate' | 'significant';

export interface PSIOptions {
  /** Number of quantile bins B (default 10). */
  bins?: number;
  /** Floor for empty-bin shares (default 1e-4). */
  epsilon?: number;
}

export interface PSIResult {
  psi: number;
  band: PSIBand;
  /** Inner bin edges (B − 1 of them, fewer when the reference has ties). */
  edges: number[];
  /** Reference share per bin. */
  expected: number[];
  /** Current share per bin. */
  actual: number[];
}

/** The band of a PSI value: < 0.1 stable, < 0.25 moderate, else significant. */
export function psiBand(psi: number): PSIBand {
  return psi < 0.1 ? 'stable' : psi < 0.25 ? 'moderate' : 'significant';
}

/** Quantile of sorted data at probability q, linear interpolation between order statistics. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

function checkSample(name: string, xs: readonly number[]): void {
  if (!Array.isArray(xs) || xs.length === 0) throw new Error(`psi: ${name} must be a non-empty array of numbers, got ${Array.isArray(xs) ? 'an empty array' : String(xs)}`);
  xs.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`psi: ${name}[${i}] must be a finite number, got ${String(v)}`);
  });
}

/** Shares of `xs` in the bins defined by ascending inner `edges` (right-closed bins). */
function shares(xs: readonly number[], edges: readonly number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const x of xs) {
    let lo = 0, hi = edges.length; // first edge ≥ x (binary search)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (edges[mid] >= x) hi = mid;
      else lo = mid + 1;
    }
    counts[lo]++;
  }
  return counts.map((c) => c / xs.length);
}

export function psi(reference: readonly number[], current: readonly number[], options: PSIOptions = {}): PSIResult {
  checkSample('reference', reference);
  checkSample('current', current);
  const bins = options.bins ?? 10;
  const epsilon = options.epsilon ?? 1e-4;
  if (!Number.isInteger(bins) || bins < 2) throw new Error(`psi: bins must be an integer >= 2, got ${String(bins)}`);
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon < 1)) throw new Error(`psi: epsilon must be a number in (0, 1), got ${String(epsilon)}`);
  const sorted = [...reference].sort((a, b) => a - b);
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) {
    const e = quantileSorted(sorted, i / bins);
    if (edges.length === 0 || e > edges[edges.length - 1]) edges.push(e);
  }
  const expected = shares(reference, edges);
  const actual = shares(current, edges);
  let value = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.max(expected[i], epsilon);
    const a = Math.max(actual[i], epsilon);
    value += (a - e) * Math.log(a / e);
  }
  return { psi: value, band: psiBand(value), edges, expected, actual };
}
