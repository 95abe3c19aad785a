export type { Action, ActionPart, ActionSpace, Environment, StepResult } from './environment';
export { ActorCritic, headDim, validateSpec } from './actor-critic';
export type { ActorCriticSpec, ActorCriticCheckpoint, ActorCriticHead, ActorCriticStep } from './actor-critic';
export { PpoHyperparametersSchema, parsePpoHyperparameters, derivePpoSizes } from './hyperparameters';
export type { PpoHyperparameters, PpoHyperparametersInput, PpoDerived } from './hyperparameters';
export { computeGae } from './gae';
export { collectRollout } from './rollout';
export type { RolloutBatch, RolloutCarry, RolloutOptions } from './rollout';
export {
  ppoUpdate, ppoLoss, createPpoOptimizer, optimizerToJSON, optimizerFromJSON, learningRateAt, explainedVariance, PpoWorkspace,
} from './ppo';
export type { PpoMetrics, PpoOptimizerState, PpoOptimizerJSON, PpoUpdateResult, Minibatch, PpoLossStats } from './ppo';
export { trainPpo, runSeeds } from './train';
export type { TrainPpoResult } from './train';
