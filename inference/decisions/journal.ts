/**
 * The local decision journal: an append-only JSONL spill file for decision rows the database could not
 * take (slow, down, or the in-memory queue full). Lines are written in group commits — every append
 * that arrives while a write is in flight joins the next write, and each write ends with fdatasync — so
 * a row counted as spilled is on disk.
 *
 * Layout, in `dir`: the writer appends to its own segment `seg-<pid>-<time>-<n>.open.jsonl`; `rotate()`
 * closes it and renames it to `….jsonl` (closed, ready to replay). A replayer claims a closed segment by
 * renaming it to `….replay-<pid>.jsonl` (rename is atomic, so two processes sharing the directory
 * never replay the same segment), inserts its rows in batches and deletes it. Segments left `.open` or
 * `.replay` by a process that died are claimed too. Replays are idempotent on the decision id, so a
 * segment replayed twice after a crash writes each row once.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DecisionInput } from '../../decision-log';

/** Rows the database refused for their content (see `reject`); never replayed, kept for a person to read. */
export const REJECTED_FILE = 'rejected.jsonl';

const OPEN_RE = /^seg-(\d+)-\d+-\d+\.open\.jsonl$/;
const CLOSED_RE = /^seg-\d+-\d+-\d+\.jsonl$/;
const REPLAY_RE = /^seg-\d+-\d+-\d+\.replay-(\d+)\.jsonl$/;

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function toLine(row: DecisionInput): string {
  return JSON.stringify(row);
}

function fromLine(line: string): DecisionInput | null {
  let v: any;
  try {
    v = JSON.parse(line);
  } catch {
    return null; // a torn last line from a crash mid-write
  }
  if (v === null || typeof v !== 'object' || typeof v.decisionId !== 'string') return null;
  v.time = new Date(v.time);
  return v as DecisionInput;
}

async function countLines(path: string): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (line.length > 0) n++;
  return n;
}

export class DecisionJournal {
  private fd: fs.FileHandle | null = null;
  private segment: string | null = null;
  private seq = 0;
  private batch: string[] = [];
  private batchRows = 0;
  private batchDone: Promise<void> | null = null;
  private writing: Promise<void> = Promise.resolve();
  private pendingRows = 0;

  constructor(readonly dir: string) {}

  /** Rows on disk not yet replayed (this process's view: counted at open, then tracked). */
  get pending(): number {
    return this.pendingRows;
  }

  /** Creates the directory and counts rows left by earlier runs. */
  async open(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    for (const name of await fs.readdir(this.dir)) {
      const ownReplay = REPLAY_RE.exec(name)?.[1] === String(process.pid);
      if (ownReplay || this.replayable(name)) this.pendingRows += await countLines(join(this.dir, name));
    }
  }

  private replayable(name: string): boolean {
    if (CLOSED_RE.test(name)) return true;
    const open = OPEN_RE.exec(name);
    if (open) return Number(open[1]) !== process.pid && !alive(Number(open[1]));
    const replay = REPLAY_RE.exec(name);
    if (replay) return Number(replay[1]) !== process.pid && !alive(Number(replay[1]));
    return false;
  }

  /** Appends rows; resolves once they are written and synced (group commit with concurrent appends). */
  append(rows: DecisionInput[]): Promise<void> {
    for (const row of rows) this.batch.push(toLine(row));
    this.batchRows += rows.length;
    if (this.batchDone === null) {
      const done = this.writing.then(() => this.writeBatch());
      this.batchDone = done;
      this.writing = done.catch(() => undefined);
    }
    return this.batchDone;
  }

  private async writeBatch(): Promise<void> {
    const lines = this.batch;
    const n = this.batchRows;
    this.batch = [];
    this.batchRows = 0;
    this.batchDone = null;
    if (n === 0) return;
    if (this.fd === null) {
      this.segment = `seg-${process.pid}-${Date.now()}-${this.seq++}`;
      this.fd = await fs.open(join(this.dir, `${this.segment}.open.jsonl`), 'a');
    }
    await this.fd.write(`${lines.join('\n')}\n`);
    await this.fd.datasync();
    this.pendingRows += n;
  }

  /** Closes the active segment (after pending writes) so it can be replayed. */
  rotate(): Promise<void> {
    const done = this.writing.then(() => this.closeSegment());
    this.writing = done.catch(() => undefined);
    return done;
  }

  private async closeSegment(): Promise<void> {
    if (this.fd === null || this.segment === null) return;
    const fd = this.fd;
    const seg = this.segment;
    this.fd = null;
    this.segment = null;
    await fd.close();
    await fs.rename(join(this.dir, `${seg}.open.jsonl`), join(this.dir, `${seg}.jsonl`));
  }

  /**
   * Replays every closed (or orphaned) segment through `insert` in batches of `batchSize`, deleting
   * each segment once all its rows are in. Stops at the first failed insert (the segment stays claimed
   * by this process and is retried by the next replay). Returns the rows inserted.
   */
  async replay(insert: (rows: DecisionInput[]) => Promise<unknown>, batchSize: number): Promise<number> {
    await this.rotate();
    let total = 0;
    const names = (await fs.readdir(this.dir)).sort();
    for (const name of names) {
      let claimed: string;
      const mine = REPLAY_RE.exec(name);
      if (mine && Number(mine[1]) === process.pid) claimed = join(this.dir, name);
      else if (this.replayable(name)) {
        claimed = join(this.dir, `${/^seg-\d+-\d+-\d+/.exec(name)![0]}.replay-${process.pid}.jsonl`);
        try {
          await fs.rename(join(this.dir, name), claimed);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process took it
          throw err;
        }
      } else continue;
      let rows: DecisionInput[] = [];
      let lines = 0;
      const rl = createInterface({ input: createReadStream(claimed), crlfDelay: Infinity });
      for await (const line of rl) {
        if (line.length === 0) continue;
        lines++;
        const row = fromLine(line);
        if (row !== null) rows.push(row);
        if (rows.length >= batchSize) {
          await insert(rows);
          total += rows.length;
          rows = [];
        }
      }
      if (rows.length > 0) {
        await insert(rows);
        total += rows.length;
      }
      await fs.unlink(claimed);
      this.pendingRows = Math.max(0, this.pendingRows - lines);
    }
    return total;
  }

  /** Flushes pending appends and closes the active segment (leaving it for the next replay). */
  /**
   * Sets rows aside that the database refused for their content (not replayed): one line per row,
   * `{ "error": …, "row": … }`, appended to `rejected.jsonl` in the journal directory and synced.
   */
  async reject(rows: DecisionInput[], error: string): Promise<void> {
    if (rows.length === 0) return;
    const fd = await fs.open(join(this.dir, REJECTED_FILE), 'a');
    try {
      await fd.write(`${rows.map((row) => JSON.stringify({ error, row })).join('\n')}\n`);
      await fd.datasync();
    } finally {
      await fd.close();
    }
  }

  async close(): Promise<void> {
    await this.rotate();
  }
}
