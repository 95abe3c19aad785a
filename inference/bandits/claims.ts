/**
 * The reward claims of bandit decisions in Redis, micro-batched. Decide writes `bandit:decision:<id>` =
 * the decision's entry (./deployment.ts); a reward is applied once: a Lua script reads the entry and
 * claims `bandit:reward:<id>` (SET NX GET) atomically. Every group of claims asked for in one event-loop
 * turn (one reward request, or the items of a batch) goes out in one script call after the turn
 * (`setImmediate`), groups in the order they came; so N concurrent reward requests cost one round trip
 * and one script, not N.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export const decisionKey = (id: string): string => `bandit:decision:${id}`;
export const rewardKey = (id: string): string => `bandit:reward:${id}`;

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

/** Most claims in one script call (a call blocks Redis for the time of all its claims). */
const CLAIMS_PER_SCRIPT = 1000;

/** One operation of a CLAIM_SCRIPT call: claim `value` for the decision, or only read its entry. */
export interface ClaimOp {
  id: string;
  value: string | null;
}

/** Per op: [the decision's entry JSON or null, the reward already claimed or null]. */
export type ClaimResult = [string | null, string | null];

export class ClaimBatcher {
  private queue: { ops: ClaimOp[]; resolve: (r: ClaimResult[]) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;

  constructor(private readonly redis: Redis) {}

  /**
   * Claims (or looks up) `ops` in the next script call. Groups are never split; a call carries at most
   * CLAIMS_PER_SCRIPT ops unless one group alone is larger.
   */
  claim(ops: ClaimOp[]): Promise<ClaimResult[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ops, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.send());
      }
    });
  }

  /** Takes claims back (they were not applied): best effort. */
  async unclaim(ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.redis.del(...ids.map(rewardKey)).catch(() => undefined);
  }

  /** Runs CLAIM_SCRIPT once. */
  private async run(ops: readonly ClaimOp[]): Promise<ClaimResult[]> {
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
      r = (await this.redis.evalsha(CLAIM_SHA, keys.length, ...keys, ...argv)) as (string | null)[];
    } catch (err) {
      if (!/NOSCRIPT/.test((err as Error).message)) throw err;
      r = (await this.redis.eval(CLAIM_SCRIPT, keys.length, ...keys, ...argv)) as (string | null)[];
    }
    const out: ClaimResult[] = new Array(ops.length);
    for (let i = 0; i < ops.length; i++) out[i] = [r[2 * i] ?? null, r[2 * i + 1] ?? null];
    return out;
  }

  private send(): void {
    const queue = this.queue;
    this.queue = [];
    this.scheduled = false;
    for (let start = 0; start < queue.length; ) {
      let end = start;
      let n = 0;
      while (end < queue.length && (end === start || n + queue[end].ops.length <= CLAIMS_PER_SCRIPT)) n += queue[end++].ops.length;
      const groups = queue.slice(start, end);
      const ops = groups.length === 1 ? groups[0].ops : groups.flatMap((g) => g.ops);
      this.run(ops).then(
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
}
