/**
 * Rewards of decisions no served kind settles itself (every kind but bandit): recorded in the
 * registry's rewards table, idempotently (201 recorded, 200 the same reward again, 409 a different one).
 *
 * Single rewards are micro-batched: those of one event-loop turn go to insertRewards together (one
 * INSERT, plus one read when some were already stored) after the turn, in arrival order. A batch body's
 * items go in one insertRewards of their own.
 */
import type { RewardInput } from '../../decision-log';
import { DEFAULT_REWARD_RANGE } from '../../ml/bandits/config';
import { ClientError, unavailable } from '../http/errors';
import { inRewardRange, itemError, type RewardItem, type RewardItemResult } from './body';

/** One outcome of the sink's insertRewards (decision-log RewardInsertOutcome). */
export type RewardSinkOutcome = { inserted: boolean } | { error: Error & { field?: string; expected?: string } };

/** Where rewards of non-bandit decisions go: the decision log (one outcome per input, in order; throws when the database is unavailable). */
export interface RewardSink {
  insertRewards(inputs: RewardInput[]): Promise<RewardSinkOutcome[]>;
}

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
export function createRegistryRewards(sink: RewardSink, log?: (level: 'error', msg: string) => void): RegistryRewards {
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
      outcomes = await sink.insertRewards(inputs);
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
