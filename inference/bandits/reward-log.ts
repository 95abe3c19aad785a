/**
 * The rewards of bandit decisions, written to the registry's `rewards` table in batches (one
 * `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch) off the hot path, so the reward
 * endpoint is not bound by one PostgreSQL round trip per reward. Exactly-once is decided earlier, in
 * Redis (the decision entry's claim), so a conflict here only means a retried batch.
 * After a write the next one waits `flushIntervalMs` (default 50 ms) unless a full batch is waiting:
 * one statement per window rather than one per PostgreSQL round trip (each costs a write, a wakeup
 * and PostgreSQL CPU whatever its size). A batch that fails is retried
 * (bounded queue: beyond `maxQueue` rows the oldest are dropped and counted as lost, reported through
 * `onError`). `flush()` skips the waits.
 *
 * Flushes of a shared learner that Redis refused go to PostgreSQL through the same log: `deadLetters`
 * (./dead-letters.ts).
 */
import type { Pool } from 'pg';
import { RewardDeadLetters } from './dead-letters';

export interface RewardRow {
  decisionId: string;
  reward: number;
  components: Record<string, number> | null;
  time: Date;
}

export interface RewardLogOptions {
  pool: Pool;
  batchSize?: number;
  maxQueue?: number;
  flushIntervalMs?: number;
  retryMs?: number;
  onError?: (msg: string) => void;
}

export class RewardLog {
  private queue: RewardRow[] = [];
  private running: Promise<void> | null = null;
  private urgent = false;
  private wake: (() => void) | null = null;
  written = 0;
  lost = 0;
  /** Refused learner flushes, set aside in `reward_dead_letters`. */
  readonly deadLetters: RewardDeadLetters;

  constructor(private readonly opts: RewardLogOptions) {
    this.deadLetters = new RewardDeadLetters({ pool: opts.pool, log: (_level, msg) => opts.onError?.(msg) });
  }

  enqueue(row: RewardRow): void {
    const max = this.opts.maxQueue ?? 200_000;
    if (this.queue.length >= max) {
      this.queue.shift();
      this.lost++;
      this.opts.onError?.(`reward log queue full (${max}); oldest reward dropped`);
    }
    this.queue.push(row);
    if (this.running === null) this.running = this.drain().finally(() => (this.running = null));
  }

  private async drain(): Promise<void> {
    const size = this.opts.batchSize ?? 1000;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, size);
      try {
        await this.opts.pool.query(
          `INSERT INTO rewards (decision_id, reward, components, time)
           SELECT * FROM unnest($1::uuid[], $2::float8[], $3::jsonb[], $4::timestamptz[]) ON CONFLICT (decision_id) DO NOTHING`,
          [batch.map((r) => r.decisionId), batch.map((r) => r.reward), batch.map((r) => (r.components === null ? null : JSON.stringify(r.components))), batch.map((r) => r.time.toISOString())],
        );
        this.queue.splice(0, batch.length);
        this.written += batch.length;
        const pause = this.opts.flushIntervalMs ?? 50;
        if (pause > 0 && !this.urgent && this.queue.length < size) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, pause);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = null;
        }
      } catch (err) {
        this.opts.onError?.(`cannot write ${batch.length} reward(s): ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 500));
      }
    }
  }

  /** Waits until every queued reward is written (or `timeoutMs` passes). */
  async flush(timeoutMs = 10_000): Promise<void> {
    await this.deadLetters.flush(Math.min(timeoutMs, 5000));
    this.urgent = true;
    this.wake?.();
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    while (this.running !== null) {
      const done = await Promise.race([this.running.then(() => true), deadline.then(() => false)]);
      if (!done) return;
    }
  }
}
