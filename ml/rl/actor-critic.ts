import { Linear } from '../nn/linear';
import { Mlp } from '../nn/mlp';
import { orthogonalInit } from '../nn/init';
import { Parameters, decodeFloat64, encodeFloat64 } from '../nn/parameters';
import { Rng } from '../rng';
import { RunningMeanStd } from './running-mean-std';
import type { Action, ActionPart, ActionSpace } from './environment';
import {
  gaussianEntropy, gaussianLogPdf, logSoftmaxEntropy, sigmoid, softplus, squash, squashLogDet, unsquash,
} from './distributions';

/**
 * The actor-critic network PPO trains (CleanRL's `Agent`: `get_action_and_value`, `get_value`), called
 * `Policy` before; its checkpoint format name `autopilot.policy/v1` is kept so stored checkpoints load.
 * A tanh encoder (the trunk) on the observation, then one linear head per action part and a linear
 * value head; the value head reads the same trunk (`shareLayers`, RLlib's `vf_share_layers`, the
 * default of checkpoints written before issue 26) or a critic trunk of its own. With `obsNorm` the
 * trunks read the observation normalised by running statistics (`RunningMeanStd`), kept in the
 * checkpoint and exported into the ONNX graph. With `valueNorm` the value head predicts the value in units
 * of the running mean/std of the returns (`valueRms`, checkpointed); V itself is what `values()` reports
 * and what the ONNX graph's `value` output gives (the scale folded into the exported head).
 *
 *   categorical  → logits over `choices`              raw action: the choice index
 *   integer      → logits over min, min+1, …, max     raw action: value − min (a categorical over the
 *                                                      range: exact, no rounding of a Gaussian)
 *   bernoulli    → one logit, p(true) = σ(logit)        raw action: 0 | 1
 *   continuous   → the mean μ(s) of a Gaussian on u, a  raw action: u (pre-squash); the environment
 *                  state-independent log_std (CleanRL    receives lo + (hi−lo)(tanh u + 1)/2, so it is
 *                  `actor_logstd`), squashed by tanh     always inside [min, max]
 *
 * log-probabilities and entropies are summed over heads (parts are independent given the state).
 * `logProb` of a continuous part is the density of the squashed action itself (it includes the tanh
 * Jacobian), so it equals what `ml/onnx/decode` reports at inference; the Jacobian does not depend
 * on the weights, so the PPO ratio is unaffected.
 *
 * Initialisation is CleanRL's `layer_init`: orthogonal, gain √2 for the trunks, 0.01 for policy
 * heads, 1 for the value head, biases 0, log_std 0.
 */
export interface ActorCriticSpec {
  observationSize: number;
  actionSpace: ActionSpace;
  /** Trunk widths, e.g. [64, 64]. */
  hidden: number[];
  /**
   * RLlib's `vf_share_layers`: true = one trunk feeds the policy heads and the value head (the design
   * before issue 26); false = a separate critic trunk of the same widths feeds the value head (SB3's and
   * CleanRL's default). Absent = true, so checkpoints written before the switch load unchanged.
   */
  shareLayers?: boolean;
  /**
   * Observation normalisation inside the network (SB3's `VecNormalize`): the trunk sees
   * clip((obs − mean)/√(var + epsilon), −clip, clip) with the running statistics of `obsRms`. Absent = none.
   */
  obsNorm?: { clip: number; epsilon: number };
  /**
   * Value-target normalisation (MAPPO's ValueNorm): the value head predicts (V − μ)/√(σ² + epsilon) for
   * the running mean/variance of the returns in `valueRms`; `values()` and `evaluate()` give V itself,
   * the PPO value loss is taken in the normalised units. Absent = the head predicts V.
   */
  valueNorm?: { epsilon: number };
}

/** Running mean/variance of the observations (`RunningMeanStd`), checkpointed bit-exact. */
export interface ObsRmsJSON {
  mean: string;
  var: string;
  count: number;
}

export interface ActorCriticHead {
  part: ActionPart;
  /** Outputs of the head's linear layer: choices, max−min+1, or 1 (bernoulli logit / continuous mean). */
  dim: number;
  layer: Linear;
  /** Offset of the scalar log_std in the parameter vector (continuous only, else −1). */
  logStdOffset: number;
}

/** A checkpoint: the spec, the tensor layout and the weights as base64 float64 (bit-exact). */
export interface ActorCriticCheckpoint {
  format: 'autopilot.policy/v1';
  spec: ActorCriticSpec;
  layout: { name: string; shape: number[] }[];
  params: string;
  /** Present when spec.obsNorm is. */
  obsRms?: ObsRmsJSON;
  /** Present when spec.valueNorm is: the running mean/variance of the value targets (returns). */
  valueRms?: ObsRmsJSON;
}

export interface ActorCriticStep {
  /** Sum over heads of log π(a_h | s). */
  logProb: number;
  /** V(s). */
  value: number;
}

export class ActorCritic {
  readonly params = new Parameters();
  /** The actor's trunk (and the critic's too when shareLayers). */
  readonly trunk: Mlp;
  /** The critic's own trunk when !shareLayers, else null. */
  readonly critic: Mlp | null;
  /** Observation statistics used by the input normalisation (null when spec.obsNorm is absent). */
  readonly obsRms: RunningMeanStd | null;
  /** Statistics of the value targets used by the value head's scaling (null when spec.valueNorm is absent). */
  readonly valueRms: RunningMeanStd | null;
  readonly heads: ActorCriticHead[];
  readonly valueHead: Linear;
  readonly numHeads: number;

  private capacity = 0;
  private trunkOut: Float64Array = new Float64Array(0);
  private criticOut: Float64Array = new Float64Array(0);
  private normObs = new Float64Array(0);
  private dCritic = new Float64Array(0);
  private headOut: Float64Array[] = [];
  private logSoftmax: Float64Array[] = [];
  private headEntropy = new Float64Array(0);
  private evalActions: Float64Array = new Float64Array(0);
  private value = new Float64Array(0);
  /** The value head's own output (normalised units) when spec.valueNorm; else unused. */
  private rawValue = new Float64Array(0);
  private dValue = new Float64Array(0);
  private logProbBuf = new Float64Array(0);
  private entropyBuf = new Float64Array(0);
  private dHead: Float64Array[] = [];
  private dTrunk = new Float64Array(0);
  private lastN = 0;

  constructor(readonly spec: ActorCriticSpec) {
    validateSpec(spec);
    const last = spec.hidden[spec.hidden.length - 1];
    this.trunk = new Mlp(this.params, 'trunk', [spec.observationSize, ...spec.hidden], 'tanh');
    this.heads = spec.actionSpace.map((part) => {
      const dim = headDim(part);
      const layer = new Linear(this.params, `head.${part.name}`, last, dim);
      const logStdOffset = part.kind === 'continuous' ? this.params.add(`head.${part.name}.log_std`, [1]) : -1;
      return { part, dim, layer, logStdOffset };
    });
    this.critic = spec.shareLayers === false ? new Mlp(this.params, 'critic', [spec.observationSize, ...spec.hidden], 'tanh') : null;
    this.valueHead = new Linear(this.params, 'value', last, 1);
    this.params.seal();
    this.numHeads = this.heads.length;
    this.obsRms = spec.obsNorm ? new RunningMeanStd(spec.observationSize) : null;
    this.valueRms = spec.valueNorm ? new RunningMeanStd(1) : null;
  }

  /** True when the value head reads the actor's trunk (RLlib's vf_share_layers). */
  get sharesLayers(): boolean {
    return this.critic === null;
  }

  /** A new policy with CleanRL's orthogonal initialisation, seeded. */
  static create(spec: ActorCriticSpec, seed: number | Rng): ActorCritic {
    const policy = new ActorCritic(spec);
    const rng = typeof seed === 'number' ? new Rng(seed) : seed;
    const d = policy.params.data;
    for (const l of policy.trunk.layers) orthogonalInit(d.subarray(l.weightOffset), l.outSize, l.inSize, Math.SQRT2, rng);
    for (const h of policy.heads) orthogonalInit(d.subarray(h.layer.weightOffset), h.dim, h.layer.inSize, 0.01, rng);
    orthogonalInit(d.subarray(policy.valueHead.weightOffset), 1, policy.valueHead.inSize, 1, rng);
    // drawn after every shared-design tensor, so a shared policy's init is what it was before the switch
    if (policy.critic) for (const l of policy.critic.layers) orthogonalInit(d.subarray(l.weightOffset), l.outSize, l.inSize, Math.SQRT2, rng);
    return policy;
  }

  toJSON(): ActorCriticCheckpoint {
    return {
      format: 'autopilot.policy/v1',
      spec: JSON.parse(JSON.stringify(this.spec)) as ActorCriticSpec,
      layout: this.params.layout.map((t) => ({ name: t.name, shape: [...t.shape] })),
      params: encodeFloat64(this.params.data),
      ...(this.obsRms ? { obsRms: this.obsRms.toJSON() } : {}),
      ...(this.valueRms ? { valueRms: this.valueRms.toJSON() } : {}),
    };
  }

  static fromJSON(json: ActorCriticCheckpoint): ActorCritic {
    if (json?.format !== 'autopilot.policy/v1') throw new Error(`Policy.fromJSON: format must be "autopilot.policy/v1", got ${JSON.stringify(json?.format)}`);
    const policy = new ActorCritic(json.spec);
    const want = policy.params.layout.map((t) => `${t.name}:${t.shape.join('x')}`).join(', ');
    const got = json.layout.map((t) => `${t.name}:${t.shape.join('x')}`).join(', ');
    if (want !== got) throw new Error(`Policy.fromJSON: checkpoint layout [${got}] does not match the spec's layout [${want}]`);
    policy.params.load(decodeFloat64(json.params));
    if (policy.obsRms) {
      if (!json.obsRms) throw new Error('Policy.fromJSON: spec.obsNorm is set but the checkpoint has no obsRms (the running observation statistics)');
      policy.obsRms.load(json.obsRms);
    } else if (json.obsRms) {
      throw new Error('Policy.fromJSON: the checkpoint has obsRms but spec.obsNorm is absent');
    }
    if (policy.valueRms) {
      if (!json.valueRms) throw new Error('Policy.fromJSON: spec.valueNorm is set but the checkpoint has no valueRms (the running statistics of the value targets)');
      policy.valueRms.load(json.valueRms);
    } else if (json.valueRms) {
      throw new Error('Policy.fromJSON: the checkpoint has valueRms but spec.valueNorm is absent');
    }
    return policy;
  }

  /** A deep copy (same weights and observation statistics, bit for bit). */
  clone(): ActorCritic {
    const p = new ActorCritic(this.spec);
    p.params.load(this.params.data);
    if (this.obsRms) p.obsRms!.load(this.obsRms.toJSON());
    if (this.valueRms) p.valueRms!.load(this.valueRms.toJSON());
    return p;
  }

  /** The trunk's input: obs itself, or its normalised copy when spec.obsNorm is set. */
  normalizedInput(obs: Float64Array, n: number): Float64Array {
    const rms = this.obsRms;
    if (!rms) return obs;
    const S = this.spec.observationSize, clip = this.spec.obsNorm!.clip, eps = this.spec.obsNorm!.epsilon;
    if (this.normObs.length < n * S) this.normObs = new Float64Array(Math.max(n, this.capacity) * S);
    const x = this.normObs;
    for (let j = 0; j < S; j++) {
      const m = rms.mean[j], inv = 1 / Math.sqrt(rms.var[j] + eps);
      for (let i = 0; i < n; i++) {
        const v = (obs[i * S + j] - m) * inv;
        x[i * S + j] = v < -clip ? -clip : v > clip ? clip : v;
      }
    }
    return x;
  }

  private ensure(n: number): void {
    if (n <= this.capacity) return;
    const cap = Math.max(n, this.capacity * 2);
    this.capacity = cap;
    const last = this.spec.hidden[this.spec.hidden.length - 1];
    this.headOut = this.heads.map((h) => new Float64Array(cap * h.dim));
    this.logSoftmax = this.heads.map((h) => new Float64Array(h.part.kind === 'categorical' || h.part.kind === 'integer' ? cap * h.dim : 0));
    this.dHead = this.heads.map((h) => new Float64Array(cap * h.dim));
    this.headEntropy = new Float64Array(cap * this.numHeads);
    this.value = new Float64Array(cap);
    this.rawValue = new Float64Array(this.valueRms ? cap : 0);
    this.dValue = new Float64Array(this.valueRms ? cap : 0);
    this.logProbBuf = new Float64Array(cap);
    this.entropyBuf = new Float64Array(cap);
    this.dTrunk = new Float64Array(cap * last);
    this.dCritic = new Float64Array(this.critic ? cap * last : 0);
  }

  /**
   * Forward pass on obs[n, observationSize]: trunk, every head's raw outputs and the value. Results
   * stay in the policy's buffers (see `headOutputs`, `values`) until the next forward.
   */
  forward(obs: Float64Array, n: number): void {
    if (obs.length < n * this.spec.observationSize) {
      throw new Error(`Policy.forward: obs has ${obs.length} values, expected ${n} × ${this.spec.observationSize}`);
    }
    this.ensure(n);
    this.lastN = n;
    const x = this.normalizedInput(obs, n);
    this.trunkOut = this.trunk.forward(x, n);
    for (let h = 0; h < this.numHeads; h++) this.heads[h].layer.forward(this.trunkOut, n, this.headOut[h]);
    this.criticOut = this.critic ? this.critic.forward(x, n) : this.trunkOut;
    if (this.valueRms) {
      this.valueHead.forward(this.criticOut, n, this.rawValue);
      const { mean, std } = this.valueScale()!;
      for (let i = 0; i < n; i++) this.value[i] = this.rawValue[i] * std + mean;
    } else {
      this.valueHead.forward(this.criticOut, n, this.value);
    }
  }

  /** μ and √(σ² + ε) of the value targets when spec.valueNorm (V = head output · std + mean), else null. */
  valueScale(): { mean: number; std: number } | null {
    const rms = this.valueRms;
    return rms ? { mean: rms.mean[0], std: Math.sqrt(rms.var[0] + this.spec.valueNorm!.epsilon) } : null;
  }

  /** The value head's own outputs from the last forward [n]: (V − μ)/std when spec.valueNorm, else V. */
  valueOutputs(): Float64Array {
    return (this.valueRms ? this.rawValue : this.value).subarray(0, this.lastN);
  }

  /** Raw outputs of head h from the last forward: logits [n, dim], the bernoulli logit or the continuous mean [n, 1]. */
  headOutput(h: number): Float64Array {
    return this.headOut[h].subarray(0, this.lastN * this.heads[h].dim);
  }

  /** V(s) from the last forward [n]. */
  values(): Float64Array {
    return this.value.subarray(0, this.lastN);
  }

  logStd(h: number): number {
    const off = this.heads[h].logStdOffset;
    if (off < 0) throw new Error(`Policy.logStd: head "${this.heads[h].part.name}" is ${this.heads[h].part.kind}, not continuous`);
    return this.params.data[off];
  }

  /**
   * Forward and score given raw actions [n, numHeads]: returns views (valid until the next call) of
   * log π(a|s) [n], entropy H(π(·|s)) [n] and V(s) [n], each summed over heads. Keeps what
   * `backward` needs.
   */
  evaluate(obs: Float64Array, actions: Float64Array, n: number): { logProb: Float64Array; entropy: Float64Array; value: Float64Array } {
    this.forward(obs, n);
    this.evalActions = actions;
    const H = this.numHeads, d = this.params.data;
    const logProb = this.logProbBuf, entropy = this.entropyBuf, ent = this.headEntropy;
    logProb.fill(0, 0, n);
    entropy.fill(0, 0, n);
    for (let h = 0; h < H; h++) {
      const head = this.heads[h], part = head.part, out = this.headOut[h], dim = head.dim;
      if (part.kind === 'categorical' || part.kind === 'integer') {
        const lsm = this.logSoftmax[h];
        for (let i = 0; i < n; i++) {
          const e = logSoftmaxEntropy(out, i * dim, dim, lsm);
          const a = actions[i * H + h];
          logProb[i] += lsm[i * dim + a];
          ent[i * H + h] = e;
          entropy[i] += e;
        }
      } else if (part.kind === 'bernoulli') {
        for (let i = 0; i < n; i++) {
          const l = out[i], a = actions[i * H + h];
          logProb[i] += a === 1 ? -softplus(-l) : -softplus(l);
          const e = softplus(l) - sigmoid(l) * l;
          ent[i * H + h] = e;
          entropy[i] += e;
        }
      } else {
        const logStd = d[head.logStdOffset], e = gaussianEntropy(logStd);
        for (let i = 0; i < n; i++) {
          const u = actions[i * H + h];
          logProb[i] += gaussianLogPdf(u, out[i], logStd) - squashLogDet(u, part.min, part.max);
          ent[i * H + h] = e;
          entropy[i] += e;
        }
      }
    }
    return { logProb: logProb.subarray(0, n), entropy: entropy.subarray(0, n), value: this.value.subarray(0, n) };
  }

  /**
   * Backward after `evaluate`: for a loss L = Σᵢ cLogProbᵢ·log π(aᵢ|sᵢ) + cEntropyᵢ·H(sᵢ) + cValueᵢ·V(sᵢ),
   * accumulates ∂L/∂θ into `params.grad` (call `params.zeroGrad()` first).
   */
  backward(cLogProb: Float64Array, cEntropy: Float64Array, cValue: Float64Array): void {
    const n = this.lastN, H = this.numHeads, d = this.params.data, g = this.params.grad;
    const actions = this.evalActions, ent = this.headEntropy;
    for (let h = 0; h < H; h++) {
      const head = this.heads[h], part = head.part, out = this.headOut[h], dim = head.dim, dz = this.dHead[h];
      if (part.kind === 'categorical' || part.kind === 'integer') {
        const lsm = this.logSoftmax[h];
        for (let i = 0; i < n; i++) {
          const a = actions[i * H + h], cl = cLogProb[i], ch = cEntropy[i], eh = ent[i * H + h], base = i * dim;
          for (let j = 0; j < dim; j++) {
            const lp = lsm[base + j], p = Math.exp(lp);
            dz[base + j] = cl * ((j === a ? 1 : 0) - p) - ch * p * (lp + eh);
          }
        }
      } else if (part.kind === 'bernoulli') {
        for (let i = 0; i < n; i++) {
          const l = out[i], p = sigmoid(l), a = actions[i * H + h];
          dz[i] = cLogProb[i] * (a - p) - cEntropy[i] * p * (1 - p) * l;
        }
      } else {
        const logStd = d[head.logStdOffset], invVar = Math.exp(-2 * logStd);
        let dLogStd = 0;
        for (let i = 0; i < n; i++) {
          const diff = actions[i * H + h] - out[i];
          dz[i] = cLogProb[i] * diff * invVar;
          dLogStd += cLogProb[i] * (diff * diff * invVar - 1) + cEntropy[i];
        }
        g[head.logStdOffset] += dLogStd;
      }
      head.layer.backward(this.trunkOut, dz, n, this.dTrunk, h > 0);
    }
    let dV = cValue;
    if (this.valueRms) {
      // V = std · head + mean: ∂L/∂head = std · ∂L/∂V
      const { std } = this.valueScale()!;
      dV = this.dValue;
      for (let i = 0; i < n; i++) dV[i] = cValue[i] * std;
    }
    if (this.critic) {
      this.valueHead.backward(this.criticOut, dV, n, this.dCritic, false);
      this.critic.backward(this.dCritic, n, false);
    } else {
      this.valueHead.backward(this.trunkOut, dV, n, this.dTrunk, H > 0);
    }
    this.trunk.backward(this.dTrunk, n, false);
  }

  /**
   * Samples a raw action for one observation into `out` [numHeads]; returns log π(a|s) and V(s).
   */
  sample(obs: Float64Array, rng: Rng, out: Float64Array): ActorCriticStep {
    return this.act(obs, out, rng);
  }

  /** The deterministic action (argmax for discrete parts, μ for the continuous part — the median of the squashed Gaussian). */
  mode(obs: Float64Array, out: Float64Array): ActorCriticStep {
    return this.act(obs, out, null);
  }

  private act(obs: Float64Array, out: Float64Array, rng: Rng | null): ActorCriticStep {
    this.forward(obs, 1);
    return this.actRow(0, out, 0, rng);
  }

  /**
   * After `forward(obs, n)`: samples (rng given) or picks the mode (rng null) of row i's action into
   * out[offset..offset+numHeads). Row i of a batched forward is bit-identical to a forward of that row
   * alone (every row is computed with the same operations in the same order), so one forward for all
   * environments of a rollout samples exactly what one forward per environment did.
   */
  actRow(i: number, out: Float64Array, offset: number, rng: Rng | null): ActorCriticStep {
    if (i < 0 || i >= this.lastN) throw new Error(`Policy.actRow: row ${i} is outside the last forward's ${this.lastN} rows`);
    const d = this.params.data;
    let logProb = 0;
    for (let h = 0; h < this.numHeads; h++) {
      const head = this.heads[h], part = head.part, z = this.headOut[h], dim = head.dim;
      if (part.kind === 'categorical' || part.kind === 'integer') {
        const lsm = this.logSoftmax[h], base = i * dim;
        logSoftmaxEntropy(z, base, dim, lsm);
        let a = 0;
        if (rng) {
          let r = rng.uniform();
          a = dim - 1;
          for (let j = 0; j < dim; j++) {
            r -= Math.exp(lsm[base + j]);
            if (r < 0) { a = j; break; }
          }
        } else {
          for (let j = 1; j < dim; j++) if (lsm[base + j] > lsm[base + a]) a = j;
        }
        out[offset + h] = a;
        logProb += lsm[base + a];
      } else if (part.kind === 'bernoulli') {
        const l = z[i];
        const a = rng ? (rng.uniform() < sigmoid(l) ? 1 : 0) : l > 0 ? 1 : 0;
        out[offset + h] = a;
        logProb += a === 1 ? -softplus(-l) : -softplus(l);
      } else {
        const logStd = d[head.logStdOffset];
        const u = rng ? z[i] + Math.exp(logStd) * rng.normal() : z[i];
        out[offset + h] = u;
        logProb += gaussianLogPdf(u, z[i], logStd) - squashLogDet(u, part.min, part.max);
      }
    }
    return { logProb, value: this.value[i] };
  }

  /** Raw per-head numbers → the environment's Action (choice strings, integers, booleans, squashed reals). */
  toAction(raw: ArrayLike<number>, offset = 0): Action {
    const action: Action = {};
    for (let h = 0; h < this.numHeads; h++) {
      const part = this.heads[h].part, x = raw[offset + h];
      if (part.kind === 'categorical') action[part.name] = part.choices[x];
      else if (part.kind === 'integer') action[part.name] = part.min + x;
      else if (part.kind === 'bernoulli') action[part.name] = x === 1;
      else action[part.name] = squash(x, part.min, part.max);
    }
    return action;
  }

  /** The inverse of `toAction` (e.g. to score logged actions); continuous values at the bounds are pulled in by 1e-7 of the range. */
  fromAction(action: Action, out: Float64Array, offset = 0): void {
    for (let h = 0; h < this.numHeads; h++) {
      const part = this.heads[h].part, v = action[part.name];
      const bad = (expected: string): Error => new Error(`Policy.fromAction: action.${part.name} = ${JSON.stringify(v)}, expected ${expected}`);
      if (part.kind === 'categorical') {
        const i = typeof v === 'string' ? part.choices.indexOf(v) : -1;
        if (i < 0) throw bad(`one of ${JSON.stringify(part.choices)}`);
        out[offset + h] = i;
      } else if (part.kind === 'integer') {
        if (typeof v !== 'number' || !Number.isInteger(v) || v < part.min || v > part.max) throw bad(`an integer in [${part.min}, ${part.max}]`);
        out[offset + h] = v - part.min;
      } else if (part.kind === 'bernoulli') {
        if (typeof v !== 'boolean') throw bad('true or false');
        out[offset + h] = v ? 1 : 0;
      } else {
        if (typeof v !== 'number' || !(v >= part.min && v <= part.max)) throw bad(`a number in [${part.min}, ${part.max}]`);
        out[offset + h] = unsquash(v, part.min, part.max);
      }
    }
  }
}

export function headDim(part: ActionPart): number {
  switch (part.kind) {
    case 'categorical': return part.choices.length;
    case 'integer': return part.max - part.min + 1;
    case 'bernoulli': return 1;
    case 'continuous': return 1;
  }
}

/** Checks a policy spec; errors name the field, the value and what was expected. */
export function validateSpec(spec: ActorCriticSpec): void {
  const fail = (field: string, value: unknown, expected: string): never => {
    throw new Error(`policy spec: ${field} = ${JSON.stringify(value)}, expected ${expected}`);
  };
  if (!Number.isInteger(spec.observationSize) || spec.observationSize < 1) fail('observationSize', spec.observationSize, 'a positive integer');
  if (spec.shareLayers !== undefined && typeof spec.shareLayers !== 'boolean') fail('shareLayers', spec.shareLayers, 'true, false or absent');
  if (spec.obsNorm !== undefined) {
    if (!(spec.obsNorm?.clip > 0)) fail('obsNorm.clip', spec.obsNorm?.clip, 'a number > 0');
    if (!(spec.obsNorm?.epsilon > 0)) fail('obsNorm.epsilon', spec.obsNorm?.epsilon, 'a number > 0');
  }
  if (spec.valueNorm !== undefined && !(spec.valueNorm?.epsilon > 0)) fail('valueNorm.epsilon', spec.valueNorm?.epsilon, 'a number > 0');
  if (!Array.isArray(spec.hidden) || spec.hidden.length < 1 || spec.hidden.some((h) => !Number.isInteger(h) || h < 1)) fail('hidden', spec.hidden, 'a non-empty list of positive integers');
  if (!Array.isArray(spec.actionSpace) || spec.actionSpace.length < 1) fail('actionSpace', spec.actionSpace, 'at least one action part');
  const names = new Set<string>();
  spec.actionSpace.forEach((p, i) => {
    const at = `actionSpace[${i}]`;
    if (typeof p.name !== 'string' || p.name.length === 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p.name)) fail(`${at}.name`, p.name, 'an identifier ([A-Za-z_][A-Za-z0-9_]*)');
    if (names.has(p.name)) fail(`${at}.name`, p.name, 'a name not used by another part');
    names.add(p.name);
    if (p.kind === 'categorical') {
      if (!Array.isArray(p.choices) || p.choices.length < 2 || new Set(p.choices).size !== p.choices.length) fail(`${at}.choices`, p.choices, 'at least two distinct strings');
    } else if (p.kind === 'integer') {
      if (!Number.isInteger(p.min) || !Number.isInteger(p.max) || p.max <= p.min) fail(`${at}.min/max`, [p.min, p.max], 'integers with min < max');
    } else if (p.kind === 'continuous') {
      if (!Number.isFinite(p.min) || !Number.isFinite(p.max) || p.max <= p.min) fail(`${at}.min/max`, [p.min, p.max], 'finite numbers with min < max');
    } else if (p.kind !== 'bernoulli') {
      fail(`${at}.kind`, (p as { kind: unknown }).kind, '"categorical", "integer", "bernoulli" or "continuous"');
    }
  });
}
