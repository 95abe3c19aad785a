/**
 * POST /v1/rewards.
 *
 * One reward: `{ decisionId, reward, components? }` → a bandit deployment's claim (bandits/serving.ts)
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
 * Rewards may arrive before their decision row (decisions are written in batches), so no existence
 * check is made here.
 */
import type { RewardInput } from '../../decision-log';
import { ClientError } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { BanditDeployments, BanditRewardResponse } from '../bandits/serving';
import {
  DEFAULT_MAX_REWARD_BATCH, finite, itemError, rewardBatch, rewardBody, rewardComponents,
  type RewardBatchResponse, type RewardItem, type RewardItemResult,
} from './reward-body';

/** One outcome of the sink's insertRewards (decision-log RewardInsertOutcome). */
export type RewardSinkOutcome = { inserted: boolean } | { error: Error & { field?: string; expected?: string } };

/** Where rewards of non-bandit decisions go: the registry (one outcome per input, in order; throws when the database is unavailable). */
export interface RewardSink {
  insertRewards(inputs: RewardInput[]): Promise<RewardSinkOutcome[]>;
}

export interface RewardsHandlerOptions {
  /** Most items in one batch body (413 above). Default 500. */
  maxBatch?: number;
}

const conflictExpected = 'the reward already recorded for this decision (a reward is recorded once)';
const unavailableExpected = 'a retry later (the registry database is unavailable)';

export function createRewardsHandler(sink: RewardSink, bandits: BanditDeployments | null = null, opts: RewardsHandlerOptions = {}) {
  const maxBatch = opts.maxBatch ?? DEFAULT_MAX_REWARD_BATCH;

  // Single registry rewards, micro-batched: those of one event-loop turn go to insertRewards together
  // (one INSERT, plus one read when some were already stored) after the turn, in arrival order.
  let waiting: { input: RewardInput; resolve: (o: RewardSinkOutcome) => void; reject: (err: unknown) => void }[] = [];
  const insertOne = (input: RewardInput): Promise<RewardSinkOutcome> =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) {
        setImmediate(() => {
          const group = waiting;
          waiting = [];
          sink.insertRewards(group.map((w) => w.input)).then(
            (outcomes) => group.forEach((w, i) => w.resolve(outcomes[i])),
            (err) => group.forEach((w) => w.reject(err)),
          );
        });
      }
      waiting.push({ input, resolve, reject });
    });

  /** The registry part of a batch: items whose decision is not a bandit decision. */
  async function registryItems(items: RewardItem[], results: (RewardItemResult | undefined)[]): Promise<void> {
    const inputs: RewardInput[] = [];
    const of: RewardItem[] = [];
    for (const it of items) {
      if (it.reward === null) {
        // Components alone are turned into a reward by a bandit deployment's spec only.
        results[it.index] = itemError(it.sentId, new ClientError(400, `rewards.${it.index}.reward must be a finite number, got nothing`, `rewards.${it.index}.reward`, 'a finite number'));
        continue;
      }
      inputs.push({ decisionId: it.decisionId, reward: it.reward, components: it.components });
      of.push(it);
    }
    if (inputs.length === 0) return;
    let outcomes: RewardSinkOutcome[];
    try {
      outcomes = await sink.insertRewards(inputs);
    } catch (err) {
      for (const it of of) results[it.index] = itemError(it.sentId, new ClientError(503, `cannot record the reward now: ${(err as Error).message}`, null, unavailableExpected));
      return;
    }
    for (let j = 0; j < of.length; j++) {
      const it = of[j];
      const o = outcomes[j];
      if ('inserted' in o) {
        results[it.index] = { decisionId: it.sentId, status: o.inserted ? 201 : 200, accepted: true, duplicate: !o.inserted, reward: it.reward! };
      } else if (o.error.name === 'ConflictError') {
        results[it.index] = itemError(it.sentId, new ClientError(409, o.error.message, `rewards.${it.index}.reward`, conflictExpected));
      } else {
        const field = o.error.field === undefined ? null : `rewards.${it.index}.${o.error.field.replace(/^rewards\[\d+\]\./, '')}`;
        results[it.index] = itemError(it.sentId, new ClientError(400, o.error.message, field, o.error.expected ?? null));
      }
    }
  }

  async function batch(parsed: { items: RewardItem[]; results: (RewardItemResult | undefined)[] }): Promise<RewardBatchResponse> {
    const { results } = parsed;
    let rest = parsed.items;
    if (bandits !== null && rest.length > 0) {
      const outs = await bandits.rewardBatch(rest);
      const left: RewardItem[] = [];
      for (let k = 0; k < rest.length; k++) {
        const o = outs[k];
        if (o === null) left.push(rest[k]);
        else results[rest[k].index] = o;
      }
      rest = left;
    }
    if (rest.length > 0) await registryItems(rest, results);
    let accepted = 0;
    let duplicates = 0;
    for (const r of results) {
      if (r!.accepted) accepted++;
      if (r!.duplicate) duplicates++;
    }
    return { results: results as RewardItemResult[], accepted, recorded: accepted - duplicates, duplicates, rejected: results.length - accepted };
  }

  return async function rewards(body: unknown, ctx: RequestContext): Promise<{ decisionId: string; accepted: true; duplicate: boolean } | BanditRewardResponse | RewardBatchResponse> {
    const parsed = rewardBatch(body, maxBatch);
    if (parsed !== null) return batch(parsed);
    if (bandits !== null) {
      const applied = await bandits.reward(body, ctx);
      if (applied !== null) return applied;
    }
    const { b, id } = rewardBody(body);
    const reward = finite(b.reward, 'reward');
    const components = rewardComponents(b);
    let result: RewardSinkOutcome;
    try {
      result = await insertOne({ decisionId: id.toLowerCase(), reward, components });
    } catch (err) {
      throw new ClientError(503, `cannot record the reward now: ${(err as Error).message}`, null, unavailableExpected);
    }
    if ('error' in result) {
      const e = result.error;
      if (e.name === 'ConflictError') throw new ClientError(409, e.message, 'reward', conflictExpected);
      throw new ClientError(400, e.message, e.field === undefined ? null : e.field.replace(/^rewards\[\d+\]\./, ''), e.expected ?? null);
    }
    ctx.status = result.inserted ? 201 : 200;
    return { decisionId: id, accepted: true, duplicate: !result.inserted };
  };
}
