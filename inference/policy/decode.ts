/**
 * Turns a policy's outputs (row `row` of a batch) into an action and the probability with which the
 * serving policy chose it.
 *
 * With the deployment's exploration at its defaults (ε = 0, T = 1) this is `ml/onnx`'s decodeAction,
 * the decoding the trainer shares:
 *   greedy: argmax / p ≥ ½ / squash(mean) — deterministic, propensity 1
 *   sample: every part drawn from π — propensity = Π_discrete π(a_h), density = Π_continuous p(a_h)
 * A deployment may widen exploration; then each discrete head h with K_h values is drawn from
 *   π_ε,T = (1 − ε)·π^(1/T)/Z + ε/K_h        (sample mode), or
 *   argmax with probability 1 − ε, uniform with probability ε  (greedy mode),
 * and the propensity is the product of the probabilities of the chosen values under that rule.
 * `policyProbability` is always the model's own Π_discrete π(a_h) (T = 1, ε = 0).
 */
import { decodeAction } from '../../ml/onnx/decode';
import type { PolicySignature } from '../../ml/onnx/signature';
import { gaussianLogPdf, squash, squashLogDet } from '../../ml/rl/distributions';
import type { Action } from '../../ml/rl/environment';
import type { Rng } from '../../ml/rng';

export interface DecodeOptions {
  mode: 'greedy' | 'sample';
  epsilon: number;
  temperature: number;
  rng: Rng;
  /** Batch row (default 0). */
  row?: number;
}

export interface Decoded {
  action: Action;
  /** Probability of the discrete parts of `action` under the serving rule, in (0, 1]. */
  propensity: number;
  /** Density of the continuous parts when sampled; null in greedy mode or without continuous parts. */
  density: number | null;
  /** Π over discrete heads of the model's probability of the chosen value (T = 1, ε = 0). */
  policyProbability: number;
  /**
   * Per discrete head (signature order, `ActionDecoder.discreteHeadNames`), the probability of its
   * chosen value under the serving rule; their product is `propensity`. OPE's factored weights and
   * support checks read them (logged as `metadata.headPropensities`). Read-only (greedy without ε
   * shares one array of ones).
   */
  headPropensities: Float64Array;
}

/** Named float outputs (ORT's `results[name]`, or plain arrays). */
export type Outputs = Record<string, { data: unknown } | ArrayLike<number>>;

function data(outputs: Outputs, name: string): ArrayLike<number> {
  const o = outputs[name];
  if (o === undefined) throw new Error(`model output ${name} is missing (the version's signature names it)`);
  return (typeof (o as ArrayLike<number>).length === 'number' ? o : (o as { data: unknown }).data) as ArrayLike<number>;
}

export class ActionDecoder {
  private readonly scratch: Float64Array;
  private readonly hasContinuous: boolean;
  /** Names of the discrete heads, in signature order: the keys of `headPropensities`. */
  readonly discreteHeadNames: readonly string[];
  /** `"name":` of each discrete head, the keys of the logged `metadata.headPropensities` (serialised once). */
  readonly headKeysJson: readonly string[];
  /** Greedy without ε: every head's value is certain. */
  private readonly allOnes: Float64Array;

  constructor(readonly signature: PolicySignature) {
    this.discreteHeadNames = signature.heads.filter((h) => h.kind !== 'continuous').map((h) => h.name);
    this.headKeysJson = this.discreteHeadNames.map((n) => `${JSON.stringify(n)}:`);
    this.allOnes = new Float64Array(this.discreteHeadNames.length).fill(1);
    let widest = 2;
    for (const h of signature.heads) {
      if (h.kind === 'categorical') widest = Math.max(widest, h.choices.length);
      if (h.kind === 'integer') widest = Math.max(widest, h.max - h.min + 1);
    }
    this.scratch = new Float64Array(widest);
    this.hasContinuous = signature.heads.some((h) => h.kind === 'continuous');
  }

  decode(outputs: Outputs, opts: DecodeOptions): Decoded {
    if (opts.epsilon === 0 && (opts.temperature === 1 || opts.mode === 'greedy')) {
      const d = decodeAction(this.signature, outputs as never, { mode: opts.mode, rng: opts.rng, row: opts.row ?? 0 });
      return {
        action: d.action,
        propensity: d.propensity,
        density: opts.mode === 'sample' && this.hasContinuous ? d.policyDensity : null,
        policyProbability: d.policyProbability,
        headPropensities: opts.mode === 'greedy' ? this.allOnes : this.chosenProbabilities(outputs, d.action, opts.row ?? 0),
      };
    }
    return this.explore(outputs, opts);
  }

  /** Per discrete head, the model's (normalised) probability of the value `action` holds: sampling at T = 1, ε = 0. */
  private chosenProbabilities(outputs: Outputs, action: Action, row: number): Float64Array {
    const out = new Float64Array(this.discreteHeadNames.length);
    let j = 0;
    for (const h of this.signature.heads) {
      if (h.kind === 'continuous') continue;
      const v = action[h.name];
      if (h.kind === 'bernoulli') {
        const p1 = data(outputs, h.output)[row];
        out[j++] = v === true ? p1 : 1 - p1;
        continue;
      }
      const k = h.kind === 'categorical' ? h.choices.length : h.max - h.min + 1;
      const chosen = h.kind === 'categorical' ? h.choices.indexOf(v as string) : (v as number) - h.min;
      const src = data(outputs, h.output);
      let z = 0;
      for (let i = 0; i < k; i++) z += src[row * k + i];
      out[j++] = src[row * k + chosen] / z;
    }
    return out;
  }

  /** ε-mixing and temperature on top of the policy's probabilities. */
  private explore(outputs: Outputs, opts: DecodeOptions): Decoded {
    const row = opts.row ?? 0;
    const eps = opts.epsilon;
    const invT = 1 / opts.temperature;
    const sample = opts.mode === 'sample';
    const p = this.scratch;
    const action: Action = {};
    let propensity = 1;
    let policyProbability = 1;
    const headPropensities = new Float64Array(this.discreteHeadNames.length);
    let head = 0;
    let logDensity = 0;
    let sampledContinuous = false;
    for (const h of this.signature.heads) {
      if (h.kind === 'continuous') {
        const mu = data(outputs, h.mean)[row];
        const logStd = data(outputs, h.logStd)[row];
        if (sample) {
          const u = mu + Math.exp(logStd) * opts.rng.normal();
          action[h.name] = squash(u, h.min, h.max);
          logDensity += gaussianLogPdf(u, mu, logStd) - squashLogDet(u, h.min, h.max);
          sampledContinuous = true;
        } else action[h.name] = squash(mu, h.min, h.max);
        continue;
      }
      let k: number;
      if (h.kind === 'bernoulli') {
        k = 2;
        const p1 = data(outputs, h.output)[row];
        p[0] = 1 - p1;
        p[1] = p1;
      } else {
        k = h.kind === 'categorical' ? h.choices.length : h.max - h.min + 1;
        const src = data(outputs, h.output);
        for (let i = 0; i < k; i++) p[i] = src[row * k + i];
      }
      let best = 0;
      for (let i = 1; i < k; i++) if (p[i] > p[best]) best = i;
      let chosen: number;
      if (sample) {
        // π^(1/T), renormalised, then mixed with the uniform.
        let z = 0;
        const q = new Float64Array(k);
        for (let i = 0; i < k; i++) z += q[i] = Math.pow(p[i], invT);
        for (let i = 0; i < k; i++) q[i] = (1 - eps) * (q[i] / z) + eps / k;
        const r = opts.rng.uniform();
        let acc = 0;
        chosen = k - 1;
        for (let i = 0; i < k; i++) {
          acc += q[i];
          if (r < acc) {
            chosen = i;
            break;
          }
        }
        headPropensities[head] = q[chosen];
      } else {
        chosen = eps > 0 && opts.rng.uniform() < eps ? opts.rng.int(k) : best;
        headPropensities[head] = (chosen === best ? 1 - eps : 0) + eps / k;
      }
      propensity *= headPropensities[head++];
      policyProbability *= p[chosen];
      if (h.kind === 'categorical') action[h.name] = h.choices[chosen];
      else if (h.kind === 'integer') action[h.name] = h.min + chosen;
      else action[h.name] = chosen === 1;
    }
    return { action, propensity, density: sampledContinuous ? Math.exp(logDensity) : null, policyProbability, headPropensities };
  }
}
