/**
 * Test clean-up for bandit deployments served against the machine's Redis: their decision entries
 * (`bandit:decision:<id>`, written by decide) and reward claims (`bandit:reward:<id>`) carry a TTL but are
 * keyed by decision id alone, so a test finds its own by the state key its deployments were given.
 */
import type { Redis } from 'ioredis';
import { decisionKey, rewardKey } from '../bandits/claims';

const PREFIX = decisionKey('');

/**
 * Deletes the decision entries whose state key ends with `-<tag>`, and their reward claims. Returns how
 * many decisions it removed.
 */
export async function deleteBanditDecisions(redis: Redis, tag: string): Promise<number> {
  const suffix = `-${tag}`;
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${PREFIX}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const values = await redis.mget(...keys);
    const mine = keys.filter((_, i) => {
      const v = values[i];
      if (v === null) return false; // expired meanwhile
      const entry = JSON.parse(v) as { stateKey?: unknown };
      return typeof entry.stateKey === 'string' && entry.stateKey.endsWith(suffix);
    });
    if (mine.length > 0) {
      await redis.del(...mine, ...mine.map((k) => rewardKey(k.slice(PREFIX.length))));
      removed += mine.length;
    }
  } while (cursor !== '0');
  return removed;
}
