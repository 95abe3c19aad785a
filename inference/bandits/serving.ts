/**
 * Deployments of kind `bandit` (config: ./config.ts), served by the inference server beside the ONNX
 * policies: `POST /v1/decide` answers with the learner's arm, its propensity and a decision id;
 * `POST /v1/rewards` turns components into the composite reward (the deployment's reward spec) or
 * takes a scalar, and adds the observation to the learner state shared in Redis (./shared-state.ts).
 *
 * The reward needs the decision's context and arm, on whichever instance it arrives: decide writes
 * `bandit:decision:<id>` = { deployment, stateKey, arm, x } (TTL `decisionTtlSeconds`). A reward is
 * applied once: `SET bandit:reward:<id> <reward> NX GET` claims the decision atomically; the same
 * reward again is a 200, a different one a 409; the claimed increment is queued for the next batched
 * flush (acknowledged before it, see shared-state.ts). Decision rows go to the decision log like any other;
 * reward rows to the registry's rewards table in batches (./reward-log.ts).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { BanditPolicy, LearnerKind } from '../../ml/bandits';
import { compositeReward } from '../../ml/rewards';
import type { Rng } from '../../ml/rng';
import type { Deployment, Json } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { fillFromStore, parseFeatures, type FeatureStore } from '../features';
import { finite, rewardBody, rewardComponents } from '../handlers/reward-body';
import { expectObject } from '../http/body';
import { ClientError, badRequest, describeValue, parseKey } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { PolicyBinding } from '../policy/binding';
import { buildLearner, parseBanditConfig, type BanditConfig } from './config';
import type { RewardLog } from './reward-log';
import { SharedLearner } from './shared-state';

export interface BanditDecideResponse {
  decisionId: string;
  model: string;
  version: null;
  arm: string;
  armIndex: number;
  action: Json;
  propensity: number;
  armProbability: 1;
  fallback: false;
  /** `seq` of the shared learner state this decision was made with (observations applied). */
  stateSeq: number;
}

export interface BanditRewardResponse {
  decisionId: string;
  accepted: true;
  duplicate: boolean;
  reward: number;
  arm: string;
}

/** What decide writes for the reward to find. */
interface DecisionEntry {
  deployment: string;
  stateKey: string;
  arm: number;
  x: number[] | null;
}

export interface BanditServing {
  name: string;
  model: string;
  generation: number;
  config: BanditConfig;
  configJson: string;
  shared: SharedLearner;
  binding: PolicyBinding | null;
}

export interface BanditDeploymentsOptions {
  redis: Redis;
  decisionLog: DecisionLog;
  rewardLog: RewardLog;
  metrics: InferenceMetrics;
  rng: Rng;
  featureStore: FeatureStore | null;
  featurePrefix: string;
  refreshIntervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const DECIDE_KEYS = new Set(['deployment', 'features', 'unit', 'explore']);

export const decisionKey = (id: string): string => `bandit:decision:${id}`;
export const rewardKey = (id: string): string => `bandit:reward:${id}`;

function statsKindOf(learner: BanditPolicy): LearnerKind {
  return learner.getStats().kind;
}

// GET the decision entry and claim its reward (SET NX GET, expiring with the entry) atomically.
const CLAIM_SCRIPT = `
local e = redis.call('GET', KEYS[1])
if not e then return false end
local ttl = redis.call('PTTL', KEYS[1])
if ttl <= 0 then ttl = 86400000 end
local prev = redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl + 60000, 'NX', 'GET')
return { e, prev }`;
const CLAIM_SHA = createHash('sha1').update(CLAIM_SCRIPT).digest('hex');

export class BanditDeployments {
  private readonly served = new Map<string, BanditServing>();
  applyFailures = 0;

  constructor(private readonly opts: BanditDeploymentsOptions) {}

  private async evalClaim(dKey: string, rKey: string, reward: string): Promise<unknown> {
    try {
      return await this.opts.redis.evalsha(CLAIM_SHA, 2, dKey, rKey, reward);
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      return this.opts.redis.eval(CLAIM_SCRIPT, 2, dKey, rKey, reward);
    }
  }

  /** The online feature store `{ entity }` contexts are read from (the server's, with its freshness metric). */
  setFeatureStore(store: FeatureStore | null): void {
    this.opts.featureStore = store;
  }

  get(name: string): BanditServing | undefined {
    return this.served.get(name);
  }

  names(): string[] {
    return [...this.served.keys()];
  }

  /** Serves (or re-configures) a bandit deployment. A bad config keeps the previous one serving. */
  async apply(d: Deployment): Promise<void> {
    const cur = this.served.get(d.deployment);
    const configJson = JSON.stringify(d.config);
    if (cur !== undefined && cur.configJson === configJson) {
      cur.generation = d.generation;
      return;
    }
    let config: BanditConfig;
    try {
      config = parseBanditConfig(d.config, d.deployment);
    } catch (err) {
      this.applyFailures++;
      this.opts.log?.('error', `bandit deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return;
    }
    const learner = buildLearner(config);
    const shared = new SharedLearner({
      redis: this.opts.redis,
      stateKey: config.stateKey,
      learner,
      statsKind: statsKindOf(learner),
      d: config.d,
      refreshIntervalMs: this.opts.refreshIntervalMs,
      onError: (m) => this.opts.log?.('warn', m),
    });
    try {
      await shared.start();
    } catch (err) {
      this.opts.log?.('warn', `bandit deployment ${d.deployment}: cannot read the shared state ${shared.key} (${(err as Error).message}); starting from the prior, refreshing in the background`);
    }
    const binding: PolicyBinding | null = config.features.length > 0 ? { input: { name: 'context', size: config.features.length, features: config.features }, policy: null, outputs: [] } : null;
    this.served.set(d.deployment, { name: d.deployment, model: d.model, generation: d.generation, config, configJson, shared, binding });
    if (cur !== undefined) void cur.shared.close();
    this.opts.log?.('info', `bandit deployment ${d.deployment}: ${config.learnerKind}${config.exploration.kind === 'none' ? '' : ` + ${config.exploration.kind}`}, ${config.arms.length} arms, d = ${config.d}, state ${shared.key} (seq ${shared.seq})`);
  }

  remove(name: string): void {
    const cur = this.served.get(name);
    if (cur === undefined) return;
    this.served.delete(name);
    void cur.shared.close();
  }

  /** Removes every served bandit not in `names` (after a full reconcile). */
  retain(names: ReadonlySet<string>): void {
    for (const n of [...this.served.keys()]) if (!names.has(n)) this.remove(n);
  }

  async close(): Promise<void> {
    await Promise.all([...this.served.values()].map((s) => s.shared.close()));
    this.served.clear();
  }

  /** The context vector x (intercept first) and the features to log. */
  private async contextOf(s: BanditServing, features: unknown): Promise<{ x: number[] | null; logged: Json }> {
    if (s.binding === null) {
      if (features !== undefined && features !== null && !(Array.isArray(features) && features.length === 0) && !(typeof features === 'object' && Object.keys(features).length === 0)) {
        throw badRequest(`features must be absent for bandit ${s.name}, got ${describeValue(features)}`, 'features', 'nothing (or [] / {})');
      }
      return { x: s.config.d > 0 ? [1] : null, logged: {} };
    }
    if (features === undefined) throw badRequest('features is required', 'features', `an array of ${s.binding.input.size} numbers, an object keyed by ${s.config.features.join(', ')}, or { entity }`);
    const v = new Float32Array(s.binding.input.size);
    const lookup = parseFeatures(features, s.binding, v);
    let logged = features as Json;
    if (lookup !== null) {
      const used = await fillFromStore(this.opts.featureStore, this.opts.featurePrefix, lookup.entity, lookup.missing, s.binding, v);
      logged = { ...(features as Record<string, Json>), ...used };
    } else if (Array.isArray(features)) {
      logged = Object.fromEntries(s.config.features.map((n, i) => [n, features[i] as number]));
    }
    // The request's (or the store's) float64 values, not the float32 copy parseFeatures validated.
    const vals = s.config.features.map((n) => (logged as Record<string, number>)[n]);
    const x = s.config.intercept ? [1, ...vals] : vals;
    return { x, logged };
  }

  /** POST /v1/decide for a bandit deployment (the body's `deployment` names one of ours). */
  async decide(body: unknown, ctx: RequestContext): Promise<BanditDecideResponse> {
    const b = expectObject(body);
    for (const key in b) if (!DECIDE_KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only deployment, features, unit and explore');
    const s = this.served.get(b.deployment as string)!;
    let unit: string | null = null;
    if (b.unit !== undefined && b.unit !== null) unit = parseKey(b.unit, 'unit', 'a key such as "user:42"');
    const { x, logged } = await this.contextOf(s, b.features);
    const learner = s.shared.learner;
    const pick = learner.select(x ?? undefined, this.opts.rng);
    const arm = s.config.arms[pick.arm];
    const decisionId = randomUUID();
    const entry: DecisionEntry = { deployment: s.name, stateKey: s.config.stateKey, arm: pick.arm, x };
    try {
      await this.opts.redis.set(decisionKey(decisionId), JSON.stringify(entry), 'EX', s.config.decisionTtlSeconds);
    } catch (err) {
      throw new ClientError(503, `cannot record the bandit decision for its reward: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
    }
    const action: Json = { arm: arm.name, index: pick.arm, ...(arm.payload !== null ? { payload: arm.payload } : {}) };
    this.opts.metrics.decisions.labels(s.name, 'bandit', arm.name).inc();
    this.opts.decisionLog.enqueue({
      decisionId,
      time: new Date(),
      deployment: s.name,
      model: s.model,
      version: null,
      generation: s.generation,
      arm: arm.name,
      features: logged,
      action,
      propensity: pick.propensity,
      density: null,
      unit,
      latencyMs: performance.now() - ctx.start,
      metadata: { kind: 'bandit', learner: learner.kind, seq: s.shared.seq, scores: pick.scores.map((v) => (Number.isFinite(v) ? v : null)) },
    });
    return { decisionId, model: s.model, version: null, arm: arm.name, armIndex: pick.arm, action, propensity: pick.propensity, armProbability: 1, fallback: false, stateSeq: s.shared.seq };
  }

  /**
   * POST /v1/rewards when the decision is a bandit decision; null when it is not one of ours (or its
   * entry expired), so the caller records it like any other reward.
   */
  async reward(body: unknown, ctx: RequestContext): Promise<BanditRewardResponse | null> {
    const { b, id } = rewardBody(body);
    const decisionId = id.toLowerCase();
    const components = rewardComponents(b);
    const scalar = b.reward !== undefined && b.reward !== null ? finite(b.reward, 'reward') : null;
    if (scalar === null && components === null) throw badRequest('reward or components is required', 'reward', 'a finite number, or components for the deployment\'s reward spec');
    // A scalar reward is looked up and claimed in one script (one round trip); components need the
    // deployment's spec first, so they are looked up, turned into the reward, then claimed.
    let raw: string | null;
    let previous: string | null | undefined;
    try {
      if (scalar !== null) {
        const r = (await this.evalClaim(decisionKey(decisionId), rewardKey(decisionId), String(scalar))) as [string, string | false] | null;
        raw = r === null ? null : r[0];
        previous = r === null || r[1] === false ? null : r[1];
      } else raw = await this.opts.redis.get(decisionKey(decisionId));
    } catch (err) {
      throw new ClientError(503, `cannot look the decision up: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
    }
    if (raw === null) return null;
    const entry = JSON.parse(raw) as DecisionEntry;
    const s = this.served.get(entry.deployment);
    const stale = s === undefined || s.config.stateKey !== entry.stateKey || entry.arm >= s.config.arms.length || (entry.x?.length ?? 0) !== s.config.d;
    if (stale) {
      if (previous === null) await this.opts.redis.del(rewardKey(decisionId)).catch(() => undefined); // un-claim: it was not applied
      if (s === undefined) throw new ClientError(409, `decision ${decisionId} was made by bandit deployment ${entry.deployment}, which is no longer served here`, 'decisionId', 'a decision of a served deployment');
      throw new ClientError(409, `decision ${decisionId} was made under a configuration of ${s.name} that is no longer served (arms or features changed)`, 'decisionId', 'a decision of the current configuration');
    }
    let reward: number;
    if (scalar !== null) reward = scalar;
    else {
      if (s.config.rewardSpec === null) throw badRequest(`bandit deployment ${s.name} has no rewardSpec: send a scalar reward`, 'reward', 'a finite number');
      try {
        reward = compositeReward(s.config.rewardSpec, components!).reward;
      } catch (err) {
        throw badRequest((err as Error).message, 'components', `the components of reward spec version ${s.config.rewardSpec.version}: ${Object.keys(s.config.rewardSpec.components).join(', ')}`);
      }
      try {
        previous = (await this.opts.redis.set(rewardKey(decisionId), String(reward), 'EX', s.config.decisionTtlSeconds, 'NX', 'GET')) as string | null;
      } catch (err) {
        throw new ClientError(503, `cannot record the reward now: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
      }
    }
    const arm = s.config.arms[entry.arm].name;
    if (previous !== null && previous !== undefined) {
      if (Number(previous) === reward) {
        ctx.status = 200;
        return { decisionId: id, accepted: true, duplicate: true, reward, arm };
      }
      throw new ClientError(409, `the reward of decision ${decisionId} is already recorded as ${previous}; got ${reward} (a reward is recorded once per decision)`, 'reward', 'the reward already recorded for this decision');
    }
    const learner = s.shared.learner;
    s.shared.add(learner.statsDelta(entry.x ?? undefined, entry.arm, reward));
    this.opts.rewardLog.enqueue({ decisionId, reward, components, time: new Date() });
    ctx.status = 201;
    return { decisionId: id, accepted: true, duplicate: false, reward, arm };
  }
}
