/**
 * Self-Normalized IPW (SNIPW), OBP's `SelfNormalizedInverseProbabilityWeighting`.
 *
 *   V̂_SNIPW(π_e; D) = Σ_i w_i r_i / Σ_i w_i,   per-round value w_i r_i / ((1/n) Σ_j w_j)
 *
 * Inputs as IPW (no clipping). Biased but consistent; stays within the range of observed rewards.
 * As in OBP, the normaliser is computed once on all rounds and the bootstrap resamples the
 * per-round values.
 *
 * References: A. Swaminathan and T. Joachims, "The Self-Normalized Estimator for Counterfactual
 * Learning", NeurIPS 2015. N. Kallus and M. Uehara, "Intrinsically Efficient, Stable, and Bounded
 * Off-Policy Evaluation for Reinforcement Learning", NeurIPS 2019.
 */
import { importanceWeights, meanOf } from './base';
import { InverseProbabilityWeighting } from './ipw';
import type { CheckedOpeInputs } from './types';

export class SelfNormalizedInverseProbabilityWeighting extends InverseProbabilityWeighting {
  override readonly estimatorName: string = 'snipw';

  constructor() {
    super({});
  }

  protected override estimateRoundRewards(c: CheckedOpeInputs): Float64Array {
    const w = importanceWeights(c);
    const meanW = meanOf(w);
    if (!(meanW > 0)) throw new Error('snipw: every importance weight is 0 (the evaluation policy never takes a logged action), so the self-normalised estimate is undefined');
    const r = c.reward!;
    for (let i = 0; i < w.length; i++) w[i] = (r[i] * w[i]) / meanW;
    return w;
  }
}
