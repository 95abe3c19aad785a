/**
 * The server's decision log writer: every decision the server returns becomes one row of the decision
 * log's `decisions` table (decision-log/), written off the hot path.
 *
 *   enqueue (sync, O(1): validates and encodes the row as a COPY line into the current batch's buffer)
 *     → bounded queue of encoded batches → a batch at `batchSize` rows, or every `flushIntervalMs`
 *     → sink.insertDecisions (idempotent on decision id), up to `maxInFlight` batches at once
 *   insert fails or takes longer than `writeTimeoutMs`  → the batch goes to the journal (fsync'd)
 *   queue reaches `maxQueue` (database slower than traffic) → the queue goes to the journal
 *   while the database is marked down, batches go straight to the journal; every `retryIntervalMs`
 *   the journal is replayed into the database, and success marks it up again.
 *
 * Nothing is dropped: a row is either in the database, in memory, or on disk in the journal. Only a
 * failing disk under a failing database loses rows, and those are counted (`rows_lost`, must stay 0).
 * A row the database refuses for its content (a validation error, or a PostgreSQL data or integrity
 * error: SQLSTATE class 22/23) is not a database outage: the batch is split in halves until the
 * refused rows are alone, the others are written, and each refused row is set aside in the journal
 * directory's `rejected.jsonl` with the error (`rows_rejected`), so one bad row never blocks the log.
 * A row that fails validation when it is enqueued is set aside the same way at once.
 * A batch that timed out may still commit later and also sit in the journal: the replay's insert is
 * idempotent on the decision id, so it is written once.
 *
 * Rows wait as bytes (./batch.ts): no row object outlives its request, and a flush only hands a
 * buffer to the database connection.
 *
 * Durability (`durability`, `autopilot serve --decision-durability`; issue 19 item 4):
 * - `async` (default): the above. A row is acknowledged (its answer sent) while it waits in memory;
 *   rows acknowledged but not yet durable — queued, being inserted, being spilled — are bounded by
 *   `maxQueue` plus `maxInFlight` batches and exported as `autopilot_decision_log_rows_at_risk`
 *   (`atRisk`): a kill -9 loses at most that many.
 * - `journal`: every row is group-committed (fdatasync, shared by concurrent requests) to the journal
 *   before its answer is sent (the server waits on `committed()`), and then goes to the database from
 *   memory; the journal deletes a segment once the database has all its rows. A kill -9 loses
 *   nothing acknowledged: the next process replays the segments. A row the journal cannot take (full,
 *   or two failed writes) is not acknowledged: its request is answered 503 and the row counted in
 *   `rows_refused`; it is not written to the database either.
 * The database comes back: the first replayed batch that commits marks it up, so live traffic goes to
 * the database again at once while the rest of the backlog replays beside it.
 * A journal at its cap (`maxBytes`) refuses appends: in `async` mode the rows that had to be spilled
 * are counted lost (`rows_lost`, with the journal's log line), in `journal` mode refused (503).
 * A journal line that cannot be parsed on replay is counted lost with a log line naming file and line.
 *
 * `pending(ids)`: which of these decisions the log holds and has not written to the database yet — in
 * a batch (being filled, queued, being inserted or spilled), in a journal commit group, or in the
 * journal's segments — so a reward that arrives right after its decision is not refused as unknown.
 */
import { decisionLineFields, decodeDecisionLine, encodeDecisionLine, isRowError, type DecisionInput } from '../../decision-log';
import type { InferenceMetrics } from '../metrics';
import { DecisionBatch } from './batch';
import { JournalFullError, type DecisionJournal, type Segment } from './journal';

export type Durability = 'async' | 'journal';
export const DURABILITIES: readonly Durability[] = ['async', 'journal'];

export interface DecisionSink {
  /**
   * Writes a batch (`batch.text`: its rows as COPY text lines; `batch.rows()` decodes them); must be
   * idempotent on decisionId. Rejects with a ValidationError or an SQLSTATE 22/23 error when it refuses
   * rows for their content, with anything else when the database is unavailable.
   */
  insertDecisions(batch: DecisionBatch): Promise<unknown>;
}

export interface DecisionLogOptions {
  sink: DecisionSink;
  journal: DecisionJournal;
  metrics: InferenceMetrics;
  batchSize?: number;
  /**
   * Batches written at once (default 3). One insert of a batch waits for its commit; several on
   * separate connections share commits (group commit), so the log keeps up with more decisions per
   * second without larger batches (which would mean longer event-loop stalls serialising them).
   */
  maxInFlight?: number;
  maxQueue?: number;
  flushIntervalMs?: number;
  writeTimeoutMs?: number;
  retryIntervalMs?: number;
  /** `async` (default) or `journal`: see the module comment. */
  durability?: Durability;
  onError?: (err: unknown, what: string) => void;
}

/** Whose a decision is: what a reward's tenant check needs (decision line fields `deployment` and `key_id`). */
export interface PendingDecision {
  deployment: string;
  keyId: string | null;
}

const UUID_CHARS = 36;

/** The owner fields of a decision line, or null when the line is not one (e.g. torn at the end of a segment being written). */
function ownerOf(line: string): PendingDecision | null {
  try {
    const f = decisionLineFields(line);
    return f[2] === null ? null : { deployment: f[2], keyId: f[14] };
  } catch {
    return null;
  }
}

/** Adds to `found` the lines of `text` (decision lines, each starting with its decision id) whose id is in `want`. */
function scanBytes(text: Buffer, want: ReadonlySet<string>, found: Map<string, PendingDecision>): void {
  for (let at = 0; at < text.length; ) {
    let end = text.indexOf(0x0a, at);
    if (end === -1) end = text.length;
    if (end - at > UUID_CHARS) {
      const id = text.toString('latin1', at, at + UUID_CHARS);
      if (want.has(id) && !found.has(id)) {
        const o = ownerOf(text.toString('utf8', at, end));
        if (o !== null) found.set(id, o);
      }
    }
    at = end + 1;
  }
}

export interface DecisionLogStats {
  enqueued: number;
  written: number;
  /** Rows refused for their content (by validation or by the database), set aside in rejected.jsonl. */
  rejected: number;
  spilled: number;
  replayed: number;
  lost: number;
  /** Journal durability: rows the journal could not take, whose requests were answered 503 (never acknowledged). */
  refused: number;
  queued: number;
  journalPending: number;
  databaseUp: boolean;
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * A new batch buffer holds `batchSize` lines of the average size seen so far, plus a quarter, within these
 * bounds (a policy decision's line is ~430 bytes; a line longer than the buffer gets a buffer of its own).
 * Sized from what is logged, the queue's memory stays close to its bytes (at the 20,000-row bound of policy
 * decisions, ~10 MB off the heap).
 */
const MIN_BATCH_BYTES = 16 * 1024;

/** Why a journal line is not a decision row (null: it is one): what replay counts as lost. */
function replayProblem(line: string): string | null {
  try {
    encodeDecisionLine(decodeDecisionLine(line));
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

export class DecisionLog {
  /** Full batches waiting for the database, oldest first. */
  private ready: DecisionBatch[] = [];
  /** The batch rows are being added to. */
  private current: DecisionBatch | null = null;
  private queued = 0;
  /** Bytes per encoded line, a moving average over closed batches (sizes new batch buffers). */
  private lineBytes = 512;
  private timer: NodeJS.Timeout | null = null;
  /** The delay `timer` was set with. */
  private timerMs = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private replaying: Promise<void> | null = null;
  private databaseUp = true;
  private closed = false;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly maxQueue: number;
  private readonly flushIntervalMs: number;
  private readonly writeTimeoutMs: number;
  private readonly retryIntervalMs: number;
  private readonly stats = { enqueued: 0, written: 0, rejected: 0, spilled: 0, replayed: 0, lost: 0, refused: 0 };
  private readonly spills = new Set<Promise<void>>();
  readonly durability: Durability;
  /** Rows in batches being inserted, and being spilled (async: acknowledged, not yet durable). */
  private inFlightRows = 0;
  private spillingRows = 0;
  /** Journal durability: group commits not settled yet; the group being filled and its lines. */
  private committing = 0;
  private walGroup: Promise<Segment> | null = null;
  private walLines: string[] = [];
  /** Journal durability: the lines of every group commit not settled yet (for `pending`). */
  private readonly walGroups = new Set<string[]>();
  /** Batches being inserted, and being spilled to the journal (for `pending`). */
  private readonly writingBatches = new Set<DecisionBatch>();
  private readonly spillingBatches = new Set<DecisionBatch>();

  constructor(private readonly opts: DecisionLogOptions) {
    this.batchSize = opts.batchSize ?? 512;
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 3);
    this.maxQueue = opts.maxQueue ?? 20_000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 25;
    this.writeTimeoutMs = opts.writeTimeoutMs ?? 2_000;
    this.retryIntervalMs = opts.retryIntervalMs ?? 1_000;
    this.durability = opts.durability ?? 'async';
    if (!DURABILITIES.includes(this.durability)) throw new Error(`decision log durability ${JSON.stringify(this.durability)}: expected one of ${DURABILITIES.join(', ')}`);
    if (opts.journal.pending > 0) this.scheduleRetry(0);
    opts.metrics.journalPending.set(opts.journal.pending);
    opts.metrics.trackDecisionLog({ atRisk: () => this.atRisk, journalBytes: () => opts.journal.bytes, journalFull: () => opts.journal.isFull });
  }

  /**
   * Rows acknowledged (their answer may have been sent) but not yet durable — in the database or
   * fsynced in the journal. Async: queued + being inserted + being spilled, at most `maxQueue` plus
   * `maxInFlight` batches plus the spills under way. Journal: 0 (an answer waits for the journal).
   */
  get atRisk(): number {
    return this.durability === 'journal' ? 0 : this.queued + this.inFlightRows + this.spillingRows;
  }

  /**
   * Settles once every row handed to the log so far is durable (journal durability: fsynced in the
   * journal); rejects when the group commit holding the last of them failed (the journal is full or
   * cannot be written). Async durability: settled at once. The server sends a decision's answer after this.
   */
  committed(): Promise<unknown> {
    return this.durability === 'journal' ? this.opts.journal.committed() : Promise.resolve();
  }

  /** Hands one row to the log. Never blocks and never throws. */
  enqueue(row: DecisionInput): void {
    this.stats.enqueued++;
    let line: string;
    try {
      line = encodeDecisionLine(row);
    } catch (err) {
      this.track(this.setAside([row], err));
      return;
    }
    this.append(line);
  }

  /**
   * Hands one row to the log already encoded: exactly the line `encodeDecisionLine` writes for it, e.g.
   * from `encodeServedDecisionLine` (which checked it). Never blocks and never throws.
   */
  enqueueLine(line: string): void {
    this.stats.enqueued++;
    this.append(line);
  }

  private append(line: string): void {
    if (this.durability === 'journal') {
      // Every append of one group commit gets the same promise: one callback per group, not per row.
      const group = this.opts.journal.append(line, 1);
      if (group !== this.walGroup) {
        this.walGroup = group;
        const lines: string[] = (this.walLines = []);
        this.walGroups.add(lines);
        this.committing++;
        group.then(
          (seg) => {
            this.committing--;
            this.walGroups.delete(lines);
            // While the database is down the segment is backlog (replayed later): nothing to queue.
            if (this.databaseUp) for (const l of lines) this.queue(l, seg);
          },
          (err: unknown) => {
            this.committing--;
            this.walGroups.delete(lines);
            this.stats.refused += lines.length;
            this.opts.metrics.rowsRefused.labels('decisions').inc(lines.length);
            if (!(err instanceof JournalFullError)) this.opts.onError?.(err, `decision log: ${lines.length} decision(s) could not be journaled; their requests are answered 503`);
          },
        );
      }
      this.walLines.push(line);
      return;
    }
    this.queue(line, null);
  }

  private queue(line: string, seg: Segment | null): void {
    let batch = this.current;
    if (batch === null || !batch.add(line)) {
      if (batch !== null) this.seal();
      const want = Math.min(MAX_BATCH_BYTES, Math.max(MIN_BATCH_BYTES, Math.ceil(this.batchSize * this.lineBytes * 1.25)));
      batch = this.current = new DecisionBatch(Math.max(want, Buffer.byteLength(line)));
      batch.add(line);
    }
    if (seg !== null) batch.noteSegment(seg);
    if (batch.count >= this.batchSize) this.seal();
    this.queued++;
    if (this.queued >= this.maxQueue) {
      // The database cannot keep up: move the backlog to disk rather than grow without bound
      // (journal durability: it is on disk already; its segments become backlog).
      if (this.durability === 'journal') this.toBacklog();
      for (const b of this.takeAll()) this.spill(b);
    } else if (this.ready.length > 0 && this.inFlight.size < this.maxInFlight) {
      this.flushSoon(0);
    } else if (this.timer === null) {
      this.flushSoon(this.flushIntervalMs);
    }
  }

  /** Moves the batch being filled (there is one) to the ready ones and learns its line size. */
  private seal(): void {
    const batch = this.current!;
    this.ready.push(batch);
    this.current = null;
    this.lineBytes = 0.5 * this.lineBytes + 0.5 * (batch.byteLength / batch.count);
  }

  /** The next batch to write (a full one, else the one being filled), or null. */
  private take(): DecisionBatch | null {
    if (this.ready.length === 0 && this.current !== null) this.seal();
    const batch = this.ready.shift() ?? null;
    if (batch !== null) this.queued -= batch.count;
    return batch;
  }

  private takeAll(): DecisionBatch[] {
    if (this.current !== null) this.seal();
    const all = this.ready;
    this.ready = [];
    this.queued = 0;
    return all;
  }

  /** Keeps a disk write (spill or set-aside) until it settles, so drain() and replay() can wait for it. */
  private track(p: Promise<void>): void {
    this.spills.add(p);
    void p.finally(() => this.spills.delete(p));
  }

  private flushSoon(ms: number): void {
    if (this.timer !== null) {
      // A flush already due this soon (every enqueue behind a full batch asks again): keep its timer.
      if (ms > 0 || this.timerMs === 0) return;
      clearTimeout(this.timer);
    }
    this.timerMs = ms;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  /** Starts writing one batch if fewer than `maxInFlight` are in flight. */
  private flush(): void {
    const batch = this.inFlight.size >= this.maxInFlight ? null : this.take();
    this.opts.metrics.queueDepth.set(this.queued);
    if (batch === null) return;
    if (!this.databaseUp) {
      this.spill(batch);
      if (this.queued > 0) this.flushSoon(this.flushIntervalMs);
      return;
    }
    const p: Promise<void> = this.write(batch).finally(() => {
      this.inFlight.delete(p);
      if (this.ready.length > 0) this.flushSoon(0);
      else if (this.queued > 0) this.flushSoon(this.flushIntervalMs);
    });
    this.inFlight.add(p);
    // A backlog: start the next batch in a later turn.
    if (this.ready.length > 0 && this.inFlight.size < this.maxInFlight) this.flushSoon(0);
  }

  private async write(batch: DecisionBatch): Promise<void> {
    this.inFlightRows += batch.count;
    this.writingBatches.add(batch);
    try {
      const n = await this.insertIsolating(batch, 'inserting');
      this.stats.written += n;
      this.opts.metrics.rowsWritten.inc(n);
      if (batch.segments !== null) for (const [seg, k] of batch.segments) this.opts.journal.confirm(seg, k);
    } catch (err) {
      this.markDown(err);
      this.spill(batch);
    } finally {
      // After a failure the batch is in spillingBatches already: it is never out of sight of `pending`.
      this.writingBatches.delete(batch);
      this.inFlightRows -= batch.count;
    }
  }

  /** Journal durability, the database down or behind: the rows in the journal's waiting segments are backlog now. */
  private toBacklog(): void {
    this.track(
      this.opts.journal.toBacklog().then(
        () => this.opts.metrics.journalPending.set(this.opts.journal.pending),
        (err) => this.opts.onError?.(err, 'decision log: cannot mark journal segments for replay (they are replayed by the next process)'),
      ),
    );
    this.scheduleRetry(this.retryIntervalMs);
  }

  /**
   * Inserts `rows`; when the database refuses some of them for their content, halves the batch until
   * they are alone, writes the rest and sets them aside. Resolves with the rows written; throws only
   * when the database is unavailable (then nothing is set aside: the caller spills or retries).
   */
  private async insertIsolating(batch: DecisionBatch, what: string): Promise<number> {
    if (batch.count === 0) return 0;
    try {
      await withTimeout(this.opts.sink.insertDecisions(batch), this.writeTimeoutMs, `${what} ${batch.count} decisions`);
      return batch.count;
    } catch (err) {
      if (!isRowError(err)) throw err;
      if (batch.count > 1) {
        const [a, b] = batch.halves();
        return (await this.insertIsolating(a, what)) + (await this.insertIsolating(b, what));
      }
      await this.setAside(batch.rows(), err);
      return 0;
    }
  }

  /** Rows refused for their content: into rejected.jsonl (or counted lost if even that fails). */
  private async setAside(rows: DecisionInput[], err: unknown): Promise<void> {
    const message = (err as Error)?.message ?? String(err);
    const by = (err as { name?: unknown })?.name === 'ValidationError' ? 'refused as invalid' : 'refused by the database';
    try {
      await this.opts.journal.reject(rows, message);
      this.stats.rejected += rows.length;
      this.opts.metrics.rowsRejected.inc(rows.length);
      this.opts.onError?.(err, `decision log: decision ${rows[0].decisionId} ${by} and set aside in rejected.jsonl`);
    } catch (diskErr) {
      this.stats.lost += rows.length;
      this.opts.metrics.rowsLost.inc(rows.length);
      this.opts.onError?.(diskErr, `decision log: decision ${rows[0].decisionId} was ${by} (${message}) and could not be set aside`);
    }
  }

  private markDown(err: unknown): void {
    if (this.databaseUp) this.opts.onError?.(err, 'decision log: database write failed; spilling to the journal');
    this.databaseUp = false;
    if (this.durability === 'journal') this.toBacklog();
    this.scheduleRetry(this.retryIntervalMs);
  }

  private markUp(): void {
    this.databaseUp = true;
    this.opts.journal.holdForReplay = false;
  }

  private spill(batch: DecisionBatch): void {
    const n = batch.count;
    // Journal durability: the rows are in the journal already, in segments made backlog when the database went down.
    if (this.durability === 'journal') return;
    this.spillingRows += n;
    this.spillingBatches.add(batch);
    const p = Promise.resolve()
      .then(() => this.opts.journal.append(batch.text.toString('utf8'), n))
      .then(
        () => {
          this.stats.spilled += n;
          this.opts.metrics.rowsSpilled.inc(n);
          this.opts.metrics.journalPending.set(this.opts.journal.pending);
          this.scheduleRetry(this.retryIntervalMs);
        },
        (err) => {
          this.stats.lost += n;
          this.opts.metrics.rowsLost.inc(n);
          // The journal says once, when it reaches its cap, that it is full; each write failure is said here.
          if (!(err instanceof JournalFullError)) this.opts.onError?.(err, `decision log: ${n} rows could be written neither to the database nor to the journal`);
        },
      )
      .finally(() => {
        this.spillingRows -= n;
        this.spillingBatches.delete(batch);
      });
    this.track(p);
  }

  private scheduleRetry(ms: number): void {
    if (this.retryTimer !== null || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.replay();
    }, ms);
    this.retryTimer.unref();
  }

  /** Replays the journal into the database; on success the database is marked up again. */
  replay(): Promise<void> {
    if (this.replaying !== null) return this.replaying;
    this.replaying = (async () => {
      try {
        await Promise.all([...this.spills]);
        const { lost } = await this.opts.journal.replay(
          async (lines) => {
            const batch = new DecisionBatch(lines.reduce((a, l) => a + Buffer.byteLength(l) + 1, 0));
            for (const line of lines) batch.add(`${line}\n`);
            const k = await this.insertIsolating(batch, 'replaying');
            this.stats.replayed += k;
            this.stats.written += k;
            this.opts.metrics.rowsWritten.inc(k);
            // The database takes rows again: live traffic goes to it now, beside the rest of the backlog.
            if (!this.databaseUp) this.markUp();
          },
          this.batchSize * 2,
          replayProblem,
        );
        if (lost > 0) {
          // Each line was named (file, line) by the journal's onLost; counted once its segment is done.
          this.stats.lost += lost;
          this.opts.metrics.rowsLost.inc(lost);
          this.opts.metrics.journalLinesUnparsable.labels('decisions').inc(lost);
        }
        this.markUp();
        // Rows spilled while the replay ran are replayed on the next tick.
        if (this.opts.journal.pending > 0 || this.spills.size > 0) this.scheduleRetry(this.retryIntervalMs);
      } catch (err) {
        this.markDown(err);
      } finally {
        this.opts.metrics.journalPending.set(this.opts.journal.pending);
        this.replaying = null;
      }
    })();
    return this.replaying;
  }

  /**
   * Of `ids` (lower-case decision ids), those this log holds but may not have written to the database
   * yet, with their deployment and key: in memory (a batch being filled, queued, inserted or spilled; a
   * journal commit group) or in the journal's segments (spilled or written ahead, replayed later).
   * Not for the hot path: the memory is scanned line by line, and the journal's segments, when there
   * are any, are read from disk. A reward's existence check asks only for the decisions it did not
   * find in the database, and looks there again afterwards: a row is always in at least one of the
   * places looked at in this order (memory, journal, database) — a batch leaves memory only once it is
   * in the database or the journal, and a segment is deleted only once its rows are in the database.
   */
  async pending(ids: readonly string[]): Promise<Map<string, PendingDecision>> {
    const found = new Map<string, PendingDecision>();
    const want = new Set(ids);
    if (want.size === 0) return found;
    const batches = [...this.ready, ...this.writingBatches, ...this.spillingBatches];
    if (this.current !== null) batches.push(this.current);
    for (const b of batches) scanBytes(b.text, want, found);
    for (const lines of this.walGroups) {
      for (const line of lines) {
        const id = line.slice(0, UUID_CHARS);
        if (want.has(id) && !found.has(id)) {
          const o = ownerOf(line);
          if (o !== null) found.set(id, o);
        }
      }
    }
    if (found.size < want.size && this.opts.journal.bytes > 0) {
      const rest = new Set([...want].filter((id) => !found.has(id)));
      for (const [id, line] of await this.opts.journal.find(rest)) {
        const o = ownerOf(line);
        if (o !== null) found.set(id, o);
      }
    }
    return found;
  }

  getStats(): DecisionLogStats {
    return { ...this.stats, queued: this.queued, journalPending: this.opts.journal.pending, databaseUp: this.databaseUp };
  }

  /**
   * Writes everything queued (to the database, or the journal if it is down) and waits for it; then,
   * if the database is up, replays the journal. Used by tests and before shutdown.
   */
  async drain(opts: { replay?: boolean } = {}): Promise<DecisionLogStats> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    // Journal durability: rows still being committed reach the queue when their commit settles.
    while (this.committing > 0) await this.opts.journal.committed().catch(() => undefined);
    for (;;) {
      if (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
      else if (this.queued > 0) this.flush();
      else break;
    }
    await Promise.all([...this.spills]);
    if (opts.replay !== false && this.opts.journal.pending > 0) {
      await this.replay();
      await Promise.all([...this.spills]);
    }
    return this.getStats();
  }

  /** Drains (without waiting for a down database to come back) and closes the journal's segment. */
  async close(): Promise<DecisionLogStats> {
    const stats = await this.drain({ replay: this.databaseUp });
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.replaying !== null) await this.replaying;
    await this.opts.journal.close();
    return stats;
  }
}
