/**
 * One bandit learner whose statistics live in a Redis hash shared by every server instance
 * (ml/bandits/README.md, "Sufficient statistics"):
 *
 * - `add(delta)` adds the increment of one reward to a per-arm running sum (exact pre-aggregation:
 *   the sum of the statistics is the statistics of the union); the sums are sent as ONE Lua script of
 *   HINCRBYFLOAT per field plus `HINCRBY seq n`. While a flush is in flight, and for `flushIntervalMs`
 *   (default 50 ms) after it, the next sums accumulate: a flush carries every reward of its window
 *   whatever the load, and its fixed cost (Redis time that grows with the number of fields, and CPU here) is
 *   paid at most ~20 times a second, not per reward. Increments commute: concurrent instances lose
 *   nothing. The reward is acknowledged before its flush (waiting for it would bound throughput by
 *   connections / script time); a crash loses the increments of the last window (≤ ~50 ms).
 * - `refresh()` reads `seq` (cheap) and, when it moved, HGETALL → `fieldsToStats` → `setStats`:
 *   the totals *replace* the local ones, so nothing is counted twice. A timer calls it every
 *   `refreshIntervalMs` (default 200 ms), so every instance sees any update within ~1 s.
 *
 * Hash `bandit:state:<stateKey>`: the fields of flat-stats.ts plus `seq` (observations applied).
 * A flush whose reply is lost (timeout, connection reset) is retried as is, with its number: the script
 * skips a number it has already applied for this writer (hash `bandit:flushed:<stateKey>`), so a
 * retry never counts twice.
 *
 * The script checks every increment before its first write (a number, finite, within ±STATE_LIMIT, and
 * so is the field's total after it): a flush it refuses changes nothing, and is not retried — it is
 * handed to `onPoison` (the server sets it aside in the dead-letter table, ./dead-letters.ts) and the
 * learner goes on with its later rewards. Without the check, one increment that made a total infinite
 * failed the script half-way (HINCRBYFLOAT refuses an infinite result), and the retry of that flush
 * failed again forever, holding back every later reward. A lost connection is still retried as is.
 */
import { createHash, randomUUID } from 'node:crypto';
import { ReplyError, type Redis } from 'ioredis';
import type { DeadLetter } from './dead-letters';
import { addArmStats, fieldsToStats, type ArmStats, type BanditPolicy, type LearnerKind, type StatsDelta } from '../../ml/bandits';
import { flushedKeyOf, stateKeyOf } from '../../ml/bandits/state-key';

export { flushedKeyOf, stateKeyOf };

/**
 * Bound of every statistic in the shared state (and of every increment): far above what rewards within
 * ±1e12 and float32 features produce, and small enough that the product of two statistics (what a
 * learner computes with) is still finite.
 */
export const STATE_LIMIT = 1e150;

/** The prefix of the script's refusals: a flush it will refuse again, whatever the retry. */
export const POISON = 'POISON';

// KEYS: the state hash, the hash of flushes applied per writer. ARGV: writer id, flush number, the
// bound, then field/increment pairs, then the number of observations. A flush number at or below the
// writer's last applied one is a retry of a flush that did reach Redis (its reply was lost): skipped
// (-1). Every value is checked before the first write (a refusal changes nothing).
const FLUSH_SCRIPT = `
local done = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if done >= tonumber(ARGV[2]) then return -1 end
local lim = tonumber(ARGV[3])
local n = tonumber(ARGV[#ARGV])
if n == nil or n ~= n or n < 0 or n % 1 ~= 0 then return redis.error_reply('${POISON} observation count ' .. tostring(ARGV[#ARGV])) end
local fields = {}
for i = 4, #ARGV - 1, 2 do fields[#fields + 1] = ARGV[i] end
for c = 1, #fields, 1000 do
  local cur = redis.call('HMGET', KEYS[1], unpack(fields, c, math.min(c + 999, #fields)))
  for j = 1, #cur do
    local i = 2 * (c + j - 1) + 2
    local v = tonumber(ARGV[i + 1])
    if v == nil or v ~= v or v > lim or v < -lim then return redis.error_reply('${POISON} increment of ' .. ARGV[i] .. ' is ' .. tostring(ARGV[i + 1])) end
    local t = tonumber(cur[j] or '0')
    if t == nil then return redis.error_reply('${POISON} stored ' .. ARGV[i] .. ' is not a number') end
    t = t + v
    if t ~= t or t > lim or t < -lim then return redis.error_reply('${POISON} ' .. ARGV[i] .. ' would be ' .. tostring(t)) end
  end
end
for i = 4, #ARGV - 1, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], 86400000)
return redis.call('HINCRBY', KEYS[1], 'seq', ARGV[#ARGV])`;

export interface SharedLearnerOptions {
  redis: Redis;
  stateKey: string;
  learner: BanditPolicy;
  /** Kind of the statistics (the base learner's kind for wrappers). */
  statsKind: LearnerKind;
  d: number;
  refreshIntervalMs?: number;
  /** Pause after each flush so the next one carries more (default 50 ms). */
  flushIntervalMs?: number;
  onError?: (msg: string) => void;
  /** A flush the script refused (it changed nothing and is not retried): set it aside. Default: logged through onError. */
  onPoison?: (letter: DeadLetter) => void;
}

/**
 * Whether a script error is a refusal that a retry would meet again (the script's own POISON, or any
 * error reply but those of a Redis that is busy, loading, read-only or out of memory for now), as
 * opposed to a lost connection or a transient state (retried).
 */
export function isPoison(err: unknown): boolean {
  if (!(err instanceof ReplyError)) return false;
  const m = (err as Error).message;
  if (m.startsWith(POISON)) return true;
  return !/^(BUSY|LOADING|READONLY|MASTERDOWN|OOM|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF|NOSCRIPT|MOVED|ASK)\b/.test(m);
}

/** The hash field names of one arm's statistics, in `flatArm` order (flat-stats.ts naming). */
function armFieldNames(arm: number, s: ArmStats): string[] {
  const names = [`${arm}:n`, `${arm}:rs`, `${arm}:rss`];
  s.xx?.forEach((_, k) => names.push(`${arm}:xx:${k}`));
  s.xr?.forEach((_, i) => names.push(`${arm}:xr:${i}`));
  return names;
}

/** Appends `name, value` for every non-zero field of one arm's increment to the script's arguments. */
function pushArmArgs(args: (string | number)[], names: readonly string[], s: ArmStats): void {
  const put = (i: number, v: number) => {
    if (v !== 0) args.push(names[i], v);
  };
  put(0, s.n);
  put(1, s.rSum);
  put(2, s.rSqSum);
  let i = 3;
  if (s.xx) for (let k = 0; k < s.xx.length; k++) put(i++, s.xx[k]);
  if (s.xr) for (let k = 0; k < s.xr.length; k++) put(i++, s.xr[k]);
}

export class SharedLearner {
  readonly key: string;
  /** Per arm: the sum of the increments not yet sent. */
  private pendingSums = new Map<number, ArmStats>();
  /** How many increments `pendingSums` holds. */
  private pendingCount = 0;
  private readonly fieldNames = new Map<number, string[]>();
  /** A flush that failed, retried as is (same number) before anything else is sent. */
  private retry: { args: (string | number)[]; count: number } | null = null;
  private readonly writerId = randomUUID();
  private flushNumber = 0;
  private readonly flushedKey: string;
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<boolean> | null = null;
  private closed = false;
  /** `seq` of the totals the local learner holds (-1: never read). */
  seq = -1;
  flushes = 0;
  /** Increments written to Redis by this instance. */
  applied = 0;
  /** Increments that could not reach Redis before shutdown. */
  lost = 0;
  /** Increments of flushes the script refused (set aside through onPoison). */
  deadLettered = 0;
  private giveUpAt = Infinity;
  private readonly sha = createHash('sha1').update(FLUSH_SCRIPT).digest('hex');

  constructor(private readonly opts: SharedLearnerOptions) {
    this.key = stateKeyOf(opts.stateKey);
    this.flushedKey = flushedKeyOf(opts.stateKey);
  }

  get learner(): BanditPolicy {
    return this.opts.learner;
  }

  /** Reads the shared totals once, then keeps refreshing them. */
  async start(): Promise<void> {
    await this.refresh();
    const every = this.opts.refreshIntervalMs ?? 200;
    this.timer = setInterval(() => {
      this.refresh().catch((err) => this.opts.onError?.(`refresh of ${this.key} failed: ${(err as Error).message}`));
    }, every);
    this.timer.unref();
  }

  /**
   * Adds one increment (the caller has already claimed the reward, so it is applied exactly once);
   * it reaches Redis with the next flush, a few ms later. A failed flush is retried until it is
   * applied (nothing is dropped while the process lives; `close` gives up after its timeout).
   */
  add(delta: StatsDelta): void {
    if (this.closed) throw new Error(`bandit state ${this.key} is closed`);
    this.merge(delta.arm, delta.stats);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flushLoop());
    }
  }

  private merge(arm: number, stats: ArmStats): void {
    let sum = this.pendingSums.get(arm);
    if (sum === undefined) {
      sum = { n: 0, rSum: 0, rSqSum: 0 };
      if (stats.xx) sum.xx = new Array<number>(stats.xx.length).fill(0);
      if (stats.xr) sum.xr = new Array<number>(stats.xr.length).fill(0);
      this.pendingSums.set(arm, sum);
    }
    addArmStats(sum, stats);
    this.pendingCount++;
  }

  /** Increments added and not yet in Redis. */
  get pending(): number {
    return this.pendingCount + (this.retry?.count ?? 0);
  }

  private namesOf(arm: number, s: ArmStats): string[] {
    let names = this.fieldNames.get(arm);
    if (names === undefined || names.length !== 3 + (s.xx?.length ?? 0) + (s.xr?.length ?? 0)) {
      names = armFieldNames(arm, s);
      this.fieldNames.set(arm, names);
    }
    return names;
  }

  /** The script's arguments for the pending sums (which are reset): writer, number, fields, count. */
  private takePending(): { args: (string | number)[]; count: number } {
    const sums = this.pendingSums;
    const count = this.pendingCount;
    this.pendingSums = new Map();
    this.pendingCount = 0;
    const args: (string | number)[] = [this.writerId, ++this.flushNumber, STATE_LIMIT];
    for (const arm of [...sums.keys()].sort((x, y) => x - y)) pushArmArgs(args, this.namesOf(arm, sums.get(arm)!), sums.get(arm)!);
    args.push(count);
    return { args, count };
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.retry !== null || this.pendingCount > 0) {
        const batch = this.retry ?? this.takePending();
        try {
          await this.opts.redis.evalsha(this.sha, 2, this.key, this.flushedKey, ...batch.args).catch((err: Error) => {
            if (!/NOSCRIPT/.test(err.message)) throw err;
            return this.opts.redis.eval(FLUSH_SCRIPT, 2, this.key, this.flushedKey, ...batch.args);
          });
          this.retry = null;
          this.flushes++;
          this.applied += batch.count;
          // The script blocks Redis for a fixed time whatever it carries: let the next window fill a little.
          if (!this.closed && (this.opts.flushIntervalMs ?? 50) > 0) await new Promise((r) => setTimeout(r, this.opts.flushIntervalMs ?? 50));
        } catch (err) {
          if (isPoison(err)) {
            this.retry = null;
            this.setAside(batch, err as Error);
            continue;
          }
          this.retry = batch;
          this.opts.onError?.(`cannot apply ${batch.count} reward(s) to ${this.key}: ${(err as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, this.closed ? 20 : 200));
          if (this.closed && Date.now() > this.giveUpAt) return;
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** A refused flush: counted, handed to onPoison, never retried. */
  private setAside(batch: { args: (string | number)[]; count: number }, err: Error): void {
    this.deadLettered += batch.count;
    const increments: Record<string, string> = {};
    for (let i = 3; i < batch.args.length - 1; i += 2) increments[String(batch.args[i])] = String(batch.args[i + 1]);
    const letter: DeadLetter = {
      stateKey: this.opts.stateKey,
      redisKey: this.key,
      writerId: this.writerId,
      flushNumber: Number(batch.args[1]),
      observations: batch.count,
      increments,
      error: err.message,
    };
    this.opts.onError?.(`${this.key}: flush ${letter.flushNumber} of ${batch.count} reward(s) refused (${err.message}); set aside, later rewards go on`);
    this.opts.onPoison?.(letter);
  }

  /** Re-reads the totals if `seq` moved; true when the local learner changed. */
  refresh(): Promise<boolean> {
    if (this.refreshing !== null) return this.refreshing;
    this.refreshing = (async () => {
      const raw = await this.opts.redis.hget(this.key, 'seq');
      const seq = raw === null ? 0 : Number(raw);
      if (seq === this.seq) return false;
      const fields = await this.opts.redis.hgetall(this.key);
      const seqNow = fields.seq === undefined ? 0 : Number(fields.seq);
      delete fields.seq;
      const { learner, statsKind, d } = this.opts;
      learner.setStats(fieldsToStats(statsKind, learner.nArms, d, fields));
      this.seq = seqNow;
      return true;
    })().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  /** Stops refreshing; waits (at most `timeoutMs`) for queued increments to reach Redis. */
  async close(timeoutMs = 5000): Promise<void> {
    this.closed = true;
    this.giveUpAt = Date.now() + timeoutMs;
    if (this.timer) clearInterval(this.timer);
    while ((this.flushing || this.pending > 0) && Date.now() < this.giveUpAt) await new Promise((r) => setTimeout(r, 2));
    if (this.pending > 0) {
      this.lost += this.pending;
      this.opts.onError?.(`bandit state ${this.key}: ${this.pending} increments could not reach Redis before shutdown`);
    }
  }
}
