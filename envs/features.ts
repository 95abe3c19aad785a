/**
 * State features of the RAG-tuning environment (R-TUNER-STATE), in a fixed order:
 *
 *   idx  name              raw value                                        scaling
 *   0    f_mean            mean faithfulness over the last N batches        robust
 *   1    r_mean            mean relevancy over the last N batches           robust
 *   2    lat_p50           mean p50 latency / T_l over the last N batches   robust
 *   3    lat_p95           mean p95 latency / T_l over the last N batches   robust
 *   4    cost              mean cost per request / C_ref, last N batches    robust
 *   5…   variant=<id>      one-hot of the current retriever variant         none (0/1)
 *   ·    k                 (k − k_min) / (k_max − k_min)                     none ([0, 1])
 *   ·    rerank            1 if re-rank is on                               none (0/1)
 *   ·    fusion_w          (w − w_min) / (w_max − w_min), clipped to [0, 1]  none ([0, 1])
 *   ·    prompt=<id>       one-hot of the current prompt template           none (0/1)
 *   ·    corpus_docs       log10(documents in the index)                    robust
 *   ·    corpus_age        min(age days, max_corpus_age_days)               robust
 *   ·    category=<id>     one-hot of the question category (zeros if none) none (0/1)
 *
 * With the default policy config (2 variants, 3 prompts) and 3 categories that is 18 features
 * (`DEFAULT_OBSERVATION_SIZE`). "N batches" is R-TUNER-STATE's "last N episodes" (there an episode is one
 * batch evaluation). Before the first batch of an episode the window is empty and the quality,
 * latency and cost features sit at the reference median (scaled value 0).
 *
 * Robust scaling: z = (x − median) / (IQR / 1.349), clipped to [−3, 3]. IQR/1.349 is the standard
 * deviation of a normal with that IQR, so the clip is a ±3σ clip. The median and IQR come from a
 * reference (`FeatureReference`): `DEFAULT_FEATURE_REFERENCE` was fitted with `fitFeatureReference` on
 * the states of 300 simulator episodes of uniformly random actions over the three datasets (rounded;
 * `features.test.ts` re-fits on other seeds and compares).
 */
import type { PolicySection } from './config';
import type { Evaluation, RagConfig } from './types';

/** Names of the robust-scaled features, in the order of `FeatureReference`'s arrays. */
export const SCALED_FEATURES = ['f_mean', 'r_mean', 'lat_p50', 'lat_p95', 'cost', 'corpus_docs', 'corpus_age'] as const;
export type ScaledFeature = (typeof SCALED_FEATURES)[number];

export interface FeatureReference {
  median: Record<ScaledFeature, number>;
  iqr: Record<ScaledFeature, number>;
}

/** Fitted on simulator batches of random configs (see the file comment). */
export const DEFAULT_FEATURE_REFERENCE: FeatureReference = {
  median: { f_mean: 0.8, r_mean: 0.81, lat_p50: 0.67, lat_p95: 0.86, cost: 0.93, corpus_docs: 4.08, corpus_age: 45 },
  iqr: { f_mean: 0.09, r_mean: 0.06, lat_p50: 0.07, lat_p95: 0.09, cost: 0.25, corpus_docs: 1.14, corpus_age: 173 },
};

/** IQR of a standard normal: IQR / this = σ. */
export const IQR_TO_SIGMA = 1.349;
export const CLIP_SIGMA = 3;

/** z = (x − median) / (IQR / 1.349), clipped to ±3. A zero IQR scales by 1. */
export function robustScale(x: number, median: number, iqr: number): number {
  const sigma = iqr > 0 ? iqr / IQR_TO_SIGMA : 1;
  const z = (x - median) / sigma;
  return Math.max(-CLIP_SIGMA, Math.min(CLIP_SIGMA, z));
}

/** Median and IQR (linear-interpolated quartiles) of each scaled feature over `rows`. */
export function fitFeatureReference(rows: Array<Record<ScaledFeature, number>>): FeatureReference {
  if (rows.length === 0) throw new Error('fitFeatureReference needs at least one row, got 0');
  const median = {} as Record<ScaledFeature, number>;
  const iqr = {} as Record<ScaledFeature, number>;
  for (const name of SCALED_FEATURES) {
    const xs = rows.map((r) => r[name]).sort((a, b) => a - b);
    median[name] = quantile(xs, 0.5);
    iqr[name] = quantile(xs, 0.75) - quantile(xs, 0.25);
  }
  return { median, iqr };
}

/** Quantile of sorted values with linear interpolation (type 7, as numpy's default). */
export function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export interface FeatureInput {
  /** Evaluations of the last batches, oldest first (only the last `rollingWindow` are used). */
  history: readonly Evaluation[];
  /** The config currently set. */
  config: RagConfig;
  corpus: { documents: number; ageDays: number };
  /** The question category shown to the policy, or null for none. */
  category: string | null;
}

export interface FeatureBuilderOptions {
  policy: Pick<PolicySection, 'bounds' | 'discrete' | 'thresholds' | 'cost_ref'>;
  categories: readonly string[];
  rollingWindow: number;
  maxCorpusAgeDays: number;
  reference?: FeatureReference;
}

/** Builds observation vectors in the documented order. */
export class FeatureBuilder {
  readonly names: string[];
  readonly size: number;
  private readonly reference: FeatureReference;

  constructor(private readonly options: FeatureBuilderOptions) {
    if (!Number.isInteger(options.rollingWindow) || options.rollingWindow < 1) {
      throw new Error(`rollingWindow must be an integer ≥ 1, got ${options.rollingWindow}`);
    }
    this.reference = options.reference ?? DEFAULT_FEATURE_REFERENCE;
    const { discrete } = options.policy;
    this.names = [
      'f_mean', 'r_mean', 'lat_p50', 'lat_p95', 'cost',
      ...discrete.variant.map((v) => `variant=${v}`),
      'k', 'rerank', 'fusion_w',
      ...discrete.prompt_id.map((p) => `prompt=${p}`),
      'corpus_docs', 'corpus_age',
      ...options.categories.map((c) => `category=${c}`),
    ];
    this.size = this.names.length;
  }

  /** The unscaled values of the robust-scaled features (used to fit a reference). */
  rawScaled(input: FeatureInput): Record<ScaledFeature, number> {
    const { thresholds, cost_ref } = this.options.policy;
    const window = input.history.slice(-this.options.rollingWindow);
    const mean = (f: (e: Evaluation) => number, fallback: number) =>
      window.length === 0 ? fallback : window.reduce((s, e) => s + f(e), 0) / window.length;
    const m = this.reference.median;
    return {
      f_mean: mean((e) => e.faithfulness, m.f_mean),
      r_mean: mean((e) => e.relevancy, m.r_mean),
      lat_p50: mean((e) => e.latency_ms.p50 / thresholds.p95_latency_ms, m.lat_p50),
      lat_p95: mean((e) => e.latency_ms.p95 / thresholds.p95_latency_ms, m.lat_p95),
      cost: mean((e) => e.cost_usd / cost_ref, m.cost),
      corpus_docs: Math.log10(Math.max(1, input.corpus.documents)),
      corpus_age: Math.min(Math.max(0, input.corpus.ageDays), this.options.maxCorpusAgeDays),
    };
  }

  /** The observation vector (length `size`). */
  build(input: FeatureInput): Float64Array {
    const { bounds, discrete } = this.options.policy;
    const raw = this.rawScaled(input);
    const scaled = (name: ScaledFeature) => robustScale(raw[name], this.reference.median[name], this.reference.iqr[name]);
    const out = new Float64Array(this.size);
    let i = 0;
    out[i++] = scaled('f_mean');
    out[i++] = scaled('r_mean');
    out[i++] = scaled('lat_p50');
    out[i++] = scaled('lat_p95');
    out[i++] = scaled('cost');
    for (const v of discrete.variant) out[i++] = input.config.variant === v ? 1 : 0;
    out[i++] = unit(input.config.k, bounds.k.min, bounds.k.max);
    out[i++] = input.config.rerank ? 1 : 0;
    out[i++] = unit(input.config.fusion_weight, bounds.fusion_weight.min, bounds.fusion_weight.max);
    for (const p of discrete.prompt_id) out[i++] = input.config.prompt_id === p ? 1 : 0;
    out[i++] = scaled('corpus_docs');
    out[i++] = scaled('corpus_age');
    if (input.category !== null && !this.options.categories.includes(input.category)) {
      throw new Error(`unknown question category ${JSON.stringify(input.category)} (expected one of ${this.options.categories.join(', ')})`);
    }
    for (const c of this.options.categories) out[i++] = input.category === c ? 1 : 0;
    return out;
  }
}

/** (x − lo) / (hi − lo) clipped to [0, 1]; 0 when the range is empty. */
function unit(x: number, lo: number, hi: number): number {
  if (hi <= lo) return 0;
  return Math.max(0, Math.min(1, (x - lo) / (hi - lo)));
}

/** Observation length for a policy config and a category list. */
export function observationSize(policy: Pick<PolicySection, 'discrete'>, categories: readonly string[]): number {
  return 5 + policy.discrete.variant.length + 3 + policy.discrete.prompt_id.length + 2 + categories.length;
}

/** Observation length with the default policy config and the simulator's three categories. */
export const DEFAULT_OBSERVATION_SIZE = 18;
