/**
 * The policy model's metrics at a decision threshold, and their percentile-bootstrap intervals
 * (bench/oumi-policy.ts reports them for seed 003's targets). Positive class = APPROVE:
 *  - accuracy;
 *  - FPR = bad decisions approved / bad decisions;
 *  - FNR = good decisions flagged / good decisions;
 *  - override rate = approved items whose label is bad / approved items (0 when nothing is approved,
 *    as python/evaluate_policy.py reports it).
 * The same definitions as python/evaluate_policy.py. The bootstrap resamples the items (with
 * replacement, n of n) and recomputes each metric; the interval is the α/2 and 1 − α/2 percentiles
 * (numpy's linear interpolation). A ratio undefined in a resample (no bad items, say) is left out of
 * that metric's percentiles. Pure and seeded.
 */
import { percentile } from '../stats/bootstrap';
import { Xorshift128 } from '../stats/fast-random';

export interface ScoredLabel {
  /** The label the item is measured against. */
  label: 'APPROVE' | 'FLAG';
  p_approve: number;
}

export interface PolicyRates {
  n: number;
  accuracy: number;
  fpr: number | null;
  fnr: number | null;
  overrideRate: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

export type RateName = 'accuracy' | 'fpr' | 'fnr' | 'overrideRate';
export const RATE_NAMES: readonly RateName[] = ['accuracy', 'fpr', 'fnr', 'overrideRate'];

export interface RateInterval {
  value: number | null;
  lower: number | null;
  upper: number | null;
}

function rates(tp: number, fp: number, tn: number, fn: number): PolicyRates {
  const n = tp + fp + tn + fn;
  return {
    n,
    accuracy: (tp + tn) / n,
    fpr: fp + tn > 0 ? fp / (fp + tn) : null,
    fnr: fn + tp > 0 ? fn / (fn + tp) : null,
    overrideRate: tp + fp > 0 ? fp / (tp + fp) : 0,
    confusion: { tp, fp, tn, fn },
  };
}

/** The metrics of approving when p_approve ≥ threshold. */
export function policyRates(items: readonly ScoredLabel[], threshold: number): PolicyRates {
  if (items.length === 0) throw new Error('policyRates: items is empty; expected scored items');
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const { label, p_approve: p } of items) {
    const approved = p >= threshold;
    if (approved && label === 'APPROVE') tp++;
    else if (approved) fp++;
    else if (label === 'FLAG') tn++;
    else fn++;
  }
  return rates(tp, fp, tn, fn);
}

export interface RateBootstrapOptions {
  /** Resamples. Default 2,000. */
  resamples?: number;
  /** The interval covers 1 − alpha. Default 0.05. */
  alpha?: number;
  seed?: number;
}

/** Each metric at `threshold` with its percentile-bootstrap interval over the items. */
export function bootstrapPolicyRates(items: readonly ScoredLabel[], threshold: number, options: RateBootstrapOptions = {}): Record<RateName, RateInterval> {
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  if (!Number.isInteger(resamples) || resamples < 2) throw new Error(`bootstrapPolicyRates: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`bootstrapPolicyRates: alpha must be in (0, 1), got ${alpha}`);
  const point = policyRates(items, threshold);
  // Each item is one of the four confusion cells, so a resample (n draws with replacement) is exactly the
  // Multinomial(n; cell shares) counts, drawn as conditional binomials: O(1) per resample.
  const { tp, fp, tn, fn } = point.confusion;
  const n = point.n;
  const rng = new Xorshift128(options.seed ?? 0);
  const draws: Record<RateName, number[]> = { accuracy: [], fpr: [], fnr: [], overrideRate: [] };
  for (let r = 0; r < resamples; r++) {
    const a = rng.binomial(n, tp / n);
    const b = n - a > 0 && fp + tn + fn > 0 ? rng.binomial(n - a, fp / (fp + tn + fn)) : 0;
    const c = n - a - b > 0 && tn + fn > 0 ? rng.binomial(n - a - b, tn / (tn + fn)) : 0;
    const sample = rates(a, b, c, n - a - b - c);
    for (const name of RATE_NAMES) {
      const value = sample[name];
      if (value !== null) draws[name].push(value);
    }
  }
  const out = {} as Record<RateName, RateInterval>;
  for (const name of RATE_NAMES) {
    const sorted = draws[name].sort((a, b) => a - b);
    out[name] = {
      value: point[name],
      lower: sorted.length > 1 ? percentile(sorted, alpha / 2) : null,
      upper: sorted.length > 1 ? percentile(sorted, 1 - alpha / 2) : null,
    };
  }
  return out;
}

export interface RateChange {
  before: number | null;
  after: number | null;
  /** after − before. */
  change: number | null;
  lower: number | null;
  upper: number | null;
}

/**
 * Two models (or thresholds) on the same items: each metric before and after, and the change after − before
 * with a paired percentile-bootstrap interval — each resample draws the same items for both, so what the
 * two share cancels out and the interval is much narrower than two separate intervals suggest. The items
 * must be the same in the same order (same labels). Seeded; a ratio undefined in a resample is left out.
 */
export function pairedRateChange(before: readonly ScoredLabel[], thresholdBefore: number, after: readonly ScoredLabel[], thresholdAfter: number, options: RateBootstrapOptions = {}): Record<RateName, RateChange> {
  const resamples = options.resamples ?? 2000;
  const alpha = options.alpha ?? 0.05;
  if (before.length === 0) throw new Error('pairedRateChange: no items; expected the same scored items before and after');
  if (before.length !== after.length) throw new Error(`pairedRateChange: ${before.length} items before but ${after.length} after; expected the same items in the same order`);
  if (!Number.isInteger(resamples) || resamples < 2) throw new Error(`pairedRateChange: resamples must be an integer ≥ 2, got ${resamples}`);
  if (!(alpha > 0 && alpha < 1)) throw new Error(`pairedRateChange: alpha must be in (0, 1), got ${alpha}`);
  // Each item's confusion cell before and after (0 tp, 1 fp, 2 tn, 3 fn), packed as before * 4 + after.
  const cell = (label: ScoredLabel['label'], p: number, t: number): number => (p >= t ? (label === 'APPROVE' ? 0 : 1) : label === 'FLAG' ? 2 : 3);
  const n = before.length;
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (before[i].label !== after[i].label) throw new Error(`pairedRateChange: item ${i} is ${before[i].label} before but ${after[i].label} after; expected the same items in the same order`);
    codes[i] = cell(before[i].label, before[i].p_approve, thresholdBefore) * 4 + cell(after[i].label, after[i].p_approve, thresholdAfter);
  }
  const fromCounts = (counts: Float64Array): [PolicyRates, PolicyRates] => {
    const b = [0, 0, 0, 0];
    const a = [0, 0, 0, 0];
    for (let k = 0; k < 16; k++) {
      b[k >> 2] += counts[k];
      a[k & 3] += counts[k];
    }
    return [rates(b[0], b[1], b[2], b[3]), rates(a[0], a[1], a[2], a[3])];
  };
  const all = new Float64Array(16);
  for (let i = 0; i < n; i++) all[codes[i]]++;
  const [pb, pa] = fromCounts(all);
  const rng = new Xorshift128(options.seed ?? 0);
  const draws: Record<RateName, number[]> = { accuracy: [], fpr: [], fnr: [], overrideRate: [] };
  const counts = new Float64Array(16);
  for (let r = 0; r < resamples; r++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) counts[codes[rng.index(n)]]++;
    const [sb, sa] = fromCounts(counts);
    for (const name of RATE_NAMES) {
      const x = sb[name];
      const y = sa[name];
      if (x !== null && y !== null) draws[name].push(y - x);
    }
  }
  const out = {} as Record<RateName, RateChange>;
  for (const name of RATE_NAMES) {
    const sorted = draws[name].sort((a, b) => a - b);
    const x = pb[name];
    const y = pa[name];
    out[name] = {
      before: x,
      after: y,
      change: x !== null && y !== null ? y - x : null,
      lower: sorted.length > 1 ? percentile(sorted, alpha / 2) : null,
      upper: sorted.length > 1 ? percentile(sorted, 1 - alpha / 2) : null,
    };
  }
  return out;
}
