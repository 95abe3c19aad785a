/**
 * Random search (Bergstra & Bengio, JMLR 2012): the baseline Bayesian optimisation must beat at the
 * same budget. Draws `evaluations` configurations uniformly from the space's encoding.
 */
import { Rng } from '../rng';
import type { Config, SearchSpace } from './space';

export function randomSearchConfigs(space: SearchSpace, evaluations: number, seed: number): Config[] {
  if (!(Number.isInteger(evaluations) && evaluations >= 1)) throw new Error(`randomSearchConfigs: evaluations is ${evaluations}, expected an integer >= 1`);
  const rng = new Rng(seed);
  return Array.from({ length: evaluations }, () => space.decode(space.sample(rng)));
}

/** Best-so-far after each evaluation: b_t = min_{i ≤ t} y_i (or max when maximising). */
export function bestSoFar(values: readonly number[], direction: 'maximize' | 'minimize'): number[] {
  const out: number[] = [];
  let best = direction === 'maximize' ? -Infinity : Infinity;
  for (const v of values) {
    best = direction === 'maximize' ? Math.max(best, v) : Math.min(best, v);
    out.push(best);
  }
  return out;
}
