/**
 * Flushes of a shared bandit learner that its Redis update script refused (./shared-state.ts): set
 * aside in `reward_dead_letters` (migration 012) with one `audit_log` row each, in one transaction,
 * instead of being retried forever; the learner goes on with its later rewards. The metric
 * `autopilot_inference_rewards_dead_lettered_total` counts the rewards they carried.
 *
 * Written off the hot path: a letter waits in a small queue until PostgreSQL takes it (retried every
 * `retryMs`); beyond `maxQueue` letters the oldest is dropped, logged with its contents, and counted in
 * `lost`.
 */
import { hostname } from 'node:os';
import type { Pool } from 'pg';
import { writeAudit } from '../../registry/audit';
import { Db } from '../../registry/db';

/** One refused flush. */
export interface DeadLetter {
  stateKey: string;
  /** The learner's Redis hash. */
  redisKey: string;
  writerId: string;
  flushNumber: number;
  /** Rewards summed in the flush. */
  observations: number;
  /** Field → increment as sent (text: a poison value may be NaN or Infinity, which JSON cannot hold). */
  increments: Record<string, string>;
  /** What the script answered. */
  error: string;
}

export interface DeadLetterOptions {
  pool: Pool;
  /** The audit row's actor (default `inference:<host>`). */
  actor?: string;
  maxQueue?: number;
  retryMs?: number;
  log?: (level: 'warn' | 'error', msg: string) => void;
}

export class RewardDeadLetters {
  private queue: DeadLetter[] = [];
  private running: Promise<void> | null = null;
  private readonly db: Db;
  /** Letters written. */
  written = 0;
  /** Letters dropped (queue full while PostgreSQL was unavailable). */
  lost = 0;

  constructor(private readonly opts: DeadLetterOptions) {
    this.db = Db.fromPool(opts.pool);
  }

  /** Sets `letter` aside (written in the background). */
  add(letter: DeadLetter): void {
    const max = this.opts.maxQueue ?? 1000;
    if (this.queue.length >= max) {
      const dropped = this.queue.shift()!;
      this.lost++;
      this.opts.log?.('error', `reward dead-letter queue full (${max}): dropped ${JSON.stringify(dropped)}`);
    }
    this.queue.push(letter);
    if (this.running === null) this.running = this.drain().finally(() => (this.running = null));
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const letter = this.queue[0];
      try {
        await this.write(letter);
        this.queue.shift();
        this.written++;
      } catch (err) {
        this.opts.log?.('warn', `cannot write the dead letter of ${letter.redisKey} flush ${letter.flushNumber}: ${(err as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 1000));
      }
    }
  }

  /** The row and its audit row, in one transaction; the same flush twice is one row. */
  private async write(l: DeadLetter): Promise<void> {
    await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ id: string }>(
        `INSERT INTO reward_dead_letters (state_key, redis_key, writer_id, flush_number, observations, increments, error)
         VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7) ON CONFLICT (writer_id, flush_number) DO NOTHING RETURNING id`,
        [l.stateKey, l.redisKey, l.writerId, l.flushNumber, l.observations, JSON.stringify(l.increments), l.error],
      );
      if (rows.length === 0) return;
      await writeAudit(tx, {
        actor: this.opts.actor ?? `inference:${hostname()}`,
        action: 'rewards.dead_lettered',
        entity: 'bandit_state',
        entityKey: l.stateKey,
        after: { deadLetterId: Number(rows[0].id), observations: l.observations, flushNumber: l.flushNumber, error: l.error },
      });
    });
  }

  /** Waits until every queued letter is written (or `timeoutMs` passes). */
  async flush(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.running !== null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }
}
