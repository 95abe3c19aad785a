/** Bayesian optimisation over mixed spaces (R-USE-CASES: parameter tuning and experiment design). */
export { SearchSpace, type Parameter, type ParameterValue, type Config, type Slot } from './space';
export { GaussianProcess, NOISE_FLOOR, type GpHyperparameters, type GpFitOptions, type Prediction } from './gp';
export { matern52, scaledSquaredDistance } from './kernel';
export { expectedImprovement, upperConfidenceBound, ExpectedImprovement, UpperConfidenceBound, type AcquisitionFunction } from './acquisition';
export { maximiseAcquisition, ACQUISITION_SEARCH_DEFAULTS, type AcquisitionSearchOptions } from './maximise-acquisition';
export { BayesianOptimizer, proposeFromHistory, type BayesianOptimizerOptions, type BatchStrategy, type Budget, type Direction, type Trial } from './optimizer';
export { MedianStoppingRule, SuccessiveHalving, type StoppingRule } from './early-stopping';
export { partialDependence, type PartialDependence } from './partial-dependence';
export { randomSearchConfigs, bestSoFar } from './random-search';
export { branin, braninSpace, BRANIN_MINIMUM, hartmann6, hartmann6Space, HARTMANN6_MINIMUM } from './benchmarks';
export { lbfgs, LBFGS_DEFAULTS, type LbfgsOptions, type LbfgsResult, type Objective } from './lbfgs';
