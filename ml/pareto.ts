/**
 * The Pareto frontier of quality (higher is better) against cost (lower is better): the points no
 * other point dominates, i.e. none has quality ≥ and cost ≤ with one of the two strict. Every
 * trade-off weight λ ≥ 0 in quality − λ·cost picks its best point on this frontier. Used for bandit
 * arms (ml/bandits/cost-aware.ts) and for the PPO report's configs (activities/ppo/pareto.ts).
 */

export interface QualityCost {
  quality: number;
  cost: number;
}

export interface ParetoOptions {
  /** A point with a non-finite quality or cost: an error naming it (default), or left off the frontier. */
  nonFinite?: 'throw' | 'skip';
}

/** True when `a` dominates `b`: at least as good on both, strictly better on one. */
export function dominates(a: QualityCost, b: QualityCost): boolean {
  return a.quality >= b.quality && a.cost <= b.cost && (a.quality > b.quality || a.cost < b.cost);
}

/**
 * Indices of the non-dominated points, ordered by increasing cost (and so increasing quality).
 * Exact duplicates are all kept. O(n log n): sort by cost, sweep keeping the running best quality.
 */
export function paretoFrontier(points: readonly QualityCost[], opts: ParetoOptions = {}): number[] {
  const candidates: number[] = [];
  points.forEach((p, i) => {
    if (p && Number.isFinite(p.quality) && Number.isFinite(p.cost)) candidates.push(i);
    else if (opts.nonFinite !== 'skip') {
      throw new Error(`paretoFrontier: points[${i}] must have finite quality and cost, got ${JSON.stringify(p)}`);
    }
  });
  const order = candidates.sort((i, j) => points[i].cost - points[j].cost || points[j].quality - points[i].quality);
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
