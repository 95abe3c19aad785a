/**
 * POST /v1/rewards: `{ decisionId, reward, components? }` → the registry's idempotent insertReward.
 * 201 when recorded, 200 when the same reward was already recorded, 409 when a different one was.
 * Rewards may arrive before their decision row (decisions are written in batches), so no existence
 * check is made here.
 */
import type { RewardInput } from '../../registry/types';
import { expectObject } from '../http/body';
import { ClientError, badRequest, describeValue } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { BanditDeployments, BanditRewardResponse } from '../bandits/serving';

export interface RewardSink {
  insertReward(input: RewardInput): Promise<{ inserted: boolean }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = new Set(['decisionId', 'reward', 'components']);

function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${field} must be a finite number, got ${describeValue(v)}`, field, 'a finite number');
  return v;
}

export function createRewardsHandler(sink: RewardSink, bandits: BanditDeployments | null = null) {
  return async function rewards(body: unknown, ctx: RequestContext): Promise<{ decisionId: string; accepted: true; duplicate: boolean } | BanditRewardResponse> {
    if (bandits !== null) {
      const applied = await bandits.reward(body, ctx);
      if (applied !== null) return applied;
    }
    const b = expectObject(body);
    for (const key in b) if (!KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only decisionId, reward and components');
    const id = b.decisionId;
    if (typeof id !== 'string' || !UUID.test(id)) {
      throw badRequest(`decisionId must be the uuid a decide call returned, got ${describeValue(id)}`, 'decisionId', 'a uuid such as 3f2b1c9e-…');
    }
    const reward = finite(b.reward, 'reward');
    let components: Record<string, number> | null = null;
    if (b.components !== undefined && b.components !== null) {
      const c = expectObject(b.components, 'components');
      const keys = Object.keys(c);
      if (keys.length > 64) throw badRequest(`components has ${keys.length} entries`, 'components', 'at most 64 named numbers');
      for (const k of keys) finite(c[k], `components.${k}`);
      components = c as Record<string, number>;
    }
    let result: { inserted: boolean };
    try {
      result = await sink.insertReward({ decisionId: id.toLowerCase(), reward, components });
    } catch (err) {
      const e = err as Error & { field?: string; expected?: string };
      if (e.name === 'ConflictError') throw new ClientError(409, e.message, 'reward', 'the reward already recorded for this decision (a reward is recorded once)');
      if (e.name === 'ValidationError') throw new ClientError(400, e.message, e.field ?? null, e.expected ?? null);
      throw new ClientError(503, `cannot record the reward now: ${e.message}`, null, 'a retry later (the registry database is unavailable)');
    }
    ctx.status = result.inserted ? 201 : 200;
    return { decisionId: id, accepted: true, duplicate: !result.inserted };
  };
}
