/**
 * Switch Doubly Robust (Switch-DR), OBP's `SwitchDoublyRobust`.
 *
 *   V̂_SwitchDR(π_e; D, q̂, λ) = (1/n) Σ_i [ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) · 1{w_i ≤ λ} ]
 *
 * Inputs as DR. Where the importance weight exceeds λ the round falls back to DM alone; λ = ∞ is
 * DR, λ = 0 is DM (except for rounds with w_i = 0, where both agree anyway).
 *
 * References: Y.-X. Wang, A. Agarwal, M. Dudík, "Optimal and Adaptive Off-policy Evaluation in
 * Contextual Bandits", ICML 2017. Y. Su, M. Dimakopoulou, A. Krishnamurthy, M. Dudík, "Doubly
 * Robust Off-Policy Evaluation with Shrinkage", ICML 2020.
 */
import { DoublyRobust } from './dr';

export class SwitchDoublyRobust extends DoublyRobust {
  override readonly estimatorName: string = 'switch-dr';

  protected override residualWeight(w: number): number {
    return w <= this.lambda ? w : 0;
  }
}
