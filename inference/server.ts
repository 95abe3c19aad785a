/**
 * The inference server process: wires the registry, artifact cache, model manager, decision log,
 * feature store and HTTP layer together, and shuts them down in the right order.
 *
 *   const server = await startInferenceServer({ port: 8080, ...fromSettings(loadSettings()) });
 *   …
 *   await server.close(); // stop accepting, finish in-flight requests, flush the decision log
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Pool } from 'pg';
import { Rng } from '../ml/rng';
import type { Settings } from '../config/settings';
import { createArtifactStore } from '../registry/artifacts';
import type { ArtifactStore } from '../registry/artifacts/store';
import { DECISION_COLUMNS, DecisionStore } from '../decision-log';
import { Registry, type RegisterVersionInput } from '../registry';
import { createOnlineHandlers } from './online/handlers';
import { createCacheHandlers } from './cache/handlers';
import type { SemanticCacheKind } from './cache/kind';
import { createPredictHandler } from './predictor/handlers';
import type { PredictorKind } from './predictor/kind';
import type { OnlineModelKind } from './online/kind';
import { createPool } from '../registry/pool';
import { DecisionJournal, type JournalIo } from './decisions/journal';
import { DecisionLog, type DecisionLogStats, type Durability } from './decisions/log';
import { answerWhenDurable } from './decisions/durable';
import type { FeatureStore } from './features';
import { createDecideHandler } from './handlers/decide';
import { ShadowMirror } from './policy/mirror';
import { createKServeHandlers } from './handlers/kserve';
import { createRewardsHandler } from './handlers/rewards';
import { createHttpServer, type JsonHandler } from './http/server';
import type { OverloadOptions } from './http/overload';
import { InferenceMetrics } from './metrics';
import { ArtifactCache } from './models/artifact-cache';
import { DeploymentManager } from './models/manager';
import { RegistryListener } from './registry-listener';
import type { BanditKind } from './bandits/kind';
import { RewardLog } from './bandits/reward-log';
import { withFreshness } from './bandits/feature-freshness';
import type { TextPolicyKind } from './text-policy/kind';
import { DeploymentMap } from './serving/deployment-map';
import { createServedKinds } from './serving/kinds';
import type { RewardSettler, ServedKind } from './serving/served-deployment';
import { DEPLOYMENT_KINDS } from '../registry/types';
import { AuthStore } from './auth/store';
import { guardDecide } from './auth/decide-guard';
import { isKeyNotification } from './auth/notifications';
import { decisionOwners, guardRewardTenants } from './rewards/tenant';
import { createFeedbackHandler } from './feedback/handler';
import type { FeatureSet } from '../ml/features';
import { DEFAULT_FEATURE_SETS_DIR, loadFeatureSets } from '../feature-store/computed/load';
import { OnlineFeatures } from '../feature-store/computed/online';
import { observeRewards, type ComputedFeatures } from './computed-features';
import { RewardFeatureObserver } from '../feature-store/computed/rewards';
import { Db } from '../registry/db';

export { withDbRole } from './auth/db-role';

/** The decision durability modes (`autopilot serve --decision-durability`), for the CLI. */
export { DURABILITIES, type Durability } from './decisions/log';

export type Logger = (level: 'info' | 'warn' | 'error', msg: string) => void;

export interface InferenceServerOptions {
  port: number;
  host?: string;
  databaseUrl: string;
  /** Online feature store; null: `{ entity }` features are refused with a 400. */
  redisUrl: string | null;
  /** Root of the artifact store versions were uploaded to (`file://…` or `s3://…`). */
  artifactUri: string;
  s3?: Settings['s3'];
  /** Last-known-good artifacts, the last deployment records and the decision journal live here. */
  cacheDir: string;
  /** Request body limit in bytes (413 above). Default 64 KiB. */
  maxBodyBytes?: number;
  /** Body limit of KServe v2 infer (413 above). Default 8 MiB. */
  maxInferBodyBytes?: number;
  /** Read plain keep-alive requests with the HTTP fast path (inference/http/fast-path.ts); default true. */
  httpFastPath?: boolean;
  /** Safety-net re-read of every deployment. Default 15 s. */
  reconcileIntervalMs?: number;
  /** Redis key prefix of feature hashes. Default `features:`. */
  featurePrefix?: string;
  decisionLog?: { batchSize?: number; maxQueue?: number; flushIntervalMs?: number; writeTimeoutMs?: number; retryIntervalMs?: number };
  /** Default: lines on stderr. */
  log?: Logger;
  /** Seed of the exploration sampler (default: random). */
  seed?: number;
  /** Include Node's default process metrics in /metrics (default true). */
  defaultMetrics?: boolean;
  /** Bandit deployments: how often each instance re-reads the shared learner state (default 200 ms). */
  banditRefreshIntervalMs?: number;
  /** Online-model deployments: how often each instance tails the shared state's log (default 200 ms). */
  onlineRefreshIntervalMs?: number;
  /** Semantic-cache deployments: the embedding model's folder when a config names none (default .model-minilm, make setup-minilm). */
  embeddingModelDir?: string;
  /** Bandit deployments: how long increments accumulate after each flush to Redis (default 50 ms). */
  banditFlushIntervalMs?: number;
  /** Most rewards in one batch POST /v1/rewards `{ rewards: [...] }` (413 above; default 500). */
  maxRewardBatch?: number;
  /** Slow clients and floods: absolute head/body deadlines and the connection cap (inference/http/overload.ts). */
  overload?: OverloadOptions;
  // ── durability of the decision and reward logs (issue 19 item 4; inference/decisions/log.ts) ──
  /** `async` (default): answered before durable, at-risk rows bounded and exported; `journal`: answered after the journal's fsync. */
  decisionDurability?: Durability;
  /** Cap of each journal (decisions, rewards) in bytes (default: unbounded). */
  journalMaxBytes?: number;
  /** Tests only: the journals' file operations (fault injection). */
  journalIo?: JournalIo;
  /**
   * Require an API key (`Authorization: Bearer …`) on every /v1 and /v2 request but /v2/health/* (inference/auth/);
   * default true. false: anyone who reaches the port may decide and reward (`autopilot serve --auth off`, logged as a warning).
   */
  auth?: boolean;
  /**
   * Computed-feature sets decide can name (`features: { featureSet, request }`, inference/computed-features.ts):
   * a folder of YAML definitions (default: configs/features), the sets themselves, or null for none.
   */
  featureSets?: string | ReadonlyMap<string, FeatureSet> | null;
}

export interface InferenceServer {
  readonly url: string;
  readonly port: number;
  readonly http: Server;
  readonly manager: DeploymentManager;
  readonly decisionLog: DecisionLog;
  /** Mirrors champion-served decide requests to a deployment's shadow version (`config.shadowVersion`). */
  readonly mirror: ShadowMirror;
  readonly metrics: InferenceMetrics;
  readonly listener: RegistryListener;
  /** The one map from deployment name to what serves it (every kind). */
  readonly deployments: DeploymentMap;
  /** The served kind `bandit` (null without Redis). */
  readonly bandits: BanditKind | null;
  /** The served kind `text-policy`. */
  readonly textPolicies: TextPolicyKind;
  /** null without Redis. */
  readonly onlineModels: OnlineModelKind | null;
  /** Counts rewards of feature-set decisions in the sets' windows (null: no computed features). */
  readonly featureObserver: RewardFeatureObserver | null;
  readonly predictors: PredictorKind;
  /** Semantic-cache deployments (null without Redis). */
  readonly semanticCaches: SemanticCacheKind | null;
  /** Stops accepting, lets in-flight requests finish, flushes the decision log, releases everything. */
  close(): Promise<DecisionLogStats>;
}

/** The server options that come from the process settings (config/settings.ts). */
export function optionsFromSettings(s: Settings): Pick<InferenceServerOptions, 'databaseUrl' | 'redisUrl' | 'artifactUri' | 's3' | 'cacheDir'> {
  return { databaseUrl: s.databaseUrl, redisUrl: s.redisUrl, artifactUri: s.artifactUri, s3: s.s3, cacheDir: join(s.dataDir, 'inference') };
}

/** /v1/predict answers predictor deployments first, then online models (inference/predictor/handlers.ts). */
function withPredictors<H extends { predict: JsonHandler; labels: JsonHandler }>(online: H, predictors: PredictorKind): H {
  return { ...online, predict: createPredictHandler(predictors, online.predict) };
}

function packageVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../package.json') as { version: string }).version;
}

/** Journal durability: decide and rewards answer once their rows are fsynced (./decisions/durable.ts); async: as they are. */
function durableRoutes<D, R>(durability: Durability, decisionLog: DecisionLog, rewardLog: RewardLog | null, routes: { decide: D; rewards: R }): { decide: D; rewards: R } {
  if (durability !== 'journal') return routes;
  return {
    decide: answerWhenDurable(routes.decide as never, () => decisionLog.committed()) as D,
    rewards: answerWhenDurable(routes.rewards as never, () => (rewardLog === null ? Promise.resolve() : rewardLog.committed())) as R,
  };
}

const defaultLog: Logger = (level, msg) => process.stderr.write(`${new Date().toISOString()} ${level} inference: ${msg}\n`);

export async function startInferenceServer(opts: InferenceServerOptions): Promise<InferenceServer> {
  const log = opts.log ?? defaultLog;
  const host = opts.host ?? '127.0.0.1';
  const metrics = new InferenceMetrics({ defaultMetrics: opts.defaultMetrics });
  const pool: Pool = createPool(opts.databaseUrl, { max: 6, connectionTimeoutMillis: 2000, query_timeout: 10_000 });
  let store: ArtifactStore | null = null;
  try {
    store = createArtifactStore(opts.artifactUri, opts.s3);
  } catch (err) {
    log('warn', `no artifact store (${(err as Error).message}); serving from the local cache only`);
  }
  const registry = new Registry({ pool });
  const decisions = new DecisionStore({ pool });
  const durability = opts.decisionDurability ?? 'async';
  const journalOpts = (kind: string) => ({
    kind,
    maxBytes: opts.journalMaxBytes,
    writeAhead: durability === 'journal',
    io: opts.journalIo,
    onLost: (file: string, line: number, reason: string) => log('error', `${kind} journal: line ${line} of ${file} cannot be parsed (${reason}); counted lost`),
    log: (level: 'warn' | 'error', msg: string) => log(level, msg),
  });
  // The header names the line's columns: a later version that changes the codec can still read what this one journaled.
  const journal = new DecisionJournal(join(opts.cacheDir, 'journal'), { ...journalOpts('decisions'), header: `columns=${DECISION_COLUMNS.map((c) => c.name).join(',')}` });
  await journal.open();
  const decisionLog = new DecisionLog({
    durability,
    // COPY of the batch's encoded lines (idempotent: a batch with rows already stored falls back to INSERT … ON CONFLICT).
    sink: { insertDecisions: (batch) => decisions.copyDecisionLines(batch.text, batch.count) },
    journal,
    metrics,
    ...opts.decisionLog,
    onError: (err, what) => log('error', `${what}: ${(err as Error)?.message ?? String(err)}`),
  });
  const actor = `inference:${hostname()}:${opts.port}`;
  const seed = opts.seed ?? randomBytes(4).readUInt32LE(0);
  const featurePrefix = opts.featurePrefix ?? 'features:';

  let redis: Redis | null = null;
  let featureStore: FeatureStore | null = null;
  if (opts.redisUrl) {
    const r = new Redis(opts.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, commandTimeout: 1000, enableOfflineQueue: true });
    r.on('error', () => undefined); // reported per request as a 503
    redis = r;
    featureStore = withFreshness({ hgetall: (key) => r.hgetall(key) }, metrics.registry);
  }
  // Computed features: definitions checked before the port opens (a bad file stops the start, naming it).
  const setsFrom = opts.featureSets !== undefined ? opts.featureSets : existsSync(DEFAULT_FEATURE_SETS_DIR) ? DEFAULT_FEATURE_SETS_DIR : null;
  const featureSets = setsFrom === null ? new Map<string, FeatureSet>() : typeof setsFrom === 'object' ? setsFrom : loadFeatureSets(setsFrom);
  if (featureSets.size > 0) log('info', `feature sets: ${[...featureSets.keys()].join(', ')}${opts.redisUrl ? '' : ' (not served: no Redis)'}`);
  // Bandit deployments keep their learner state in Redis: without Redis they are not served.
  let banditRedis: Redis | null = null;
  let rewardLog: RewardLog | null = null;
  let computed: ComputedFeatures | null = null;
  if (opts.redisUrl) {
    const br = new Redis(opts.redisUrl, { enableAutoPipelining: true, maxRetriesPerRequest: 1, commandTimeout: 2000 });
    br.on('error', () => undefined); // reported per request as a 503
    banditRedis = br;
    if (featureSets.size > 0) computed = { sets: featureSets, online: new OnlineFeatures(br) };
    const rewardJournal = new DecisionJournal(join(opts.cacheDir, 'reward-journal'), journalOpts('rewards'));
    await rewardJournal.open();
    const rl = new RewardLog({
      pool,
      journal: rewardJournal,
      durability,
      onError: (m) => log('error', m),
      onLost: (n) => metrics.rewardRowsLost.inc(n),
      onRefused: (n) => metrics.rowsRefused.labels('rewards').inc(n),
    });
    metrics.trackDecisionLog({ atRisk: () => rl.atRisk, journalBytes: () => rewardJournal.bytes, journalFull: () => rewardJournal.isFull }, 'rewards');
    rewardLog = rl;
  }

  // API keys (R-security): loaded before the port opens, refreshed by the listener below.
  const auth = opts.auth === false ? null : new AuthStore(pool, log, join(opts.cacheDir, 'api-keys.json'));
  if (auth === null) log('warn', 'AUTH IS OFF: every /v1 and /v2 endpoint answers anyone who can reach this port, without an API key (--auth off is for local development only)');
  else await auth.start();

  const deployments = new DeploymentMap();
  // Online models register snapshots of their shared state as versions (migration 019 grants this role that).
  const snapshotRegistry =
    store === null
      ? null
      : (() => {
          const r = new Registry({ pool, store });
          return {
            register: (input: RegisterVersionInput) => r.registerVersion(input),
            read: async (model: string, version: number) => {
              const { stream } = await r.openVersionArtifact(model, version);
              const chunks: Buffer[] = [];
              for await (const c of stream) chunks.push(c as Buffer);
              return Buffer.concat(chunks);
            },
          };
        })();
  const mirrorRef: { current: ShadowMirror | null } = { current: null };
  const kinds = createServedKinds({
    map: deployments,
    registry,
    artifacts: new ArtifactCache(join(opts.cacheDir, 'artifacts'), store),
    store,
    metrics,
    decisionLog,
    seed,
    featureStore,
    featurePrefix,
    computed,
    cacheDir: opts.cacheDir,
    actor,
    mirror: mirrorRef,
    banditRedis,
    rewardLog,
    banditRefreshIntervalMs: opts.banditRefreshIntervalMs,
    onlineRefreshIntervalMs: opts.onlineRefreshIntervalMs,
    embeddingModelDir: opts.embeddingModelDir,
    snapshots: snapshotRegistry,
    banditFlushIntervalMs: opts.banditFlushIntervalMs,
    log,
  });
  metrics.trackCalibration(() => kinds['online-model']?.calibrationReports() ?? []);
  // Its own sampler: a shadow never shifts the served decisions' random stream.
  const mirror = new ShadowMirror({ manager: kinds.policy, log: decisionLog, metrics, rng: new Rng(seed ^ 0x9e3779b9), onError: log });
  mirrorRef.current = mirror;
  const manager = new DeploymentManager({ registry, map: deployments, kinds, metrics, log });
  await manager.start();

  const listener = new RegistryListener({
    databaseUrl: opts.databaseUrl,
    log,
    onNotification: (n) => {
      if (n.entity === 'deployment') {
        void manager.notify(n.deployment);
        auth?.refresh('access');
      } else if (isKeyNotification(n)) auth?.refresh('keys');
    },
    onResync: () => {
      auth?.refresh('all');
      manager.reconcileAll().catch((err) => log('warn', `reconcile after (re)connect failed: ${(err as Error).message}`));
    },
  });
  await listener.start();
  const reconcileTimer = setInterval(() => {
    manager.reconcileAll().catch((err) => log('warn', `periodic reconcile failed: ${(err as Error).message}`));
  }, opts.reconcileIntervalMs ?? 15_000);
  reconcileTimer.unref();

  // The kind that settles its own decisions' rewards (bandit), if this server serves it.
  let settler: RewardSettler | null = null;
  for (const k of DEPLOYMENT_KINDS) settler ??= (kinds[k] as ServedKind | null)?.rewards ?? null;
  const rewardRoute = createRewardsHandler(decisions, settler, { maxBatch: opts.maxRewardBatch, log, existence: { decisions: decisionLog } });
  // Rewards of decisions computed with a feature set feed its rolling windows (and feature_events).
  const featureObserver = computed === null ? null : new RewardFeatureObserver({ db: Db.fromPool(pool), online: computed.online, sets: computed.sets, log });
  const rewards = featureObserver === null ? rewardRoute : observeRewards(rewardRoute, featureObserver);
  const kserve = createKServeHandlers({ manager, metrics, serverName: 'autopilot-inference', serverVersion: packageVersion() });
  const http = createHttpServer({
    maxBodyBytes: opts.maxBodyBytes ?? 64 * 1024,
    maxInferBodyBytes: opts.maxInferBodyBytes,
    fastPath: opts.httpFastPath ?? true,
    auth: auth ?? undefined,
    metrics,
    onInternalError: (err, route, errorId) => log('error', `${route}${errorId === undefined ? '' : ` error ${errorId}`}: ${(err as Error)?.stack ?? String(err)}`),
    overload: opts.overload,
    handlers: {
      ...durableRoutes(durability, decisionLog, rewardLog, {
        decide: createDecideHandler({ deployments: auth === null ? deployments : guardDecide(deployments) }),
        rewards:
          auth === null
            ? rewards
            : guardRewardTenants(rewards, { decidingKeyOnly: (d) => auth.decidingKeyOnly(d), get anyDecidingKeyOnly() { return auth.anyDecidingKeyOnly; }, owners: decisionOwners(pool), pending: decisionLog }),
      }),
      feedback: createFeedbackHandler({ store: decisions, metrics, decidingKeyOnly: auth === null ? undefined : (d) => auth.decidingKeyOnly(d) }),
      ...kserve,
      ...withPredictors(createOnlineHandlers(kinds['online-model']), kinds.predictor),
      ...createCacheHandlers(kinds['semantic-cache']),
      metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
    },
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  log('info', `serving ${deployments.size} deployment(s) on http://${host}:${port}${auth === null ? ' WITHOUT AUTH' : ` (API keys required; ${auth.size} active)`}`);
  log('info', `decision durability ${durability}: ${durability === 'journal' ? 'decisions and bandit rewards are answered once fsynced in the journal' : 'answered before durable; rows at risk are bounded and exported as autopilot_decision_log_rows_at_risk'} (journal instance ${journal.instanceId}${opts.journalMaxBytes !== undefined ? `, cap ${opts.journalMaxBytes} bytes` : ''})`);

  let closing: Promise<DecisionLogStats> | null = null;
  return {
    url: `http://${host}:${port}`,
    port,
    http,
    manager,
    decisionLog,
    mirror,
    metrics,
    listener,
    deployments,
    bandits: kinds.bandit,
    textPolicies: kinds['text-policy'],
    onlineModels: kinds['online-model'],
    featureObserver,
    predictors: kinds.predictor,
    semanticCaches: kinds['semantic-cache'],
    close() {
      if (closing !== null) return closing;
      closing = (async () => {
        clearInterval(reconcileTimer);
        const closed = new Promise<void>((resolve) => http.close(() => resolve()));
        http.closeIdleConnections();
        // Connections still busy after a grace period are cut; their requests have been answered or never will be.
        const force = setTimeout(() => http.closeAllConnections(), 5000);
        await closed;
        clearTimeout(force);
        await listener.close();
        await mirror.drain();
        // Every kind closes (bandit learners flush their last increments), then every deployment is unloaded.
        await manager.close();
        if (featureObserver !== null) {
          await featureObserver.flush(5000);
          featureObserver.close();
        }
        if (rewardLog !== null) await rewardLog.close();
        if (banditRedis !== null) banditRedis.disconnect();
        const stats = await decisionLog.close();
        if (redis !== null) redis.disconnect();
        await pool.end().catch(() => undefined);
        log('info', `stopped: ${stats.written} decisions written, ${stats.spilled} spilled, ${stats.journalPending} left in the journal, ${stats.lost} lost`);
        return stats;
      })();
      return closing;
    },
  };
}
