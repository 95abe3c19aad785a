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
