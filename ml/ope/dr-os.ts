/**
 * Doubly Robust with optimistic shrinkage (DRos), OBP's `DoublyRobustWithShrinkage`.
 *
 *   ŵ(x, a; λ) = λ w / (w² + λ)
 *   V̂_DRos(π_e; D, q̂, λ) = (1/n) Σ_i [ q̂(x_i, π_e) + ŵ(x_i, a_i; λ) (r_i − q̂(x_i, a_i)) ]
 *
 * Inputs as DR. λ = 0 gives DM, λ → ∞ gives DR (OBP's default λ is 0). One deliberate difference
 * from OBP: with λ = 0 and w = 0, OBP's formula gives 0/0 = NaN; here ŵ = 0, its limit.
 *
 * Reference: Y. Su, M. Dimakopoulou, A. Krishnamurthy, M. Dudík, "Doubly Robust Off-Policy
 * Evaluation with Shrinkage", ICML 2020.
 */
import { DoublyRobust } from './dr';

export class DoublyRobustWithShrinkage extends DoublyRobust {
  override readonly estimatorName: string = 'dr-os';

  protected override defaultLambda(): number {
    return 0;
  }

  protected override residualWeight(w: number): number {
    if (this.lambda === Infinity) return w;
    if (this.lambda === 0) return 0;
    return (this.lambda * w) / (w * w + this.lambda);
  }
}
