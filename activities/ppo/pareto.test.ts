import { paretoFrontier, type QualityCost } from './pareto';

/** Slow reference: a point is on the frontier when no other point dominates it. */
function bruteForce(points: QualityCost[]): number[] {
  const dominated = (a: QualityCost, b: QualityCost) => b.cost <= a.cost && b.quality >= a.quality && (b.cost < a.cost || b.quality > a.quality);
  return points
    .map((p, i) => i)
    .filter((i) => !points.some((q, j) => j !== i && dominated(points[i], q)))
    .sort((a, b) => points[a].cost - points[b].cost || a - b);
}

describe('paretoFrontier (max quality, min cost)', () => {
  it('keeps the non-dominated points in increasing cost', () => {
    const pts = [
      { quality: 0.8, cost: 1 }, // 0 frontier
      { quality: 0.7, cost: 2 }, // 1 dominated by 0
      { quality: 0.9, cost: 3 }, // 2 frontier
      { quality: 0.6, cost: 0.5 }, // 3 frontier (cheapest)
      { quality: 0.9, cost: 4 }, // 4 dominated by 2 (same quality, dearer)
    ];
    expect(paretoFrontier(pts)).toEqual([3, 0, 2]);
  });

  it('keeps exact ties and skips non-finite points', () => {
    expect(paretoFrontier([{ quality: 0.8, cost: 1 }, { quality: 0.8, cost: 1 }, { quality: NaN, cost: 0 }])).toEqual([0, 1]);
    expect(paretoFrontier([])).toEqual([]);
  });

  it('agrees with the brute-force definition on random clouds', () => {
    let s = 12345;
    const rand = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 50; trial++) {
      // Coarse values so ties happen.
      const pts = Array.from({ length: 40 }, () => ({ quality: Math.round(rand() * 10) / 10, cost: Math.round(rand() * 10) }));
      expect(paretoFrontier(pts).sort((a, b) => a - b)).toEqual(bruteForce(pts).sort((a, b) => a - b));
    }
  });
});
