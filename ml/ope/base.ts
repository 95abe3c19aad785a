/**
 * The base of every estimator (OBP: `BaseOffPolicyEstimator`). A subclass only says which inputs it
 * reads and how to compute its per-round values V̂_i (`estimateRoundRewards`); the policy value
 * V̂ = (1/n) Σ_i V̂_i and its percentile-bootstrap interval come from here, so every estimator
 * reports them the same way.
 */
import { checkBootstrapOptions, type BootstrapOptions, type Interval } from '../stats/bootstrap';
import { sharedBootstrap } from '../stats/shared-bootstrap';
import { checkOpeInputs } from './check';
import type { CheckedOpeInputs, OpeField, OpeInputs } from './types';

export abstract class BaseOffPolicyEstimator {
  /** The short name used in reports and on the command line (OBP's `estimator_name`). */
  abstract readonly estimatorName: string;
  /** The inputs beyond `actionDist` this estimator reads. */
  abstract readonly requires: readonly OpeField[];

  /** Per-round values V̂_i from checked inputs; shape (n_rounds,). */
  protected abstract estimateRoundRewards(inputs: CheckedOpeInputs): Float64Array;

  /**
   * Per-round values from inputs already checked by `checkOpeInputs` with this estimator's
   * `requires` — lets several estimators share one validation pass.
   */
  roundRewardsFromChecked(checked: CheckedOpeInputs): Float64Array {
    return this.estimateRoundRewards(checked);
  }

  /** Validates `inputs` and returns the per-round values V̂_i. */
  roundRewards(inputs: OpeInputs): Float64Array {
    return this.estimateRoundRewards(checkOpeInputs(inputs, this.requires, this.estimatorName));
  }

  /**
   * The importance weights this estimator applies to the logged rounds (clipped, switched or shrunk
   * as it does), for its diagnostics (`diagnostics.ts`); the raw weights for DM, which applies none
   * but extrapolates where they are large. Null without logged actions and propensities.
   */
  weightsUsed(c: CheckedOpeInputs): Float64Array | null {
    return c.action && c.pscore ? importanceWeights(c) : null;
  }

  /** V̂ = (1/n) Σ_i V̂_i. */
  estimatePolicyValue(inputs: OpeInputs): number {
    return meanOf(this.roundRewards(inputs));
  }

  /**
   * The point estimate and the (1 − alpha) percentile-bootstrap interval of the per-round values,
   * from the same resamples `evaluatePolicy` draws for a seed: the same interval either way.
   */
  estimateInterval(inputs: OpeInputs, options: BootstrapOptions = {}): Interval {
    const boot = checkBootstrapOptions(options);
    return sharedBootstrap([this.roundRewards(inputs)], boot, [this.estimatorName])[0];
  }
}

export function meanOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return s / x.length;
}

/** w_i = π_e(a_i | x_i, k_i) / π_b(a_i | x_i): the importance weight of each logged round. */
export function importanceWeights(c: CheckedOpeInputs): Float64Array {
  const { nRounds, nActions, lenList, actionDist, action, pscore, position } = c;
  const pi = actionDist.data;
  const w = new Float64Array(nRounds);
  for (let i = 0; i < nRounds; i++) w[i] = pi[(i * nActions + action![i]) * lenList + position[i]] / pscore![i];
  return w;
}

/**
 * q̂(x_i, π_e) = Σ_a π_e(a | x_i, k_i) q̂(x_i, a, k_i) / Σ_a π_e(a | x_i, k_i) — numpy's
 * `np.average(q_hat, weights=pi_e)` as OBP computes it (the denominator is 1 up to rounding).
 */
export function expectedRewardUnderPolicy(c: CheckedOpeInputs): Float64Array {
  const { nRounds, nActions, lenList, actionDist, estimatedRewardsByRegModel, position } = c;
  const pi = actionDist.data;
  const q = estimatedRewardsByRegModel!.data;
  const out = new Float64Array(nRounds);
  for (let i = 0; i < nRounds; i++) {
    let num = 0, den = 0;
    const k = position[i];
    for (let a = 0; a < nActions; a++) {
      const j = (i * nActions + a) * lenList + k;
      num += pi[j] * q[j];
      den += pi[j];
    }
    out[i] = num / den;
  }
  return out;
}

/** q̂(x_i, a_i, k_i): the reward model at the logged action. */
export function factualRewardPrediction(c: CheckedOpeInputs): Float64Array {
  const { nRounds, nActions, lenList, estimatedRewardsByRegModel, action, position } = c;
  const q = estimatedRewardsByRegModel!.data;
  const out = new Float64Array(nRounds);
  for (let i = 0; i < nRounds; i++) out[i] = q[(i * nActions + action![i]) * lenList + position[i]];
  return out;
}
