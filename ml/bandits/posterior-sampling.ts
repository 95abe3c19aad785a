/**
 * Non-contextual Thompson sampling for A/B/n tests (prompt variants, models): a base that keeps
 * per-arm additive statistics (n, Σr, Σr²) and serves the Monte-Carlo TS distribution
 * (monte-carlo.ts); subclasses say how to draw an arm's mean from its posterior.
 */
import type { Rng } from '../rng';
import { monteCarloArgmax } from './monte-carlo';
import {
  ActionDist, addArmStats, ArmStats, BanditPolicy, BanditStats, checkArm, checkReward, checkStats, Context, Decision, decide,
  emptyArmStats, LearnerKind, StatsDelta,
} from './types';

export abstract class PosteriorSampling implements BanditPolicy {
  abstract readonly kind: LearnerKind;
  protected stats: ArmStats[];

  protected constructor(readonly nArms: number, readonly propensityDraws: number) {
    this.stats = Array.from({ length: nArms }, () => emptyArmStats(0));
  }

  /** One draw of arm `arm`'s mean reward from its posterior. */
  abstract sampleMean(arm: number, rng: Rng): number;
  /** The posterior mean of arm `arm`'s reward. */
  abstract posteriorMean(arm: number): number;
  /** Throws if `reward` is outside the model's support. */
  protected checkRewardSupport(_reward: number, _where: string): void {}
  /** Called after an arm's statistics changed. */
  protected onStatsChanged(_arm: number): void {}

  pointScores(_context?: Context): Float64Array {
    const p = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) p[a] = this.posteriorMean(a);
    return p;
  }

  expectedReward(_context: Context, arm: number): number {
    checkArm(arm, this.nArms, `${this.constructor.name}.expectedReward`);
    return this.posteriorMean(arm);
  }

  actionDist(_context: Context, rng: Rng): ActionDist {
    return monteCarloArgmax(this.nArms, this.propensityDraws, (out) => {
      for (let a = 0; a < this.nArms; a++) out[a] = this.sampleMean(a, rng);
    });
  }

  select(context: Context, rng: Rng): Decision {
    return decide(this.actionDist(context, rng), rng);
  }

  statsDelta(_context: Context, arm: number, reward: number): StatsDelta {
    const where = `${this.constructor.name}.statsDelta`;
    checkArm(arm, this.nArms, where);
    checkReward(reward, where);
    this.checkRewardSupport(reward, where);
    return { arm, stats: { n: 1, rSum: reward, rSqSum: reward * reward } };
  }

  update(context: Context, arm: number, reward: number): void {
    const dl = this.statsDelta(context, arm, reward);
    addArmStats(this.stats[arm], dl.stats);
    this.onStatsChanged(arm);
  }

  applyStats(deltas: StatsDelta | StatsDelta[]): void {
    for (const dl of Array.isArray(deltas) ? deltas : [deltas]) {
      checkArm(dl.arm, this.nArms, 'applyStats');
      addArmStats(this.stats[dl.arm], dl.stats);
      this.onStatsChanged(dl.arm);
    }
  }

  getStats(): BanditStats {
    return { kind: this.kind, d: 0, arms: this.stats.map((s) => ({ n: s.n, rSum: s.rSum, rSqSum: s.rSqSum })) };
  }

  setStats(stats: BanditStats): void {
    checkStats(stats, this.kind, this.nArms, 0);
    this.stats = stats.arms.map((s) => ({ n: s.n, rSum: s.rSum, rSqSum: s.rSqSum }));
    for (let a = 0; a < this.nArms; a++) this.onStatsChanged(a);
  }

  abstract toJSON(): unknown;
}
