/**
 * Turns a policy's raw head outputs into an action and the probability with which the serving policy
 * chose it.
 *
 * Per head (the parts are independent given the state, so probabilities multiply):
 *   categorical / integer:  π = softmax(z / T);  with ε-greedy mixing π_ε = (1 − ε)·π + ε/K
 *   bernoulli:              π(1) = σ(l / T), mixed the same way over {0, 1}
 *   continuous:             u ~ N(μ, σ), a = lo + (hi − lo)(tanh u + 1)/2 (the squashed Gaussian of
 *                           ml/rl/distributions); its density p(a) = N(u; μ, σ)/|da/du|
 *
 * Greedy mode (the default) serves argmax of each discrete head and squash(μ) for continuous parts:
 * the serving policy is then deterministic except for ε, so
 *   propensity = Π_discrete [ (1 − ε)·1{a = argmax} + ε/K ]      (= 1 when ε = 0)
 * Sample mode draws each head from π_ε and logs propensity = Π_discrete π_ε(a_h) and, when there are
 * continuous parts, density = Π_continuous p(a_h) (null in greedy mode: a point mass has no density).
 * `policyProbability` is always the model's own Π_discrete π(a_h) at T = 1 (no ε), for diagnostics and
 * for estimators that want the stochastic policy's view of a greedy decision.
 */
import { gaussianLogPdf, sigmoid, squash, squashLogDet } from '../../ml/rl/distributions';
import type { Action } from '../../ml/rl/environment';
import type { Rng } from '../../ml/rng';
import type { PolicyBinding } from './binding';

export interface DecodeOptions {
  mode: 'greedy' | 'sample';
  epsilon: number;
  temperature: number;
  rng: Rng;
}

export interface Decoded {
  action: Action;
  /** Probability of the discrete parts of `action` under the serving policy, in (0, 1]. */
  propensity: number;
  /** Density of the continuous parts when sampled; null in greedy mode or without continuous parts. */
  density: number | null;
  /** Π over discrete heads of the model's softmax probability of the chosen value (T = 1, ε = 0). */
  policyProbability: number;
}

/** Read access to named float outputs (ORT's `results[name].data`). */
export type Outputs = Record<string, { data: unknown }>;

function floats(outputs: Outputs, name: string): Float32Array {
  const t = outputs[name];
  if (t === undefined) throw new Error(`model output ${name} is missing (the version's signature names it)`);
  return t.data as Float32Array;
}

/** Softmax of z/T into `p` (in place), returning nothing; `p.length` = z's width. */
function softmax(z: Float32Array, t: number, p: Float64Array): void {
  let max = -Infinity;
  for (let i = 0; i < p.length; i++) if (z[i] / t > max) max = z[i] / t;
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const e = Math.exp(z[i] / t - max);
    p[i] = e;
    sum += e;
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
}

export class ActionDecoder {
  /** Scratch per discrete head, sized once. */
  private readonly scratch: Float64Array[];

  constructor(readonly binding: PolicyBinding) {
    this.scratch = binding.heads.map((h) => {
      const k = h.part.kind === 'categorical' ? h.part.choices.length : h.part.kind === 'integer' ? h.part.max - h.part.min + 1 : h.part.kind === 'bernoulli' ? 2 : 0;
      return new Float64Array(k);
    });
  }

  decode(outputs: Outputs, opts: DecodeOptions): Decoded {
    const sample = opts.mode === 'sample';
    const eps = opts.epsilon;
    const t = sample ? opts.temperature : 1;
    const action: Action = {};
    let propensity = 1;
    let policyProbability = 1;
    let logDensity = 0;
    let continuous = false;
    const heads = this.binding.heads;
    for (let h = 0; h < heads.length; h++) {
      const head = heads[h];
      const part = head.part;
      if (part.kind === 'continuous') {
        const mu = floats(outputs, head.mean!)[0];
        const logStd = floats(outputs, head.logStd!)[0];
        if (sample) {
          const u = mu + Math.exp(logStd) * opts.rng.normal();
          action[part.name] = squash(u, part.min, part.max);
          logDensity += gaussianLogPdf(u, mu, logStd) - squashLogDet(u, part.min, part.max);
          continuous = true;
        } else {
          action[part.name] = squash(mu, part.min, part.max);
        }
        continue;
      }
      const p = this.scratch[h];
      const z = floats(outputs, head.logits!);
      const k = p.length;
      // π at temperature T (p) and the model's own π at T = 1 (for policyProbability).
      if (part.kind === 'bernoulli') {
        p[1] = sigmoid(z[0] / t);
        p[0] = 1 - p[1];
      } else softmax(z, t, p);
      let chosen = 0;
      if (sample) {
        const r = opts.rng.uniform();
        let acc = 0;
        chosen = k - 1;
        for (let i = 0; i < k; i++) {
          acc += (1 - eps) * p[i] + eps / k;
          if (r < acc) {
            chosen = i;
            break;
          }
        }
        propensity *= (1 - eps) * p[chosen] + eps / k;
      } else {
        for (let i = 1; i < k; i++) if (p[i] > p[chosen]) chosen = i;
        if (eps > 0) {
          // ε-greedy: with probability ε a uniform draw replaces the argmax.
          if (opts.rng.uniform() < eps) chosen = opts.rng.int(k);
          propensity *= (chosen === argmax(p) ? 1 - eps : 0) + eps / k;
        }
      }
      let own: number;
      if (t === 1) own = p[chosen];
      else if (part.kind === 'bernoulli') {
        const p1 = sigmoid(z[0]);
        own = chosen === 1 ? p1 : 1 - p1;
      } else own = softmaxAt(z, chosen, k);
      policyProbability *= own;
      if (part.kind === 'categorical') action[part.name] = part.choices[chosen];
      else if (part.kind === 'integer') action[part.name] = part.min + chosen;
      else action[part.name] = chosen === 1;
    }
    return { action, propensity, density: continuous ? Math.exp(logDensity) : null, policyProbability };
  }
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[best]) best = i;
  return best;
}

function softmaxAt(z: Float32Array, i: number, k: number): number {
  let max = -Infinity;
  for (let j = 0; j < k; j++) if (z[j] > max) max = z[j];
  let sum = 0;
  for (let j = 0; j < k; j++) sum += Math.exp(z[j] - max);
  return Math.exp(z[i] - max) / sum;
}
