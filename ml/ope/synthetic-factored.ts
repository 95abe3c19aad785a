/**
 * A synthetic contextual bandit with a FACTORED action (several discrete heads, like the RAG tuner's
 * variant × k × rerank × prompt), for tests of the action-feature reward model and the factored
 * weights. Known true value, closed form.
 *
 *   x ~ N(0, I_d)
 *   q(x, a) = b + Σ_h (c_h[a_h] + D_h[a_h]·x) + ι · 1{a_0 = last} · 1{a_1 in the upper half} + γ · (x_0² − 1)
 *   r = q(x, a) + N(0, σ²)
 *
 * The additive part is exactly what `ActionFeatureRewardModel` can represent; ι (a head×head
 * interaction) and γ (a non-linear context effect) make it misspecified. Both policies factorise:
 *   logging π_b,h = (1 − ε) softmax(W_h x / 2) + ε / K_h     (exploring, ε > 0: full support)
 *   target  π_e,h = softmax(β (c_h + D_h x))                    (leans towards the better values)
 * so V(π_e) = E_x[ b + Σ_h Σ_v π_e,h(v|x)(c_h[v] + D_h[v]·x) + ι P_e(a_0 = last) P_e(a_1 ≥ half) ] in closed form.
 */
import { Rng } from '../rng';
import type { ActionHead } from './action-features';
import type { Matrix } from './types';

export interface FactoredBandit {
  heads: ActionHead[];
  dim: number;
  b: number;
  /** Per head, K_h values of c_h. */
  c: Float64Array[];
  /** Per head, K_h × d values of D_h. */
  D: Float64Array[];
  /** Per head, K_h × d logging weights W_h. */
  W: Float64Array[];
  interaction: number;
  nonlinearity: number;
  epsilon: number;
  beta: number;
  noise: number;
}

export const RAG_LIKE_HEADS: ActionHead[] = [
  { name: 'variant', size: 2 },
  { name: 'k', size: 30, ordinal: true },
  { name: 'rerank', size: 2 },
  { name: 'prompt_id', size: 3 },
];

export function makeFactoredBandit(seed: number, options: { heads?: ActionHead[]; dim?: number; interaction?: number; nonlinearity?: number; epsilon?: number; beta?: number; noise?: number } = {}): FactoredBandit {
  const rng = new Rng(seed);
  const heads = options.heads ?? RAG_LIKE_HEADS;
  const dim = options.dim ?? 4;
  const c: Float64Array[] = [], D: Float64Array[] = [], W: Float64Array[] = [];
  for (const h of heads) {
    // Ordinal heads get a smooth effect (a bump over the range); nominal ones independent effects.
    c.push(Float64Array.from({ length: h.size }, (_, v) => (h.ordinal ? 0.3 * Math.sin((Math.PI * v) / (h.size - 1)) : 0.2 * rng.normal())));
    D.push(Float64Array.from({ length: h.size * dim }, () => 0.1 * rng.normal()));
    W.push(Float64Array.from({ length: h.size * dim }, () => rng.normal()));
  }
  return {
    heads, dim, b: 0.5, c, D, W,
    interaction: options.interaction ?? 0, nonlinearity: options.nonlinearity ?? 0,
    epsilon: options.epsilon ?? 0.3, beta: options.beta ?? 3, noise: options.noise ?? 0.3,
  };
}

function softmax(scores: Float64Array, out: Float64Array, offset: number): void {
  let m = -Infinity;
  for (const s of scores) m = Math.max(m, s);
  let z = 0;
  for (let v = 0; v < scores.length; v++) z += Math.exp(scores[v] - m);
  for (let v = 0; v < scores.length; v++) out[offset + v] = Math.exp(scores[v] - m) / z;
}

/** Per-head logging and target distributions at x (head after head, Σ K_h values each), and the per-head expected reward contribution. */
function headDists(b: FactoredBandit, x: Float64Array, pb: Float64Array, pe: Float64Array, contrib: Float64Array): void {
  let off = 0;
  for (let h = 0; h < b.heads.length; h++) {
    const K = b.heads[h].size;
    const sb = new Float64Array(K), se = new Float64Array(K);
    for (let v = 0; v < K; v++) {
      let wx = 0, dx = 0;
      for (let j = 0; j < b.dim; j++) {
        wx += b.W[h][v * b.dim + j] * x[j];
        dx += b.D[h][v * b.dim + j] * x[j];
      }
      sb[v] = wx / 2;
      contrib[off + v] = b.c[h][v] + dx;
      se[v] = b.beta * contrib[off + v];
    }
    softmax(sb, pb, off);
    for (let v = 0; v < K; v++) pb[off + v] = (1 - b.epsilon) * pb[off + v] + b.epsilon / K;
    softmax(se, pe, off);
    off += K;
  }
}

function interactionOn(b: FactoredBandit, a0: number, a1: number): boolean {
  return a0 === b.heads[0].size - 1 && a1 >= b.heads[1].size / 2;
}

function policyValueAt(b: FactoredBandit, x: Float64Array, pe: Float64Array, contrib: Float64Array): number {
  let v = b.b + b.nonlinearity * (x[0] * x[0] - 1);
  for (let j = 0; j < pe.length; j++) v += pe[j] * contrib[j];
  if (b.interaction !== 0) {
    const K0 = b.heads[0].size, K1 = b.heads[1].size;
    let p1 = 0;
    for (let u = Math.ceil(K1 / 2); u < K1; u++) p1 += pe[K0 + u];
    v += b.interaction * pe[K0 - 1] * p1;
  }
  return v;
}

export interface FactoredLogs {
  context: Matrix;
  /** n × H logged value indexes. */
  headActions: Int32Array;
  reward: Float64Array;
  /** Joint logging propensity Π_h π_b,h(a_ih | x_i). */
  pscore: Float64Array;
  /** Joint target probability of the logged action. */
  pe: Float64Array;
  /** n × H per-head logging propensities and target probabilities of the logged values. */
  headPb: Float64Array;
  headPe: Float64Array;
  /** n × Σ K_h: the target's per-head distributions. */
  targetHeadProbs: Float64Array;
  /** n × Σ K_h: the logging policy's per-head distributions. */
  loggingHeadProbs: Float64Array;
}

export function sampleFactoredLogs(b: FactoredBandit, n: number, seed: number): FactoredLogs {
  const rng = new Rng(seed);
  const H = b.heads.length;
  const S = b.heads.reduce((s, h) => s + h.size, 0);
  const context = new Float64Array(n * b.dim), headActions = new Int32Array(n * H), reward = new Float64Array(n);
  const pscore = new Float64Array(n), pe = new Float64Array(n), headPb = new Float64Array(n * H), headPe = new Float64Array(n * H);
  const targetHeadProbs = new Float64Array(n * S), loggingHeadProbs = new Float64Array(n * S);
  const x = new Float64Array(b.dim), pb = new Float64Array(S), pt = new Float64Array(S), contrib = new Float64Array(S);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < b.dim; j++) context[i * b.dim + j] = x[j] = rng.normal();
    headDists(b, x, pb, pt, contrib);
    let off = 0, q = b.b + b.nonlinearity * (x[0] * x[0] - 1), jb = 1, je = 1;
    for (let h = 0; h < H; h++) {
      const K = b.heads[h].size;
      const v = rng.categorical(pb.subarray(off, off + K));
      headActions[i * H + h] = v;
      headPb[i * H + h] = pb[off + v];
      headPe[i * H + h] = pt[off + v];
      jb *= pb[off + v];
      je *= pt[off + v];
      q += contrib[off + v];
      off += K;
    }
    if (b.interaction !== 0 && interactionOn(b, headActions[i * H], headActions[i * H + 1])) q += b.interaction;
    reward[i] = q + b.noise * rng.normal();
    pscore[i] = jb;
    pe[i] = je;
    targetHeadProbs.set(pt, i * S);
    loggingHeadProbs.set(pb, i * S);
  }
  return { context: { data: context, rows: n, cols: b.dim }, headActions, reward, pscore, pe, headPb, headPe, targetHeadProbs, loggingHeadProbs };
}

/** V(π_e) on `n` fresh contexts, exact given each context (Monte Carlo only over x). */
export function factoredTrueValue(b: FactoredBandit, n: number, seed: number): number {
  const rng = new Rng(seed);
  const S = b.heads.reduce((s, h) => s + h.size, 0);
  const x = new Float64Array(b.dim), pb = new Float64Array(S), pt = new Float64Array(S), contrib = new Float64Array(S);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < b.dim; j++) x[j] = rng.normal();
    headDists(b, x, pb, pt, contrib);
    total += policyValueAt(b, x, pt, contrib);
  }
  return total / n;
}
