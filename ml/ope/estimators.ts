/**
 * The estimators by their OBP names, and one call that runs several of them on the same data with
 * their bootstrap intervals (what the CLI and the OPE workflow use). The inputs are validated once,
 * each estimator yields its per-round values V̂_i, and all of them are resampled together with one
 * shared set of bootstrap resamples (`ml/stats/shared-bootstrap.ts`); `parallel/ope.ts` runs the
 * same resampling on several threads with identical results.
 */
import { checkBootstrapOptions, type BootstrapOptions, type Interval } from '../stats/bootstrap';
import { sharedBootstrap } from '../stats/shared-bootstrap';
import type { BaseOffPolicyEstimator } from './base';
import { unsupportedMass, weightDiagnostics, type WeightDiagnostics } from './diagnostics';
import { DirectMethod } from './dm';
import { DoublyRobust } from './dr';
import { DoublyRobustWithShrinkage } from './dr-os';
import { checkOpeInputs } from './check';
import { OpeInputError } from './errors';
import { InverseProbabilityWeighting } from './ipw';
import { RegressionModel, type FitPredictOptions } from './regression-model';
import { SelfNormalizedDoublyRobust } from './sndr';
import { SelfNormalizedInverseProbabilityWeighting } from './snipw';
import { SwitchDoublyRobust } from './switch-dr';
import type { CheckedOpeInputs, Matrix, OpeInputs } from './types';

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
  /** Warn when an estimator's effective sample size is below this (default 100). */
  minEffectiveSampleSize?: number;
}

export interface OpeReport {
  n_rounds: number;
  estimates: Partial<Record<EstimatorName, Interval>>;
  /** True when q̂ was fitted here from `context` rather than given. */
  fitted_reward_model: boolean;
  /** Per estimator: ESS of the weights it uses, unsupported mass, and warnings when its assumptions fail (`diagnostics.ts`). */
  diagnostics: Partial<Record<EstimatorName, WeightDiagnostics>>;
}

const NEEDS_Q = new Set<EstimatorName>(['dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);

/** The estimators' per-round values, ready to be resampled together. */
export interface EstimatorColumns {
  names: EstimatorName[];
  /** V̂_i of each estimator, in the order of `names`; each of length n_rounds. */
  columns: Float64Array[];
  nRounds: number;
  /** True when q̂ was fitted here from `context` rather than given. */
  fittedRewardModel: boolean;
  /** Per estimator, in the order of `names` (absent without logged actions and propensities). */
  diagnostics: (WeightDiagnostics | null)[];
}

/**
 * Validates `inputs` once and computes each chosen estimator's per-round values V̂_i. Fits the ridge
 * reward model with cross-fitting when an estimator needs q̂ and only `context` is given. Errors are
 * the ones each estimator's own `estimateInterval` would raise, in the same order.
 */
export function estimatorColumns(inputs: OpeInputs, options: EvaluateOptions = {}): EstimatorColumns {
  const names = [...(options.estimators ?? ESTIMATOR_NAMES)];
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
  const columns: Float64Array[] = [];
  const diagnostics: (WeightDiagnostics | null)[] = [];
  let checked: CheckedOpeInputs | undefined;
  let unsupported: Float64Array | undefined;
  for (const est of estimators) {
    // The value checks cover every field present, whatever `requires` says: the first estimator's
    // check validates them all; later ones only add their own "required but missing" check.
    if (checked === undefined || !est.requires.every((f) => data[f] !== undefined)) checked = checkOpeInputs(data, est.requires, est.estimatorName);
    columns.push(est.roundRewardsFromChecked(checked));
    const w = est.weightsUsed(checked);
    if (w !== null && unsupported === undefined) unsupported = unsupportedMass(checked.pscore!, loggedTargetProbability(checked));
    diagnostics.push(w === null ? null : weightDiagnostics(w, {
      unsupported, estimator: est.estimatorName, directMethod: est.estimatorName === 'dm', minEffectiveSampleSize: options.minEffectiveSampleSize,
    }));
  }
  return { names, columns, nRounds: inputs.actionDist.nRounds, fittedRewardModel: fitted, diagnostics };
}

/** π_e(a_i | x_i, k_i): the target's probability of each logged action. */
function loggedTargetProbability(c: CheckedOpeInputs): Float64Array {
  const out = new Float64Array(c.nRounds);
  for (let i = 0; i < c.nRounds; i++) out[i] = c.actionDist.data[(i * c.nActions + c.action![i]) * c.lenList + c.position[i]];
  return out;
}

/** The report of `evaluatePolicy` from the estimators' columns and their intervals (same order). */
export function opeReport(cols: EstimatorColumns, intervals: readonly Interval[]): OpeReport {
  const estimates: Partial<Record<EstimatorName, Interval>> = {};
  const diagnostics: Partial<Record<EstimatorName, WeightDiagnostics>> = {};
  for (let j = 0; j < cols.names.length; j++) {
    estimates[cols.names[j]] = intervals[j];
    const d = cols.diagnostics[j];
    if (d) diagnostics[cols.names[j]] = d;
  }
  return { n_rounds: cols.nRounds, estimates, fitted_reward_model: cols.fittedRewardModel, diagnostics };
}

/**
 * Runs the chosen estimators on `inputs`, each with its percentile-bootstrap interval. All
 * estimators share one set of resamples (drawn once from `randomState`), so an estimator's interval
 * is the same whichever other estimators run beside it. Fits the ridge reward model with
 * cross-fitting when an estimator needs q̂ and only `context` is given.
 */
export function evaluatePolicy(inputs: OpeInputs, options: EvaluateOptions = {}): OpeReport {
  const boot = checkBootstrapOptions(options);
  const cols = estimatorColumns(inputs, options);
  return opeReport(cols, sharedBootstrap(cols.columns, boot, cols.names));
}
