/**
 * Beta–Bernoulli Thompson sampling (Thompson 1933; Chapelle & Li 2011) for rewards in [0, 1]:
 *
 *   μ̃_a ~ Beta(α₀ + Σr, β₀ + n − Σr),   choose argmax_a μ̃_a
 *
 * The counts are the additive statistics (successes Σr, trials n). A fractional reward r ∈ [0, 1]
 * adds r to α and 1 − r to β (a fractional pseudo-count), so scores such as a thumbs-up rate or a
 * normalised quality can be used directly.
 */
import type { Rng } from '../rng';
import { PosteriorSampling } from './posterior-sampling';
import { BanditStats, checkPositive, checkPositiveInt } from './types';

export interface BetaTSConfig {
  nArms: number;
  /** Prior successes α₀ (default 1: uniform prior). */
  alpha0?: number;
  /** Prior failures β₀ (default 1). */
  beta0?: number;
  /** Posterior draws per decision (default 100; 1 = classic TS). See monte-carlo.ts. */
  propensityDraws?: number;
}

export class BetaThompsonSampling extends PosteriorSampling {
  readonly kind = 'beta-ts' as const;
  readonly alpha0: number;
  readonly beta0: number;

  constructor(config: BetaTSConfig) {
    const where = 'BetaThompsonSampling';
    super(checkPositiveInt('nArms', config.nArms, where), checkPositiveInt('propensityDraws', config.propensityDraws ?? 100, where));
    this.alpha0 = checkPositive('alpha0', config.alpha0 ?? 1, where);
    this.beta0 = checkPositive('beta0', config.beta0 ?? 1, where);
  }

  /** Posterior parameters (α, β) of an arm. */
  posterior(arm: number): { alpha: number; beta: number } {
    const s = this.stats[arm];
    return { alpha: this.alpha0 + s.rSum, beta: this.beta0 + s.n - s.rSum };
  }

  protected override checkRewardSupport(reward: number, where: string): void {
    if (reward < 0 || reward > 1) throw new Error(`${where}: reward must be in [0, 1] for Beta–Bernoulli TS, got ${reward}`);
  }

  sampleMean(arm: number, rng: Rng): number {
    const { alpha, beta } = this.posterior(arm);
    return rng.beta(alpha, beta);
  }

  posteriorMean(arm: number): number {
    const { alpha, beta } = this.posterior(arm);
    return alpha / (alpha + beta);
  }

  toJSON(): { kind: 'beta-ts'; config: Required<BetaTSConfig>; stats: BanditStats } {
    return {
      kind: this.kind,
      config: { nArms: this.nArms, alpha0: this.alpha0, beta0: this.beta0, propensityDraws: this.propensityDraws },
      stats: this.getStats(),
    };
  }

  static fromJSON(json: { config: BetaTSConfig; stats: BanditStats }): BetaThompsonSampling {
    const l = new BetaThompsonSampling(json.config);
    l.setStats(json.stats);
    return l;
  }
}

