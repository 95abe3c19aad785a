/**
 * Doubly Robust (DR), OBP's `DoublyRobust`.
 *
 *   V̂_DR(π_e; D, q̂) = (1/n) Σ_i [ q̂(x_i, π_e) + min{λ, w(x_i, a_i)} · (r_i − q̂(x_i, a_i)) ]
 *
 * Inputs: reward, action, pscore (n_rounds,); actionDist, estimatedRewardsByRegModel
 * (n_rounds, n_actions, len_list). Consistent if either π_b or q̂ is right; the reward model acts
 * as a control variate, so DR has lower variance than IPW when q̂ is good. A finite λ clips the
 * weights (DR with pessimistic shrinkage / CAB-DR).
 *
 * References: M. Dudík, D. Erhan, J. Langford, L. Li, "Doubly Robust Policy Evaluation and
 * Optimization", Statistical Science 2014. M. Farajtabar, Y. Chow, M. Ghavamzadeh, "More Robust
 * Doubly Robust Off-policy Evaluation", ICML 2018. Y. Su, M. Dimakopoulou, A. Krishnamurthy,
 * M. Dudík, "Doubly Robust Off-Policy Evaluation with Shrinkage", ICML 2020.
 */
import { BaseOffPolicyEstimator, expectedRewardUnderPolicy, factualRewardPrediction, importanceWeights } from './base';
import { checkLambda } from './check';
import type { CheckedOpeInputs, OpeField } from './types';

export class DoublyRobust extends BaseOffPolicyEstimator {
  readonly estimatorName: string = 'dr';
  readonly requires: readonly OpeField[] = ['reward', 'action', 'pscore', 'estimatedRewardsByRegModel'];
  /** λ: clipping threshold for DR; the switching / shrinkage parameter in subclasses. */
  readonly lambda: number;

  constructor(options: { lambda?: number } = {}) {
    super();
    this.lambda = checkLambda(options.lambda ?? this.defaultLambda(), this.constructor.name);
  }

  /** OBP's default `lambda_` for this estimator. */
  protected defaultLambda(): number {
    return Infinity;
  }

  /** The weight applied to the residual r_i − q̂(x_i, a_i), from the importance weight w_i. */
  protected residualWeight(w: number): number {
    return Math.min(w, this.lambda);
  }

  override weightsUsed(c: CheckedOpeInputs): Float64Array | null {
    const w = super.weightsUsed(c);
    if (w) for (let i = 0; i < w.length; i++) w[i] = this.residualWeight(w[i]);
    return w;
  }

  protected estimateRoundRewards(c: CheckedOpeInputs): Float64Array {
    const w = importanceWeights(c);
    const qPi = expectedRewardUnderPolicy(c);
    const qFactual = factualRewardPrediction(c);
    const r = c.reward!;
    const scale = this.residualScale(w);
    for (let i = 0; i < qPi.length; i++) qPi[i] += (this.residualWeight(w[i]) * (r[i] - qFactual[i])) / scale;
    return qPi;
  }

  /** A divisor for the residual term (1 for DR; the mean weight for SNDR). */
  protected residualScale(_w: Float64Array): number {
    return 1;
  }
}
