/**
 * A batch of decision rows as the database will read them: decision lines (decision-log
 * `encodeDecisionLine`, COPY's text format) written into one buffer outside the JavaScript heap.
 *
 * Why bytes and not objects: a queued row object (features array, action, metadata, Date) lives for
 * tens of milliseconds, so every young-generation GC copies it — and serialising a whole batch when it
 * is flushed stalls the event loop for all its rows at once, both straight into the tail latency of the
 * requests that arrive meanwhile. Encoding a row when it is enqueued spreads that work
 * over the requests and leaves nothing on the heap to copy.
 *
 * Lines never contain a raw newline (COPY's text format escapes it), and no byte of a multi-byte UTF-8
 * character is 0x0A, so the buffer splits into rows at its newline bytes.
 */
import { decodeDecisionLines, encodeDecisionLine, type DecisionInput } from '../../decision-log';
import type { Segment } from './journal';

const NEWLINE = 0x0a;

export class DecisionBatch {
  private buf: Buffer;
  private len = 0;
  private n = 0;
  /**
   * Write-ahead durability: the journal segments this batch's rows were committed to, with how many
   * rows of each (usually one segment), so a written batch confirms them (./journal.ts `confirm`).
   */
  segments: Map<Segment, number> | null = null;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
  }

  /** A batch holding `rows`; rows that fail validation are returned with their error instead. */
  static fromRows(rows: readonly DecisionInput[]): { batch: DecisionBatch; invalid: { row: DecisionInput; error: Error }[] } {
    const lines: string[] = [];
    const invalid: { row: DecisionInput; error: Error }[] = [];
    let bytes = 0;
    for (const row of rows) {
      try {
        const line = encodeDecisionLine(row);
        lines.push(line);
        bytes += Buffer.byteLength(line);
      } catch (error) {
        invalid.push({ row, error: error as Error });
      }
    }
    const batch = new DecisionBatch(Math.max(1, bytes));
    for (const line of lines) batch.add(line);
    return { batch, invalid };
  }

  /** Rows in the batch. */
  get count(): number {
    return this.n;
  }

  get byteLength(): number {
    return this.len;
  }

  /** Bytes the buffer can hold. */
  get capacity(): number {
    return this.buf.length;
  }

  /** Appends one encoded line; false (and nothing written) when it does not fit. */
  add(line: string): boolean {
    // Up to 3 bytes per UTF-16 unit: only count exactly when the cheap bound says it might not fit.
    if (this.len + line.length * 3 > this.buf.length && this.len + Buffer.byteLength(line) > this.buf.length) return false;
    this.len += this.buf.write(line, this.len, 'utf8');
    this.n++;
    return true;
  }

  /** Notes that the line just added was committed to `seg`. */
  noteSegment(seg: Segment): void {
    if (this.segments === null) this.segments = new Map();
    this.segments.set(seg, (this.segments.get(seg) ?? 0) + 1);
  }

  /** The lines, as written (a view, not a copy). */
  get text(): Buffer {
    return this.buf.subarray(0, this.len);
  }

  /** The rows decoded back (database fallbacks, the journal): not for the hot path. */
  rows(): DecisionInput[] {
    return decodeDecisionLines(this.text.toString('utf8'));
  }

  /** Splits into two batches of about half the rows each (views on the same bytes). */
  halves(): [DecisionBatch, DecisionBatch] {
    const want = this.n >> 1;
    let at = 0;
    for (let seen = 0; seen < want; seen++) at = this.buf.indexOf(NEWLINE, at) + 1;
    return [DecisionBatch.view(this.buf.subarray(0, at), want), DecisionBatch.view(this.buf.subarray(at, this.len), this.n - want)];
  }

  private static view(bytes: Buffer, count: number): DecisionBatch {
    const b = Object.create(DecisionBatch.prototype) as DecisionBatch;
    b.buf = bytes;
    b.len = bytes.length;
    b.n = count;
    return b;
  }
}
