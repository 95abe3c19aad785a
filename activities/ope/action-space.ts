/**
 * What "the action" means for off-policy evaluation of an exported policy, and how a logged decision
 * row becomes one round of OBP's inputs.
 *
 * The action of OPE is the JOINT DISCRETE action: the tuple of every discrete head's value
 * (categorical, integer, bernoulli), indexed in mixed radix with the first head most significant.
 * Heads are independent given the context, so the candidate's probability of a joint action is the
 * product of its per-head probabilities, π_e(a | x) = Π_h π_e,h(a_h | x) — the same product
 * `scoreAction` forms. The logging probability is the row's `propensity` as the server logged it,
 * which is by construction the probability of the discrete parts of the served action (see
 * inference/handlers/decide.ts).
 *
 * Continuous heads are EXCLUDED from the importance weight: a row's continuous values are kept as
 * logged, so the estimates are the value of "the candidate's discrete decisions, with the continuous
 * parts chosen as the logging policy chose them". The logged density of a continuous part is that of
 * whichever arm served it and is often absent (greedy serving), so a density ratio would be
 * unavailable for most logs and unbounded for the rest. The report lists the excluded heads.
 *
 * IPW and SNIPW need only π_e(a_i | x_i) and are exact for any action-space size. DM and the DR
 * family need the candidate's whole distribution and a reward model q̂(x, a) over the joint space, so
 * they run only when the joint space has at most `maxJointActions` actions (default 64): then
 * `actionDist` is the full n × K joint distribution and q̂ is one cross-fitted ridge per joint action.
 * Above that they are skipped, and said so in the report.
 */
import type { SkipReason } from '../../contracts/off-policy-evaluation';
import type { Action } from '../../ml/rl/environment';
import type { HeadSignature, PolicySignature } from '../../ml/onnx/signature';

export interface DiscreteHead {
  name: string;
  kind: 'categorical' | 'integer' | 'bernoulli';
  /** Number of values. */
  size: number;
  /** The ONNX output holding the head's probabilities ([batch, size]; bernoulli: [batch, 1] = p(true)). */
  output: string;
  /** Index of a logged value, or −1 when it is not a value of this head. */
  indexOf(value: unknown): number;
}

export interface OpeActionSpace {
  discrete: DiscreteHead[];
  /** Names of the continuous heads, excluded from the weights. */
  continuous: string[];
  /** Π of the discrete heads' sizes. */
  jointSize: number;
  /** True when jointSize ≤ maxJointActions: DM and the DR family can run. */
  enumerated: boolean;
  /** Strides of the mixed-radix joint index, per discrete head. */
  strides: number[];
  inputName: string;
  observationSize: number;
  featureNames: string[] | null;
}

function discreteHead(h: Exclude<HeadSignature, { kind: 'continuous' }>): DiscreteHead {
  switch (h.kind) {
    case 'categorical': {
      const index = new Map(h.choices.map((c, i) => [c, i]));
      return { name: h.name, kind: h.kind, size: h.choices.length, output: h.output, indexOf: (v) => (typeof v === 'string' ? (index.get(v) ?? -1) : -1) };
    }
    case 'integer':
      return {
        name: h.name, kind: h.kind, size: h.max - h.min + 1, output: h.output,
        indexOf: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= h.min && v <= h.max ? v - h.min : -1),
      };
    case 'bernoulli':
      return { name: h.name, kind: h.kind, size: 2, output: h.output, indexOf: (v) => (v === false ? 0 : v === true ? 1 : -1) };
  }
}

export function opeActionSpace(sig: PolicySignature, maxJointActions: number): OpeActionSpace {
  const discrete: DiscreteHead[] = [];
  const continuous: string[] = [];
  for (const h of sig.heads) {
    if (h.kind === 'continuous') continuous.push(h.name);
    else discrete.push(discreteHead(h));
  }
  if (discrete.length === 0) {
    throw new Error(`the candidate's policy signature has no discrete head (heads: ${sig.heads.map((h) => `${h.name}:${h.kind}`).join(', ')}); off-policy evaluation here weighs discrete actions only`);
  }
  let jointSize = 1;
  for (const h of discrete) jointSize *= h.size;
  const strides = new Array<number>(discrete.length);
  let s = 1;
  for (let j = discrete.length - 1; j >= 0; j--) {
    strides[j] = s;
    s *= discrete[j].size;
  }
  return {
    discrete,
    continuous,
    jointSize,
    enumerated: jointSize <= maxJointActions,
    strides,
    inputName: sig.input.name,
    observationSize: sig.observation.size,
    featureNames: sig.observation.names ?? null,
  };
}

/** The per-head value indexes of a logged action (written to `out`), or a skip reason. */
export function loggedActionIndexes(space: OpeActionSpace, action: unknown, out: Int32Array): SkipReason | null {
  if (action === null || typeof action !== 'object' || Array.isArray(action)) return 'action_not_in_candidate_space';
  const a = action as Action;
  let known = 0;
  for (let h = 0; h < space.discrete.length; h++) {
    const head = space.discrete[h];
    if (!Object.prototype.hasOwnProperty.call(a, head.name)) return 'action_not_in_candidate_space';
    const i = head.indexOf(a[head.name]);
    if (i < 0) return 'action_not_in_candidate_space';
    out[h] = i;
    known++;
  }
  for (const name of space.continuous) if (Object.prototype.hasOwnProperty.call(a, name)) known++;
  // A logged part the candidate has no head for: the logged propensity covers an action space that
  // is not the candidate's, so the importance weight would be wrong.
  if (Object.keys(a).length !== known) return 'action_not_in_candidate_space';
  return null;
}

/** The joint index of per-head value indexes. */
export function jointIndex(space: OpeActionSpace, idx: Int32Array): number {
  let j = 0;
  for (let h = 0; h < space.discrete.length; h++) j += idx[h] * space.strides[h];
  return j;
}

/**
 * Writes the logged features into `out` (float32, the model's input order): an array of exactly
 * observationSize finite numbers, or an object carrying every feature name of the signature (other
 * keys, such as the feature-store `entity`, are ignored). Returns false when that is impossible.
 */
export function readFeatures(space: OpeActionSpace, features: unknown, out: Float32Array, offset: number): boolean {
  const d = space.observationSize;
  if (Array.isArray(features)) {
    if (features.length !== d) return false;
    for (let j = 0; j < d; j++) {
      const v = features[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) return false;
      out[offset + j] = v;
    }
    return true;
  }
  if (features === null || typeof features !== 'object' || space.featureNames === null) return false;
  const obj = features as Record<string, unknown>;
  for (let j = 0; j < d; j++) {
    const v = obj[space.featureNames[j]];
    if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    out[offset + j] = v;
  }
  return true;
}

/**
 * The candidate's per-head probabilities of one row, normalised to sum to 1 (float32 softmax
 * outputs are off by ~1e-7): probs[h] gets head h's `size` values.
 */
export function headProbabilities(space: OpeActionSpace, outputs: Record<string, ArrayLike<number>>, row: number, probs: Float64Array[]): void {
  for (let h = 0; h < space.discrete.length; h++) {
    const head = space.discrete[h];
    const o = outputs[head.output];
    const p = probs[h];
    if (head.kind === 'bernoulli') {
      const p1 = o[row];
      p[0] = 1 - p1;
      p[1] = p1;
      continue;
    }
    let sum = 0;
    for (let j = 0; j < head.size; j++) {
      p[j] = o[row * head.size + j];
      sum += p[j];
    }
    for (let j = 0; j < head.size; j++) p[j] /= sum;
  }
}

/** π_e(a | x) for every joint action a: the outer product of the per-head probabilities, into out[offset .. offset + jointSize). */
export function jointDistribution(space: OpeActionSpace, probs: Float64Array[], out: Float64Array, offset: number): void {
  out[offset] = 1;
  let filled = 1;
  for (let h = 0; h < space.discrete.length; h++) {
    const p = probs[h];
    const size = space.discrete[h].size;
    // Expand in place from the back: entry (prefix, v) = old[prefix] · p[v].
    for (let q = filled - 1; q >= 0; q--) {
      const base = out[offset + q];
      for (let v = size - 1; v >= 0; v--) out[offset + q * size + v] = base * p[v];
    }
    filled *= size;
  }
}
