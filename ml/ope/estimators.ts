/**
 * The estimators by their OBP names, and one call that runs several of them on the same data with
 * their bootstrap intervals (what the CLI and the OPE workflow use).
 */
import type { BootstrapOptions, Interval } from '../stats/bootstrap';
import type { BaseOffPolicyEstimator } from './base';
import { DirectMethod } from './dm';
import { DoublyRobust } from './dr';
import { DoublyRobustWithShrinkage } from './dr-os';
import { OpeInputError } from './errors';
import { InverseProbabilityWeighting } from './ipw';
import { RegressionModel, type FitPredictOptions } from './regression-model';
import { SelfNormalizedDoublyRobust } from './sndr';
import { SelfNormalizedInverseProbabilityWeighting } from './snipw';
import { SwitchDoublyRobust } from './switch-dr';
import type { Matrix, OpeInputs } from './types';

export const ESTIMATOR_NAMES = ['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os'] as const;
export type EstimatorName = (typeof ESTIMATOR_NAMES)[number];

export interface EstimatorHyperparameters {
  /** Weight clipping λ of IPW and DR (default ∞: no clipping). */
  clip?: number;
  /** Switching threshold of Switch-DR (default ∞) and shrinkage of DR-os (default 0, i.e. DM). */
  lambda?: number;
}

/** A new estimator by OBP name. */
export function makeEstimator(name: EstimatorName, hp: EstimatorHyperparameters = {}): BaseOffPolicyEstimator {
  switch (name) {
    case 'ipw': return new InverseProbabilityWeighting({ lambda: hp.clip });
    case 'snipw': return new SelfNormalizedInverseProbabilityWeighting();
    case 'dm': return new DirectMethod();
    case 'dr': return new DoublyRobust({ lambda: hp.clip });
    case 'sndr': return new SelfNormalizedDoublyRobust();
    case 'switch-dr': return new SwitchDoublyRobust({ lambda: hp.lambda });
    case 'dr-os': return new DoublyRobustWithShrinkage({ lambda: hp.lambda });
    default: throw new OpeInputError('estimators', JSON.stringify(name), `one of ${ESTIMATOR_NAMES.join(', ')}`);
  }
}

/** Parses "ipw,dr" into estimator names, rejecting unknown ones. */
export function parseEstimatorNames(list: string): EstimatorName[] {
  const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (names.length === 0) throw new OpeInputError('estimators', JSON.stringify(list), `a comma-separated list of ${ESTIMATOR_NAMES.join(', ')}`);
  for (const n of names) {
    if (!(ESTIMATOR_NAMES as readonly string[]).includes(n)) throw new OpeInputError('estimators', JSON.stringify(n), `one of ${ESTIMATOR_NAMES.join(', ')}`);
  }
  return [...new Set(names)] as EstimatorName[];
}

export interface EvaluateOptions extends BootstrapOptions, EstimatorHyperparameters {
  /** Which estimators to run. Default: all seven. */
  estimators?: readonly EstimatorName[];
  /** Context features to fit the reward model when `estimatedRewardsByRegModel` is absent. */
  context?: Matrix;
  /** Cross-fitting of that reward model (folds, seed; the seed defaults to `randomState`). */
  regression?: FitPredictOptions & { alpha?: number };
}

export interface OpeReport {
  n_rounds: number;
  estimates: Partial<Record<EstimatorName, Interval>>;
  /** True when q̂ was fitted here from `context` rather than given. */
  fitted_reward_model: boolean;
}

const NEEDS_Q = new Set<EstimatorName>(['dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);

/**
 * Runs the chosen estimators on `inputs`, each with its percentile-bootstrap interval (same seed
 * for every estimator, so their intervals use the same resamples). Fits the ridge reward model with
 * cross-fitting when an estimator needs q̂ and only `context` is given.
 */
export function evaluatePolicy(inputs: OpeInputs, options: EvaluateOptions = {}): OpeReport {
  const names = options.estimators ?? ESTIMATOR_NAMES;
  const estimators = names.map((n) => makeEstimator(n, options));
  let data = inputs;
  let fitted = false;
  if (!inputs.estimatedRewardsByRegModel && options.context && names.some((n) => NEEDS_Q.has(n))) {
    if (!inputs.action || !inputs.reward) {
      throw new OpeInputError(inputs.action ? 'reward' : 'action', 'nothing', 'logged rewards and actions to fit the reward model from context');
    }
    if (options.context.rows !== inputs.actionDist.nRounds) {
      throw new OpeInputError('context', `${options.context.rows} rows`, `n_rounds = ${inputs.actionDist.nRounds} (the first dimension of action_dist)`);
    }
    const model = new RegressionModel({ nActions: inputs.actionDist.nActions, lenList: inputs.actionDist.lenList, alpha: options.regression?.alpha });
    const q = model.fitPredict(options.context, inputs.action, inputs.reward, inputs.position, {
      nFolds: options.regression?.nFolds,
      randomState: options.regression?.randomState ?? options.randomState,
    });
    data = { ...inputs, estimatedRewardsByRegModel: q };
    fitted = true;
  }
  const estimates: Partial<Record<EstimatorName, Interval>> = {};
  for (let j = 0; j < names.length; j++) estimates[names[j]] = estimators[j].estimateInterval(data, options);
  return { n_rounds: inputs.actionDist.nRounds, estimates, fitted_reward_model: fitted };
}
