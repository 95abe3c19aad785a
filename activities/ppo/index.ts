export { createPpoActivities } from './activities';
export { codeCommit } from '../code-commit';
export type { PpoActivityDeps } from './activities';
export type { PpoActivities, RunSetup, IterationSummary, RolloutResult, EvaluationSummary, TrainingOutcome, RegisteredVersion, PpoTrainingInput, EvaluationSettings } from '../../contracts/ppo-training';
export { parsePpoTrainingInput, resolveEffectiveConfig, configHash, canonicalJson, DEFAULT_MODEL, DEFAULT_CONFIG_PATH } from './input';
export { parseEnvSpec, formatEnvSpec } from './env-spec';
export type { EnvSpec } from './env-spec';
export { runKeys } from './checkpoint';
