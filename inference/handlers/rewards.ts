/**
 * POST /v1/rewards.
 *
 * One reward: `{ decisionId, reward, components? }` → a bandit deployment's claim (bandits/rewards.ts)
 * when the decision is a bandit decision, else the registry (idempotent; the single rewards of one
 * event-loop turn share one insertRewards). 201 when recorded, 200 when the same reward was already
 * recorded, 409 when a different one was.
 *
 * A batch: `{ rewards: [ { decisionId, reward?, components? }, … ] }` (1..maxBatch items, default 500) → 200
 * `{ results: [ { decisionId, status, accepted, duplicate, reward?, arm?, error?, field?, expected? } ],
 * accepted, recorded, duplicates, rejected }`: each item gets the status a single request would have
 * answered, and one bad item never fails the others. Bandit items are claimed in one Redis script per
 * batch, the others go to the registry in one insertRewards (two statements). A malformed envelope
 * (not an object, `rewards` not an array, empty, other keys) is a 400, too many items a 413.
 *
 * A reward of a decision that does not exist is a 404 naming the decision id (per item in a batch),
 * after the checks of its body (400s first): bandit decisions are found by their claim, every other one
 * in `decisions` or, when its row is not written yet, in this server's decision log (../rewards/existence.ts,
 * `existence`). Decisions the tenant guard (../rewards/tenant.ts) could not find arrive as
 * `ctx.unknownDecisions` and are answered the same 404 without being looked up again.
 */
import { DEFAULT_REWARD_RANGE } from '../../ml/bandits/config';
import { ClientError, badRequest, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import { DEFAULT_MAX_REWARD_BATCH, inRewardRange, itemError, rewardBatch, scalarReward, rewardBody, rewardComponents, type RewardBatchResponse, type RewardItem, type RewardItemResult } from '../rewards/body';
import { unknownDecision } from '../rewards/existence';
import { conflictExpected, createRegistryRewards, type DecisionExistence, type RewardSink, type RewardSinkOutcome } from '../rewards/registry-rewards';
import type { RewardSettler } from '../serving/served-deployment';

export type { RewardSink, RewardSinkOutcome };

export interface RewardsHandlerOptions {
  /** Most items in one batch body (413 above). Default 500. */
  maxBatch?: number;
  /** Where a batch item's 5xx cause goes, under the error id the client is sent (a whole request's 5xx is logged by the router). */
  log?: (level: 'error', msg: string) => void;
  /** Binds each reward to an existing decision (the server always does; hand-made test handlers may not). */
  existence?: DecisionExistence;
}

/**
 * `settler`: the kind that settles its own decisions' rewards (bandit), asked first; every other reward
 * goes to the registry.
 */
export function createRewardsHandler(sink: RewardSink, settler: RewardSettler | null = null, opts: RewardsHandlerOptions = {}) {
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_REWARD_BATCH;
  const registry = createRegistryRewards(sink, opts.log, opts.existence);

  async function batch(parsed: { items: RewardItem[]; results: (RewardItemResult | undefined)[] }, unknown: ReadonlySet<string> | undefined): Promise<RewardBatchResponse> {
    const { results } = parsed;
    let rest = parsed.items;
    if (unknown !== undefined && unknown.size > 0) {
      rest = rest.filter((it) => {
        if (!unknown.has(it.decisionId)) return true;
        try {
          // As for a decision of no bandit: the default range first (its 400 before the 404).
          if (it.reward !== null) inRewardRange(it.reward, DEFAULT_REWARD_RANGE, `rewards.${it.index}.reward`, 'this server (the default)');
          throw unknownDecision(it.sentId, `rewards.${it.index}.decisionId`);
        } catch (err) {
          results[it.index] = itemError(it.sentId, err as ClientError);
        }
        return false;
      });
    }
    if (settler !== null && rest.length > 0) {
      const outs = await settler.rewardBatch(rest);
      const left: RewardItem[] = [];
      for (let k = 0; k < rest.length; k++) {
        const o = outs[k];
        if (o === null) left.push(rest[k]);
        else results[rest[k].index] = o;
      }
      rest = left;
    }
    if (rest.length > 0) await registry.insertItems(rest, results);
    let accepted = 0;
    let duplicates = 0;
    for (const r of results) {
      if (r!.accepted) accepted++;
      if (r!.duplicate) duplicates++;
    }
    return { results: results as RewardItemResult[], accepted, recorded: accepted - duplicates, duplicates, rejected: results.length - accepted };
  }

  return async function rewards(body: unknown, ctx: RequestContext): Promise<unknown> {
    const parsed = rewardBatch(body, maxBatch);
    const unknown = ctx.unknownDecisions;
    if (parsed !== null) return batch(parsed, unknown);
    if (unknown !== undefined && unknown.size > 0) {
      // The body's checks first (a 400 before the 404), as for a known decision.
      const { b, id } = rewardBody(body);
      const components = rewardComponents(b);
      if (b.reward !== undefined && b.reward !== null) inRewardRange(scalarReward(b.reward, 'reward'), DEFAULT_REWARD_RANGE, 'reward', 'this server (the default)');
      else if (components === null) throw badRequest('reward or components is required', 'reward', 'a finite number, or components for the deployment\'s reward spec');
      throw unknownDecision(id, 'decisionId');
    }
    if (settler !== null) {
      const applied = await settler.reward(body, ctx);
      if (applied !== null) return applied;
    }
    const { b, id } = rewardBody(body);
    const reward = inRewardRange(scalarReward(b.reward, 'reward'), DEFAULT_REWARD_RANGE, 'reward', 'this server (the default)');
    const components = rewardComponents(b);
    let result: RewardSinkOutcome;
    try {
      result = await registry.insertOne({ decisionId: id.toLowerCase(), reward, components });
    } catch (err) {
      throw unavailable('cannot record the reward now', err, 'the registry database');
    }
    if ('error' in result) {
      const e = result.error;
      if (e.name === 'NotFoundError') throw unknownDecision(id, 'decisionId');
      if (e.name === 'ConflictError') throw new ClientError(409, e.message, 'reward', conflictExpected);
      throw new ClientError(400, e.message, e.field === undefined ? null : e.field.replace(/^rewards\[\d+\]\./, ''), e.expected ?? null);
    }
    ctx.status = result.inserted ? 201 : 200;
    return { decisionId: id, accepted: true, duplicate: !result.inserted };
  };
}
