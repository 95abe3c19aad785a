/**
 * The state of one online model (FTRL's z and n, or AdaGrad's w and G, per hashed coordinate) shared by
 * every server instance through Redis, with no lost update and no stale read-modify-write:
 *
 * - labels are learnt INSIDE Redis by one Lua script per batch (LEARN_SCRIPT): it reads the touched
 *   coordinates, runs the per-example FTRL-Proximal / AdaGrad update of ml/online over the rows in order,
 *   writes the coordinates back and bumps `seq`, atomically. Redis runs scripts one at a time, so the
 *   shared model is exactly the sequential learner over the labels in the order Redis applied them, whoever
 *   sent them. Why not HINCRBYFLOAT of increments computed on each server (the bandits' way): FTRL's
 *   z-increment g − σ·w depends on the current z and n, so increments computed from a server's stale copy
 *   would be applied to a state they were not computed for (nothing lost, but not FTRL any more). The cost
 *   is Redis CPU per coordinate (bench/online-learners.ts measures it).
 * - a coordinate is ONE hash field, its index, whose value is 20 bytes: struct `<Idd` (uint32 index, the two
 *   doubles, little-endian). Binary doubles round-trip exactly and cost Lua no number formatting (creating a
 *   string per number was most of the script's time).
 * - every batch appends one entry `<seq>-1 { b: seq before, d: the touched coordinates' records, concatenated }`
 *   to the stream `online:log:<stateKey>` (capped at ~LOG_LENGTH entries). The server that sent the batch
 *   applies the reply at once; every server tails the stream every `refreshIntervalMs` and applies the
 *   entries after its `seq` in order; one whose position fell out of the stream (or a fresh start) reloads the
 *   whole hash (HGETALL: the state at one seq).
 *
 * Hash `online:state:<stateKey>`: field `<i>` → `<Idd` record per coordinate, and `seq` (labels learnt).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateArrays, type OnlineModelConfig, type OnlineModelLearner, type OnlineSnapshot } from '../../ml/online';

export const LOG_LENGTH = 10_000;
/** Bytes of one coordinate's record: uint32 index, two float64. */
export const RECORD_BYTES = 20;

export function onlineStateKey(stateKey: string): string {
  return `online:state:${stateKey}`;
}
export function onlineLogKey(stateKey: string): string {
  return `online:log:${stateKey}`;
}

// KEYS: state hash, log stream. ARGV: algorithm, loss, p1..p4 (ftrl: α β λ1 λ2; adagrad: η λ2 0 0), rows, and
// the rows as ONE binary string (per row: float64 y, uint32 k, then k × (uint32 index, float64 value), little-endian;
// one argument instead of 2 + 2k per row: Redis and Lua then create no string per number). Same arithmetic, in
// the same order, as ml/online/ftrl.ts and adagrad.ts.
export const LEARN_SCRIPT = `
local alg, loss = ARGV[1], ARGV[2]
local p1, p2, p3, p4 = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local rows = tonumber(ARGV[7])
local blob = ARGV[8]
local sqrt, exp, pack, sunpack = math.sqrt, math.exp, struct.pack, struct.unpack
local pos = 1
local Y, K, IX, VX, uniq, seen = {}, {}, {}, {}, {}, {}
local nu = 0
for r = 1, rows do
  local y, k
  y, k, pos = sunpack('<dI', blob, pos)
  local ix, vx = {}, {}
  for j = 1, k do
    local i, v
    i, v, pos = sunpack('<Id', blob, pos)
    ix[j] = i
    vx[j] = v
    if not seen[i] then seen[i] = true; nu = nu + 1; uniq[nu] = i end
  end
  Y[r], K[r], IX[r], VX[r] = y, k, ix, vx
end
if pos ~= #blob + 1 then return redis.error_reply('rows blob of ' .. #blob .. ' bytes does not hold ' .. rows .. ' rows') end
local A, B, names = {}, {}, {}
for j = 1, nu do names[j] = tostring(uniq[j]) end
for c = 1, nu, 1000 do
  local last = math.min(c + 999, nu)
  local vals = redis.call('HMGET', KEYS[1], unpack(names, c, last))
  for j = c, last do
    local v = vals[j - c + 1]
    local i = uniq[j]
    if v then
      local _, a, b = sunpack('<Idd', v)
      A[i], B[i] = a, b
    else
      A[i], B[i] = 0, 0
    end
  end
end
local w = {}
for r = 1, rows do
  local ix, vx, k = IX[r], VX[r], K[r]
  local m = 0
  for j = 1, k do
    local i = ix[j]
    local wi = 0
    if alg == 'ftrl' then
      local z = A[i]
      if z > p3 then wi = -(z - p3) / ((p2 + sqrt(B[i])) / p1 + p4)
      elseif z < -p3 then wi = -(z + p3) / ((p2 + sqrt(B[i])) / p1 + p4) end
    else
      wi = A[i]
    end
    w[j] = wi
    m = m + wi * vx[j]
  end
  local p = m
  if loss == 'logistic' then
    if m > 35 then m = 35 elseif m < -35 then m = -35 end
    p = 1 / (1 + exp(-m))
  end
  local res = p - Y[r]
  for j = 1, k do
    local i = ix[j]
    local g = res * vx[j]
    if alg == 'ftrl' then
      local n = B[i]
      local nn = n + g * g
      A[i] = A[i] + (g - ((sqrt(nn) - sqrt(n)) / p1) * w[j])
      B[i] = nn
    else
      g = g + p2 * A[i]
      local G = B[i] + g * g
      B[i] = G
      if G > 0 then A[i] = A[i] - (p1 * g) / sqrt(G) end
    end
  end
end
local out, args = {}, {}
local na = 0
for j = 1, nu do
  local i = uniq[j]
  local rec = pack('<Idd', i, A[i], B[i])
  out[j] = rec
  args[na + 1] = names[j]
  args[na + 2] = rec
  na = na + 2
  if na >= 2000 then redis.call('HSET', KEYS[1], unpack(args, 1, na)); na = 0 end
end
if na > 0 then redis.call('HSET', KEYS[1], unpack(args, 1, na)) end
local after = redis.call('HINCRBY', KEYS[1], 'seq', rows)
local d = table.concat(out)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ${LOG_LENGTH}, after .. '-1', 'b', after - rows, 'd', d)
return { after - rows, after, d }`;

// KEYS: state hash. ARGV: seq, then field/record pairs. Writes a snapshot's state only into an EMPTY hash.
const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for c = 2, #ARGV, 1000 do redis.call('HSET', KEYS[1], unpack(ARGV, c, math.min(c + 999, #ARGV))) end
redis.call('HSET', KEYS[1], 'seq', ARGV[1])
return 1`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const LEARN_SHA = sha1(LEARN_SCRIPT);
const INIT_SHA = sha1(INIT_SCRIPT);

/** Labels ready for the script: `rows` rows packed as the script reads them (`packRows`). */
export interface LabelRows {
  rows: number;
  packed: Buffer;
}

/** Bytes of a packed row of k coordinates. */
export const packedRowBytes = (k: number): number => 12 + 12 * k;

/** Writes one row (y, then k (index, value) pairs) at `offset` of `out`; returns the offset after it. */
export function packRow(out: Buffer, offset: number, y: number, idx: ArrayLike<number>, val: ArrayLike<number>, k: number): number {
  let o = out.writeDoubleLE(y, offset);
  o = out.writeUInt32LE(k, o);
  for (let j = 0; j < k; j++) {
    o = out.writeUInt32LE(idx[j], o);
    o = out.writeDoubleLE(val[j], o);
  }
  return o;
}

/** Most rows one script learns (bounds how long one script holds Redis). */
export const MAX_SCRIPT_ROWS = 2000;

interface QueuedLabels {
  rows: LabelRows;
  resolve: (r: { seqBefore: number; seq: number }) => void;
  reject: (err: Error) => void;
}

export interface SharedOnlineStateOptions {
  redis: Redis;
  config: OnlineModelConfig;
  learner: OnlineModelLearner;
  refreshIntervalMs?: number;
  onError?: (msg: string) => void;
}

export class SharedOnlineState {
  readonly key: string;
  readonly logKey: string;
  /** Labels applied to the local copy. */
  seq = -1;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private readonly params: number[];
  fullReloads = 0;
  /** Learn scripts sent. */
  scripts = 0;
  private queue: QueuedLabels[] = [];
  private sending = false;
  private closed = false;

  constructor(private readonly opts: SharedOnlineStateOptions) {
    this.key = onlineStateKey(opts.config.stateKey);
    this.logKey = onlineLogKey(opts.config.stateKey);
    const c = opts.config;
    this.params = c.algorithm === 'ftrl' ? [c.ftrl.alpha, c.ftrl.beta, c.ftrl.l1, c.ftrl.l2] : [c.adagrad.eta, c.adagrad.l2, 0, 0];
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

  /** Reads the shared state, then keeps tailing its log. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((err) => {
        if (!this.closed) this.opts.onError?.(`refresh of ${this.key} failed: ${(err as Error).message}`);
      });
    }, this.opts.refreshIntervalMs ?? 200);
    this.timer.unref();
  }

  /**
   * Learns `rows` in Redis; the local copy has the result when this resolves. Batches that arrive while a
   * script is in flight are sent together as the next script (in arrival order, at most MAX_SCRIPT_ROWS
   * rows): one script per Redis round trip whatever the number of requests. Resolves with the seq after
   * this batch's last row.
   */
  learn(rows: LabelRows): Promise<{ seqBefore: number; seq: number }> {
    if (this.closed) return Promise.reject(new Error(`online state ${this.key} is closed`));
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
        while (this.queue.length > 0 && (take.length === 0 || n + this.queue[0].rows.rows <= MAX_SCRIPT_ROWS)) {
          const q = this.queue.shift()!;
          take.push(q);
          n += q.rows.rows;
        }
        const c = this.opts.config;
        const args: (string | number | Buffer)[] = [c.algorithm, c.loss, ...this.params, n, take.length === 1 ? take[0].rows.packed : Buffer.concat(take.map((q) => q.rows.packed))];
        try {
          const reply = (await this.evalsha(LEARN_SHA, LEARN_SCRIPT, [this.key, this.logKey], args)) as [number, number, Buffer];
          const seqBefore = Number(reply[0]);
          const seq = Number(reply[1]);
          this.scripts++;
          if (this.seq === seqBefore) {
            this.apply(reply[2]);
            this.seq = seq;
          } else {
            await this.refresh().catch((err) => this.opts.onError?.(`refresh of ${this.key} after a learn failed: ${(err as Error).message}`));
          }
          let at = seqBefore;
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

  /** Applies concatenated `<Idd` records. */
  private apply(d: Buffer): void {
    const [A, B] = stateArrays(this.opts.learner);
    if (d.length % RECORD_BYTES !== 0) throw new Error(`${this.key}: a log record block of ${d.length} bytes (expected a multiple of ${RECORD_BYTES})`);
    for (let o = 0; o < d.length; o += RECORD_BYTES) {
      const i = d.readUInt32LE(o);
      A[i] = d.readDoubleLE(o + 4);
      B[i] = d.readDoubleLE(o + 12);
    }
  }

  /** Applies the log entries after the local seq, in order (serialised); a gap or a fresh start reloads the hash. */
  refresh(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    this.refreshing = this.refreshOnce().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async refreshOnce(): Promise<void> {
    if (this.seq < 0) return this.reload();
    for (;;) {
      const entries = (await this.opts.redis.xrangeBuffer(this.logKey, `${this.seq + 1}-0`, '+', 'COUNT', 500)) as unknown as [Buffer, Buffer[]][];
      if (entries.length === 0) {
        // Nothing logged after us. The hash can still be ahead: a snapshot written into an empty state (no
        // log entry), or a log trimmed away entirely. A label learnt between the two reads shows in the log.
        const raw = await this.opts.redis.hget(this.key, 'seq');
        if (raw === null || Number(raw) <= this.seq) return;
        const again = await this.opts.redis.xrange(this.logKey, `${this.seq + 1}-0`, '+', 'COUNT', 1);
        if (again.length === 0) return this.reload();
        continue;
      }
      for (const [idBuf, fields] of entries) {
        const id = idBuf.toString();
        const after = Number(id.slice(0, id.indexOf('-')));
        if (after <= this.seq) continue; // applied meanwhile from a learn reply
        let before = -1;
        let d: Buffer = Buffer.alloc(0);
        for (let k = 0; k < fields.length; k += 2) {
          const name = fields[k].toString();
          if (name === 'b') before = Number(fields[k + 1].toString());
          else if (name === 'd') d = fields[k + 1];
        }
        if (before !== this.seq) return this.reload(); // our position fell out of the log
        this.apply(d);
        this.seq = after;
      }
      if (entries.length < 500) return;
    }
  }

  private async reload(): Promise<void> {
    const fields = await this.opts.redis.hgetallBuffer(this.key);
    const [A, B] = stateArrays(this.opts.learner);
    A.fill(0);
    B.fill(0);
    let seq = 0;
    for (const name in fields) {
      const v = fields[name];
      if (name === 'seq') {
        seq = Number(v.toString());
        continue;
      }
      const i = v.length === RECORD_BYTES ? v.readUInt32LE(0) : -1;
      if (!(i >= 0 && i < A.length) || String(i) !== name) throw new Error(`${this.key} field ${name} is not a coordinate record of this model's 2^${this.opts.config.bits} coordinates (the state key is shared with another config?)`);
      A[i] = v.readDoubleLE(4);
      B[i] = v.readDoubleLE(12);
    }
    this.seq = seq;
    this.fullReloads++;
  }

  /** Stops tailing the log; returns once a refresh in flight has ended. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // Labels accepted before close are still learnt (their requests wait for it).
    while (this.sending) await new Promise((r) => setTimeout(r, 2));
    this.closed = true;
    await this.refreshing?.catch(() => undefined);
  }
}
