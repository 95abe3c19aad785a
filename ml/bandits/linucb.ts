/**
 * Disjoint LinUCB (Li, Chu, Langford & Schapire 2010, "A contextual-bandit approach to personalized
 * news article recommendation", Algorithm 1):
 *
 *   p_a = xᵀθ̂_a + α √(xᵀ A_a⁻¹ x),   choose argmax_a p_a (ties uniformly at random)
 *
 * with A_a⁻¹ kept by Sherman–Morrison. The served policy is greedy on p, so the propensity is 1 for
 * a unique maximiser and 1/k for a k-way tie (the first rounds). Wrap it in `EpsilonGreedy` or
 * `Softmax` when the log must support other policies (OPE).
 */
import type { Rng } from '../rng';
import { LinearArms } from './linear-arms';
import {
  ActionDist, argmaxAll, BanditPolicy, BanditStats, checkPositive, checkPositiveInt, Context, Decision, decide, StatsDelta,
} from './types';

export interface LinUCBConfig {
  /** Number of arms. */
  nArms: number;
  /** Context dimension d. */
  d: number;
  /** Width of the confidence bonus α (default 1). */
  alpha?: number;
  /** Ridge prior λ: A starts at λI (default 1). */
  lambda?: number;
}

export class LinUCB implements BanditPolicy {
  readonly kind = 'linucb' as const;
  readonly nArms: number;
  readonly d: number;
  readonly alpha: number;
  readonly lambda: number;
  readonly arms: LinearArms;

  constructor(config: LinUCBConfig) {
    const where = 'LinUCB';
    this.nArms = checkPositiveInt('nArms', config.nArms, where);
    this.d = checkPositiveInt('d', config.d, where);
    this.alpha = checkPositive('alpha', config.alpha ?? 1, where, true);
    this.lambda = checkPositive('lambda', config.lambda ?? 1, where);
    this.arms = new LinearArms(this.kind, this.nArms, this.d, this.lambda);
  }

  /** p_a = xᵀθ̂_a + α √(xᵀA_a⁻¹x) for every arm. */
  pointScores(context: Context): Float64Array {
    const x = this.arms.checkContext(context, 'LinUCB.pointScores');
    const p = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) p[a] = this.arms.mean(a, x) + this.alpha * Math.sqrt(this.arms.variance(a, x));
    return p;
  }

  actionDist(context: Context, _rng?: Rng): ActionDist {
    const p = this.pointScores(context);
    const best = argmaxAll(p, 1e-12 * Math.max(1, ...Array.from(p, Math.abs)));
    const dist = new Float64Array(this.nArms);
    for (const a of best) dist[a] = 1 / best.length;
    return { dist, scores: Array.from(p) };
  }

  select(context: Context, rng: Rng): Decision {
    return decide(this.actionDist(context, rng), rng);
  }

  update(context: Context, arm: number, reward: number): void {
    this.arms.update(context as ArrayLike<number>, arm, reward, 'LinUCB.update');
  }

  statsDelta(context: Context, arm: number, reward: number): StatsDelta {
    return this.arms.delta(context as ArrayLike<number>, arm, reward, 'LinUCB.statsDelta');
  }

  applyStats(deltas: StatsDelta | StatsDelta[]): void {
    this.arms.apply(Array.isArray(deltas) ? deltas : [deltas]);
  }

  getStats(): BanditStats {
    return this.arms.getStats();
  }

  setStats(stats: BanditStats): void {
    this.arms.setStats(stats);
  }

  /** θ̂_a as a plain array. */
  thetaHat(arm: number): number[] {
    return Array.from(this.arms.thetaHat(arm));
  }

  toJSON(): { kind: 'linucb'; config: Required<LinUCBConfig>; stats: BanditStats } {
    return { kind: this.kind, config: { nArms: this.nArms, d: this.d, alpha: this.alpha, lambda: this.lambda }, stats: this.getStats() };
  }

  static fromJSON(json: { config: LinUCBConfig; stats: BanditStats }): LinUCB {
    const l = new LinUCB(json.config);
    l.setStats(json.stats);
    return l;
  }
}
