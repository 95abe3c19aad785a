import { gaussianLogPdf, squash, squashLogDet, unsquash } from '../rl/distributions';
import type { Action } from '../rl/environment';
import type { Rng } from '../rng';
import type { PolicySignature } from './signature';

/**
 * Turns the ONNX model's outputs into an Action using only the `PolicySignature` (what the
 * inference server imports). `outputs` maps output names to flat row-major arrays
 * (onnxruntime's `tensor.data`, or objects with a `data` field); `row` picks the batch row.
 *
 *   mode 'greedy': argmax for categorical/integer, p ≥ ½ for bernoulli, squash(mean) for continuous
 *   mode 'sample': draws every part from the policy with the given Rng
 *
 * Reported for logging and off-policy evaluation:
 *   policyProbability        product of the discrete parts' probabilities
 *   policyDensity            product of the continuous parts' densities (1 when there are none)
 *   logProb                  log of policyProbability·policyDensity — equals the trainer's log π(a|s)
 *   propensity               probability that THIS call's rule picks these discrete values:
 *                            policyProbability in 'sample' mode, 1 in 'greedy' mode (deterministic)
 */
export type DecodeMode = 'greedy' | 'sample';

export interface DecodedAction {
  action: Action;
  policyProbability: number;
  policyDensity: number;
  logProb: number;
  propensity: number;
  mode: DecodeMode;
  /** The critic's V(s), when the value output was given. */
  value?: number;
}

export type OutputMap = Record<string, ArrayLike<number> | { data: unknown }>;

function column(outputs: OutputMap, name: string, width: number, row: number): ArrayLike<number> {
  const o = outputs[name];
  if (o === undefined) throw new Error(`decodeAction: output "${name}" is missing (got: ${Object.keys(outputs).join(', ') || 'none'})`);
  const arr = (typeof (o as { length?: unknown }).length === 'number' ? o : (o as { data: unknown }).data) as ArrayLike<number>;
  if (!arr || typeof arr.length !== 'number') throw new Error(`decodeAction: output "${name}" is not an array of numbers`);
  if (arr.length < (row + 1) * width) throw new Error(`decodeAction: output "${name}" has ${arr.length} values, expected at least ${(row + 1) * width} for row ${row} × width ${width}`);
  return arr;
}

export function decodeAction(sig: PolicySignature, outputs: OutputMap, options: { mode?: DecodeMode; rng?: Rng; row?: number } = {}): DecodedAction {
  const mode = options.mode ?? (options.rng ? 'sample' : 'greedy');
  const row = options.row ?? 0;
  if (mode === 'sample' && !options.rng) throw new Error('decodeAction: mode "sample" needs an rng');
  const rng = options.rng as Rng;
  const action: Action = {};
  let logP = 0, logD = 0;

  for (const h of sig.heads) {
    if (h.kind === 'categorical' || h.kind === 'integer') {
      const n = h.kind === 'categorical' ? h.choices.length : h.max - h.min + 1;
      const p = column(outputs, h.output, n, row), base = row * n;
      let a = 0;
      if (mode === 'greedy') {
        for (let j = 1; j < n; j++) if (p[base + j] > p[base + a]) a = j;
      } else {
        let total = 0;
        for (let j = 0; j < n; j++) total += p[base + j];
        let r = rng.uniform() * total;
        a = n - 1;
        for (let j = 0; j < n; j++) {
          r -= p[base + j];
          if (r < 0) { a = j; break; }
        }
      }
      const value = h.kind === 'categorical' ? h.choices[a] : h.min + a;
      const prob = p[base + a];
      action[h.name] = value;
      logP += Math.log(prob);
    } else if (h.kind === 'bernoulli') {
      const p1 = column(outputs, h.output, 1, row)[row];
      const value = mode === 'greedy' ? p1 >= 0.5 : rng.uniform() < p1;
      const prob = value ? p1 : 1 - p1;
      action[h.name] = value;
      logP += Math.log(prob);
    } else {
      const mean = column(outputs, h.mean, 1, row)[row];
      const logStd = column(outputs, h.logStd, 1, row)[row];
      const u = mode === 'greedy' ? mean : mean + Math.exp(logStd) * rng.normal();
      const value = squash(u, h.min, h.max);
      const lp = gaussianLogPdf(u, mean, logStd) - squashLogDet(u, h.min, h.max);
      action[h.name] = value;
      logD += lp;
    }
  }
  const decoded: DecodedAction = {
    action,
    policyProbability: Math.exp(logP), policyDensity: Math.exp(logD), logProb: logP + logD,
    propensity: mode === 'sample' ? Math.exp(logP) : 1,
    mode,
  };
  const v = outputs[sig.value.output];
  if (v !== undefined) decoded.value = column(outputs, sig.value.output, 1, row)[row];
  return decoded;
}

/**
 * π(action | s) of a given action under the exported policy (e.g. the target policy's probability
 * of a logged action, for IPS/DR). Continuous values at the bounds are pulled in by 1e-7 of the range.
 */
export function scoreAction(sig: PolicySignature, outputs: OutputMap, action: Action, row = 0): { logProb: number; probability: number; density: number } {
  let logP = 0, logD = 0;
  for (const h of sig.heads) {
    const v = action[h.name];
    const bad = (expected: string): Error => new Error(`scoreAction: action.${h.name} = ${JSON.stringify(v)}, expected ${expected}`);
    if (h.kind === 'categorical') {
      const i = typeof v === 'string' ? h.choices.indexOf(v) : -1;
      if (i < 0) throw bad(`one of ${JSON.stringify(h.choices)}`);
      logP += Math.log(column(outputs, h.output, h.choices.length, row)[row * h.choices.length + i]);
    } else if (h.kind === 'integer') {
      const n = h.max - h.min + 1;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < h.min || v > h.max) throw bad(`an integer in [${h.min}, ${h.max}]`);
      logP += Math.log(column(outputs, h.output, n, row)[row * n + (v - h.min)]);
    } else if (h.kind === 'bernoulli') {
      if (typeof v !== 'boolean') throw bad('true or false');
      const p1 = column(outputs, h.output, 1, row)[row];
      logP += Math.log(v ? p1 : 1 - p1);
    } else {
      if (typeof v !== 'number' || !(v >= h.min && v <= h.max)) throw bad(`a number in [${h.min}, ${h.max}]`);
      const u = unsquash(v, h.min, h.max);
      logD += gaussianLogPdf(u, column(outputs, h.mean, 1, row)[row], column(outputs, h.logStd, 1, row)[row]) - squashLogDet(u, h.min, h.max);
    }
  }
  return { logProb: logP + logD, probability: Math.exp(logP), density: Math.exp(logD) };
}
