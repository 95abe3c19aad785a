/**
 * Linear Thompson sampling (Agrawal & Goyal 2013, "Thompson Sampling for Contextual Bandits with
 * Linear Payoffs"), disjoint per arm:
 *
 *   θ̃_a ~ N(θ̂_a, v² A_a⁻¹),   choose argmax_a xᵀθ̃_a
 *
 * with A_a = λI + Σ x xᵀ, θ̂_a = A_a⁻¹ b_a as in LinUCB. A sample is θ̂ + v L z with L the Cholesky
 * factor of A⁻¹ and z ~ N(0, I) (`sampler: 'cholesky'`). Only xᵀθ̃_a matters for the decision, and
 * xᵀθ̃_a ~ N(xᵀθ̂_a, v² xᵀA_a⁻¹x) exactly, so the default `sampler: 'marginal'` draws that scalar
 * directly (same decisions in distribution, O(1) per draw instead of O(d²)). Propensities: see
 * monte-carlo.ts (`propensityDraws`, default 100).
 */
import type { Rng } from '../rng';
import { LinearBandit } from './linear-bandit';
import { monteCarloArgmax } from './monte-carlo';
import { ActionDist, ArmPrior, checkArmPriors, BanditStats, checkPositive, checkPositiveInt, Context, priorsJSON } from './types';

export interface LinTSConfig {
  nArms: number;
  d: number;
  /** Posterior scale v: θ̃ ~ N(θ̂, v²A⁻¹) (default 1). */
  v?: number;
  /** Ridge prior λ (default 1). */
  lambda?: number;
  /** Posterior draws per decision used to form the served distribution (default 100; 1 = classic TS). */
  propensityDraws?: number;
  /** How a score is drawn: the exact scalar marginal (default) or a full θ̃ through Cholesky. */
  sampler?: 'marginal' | 'cholesky';
  /** Per-arm priors on the intercept coefficient x₀ = 1 (linear-arms.ts; null: none). */
  priors?: (ArmPrior | null)[];
}

export class LinearThompsonSampling extends LinearBandit {
  readonly kind = 'lints' as const;
  readonly v: number;
  readonly propensityDraws: number;
  readonly sampler: 'marginal' | 'cholesky';

  constructor(config: LinTSConfig) {
    const where = 'LinearThompsonSampling';
    const nArms = checkPositiveInt('nArms', config.nArms, where);
    const d = checkPositiveInt('d', config.d, where);
    const v = checkPositive('v', config.v ?? 1, where);
    const lambda = checkPositive('lambda', config.lambda ?? 1, where);
    const propensityDraws = checkPositiveInt('propensityDraws', config.propensityDraws ?? 100, where);
    const sampler = config.sampler ?? 'marginal';
    if (sampler !== 'marginal' && sampler !== 'cholesky') {
      throw new Error(`${where}: sampler must be 'marginal' or 'cholesky', got ${JSON.stringify(sampler)}`);
    }
    super('lints', where, nArms, d, lambda, checkArmPriors(config.priors, nArms, where));
    this.v = v;
    this.propensityDraws = propensityDraws;
    this.sampler = sampler;
  }

  /** One draw θ̃_a = θ̂_a + v L z, L Lᵀ = A_a⁻¹, z ~ N(0, I). */
  sampleTheta(arm: number, rng: Rng): Float64Array {
    const d = this.d;
    const l = this.arms.cholAinv(arm);
    const mu = this.arms.thetaHat(arm);
    const z = new Float64Array(d);
    for (let i = 0; i < d; i++) z[i] = rng.normal();
    const out = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let k = 0; k <= i; k++) s += l[i * d + k] * z[k];
      out[i] = mu[i] + this.v * s;
    }
    return out;
  }

  /** Posterior means xᵀθ̂_a. */
  pointScores(context: Context): Float64Array {
    const x = this.arms.checkContext(context, 'LinearThompsonSampling.pointScores');
    const p = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) p[a] = this.arms.mean(a, x);
    return p;
  }

  actionDist(context: Context, rng: Rng): ActionDist {
    const x = this.arms.checkContext(context, 'LinearThompsonSampling.actionDist');
    if (this.sampler === 'cholesky') {
      return monteCarloArgmax(this.nArms, this.propensityDraws, (out) => {
        for (let a = 0; a < this.nArms; a++) {
          const th = this.sampleTheta(a, rng);
          let s = 0;
          for (let i = 0; i < this.d; i++) s += x[i] * th[i];
          out[a] = s;
        }
      });
    }
    const mean = new Float64Array(this.nArms);
    const sd = new Float64Array(this.nArms);
    for (let a = 0; a < this.nArms; a++) {
      mean[a] = this.arms.mean(a, x);
      sd[a] = this.v * Math.sqrt(this.arms.variance(a, x));
    }
    return monteCarloArgmax(this.nArms, this.propensityDraws, (out) => {
      for (let a = 0; a < this.nArms; a++) out[a] = mean[a] + sd[a] * rng.normal();
    });
  }

  toJSON(): { kind: 'lints'; config: LinTSConfig; stats: BanditStats } {
    return {
      kind: this.kind,
      config: { nArms: this.nArms, d: this.d, v: this.v, lambda: this.lambda, propensityDraws: this.propensityDraws, sampler: this.sampler, ...priorsJSON(this.priors) },
      stats: this.getStats(),
    };
  }

  static fromJSON(json: { config: LinTSConfig; stats: BanditStats }): LinearThompsonSampling {
    const l = new LinearThompsonSampling(json.config);
    l.setStats(json.stats);
    return l;
  }
}
