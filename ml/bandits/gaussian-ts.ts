/**
 * Gaussian Thompson sampling with a Normal–Gamma prior (unknown mean and variance), for real-valued
 * rewards of unknown scale (latency-adjusted quality, revenue…). Prior μ | τ ~ N(μ₀, 1/(κ₀τ)),
 * τ ~ Gamma(α₀, rate β₀). From the additive statistics n, Σr, Σr² (r̄ = Σr/n,
 * S = Σr² − n r̄² = Σ(r − r̄)²) the posterior is (Murphy 2007, "Conjugate Bayesian analysis of the
 * Gaussian distribution", §3):
 *
 *   κₙ = κ₀ + n,  μₙ = (κ₀μ₀ + Σr)/κₙ,  αₙ = α₀ + n/2,  βₙ = β₀ + S/2 + κ₀ n (r̄ − μ₀)² / (2κₙ)
 *
 * A draw: τ̃ ~ Gamma(αₙ, rate βₙ), μ̃ ~ N(μₙ, 1/(κₙ τ̃)); choose argmax_a μ̃_a.
 *
 * An arm with a prior (`priors[a] = { mean: m, strength: s }`, e.g. from a budget allocation) has its
 * own μ₀ = m and κ₀ = s (α₀, β₀ shared).
 */
import type { Rng } from '../rng';
import { PosteriorSampling } from './posterior-sampling';
import { ArmPrior, BanditStats, checkArmPriors, checkPositive, checkPositiveInt, priorsJSON } from './types';

export interface GaussianTSConfig {
  nArms: number;
  /** Prior mean μ₀ (default 0). */
  mu0?: number;
  /** Prior pseudo-observations for the mean κ₀ (default 1). */
  kappa0?: number;
  /** Gamma shape α₀ on the precision (default 1). */
  alpha0?: number;
  /** Gamma rate β₀ on the precision (default 1). */
  beta0?: number;
  /** Posterior draws per decision (default 100; 1 = classic TS). See monte-carlo.ts. */
  propensityDraws?: number;
  /** Per-arm priors (null: μ₀, κ₀). */
  priors?: (ArmPrior | null)[];
}

export interface NormalGammaPosterior {
  mu: number;
  kappa: number;
  alpha: number;
  beta: number;
}

export class GaussianThompsonSampling extends PosteriorSampling {
  readonly kind = 'gaussian-ts' as const;
  readonly mu0: number;
  readonly kappa0: number;
  readonly alpha0: number;
  readonly beta0: number;
  readonly priors: (ArmPrior | null)[];

  constructor(config: GaussianTSConfig) {
    const where = 'GaussianThompsonSampling';
    super(checkPositiveInt('nArms', config.nArms, where), checkPositiveInt('propensityDraws', config.propensityDraws ?? 100, where));
    const mu0 = config.mu0 ?? 0;
    if (typeof mu0 !== 'number' || !Number.isFinite(mu0)) throw new Error(`${where}: mu0 must be a finite number, got ${String(mu0)}`);
    this.mu0 = mu0;
    this.kappa0 = checkPositive('kappa0', config.kappa0 ?? 1, where);
    this.alpha0 = checkPositive('alpha0', config.alpha0 ?? 1, where);
    this.beta0 = checkPositive('beta0', config.beta0 ?? 1, where);
    this.priors = checkArmPriors(config.priors, this.nArms, where);
  }

  posterior(arm: number): NormalGammaPosterior {
    const { n, rSum, rSqSum } = this.stats[arm];
    const prior = this.priors[arm];
    const mu0 = prior?.mean ?? this.mu0;
    const kappa0 = prior?.strength ?? this.kappa0;
    const kappa = kappa0 + n;
    const mu = (kappa0 * mu0 + rSum) / kappa;
    const alpha = this.alpha0 + n / 2;
    if (n === 0) return { mu, kappa, alpha, beta: this.beta0 };
    const mean = rSum / n;
    const ss = Math.max(0, rSqSum - n * mean * mean);
    const beta = this.beta0 + ss / 2 + (kappa0 * n * (mean - mu0) ** 2) / (2 * kappa);
    return { mu, kappa, alpha, beta };
  }

  sampleMean(arm: number, rng: Rng): number {
    const p = this.posterior(arm);
    const tau = rng.gamma(p.alpha) / p.beta;
    return p.mu + rng.normal() / Math.sqrt(p.kappa * tau);
  }

  posteriorMean(arm: number): number {
    return this.posterior(arm).mu;
  }

  toJSON(): { kind: 'gaussian-ts'; config: Omit<Required<GaussianTSConfig>, 'priors'> & Pick<GaussianTSConfig, 'priors'>; stats: BanditStats } {
    return {
      kind: this.kind,
      config: {
        nArms: this.nArms, mu0: this.mu0, kappa0: this.kappa0, alpha0: this.alpha0, beta0: this.beta0, propensityDraws: this.propensityDraws, ...priorsJSON(this.priors),
      },
      stats: this.getStats(),
    };
  }

  static fromJSON(json: { config: GaussianTSConfig; stats: BanditStats }): GaussianThompsonSampling {
    const l = new GaussianThompsonSampling(json.config);
    l.setStats(json.stats);
    return l;
  }
}
