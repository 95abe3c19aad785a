export type { Action, ActionPart, ActionSpace, Environment, StepResult } from './environment';
export { ActorCritic, headDim, validateSpec } from './actor-critic';
export type { ActorCriticSpec, ActorCriticCheckpoint, ActorCriticHead, ActorCriticStep } from './actor-critic';
export { PpoHyperparametersSchema, parsePpoHyperparameters, derivePpoSizes, actorCriticSpecFor, NORM_EPSILON } from './hyperparameters';
export type { PpoHyperparameters, PpoHyperparametersInput, PpoDerived } from './hyperparameters';
export { computeGae } from './gae';
export { collectRollout, collectRollouts } from './rollout';
export { RunningMeanStd } from './running-mean-std';
export type { RolloutBatch, RolloutCarry, RolloutOptions } from './rollout';
export {
  ppoUpdate, ppoLoss, scaleRewards, createPpoOptimizer, optimizerToJSON, optimizerFromJSON, learningRateAt, explainedVariance, PpoWorkspace,
} from './ppo';
export type { PpoMetrics, PpoOptimizerState, PpoOptimizerJSON, PpoUpdateResult, RewardNormState, Minibatch, PpoLossStats } from './ppo';
export { trainPpo, runSeeds } from './train';
export type { TrainPpoResult } from './train';
