/**
 * What disjoint LinUCB and linear Thompson sampling share: per-arm ridge statistics (`LinearArms`)
 * and the learning, statistics and θ̂ methods that only delegate to them. A subclass defines how it
 * scores arms (`pointScores`) and what it serves (`actionDist`), plus its `toJSON`.
 */
import type { Rng } from '../rng';
import { LinearArms } from './linear-arms';
import { ActionDist, ArmPrior, BanditPolicy, BanditStats, checkArm, Context, Decision, decide, StatsDelta } from './types';

export abstract class LinearBandit implements BanditPolicy {
  abstract readonly kind: 'linucb' | 'lints';
  readonly arms: LinearArms;

  /** `where` names the learner in error messages (`LinUCB.update: …`). */
  protected constructor(
    kind: 'linucb' | 'lints',
    private readonly where: string,
    readonly nArms: number,
    readonly d: number,
    readonly lambda: number,
    /** Per-arm priors on the intercept coefficient (linear-arms.ts); null: mean 0, precision λ. */
    readonly priors: (ArmPrior | null)[],
  ) {
    this.arms = new LinearArms(kind, nArms, d, lambda, priors);
  }

  abstract pointScores(context: Context): Float64Array;

  abstract actionDist(context: Context, rng: Rng): ActionDist;

  /** xᵀθ̂_a: the ridge estimate of the arm's reward (LinUCB's score without its bonus). */
  expectedReward(context: Context, arm: number): number {
    checkArm(arm, this.nArms, `${this.where}.expectedReward`);
    return this.arms.mean(arm, this.arms.checkContext(context, `${this.where}.expectedReward`));
  }

  abstract toJSON(): unknown;

  select(context: Context, rng: Rng): Decision {
    return decide(this.actionDist(context, rng), rng);
  }

  update(context: Context, arm: number, reward: number): void {
    this.arms.update(context as ArrayLike<number>, arm, reward, `${this.where}.update`);
  }

  statsDelta(context: Context, arm: number, reward: number): StatsDelta {
    return this.arms.delta(context as ArrayLike<number>, arm, reward, `${this.where}.statsDelta`);
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
}
