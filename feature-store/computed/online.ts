/**
 * The online side of computed features: rolling-window buckets in Redis (one hash per series and
 * bucket, `<prefix><set>:<kind>:<id>:<bucketMs>:<bucket>`, fields as in ml/features/windows.ts, each
 * expiring 13 buckets after its last write; the sums of a window's complete buckets cached in
 * `…:<bucketMs>:c<bucket>` for the rest of the current bucket), read and written by one Lua script per request:
 *
 *   const online = new OnlineFeatures(redis);
 *   const { values, asOf } = await online.compute(set, { prompt, tenant }, { record: true });
 *   await online.recordReward(set, { time, entities: { tenant }, model: 'cheap', reward, components });
 *
 * `compute` reads every window the request needs and, with `record`, counts the request as a decision
 * of its entities in the SAME script: atomically after the read, so a request never sees itself and
 * concurrent requests see each other in the order Redis ran them. The features come from ml/features'
 * FeatureSet.compute, the function the offline builder (./offline.ts) calls with the same windows.
 */
import { createHash } from 'node:crypto';
import { ALL_FIELDS, BUCKETS_PER_WINDOW, eventIncrements, type FeatureEvent, type FeatureRequest, type FeatureSet, type SeriesRef, type Stats } from '../../ml/features';

/** The part of an ioredis client this uses. */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

// The clock is Redis' own (TIME, in microseconds), made strictly increasing per set (a clock key, so
// two scripts never share a time): every event and every read of every server is ordered by it, the
// time an event is recorded with is exactly when it became visible to reads, and a read at t sees
// exactly the events with time < t — the offline builder's rule. Keys are built here from that time
// (prefix .. bucket), not passed as KEYS: one Redis instance, not a cluster.
//
// Complete buckets are immutable: every write of a set goes to the bucket of that set's clock, which
// only moves forward, so once a read has seen now in bucket L no event can land in a bucket before L.
// A window as of now is therefore (sum of buckets L−11 … L−1) + bucket L, and the first term is cached
// per series and L (`prefix .. 'c' .. L`: a hash of every field's sum as %.17g, which reads back as the
// same double, and a marker field `_` so an empty window is cached too; it expires when bucket L can
// have ended). A read is one HMGET of the cache and one of bucket L per series, of the fields the set's
// features read (SeriesRef.fields); the 11 complete buckets are read once per series and bucket. Each
// field's sum is the same double, added in the same order (ascending buckets), as without the cache and
// as BucketStore.window. Integral sums (counts, histogram buckets) come back as integers, the others as
// %.17g text, an absent field as nil: each parses back to the exact double.
// ARGV: clockKey, per, nread, (prefix, bucketMs, nfields, field × nfields) × nread, nfields, (field, inc) × nfields, nwrite, (prefix, bucketMs, ttlMs) × nwrite.
// Returns { now (µs), each read series' sums of its fields, in their order }.
export const READ_AND_RECORD = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local last = tonumber(redis.call('GET', ARGV[1]) or '0')
if now <= last then now = last + 1 end
redis.call('SET', ARGV[1], string.format('%d', now), 'PX', 86400000)
local per = tonumber(ARGV[2])
local nread = tonumber(ARGV[3])
local a = 4
local out = { string.format('%d', now) }
local floor = math.floor
local fmt = string.format
local INT = 9007199254740992
for s = 1, nread do
  local prefix = ARGV[a]
  local bms = tonumber(ARGV[a + 1])
  local nf = tonumber(ARGV[a + 2])
  local fl = {}
  for i = 1, nf do fl[i] = ARGV[a + 2 + i] end
  a = a + 3 + nf
  local lastb = floor(now / (1000 * bms))
  local ck = prefix .. 'c' .. fmt('%d', lastb)
  local c = redis.call('HMGET', ck, '_', unpack(fl))
  local base = {}
  if not c[1] then
    local sums = {}
    local order = {}
    for b = lastb - per + 1, lastb - 1 do
      local h = redis.call('HGETALL', prefix .. fmt('%d', b))
      for i = 1, #h, 2 do
        local f = h[i]
        local v = tonumber(h[i + 1])
        if sums[f] == nil then
          sums[f] = v
          order[#order + 1] = f
        else
          sums[f] = sums[f] + v
        end
      end
    end
    local flat = { '_', '1' }
    for _, f in ipairs(order) do
      flat[#flat + 1] = f
      flat[#flat + 1] = fmt('%.17g', sums[f])
    end
    redis.call('HSET', ck, unpack(flat))
    redis.call('PEXPIRE', ck, bms)
    for i = 1, nf do base[i] = sums[fl[i]] or false end
  else
    for i = 1, nf do
      local v = c[i + 1]
      if v then base[i] = tonumber(v) else base[i] = false end
    end
  end
  local h = {}
  if nf > 0 then h = redis.call('HMGET', prefix .. fmt('%d', lastb), unpack(fl)) end
  local vals = {}
  for i = 1, nf do
    local v = base[i]
    local x = h[i]
    if x then
      x = tonumber(x)
      if v then v = v + x else v = x end
    end
    if not v then vals[i] = false
    elseif v == floor(v) and v < INT and v > -INT and (v ~= 0 or 1 / v > 0) then vals[i] = v
    else vals[i] = fmt('%.17g', v) end
  end
  out[#out + 1] = vals
end
local nf = tonumber(ARGV[a])
a = a + 1
local fields = {}
for i = 1, nf do
  fields[i] = { ARGV[a], ARGV[a + 1] }
  a = a + 2
end
local nwrite = tonumber(ARGV[a])
a = a + 1
for w = 1, nwrite do
  local key = ARGV[a] .. fmt('%d', floor(now / (1000 * tonumber(ARGV[a + 1]))))
  for i = 1, nf do redis.call('HINCRBYFLOAT', key, fields[i][1], fields[i][2]) end
  redis.call('PEXPIRE', key, ARGV[a + 2])
  a = a + 3
end
return out`;

/** sha1 of READ_AND_RECORD. */
const SCRIPT_SHA = createHash('sha1').update(READ_AND_RECORD).digest('hex');

async function runScript(redis: ScriptClient, args: (string | number)[]): Promise<unknown> {
  try {
    return await redis.evalsha(SCRIPT_SHA, 0, ...args);
  } catch (err) {
    if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
  }
  return redis.eval(READ_AND_RECORD, 0, ...args);
}

/** A request that is not an object of JSON values, or an entity id out of bounds. */
export class FeatureRequestError extends Error {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field}: got ${JSON.stringify(value)?.slice(0, 80) ?? String(value)}, expected ${expected}`);
    this.name = 'FeatureRequestError';
  }
}

/** Checks a raw request: a plain object; entity fields, when present, non-empty strings of at most 256 characters. */
export function checkFeatureRequest(set: FeatureSet, request: unknown, field = 'request'): FeatureRequest {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw new FeatureRequestError(field, request, 'an object of the request\'s fields (prompt, tenant, timestamp, …)');
  const r = request as Record<string, unknown>;
  for (const f of set.entityFields) {
    const v = r[f];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.length === 0 || v.length > 256) throw new FeatureRequestError(`${field}.${f}`, v, 'an entity id: a string of 1 to 256 characters');
  }
  return r;
}

export interface OnlineFeaturesOptions {
  /** Key prefix (default `cf:`). */
  prefix?: string;
  now?: () => number;
}

export class OnlineFeatures {
  readonly prefix: string;
  private readonly now: () => number;

  constructor(
    private readonly redis: ScriptClient,
    opts: OnlineFeaturesOptions = {},
  ) {
    this.prefix = opts.prefix ?? 'cf:';
    this.now = opts.now ?? Date.now;
  }

  private seriesKey(set: FeatureSet, kind: string, id: string, bucketMs: number): string {
    return `${this.prefix}${set.name}:${kind}:${id}:${bucketMs}:`;
  }

  /** The (prefix, bucketMs, ttl) triples that record an event of `entities`/`model` for `set`. */
  private writes(set: FeatureSet, entities: Readonly<Record<string, string>>, model: string | null, args: (string | number)[]): number {
    let n = 0;
    const add = (kind: string, id: string) => {
      for (const b of set.bucketSizes.get(kind) ?? []) {
        args.push(this.seriesKey(set, kind, id, b), b, (BUCKETS_PER_WINDOW + 1) * b + 60_000);
        n++;
      }
    };
    for (const [kind, id] of Object.entries(entities)) if (kind !== 'model') add(kind, id);
    if (model !== null) add('model', model);
    return n;
  }

  /**
   * One script: the windows' sums as of Redis' now (of each ref's `fields`, else every field; a field
   * with no data is absent) and, with `record`, that event recorded at the same now after the read (its
   * `time` is ignored: the returned `time` is the one it was recorded with).
   */
  async windows(set: FeatureSet, refs: readonly SeriesRef[], record: FeatureEvent | null): Promise<{ time: number; windows: Stats[] }> {
    const args: (string | number)[] = [`${this.prefix}${set.name}:clock`, BUCKETS_PER_WINDOW, refs.length];
    for (const r of refs) {
      const fields = r.fields ?? ALL_FIELDS;
      args.push(this.seriesKey(set, r.kind, r.id, r.bucketMs), r.bucketMs, fields.length, ...fields);
    }
    if (record === null) args.push(0, 0);
    else {
      const { decision, reward } = eventIncrements(record);
      const inc = record.type === 'decision' ? decision : reward;
      args.push(inc.length);
      for (const [f, v] of inc) args.push(f, v);
      const at = args.length;
      args.push(0);
      args[at] = this.writes(set, record.entities, record.type === 'reward' ? record.model : null, args);
    }
    const res = (await runScript(this.redis, args)) as [string, ...(string | number | null)[][]];
    const windows: Stats[] = new Array(refs.length);
    for (let j = 0; j < refs.length; j++) {
      const vals = res[j + 1];
      const fields = refs[j].fields ?? ALL_FIELDS;
      const s: Stats = {};
      for (let i = 0; i < fields.length; i++) {
        const v = vals[i];
        if (v !== null) s[fields[i]] = Number(v);
      }
      windows[j] = s;
    }
    // Microseconds → ms (a fraction): distinct integers stay distinct and ordered; ⌊ms / B⌋ is the script's bucket.
    return { time: Number(res[0]) / 1000, windows };
  }

  /**
   * The set's features for `request` as of Redis' now; with `record`, the request counted as a decision
   * of its entities at that time, after the read. Returns the values in `set.names` order and the time
   * (`asOf`, ms with a microsecond fraction) they are as of — what the decision logs and the offline builder recomputes at.
   */
  async compute(set: FeatureSet, request: FeatureRequest, opts: { record?: boolean } = {}): Promise<{ values: Float64Array; asOf: number }> {
    // The request's own features first (temporal ones from its timestamp, or the server's clock when it
    // has none: set again below with Redis' time): a request they refuse is not counted as a decision.
    let values = set.computeLocal(request, this.now());
    const refs = set.seriesFor(request);
    const record = opts.record === true ? set.decisionEvent(request, 0) : null;
    const { time, windows } = await this.windows(set, refs, record);
    if (request.timestamp === undefined || request.timestamp === null) values = set.computeLocal(request, time, values);
    return { values: set.computeWindows(request, windows, values), asOf: time };
  }

  /** Records an event (a reward's outcome for its entities and model) at Redis' now; returns that time (ms). */
  async record(set: FeatureSet, e: FeatureEvent): Promise<number> {
    return (await this.windows(set, [], e)).time;
  }
}
