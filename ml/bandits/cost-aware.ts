/**
 * Cost–quality trade-offs (R-COST-QUALITY).
 *
 *   costAwareReward:  r = quality − λ·cost   (λ: quality points one unit of cost is worth giving up)
 *   paretoFrontier:   the arms no other arm dominates, i.e. none has quality ≥ and cost ≤ with one
 *                     of the two strict. Every λ ≥ 0 picks its best arm on this frontier.
 *                     Re-exported from ml/pareto.ts (with `dominates` and `QualityCost`).
 */

export { dominates, paretoFrontier, type QualityCost } from '../pareto';

/** quality − λ·cost. */
export function costAwareReward(quality: number, cost: number, lambda: number): number {
  for (const [name, v] of [['quality', quality], ['cost', cost], ['lambda', lambda]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`costAwareReward: ${name} must be a finite number, got ${String(v)}`);
  }
  if (lambda < 0) throw new Error(`costAwareReward: lambda must be >= 0, got ${lambda}`);
  return quality - lambda * cost;
}
