/**
 * The Pareto frontier of quality (higher is better) against cost (lower is better), R-TUNER-REPORT:
 * the configs no other config beats on both. A point is dominated when another has cost ≤ and
 * quality ≥ with at least one strict. Ties (same cost and quality) are all kept. Configs whose
 * quality or cost is not finite (not measured) are left off. The math is ml/pareto.ts.
 */
import { paretoFrontier as frontier, type QualityCost } from '../../ml/pareto';

export type { QualityCost };

/** Indices of the non-dominated points with finite quality and cost, in increasing cost. */
export function paretoFrontier(points: readonly QualityCost[]): number[] {
  return frontier(points, { nonFinite: 'skip' });
}
