/**
 * POST /v1/rewards for bandit decisions: turns components into the composite reward (the deployment's
 * reward spec) or takes a scalar, claims it once in Redis (./claims.ts), and adds the observation to
 * the learner state shared in Redis (./shared-state.ts). The same reward again is a 200, a different
 * one a 409; the claimed increment is added to the next batched flush (acknowledged before it). Reward
 * rows go to the registry's rewards table in batches (./reward-log.ts).
 */
import type { StatsDelta } from '../../ml/bandits';
import { compositeReward } from '../../ml/rewards';
import { ClientError, ServerFault, asServerFault, badRequest, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import { itemError, rewardBody, rewardComponents, scalarReward, type RewardItem, type RewardItemResult } from '../rewards/body';
import type { DeploymentMap } from '../serving/deployment-map';
import type { RewardSettler } from '../serving/served-deployment';
import type { ClaimBatcher, ClaimOp, ClaimResult } from './claims';
import { BanditDeployment, type DecisionEntry } from './deployment';
import type { RewardLog } from './reward-log';
import type { InferenceMetrics } from '../metrics';

export interface BanditRewardResponse {
  decisionId: string;
  accepted: true;
  duplicate: boolean;
  reward: number;
  arm: string;
}

/** A claimed reward the learner refused: not applied, so the claim is taken back (400). */
class RefusedReward extends ClientError {
  constructor(message: string, expected: string) {
    super(400, message, 'reward', expected);
  }
}

export interface BanditRewardsOptions {
  map: DeploymentMap;
  claims: ClaimBatcher;
  rewardLog: RewardLog;
  /** Reward metrics (inference/metrics.ts rewardAccepted). */
  metrics?: InferenceMetrics;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

export class BanditRewards implements RewardSettler {
  constructor(private readonly opts: BanditRewardsOptions) {}

  /** The deployment serving a claimed decision (one map lookup), or the 409 that says why it cannot take the reward. */
  private servingFor(entry: DecisionEntry, decisionId: string): BanditDeployment | ClientError {
    const s = this.opts.map.get(entry.deployment);
    if (!(s instanceof BanditDeployment)) return new ClientError(409, `decision ${decisionId} was made by bandit deployment ${entry.deployment}, which is no longer served here`, 'decisionId', 'a decision of a served deployment');
    if (s.config.stateKey !== entry.stateKey || entry.arm >= s.config.arms.length || (entry.x?.length ?? 0) !== s.config.d) {
      return new ClientError(409, `decision ${decisionId} was made under a configuration of ${s.name} that is no longer served (arms or features changed)`, 'decisionId', 'a decision of the current configuration');
    }
    return s;
  }

  /** The scalar reward of components by the deployment's spec (a 400 naming what is wrong). */
  private composite(s: BanditDeployment, components: Record<string, number>, at: string): number {
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
  private settle(s: BanditDeployment, entry: DecisionEntry, decisionId: string, reward: number, components: Record<string, number> | null, previous: string | null): { status: 200 | 201; arm: string } {
    const arm = s.config.arms[entry.arm].name;
    if (previous !== null) {
      if (Number(previous) === reward) return { status: 200, arm };
      throw new ClientError(409, `the reward of decision ${decisionId} is already recorded as ${previous}; got ${reward} (a reward is recorded once per decision)`, 'reward', 'the reward already recorded for this decision');
    }
    // The deployment's reward range (default ±1e6), before anything reaches the learner.
    const [lo, hi] = s.config.rewardRange;
    if (!(reward >= lo && reward <= hi)) throw new RefusedReward(`reward ${reward} is outside the reward range of bandit deployment ${s.name}`, `a number in [${lo}, ${hi}] (config.rewardRange)`);
    let delta: StatsDelta;
    try {
      delta = s.shared.learner.statsDelta(entry.x ?? undefined, entry.arm, reward);
    } catch (err) {
      throw new RefusedReward((err as Error).message, `a reward the ${s.config.learnerKind} learner of ${s.name} accepts`);
    }
    s.shared.add(delta);
    this.opts.rewardLog.enqueue({ decisionId, reward, components, time: new Date() });
    this.opts.metrics?.rewardAccepted({ deployment: s.name, version: 'bandit', arm }, reward, components, s.config.rewardSpec === null ? [] : Object.keys(s.config.rewardSpec.components));
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
    const scalar = b.reward !== undefined && b.reward !== null ? scalarReward(b.reward, 'reward') : null;
    if (scalar === null && components === null) throw badRequest('reward or components is required', 'reward', 'a finite number, or components for the deployment\'s reward spec');
    // A scalar reward is looked up and claimed in one script (one round trip, shared with the other
    // rewards of this event-loop turn); components need the deployment's spec first, so they are
    // looked up, turned into the reward, then claimed.
    let raw: string | null;
    let previous: string | null;
    try {
      [[raw, previous]] = await this.opts.claims.claim([{ id: decisionId, value: scalar === null ? null : String(scalar) }]);
    } catch (err) {
      throw unavailable('cannot look the decision up', err, 'Redis');
    }
    if (raw === null) return null;
    const entry = JSON.parse(raw) as DecisionEntry;
    let s = this.servingFor(entry, decisionId);
    if (s instanceof ClientError) {
      if (scalar !== null && previous === null) await this.opts.claims.unclaim([decisionId]); // it was not applied
      throw s;
    }
    let reward: number;
    if (scalar !== null) reward = scalar;
    else {
      reward = this.composite(s, components!, '');
      try {
        [[raw, previous]] = await this.opts.claims.claim([{ id: decisionId, value: String(reward) }]);
      } catch (err) {
        throw unavailable('cannot record the reward now', err, 'Redis');
      }
      if (raw === null) return null; // expired in between: recorded like any other reward
      // The deployment may have been re-applied while the claim was in flight: settle with the current one.
      s = this.servingFor(entry, decisionId);
      if (s instanceof ClientError) {
        if (previous === null) await this.opts.claims.unclaim([decisionId]);
        throw s;
      }
    }
    let done: { status: 200 | 201; arm: string };
    try {
      done = this.settle(s, entry, decisionId, reward, components, previous);
    } catch (err) {
      if (err instanceof RefusedReward) await this.opts.claims.unclaim([decisionId]);
      throw err;
    }
    if (done.status === 201) await this.recordOutcomes([this.outcome(s, entry, components)]);
    ctx.status = done.status;
    return { decisionId: id, accepted: true, duplicate: done.status === 200, reward, arm: done.arm };
  }

  /** The call outcome a reward reports to the deployment's circuit breakers (null: none configured, or no failure component sent). */
  private outcome(s: BanditDeployment, entry: DecisionEntry, components: Record<string, number> | null): { s: BanditDeployment; arm: number; failed: boolean } | null {
    if (s.breaker === null || components === null) return null;
    const f = components[s.breaker.config.failureComponent];
    if (f === undefined) return null;
    return { s, arm: entry.arm, failed: f >= 0.5 };
  }

  /**
   * Records newly applied rewards' outcomes with their deployments' breakers (one script per deployment),
   * before the reward is acknowledged, so the next decision anywhere sees them. The reward itself is
   * already recorded: a Redis failure here is logged (the breaker misses these outcomes), not a failed reward.
   */
  private async recordOutcomes(outcomes: ({ s: BanditDeployment; arm: number; failed: boolean } | null)[]): Promise<void> {
    const by = new Map<BanditDeployment, { arm: number; failed: boolean }[]>();
    for (const o of outcomes) if (o !== null) (by.get(o.s) ?? by.set(o.s, []).get(o.s)!).push({ arm: o.arm, failed: o.failed });
    await Promise.all([...by].map(async ([s, list]) => {
      try {
        await s.breaker!.record(list);
      } catch (err) {
        this.opts.log?.('error', `circuit breaker ${s.breaker!.key}: ${list.length} outcome(s) not recorded: ${(err as Error).message}`);
      }
    }));
  }

  /** An item's error outcome; `reward` named as the batch's field; our own faults a 500 for that item only (its cause logged under its error id). */
  private itemFailure(it: RewardItem, err: unknown): RewardItemResult {
    if (err instanceof ClientError && !(err instanceof ServerFault)) return itemError(it.sentId, err.field === 'reward' ? new ClientError(err.status, err.message, `rewards.${it.index}.reward`, err.expected) : err);
    const fault = asServerFault(err);
    this.opts.log?.('error', `reward of decision ${it.decisionId}: ${fault.logLine()}`);
    return itemError(it.sentId, fault);
  }

  /**
   * The bandit part of a batch POST /v1/rewards (items already checked, see rewards/body.ts):
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
    const faults = new Map<unknown, ServerFault>();
    const redisDown = (k: number, what: string, err: unknown) => {
      let fault = faults.get(err);
      if (fault === undefined) {
        fault = unavailable(what, err, 'Redis');
        faults.set(err, fault);
        this.opts.log?.('error', fault.logLine());
      }
      out[k] = itemError(items[k].sentId, fault);
    };
    let first: ClaimResult[];
    try {
      first = await this.opts.claims.claim(ops);
    } catch (err) {
      for (let k = 0; k < items.length; k++) redisDown(k, 'cannot look the decision up', err);
      return out;
    }
    const unclaim: string[] = [];
    const outcomes: ({ s: BanditDeployment; arm: number; failed: boolean } | null)[] = [];
    // Rewards the learner refused in this batch (claims taken back at the end): a later item of the same
    // decision saw that claim, not a recorded reward.
    const refused = new Map<string, { value: string; err: RefusedReward }>();
    const apply = (it: RewardItem, s: BanditDeployment, entry: DecisionEntry, reward: number, previous: string | null): RewardItemResult => {
      const r = refused.get(it.decisionId);
      if (r !== undefined && previous === r.value) {
        if (String(reward) === r.value) throw r.err;
        throw new ClientError(409, `decision ${it.decisionId}: the reward ${r.value} sent earlier in this batch was refused and its claim taken back; ${reward} was not claimed (send it again)`, 'reward', 'one reward per decision in a batch');
      }
      let done: { status: 200 | 201; arm: string };
      try {
        done = this.settle(s, entry, it.decisionId, reward, it.components, previous);
        if (done.status === 201) outcomes.push(this.outcome(s, entry, it.components));
      } catch (err) {
        if (err instanceof RefusedReward) {
          unclaim.push(it.decisionId);
          refused.set(it.decisionId, { value: String(reward), err });
        }
        throw err;
      }
      return { decisionId: it.sentId, status: done.status, accepted: true, duplicate: done.status === 200, reward, arm: done.arm };
    };
    const second: { k: number; entry: DecisionEntry; s: BanditDeployment; reward: number }[] = [];
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
      let claims: ClaimResult[] | null = null;
      try {
        claims = await this.opts.claims.claim(second.map((e) => ({ id: items[e.k].decisionId, value: String(e.reward) })));
      } catch (err) {
        for (const e of second) redisDown(e.k, 'cannot record the reward now', err);
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
    await Promise.all([this.opts.claims.unclaim(unclaim), this.recordOutcomes(outcomes)]);
    return out;
  }
}
