/**
 * Deployments of kind `bandit` (config: ./config.ts), served by the inference server beside the ONNX
 * policies: `POST /v1/decide` answers with the learner's arm, its propensity and a decision id;
 * `POST /v1/rewards` turns components into the composite reward (the deployment's reward spec) or
 * takes a scalar, and adds the observation to the learner state shared in Redis (./shared-state.ts).
 *
 * The reward needs the decision's context and arm, on whichever instance it arrives: decide writes
 * `bandit:decision:<id>` = { deployment, stateKey, arm, x } (TTL `decisionTtlSeconds`). A reward is
 * applied once: a Lua script reads the entry and claims `bandit:reward:<id>` (SET NX GET) atomically;
 * the same reward again is a 200, a different one a 409; the claimed increment is added to the next
 * batched flush (acknowledged before it, see shared-state.ts). The claims of one event-loop turn (the
 * single rewards that arrived together, the items of a batch body) go to Redis as one script call.
 * Decision rows go to the decision log like any other; reward rows to the registry's rewards table in
 * batches (./reward-log.ts).
 */
import { createHash } from 'node:crypto';
import { newDecisionStamp } from '../decisions/id';
import type { Redis } from 'ioredis';
import type { BanditPolicy, LearnerKind, StatsDelta } from '../../ml/bandits';
import { compositeReward } from '../../ml/rewards';
import type { Rng } from '../../ml/rng';
import type { Deployment, Json } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { fillFromStore, parseFeatures, type FeatureStore } from '../features';
import { finite, itemError, rewardBody, rewardComponents, type RewardItem, type RewardItemResult } from '../handlers/reward-body';
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
  /** How long each shared learner lets increments accumulate after a flush (default 50 ms). */
  flushIntervalMs?: number;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const DECIDE_KEYS = new Set(['deployment', 'features', 'unit', 'explore']);

export const decisionKey = (id: string): string => `bandit:decision:${id}`;
export const rewardKey = (id: string): string => `bandit:reward:${id}`;

function statsKindOf(learner: BanditPolicy): LearnerKind {
  return learner.getStats().kind;
}

// Per item, atomically: GET the decision entry and claim its reward (SET NX GET, expiring a minute
// after the entry), in order (the same decision twice: the first claims, the later ones see its
// reward). KEYS: decision and reward key per item; ARGV: per item 'c' (claim with the value that
// follows) or 'g' (only read the entry). Returns per item [entry or nil, the reward already claimed or nil].
const CLAIM_SCRIPT = `
local out = {}
for i = 1, #ARGV, 2 do
  local e = redis.call('GET', KEYS[i])
  local prev = false
  if e and ARGV[i] == 'c' then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl <= 0 then ttl = 86400000 end
    prev = redis.call('SET', KEYS[i + 1], ARGV[i + 1], 'PX', ttl + 60000, 'NX', 'GET')
  end
  out[i] = e
  out[i + 1] = prev
end
return out`;
const CLAIM_SHA = createHash('sha1').update(CLAIM_SCRIPT).digest('hex');

/** Most claims in one script call (a call blocks Redis for ~2–3 µs per claim). */
const CLAIMS_PER_SCRIPT = 1000;

/** A claimed reward the learner refused: not applied, so the claim is taken back (400). */
class RefusedReward extends ClientError {
  constructor(message: string, expected: string) {
    super(400, message, 'reward', expected);
  }
}

/** One operation of a CLAIM_SCRIPT call: claim `value` for the decision, or only read its entry. */
interface ClaimOp {
  id: string;
  value: string | null;
}

export class BanditDeployments {
  private readonly served = new Map<string, BanditServing>();
  private claimQueue: { ops: ClaimOp[]; resolve: (r: [string | null, string | null][]) => void; reject: (err: unknown) => void }[] = [];
  private claimScheduled = false;
  applyFailures = 0;

  constructor(private readonly opts: BanditDeploymentsOptions) {}

  /** Runs CLAIM_SCRIPT once: per op [entry JSON or null, the reward already claimed or null]. */
  private async runClaimScript(ops: readonly ClaimOp[]): Promise<[string | null, string | null][]> {
    const keys: string[] = new Array(ops.length * 2);
    const argv: string[] = new Array(ops.length * 2);
    for (let i = 0; i < ops.length; i++) {
      keys[2 * i] = decisionKey(ops[i].id);
      keys[2 * i + 1] = rewardKey(ops[i].id);
      argv[2 * i] = ops[i].value === null ? 'g' : 'c';
      argv[2 * i + 1] = ops[i].value ?? '';
    }
    let r: (string | null)[];
    try {
      r = (await this.opts.redis.evalsha(CLAIM_SHA, keys.length, ...keys, ...argv)) as (string | null)[];
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      r = (await this.opts.redis.eval(CLAIM_SCRIPT, keys.length, ...keys, ...argv)) as (string | null)[];
    }
    const out: [string | null, string | null][] = new Array(ops.length);
    for (let i = 0; i < ops.length; i++) out[i] = [r[2 * i] ?? null, r[2 * i + 1] ?? null];
    return out;
  }

  /**
   * Claims (or looks up) in Redis, micro-batched: every group asked for in one event-loop turn (one
   * reward request, or the items of a batch) goes out in one CLAIM_SCRIPT call after the turn
   * (`setImmediate`), groups in the order they came; so N concurrent reward requests cost one round
   * trip and one script, not N. Groups are never split; a call carries at most CLAIMS_PER_SCRIPT ops
   * unless one group alone is larger.
   */
  private claim(ops: ClaimOp[]): Promise<[string | null, string | null][]> {
    return new Promise((resolve, reject) => {
      this.claimQueue.push({ ops, resolve, reject });
      if (!this.claimScheduled) {
        this.claimScheduled = true;
        setImmediate(() => this.sendClaims());
      }
    });
  }

  private sendClaims(): void {
    const queue = this.claimQueue;
    this.claimQueue = [];
    this.claimScheduled = false;
    for (let start = 0; start < queue.length; ) {
      let end = start;
      let n = 0;
      while (end < queue.length && (end === start || n + queue[end].ops.length <= CLAIMS_PER_SCRIPT)) n += queue[end++].ops.length;
      const groups = queue.slice(start, end);
      const ops = groups.length === 1 ? groups[0].ops : groups.flatMap((g) => g.ops);
      this.runClaimScript(ops).then(
        (r) => {
          let at = 0;
          for (const g of groups) {
            g.resolve(groups.length === 1 ? r : r.slice(at, at + g.ops.length));
            at += g.ops.length;
          }
        },
        (err) => {
          for (const g of groups) g.reject(err);
        },
      );
      start = end;
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
      flushIntervalMs: this.opts.flushIntervalMs,
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
    const { decisionId, time } = newDecisionStamp();
    const entry: DecisionEntry = { deployment: s.name, stateKey: s.config.stateKey, arm: pick.arm, x };
    try {
      await this.opts.redis.set(decisionKey(decisionId), JSON.stringify(entry), 'EX', s.config.decisionTtlSeconds);
    } catch (err) {
      throw new ClientError(503, `cannot record the bandit decision for its reward: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
    }
    const action: Json = { arm: arm.name, index: pick.arm, ...(arm.payload !== null ? { payload: arm.payload } : {}) };
    this.opts.metrics.decisionCounter(s.name, 'bandit', arm.name).inc();
    this.opts.decisionLog.enqueue({
      decisionId,
      time,
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

  /** The deployment serving a claimed decision, or the 409 that says why it cannot take the reward. */
  private servingFor(entry: DecisionEntry, decisionId: string): BanditServing | ClientError {
    const s = this.served.get(entry.deployment);
    if (s === undefined) return new ClientError(409, `decision ${decisionId} was made by bandit deployment ${entry.deployment}, which is no longer served here`, 'decisionId', 'a decision of a served deployment');
    if (s.config.stateKey !== entry.stateKey || entry.arm >= s.config.arms.length || (entry.x?.length ?? 0) !== s.config.d) {
      return new ClientError(409, `decision ${decisionId} was made under a configuration of ${s.name} that is no longer served (arms or features changed)`, 'decisionId', 'a decision of the current configuration');
    }
    return s;
  }

  /** The scalar reward of components by the deployment's spec (a 400 naming what is wrong). */
  private composite(s: BanditServing, components: Record<string, number>, at: string): number {
    if (s.config.rewardSpec === null) throw badRequest(`bandit deployment ${s.name} has no rewardSpec: send a scalar reward`, `${at}reward`, 'a finite number');
    try {
      return compositeReward(s.config.rewardSpec, components).reward;
    } catch (err) {
      throw badRequest((err as Error).message, `${at}components`, `the components of reward spec version ${s.config.rewardSpec.version}: ${Object.keys(s.config.rewardSpec.components).join(', ')}`);
    }
  }

  /**
   * After the claim: 200 the same reward again, 409 a different one, else applied (queued to the shared
   * learner and the reward log): 201. A reward the learner refuses (Beta TS: outside [0, 1]) is a
   * RefusedReward: the caller un-claims it.
   */
  private settle(s: BanditServing, entry: DecisionEntry, decisionId: string, reward: number, components: Record<string, number> | null, previous: string | null): { status: 200 | 201; arm: string } {
    const arm = s.config.arms[entry.arm].name;
    if (previous !== null) {
      if (Number(previous) === reward) return { status: 200, arm };
      throw new ClientError(409, `the reward of decision ${decisionId} is already recorded as ${previous}; got ${reward} (a reward is recorded once per decision)`, 'reward', 'the reward already recorded for this decision');
    }
    let delta: StatsDelta;
    try {
      delta = s.shared.learner.statsDelta(entry.x ?? undefined, entry.arm, reward);
    } catch (err) {
      throw new RefusedReward((err as Error).message, `a reward the ${s.config.learnerKind} learner of ${s.name} accepts`);
    }
    s.shared.add(delta);
    this.opts.rewardLog.enqueue({ decisionId, reward, components, time: new Date() });
    return { status: 201, arm };
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
    // A scalar reward is looked up and claimed in one script (one round trip, shared with the other
    // rewards of this event-loop turn); components need the deployment's spec first, so they are
    // looked up, turned into the reward, then claimed.
    let raw: string | null;
    let previous: string | null;
    try {
      [[raw, previous]] = await this.claim([{ id: decisionId, value: scalar === null ? null : String(scalar) }]);
    } catch (err) {
      throw new ClientError(503, `cannot look the decision up: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
    }
    if (raw === null) return null;
    const entry = JSON.parse(raw) as DecisionEntry;
    const s = this.servingFor(entry, decisionId);
    if (s instanceof ClientError) {
      if (scalar !== null && previous === null) await this.opts.redis.del(rewardKey(decisionId)).catch(() => undefined); // un-claim: it was not applied
      throw s;
    }
    let reward: number;
    if (scalar !== null) reward = scalar;
    else {
      reward = this.composite(s, components!, '');
      try {
        [[raw, previous]] = await this.claim([{ id: decisionId, value: String(reward) }]);
      } catch (err) {
        throw new ClientError(503, `cannot record the reward now: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)');
      }
      if (raw === null) return null; // expired in between: recorded like any other reward
    }
    // The deployment may have been re-applied while the claim was in flight: settle with the current one.
    const now = this.servingFor(entry, decisionId);
    if (now instanceof ClientError) {
      if (previous === null) await this.opts.redis.del(rewardKey(decisionId)).catch(() => undefined);
      throw now;
    }
    let done: { status: 200 | 201; arm: string };
    try {
      done = this.settle(now, entry, decisionId, reward, components, previous);
    } catch (err) {
      if (err instanceof RefusedReward) await this.opts.redis.del(rewardKey(decisionId)).catch(() => undefined);
      throw err;
    }
    ctx.status = done.status;
    return { decisionId: id, accepted: true, duplicate: done.status === 200, reward, arm: done.arm };
  }

  /** An item's error outcome; `reward` named as the batch's field; our own faults a 500 for that item only. */
  private itemFailure(it: RewardItem, err: unknown): RewardItemResult {
    if (err instanceof ClientError) return itemError(it.sentId, err.field === 'reward' ? new ClientError(err.status, err.message, `rewards.${it.index}.reward`, err.expected) : err);
    this.opts.log?.('error', `reward of decision ${it.decisionId}: ${(err as Error)?.stack ?? String(err)}`);
    return itemError(it.sentId, new ClientError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`, null, null));
  }

  /**
   * The bandit part of a batch POST /v1/rewards (items already checked, see handlers/reward-body.ts):
   * per item its outcome, or null when its decision is not a bandit decision of ours (or its entry
   * expired), for the caller to record like any other reward. One script claims every scalar reward
   * of the batch in one round trip, in request order (the same decision twice: the first claims,
   * a later one is a 200 or a 409 as if sent after it). A decision with a components-only item needs
   * its deployment's spec before its reward is known: the same script only reads its entry, and its
   * items are claimed, in order, by a second script (only when the batch has such items). A Redis
   * failure is a 503 for the items it leaves undecided; items already claimed stay applied.
   */
  async rewardBatch(items: readonly RewardItem[]): Promise<(RewardItemResult | null)[]> {
    const out: (RewardItemResult | null)[] = new Array(items.length).fill(null);
    const deferred = new Set<string>();
    for (const it of items) if (it.reward === null) deferred.add(it.decisionId);
    const ops: ClaimOp[] = [];
    const opOf = new Int32Array(items.length).fill(-1);
    const lookupOf = new Map<string, number>();
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      if (!deferred.has(it.decisionId)) {
        opOf[k] = ops.length;
        ops.push({ id: it.decisionId, value: String(it.reward) });
      } else if (!lookupOf.has(it.decisionId)) {
        lookupOf.set(it.decisionId, ops.length);
        ops.push({ id: it.decisionId, value: null });
      }
    }
    const unavailable = (k: number, what: string, err: unknown) => {
      out[k] = itemError(items[k].sentId, new ClientError(503, `${what}: ${(err as Error).message}`, null, 'a retry later (Redis is unavailable)'));
    };
    let first: [string | null, string | null][];
    try {
      first = await this.claim(ops);
    } catch (err) {
      for (let k = 0; k < items.length; k++) unavailable(k, 'cannot look the decision up', err);
      return out;
    }
    const unclaim: string[] = [];
    // Rewards the learner refused in this batch (claims taken back at the end): a later item of the same
    // decision saw that claim, not a recorded reward.
    const refused = new Map<string, { value: string; err: RefusedReward }>();
    const apply = (it: RewardItem, s: BanditServing, entry: DecisionEntry, reward: number, previous: string | null): RewardItemResult => {
      const r = refused.get(it.decisionId);
      if (r !== undefined && previous === r.value) {
        if (String(reward) === r.value) throw r.err;
        throw new ClientError(409, `decision ${it.decisionId}: the reward ${r.value} sent earlier in this batch was refused and its claim taken back; ${reward} was not claimed (send it again)`, 'reward', 'one reward per decision in a batch');
      }
      let done: { status: 200 | 201; arm: string };
      try {
        done = this.settle(s, entry, it.decisionId, reward, it.components, previous);
      } catch (err) {
        if (err instanceof RefusedReward) {
          unclaim.push(it.decisionId);
          refused.set(it.decisionId, { value: String(reward), err });
        }
        throw err;
      }
      return { decisionId: it.sentId, status: done.status, accepted: true, duplicate: done.status === 200, reward, arm: done.arm };
    };
    const second: { k: number; entry: DecisionEntry; s: BanditServing; reward: number }[] = [];
    for (let k = 0; k < items.length; k++) {
      const it = items[k];
      const at = `rewards.${it.index}.`;
      const claimed = opOf[k] >= 0;
      const [raw, previous] = first[claimed ? opOf[k] : lookupOf.get(it.decisionId)!];
      if (raw === null) continue; // not a bandit decision (of this Redis): the registry's
      try {
        const entry = JSON.parse(raw) as DecisionEntry;
        const s = this.servingFor(entry, it.decisionId);
        if (s instanceof ClientError) {
          if (claimed && previous === null) unclaim.push(it.decisionId); // it was not applied
          throw new ClientError(s.status, s.message, `${at}${s.field}`, s.expected);
        }
        if (!claimed) {
          second.push({ k, entry, s, reward: it.reward ?? this.composite(s, it.components!, at) });
          continue;
        }
        out[k] = apply(it, s, entry, it.reward!, previous);
      } catch (err) {
        out[k] = this.itemFailure(it, err);
      }
    }
    if (second.length > 0) {
      let claims: [string | null, string | null][] | null = null;
      try {
        claims = await this.claim(second.map((e) => ({ id: items[e.k].decisionId, value: String(e.reward) })));
      } catch (err) {
        for (const e of second) unavailable(e.k, 'cannot record the reward now', err);
      }
      if (claims !== null) {
        for (let j = 0; j < second.length; j++) {
          const { k, entry, reward } = second[j];
          const it = items[k];
          const [raw, previous] = claims[j];
          if (raw === null) continue; // expired in between: the registry's
          // The deployment may have been re-applied while the claim was in flight: look it up again.
          const s = this.servingFor(entry, it.decisionId);
          try {
            if (s instanceof ClientError) {
              if (previous === null) unclaim.push(it.decisionId);
              throw new ClientError(s.status, s.message, `rewards.${it.index}.${s.field}`, s.expected);
            }
            out[k] = apply(it, s, entry, reward, previous);
          } catch (err) {
            out[k] = this.itemFailure(it, err);
          }
        }
      }
    }
    if (unclaim.length > 0) await this.opts.redis.del(...unclaim.map(rewardKey)).catch(() => undefined);
    return out;
  }
}
