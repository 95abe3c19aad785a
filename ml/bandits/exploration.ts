/**
 * Exploration wrappers that give every arm a probability > 0 whatever the learner inside, so every
 * logged decision supports off-policy evaluation of any other policy:
 *
 *   ε-greedy:  π(a | x) = (1 − ε) π_base(a | x) + ε / K
 *   softmax (Boltzmann):  π(a | x) = exp(s_a(x)/τ) / Σ_b exp(s_b(x)/τ),  s = base.pointScores(x)
 *
 * Both propensities are exact. Learning (update, statistics) goes to the wrapped learner untouched.
 */
import type { Rng } from '../rng';
import {
  ActionDist, BanditPolicy, BanditStats, Context, Decision, decide, StatsDelta,
} from './types';

export abstract class ExplorationWrapper implements BanditPolicy {
  abstract readonly kind: 'epsilon-greedy' | 'softmax' | 'uncertainty-epsilon';
  readonly nArms: number;

  protected constructor(readonly base: BanditPolicy) {
    if (!base || typeof base.actionDist !== 'function') throw new Error(`exploration wrapper: base must be a bandit learner, got ${String(base)}`);
    this.nArms = base.nArms;
  }

  abstract actionDist(context: Context, rng: Rng): ActionDist;

  select(context: Context, rng: Rng): Decision {
    return decide(this.actionDist(context, rng), rng);
  }

  pointScores(context: Context): Float64Array {
    return this.base.pointScores(context);
  }

  expectedReward(context: Context, arm: number): number {
    return this.base.expectedReward(context, arm);
  }

  update(context: Context, arm: number, reward: number): void {
    this.base.update(context, arm, reward);
  }

  statsDelta(context: Context, arm: number, reward: number): StatsDelta {
    return this.base.statsDelta(context, arm, reward);
  }

  applyStats(deltas: StatsDelta | StatsDelta[]): void {
    this.base.applyStats(deltas);
  }

  getStats(): BanditStats {
    return this.base.getStats();
  }

  setStats(stats: BanditStats): void {
    this.base.setStats(stats);
  }

  abstract toJSON(): unknown;
}

export interface EpsilonGreedyConfig {
  /** Probability of a uniformly random arm, in (0, 1] (default 0.05). */
  epsilon?: number;
}

export class EpsilonGreedy extends ExplorationWrapper {
  readonly kind = 'epsilon-greedy' as const;
  readonly epsilon: number;

  constructor(base: BanditPolicy, config: EpsilonGreedyConfig = {}) {
    super(base);
    const eps = config.epsilon ?? 0.05;
    if (typeof eps !== 'number' || !(eps > 0 && eps <= 1)) {
      throw new Error(`EpsilonGreedy: epsilon must be a number in (0, 1] so that every arm keeps a propensity > 0, got ${String(eps)}`);
    }
    this.epsilon = eps;
  }

  actionDist(context: Context, rng: Rng): ActionDist {
    const b = this.base.actionDist(context, rng);
    const dist = new Float64Array(this.nArms);
    const u = this.epsilon / this.nArms;
    for (let a = 0; a < this.nArms; a++) dist[a] = (1 - this.epsilon) * b.dist[a] + u;
    return { dist, scores: b.scores };
  }

  toJSON(): { kind: 'epsilon-greedy'; config: Required<EpsilonGreedyConfig>; base: unknown } {
    return { kind: this.kind, config: { epsilon: this.epsilon }, base: this.base.toJSON() };
  }
}

export interface SoftmaxConfig {
  /** Temperature τ > 0 (default 0.1): small τ → greedy, large τ → uniform. */
  temperature?: number;
}

export class Softmax extends ExplorationWrapper {
  readonly kind = 'softmax' as const;
  readonly temperature: number;

  constructor(base: BanditPolicy, config: SoftmaxConfig = {}) {
    super(base);
    const t = config.temperature ?? 0.1;
    if (typeof t !== 'number' || !Number.isFinite(t) || !(t > 0)) {
      throw new Error(`Softmax: temperature must be a finite number > 0, got ${String(t)}`);
    }
    this.temperature = t;
  }

  actionDist(context: Context, _rng?: Rng): ActionDist {
    const s = this.base.pointScores(context);
    const dist = softmax(s, this.temperature);
    return { dist, scores: Array.from(s) };
  }

  toJSON(): { kind: 'softmax'; config: Required<SoftmaxConfig>; base: unknown } {
    return { kind: this.kind, config: { temperature: this.temperature }, base: this.base.toJSON() };
  }
}

/**
 * exp(s/τ) normalised, computed stably (shifted by the max). Probabilities that underflow are
 * floored at the smallest positive double, so no arm's propensity is exactly 0.
 */
export function softmax(scores: ArrayLike<number>, temperature: number): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > max) max = scores[i];
  const out = new Float64Array(scores.length);
  let z = 0;
  for (let i = 0; i < scores.length; i++) {
    out[i] = Math.exp((scores[i] - max) / temperature);
    z += out[i];
  }
  for (let i = 0; i < scores.length; i++) out[i] = Math.max(out[i] / z, Number.MIN_VALUE);
  return out;
}
