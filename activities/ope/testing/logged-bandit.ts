/**
 * A contextual bandit with a known reward model, for testing off-policy evaluation end to end:
 * a seeded stream of logged decisions from an ε-greedy logging policy, and candidate policies
 * (real `ml/rl` Policies, exported to ONNX) whose true value on the logged contexts is computable.
 *
 *   context   x ~ N(0, I_d)
 *   reward    r ~ Bernoulli(μ(x, a)),  μ(x, a) = σ(θ_a·x + b_a)
 *   logging   ε-greedy on a stale rule argmax_a (θ'_a·x + b_a), θ' = θ + N(0, staleness²):
 *             π_b(a|x) = ε/K + (1 − ε)·[a = greedy(x)]  (logged as the propensity)
 *   candidate softmax(c · (θ_a·x + b_a)) — an ActorCritic with one tanh layer of width d whose weights make
 *             tanh(s·x)/s ≈ x, then a head c·θ/ s: c > 0 prefers good actions, c < 0 bad ones.
 */
import { randomUUID } from 'node:crypto';
import { ActorCritic } from '../../../ml/rl/actor-critic';
import { Rng } from '../../../ml/rng';
import type { DecisionInput } from '../../../decision-log';

export interface LoggedBanditOptions {
  nFeatures: number;
  choices: string[];
  epsilon: number;
  staleness: number;
  seed: number;
}

export class LoggedBandit {
  readonly theta: Float64Array;
  readonly bias: Float64Array;
  readonly stale: Float64Array;
  readonly d: number;
  readonly k: number;

  constructor(readonly options: LoggedBanditOptions) {
    const rng = new Rng(options.seed);
    this.d = options.nFeatures;
    this.k = options.choices.length;
    this.theta = new Float64Array(this.k * this.d);
    this.bias = new Float64Array(this.k);
    this.stale = new Float64Array(this.k * this.d);
    for (let i = 0; i < this.theta.length; i++) this.theta[i] = 0.6 * rng.normal();
    for (let a = 0; a < this.k; a++) this.bias[a] = 0.3 * rng.normal() - 0.5;
    for (let i = 0; i < this.theta.length; i++) this.stale[i] = this.theta[i] + options.staleness * rng.normal();
  }

  /** θ_a·x + b_a */
  score(x: ArrayLike<number>, a: number, weights: Float64Array = this.theta): number {
    let s = this.bias[a];
    for (let j = 0; j < this.d; j++) s += weights[a * this.d + j] * x[j];
    return s;
  }

  /** μ(x, a) = σ(θ_a·x + b_a) */
  mu(x: ArrayLike<number>, a: number): number {
    return 1 / (1 + Math.exp(-this.score(x, a)));
  }

  /**
   * `count` logged decisions with rewards, one every `stepMs` from `start`, in batches of `batch`
   * (nothing is kept beyond one batch). `features` is the context as logged (float32-rounded, what
   * the model will see).
   */
  *generate(count: number, opts: { start: Date; stepMs: number; batch: number; deployment: string; model: string; version: number; rng: Rng }): Generator<{ decisions: DecisionInput[]; rewards: { decisionId: string; reward: number; time: Date }[]; contexts: Float64Array }> {
    const { epsilon } = this.options;
    const x = new Float64Array(this.d);
    for (let start = 0; start < count; start += opts.batch) {
      const b = Math.min(opts.batch, count - start);
      const decisions: DecisionInput[] = new Array(b);
      const rewards: { decisionId: string; reward: number; time: Date }[] = new Array(b);
      const contexts = new Float64Array(b * this.d);
      for (let i = 0; i < b; i++) {
        for (let j = 0; j < this.d; j++) x[j] = Math.fround(opts.rng.normal());
        contexts.set(x, i * this.d);
        let greedy = 0;
        for (let a = 1; a < this.k; a++) if (this.score(x, a, this.stale) > this.score(x, greedy, this.stale)) greedy = a;
        const a = opts.rng.uniform() < epsilon ? opts.rng.int(this.k) : greedy;
        const propensity = epsilon / this.k + (a === greedy ? 1 - epsilon : 0);
        const reward = opts.rng.uniform() < this.mu(x, a) ? 1 : 0;
        const time = new Date(opts.start.getTime() + (start + i) * opts.stepMs);
        const decisionId = randomUUID();
        decisions[i] = {
          decisionId, time, deployment: opts.deployment, model: opts.model, version: opts.version, generation: 1, arm: 'champion',
          features: Array.from(x), action: { variant: this.options.choices[a] }, propensity,
          metadata: { mode: 'sample', epsilon },
        };
        rewards[i] = { decisionId, reward, time };
      }
      yield { decisions, rewards, contexts };
    }
  }

  /** A candidate ActorCritic whose action probabilities are softmax(c · (θ_a·x + b_a)) up to tanh's curvature. */
  candidate(c: number, seed = 1): ActorCritic {
    const d = this.d, k = this.k, s = 0.02;
    const policy = ActorCritic.create({ observationSize: d, actionSpace: [{ kind: 'categorical', name: 'variant', choices: this.options.choices }], hidden: [d] }, seed);
    const w = policy.params.data;
    const layer = policy.trunk.layers[0];
    for (let o = 0; o < d; o++) {
      for (let i = 0; i < d; i++) w[layer.weightOffset + o * d + i] = o === i ? s : 0;
      w[layer.biasOffset + o] = 0;
    }
    const head = policy.heads[0].layer;
    for (let a = 0; a < k; a++) {
      for (let j = 0; j < d; j++) w[head.weightOffset + a * d + j] = (c * this.theta[a * d + j]) / s;
      w[head.biasOffset + a] = c * this.bias[a];
    }
    return policy;
  }

  /**
   * The candidate's true value on these contexts, (1/n) Σ_i Σ_a π_e(a | x_i) μ(x_i, a), computed in
   * float64 with the ActorCritic's own forward pass (independent of onnxruntime).
   */
  trueValue(policy: ActorCritic, contexts: Float64Array): { sum: number; n: number } {
    const n = contexts.length / this.d;
    policy.forward(contexts, n);
    const logits = policy.headOutput(0);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let a = 0; a < this.k; a++) max = Math.max(max, logits[i * this.k + a]);
      let z = 0;
      for (let a = 0; a < this.k; a++) z += Math.exp(logits[i * this.k + a] - max);
      const x = contexts.subarray(i * this.d, (i + 1) * this.d);
      for (let a = 0; a < this.k; a++) sum += (Math.exp(logits[i * this.k + a] - max) / z) * this.mu(x, a);
    }
    return { sum, n };
  }

  /** The logging policy's true value on these contexts: Σ_a π_b(a|x) μ(x, a), averaged. */
  loggingValue(contexts: Float64Array): { sum: number; n: number } {
    const n = contexts.length / this.d;
    const { epsilon } = this.options;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = contexts.subarray(i * this.d, (i + 1) * this.d);
      let greedy = 0;
      for (let a = 1; a < this.k; a++) if (this.score(x, a, this.stale) > this.score(x, greedy, this.stale)) greedy = a;
      for (let a = 0; a < this.k; a++) sum += (epsilon / this.k + (a === greedy ? 1 - epsilon : 0)) * this.mu(x, a);
    }
    return { sum, n };
  }
}
