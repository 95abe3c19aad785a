/**
 * The rewards of bandit decisions, written to the registry's `rewards` table in batches (one
 * `INSERT … SELECT FROM unnest(…) ON CONFLICT DO NOTHING` per batch) off the hot path, so the reward
 * endpoint is not bound by one PostgreSQL round trip per reward. Exactly-once is decided earlier, in
 * Redis (the decision entry's claim), so a conflict here only means a retried batch.
 * After a write the next one waits `flushIntervalMs` (default 50 ms) unless a full batch is waiting:
 * one statement per window rather than one per PostgreSQL round trip (each costs a write, a wakeup
 * and PostgreSQL CPU whatever its size). `flush()` skips the waits.
 *
 * Durability, as the decision log's (../decisions/log.ts; issue 19 item 4), with a journal of its own
 * (one JSON row per line):
 * - without a journal (library use, tests): a batch that fails is retried; beyond `maxQueue` rows the
 *   oldest are dropped and counted lost (`lost`, `autopilot_reward_log_rows_lost_total`, `onError`).
 * - `async`: a batch the database does not take (down, slow) is spilled to the journal (fsync) and
 *   replayed every `retryMs`; so is the queue when it reaches `maxQueue`. Rows acknowledged but not
 *   yet durable (`atRisk`: queued and being written or spilled) are bounded by `maxQueue`.
 * - `journal`: each reward row is group-committed to the journal before its answer is sent (the
 *   server waits on `committed()`), then written from memory; the journal deletes a segment once the
 *   database has all its rows; while the database is down its segments are backlog, replayed later.
 *
 * Flushes of a shared learner that Redis refused go to PostgreSQL through the same log: `deadLetters`
 * (./dead-letters.ts).
 */
import type { Pool } from 'pg';
import { RewardDeadLetters } from './dead-letters';
import { JournalFullError, type DecisionJournal, type Segment } from '../decisions/journal';
import type { Durability } from '../decisions/log';

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
  /** The reward journal (opened); without one, failed batches are retried in memory. */
  journal?: DecisionJournal;
  durability?: Durability;
  /** Rows lost (counted with `lost`). */
  onLost?: (n: number) => void;
  /** Journal durability: a reward the journal could not take (its request is answered 503). */
  onRefused?: (n: number) => void;
}

interface Queued {
  row: RewardRow;
  seg: Segment | null;
}

// decision_time: the partition key of rewards (migration 016), the time the decision id carries.
const INSERT_SQL = `INSERT INTO rewards (decision_id, reward, components, time, decision_time)
  SELECT id, r, c, t, decision_id_time(id) FROM unnest($1::uuid[], $2::float8[], $3::jsonb[], $4::timestamptz[]) AS x(id, r, c, t)
  ON CONFLICT (decision_id, decision_time) DO NOTHING`;

function rowLine(r: RewardRow): string {
  return `${JSON.stringify({ decisionId: r.decisionId, reward: r.reward, components: r.components, time: r.time.toISOString() })}\n`;
}

/** A journal line back to its row, or why it is not one. */
function lineRow(line: string): RewardRow | string {
  let v: { decisionId?: unknown; reward?: unknown; components?: unknown; time?: unknown };
  try {
    v = JSON.parse(line);
  } catch (err) {
    return (err as Error).message;
  }
  if (v === null || typeof v !== 'object' || typeof v.decisionId !== 'string' || typeof v.reward !== 'number' || typeof v.time !== 'string' || Number.isNaN(Date.parse(v.time))) {
    return 'expected { decisionId, reward, components, time }';
  }
  return { decisionId: v.decisionId, reward: v.reward, components: (v.components ?? null) as Record<string, number> | null, time: new Date(v.time) };
}

export class RewardLog {
  private queue: Queued[] = [];
  private running: Promise<void> | null = null;
  private urgent = false;
  private wake: (() => void) | null = null;
  private databaseUp = true;
  private retryTimer: NodeJS.Timeout | null = null;
  private replaying: Promise<void> | null = null;
  private readonly spills = new Set<Promise<void>>();
  private spillingRows = 0;
  private committing = 0;
  private walGroup: Promise<Segment> | null = null;
  private walRows: RewardRow[] = [];
  private closed = false;
  readonly durability: Durability;
  written = 0;
  lost = 0;
  /** Refused learner flushes, set aside in `reward_dead_letters`. */
  readonly deadLetters: RewardDeadLetters;
  spilled = 0;
  refused = 0;

  constructor(private readonly opts: RewardLogOptions) {
    this.deadLetters = new RewardDeadLetters({ pool: opts.pool, log: (_level, msg) => opts.onError?.(msg) });
    this.durability = opts.journal ? (opts.durability ?? 'async') : 'async';
    if (opts.journal && opts.journal.pending > 0) this.scheduleRetry(0);
  }

  /** Rows acknowledged but not yet durable (journal durability: 0). */
  get atRisk(): number {
    return this.durability === 'journal' ? 0 : this.queue.length + this.spillingRows;
  }

  /** Settles once every reward enqueued so far is durable (journal durability); rejects if its commit failed. */
  committed(): Promise<unknown> {
    return this.durability === 'journal' ? this.opts.journal!.committed() : Promise.resolve();
  }

  enqueue(row: RewardRow): void {
    const journal = this.opts.journal;
    if (journal !== undefined && this.durability === 'journal') {
      // Every append of one group commit gets the same promise: one callback per group.
      const group = journal.append(rowLine(row), 1);
      if (group !== this.walGroup) {
        this.walGroup = group;
        const rows: RewardRow[] = (this.walRows = []);
        this.committing++;
        group.then(
          (seg) => {
            this.committing--;
            if (this.databaseUp) for (const r of rows) this.push({ row: r, seg });
          },
          (err: unknown) => {
            this.committing--;
            this.refused += rows.length;
            this.opts.onRefused?.(rows.length);
            if (!(err instanceof JournalFullError)) this.opts.onError?.(`${rows.length} reward(s) could not be journaled (answered 503): ${(err as Error).message}`);
          },
        );
      }
      this.walRows.push(row);
      return;
    }
    this.push({ row, seg: null });
  }

  private push(q: Queued): void {
    if (!this.databaseUp && this.durability === 'async' && this.opts.journal !== undefined) {
      this.toDisk([q]); // the database is down: straight to the journal (group-committed with the others)
      return;
    }
    const max = this.opts.maxQueue ?? 200_000;
    if (this.queue.length >= max) {
      if (this.opts.journal !== undefined) {
        // The database cannot keep up: the backlog goes to disk rather than grow without bound.
        this.toDisk(this.queue.splice(0, this.queue.length));
      } else {
        this.queue.shift();
        this.countLost(1, `reward log queue full (${max}); oldest reward dropped`);
      }
    }
    this.queue.push(q);
    if (this.running === null) this.running = this.drain().finally(() => (this.running = null));
  }

  private countLost(n: number, msg: string | null): void {
    this.lost += n;
    this.opts.onLost?.(n);
    if (msg !== null) this.opts.onError?.(msg);
  }

  private async drain(): Promise<void> {
    const size = this.opts.batchSize ?? 1000;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, size);
      try {
        await this.insert(batch.map((q) => q.row));
        this.queue.splice(0, batch.length);
        this.written += batch.length;
        for (const q of batch) if (q.seg !== null) this.opts.journal!.confirm(q.seg, 1);
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
        if (this.opts.journal === undefined) {
          this.opts.onError?.(`cannot write ${batch.length} reward(s): ${(err as Error).message}; retrying`);
          await new Promise((r) => setTimeout(r, this.opts.retryMs ?? 500));
        } else {
          if (this.databaseUp) this.opts.onError?.(`cannot write ${batch.length} reward(s): ${(err as Error).message}; journaling them until the database is back`);
          this.databaseUp = false;
          // The queue's rows (the batch is its head) go to the journal; replay brings them back.
          this.toDisk(this.queue.splice(0, this.queue.length));
        }
      }
    }
  }

  /** Rows the database cannot take now: spilled (async) or already in the journal (journal durability: its segments become backlog). */
  private toDisk(rows: Queued[]): void {
    const journal = this.opts.journal!;
    let p: Promise<void>;
    if (this.durability === 'journal') {
      p = journal.toBacklog().catch((err) => this.opts.onError?.(`cannot mark reward journal segments for replay (the next process replays them): ${(err as Error).message}`));
    } else {
      const n = rows.length;
      this.spillingRows += n;
      p = journal
        .append(rows.map((q) => rowLine(q.row)).join(''), n)
        .then(
          () => {
            this.spilled += n;
          },
          (err: unknown) => this.countLost(n, err instanceof JournalFullError ? null : `${n} reward(s) could be written neither to the database nor to the journal: ${(err as Error).message}`),
        )
        .finally(() => {
          this.spillingRows -= n;
        });
    }
    this.spills.add(p);
    void p.finally(() => this.spills.delete(p));
    this.scheduleRetry(this.opts.retryMs ?? 1000);
  }

  private insert(rows: RewardRow[]): Promise<unknown> {
    return this.opts.pool.query(INSERT_SQL, [
      rows.map((r) => r.decisionId),
      rows.map((r) => r.reward),
      rows.map((r) => (r.components === null ? null : JSON.stringify(r.components))),
      rows.map((r) => r.time.toISOString()),
    ]);
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.replay();
    }, ms);
    this.retryTimer.unref();
  }

  /** Replays the reward journal; the first batch that commits marks the database up (live rows go to it again). */
  replay(): Promise<void> {
    const journal = this.opts.journal;
    if (journal === undefined) return Promise.resolve();
    if (this.replaying !== null) return this.replaying;
    this.replaying = (async () => {
      try {
        await Promise.all([...this.spills]);
        const { rows, lost } = await journal.replay(
          async (lines) => {
            await this.insert(lines.map((l) => lineRow(l) as RewardRow));
            this.databaseUp = true;
            journal.holdForReplay = false;
          },
          1000,
          (line) => {
            const r = lineRow(line);
            return typeof r === 'string' ? r : null;
          },
        );
        this.written += rows;
        if (lost > 0) this.countLost(lost, null);
        this.databaseUp = true;
        journal.holdForReplay = false;
        if (journal.pending > 0 || this.spills.size > 0) this.scheduleRetry(this.opts.retryMs ?? 1000);
      } catch (err) {
        if (this.databaseUp) this.opts.onError?.(`reward journal replay failed: ${(err as Error).message}; retrying`);
        this.databaseUp = false;
        if (this.durability === 'journal') await journal.toBacklog().catch(() => undefined);
        this.scheduleRetry(this.opts.retryMs ?? 1000);
      } finally {
        this.replaying = null;
      }
    })();
    return this.replaying;
  }

  /** Waits until every queued reward is written or journaled (or `timeoutMs` passes). */
  async flush(timeoutMs = 10_000): Promise<void> {
    await this.deadLetters.flush(Math.min(timeoutMs, 5000));
    this.urgent = true;
    this.wake?.();
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref());
    let late = false;
    void deadline.then(() => (late = true));
    while (this.committing > 0 && !late) await Promise.race([this.opts.journal!.committed().catch(() => undefined), deadline]);
    while (this.running !== null) {
      const done = await Promise.race([this.running.then(() => true), deadline.then(() => false)]);
      if (!done) return;
    }
    await Promise.race([Promise.all([...this.spills]), deadline]);
  }

  /** Flushes, then (with a journal) replays once if the database is up and closes the journal: what is left stays for the next process. */
  async close(timeoutMs = 10_000): Promise<void> {
    await this.flush(timeoutMs);
    const journal = this.opts.journal;
    if (journal === undefined) return;
    if (this.databaseUp && journal.pending > 0) await this.replay();
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.replaying !== null) await this.replaying;
    await journal.close();
  }
}
