/**
 * POST /v1/rewards: `{ decisionId, reward, components? }` → the registry's idempotent insertReward.
 * 201 when recorded, 200 when the same reward was already recorded, 409 when a different one was.
 * Rewards may arrive before their decision row (decisions are written in batches), so no existence
 * check is made here.
 */
import type { RewardInput } from '../../registry/types';
import { ClientError } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { BanditDeployments, BanditRewardResponse } from '../bandits/serving';
import { finite, rewardBody, rewardComponents } from './reward-body';

export interface RewardSink {
  insertReward(input: RewardInput): Promise<{ inserted: boolean }>;
}

export function createRewardsHandler(sink: RewardSink, bandits: BanditDeployments | null = null) {
  return async function rewards(body: unknown, ctx: RequestContext): Promise<{ decisionId: string; accepted: true; duplicate: boolean } | BanditRewardResponse> {
    if (bandits !== null) {
      const applied = await bandits.reward(body, ctx);
      if (applied !== null) return applied;
    }
    const { b, id } = rewardBody(body);
    const reward = finite(b.reward, 'reward');
    const components = rewardComponents(b);
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
