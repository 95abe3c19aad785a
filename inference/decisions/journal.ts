/**
 * The local journal of the decision log (and of the bandit reward log): append-only segment files of
 * lines, written in group commits — every append that arrives while a write is in flight joins the next
 * write, and each write ends with fdatasync — so a line whose append resolved is on disk.
 *
 * Two uses (R-… "no acknowledged decision silently lost", issue 19 item 4):
 * - spill (`--decision-durability async`): rows the database could not take go here and are replayed
 *   later; every segment is backlog.
 * - write-ahead (`--decision-durability journal`): every row is committed here before its answer is sent
 *   and then written to the database from memory; `confirm` counts the rows of a segment the database
 *   has, and a closed segment whose rows are all confirmed is deleted. While the database is down
 *   (`holdForReplay`), segments are backlog like spill segments.
 *
 * Ownership: segments are named after the writing *instance* — a random id per process start, never
 * the PID (a restarted container is PID 1 again, so a PID says nothing about who wrote a file). Each
 * instance keeps `owner-<instance>.json` (pid, host) in the directory and touches it every
 * `heartbeatMs`. A segment whose instance is not ours is orphaned — replayable — when its owner file
 * is gone, or names this host and a PID that is ours (a former life of this process's PID) or not
 * running, or has not been touched for `staleMs` (another host sharing the directory).
 *
 * Names, in `dir` (`<i>` an instance id, 16 hex digits):
 *   seg-<i>-<ms>-<n>.open.log         written by <i> (or closed and waiting for the database to confirm it)
 *   seg-<i>-<ms>-<n>.log              closed backlog, ready to replay by anyone
 *   seg-<i>-<ms>-<n>.replay-<j>.log   claimed by replayer <j> (rename is atomic: two processes sharing
 *                                     the directory never replay the same segment)
 * Each segment starts with a header line `#autopilot-journal v2 …` naming its instance, pid and host.
 * Replays are idempotent on the row's key (decision id), so a segment replayed twice writes each row once.
 *
 * Faults: after a failed write the segment is truncated back to its last good length, closed, made
 * backlog, and the group is written again to a new segment (once); only if that fails too is the
 * append refused. The directory is fsynced after a file is created or renamed. A line that cannot be
 * parsed on replay is reported through `onLost` (file and line number) — counted, never skipped
 * silently. `maxBytes` caps the bytes of all segments in the directory: an append that would pass it is
 * refused with a JournalFullError (the caller says what happens to its rows), reported once per episode.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DecisionInput } from '../../decision-log';

/** Rows the database refused for their content (see `reject`); never replayed, kept for a person to read. */
export const REJECTED_FILE = 'rejected.jsonl';

const SEG_RE = /^seg-([0-9a-f]{16})-(\d+)-(\d+)(?:\.(open|replay-([0-9a-f]{16})))?\.log$/;
/** Segments of the journal format before instance ids (JSON rows, PID-named): reported, not replayed. */
const LEGACY_RE = /^seg-\d+-\d+-\d+(\.open|\.replay-\d+)?\.jsonl$/;
const HEADER = '#autopilot-journal v2';

/** An append refused because the journal is at its size cap (`maxBytes`). */
export class JournalFullError extends Error {
  constructor(readonly dir: string, readonly bytes: number, readonly maxBytes: number) {
    super(`decision journal ${dir} is full: ${bytes} of ${maxBytes} bytes (--journal-max-bytes)`);
    this.name = 'JournalFullError';
  }
}

/** The file operations the journal uses: the seam for fault-injection tests (default: node:fs). */
export interface JournalIo {
  open(path: string, flags: string): Promise<Pick<fs.FileHandle, 'write' | 'datasync' | 'close' | 'truncate'>>;
}

const nodeIo: JournalIo = { open: (path, flags) => fs.open(path, flags) };

export interface JournalOptions {
  /** This process's instance id (default: random); tests set it to play a former instance. */
  instanceId?: string;
  /** Bytes all segments in the directory may hold (default: unbounded). */
  maxBytes?: number;
  /** Write-ahead use (journal durability): closed segments wait for `confirm` instead of being backlog. */
  writeAhead?: boolean;
  /** A write-ahead segment is closed past this size (default 8 MiB) or age (default 1 s), so confirmed ones can go. */
  segmentBytes?: number;
  segmentMs?: number;
  heartbeatMs?: number;
  staleMs?: number;
  io?: JournalIo;
  /** What was written in the segment's header `kind=` (decisions, rewards). */
  kind?: string;
  /** More of the header, e.g. `columns=…`: what a later version needs to read the lines (they are replayed by whatever version runs next). */
  header?: string;
  /** A line replay could not parse (torn by a crash, or corrupted): `file` and 1-based `line`. */
  onLost?: (file: string, line: number, reason: string) => void;
  /** Notable events (a failed write and its new segment, the cap reached or left, a legacy segment). */
  log?: (level: 'warn' | 'error', msg: string) => void;
}

/** One segment this instance wrote. */
export class Segment {
  rows = 0;
  confirmed = 0;
  bytes = 0;
  closed = false;
  /** Gone from our hands: deleted, renamed to backlog, or claimed by a replay. */
  released = false;
  constructor(
    readonly base: string,
    public backlog: boolean,
    readonly created: number,
  ) {}
}

interface Owner {
  pid: number;
  host: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fd = await fs.open(dir, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

async function countRows(path: string): Promise<number> {
  let n = 0;
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (line.length > 0 && line[0] !== '#') n++;
  return n;
}

export class DecisionJournal {
  readonly instanceId: string;
  private readonly io: JournalIo;
  private readonly maxBytes: number;
  private readonly host = hostname();
  private fd: Awaited<ReturnType<JournalIo['open']>> | null = null;
  private current: Segment | null = null;
  /** Closed write-ahead segments waiting for the database to confirm their rows. */
  private readonly waiting = new Set<Segment>();
  private seq = 0;
  private batch: string[] = [];
  private batchRows = 0;
  private batchDone: Promise<Segment> | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  private lastCommit: Promise<unknown> = Promise.resolve();
  private pendingRows = 0;
  private totalBytes = 0;
  private full = false;
  private heartbeat: NodeJS.Timeout | null = null;
  /** While true (the database is down), new write-ahead segments are backlog. */
  holdForReplay = false;
  /** Appends refused because the journal was full, in rows. */
  refusedFull = 0;

  constructor(
    readonly dir: string,
    private readonly opts: JournalOptions = {},
  ) {
    this.instanceId = opts.instanceId ?? randomBytes(8).toString('hex');
    if (!/^[0-9a-f]{16}$/.test(this.instanceId)) throw new Error(`journal instance id ${JSON.stringify(this.instanceId)}: expected 16 hex digits`);
    this.io = opts.io ?? nodeIo;
    this.maxBytes = opts.maxBytes ?? Infinity;
  }

  /** Backlog rows on disk not yet replayed (orphans counted at open, then tracked). */
  get pending(): number {
    return this.pendingRows;
  }

  /** Bytes of every segment in the directory (as this process knows them). */
  get bytes(): number {
    return this.totalBytes;
  }

  get isFull(): boolean {
    return this.full;
  }

  /** Creates the directory, registers this instance, and counts the rows and bytes left by earlier runs. */
  async open(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await fs.writeFile(join(this.dir, `owner-${this.instanceId}.json`), JSON.stringify({ pid: process.pid, host: this.host, started: new Date().toISOString() }));
    await fsyncDir(this.dir);
    const hb = this.opts.heartbeatMs ?? 2000;
    this.heartbeat = setInterval(() => {
      const now = new Date();
      fs.utimes(join(this.dir, `owner-${this.instanceId}.json`), now, now).catch((err) => this.opts.log?.('warn', `decision journal: cannot touch the owner file: ${(err as Error).message}`));
    }, hb);
    this.heartbeat.unref();
    const owners = new Map<string, boolean>();
    for (const name of await fs.readdir(this.dir)) {
      const path = join(this.dir, name);
      if (LEGACY_RE.test(name)) {
        this.opts.log?.('error', `decision journal: ${path} is a segment of the journal format before instance ids; this version does not replay it (its rows are not in the database: load it by hand)`);
        continue;
      }
      if (!SEG_RE.test(name)) continue;
      this.totalBytes += (await fs.stat(path)).size;
      if (await this.replayable(name, owners)) this.pendingRows += await countRows(path);
    }
  }

  /** Is `instance` (not ours) gone? Cached per pass in `owners`. */
  private async orphaned(instance: string, owners: Map<string, boolean>): Promise<boolean> {
    if (instance === this.instanceId) return false;
    const known = owners.get(instance);
    if (known !== undefined) return known;
    let dead: boolean;
    const file = join(this.dir, `owner-${instance}.json`);
    try {
      const [text, st] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file)]);
      const owner = JSON.parse(text) as Owner;
      if (owner.host === this.host && (owner.pid === process.pid || !alive(owner.pid))) dead = true;
      else dead = Date.now() - st.mtimeMs > (this.opts.staleMs ?? 10_000);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !(err instanceof SyntaxError)) throw err;
      dead = true; // no owner file (it closed cleanly, or never finished writing it): nobody owns the segment
    }
    owners.set(instance, dead);
    return dead;
  }

  private async replayable(name: string, owners: Map<string, boolean>): Promise<boolean> {
    const m = SEG_RE.exec(name);
    if (m === null) return false;
    if (m[4] === undefined) return true; // closed backlog
    if (m[4] === 'open') return this.orphaned(m[1], owners);
    return this.orphaned(m[5], owners); // claimed by a replayer that died
  }

  /**
   * Appends `rows` lines (`text`: each ending in a newline); resolves with the segment they went to
   * once they are written and synced (group commit with concurrent appends). Rejects with a
   * JournalFullError at the cap, or with the write error if the group could not be written twice.
   */
  append(text: string, rows: number): Promise<Segment> {
    const bytes = Buffer.byteLength(text);
    if (this.totalBytes + bytes > this.maxBytes) {
      this.refusedFull += rows;
      if (!this.full) {
        this.full = true;
        this.opts.log?.('error', `decision journal ${this.dir} reached its cap (--journal-max-bytes ${this.maxBytes}): ${this.totalBytes} bytes; rows that cannot go to the database now are refused until the backlog replays`);
      }
      return Promise.reject(new JournalFullError(this.dir, this.totalBytes, this.maxBytes));
    }
    this.totalBytes += bytes; // reserved now, so concurrent appends see the cap
    this.batch.push(text);
    this.batchRows += rows;
    if (this.batchDone === null) {
      const done = this.writing.then(() => this.writeBatch());
      this.batchDone = done;
      this.writing = done.catch(() => {
        // A failed group fails its own requests only: later ones (even those that append nothing) wait for what they append.
        if (this.lastCommit === done) this.lastCommit = Promise.resolve();
      });
      this.lastCommit = done;
    }
    return this.batchDone;
  }

  /** Settles when everything appended so far is on disk; rejects if its group could not be written. */
  committed(): Promise<unknown> {
    return this.lastCommit;
  }

  private async writeBatch(): Promise<Segment> {
    const text = this.batch.join('');
    const n = this.batchRows;
    this.batch = [];
    this.batchRows = 0;
    this.batchDone = null;
    const bytes = Buffer.byteLength(text);
    try {
      return await this.writeTo(text, n, bytes);
    } catch (first) {
      this.opts.log?.('error', `decision journal: write to ${this.current?.base ?? 'a new segment'} failed (${(first as Error).message}); closing it and writing ${n} rows to a new segment`);
      await this.abandonSegment();
      try {
        return await this.writeTo(text, n, bytes);
      } catch (second) {
        await this.abandonSegment();
        this.totalBytes -= bytes;
        throw second;
      }
    }
  }

  private async writeTo(text: string, n: number, bytes: number): Promise<Segment> {
    if (this.fd === null || this.current === null) await this.startSegment();
    const seg = this.current!;
    await this.fd!.write(text);
    await this.fd!.datasync();
    seg.rows += n;
    seg.bytes += bytes;
    if (seg.backlog) this.pendingRows += n;
    if (this.opts.writeAhead && (seg.bytes >= (this.opts.segmentBytes ?? 8 * 1024 * 1024) || Date.now() - seg.created >= (this.opts.segmentMs ?? 1000))) {
      await this.closeSegment();
    }
    return seg;
  }

  private async startSegment(): Promise<void> {
    const now = Date.now();
    const seg = new Segment(`seg-${this.instanceId}-${now}-${this.seq++}`, !this.opts.writeAhead || this.holdForReplay, now);
    const fd = await this.io.open(join(this.dir, `${seg.base}.open.log`), 'a');
    const header = `${HEADER} instance=${this.instanceId} pid=${process.pid} host=${this.host} kind=${this.opts.kind ?? 'decisions'} created=${new Date(now).toISOString()}${this.opts.header ? ` ${this.opts.header}` : ''}\n`;
    try {
      await fd.write(header);
      await fd.datasync();
      await fsyncDir(this.dir);
    } catch (err) {
      await fd.close().catch(() => undefined);
      await fs.unlink(join(this.dir, `${seg.base}.open.log`)).catch(() => undefined);
      throw err;
    }
    seg.bytes = Buffer.byteLength(header);
    this.totalBytes += seg.bytes;
    this.fd = fd;
    this.current = seg;
  }

  /** After a failed write: cut the segment back to its good length, close it and make it backlog. */
  private async abandonSegment(): Promise<void> {
    const fd = this.fd;
    const seg = this.current;
    this.fd = null;
    this.current = null;
    if (fd === null || seg === null) return;
    await fd.truncate(seg.bytes).catch((err: Error) => this.opts.log?.('error', `decision journal: cannot truncate ${seg.base} after a failed write (${err.message}); a torn line there will be counted lost on replay`));
    await fd.close().catch(() => undefined);
    seg.closed = true;
    if (seg.rows === 0) {
      await fs.unlink(join(this.dir, `${seg.base}.open.log`)).catch(() => undefined);
      seg.released = true;
      this.totalBytes -= seg.bytes;
      return;
    }
    if (!seg.backlog) this.pendingRows += seg.rows - seg.confirmed;
    seg.backlog = true;
    await this.release(seg, `${seg.base}.log`).catch((err: Error) => this.opts.log?.('error', `decision journal: cannot close ${seg.base}: ${err.message}`));
  }

  /** Renames our segment (closed) to `to` and fsyncs the directory; it is no longer ours. */
  private async release(seg: Segment, to: string): Promise<void> {
    seg.released = true;
    this.waiting.delete(seg);
    await fs.rename(join(this.dir, `${seg.base}.open.log`), join(this.dir, to));
    await fsyncDir(this.dir);
  }

  /** Closes the active segment (after pending writes): backlog becomes replayable; write-ahead waits for `confirm`. */
  rotate(): Promise<void> {
    const done = this.writing.then(() => this.closeSegment());
    this.writing = done.catch(() => undefined);
    return done;
  }

  private async closeSegment(): Promise<void> {
    const fd = this.fd;
    const seg = this.current;
    if (fd === null || seg === null) return;
    this.fd = null;
    this.current = null;
    await fd.close();
    seg.closed = true;
    if (seg.backlog) await this.release(seg, `${seg.base}.log`);
    else if (seg.confirmed >= seg.rows) await this.drop(seg);
    else this.waiting.add(seg);
  }

  private async drop(seg: Segment): Promise<void> {
    seg.released = true;
    this.waiting.delete(seg);
    this.totalBytes -= seg.bytes;
    this.leaveFull();
    await fs.unlink(join(this.dir, `${seg.base}.open.log`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') this.opts.log?.('warn', `decision journal: cannot delete confirmed segment ${seg.base}: ${err.message}`);
    });
  }

  private leaveFull(): void {
    if (this.full && this.totalBytes < this.maxBytes * 0.9) {
      this.full = false;
      this.opts.log?.('warn', `decision journal ${this.dir} is below its cap again (${this.totalBytes} of ${this.maxBytes} bytes)`);
    }
  }

  /** Write-ahead: `n` rows of `seg` are in the database; a closed segment all confirmed is deleted. */
  confirm(seg: Segment, n: number): void {
    seg.confirmed += n;
    if (seg.closed && !seg.released && !seg.backlog && seg.confirmed >= seg.rows) void this.drop(seg);
  }

  /**
   * Write-ahead, the database is down: every segment waiting for confirmation, and the active one,
   * become backlog (replayed when the database is back), and so do new ones until `holdForReplay` is
   * cleared.
   */
  async toBacklog(): Promise<void> {
    this.holdForReplay = true;
    if (this.current !== null && !this.current.backlog) {
      this.current.backlog = true;
      this.pendingRows += this.current.rows - this.current.confirmed;
    }
    for (const seg of [...this.waiting]) {
      seg.backlog = true;
      this.pendingRows += seg.rows - seg.confirmed;
      await this.release(seg, `${seg.base}.log`);
    }
  }

  /**
   * Replays every closed (or orphaned) segment through `insert`, `batchSize` lines at a time (each line
   * without its newline), deleting each segment once all its rows are in; `parse` returns false for a
   * line that is not a row (reported through `onLost`, not inserted). Stops at the first failed
   * insert (the segment stays claimed by this instance and is retried by the next replay). Returns the
   * rows handed to `insert` and the lines lost.
   */
  async replay(insert: (lines: string[]) => Promise<unknown>, batchSize: number, parse: (line: string) => string | null): Promise<{ rows: number; lost: number }> {
    await this.rotate();
    let rows = 0;
    let lost = 0;
    const owners = new Map<string, boolean>();
    for (const name of (await fs.readdir(this.dir)).sort()) {
      const m = SEG_RE.exec(name);
      if (m === null) continue;
      let claimed: string;
      if (m[5] === this.instanceId) claimed = join(this.dir, name);
      else if (await this.replayable(name, owners)) {
        claimed = join(this.dir, `seg-${m[1]}-${m[2]}-${m[3]}.replay-${this.instanceId}.log`);
        try {
          await fs.rename(join(this.dir, name), claimed);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // another process took it
          throw err;
        }
        await fsyncDir(this.dir);
        // Counted at open if it was orphaned then; one orphaned since (or another process's backlog) is new to us.
      } else continue;
      const size = (await fs.stat(claimed)).size;
      let batch: string[] = [];
      let lineNo = 0;
      let segRows = 0;
      const rl = createInterface({ input: createReadStream(claimed), crlfDelay: Infinity });
      for await (const line of rl) {
        lineNo++;
        if (line.length === 0 || line[0] === '#') continue;
        segRows++;
        const problem = parse(line);
        if (problem !== null) {
          lost++;
          this.opts.onLost?.(claimed, lineNo, problem);
          continue;
        }
        batch.push(line);
        if (batch.length >= batchSize) {
          await insert(batch);
          rows += batch.length;
          batch = [];
        }
      }
      if (batch.length > 0) {
        await insert(batch);
        rows += batch.length;
      }
      await fs.unlink(claimed);
      this.totalBytes = Math.max(0, this.totalBytes - size);
      this.pendingRows = Math.max(0, this.pendingRows - segRows);
      this.leaveFull();
    }
    await this.forgetDeadOwners(owners);
    return { rows, lost };
  }

  /**
   * The lines (without newline) of every segment in the directory — any instance's, open, backlog or
   * being replayed — whose first `idLength` characters are one of `ids` (a decision line starts with
   * its id). Reads the segments whole: for rare look-ups (a reward of a decision not in the database
   * yet), not for the hot path. A segment renamed while it is looked for (closed, or claimed by a
   * replay) is read under its new name; one deleted meanwhile has all its rows in the database.
   */
  async find(ids: ReadonlySet<string>, idLength = 36): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    const read = new Set<string>();
    for (let pass = 0; pass < 3 && found.size < ids.size; pass++) {
      let renamed = false;
      for (const name of (await fs.readdir(this.dir)).sort()) {
        const m = SEG_RE.exec(name);
        if (m === null) continue;
        const base = `seg-${m[1]}-${m[2]}-${m[3]}`;
        if (read.has(base)) continue;
        let text: string;
        try {
          text = await fs.readFile(join(this.dir, name), 'utf8');
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          renamed = true;
          continue;
        }
        read.add(base);
        for (let at = 0; at < text.length; ) {
          let end = text.indexOf('\n', at);
          if (end === -1) end = text.length;
          if (end - at > idLength && text[at] !== '#') {
            const id = text.slice(at, at + idLength);
            if (ids.has(id) && !found.has(id)) found.set(id, text.slice(at, end));
          }
          at = end + 1;
        }
        if (found.size === ids.size) return found;
      }
      if (!renamed) break;
    }
    return found;
  }

  /** Deletes the owner files of instances found dead whose segments have all been replayed. */
  private async forgetDeadOwners(owners: Map<string, boolean>): Promise<void> {
    const names = await fs.readdir(this.dir);
    const withSegments = new Set(names.map((n) => SEG_RE.exec(n)?.[1]).filter((i) => i !== undefined));
    for (const [instance, dead] of owners) {
      if (dead && !withSegments.has(instance)) await fs.unlink(join(this.dir, `owner-${instance}.json`)).catch(() => undefined);
    }
  }

  /**
   * Sets rows aside that the database refused for their content (not replayed): one line per row,
   * `{ "error": …, "row": … }`, appended to `rejected.jsonl` in the journal directory and synced.
   */
  async reject(rows: DecisionInput[] | unknown[], error: string): Promise<void> {
    if (rows.length === 0) return;
    const fd = await fs.open(join(this.dir, REJECTED_FILE), 'a');
    try {
      await fd.write(`${rows.map((row) => JSON.stringify({ error, row })).join('\n')}\n`);
      await fd.datasync();
    } finally {
      await fd.close();
    }
  }

  /**
   * Flushes pending appends, closes the active segment (what is not confirmed is left as backlog for
   * the next process) and gives up ownership.
   */
  async close(): Promise<void> {
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    this.heartbeat = null;
    await this.rotate();
    for (const seg of [...this.waiting]) {
      if (seg.confirmed >= seg.rows) await this.drop(seg);
      else await this.release(seg, `${seg.base}.log`);
    }
    await fs.unlink(join(this.dir, `owner-${this.instanceId}.json`)).catch(() => undefined);
  }
}
