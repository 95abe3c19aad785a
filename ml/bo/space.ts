/**
 * A mixed search space and its encoding into the unit cube the GP works in.
 *
 *   continuous  θ ∈ [low, high]          u = (θ − low)/(high − low)   (or of log θ when log: true)
 *   integer     k ∈ {low, …, high}       u = (k − low)/(high − low), decoded by rounding
 *   categorical c ∈ {c_1, …, c_K}        one-hot e_c ∈ {0, 1}^K, decoded by argmax
 *
 * Following Garrido-Merchán & Hernández-Lobato ("Dealing with categorical and integer-valued
 * variables in Bayesian optimization with Gaussian processes", Neurocomputing 2020), every point the
 * acquisition is evaluated at is first rounded (`round`): integers snap to their grid and a one-hot
 * block to its argmax, so the GP only ever sees points that are real configurations.
 */
import type { Rng } from '../rng';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { round } = Math;

export type Parameter =
  | { name: string; type: 'continuous'; low: number; high: number; log?: boolean }
  | { name: string; type: 'integer'; low: number; high: number; log?: boolean }
  | { name: string; type: 'categorical'; choices: readonly (string | number)[] };

export type ParameterValue = number | string;
export type Config = Record<string, ParameterValue>;

/** Where one parameter lives in the encoded vector. */
export interface Slot {
  parameter: Parameter;
  /** First coordinate. */
  offset: number;
  /** Number of coordinates (1, or K for a categorical). */
  width: number;
}

export class SearchSpace {
  readonly parameters: readonly Parameter[];
  readonly slots: readonly Slot[];
  /** Length of the encoded vector. */
  readonly dimension: number;

  constructor(parameters: readonly Parameter[]) {
    if (parameters.length === 0) throw new Error('SearchSpace: parameters is empty, expected at least one parameter');
    const names = new Set<string>();
    const slots: Slot[] = [];
    let offset = 0;
    for (const [i, p] of parameters.entries()) {
      if (!p.name) throw new Error(`SearchSpace: parameters[${i}].name is ${JSON.stringify(p.name)}, expected a non-empty string`);
      if (names.has(p.name)) throw new Error(`SearchSpace: parameter name "${p.name}" appears twice, expected unique names`);
      names.add(p.name);
      if (p.type === 'continuous' || p.type === 'integer') {
        if (!(Number.isFinite(p.low) && Number.isFinite(p.high) && p.low < p.high)) throw new Error(`SearchSpace: parameter "${p.name}" has low ${p.low} and high ${p.high}, expected finite numbers with low < high`);
        if (p.type === 'integer' && !(Number.isInteger(p.low) && Number.isInteger(p.high))) throw new Error(`SearchSpace: integer parameter "${p.name}" has low ${p.low} and high ${p.high}, expected integers`);
        if (p.log && !(p.low > 0)) throw new Error(`SearchSpace: parameter "${p.name}" is on a log scale with low ${p.low}, expected low > 0`);
        slots.push({ parameter: p, offset, width: 1 });
        offset += 1;
      } else if (p.type === 'categorical') {
        if (p.choices.length < 1) throw new Error(`SearchSpace: categorical parameter "${p.name}" has no choices, expected at least 1`);
        if (new Set(p.choices).size !== p.choices.length) throw new Error(`SearchSpace: categorical parameter "${p.name}" repeats a choice in ${JSON.stringify(p.choices)}, expected unique choices`);
        slots.push({ parameter: p, offset, width: p.choices.length });
        offset += p.choices.length;
      } else {
        throw new Error(`SearchSpace: parameters[${i}].type is ${JSON.stringify((p as { type: unknown }).type)}, expected "continuous", "integer" or "categorical"`);
      }
    }
    this.parameters = parameters;
    this.slots = slots;
    this.dimension = offset;
  }

  /** The unit-cube encoding of a configuration. */
  encode(config: Config): Float64Array {
    const u = new Float64Array(this.dimension);
    for (const { parameter: p, offset } of this.slots) {
      const v = config[p.name];
      if (v === undefined) throw new Error(`SearchSpace.encode: config has no value for "${p.name}"`);
      if (p.type === 'categorical') {
        const k = p.choices.indexOf(v);
        if (k < 0) throw new Error(`SearchSpace.encode: "${p.name}" is ${JSON.stringify(v)}, expected one of ${JSON.stringify(p.choices)}`);
        u[offset + k] = 1;
      } else {
        if (typeof v !== 'number' || !(v >= p.low && v <= p.high)) throw new Error(`SearchSpace.encode: "${p.name}" is ${JSON.stringify(v)}, expected a number in [${p.low}, ${p.high}]`);
        if (p.type === 'integer' && !Number.isInteger(v)) throw new Error(`SearchSpace.encode: "${p.name}" is ${v}, expected an integer`);
        u[offset] = p.log ? (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low)) : (v - p.low) / (p.high - p.low);
      }
    }
    return u;
  }

  /** The configuration a (not necessarily rounded) unit-cube point stands for. */
  decode(u: ArrayLike<number>): Config {
    const config: Config = {};
    for (const { parameter: p, offset, width } of this.slots) {
      if (p.type === 'categorical') {
        config[p.name] = p.choices[argmax(u, offset, width)];
      } else {
        const t = clamp01(u[offset]);
        let v = p.log ? Math.exp(Math.log(p.low) + t * (Math.log(p.high) - Math.log(p.low))) : p.low + t * (p.high - p.low);
        if (p.type === 'integer') v = round(v);
        config[p.name] = Math.min(Math.max(v, p.low), p.high);
      }
    }
    return config;
  }

  /** Projects u onto the encodings of real configurations (integers on their grid, one-hot blocks). */
  round(u: ArrayLike<number>, out: Float64Array = new Float64Array(this.dimension)): Float64Array {
    for (const { parameter: p, offset, width } of this.slots) {
      if (p.type === 'categorical') {
        const k = argmax(u, offset, width);
        for (let j = 0; j < width; j++) out[offset + j] = j === k ? 1 : 0;
      } else if (p.type === 'integer') {
        const t = clamp01(u[offset]);
        if (p.log) {
          const v = round(Math.exp(Math.log(p.low) + t * (Math.log(p.high) - Math.log(p.low))));
          out[offset] = (Math.log(v) - Math.log(p.low)) / (Math.log(p.high) - Math.log(p.low));
        } else {
          out[offset] = round(t * (p.high - p.low)) / (p.high - p.low);
        }
      } else {
        out[offset] = clamp01(u[offset]);
      }
    }
    return out;
  }

  /** A uniformly drawn configuration, encoded (uniform in u: log-uniform for log parameters). */
  sample(rng: Rng): Float64Array {
    const u = new Float64Array(this.dimension);
    for (const { parameter: p, offset, width } of this.slots) {
      if (p.type === 'categorical') u[offset + rng.int(width)] = 1;
      else u[offset] = rng.uniform();
    }
    return this.round(u, u);
  }
}

function argmax(u: ArrayLike<number>, offset: number, width: number): number {
  let best = 0;
  for (let j = 1; j < width; j++) if (u[offset + j] > u[offset + best]) best = j;
  return best;
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
