/**
 * Self-Normalized Doubly Robust (SNDR), OBP's `SelfNormalizedDoublyRobust`.
 *
 *   V̂_SNDR(π_e; D, q̂) = (1/n) Σ_i [ q̂(x_i, π_e) + w_i (r_i − q̂(x_i, a_i)) / ((1/n) Σ_j w_j) ]
 *
 * Inputs as DR (no clipping). Self-normalising the residual term gains stability, as in SNIPW.
 *
 * References: M. Dudík, D. Erhan, J. Langford, L. Li, "Doubly Robust Policy Evaluation and
 * Optimization", 2014. N. Kallus and M. Uehara, "Intrinsically Efficient, Stable, and Bounded
 * Off-Policy Evaluation for Reinforcement Learning", NeurIPS 2019.
 */
import { meanOf } from './base';
import { DoublyRobust } from './dr';

export class SelfNormalizedDoublyRobust extends DoublyRobust {
  override readonly estimatorName: string = 'sndr';

  constructor() {
    super({});
  }

  protected override residualWeight(w: number): number {
    return w;
  }

  protected override residualScale(w: Float64Array): number {
    const m = meanOf(w);
    if (!(m > 0)) throw new Error('sndr: every importance weight is 0 (the evaluation policy never takes a logged action), so the self-normalised estimate is undefined');
    return m;
  }
}
