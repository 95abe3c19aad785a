/**
 * A synthetic contextual bandit with a known true policy value, for tests and the bench
 * (in the spirit of OBP's `SyntheticBanditDataset`): contexts x ~ N(0, I_d); expected reward
 * q(x, a) = σ(θ_aᵀx + b_a) with Bernoulli rewards; a logging policy mixing a softmax with uniform
 * exploration (so propensities stay ≥ ε/n_actions); an evaluation policy softmax(β·θ_aᵀx) that
 * leans towards the better actions. The true value V(π_e) = E_x[Σ_a π_e(a|x) q(x, a)] is
 * estimated on a separate large sample of contexts with expected (noise-free) rewards.
 */
import { Rng } from '../rng';
import type { ActionArray, Matrix, OpeInputs } from './types';

export interface SyntheticBandit {
  nActions: number;
  dim: number;
  theta: Float64Array; // nActions × dim
  bias: Float64Array; // nActions
  logging: Float64Array; // nActions × dim (softmax weights of the logging policy)
  epsilon: number;
  beta: number;
}

export function makeSyntheticBandit(seed: number, nActions = 4, dim = 3): SyntheticBandit {
  const rng = new Rng(seed);
  const theta = Float64Array.from({ length: nActions * dim }, () => rng.normal());
  const bias = Float64Array.from({ length: nActions }, () => 0.5 * rng.normal());
  const logging = Float64Array.from({ length: nActions * dim }, () => 0.5 * rng.normal());
  return { nActions, dim, theta, bias, logging, epsilon: 0.3, beta: 2 };
}

function softmaxInto(scores: Float64Array, out: Float64Array, offset: number): void {
  let m = -Infinity;
  for (const s of scores) m = Math.max(m, s);
  let z = 0;
  for (let a = 0; a < scores.length; a++) z += Math.exp(scores[a] - m);
  for (let a = 0; a < scores.length; a++) out[offset + a] = Math.exp(scores[a] - m) / z;
}

/** q(x, a) for one context. */
function expectedRewards(b: SyntheticBandit, x: Float64Array, out: Float64Array): void {
  for (let a = 0; a < b.nActions; a++) {
    let s = b.bias[a];
    for (let j = 0; j < b.dim; j++) s += b.theta[a * b.dim + j] * x[j];
    out[a] = 1 / (1 + Math.exp(-s));
  }
}

function policies(b: SyntheticBandit, x: Float64Array, piB: Float64Array, piE: Float64Array): void {
  const scoresB = new Float64Array(b.nActions), scoresE = new Float64Array(b.nActions);
  for (let a = 0; a < b.nActions; a++) {
    let sb = 0, se = 0;
    for (let j = 0; j < b.dim; j++) {
      sb += b.logging[a * b.dim + j] * x[j];
      se += b.beta * b.theta[a * b.dim + j] * x[j];
    }
    scoresB[a] = sb;
    scoresE[a] = se;
  }
  softmaxInto(scoresB, piB, 0);
  for (let a = 0; a < b.nActions; a++) piB[a] = (1 - b.epsilon) * piB[a] + b.epsilon / b.nActions;
  softmaxInto(scoresE, piE, 0);
}

/** Logged data from the logging policy, the evaluation policy's action_dist, and the true q. */
export function sampleLoggedData(b: SyntheticBandit, n: number, seed: number): { inputs: OpeInputs; context: Matrix; trueQ: ActionArray } {
  const rng = new Rng(seed);
  const A = b.nActions;
  const context = new Float64Array(n * b.dim);
  const reward = new Float64Array(n), pscore = new Float64Array(n), action = new Int32Array(n);
  const dist = new Float64Array(n * A), q = new Float64Array(n * A);
  const x = new Float64Array(b.dim), piB = new Float64Array(A), piE = new Float64Array(A), qx = new Float64Array(A);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < b.dim; j++) context[i * b.dim + j] = x[j] = rng.normal();
    policies(b, x, piB, piE);
    expectedRewards(b, x, qx);
    const a = rng.categorical(piB);
    action[i] = a;
    pscore[i] = piB[a];
    reward[i] = rng.uniform() < qx[a] ? 1 : 0;
    dist.set(piE, i * A);
    q.set(qx, i * A);
  }
  return {
    inputs: { reward, action, pscore, actionDist: { data: dist, nRounds: n, nActions: A, lenList: 1 } },
    context: { data: context, rows: n, cols: b.dim },
    trueQ: { data: q, nRounds: n, nActions: A, lenList: 1 },
  };
}

/** V(π_e) on `n` fresh contexts with noise-free rewards (Monte Carlo error ≈ 0.3/√n). */
export function trueValue(b: SyntheticBandit, n: number, seed: number): number {
  const rng = new Rng(seed);
  const x = new Float64Array(b.dim), piB = new Float64Array(b.nActions), piE = new Float64Array(b.nActions), qx = new Float64Array(b.nActions);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < b.dim; j++) x[j] = rng.normal();
    policies(b, x, piB, piE);
    expectedRewards(b, x, qx);
    for (let a = 0; a < b.nActions; a++) total += piE[a] * qx[a];
  }
  return total / n;
}
