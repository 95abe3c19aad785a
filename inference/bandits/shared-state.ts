/**
 * One bandit learner whose statistics live in a Redis hash shared by every server instance
 * (ml/bandits/README.md, "Sufficient statistics"):
 *
 * - `add(delta)` queues the additive increment of one reward; queued increments are summed per arm
 *   (`sumDeltas`, exact) and sent as ONE Lua script of HINCRBYFLOAT per field plus `HINCRBY seq n`.
 *   While a flush is in flight the next batch accumulates, so batches grow with load. The promise
 *   resolves once the increment is in Redis. Increments commute: concurrent instances lose nothing.
 * - `refresh()` reads `seq` (cheap) and, when it moved, HGETALL → `fieldsToStats` → `setStats`:
 *   the totals *replace* the local ones, so nothing is counted twice. A timer calls it every
 *   `refreshIntervalMs` (default 200 ms), so every instance sees any update within ~1 s.
 *
 * Hash `bandit:state:<stateKey>`: the fields of flat-stats.ts plus `seq` (observations applied).
 */
import type { Redis } from 'ioredis';
import { deltaToFields, fieldsToStats, sumDeltas, type BanditPolicy, type LearnerKind, type StatsDelta } from '../../ml/bandits';

const FLUSH_SCRIPT = `
for i = 1, #ARGV - 1, 2 do redis.call('HINCRBYFLOAT', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('HINCRBY', KEYS[1], 'seq', ARGV[#ARGV])`;

export function stateKeyOf(stateKey: string): string {
  return `bandit:state:${stateKey}`;
}

interface Pending {
  delta: StatsDelta;
  resolve: () => void;
  reject: (err: Error) => void;
}

export interface SharedLearnerOptions {
  redis: Redis;
  stateKey: string;
  learner: BanditPolicy;
  /** Kind of the statistics (the base learner's kind for wrappers). */
  statsKind: LearnerKind;
  d: number;
  refreshIntervalMs?: number;
  /** Most increments per flush (default 4096). */
  maxBatch?: number;
  onError?: (msg: string) => void;
}

export class SharedLearner {
  readonly key: string;
  private queue: Pending[] = [];
  private flushing = false;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<boolean> | null = null;
  private closed = false;
  /** `seq` of the totals the local learner holds (-1: never read). */
  seq = -1;
  flushes = 0;

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

  /** Queues one increment; resolves when it is applied in Redis. */
  add(delta: StatsDelta): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`bandit state ${this.key} is closed`));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ delta, resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => void this.flushLoop());
      }
    });
  }

  private async flushLoop(): Promise<void> {
    const max = this.opts.maxBatch ?? 4096;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.length <= max ? this.queue : this.queue.slice(0, max);
        this.queue = this.queue.length <= max ? [] : this.queue.slice(max);
        const args: (string | number)[] = [];
        for (const summed of sumDeltas(batch.map((p) => p.delta))) {
          for (const [f, v] of Object.entries(deltaToFields(summed))) args.push(f, v);
        }
        args.push(batch.length);
        try {
          await this.opts.redis.eval(FLUSH_SCRIPT, 1, this.key, ...args);
          this.flushes++;
          for (const p of batch) p.resolve();
        } catch (err) {
          const e = new Error(`cannot apply ${batch.length} reward(s) to ${this.key}: ${(err as Error).message}`);
          for (const p of batch) p.reject(e);
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

  /** Stops refreshing; waits for queued increments to reach Redis. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    while (this.flushing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 2));
  }
}
