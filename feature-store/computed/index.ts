/**
 * Computed features, the I/O side (the math is ml/features): load definitions from YAML, compute online
 * from a raw request and the Redis windows, count rewards into the windows, build training sets offline.
 *
 *   const set = loadFeatureSet('configs/features/llm-routing.yaml');
 *   const { values, asOf } = await new OnlineFeatures(redis).compute(set, { prompt, tenant }, { record: true });
 *   const rows = await buildTrainingSet(db, set, { deployment: 'model-router' });
 */
export { DEFAULT_FEATURE_SETS_DIR, loadFeatureSet, loadFeatureSets, parseFeatureSet } from './load';
export { OnlineFeatures, FeatureRequestError, checkFeatureRequest, READ_AND_RECORD, type ScriptClient, type OnlineFeaturesOptions } from './online';
export { RewardFeatureObserver, uuidV7Time, type ObservedReward, type RewardObserverOptions } from './rewards';
export { buildTrainingSet, type TrainingRow, type TrainingSetQuery } from './offline';
