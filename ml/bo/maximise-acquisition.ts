/**
 * Maximises an acquisition over a mixed space without gradients: random search over rounded points,
 * then a stochastic local search from the best few (as scikit-optimize's "sampling" + local
 * refinement, and BoTorch's raw samples → restarts):
 *
 *   1. draw `rawSamples` configurations uniformly, keep the `localStarts` best;
 *   2. from each, for step sizes s = 0.2, 0.1, 0.05, 0.02, 0.01: try `stepsPerScale` neighbours
 *      (numeric coordinates moved by N(0, s²), one categorical switched with probability ½),
 *      rounded to real configurations, keeping a neighbour when it is better (first improvement).
 */
import type { Rng } from '../rng';
import type { SearchSpace } from './space';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { min } = Math;

export interface AcquisitionSearchOptions {
  rawSamples?: number;
  localStarts?: number;
  stepsPerScale?: number;
}

export const ACQUISITION_SEARCH_DEFAULTS: Required<AcquisitionSearchOptions> = { rawSamples: 1024, localStarts: 4, stepsPerScale: 24 };
const SCALES = [0.2, 0.1, 0.05, 0.02, 0.01];

export function maximiseAcquisition(score: (u: Float64Array) => number, space: SearchSpace, rng: Rng, options: AcquisitionSearchOptions = {}): { u: Float64Array; value: number } {
  const { rawSamples, localStarts, stepsPerScale } = { ...ACQUISITION_SEARCH_DEFAULTS, ...options };
  const pool: { u: Float64Array; value: number }[] = [];
  for (let i = 0; i < rawSamples; i++) {
    const u = space.sample(rng);
    pool.push({ u, value: score(u) });
  }
  pool.sort((a, b) => b.value - a.value);
  let best = pool[0];
  const numeric = space.slots.filter((s) => s.parameter.type !== 'categorical');
  const categorical = space.slots.filter((s) => s.parameter.type === 'categorical' && s.width > 1);
  const raw = new Float64Array(space.dimension);
  for (let start = 0; start < min(localStarts, pool.length); start++) {
    let current: { u: Float64Array; value: number } = { u: Float64Array.from(pool[start].u), value: pool[start].value };
    for (const scale of SCALES) {
      for (let step = 0; step < stepsPerScale; step++) {
        raw.set(current.u);
        for (const { offset } of numeric) raw[offset] += scale * rng.normal();
        if (categorical.length > 0 && (numeric.length === 0 || rng.uniform() < 0.5)) {
          const { offset, width } = categorical[rng.int(categorical.length)];
          for (let j = 0; j < width; j++) raw[offset + j] = 0;
          raw[offset + rng.int(width)] = 1;
        }
        const candidate = space.round(raw);
        const value = score(candidate);
        if (value > current.value) current = { u: candidate, value };
      }
    }
    if (current.value > best.value) best = current;
  }
  return best;
}
