/**
 * Rewards of decisions no served kind settles itself (every kind but bandit): recorded in the
 * registry's rewards table, idempotently (201 recorded, 200 the same reward again, 409 a different one).
 *
 * Single rewards are micro-batched: those of one event-loop turn go to insertRewards together (one
 * INSERT, plus one read when some were already stored) after the turn, in arrival order. A batch body's
 * items go in one insertRewards of their own.
 *
 * With `decisions` (the server always passes it): a reward is recorded only for a decision that exists
 * (./existence.ts): in `decisions`, or still in this server's decision log. Otherwise its outcome is a
 * NotFoundError, answered 404.
 */
import type { InsertRewardsOptions, RewardInput } from '../../decision-log';
import { DEFAULT_REWARD_RANGE } from '../../ml/bandits/config';
import { ClientError, unavailable } from '../http/errors';
import { inRewardRange, itemError, type RewardItem, type RewardItemResult } from './body';
import { DEFAULT_RETRY_DELAYS_MS, mayStillBeLogged, sleep, unknownDecision, type PendingDecisions } from './existence';

/** One outcome of the sink's insertRewards (decision-log RewardInsertOutcome). */
export type RewardSinkOutcome = { inserted: boolean } | { error: Error & { field?: string; expected?: string } };

/** Where rewards of non-bandit decisions go: the decision log (one outcome per input, in order; throws when the database is unavailable). */
export interface RewardSink {
  insertRewards(inputs: RewardInput[], opts?: InsertRewardsOptions): Promise<RewardSinkOutcome[]>;
}

/** How rewards are bound to existing decisions (./existence.ts). */
export interface DecisionExistence {
  /** This server's decision log. */
  decisions: PendingDecisions;
  /** Waits before each new look for a decision that may still be in another process's log. Default DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
}

const isUnknown = (o: RewardSinkOutcome | undefined): boolean => o !== undefined && 'error' in o && o.error.name === 'NotFoundError';
const REQUIRE: InsertRewardsOptions = { requireDecision: true };

export const conflictExpected = 'the reward already recorded for this decision (a reward is recorded once)';
export const unavailableExpected = 'a retry later (the registry database is unavailable)';

export interface RegistryRewards {
  /** One reward, micro-batched with the other single rewards of this event-loop turn. */
  insertOne(input: RewardInput): Promise<RewardSinkOutcome>;
  /** A batch's items (their outcomes written into `results` at each item's index). */
  insertItems(items: readonly RewardItem[], results: (RewardItemResult | undefined)[]): Promise<void>;
}

/**
 * `log`: where a 5xx's real cause goes, under the error id the client is sent. Rewards of these kinds
 * reach no learner here; their deployment is not known before the decision row is read, so they are
 * checked against the default reward range (DEFAULT_REWARD_RANGE).
 */
export function createRegistryRewards(sink: RewardSink, log?: (level: 'error', msg: string) => void, existence?: DecisionExistence): RegistryRewards {
  /** insertRewards, with each reward bound to its decision when `existence` is given (see the module comment). */
  async function record(inputs: RewardInput[]): Promise<RewardSinkOutcome[]> {
    if (existence === undefined) return sink.insertRewards(inputs);
    const out = await sink.insertRewards(inputs, REQUIRE);
    const delays = existence.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const put = (idx: number[], outcomes: RewardSinkOutcome[]) => idx.forEach((i, k) => (out[i] = outcomes[k]));
    let todo = out.flatMap((o, i) => (isUnknown(o) ? [i] : []));
    for (let round = 0; todo.length > 0; round++) {
      if (round > 0) {
        // Not here: wait only for ids that may be decisions another process has not written yet.
        const now = Date.now();
        todo = todo.filter((i) => mayStillBeLogged(inputs[i].decisionId, now));
        if (todo.length === 0 || round > delays.length) break;
        await sleep(delays[round - 1]);
      }
      if (round === 0) {
        // A decision of this server is in its log (memory or journal) until it is in the table; one
        // not there now was never ours, so later rounds only wait for the table.
        const held = await existence.decisions.pending(todo.map((i) => inputs[i].decisionId));
        const known = todo.filter((i) => held.has(inputs[i].decisionId));
        if (known.length > 0) put(known, await sink.insertRewards(known.map((i) => inputs[i])));
        todo = todo.filter((i) => !held.has(inputs[i].decisionId));
        if (todo.length === 0) break;
      }
      // Written to the table since the first look (by this log, or by another process): look again.
      put(todo, await sink.insertRewards(todo.map((i) => inputs[i]), REQUIRE));
      todo = todo.filter((i) => isUnknown(out[i]));
    }
    return out;
  }

  let waiting: { input: RewardInput; resolve: (o: RewardSinkOutcome) => void; reject: (err: unknown) => void }[] = [];
  const insertOne = (input: RewardInput): Promise<RewardSinkOutcome> =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) {
        setImmediate(() => {
          const group = waiting;
          waiting = [];
          record(group.map((w) => w.input)).then(
            (outcomes) => group.forEach((w, i) => w.resolve(outcomes[i])),
            (err) => group.forEach((w) => w.reject(err)),
          );
        });
      }
      waiting.push({ input, resolve, reject });
    });

  async function insertItems(items: readonly RewardItem[], results: (RewardItemResult | undefined)[]): Promise<void> {
    const inputs: RewardInput[] = [];
    const of: RewardItem[] = [];
    for (const it of items) {
      if (it.reward === null) {
        // Components alone are turned into a reward by a bandit deployment's spec only.
        results[it.index] = itemError(it.sentId, new ClientError(400, `rewards.${it.index}.reward must be a finite number, got nothing`, `rewards.${it.index}.reward`, 'a finite number'));
        continue;
      }
      try {
        inRewardRange(it.reward, DEFAULT_REWARD_RANGE, `rewards.${it.index}.reward`, 'this server (the default)');
      } catch (err) {
        results[it.index] = itemError(it.sentId, err as ClientError);
        continue;
      }
      inputs.push({ decisionId: it.decisionId, reward: it.reward, components: it.components });
      of.push(it);
    }
    if (inputs.length === 0) return;
    let outcomes: RewardSinkOutcome[];
    try {
      outcomes = await record(inputs);
    } catch (err) {
      const fault = unavailable('cannot record the reward now', err, 'the registry database');
      log?.('error', fault.logLine());
      for (const it of of) results[it.index] = itemError(it.sentId, fault);
      return;
    }
    for (let j = 0; j < of.length; j++) {
      const it = of[j];
      const o = outcomes[j];
      if ('inserted' in o) {
        results[it.index] = { decisionId: it.sentId, status: o.inserted ? 201 : 200, accepted: true, duplicate: !o.inserted, reward: it.reward! };
      } else if (o.error.name === 'NotFoundError') {
        results[it.index] = itemError(it.sentId, unknownDecision(it.sentId, `rewards.${it.index}.decisionId`));
      } else if (o.error.name === 'ConflictError') {
        results[it.index] = itemError(it.sentId, new ClientError(409, o.error.message, `rewards.${it.index}.reward`, conflictExpected));
      } else {
        const field = o.error.field === undefined ? null : `rewards.${it.index}.${o.error.field.replace(/^rewards\[\d+\]\./, '')}`;
        results[it.index] = itemError(it.sentId, new ClientError(400, o.error.message, field, o.error.expected ?? null));
      }
    }
  }

  return { insertOne, insertItems };
}
