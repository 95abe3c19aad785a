/**
 * Partial dependence of the GP's posterior mean on one parameter (Friedman, "Greedy Function
 * Approximation: A Gradient Boosting Machine", Ann. Statist. 2001, §8.2):
 *
 *   PD_j(v) = (1/N) Σ_{i=1}^{N} μ(x_i with parameter j set to v)
 *
 * over N reference points x_i (the evaluated configurations), for v on a grid of the parameter's
 * range (continuous, integer) or each of its choices (categorical). The mean posterior standard
 * deviation at the same points is reported beside it, so a flat curve with a wide band reads as
 * "not explored" rather than "does not matter".
 */
import type { GaussianProcess } from './gp';
import type { ParameterValue, SearchSpace } from './space';

export interface PartialDependence {
  parameter: string;
  values: ParameterValue[];
  mean: number[];
  sd: number[];
}

export function partialDependence(gp: GaussianProcess, space: SearchSpace, parameter: string, reference: readonly Float64Array[], gridSize = 20): PartialDependence {
  const slot = space.slots.find((s) => s.parameter.name === parameter);
  if (!slot) throw new Error(`partialDependence: parameter is "${parameter}", expected one of ${space.parameters.map((p) => `"${p.name}"`).join(', ')}`);
  if (reference.length === 0) throw new Error('partialDependence: reference is empty, expected at least one encoded configuration');
  if (!(Number.isInteger(gridSize) && gridSize >= 2)) throw new Error(`partialDependence: gridSize is ${gridSize}, expected an integer >= 2`);
  const p = slot.parameter;
  const settings: ((u: Float64Array) => void)[] = [];
  if (p.type === 'categorical') {
    for (let k = 0; k < slot.width; k++) settings.push((u) => { for (let j = 0; j < slot.width; j++) u[slot.offset + j] = j === k ? 1 : 0; });
  } else {
    const seen = new Set<number>();
    for (let g = 0; g < gridSize; g++) {
      const probe = new Float64Array(space.dimension);
      probe[slot.offset] = g / (gridSize - 1);
      const t = space.round(probe)[slot.offset]; // integers snap to their grid
      if (seen.has(t)) continue;
      seen.add(t);
      settings.push((u) => { u[slot.offset] = t; });
    }
  }
  const values: ParameterValue[] = [];
  const mean: number[] = [];
  const sd: number[] = [];
  const u = new Float64Array(space.dimension);
  for (const set of settings) {
    let m = 0;
    let s = 0;
    for (const x of reference) {
      u.set(x);
      set(u);
      const prediction = gp.predict(u);
      m += prediction.mean;
      s += Math.sqrt(prediction.variance);
    }
    set(u);
    values.push(space.decode(u)[p.name]);
    mean.push(m / reference.length);
    sd.push(s / reference.length);
  }
  return { parameter: p.name, values, mean, sd };
}
