/**
 * The checks every POST /v1/rewards body gets, whoever records it (the registry sink in ./registry-rewards.ts
 * or a bandit deployment in bandits/rewards.ts): only `decisionId`, `reward` and `components`; a
 * uuid decision id; components as at most 64 named finite numbers.
 *
 * A batch body `{ rewards: [ item, … ] }` (1..maxItems items, each as a single body) is checked here
 * too: the envelope is all-or-nothing (a 400/413 for the request), each item is checked on its own
 * and a bad one becomes that item's outcome without touching the others.
 */
import { expectObject } from '../http/body';
import { DEFAULT_REWARD_RANGE, MAX_REWARD_MAGNITUDE, type RewardRange } from '../../ml/bandits/config';
import { ClientError, ServerFault, badRequest, describeValue } from '../http/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = new Set(['decisionId', 'reward', 'components']);

export function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${field} must be a finite number, got ${describeValue(v)}`, field, 'a finite number');
  return v;
}

/**
 * A scalar reward as sent: a JSON number (text such as "-Infinity" is not one), finite and within
 * ±MAX_REWARD_MAGNITUDE, the widest range a deployment may configure. The deployment's own range
 * (`rewardRange`, default ±1e6) is checked once the decision's deployment is known: `inRewardRange`.
 */
export function scalarReward(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${field} must be a finite number, got ${describeValue(v)}`, field, 'a finite number');
  if (Math.abs(v) > MAX_REWARD_MAGNITUDE) throw badRequest(`${field} is ${v}, beyond any reward range (±${MAX_REWARD_MAGNITUDE})`, field, `a number in the deployment's reward range (default [${DEFAULT_REWARD_RANGE[0]}, ${DEFAULT_REWARD_RANGE[1]}])`);
  return v;
}

/** `reward` within `range` (inclusive), or the 400 naming the field, the value and the range. */
export function inRewardRange(reward: number, range: RewardRange, field: string, whose = 'the deployment'): number {
  if (!(reward >= range[0] && reward <= range[1])) {
    throw badRequest(`${field} is ${describeValue(reward)}, outside the reward range of ${whose}`, field, `a number in [${range[0]}, ${range[1]}]`);
  }
  return reward;
}

/** The body as an object with only the known keys, and its decision id (as sent). `at` prefixes field names (`rewards.3.`). */
export function rewardBody(body: unknown, at = ''): { b: Record<string, unknown>; id: string } {
  const b = expectObject(body, at === '' ? 'body' : at.slice(0, -1));
  for (const key in b) if (!KEYS.has(key)) throw badRequest(`unknown field ${at}${key}`, `${at}${key}`, 'only decisionId, reward and components');
  const id = b.decisionId;
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw badRequest(`${at}decisionId must be the uuid a decide call returned, got ${describeValue(id)}`, `${at}decisionId`, 'a uuid such as 3f2b1c9e-…');
  }
  return { b, id };
}

/** `components`, checked; null when absent. */
export function rewardComponents(b: Record<string, unknown>, at = ''): Record<string, number> | null {
  if (b.components === undefined || b.components === null) return null;
  const c = expectObject(b.components, `${at}components`);
  const keys = Object.keys(c);
  if (keys.length > 64) throw badRequest(`${at}components has ${keys.length} entries`, `${at}components`, 'at most 64 named numbers');
  for (const k of keys) finite(c[k], `${at}components.${k}`);
  return c as Record<string, number>;
}

/** One checked item of a batch. */
export interface RewardItem {
  /** Position in the request's `rewards` array. */
  index: number;
  /** The decision id as sent (echoed back). */
  sentId: string;
  /** Lower-cased: the key everything is stored under. */
  decisionId: string;
  /** The scalar reward, or null when only components were sent (a bandit deployment's spec turns them into one). */
  reward: number | null;
  components: Record<string, number> | null;
}

/** The outcome of one item: `status` is what a single-reward request would have answered. */
export interface RewardItemResult {
  decisionId: string | null;
  status: number;
  accepted: boolean;
  duplicate: boolean;
  reward?: number;
  arm?: string;
  error?: string;
  field?: string | null;
  expected?: string | null;
  /** A 5xx item: the id its cause was logged under. */
  errorId?: string;
}

export interface RewardBatchResponse {
  results: RewardItemResult[];
  /** Items recorded now or before (201 + 200). */
  accepted: number;
  /** Items recorded now (201): what the learner and the rewards table gained. */
  recorded: number;
  /** Items that were the same reward again (200). */
  duplicates: number;
  /** Items refused (4xx) or not recordable now (503): retry only these. */
  rejected: number;
}

export function itemError(decisionId: string | null, err: ClientError): RewardItemResult {
  if (err instanceof ServerFault) {
    const j = err.toJSON();
    return { decisionId, status: err.status, accepted: false, duplicate: false, error: j.error, field: null, expected: j.expected, errorId: j.errorId };
  }
  return { decisionId, status: err.status, accepted: false, duplicate: false, error: err.message, field: err.field, expected: err.expected };
}

/** 500 scalar rewards are ~36 KB of JSON: inside the default 64 KiB body limit (`--max-body`). */
export const DEFAULT_MAX_REWARD_BATCH = 500;

/**
 * A batch body, checked: the valid items, and a result slot per position (filled for the invalid
 * ones, `undefined` for the valid ones). Null when the body is not a batch (no `rewards` key).
 */
export function rewardBatch(body: unknown, maxItems: number): { items: RewardItem[]; results: (RewardItemResult | undefined)[] } | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || !Object.prototype.hasOwnProperty.call(body, 'rewards')) return null;
  const b = body as Record<string, unknown>;
  for (const key in b) if (key !== 'rewards') throw badRequest(`unknown field ${key} beside rewards`, key, 'only rewards (a batch) or decisionId, reward and components (one reward)');
  const list = b.rewards;
  if (!Array.isArray(list)) throw badRequest(`rewards must be an array of rewards, got ${describeValue(list)}`, 'rewards', `an array of 1..${maxItems} { decisionId, reward?, components? }`);
  if (list.length === 0) throw badRequest('rewards is empty', 'rewards', `an array of 1..${maxItems} { decisionId, reward?, components? }`);
  if (list.length > maxItems) throw new ClientError(413, `rewards has ${list.length} items, more than the limit of ${maxItems}`, 'rewards', `at most ${maxItems} rewards per request (split the batch)`);
  const items: RewardItem[] = [];
  const results: (RewardItemResult | undefined)[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const at = `rewards.${i}.`;
    const raw = list[i] as unknown;
    try {
      const { b: item, id } = rewardBody(raw, at);
      const components = rewardComponents(item, at);
      const reward = item.reward !== undefined && item.reward !== null ? scalarReward(item.reward, `${at}reward`) : null;
      if (reward === null && components === null) throw badRequest(`${at}reward or ${at}components is required`, `${at}reward`, 'a finite number, or components for the deployment\'s reward spec');
      items.push({ index: i, sentId: id, decisionId: id.toLowerCase(), reward, components });
    } catch (err) {
      if (!(err instanceof ClientError)) throw err;
      const sent = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).decisionId : undefined;
      results[i] = itemError(typeof sent === 'string' ? sent : null, err);
    }
  }
  return { items, results };
}
