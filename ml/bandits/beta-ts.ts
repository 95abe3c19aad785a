/**
 * Beta–Bernoulli Thompson sampling (Thompson 1933; Chapelle & Li 2011) for rewards in [0, 1]:
 *
 *   μ̃_a ~ Beta(α₀ + Σr, β₀ + n − Σr),   choose argmax_a μ̃_a
 *
 * The counts are the additive statistics (successes Σr, trials n). A fractional reward r ∈ [0, 1]
 * adds r to α and 1 − r to β (a fractional pseudo-count), so scores such as a thumbs-up rate or a
 * normalised quality can be used directly.
 *
 * An arm with a prior (`priors[a] = { mean: m, strength: s }`, e.g. from a budget allocation) starts at
 * Beta(m·s, (1 − m)·s) instead of Beta(α₀, β₀): prior mean m, worth s trials.
 */
import type { Rng } from '../rng';
import { PosteriorSampling } from './posterior-sampling';
import { ArmPrior, BanditStats, checkArmPriors, checkPositive, checkPositiveInt, priorsJSON } from './types';

export interface BetaTSConfig {
  nArms: number;
  /** Prior successes α₀ (default 1: uniform prior). */
  alpha0?: number;
  /** Prior failures β₀ (default 1). */
  beta0?: number;
  /** Posterior draws per decision (default 100; 1 = classic TS). See monte-carlo.ts. */
  propensityDraws?: number;
  /** Per-arm priors (null: Beta(α₀, β₀)); a mean must lie in (0, 1). */
  priors?: (ArmPrior | null)[];
}

export class BetaThompsonSampling extends PosteriorSampling {
  readonly kind = 'beta-ts' as const;
  readonly alpha0: number;
  readonly beta0: number;
  readonly priors: (ArmPrior | null)[];
  /** Each arm's prior (α, β). */
  private readonly prior: { alpha: number; beta: number }[];

  constructor(config: BetaTSConfig) {
    const where = 'BetaThompsonSampling';
    super(checkPositiveInt('nArms', config.nArms, where), checkPositiveInt('propensityDraws', config.propensityDraws ?? 100, where));
    this.alpha0 = checkPositive('alpha0', config.alpha0 ?? 1, where);
    this.beta0 = checkPositive('beta0', config.beta0 ?? 1, where);
    this.priors = checkArmPriors(config.priors, this.nArms, where);
    this.prior = this.priors.map((p, a) => {
      if (p === null) return { alpha: this.alpha0, beta: this.beta0 };
      if (!(p.mean > 0 && p.mean < 1)) throw new Error(`${where}: priors[${a}].mean must be in (0, 1) for Beta–Bernoulli TS, got ${p.mean}`);
      return { alpha: p.mean * p.strength, beta: (1 - p.mean) * p.strength };
    });
  }

  /** Posterior parameters (α, β) of an arm. */
  posterior(arm: number): { alpha: number; beta: number } {
    const s = this.stats[arm];
    const p = this.prior[arm];
    return { alpha: p.alpha + s.rSum, beta: p.beta + s.n - s.rSum };
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

  toJSON(): { kind: 'beta-ts'; config: Omit<Required<BetaTSConfig>, 'priors'> & Pick<BetaTSConfig, 'priors'>; stats: BanditStats } {
    return {
      kind: this.kind,
      config: { nArms: this.nArms, alpha0: this.alpha0, beta0: this.beta0, propensityDraws: this.propensityDraws, ...priorsJSON(this.priors) },
      stats: this.getStats(),
    };
  }

  static fromJSON(json: { config: BetaTSConfig; stats: BanditStats }): BetaThompsonSampling {
    const l = new BetaThompsonSampling(json.config);
    l.setStats(json.stats);
    return l;
  }
}

