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
 * - every batch appends one entry `<seq>-1 { b: seq before, d: "i,a,b;…" }` (the new values of the touched
 *   coordinates, as %.17g text: doubles round-trip exactly) to the stream `online:log:<stateKey>` (capped at
 *   ~LOG_LENGTH entries). The server that sent the batch applies the reply at once; every server tails the
 *   stream every `refreshIntervalMs` and applies the entries after its `seq` in order; one whose position
 *   fell out of the stream (or a fresh start) reloads the whole hash (HGETALL: the state at one seq).
 *
 * Hash `online:state:<stateKey>`: fields `a:<i>`, `b:<i>` (the two arrays at coordinate i) and `seq`.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { stateArrays, type OnlineModelConfig, type OnlineModelLearner, type OnlineSnapshot } from '../../ml/online';

export const LOG_LENGTH = 10_000;

export function onlineStateKey(stateKey: string): string {
  return `online:state:${stateKey}`;
}
export function onlineLogKey(stateKey: string): string {
  return `online:log:${stateKey}`;
}

// KEYS: state hash, log stream. ARGV: algorithm, loss, p1..p4 (ftrl: α β λ1 λ2; adagrad: η λ2 0 0), rows,
// then per row: y, k, k indices, k values. Same arithmetic, in the same order, as ml/online/ftrl.ts and adagrad.ts.
export const LEARN_SCRIPT = `
local alg, loss = ARGV[1], ARGV[2]
local p1, p2, p3, p4 = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local rows = tonumber(ARGV[7])
local pos = 8
local Y, K, IX, VX, uniq, seen = {}, {}, {}, {}, {}, {}
for r = 1, rows do
  local y, k = tonumber(ARGV[pos]), tonumber(ARGV[pos + 1])
  pos = pos + 2
  local ix, vx = {}, {}
  for j = 1, k do
    local i = ARGV[pos + j - 1]
    ix[j] = i
    vx[j] = tonumber(ARGV[pos + k + j - 1])
    if not seen[i] then seen[i] = true; uniq[#uniq + 1] = i end
  end
  Y[r], K[r], IX[r], VX[r] = y, k, ix, vx
  pos = pos + 2 * k
end
local A, B = {}, {}
for c = 1, #uniq, 500 do
  local names = {}
  local last = math.min(c + 499, #uniq)
  for j = c, last do names[#names + 1] = 'a:' .. uniq[j]; names[#names + 1] = 'b:' .. uniq[j] end
  local vals = redis.call('HMGET', KEYS[1], unpack(names))
  for j = c, last do
    local o = 2 * (j - c)
    A[uniq[j]] = tonumber(vals[o + 1] or '0')
    B[uniq[j]] = tonumber(vals[o + 2] or '0')
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
      if z > p3 then wi = -(z - p3) / ((p2 + math.sqrt(B[i])) / p1 + p4)
      elseif z < -p3 then wi = -(z + p3) / ((p2 + math.sqrt(B[i])) / p1 + p4) end
    else
      wi = A[i]
    end
    w[j] = wi
    m = m + wi * vx[j]
  end
  local p = m
  if loss == 'logistic' then
    if m > 35 then m = 35 elseif m < -35 then m = -35 end
    p = 1 / (1 + math.exp(-m))
  end
  local res = p - Y[r]
  for j = 1, k do
    local i = ix[j]
    local g = res * vx[j]
    if alg == 'ftrl' then
      local n = B[i]
      local nn = n + g * g
      A[i] = A[i] + (g - ((math.sqrt(nn) - math.sqrt(n)) / p1) * w[j])
      B[i] = nn
    else
      g = g + p2 * A[i]
      local G = B[i] + g * g
      B[i] = G
      if G > 0 then A[i] = A[i] - (p1 * g) / math.sqrt(G) end
    end
  end
end
local out, args = {}, {}
for j = 1, #uniq do
  local i = uniq[j]
  local a, b = string.format('%.17g', A[i]), string.format('%.17g', B[i])
  out[j] = i .. ',' .. a .. ',' .. b
  args[#args + 1] = 'a:' .. i; args[#args + 1] = a; args[#args + 1] = 'b:' .. i; args[#args + 1] = b
  if #args >= 1000 then redis.call('HSET', KEYS[1], unpack(args)); args = {} end
end
if #args > 0 then redis.call('HSET', KEYS[1], unpack(args)) end
local after = redis.call('HINCRBY', KEYS[1], 'seq', rows)
local d = table.concat(out, ';')
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ${LOG_LENGTH}, after .. '-1', 'b', after - rows, 'd', d)
return { after - rows, after, d }`;

// KEYS: state hash. ARGV: seq, then field/value pairs. Writes a snapshot's state only into an EMPTY hash.
const INIT_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for c = 2, #ARGV, 1000 do redis.call('HSET', KEYS[1], unpack(ARGV, c, math.min(c + 999, #ARGV))) end
redis.call('HSET', KEYS[1], 'seq', ARGV[1])
return 1`;

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const LEARN_SHA = sha1(LEARN_SCRIPT);
const INIT_SHA = sha1(INIT_SCRIPT);

/** Labels ready for the script: per row y, k, k indices, k values (hashed on this server). */
export interface LabelRows {
  rows: number;
  args: (string | number)[];
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

  private evalsha(sha: string, script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
    const r = this.opts.redis;
    return r.evalsha(sha, keys.length, ...keys, ...args).catch((err: Error) => {
      if (!/NOSCRIPT/.test(err.message)) throw err;
      return r.eval(script, keys.length, ...keys, ...args);
    });
  }

  /** Writes a snapshot's state into Redis when the state there is empty; true when it did. */
  async initFrom(s: OnlineSnapshot): Promise<boolean> {
    const args: (string | number)[] = [s.seq];
    for (let k = 0; k < s.index.length; k++) args.push(`a:${s.index[k]}`, String(s.a[k]), `b:${s.index[k]}`, String(s.b[k]));
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

  /** Learns `rows` in Redis (one atomic script); the local copy has the result when this resolves. */
  async learn(rows: LabelRows): Promise<{ seqBefore: number; seq: number }> {
    const c = this.opts.config;
    const reply = (await this.evalsha(LEARN_SHA, LEARN_SCRIPT, [this.key, this.logKey], [c.algorithm, c.loss, ...this.params, rows.rows, ...rows.args])) as [number, number, string];
    const seqBefore = Number(reply[0]);
    const seq = Number(reply[1]);
    if (this.seq === seqBefore) {
      this.apply(reply[2]);
      this.seq = seq;
    } else {
      await this.refresh();
    }
    return { seqBefore, seq };
  }

  private apply(d: string): void {
    if (d === '') return;
    const [A, B] = stateArrays(this.opts.learner);
    let start = 0;
    while (start < d.length) {
      let end = d.indexOf(';', start);
      if (end === -1) end = d.length;
      const c1 = d.indexOf(',', start);
      const c2 = d.indexOf(',', c1 + 1);
      const i = Number(d.slice(start, c1));
      A[i] = Number(d.slice(c1 + 1, c2));
      B[i] = Number(d.slice(c2 + 1, end));
      start = end + 1;
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
      const entries = (await this.opts.redis.xrange(this.logKey, `${this.seq + 1}-0`, '+', 'COUNT', 500)) as [string, string[]][];
      if (entries.length === 0) {
        // Nothing logged after us: the hash may still be ahead (a snapshot written into it, a log trimmed away).
        const raw = await this.opts.redis.hget(this.key, 'seq');
        if (raw !== null && Number(raw) !== this.seq) return this.reload();
        return;
      }
      for (const [id, fields] of entries) {
        const f: Record<string, string> = {};
        for (let k = 0; k < fields.length; k += 2) f[fields[k]] = fields[k + 1];
        if (Number(f.b) !== this.seq) return this.reload();
        this.apply(f.d ?? '');
        this.seq = Number(id.split('-')[0]);
      }
      if (entries.length < 500) return;
    }
  }

  private async reload(): Promise<void> {
    const fields = await this.opts.redis.hgetall(this.key);
    const [A, B] = stateArrays(this.opts.learner);
    A.fill(0);
    B.fill(0);
    for (const name in fields) {
      if (name === 'seq') continue;
      const i = Number(name.slice(2));
      if (!(i >= 0 && i < A.length)) throw new Error(`${this.key} field ${name} is outside the model's 2^${this.opts.config.bits} coordinates (the state key is shared with another config?)`);
      (name.charCodeAt(0) === 97 ? A : B)[i] = Number(fields[name]);
    }
    this.seq = fields.seq === undefined ? 0 : Number(fields.seq);
    this.fullReloads++;
  }

  /** Stops tailing the log; returns once a refresh in flight has ended. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.refreshing?.catch(() => undefined);
  }
}
