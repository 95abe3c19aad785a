export { createPpoActivities, codeCommit } from './activities';
export type { PpoActivities, PpoActivityDeps, RunSetup, IterationSummary, RolloutResult, EvaluationSummary, TrainingOutcome, RegisteredVersion } from './activities';
export { parsePpoTrainingInput, resolveEffectiveConfig, configHash, canonicalJson, DEFAULT_MODEL, DEFAULT_CONFIG_PATH } from './input';
export type { PpoTrainingInput, EvaluationSettings } from './input';
export { parseEnvSpec, formatEnvSpec } from './env-spec';
export type { EnvSpec } from './env-spec';
export { runKeys } from './checkpoint';
