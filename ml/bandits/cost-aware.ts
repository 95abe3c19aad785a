/**
 * Cost–quality trade-offs (seed 001, use case 4).
 *
 *   costAwareReward:  r = quality − λ·cost   (λ: quality points one unit of cost is worth giving up)
 *   paretoFrontier:   the arms no other arm dominates, i.e. none has quality ≥ and cost ≤ with one
 *                     of the two strict. Every λ ≥ 0 picks its best arm on this frontier.
 */

export interface QualityCost {
  quality: number;
  cost: number;
}

/** quality − λ·cost. */
export function costAwareReward(quality: number, cost: number, lambda: number): number {
  for (const [name, v] of [['quality', quality], ['cost', cost], ['lambda', lambda]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`costAwareReward: ${name} must be a finite number, got ${String(v)}`);
  }
  if (lambda < 0) throw new Error(`costAwareReward: lambda must be >= 0, got ${lambda}`);
  return quality - lambda * cost;
}

/** True when `a` dominates `b`: at least as good on both, strictly better on one. */
export function dominates(a: QualityCost, b: QualityCost): boolean {
  return a.quality >= b.quality && a.cost <= b.cost && (a.quality > b.quality || a.cost < b.cost);
}

/**
 * Indices of the non-dominated points, ordered by increasing cost (and so increasing quality).
 * Exact duplicates are all kept. O(n log n): sort by cost, sweep keeping the running best quality.
 */
export function paretoFrontier(points: readonly QualityCost[]): number[] {
  points.forEach((p, i) => {
    if (!p || !Number.isFinite(p.quality) || !Number.isFinite(p.cost)) {
      throw new Error(`paretoFrontier: points[${i}] must have finite quality and cost, got ${JSON.stringify(p)}`);
    }
  });
  const order = points.map((_, i) => i).sort((i, j) => points[i].cost - points[j].cost || points[j].quality - points[i].quality);
  const out: number[] = [];
  let bestQuality = -Infinity;
  let last: QualityCost | null = null;
  for (const i of order) {
    const p = points[i];
    if (last && p.cost === last.cost && p.quality === last.quality) {
      out.push(i);
      continue;
    }
    if (p.quality > bestQuality) {
      out.push(i);
      bestQuality = p.quality;
      last = p;
    }
  }
  return out;
}
