/**
 * Computed features (issue 23 item 6): definitions (YAML, zod-checked), the pure transformations, rolling
 * windows as buckets, and the FeatureSet that computes a request's features online and offline alike.
 * The YAML loader and the Redis store live in feature-store/computed/.
 */
export * from './definitions';
export { FeatureInputError, FeatureSet, FeatureSetError, type FeatureRequest } from './feature-set';
export { decisionEvents, pointInTimeFeatures, type LoggedFeatureDecision, type PointInTimeRow } from './offline';
export * as requestFns from './request';
export { localTime, temporalFeature, type LocalTime } from './temporal';
export { ALL_FIELDS, BucketStore, COMPONENTS, aggregate, fieldsOf, bucketOf, eventIncrements, latencyBucket, latencyQuantile, windowBuckets, type FeatureEvent, type SeriesRef, type Stats } from './windows';
