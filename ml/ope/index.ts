/** Off-policy evaluation: OBP's estimators, input checks and reward model, in TypeScript. */
export * from './types';
export { OpeInputError } from './errors';
export { checkOpeInputs } from './check';
export { BaseOffPolicyEstimator, meanOf } from './base';
export { InverseProbabilityWeighting } from './ipw';
export { SelfNormalizedInverseProbabilityWeighting } from './snipw';
export { DirectMethod } from './dm';
export { DoublyRobust } from './dr';
export { SelfNormalizedDoublyRobust } from './sndr';
export { SwitchDoublyRobust } from './switch-dr';
export { DoublyRobustWithShrinkage } from './dr-os';
export { RegressionModel, type RegressionModelOptions, type FitPredictOptions } from './regression-model';
export { ESTIMATOR_NAMES, type EstimatorName, makeEstimator, parseEstimatorNames, evaluatePolicy, estimatorColumns, opeReport, type EstimatorColumns, type EvaluateOptions, type OpeReport } from './estimators';
export { opeInputsFromJson } from './inputs';
export { OpeRowsReader } from './rows';
export { ActionFeatureRewardModel, type ActionHead, type ActionFeatureModelOptions, type ActionFeaturePredictions } from './action-features';
export {
  effectiveSampleSize, unsupportedMass, weightDiagnostics, factoredImportanceWeights, marginalizedImportanceWeights, loggedVersusRest,
  DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE, type WeightDiagnostics, type OpeWarning, type DiagnosticsOptions,
} from './diagnostics';
