/**
 * The kind table: for every deployment kind (registry/types.ts DEPLOYMENT_KINDS) the factory of the
 * ServedKind that loads and serves it. The manager looks a registry row's kind up here and nowhere
 * else; the type checker refuses a kind without a row.
 *
 * A new served kind: a word in DEPLOYMENT_KINDS, its config parser (registry/deployment-config/), a folder
 * under inference/ with its ServedKind and ServedDeployment, and one row below.
 */
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { Rng } from '../../ml/rng';
import type { AuditInput } from '../../registry/audit';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { DEPLOYMENT_KINDS, type DeploymentKind, type ModelVersion } from '../../registry/types';
import { BanditKind } from '../bandits/kind';
import type { RewardLog } from '../bandits/reward-log';
import type { DecisionLog } from '../decisions/log';
import type { FeatureStore } from '../features';
import type { ComputedFeatures } from '../computed-features';
import type { ShadowMirror } from '../policy/mirror';
import type { InferenceMetrics } from '../metrics';
import type { ArtifactCache } from '../models/artifact-cache';
import { PolicyKind } from '../policy/kind';
import { TextPolicyKind } from '../text-policy/kind';
import { OnlineModelKind, type SnapshotRegistry } from '../online/kind';
import { PredictorKind } from '../predictor/kind';
import { SemanticCacheKind } from '../cache/kind';
import type { DeploymentMap } from './deployment-map';
import type { ServedKind } from './served-deployment';

/** Everything a kind factory may use; each takes what it needs. */
export interface ServingDeps {
  map: DeploymentMap;
  registry: { getVersion(model: string, version: number): Promise<ModelVersion>; appendAudit(entry: AuditInput): Promise<number> };
  artifacts: ArtifactCache;
  store: ArtifactStore | null;
  metrics: InferenceMetrics;
  decisionLog: DecisionLog;
  /** Seeds every kind's sampler (each kind its own stream). */
  seed: number;
  featureStore: FeatureStore | null;
  featurePrefix: string;
  /** Feature sets computed from a raw request (inference/computed-features.ts); null: none. */
  computed?: ComputedFeatures | null;
  /** The server's cache folder: policy records, text-policy version folders. */
  cacheDir: string;
  /** Names this server in audit rows. */
  actor: string;
  /** Mirrors champion-served policy requests to a shadow version (set once the mirror exists). */
  mirror: { current: ShadowMirror | null };
  /** Redis for bandit learner state and reward claims; null: bandit deployments are not served. */
  banditRedis: Redis | null;
  rewardLog: RewardLog | null;
  /** Registers and reads online-model snapshots (null: no artifact store). */
  snapshots?: SnapshotRegistry | null;
  onlineRefreshIntervalMs?: number;
  /** The semantic cache's embedding model folder when a deployment names none (default .model-minilm). */
  embeddingModelDir?: string;
  banditRefreshIntervalMs?: number;
  banditFlushIntervalMs?: number;
  retryFailedMs?: number;
  log: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export const SERVED_KINDS = {
  policy: (deps: ServingDeps) =>
    new PolicyKind({
      map: deps.map,
      registry: deps.registry,
      artifacts: deps.artifacts,
      metrics: deps.metrics,
      stateDir: deps.cacheDir,
      actor: deps.actor,
      retryFailedMs: deps.retryFailedMs,
      decide: { log: deps.decisionLog, metrics: deps.metrics, rng: new Rng(deps.seed), featureStore: deps.featureStore, featurePrefix: deps.featurePrefix, computed: deps.computed ?? null, onError: deps.log, mirror: deps.mirror },
      log: deps.log,
    }),
  bandit: (deps: ServingDeps) =>
    deps.banditRedis === null || deps.rewardLog === null
      ? null
      : new BanditKind({
          map: deps.map,
          redis: deps.banditRedis,
          decisionLog: deps.decisionLog,
          rewardLog: deps.rewardLog,
          metrics: deps.metrics,
          rng: new Rng(deps.seed ^ 0x5bd1e995),
          featureStore: deps.featureStore,
          featurePrefix: deps.featurePrefix,
          computed: deps.computed ?? null,
          refreshIntervalMs: deps.banditRefreshIntervalMs,
          flushIntervalMs: deps.banditFlushIntervalMs,
          log: deps.log,
        }),
  'text-policy': (deps: ServingDeps) =>
    new TextPolicyKind({ map: deps.map, registry: deps.registry, store: deps.store, decisionLog: deps.decisionLog, metrics: deps.metrics, cacheDir: join(deps.cacheDir, 'text-policy'), log: deps.log }),
  'online-model': (deps: ServingDeps) =>
    deps.banditRedis === null
      ? null
      : new OnlineModelKind({ map: deps.map, redis: deps.banditRedis, snapshots: deps.snapshots ?? null, actor: deps.actor, refreshIntervalMs: deps.onlineRefreshIntervalMs, log: deps.log }),
  predictor: (deps: ServingDeps) =>
    new PredictorKind({ map: deps.map, registry: deps.registry, artifacts: deps.artifacts, decisionLog: deps.decisionLog, metrics: deps.metrics, log: deps.log }),
  'semantic-cache': (deps: ServingDeps) => {
    if (deps.banditRedis === null) return null;
    const rng = new Rng(deps.seed ^ 0x2545f491);
    return new SemanticCacheKind({
      map: deps.map, redis: deps.banditRedis, decisionLog: deps.decisionLog, metrics: deps.metrics, snapshots: deps.snapshots ?? null, actor: deps.actor,
      random: () => rng.uniform(), defaultEmbeddingDir: deps.embeddingModelDir, refreshIntervalMs: deps.onlineRefreshIntervalMs, log: deps.log,
    });
  },
} satisfies { readonly [K in DeploymentKind]: (deps: ServingDeps) => ServedKind | null };

/** One ServedKind per kind (null: not served by this server, e.g. bandit without Redis). */
export type ServedKinds = { readonly [K in DeploymentKind]: ReturnType<(typeof SERVED_KINDS)[K]> };

export function createServedKinds(deps: ServingDeps): ServedKinds {
  const kinds: Partial<Record<DeploymentKind, ServedKind | null>> = {};
  for (const k of DEPLOYMENT_KINDS) kinds[k] = SERVED_KINDS[k](deps);
  return kinds as ServedKinds;
}
