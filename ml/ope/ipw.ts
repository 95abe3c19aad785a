/**
 * Inverse Probability Weighting (IPW), OBP's `InverseProbabilityWeighting`.
 *
 *   V̂_IPW(π_e; D) = (1/n) Σ_i min{λ, w(x_i, a_i)} · r_i,   w(x, a) = π_e(a | x) / π_b(a | x)
 *
 * Inputs: reward, action, pscore (n_rounds,); actionDist (n_rounds, n_actions, len_list).
 * Unbiased when π_b is known and λ = ∞; clipping at a finite λ trades bias for variance.
 *
 * References: A. Strehl, J. Langford, L. Li, S. Kakade, "Learning from Logged Implicit Exploration
 * Data", NeurIPS 2010. M. Dudík, D. Erhan, J. Langford, L. Li, "Doubly Robust Policy Evaluation
 * and Optimization", Statistical Science 2014.
 */
import { BaseOffPolicyEstimator, importanceWeights } from './base';
import { checkLambda } from './check';
import type { CheckedOpeInputs, OpeField } from './types';

export class InverseProbabilityWeighting extends BaseOffPolicyEstimator {
  readonly estimatorName: string = 'ipw';
  readonly requires: readonly OpeField[] = ['reward', 'action', 'pscore'];
  /** Largest importance weight kept (OBP's `lambda_`); Infinity means no clipping. */
  readonly lambda: number;

  constructor(options: { lambda?: number } = {}) {
    super();
    this.lambda = checkLambda(options.lambda ?? Infinity, 'InverseProbabilityWeighting');
  }

  override weightsUsed(c: CheckedOpeInputs): Float64Array | null {
    const w = super.weightsUsed(c);
    if (w) for (let i = 0; i < w.length; i++) w[i] = Math.min(w[i], this.lambda);
    return w;
  }

  protected estimateRoundRewards(c: CheckedOpeInputs): Float64Array {
    const w = importanceWeights(c);
    const r = c.reward!;
    for (let i = 0; i < w.length; i++) w[i] = r[i] * Math.min(w[i], this.lambda);
    return w;
  }
}
