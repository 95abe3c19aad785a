/**
 * The Pareto frontier of quality (higher is better) against cost (lower is better), seed 002 §17:
 * the configs no other config beats on both. A point is dominated when another has cost ≤ and
 * quality ≥ with at least one strict. Ties (same cost and quality) are all kept.
 */
export interface QualityCost {
  quality: number;
  cost: number;
}

/** Indices of the non-dominated points, in increasing cost. O(n log n): sort by cost, sweep quality. */
export function paretoFrontier(points: readonly QualityCost[]): number[] {
  const order = points.map((_, i) => i).sort((a, b) => points[a].cost - points[b].cost || points[b].quality - points[a].quality);
  const out: number[] = [];
  let bestQuality = -Infinity;
  let last: QualityCost | null = null;
  for (const i of order) {
    const p = points[i];
    if (!Number.isFinite(p.quality) || !Number.isFinite(p.cost)) continue;
    if (p.quality > bestQuality || (last && p.quality === last.quality && p.cost === last.cost)) {
      out.push(i);
      if (p.quality > bestQuality) last = p;
      bestQuality = Math.max(bestQuality, p.quality);
    }
  }
  return out;
}
