/**
 * A contextual-bandit refit as an exportable policy (the optimizationLoop's `refit` retrain):
 *
 *   reward model   q̂(x, a) = θ̂_aᵀ[x, 1],  θ̂_a = (X_aᵀX_a + αI)⁻¹ X_aᵀ r_a   (ridge per action,
 *                  the intercept penalised like the rest, so α → ∞ gives q̂ → 0: no evidence, no preference)
 *   policy         π(a | x) = softmax_a(β · q̂(x, a))   (β: the inverse temperature)
 *
 * The policy is an ActorCritic with one categorical head, so ml/onnx exports it like a PPO policy:
 * one tanh layer of width d with weights s·I (tanh(s·x)/s ≈ x for small s) and a head β·θ̂/s with bias
 * β·θ̂₀. Exact up to tanh's curvature (|s·x| ≤ 0.1 for |x| ≤ 5).
 */
import { invertSpd } from '../bandits/linalg';
import { ActorCritic } from './actor-critic';

/** Ridge coefficients per action: `theta[a * (d + 1) + j]`, j = d the intercept. Actions without rows get zeros. */
export function ridgePerAction(features: Float64Array, actions: Int32Array, rewards: Float64Array, d: number, nActions: number, alpha: number): Float64Array {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new Error(`ridge alpha must be a finite number > 0, got ${alpha}`);
  const p = d + 1;
  const theta = new Float64Array(nActions * p);
  const gram = Array.from({ length: nActions }, () => new Float64Array(p * p));
  const xty = Array.from({ length: nActions }, () => new Float64Array(p));
  const z = new Float64Array(p);
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i];
    for (let j = 0; j < d; j++) z[j] = features[i * d + j];
    z[d] = 1;
    const g = gram[a], b = xty[a];
    for (let j = 0; j < p; j++) {
      b[j] += z[j] * rewards[i];
      for (let k = 0; k < p; k++) g[j * p + k] += z[j] * z[k];
    }
  }
  for (let a = 0; a < nActions; a++) {
    const g = gram[a];
    for (let j = 0; j < p; j++) g[j * p + j] += alpha;
    const inv = invertSpd(g, p);
    for (let j = 0; j < p; j++) {
      let s = 0;
      for (let k = 0; k < p; k++) s += inv[j * p + k] * xty[a][k];
      theta[a * p + j] = s;
    }
  }
  return theta;
}

/** softmax(β · q̂(x, ·)) as an ActorCritic with one categorical head named `head` over `choices`. */
export function linearSoftmaxPolicy(theta: Float64Array, d: number, head: string, choices: string[], beta: number): ActorCritic {
  if (!(beta >= 0) || !Number.isFinite(beta)) throw new Error(`inverse temperature must be a finite number >= 0, got ${beta}`);
  const k = choices.length, p = d + 1, s = 0.02;
  const policy = ActorCritic.create({ observationSize: d, actionSpace: [{ kind: 'categorical', name: head, choices }], hidden: [d] }, 0);
  const w = policy.params.data;
  const layer = policy.trunk.layers[0];
  for (let o = 0; o < d; o++) {
    for (let i = 0; i < d; i++) w[layer.weightOffset + o * d + i] = o === i ? s : 0;
    w[layer.biasOffset + o] = 0;
  }
  const h = policy.heads[0].layer;
  for (let a = 0; a < k; a++) {
    for (let j = 0; j < d; j++) w[h.weightOffset + a * d + j] = (beta * theta[a * p + j]) / s;
    w[h.biasOffset + a] = beta * theta[a * p + d];
  }
  return policy;
}
