/**
 * The state of one online model (FTRL's z and n, or AdaGrad's w and G, per hashed coordinate) shared by
 * every server instance through Redis, with no lost update and no stale read-modify-write:
 *
 * - every server holds a copy of the state at its `seq` (labels learnt). To learn a batch it computes the
 *   exact per-example FTRL-Proximal / AdaGrad updates of the rows, in order, on a scratch copy of the
 *   coordinates they touch (./delta.ts: ml/online's learner itself, so the same arithmetic), then commits
 *   the touched coordinates' new records with COMMIT_SCRIPT: "if seq is still S, log them and bump seq by
 *   the rows; else answer the current seq and the log entries after S" (optimistic concurrency on `seq`).
 *   On a conflict (another server committed since S) the server applies those entries and recomputes on
 *   the new state; after MAX_COMMIT_ATTEMPTS conflicts in a row the labels fail with CommitContentionError
 *   naming the deployment (the HTTP request answers 503; nothing of it was learnt). Redis runs scripts one
 *   at a time, so the shared model is exactly the sequential learner over the labels in commit order,
 *   whoever sent them. Why not HINCRBYFLOAT of increments computed on each server (the bandits' way):
 *   FTRL's z-increment g − σ·w depends on the current z and n, so increments computed from a stale copy
 *   would be applied to a state they were not computed for (nothing lost, but not FTRL any more).
 * - a commit is one log entry `<seq after>-1 { b: seq before, d: the touched coordinates' records }` in the
 *   stream `online:log:<stateKey>`; a record is 20 bytes, struct `<Idd` (uint32 index, the two doubles,
 *   little-endian: doubles round-trip exactly). Redis does no per-coordinate work for a commit.
 * - the hash `online:state:<stateKey>` holds a checkpoint: field `<i>` → the `<Idd` record of coordinate i
 *   at seq `ckpt`, and `seq` (labels committed). When CHECKPOINT_LABELS labels were committed since `ckpt`,
 *   or CHECKPOINT_TICKS checks (one a second by default) found it behind, one server (a Redis lease) writes
 *   the records of the coordinates touched since its last checkpoint, from its copy at its seq S > ckpt,
 *   and moves `ckpt` to S, in one script; it then trims the log to the entries after the PREVIOUS
 *   checkpoint (entries after `ckpt` are never trimmed: the checkpoint plus the log after it is the state).
 *   A checkpoint costs Redis about a microsecond per coordinate written: writing every CHECKPOINT_LABELS
 *   labels (or every ~30 s when fewer come) keeps that a small share of a label's cost while the log
 *   stays bounded (about two checkpoints' worth of entries).
 * - every server applies its own commits at once and tails the log every `refreshIntervalMs`, applying the
 *   entries after its `seq` in order; one whose position fell out of the log (or a fresh start) reloads:
 *   the hash and the log in one MULTI, then the entries after `ckpt`.
 *
 * A hash without `ckpt` (written by INIT_SCRIPT, or by the earlier format that wrote every record at
 * every commit) has its records at `seq`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateArrays, type OnlineModelConfig, type OnlineModelLearner, type OnlineSnapshot, type SparseBatch } from '../../ml/online';
import { RECORD_BYTES, ScratchDelta } from './delta';

export { RECORD_BYTES } from './delta';

/** How often each server checks whether the checkpoint is due. */
export const CHECKPOINT_MS = 1000;
/** A checkpoint is due when this many labels were committed since the last one… */
export const CHECKPOINT_LABELS = 50_000;
/** …or when this many checks in a row found it behind the state. */
export const CHECKPOINT_TICKS = 30;

export function onlineStateKey(stateKey: string): string {
  return `online:state:${stateKey}`;
}
export function onlineLogKey(stateKey: string): string {
  return `online:log:${stateKey}`;
}

/** Log entries a conflict answer carries (the rest, if any, are read by a refresh). */
const CONFLICT_ENTRIES = 16;

// KEYS: state hash, log stream. ARGV: S (the seq the records were computed at), rows, the touched coordinates'
// records concatenated (`<Idd` each). Returns { 1, seq after } when committed; { 0, current seq, the log
// entries after S } when the state is no longer at S (nothing written). No arithmetic here.
export const COMMIT_SCRIPT = `
local S, rows, d = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local cur = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
if cur ~= S then return { 0, cur, redis.call('XRANGE', KEYS[2], (S + 1) .. '-0', '+', 'COUNT', ${CONFLICT_ENTRIES}) } end
if not (rows and rows >= 1) or #d % ${RECORD_BYTES} ~= 0 then
  return redis.error_reply('a commit of ' .. tostring(ARGV[2]) .. ' rows with ' .. #d .. ' bytes of records (expected rows >= 1 and a multiple of ${RECORD_BYTES} bytes)')
end
redis.call('HSETNX', KEYS[1], 'ckpt', S)
local after = redis.call('HINCRBY', KEYS[1], 'seq', rows)
redis.call('XADD', KEYS[2], after .. '-1', 'b', S, 'd', d)
return { 1, after }`;

// KEYS: state hash, log stream. ARGV: S, the records at S of (at least) every coordinate touched since the
// checkpoint. Writes them and moves ckpt to S when ckpt < S <= seq; trims the log to the entries after the
// previous checkpoint. Returns { 1 or 0 (refused), the checkpoint before }.
const CHECKPOINT_SCRIPT = `
local S, d = tonumber(ARGV[1]), ARGV[2]
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local c = tonumber(redis.call('HGET', KEYS[1], 'ckpt') or seq)
if c >= S or S > seq then return { 0, c } end
if #d % ${RECORD_BYTES} ~= 0 then return redis.error_reply('a checkpoint of ' .. #d .. ' bytes of records (expected a multiple of ${RECORD_BYTES})') end
local sunpack, sub, tostr = struct.unpack, string.sub, tostring
local args, na = {}, 0
for o = 1, #d, ${RECORD_BYTES} do
  args[na + 1] = tostr((sunpack('<I', d, o)))
  args[na + 2] = sub(d, o, o + ${RECORD_BYTES - 1})
  na = na + 2
  if na >= 2000 then redis.call('HSET', KEYS[1], unpack(args, 1, na)); na = 0 end
end
if na > 0 then redis.call('HSET', KEYS[1], unpack(args, 1, na)) end
redis.call('HSET', KEYS[1], 'ckpt', S)
redis.call('XTRIM', KEYS[2], 'MINID', '~', c + 1)
return { 1, c }`;

// KEYS: state hash. ARGV: seq, then field/record pairs. Writes a snapshot's state only into an EMPTY hash.
const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for c = 2, #ARGV, 1000 do redis.call('HSET', KEYS[1], unpack(ARGV, c, math.min(c + 999, #ARGV))) end
redis.call('HSET', KEYS[1], 'seq', ARGV[1], 'ckpt', ARGV[1])
return 1`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
export const COMMIT_SHA = sha1(COMMIT_SCRIPT);
const INIT_SHA = sha1(INIT_SCRIPT);
const CHECKPOINT_SHA = sha1(CHECKPOINT_SCRIPT);

/**
 * Most rows one commit carries: queued batches are merged up to it (a batch larger than it goes alone). Bounds
 * how much one conflict recomputes and the size of one log entry.
 */
export const MAX_COMMIT_ROWS = 2000;
/** Commits of one batch overtaken by other servers' in a row before its labels fail (see the file comment). */
export const MAX_COMMIT_ATTEMPTS = 50;

/** A batch's commit was overtaken by other servers' commits `attempts` times in a row: nothing of it was learnt. */
export class CommitContentionError extends Error {
  constructor(
    readonly deployment: string | null,
    readonly key: string,
    readonly rows: number,
    readonly attempts: number,
    readonly computedAt: number,
    readonly stateAt: number,
  ) {
    super(
      `${deployment === null ? '' : `deployment ${JSON.stringify(deployment)}: `}${rows} label(s) not learnt: ${attempts} commits in a row into ${key} were overtaken by other servers' commits (the last computed at seq ${computedAt}, the state was then at ${stateAt}); retry`,
    );
    this.name = 'CommitContentionError';
  }
}

/** Labels to learn: rows in CSR form (ml/online's SparseBatch), indices already hashed into the model's coordinates. */
export type LabelRows = SparseBatch;

interface QueuedLabels {
  rows: LabelRows;
  resolve: (r: { seqBefore: number; seq: number }) => void;
  reject: (err: Error) => void;
}

export interface SharedOnlineStateOptions {
  redis: Redis;
  config: OnlineModelConfig;
  learner: OnlineModelLearner;
  /** Named in errors (the deployment served from this state). */
  deployment?: string;
  refreshIntervalMs?: number;
  /** How often this server checks whether a checkpoint is due (default CHECKPOINT_MS). */
  checkpointIntervalMs?: number;
  /** Conflicts in a row before a batch fails (default MAX_COMMIT_ATTEMPTS). */
  maxCommitAttempts?: number;
  onError?: (msg: string) => void;
}

type LogEntry = [Buffer, Buffer[]];

/** Coordinates touched since a point, each once (a flag per coordinate and their list). */
class TouchedSet {
  readonly flag: Uint8Array;
  list = new Int32Array(1024);
  count = 0;
  constructor(size: number) {
    this.flag = new Uint8Array(size);
  }
  add(i: number): void {
    if (this.flag[i] !== 0) return;
    this.flag[i] = 1;
    if (this.count === this.list.length) {
      const l = new Int32Array(2 * this.list.length);
      l.set(this.list);
      this.list = l;
    }
    this.list[this.count++] = i;
  }
  clear(): void {
    for (let k = 0; k < this.count; k++) this.flag[this.list[k]] = 0;
    this.count = 0;
  }
}

export class SharedOnlineState {
  readonly key: string;
  readonly logKey: string;
  /** Labels applied to the local copy. */
  seq = -1;
  private timer: NodeJS.Timeout | null = null;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  fullReloads = 0;
  /** Commits that went through. */
  commits = 0;
  /** Commit attempts refused because another server had committed first (each recomputed and retried). */
  conflicts = 0;
  /** Checkpoints this server wrote. */
  checkpoints = 0;
  private queue: QueuedLabels[] = [];
  private sending = false;
  private closed = false;
  /** Set when the shared state went behind the local copy: the next refresh reloads it. */
  private mustReload = false;
  private readonly delta: ScratchDelta;
  /** Coordinates changed since this server's last checkpoint (or its reload): what its next checkpoint writes. */
  private touched: TouchedSet;
  /** The set a checkpoint in flight is writing (merged back into `touched` when it fails). */
  private writing: TouchedSet | null = null;
  /** An empty set kept for the next checkpoint (one flag per coordinate: not reallocated each time). */
  private spare: TouchedSet | null = null;
  private readonly instance = randomUUID();

  constructor(private readonly opts: SharedOnlineStateOptions) {
    this.key = onlineStateKey(opts.config.stateKey);
    this.logKey = onlineLogKey(opts.config.stateKey);
    this.delta = new ScratchDelta(opts.config);
    this.touched = new TouchedSet(opts.learner.size);
  }

  get learner(): OnlineModelLearner {
    return this.opts.learner;
  }

  /** EVALSHA (EVAL on NOSCRIPT); bulk replies as Buffers. */
  private evalsha(sha: string, script: string, keys: string[], args: (string | number | Buffer)[]): Promise<unknown> {
    // ioredis has a Buffer-reply variant of every command; its types list evalsha's only through defineCommand.
    const r = this.opts.redis as unknown as Record<'evalshaBuffer' | 'evalBuffer', (...a: (string | number | Buffer)[]) => Promise<unknown>>;
    return r.evalshaBuffer(sha, keys.length, ...keys, ...args).catch((err: Error) => {
      if (!/NOSCRIPT/.test(err.message)) throw err;
      return r.evalBuffer(script, keys.length, ...keys, ...args);
    });
  }

  /** Writes a snapshot's state into Redis when the state there is empty; true when it did. */
  async initFrom(s: OnlineSnapshot): Promise<boolean> {
    const args: (string | number | Buffer)[] = [s.seq];
    for (let k = 0; k < s.index.length; k++) {
      const rec = Buffer.allocUnsafe(RECORD_BYTES);
      rec.writeUInt32LE(s.index[k], 0);
      rec.writeDoubleLE(s.a[k], 4);
      rec.writeDoubleLE(s.b[k], 12);
      args.push(String(s.index[k]), rec);
    }
    return (await this.evalsha(INIT_SHA, INIT_SCRIPT, [this.key], args)) === 1;
  }

  /** Reads the shared state, then keeps tailing its log and checkpointing it. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err) => {
        if (!this.closed) this.opts.onError?.(`refresh of ${this.key} failed: ${(err as Error).message}`);
      });
    }, this.opts.refreshIntervalMs ?? 200);
    this.timer.unref();
    const every = this.opts.checkpointIntervalMs ?? CHECKPOINT_MS;
    this.checkpointTimer = setInterval(() => {
      this.checkpointTick(every).catch((err) => {
        if (!this.closed) this.opts.onError?.(`checkpoint of ${this.key} failed: ${(err as Error).message}`);
      });
    }, every);
    this.checkpointTimer.unref();
  }

  /**
   * Learns `rows` into the shared state; the local copy has the result when this resolves. Batches that
   * arrive while a commit is in flight are committed together as the next one (in arrival order, at most
   * MAX_COMMIT_ROWS rows): one commit per Redis round trip whatever the number of requests. Resolves with
   * the seq before this batch's first row and after its last; rejects (nothing of the batch learnt) when
   * Redis fails or the commit was overtaken MAX_COMMIT_ATTEMPTS times in a row.
   */
  learn(rows: LabelRows): Promise<{ seqBefore: number; seq: number }> {
    if (this.closed) return Promise.reject(new Error(`online state ${this.key} is closed`));
    if (!(rows.rows >= 1)) return Promise.reject(new Error(`a batch of ${rows.rows} rows; expected at least 1`));
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      if (!this.sending) {
        this.sending = true;
        setImmediate(() => void this.sendLoop());
      }
    });
  }

  private async sendLoop(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const take: QueuedLabels[] = [];
        let n = 0;
        while (this.queue.length > 0 && (take.length === 0 || n + this.queue[0].rows.rows <= MAX_COMMIT_ROWS)) {
          const q = this.queue.shift()!;
          take.push(q);
          n += q.rows.rows;
        }
        try {
          let at = await this.commit(
            take.map((q) => q.rows),
            n,
          );
          for (const q of take) {
            const before = at;
            at += q.rows.rows;
            q.resolve({ seqBefore: before, seq: at });
          }
        } catch (err) {
          for (const q of take) q.reject(err as Error);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  /** Commits `batches` (n rows) learnt on the local copy, recomputing after each conflict; returns the seq before them. */
  private async commit(batches: LabelRows[], n: number): Promise<number> {
    const max = this.opts.maxCommitAttempts ?? MAX_COMMIT_ATTEMPTS;
    let S = this.seq;
    let cur = S;
    for (let attempt = 1; attempt <= max; attempt++) {
      if (this.seq < 0 || this.mustReload) await this.refresh();
      S = this.seq;
      // Synchronous from here to the send: the local copy is the state at S while the records are computed.
      const d = this.delta.compute(this.opts.learner, batches);
      const reply = (await this.evalsha(COMMIT_SHA, COMMIT_SCRIPT, [this.key, this.logKey], [S, n, d])) as [number, number, LogEntry[]?];
      cur = Number(reply[1]);
      if (Number(reply[0]) === 1) {
        this.commits++;
        if (this.seq === S) {
          this.apply(d);
          this.seq = cur;
        } else if (this.seq < cur) {
          await this.refresh(); // a reload meanwhile read a state before this commit; the log has it
        } // else the log's entry of this commit was applied already (it is the one after S)
        return S;
      }
      this.conflicts++;
      if (cur < S) {
        this.opts.onError?.(`${this.key} is at seq ${cur}, behind this server's copy at ${S} (deleted or replaced?); reloading it`);
        this.mustReload = true;
      } else if (this.seq === S) {
        this.applyEntries(reply[2] ?? []);
      }
      // A refresh in flight may have read the log before the commits that overtook us: then one more.
      for (let i = 0; i < 3 && (this.seq < cur || this.mustReload); i++) await this.refresh();
    }
    throw new CommitContentionError(this.opts.deployment ?? null, this.key, n, max, S, cur);
  }

  /** Applies concatenated `<Idd` records and notes their coordinates for the next checkpoint. */
  private apply(d: Buffer): void {
    const [A, B] = stateArrays(this.opts.learner);
    if (d.length % RECORD_BYTES !== 0) throw new Error(`${this.key}: a log record block of ${d.length} bytes (expected a multiple of ${RECORD_BYTES})`);
    const touched = this.touched;
    const view = new DataView(d.buffer, d.byteOffset, d.length);
    const size = A.length;
    for (let o = 0; o < d.length; o += RECORD_BYTES) {
      const i = view.getUint32(o, true);
      if (i >= size) throw new Error(`${this.key}: a log record of coordinate ${i}; this model has 2^${this.opts.config.bits} coordinates (the state key is shared with another config?)`);
      A[i] = view.getFloat64(o + 4, true);
      B[i] = view.getFloat64(o + 12, true);
      touched.add(i);
    }
  }

  /**
   * Applies the log entries that follow the local seq, in order; returns false at a gap (an entry after the
   * local seq whose `b` is not it: our position fell out of the log).
   */
  private applyEntries(entries: LogEntry[]): boolean {
    for (const [idBuf, fields] of entries) {
      const id = idBuf.toString();
      const after = Number(id.slice(0, id.indexOf('-')));
      if (after <= this.seq) continue; // applied already (our own commit, or a trimmed-late entry before a checkpoint)
      let before = -1;
      let d: Buffer = Buffer.alloc(0);
      for (let k = 0; k < fields.length; k += 2) {
        const name = fields[k].toString();
        if (name === 'b') before = Number(fields[k + 1].toString());
        else if (name === 'd') d = fields[k + 1];
      }
      if (before !== this.seq) return false;
      this.apply(d);
      this.seq = after;
    }
    return true;
  }

  /** Applies the log entries after the local seq, in order (serialised); a gap or a fresh start reloads. */
  refresh(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    this.refreshing = this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.seq < 0 || this.mustReload) return this.reload();
    for (;;) {
      const entries = (await this.opts.redis.xrangeBuffer(this.logKey, `${this.seq + 1}-0`, '+', 'COUNT', 500)) as unknown as LogEntry[];
      if (entries.length === 0) {
        // Nothing logged after us. The hash can still be ahead: a snapshot written into an empty state (no
        // log entry), or a log trimmed away. A label committed between the two reads shows in the log.
        const raw = await this.opts.redis.hget(this.key, 'seq');
        if (raw === null || Number(raw) <= this.seq) return;
        const again = await this.opts.redis.xrange(this.logKey, `${this.seq + 1}-0`, '+', 'COUNT', 1);
        if (again.length === 0) return this.reload();
        continue;
      }
      if (!this.applyEntries(entries)) return this.reload(); // our position fell out of the log
      if (entries.length < 500) return;
    }
  }

  /** The checkpoint (the hash) and the log after it, read in one MULTI: the state at the log's last entry. */
  private async reload(): Promise<void> {
    const res = await this.opts.redis.multi().hgetallBuffer(this.key).xrangeBuffer(this.logKey, '-', '+').exec();
    if (res === null) throw new Error(`reading ${this.key} and its log: the transaction was aborted`);
    for (const [err] of res) if (err) throw err;
    const fields = res[0][1] as Record<string, Buffer>;
    const entries = res[1][1] as unknown as LogEntry[];
    const [A, B] = stateArrays(this.opts.learner);
    A.fill(0);
    B.fill(0);
    let seq = 0;
    let ckpt = -1;
    for (const name in fields) {
      const v = fields[name];
      if (name === 'seq') {
        seq = Number(v.toString());
        continue;
      }
      if (name === 'ckpt') {
        ckpt = Number(v.toString());
        continue;
      }
      const i = v.length === RECORD_BYTES ? v.readUInt32LE(0) : -1;
      if (!(i >= 0 && i < A.length) || String(i) !== name) throw new Error(`${this.key} field ${name} is not a coordinate record of this model's 2^${this.opts.config.bits} coordinates (the state key is shared with another config?)`);
      A[i] = v.readDoubleLE(4);
      B[i] = v.readDoubleLE(12);
    }
    this.touched.clear();
    this.seq = ckpt < 0 ? seq : ckpt;
    this.mustReload = false;
    this.fullReloads++;
    if (!this.applyEntries(entries) || this.seq < seq) {
      throw new Error(`${this.key}: its checkpoint is at seq ${this.seq} and its log does not hold every commit from there to seq ${seq} (was the log trimmed or deleted by hand?); this state cannot be read back`);
    }
  }

  /** Checks found the checkpoint behind the state, in a row. */
  private behindTicks = 0;

  /** When a checkpoint is due (see the file comment), takes the checkpoint lease for `every` ms and, when won, checkpoints. */
  private async checkpointTick(every: number): Promise<void> {
    if (this.closed || this.writing !== null || this.seq <= 0 || this.touched.count === 0) return;
    const raw = await this.opts.redis.hget(this.key, 'ckpt');
    const ckpt = raw === null ? 0 : Number(raw);
    if (ckpt >= this.seq) {
      this.behindTicks = 0;
      return;
    }
    this.behindTicks++;
    if (this.seq - ckpt < CHECKPOINT_LABELS && this.behindTicks < CHECKPOINT_TICKS) return;
    const won = await this.opts.redis.set(`online:checkpoint-lease:${this.opts.config.stateKey}`, this.instance, 'PX', Math.max(100, every - 50), 'NX');
    if (won !== 'OK') return;
    this.behindTicks = 0;
    await this.checkpoint();
  }

  /**
   * Writes the records of the coordinates changed since this server's last checkpoint, at its seq, into the
   * hash and moves `ckpt` there (when the hash's checkpoint is older). True when it did.
   */
  async checkpoint(): Promise<boolean> {
    if (this.writing !== null || this.seq <= 0) return false;
    const S = this.seq;
    const set = this.touched;
    this.writing = set;
    this.touched = this.spare ?? new TouchedSet(this.opts.learner.size);
    this.spare = null;
    const [A, B] = stateArrays(this.opts.learner);
    const d = Buffer.allocUnsafe(set.count * RECORD_BYTES);
    const view = new DataView(d.buffer, d.byteOffset, d.length);
    for (let k = 0, o = 0; k < set.count; k++, o += RECORD_BYTES) {
      const i = set.list[k];
      view.setUint32(o, i, true);
      view.setFloat64(o + 4, A[i], true);
      view.setFloat64(o + 12, B[i], true);
    }
    try {
      const reply = (await this.evalsha(CHECKPOINT_SHA, CHECKPOINT_SCRIPT, [this.key, this.logKey], [S, d])) as [number, number];
      // Written, or refused because the checkpoint is at S or later already: either way these coordinates' changes
      // up to S are in the hash.
      if (Number(reply[0]) === 1) this.checkpoints++;
      return Number(reply[0]) === 1;
    } catch (err) {
      for (let k = 0; k < set.count; k++) this.touched.add(set.list[k]);
      throw err;
    } finally {
      set.clear();
      this.spare = set;
      this.writing = null;
    }
  }

  /** Stops tailing the log; returns once a refresh in flight has ended. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.checkpointTimer) clearInterval(this.checkpointTimer);
    this.timer = null;
    this.checkpointTimer = null;
    // Labels accepted before close are still learnt (their requests wait for it).
    while (this.sending) await new Promise((r) => setTimeout(r, 2));
    this.closed = true;
    await this.refreshing?.catch(() => undefined);
  }
}
