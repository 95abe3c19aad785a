/**
 * One bandit learner whose statistics live in a Redis hash shared by every server instance
 * (ml/bandits/README.md, "Sufficient statistics"):
 *
 * - `add(delta)` queues the additive increment of one reward; queued increments are summed per arm
 *   (`sumDeltas`, exact) and sent as ONE Lua script of HINCRBYFLOAT per field plus `HINCRBY seq n`.
 *   While a flush is in flight the next batch accumulates, so batches grow with load (the script costs
 *   ~1 ms for d = 16, 5 arms whatever the batch size). Increments commute: concurrent instances lose
 *   nothing. The reward is acknowledged before its flush (waiting for it would bound throughput by
 *   connections / script time); a crash loses at most the few ms of increments still queued.
 * - `refresh()` reads `seq` (cheap) and, when it moved, HGETALL → `fieldsToStats` → `setStats`:
 *   the totals *replace* the local ones, so nothing is counted twice. A timer calls it every
 *   `refreshIntervalMs` (default 200 ms), so every instance sees any update within ~1 s.
 *
 * Hash `bandit:state:<stateKey>`: the fields of flat-stats.ts plus `seq` (observations applied).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { deltaToFields, fieldsToStats, sumDeltas, type BanditPolicy, type LearnerKind, type StatsDelta } from '../../ml/bandits';

const FLUSH_SCRIPT = `
for i = 1, #ARGV - 1, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HINCRBY', KEYS[1], 'seq', ARGV[#ARGV])`;

export function stateKeyOf(stateKey: string): string {
  return `bandit:state:${stateKey}`;
}

export interface SharedLearnerOptions {
  redis: Redis;
  stateKey: string;
  learner: BanditPolicy;
  /** Kind of the statistics (the base learner's kind for wrappers). */
  statsKind: LearnerKind;
  d: number;
  refreshIntervalMs?: number;
  /** Pause after each flush so batches grow (default 10 ms). */
  flushIntervalMs?: number;
  /** Most increments per flush (default 4096). */
  maxBatch?: number;
  /** Most increments waiting for Redis (default 100,000). */
  maxQueue?: number;
  onError?: (msg: string) => void;
}

export class SharedLearner {
  readonly key: string;
  private queue: StatsDelta[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<boolean> | null = null;
  private closed = false;
  /** `seq` of the totals the local learner holds (-1: never read). */
  seq = -1;
  flushes = 0;
  /** Increments written to Redis by this instance. */
  applied = 0;
  /** Increments dropped because the queue was full. */
  lost = 0;
  private giveUpAt = Infinity;
  private readonly sha = createHash('sha1').update(FLUSH_SCRIPT).digest('hex');

  constructor(private readonly opts: SharedLearnerOptions) {
    this.key = stateKeyOf(opts.stateKey);
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
   * Queues one increment (the caller has already claimed the reward, so it is applied exactly once);
   * it reaches Redis with the next flush, a few ms later. A failed flush is retried with the batch kept;
   * beyond `maxQueue` pending increments new ones are dropped and counted in `lost`.
   */
  add(delta: StatsDelta): void {
    if (this.closed) throw new Error(`bandit state ${this.key} is closed`);
    const maxQueue = this.opts.maxQueue ?? 100_000;
    if (this.queue.length >= maxQueue) {
      this.lost++;
      this.opts.onError?.(`bandit state ${this.key}: ${maxQueue} increments pending (Redis unavailable?); this one dropped (${this.lost} lost)`);
    } else this.queue.push(delta);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flushLoop());
    }
  }

  /** Increments queued and not yet in Redis. */
  get pending(): number {
    return this.queue.length;
  }

  private async flushLoop(): Promise<void> {
    const max = this.opts.maxBatch ?? 4096;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.slice(0, max);
        const args: (string | number)[] = [];
        for (const summed of sumDeltas(batch)) {
          for (const [f, v] of Object.entries(deltaToFields(summed))) args.push(f, v);
        }
        args.push(batch.length);
        try {
          await this.opts.redis.evalsha(this.sha, 1, this.key, ...args).catch((err: Error) => {
            if (!/NOSCRIPT/.test(err.message)) throw err;
            return this.opts.redis.eval(FLUSH_SCRIPT, 1, this.key, ...args);
          });
          this.queue.splice(0, batch.length);
          this.flushes++;
          this.applied += batch.length;
          // The script blocks Redis for ~1 ms whatever the batch: let the next batch grow a little.
          if (!this.closed && (this.opts.flushIntervalMs ?? 10) > 0) await new Promise((r) => setTimeout(r, this.opts.flushIntervalMs ?? 10));
        } catch (err) {
          this.opts.onError?.(`cannot apply ${batch.length} reward(s) to ${this.key}: ${(err as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, this.closed ? 20 : 200));
          if (this.closed && Date.now() > this.giveUpAt) return;
        }
      }
    } finally {
      this.flushing = false;
    }
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
    while ((this.flushing || this.queue.length > 0) && Date.now() < this.giveUpAt) await new Promise((r) => setTimeout(r, 2));
    if (this.queue.length > 0) {
      this.lost += this.queue.length;
      this.opts.onError?.(`bandit state ${this.key}: ${this.queue.length} increments could not reach Redis before shutdown`);
    }
  }
}
