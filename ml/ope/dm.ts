/**
 * Direct Method (DM), OBP's `DirectMethod`.
 *
 *   V̂_DM(π_e; D, q̂) = (1/n) Σ_i Σ_a π_e(a | x_i) q̂(x_i, a) = (1/n) Σ_i q̂(x_i, π_e)
 *
 * Inputs: actionDist and estimatedRewardsByRegModel (n_rounds, n_actions, len_list); position.
 * Accurate exactly when the reward model q̂ is; see `regression-model.ts` for fitting one.
 *
 * References: A. Beygelzimer and J. Langford, "The Offset Tree for Learning with Partial Labels",
 * KDD 2009. M. Dudík, D. Erhan, J. Langford, L. Li, "Doubly Robust Policy Evaluation and
 * Optimization", Statistical Science 2014.
 */
import { BaseOffPolicyEstimator, expectedRewardUnderPolicy } from './base';
import type { CheckedOpeInputs, OpeField } from './types';

export class DirectMethod extends BaseOffPolicyEstimator {
  readonly estimatorName: string = 'dm';
  readonly requires: readonly OpeField[] = ['estimatedRewardsByRegModel'];

  protected estimateRoundRewards(c: CheckedOpeInputs): Float64Array {
    return expectedRewardUnderPolicy(c);
  }
}
