/**
 * Computed features against the machine's Redis: the online path (one script reads the windows and
 * counts the request) and the offline builder, given every event of the run — including those after
 * each decision — compute the same values for every decision (point in time: later events excluded).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Rng } from '../../ml/rng';
import { ALL_FIELDS, BUCKETS_PER_WINDOW, pointInTimeFeatures, type FeatureEvent, type LoggedFeatureDecision, type Stats } from '../../ml/features';
import { DEFAULT_FEATURE_SETS_DIR, parseFeatureSet } from './load';
import { OnlineFeatures } from './online';

const tag = randomBytes(4).toString('hex');
// The shipped definitions under a set name of this run (its own keys in a Redis other tests share).
const set = parseFeatureSet(readFileSync(join(DEFAULT_FEATURE_SETS_DIR, 'llm-routing.yaml'), 'utf8').replace(/^set: llm-routing$/m, `set: llm-routing-t${tag}`), 'llm-routing.yaml');

describe('computed features: online (Redis) = offline (point in time)', () => {
  let redis: Redis;
  let online: OnlineFeatures;

  beforeAll(() => {
    redis = new Redis('redis://127.0.0.1:6379');
    online = new OnlineFeatures(redis);
  });

  afterAll(async () => {
    const keys = await redis.keys(`cf:${set.name}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  test('the shipped set has at least 20 definitions of every source', () => {
    expect(set.names.length).toBeGreaterThanOrEqual(20);
    const sources = new Set(set.definitions.map((d) => d.source));
    expect([...sources].sort()).toEqual(['aggregate', 'model', 'request', 'temporal']);
  });

  test('interleaved decisions and rewards: every decision\'s online values equal the offline recomputation over all events', async () => {
    const rng = new Rng(23);
    const prompts = ['Fix this python bug: def f(x): return x +', 'What is the integral of x^2?', 'Summarize the key points of this memo please.', '你好，请翻译这句话', 'hello?'];
    const models = ['cheap', 'mid', 'premium'];
    const decisions: LoggedFeatureDecision[] = [];
    const onlineValues: Float64Array[] = [];
    const events: FeatureEvent[] = [];
    for (let i = 0; i < 120; i++) {
      const tenant = `tenant-${Math.floor(rng.uniform() * 3)}`;
      if (decisions.length > 0 && rng.uniform() < 0.45) {
        // A reward of an earlier decision, with its outcome.
        const d = decisions[Math.floor(rng.uniform() * decisions.length)];
        const e: FeatureEvent = {
          type: 'reward',
          time: 0,
          entities: set.entitiesOf(d.request),
          model: models[Math.floor(rng.uniform() * 3)],
          reward: Math.round(rng.uniform() * 100) / 100,
          components: { latency_ms: 50 + Math.floor(rng.uniform() * 3000), cost_usd: Math.round(rng.uniform() * 1e4) / 1e6, error: rng.uniform() < 0.1 ? 1 : 0 },
        };
        const time = await online.record(set, e);
        events.push({ ...e, time });
      } else {
        const request = { prompt: prompts[Math.floor(rng.uniform() * prompts.length)], tenant, max_tokens: 256 };
        const { values, asOf } = await online.compute(set, request, { record: true });
        decisions.push({ decisionId: `d${i}`, asOf, request });
        onlineValues.push(values);
        events.push(set.decisionEvent(request, asOf));
      }
    }
    expect(decisions.length).toBeGreaterThan(40);
    const rows = pointInTimeFeatures(set, decisions, events);
    rows.forEach((r, i) => {
      for (let k = 0; k < set.names.length; k++) {
        const a = onlineValues[i][k];
        const b = r.values[k];
        if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a))) throw new Error(`decision ${i}, feature ${set.names[k]}: online ${a}, offline ${b}`);
      }
    });
    // Not vacuous: the windows did see traffic (some decision saw earlier requests and rewards of its tenant).
    const last = set.toRecord(onlineValues[onlineValues.length - 1]);
    expect(last.tenant_requests_1h).toBeGreaterThan(0);
    expect(rows.some((r) => set.toRecord(r.values).tenant_rewards_1h > 0)).toBe(true);
    expect(rows.some((r) => set.toRecord(r.values).cheap_latency_p50_15m > 0)).toBe(true);
  });

  test('a request is not counted before its own values; a reward counts from the moment it is recorded', async () => {
    const request = { prompt: 'hi', tenant: `solo-${tag}` };
    const a = set.toRecord((await online.compute(set, request, { record: true })).values);
    const b = set.toRecord((await online.compute(set, request, { record: true })).values);
    expect([a.tenant_requests_1h, b.tenant_requests_1h]).toEqual([0, 1]);
    await online.record(set, { type: 'reward', time: 0, entities: { tenant: request.tenant }, model: null, reward: 0.5, components: { cost_usd: 0.25 } });
    const c = set.toRecord((await online.compute(set, request)).values);
    expect([c.tenant_requests_1h, c.tenant_rewards_1h, c.tenant_reward_mean_1h, c.tenant_cost_sum_1h]).toEqual([2, 1, 0.5, 0.25]);
  });

  test('across bucket boundaries (1-second buckets): every window read equals the sum of its raw bucket hashes, bit for bit, and the offline recomputation', async () => {
    // 12-second windows: the complete buckets' sums are cached per series and bucket, and the test runs
    // until Redis' clock has crossed at least three bucket boundaries with traffic in between.
    const fast = parseFeatureSet(
      [
        `set: fast-t${tag}`,
        'features:',
        '  - { name: tenant_requests_12s, type: int, source: aggregate, entity: tenant, transformation: { event: decision, agg: count }, window: 12s, missing: { policy: default, value: 0 } }',
        '  - { name: tenant_reward_mean_12s, type: float, source: aggregate, entity: tenant, transformation: { event: reward, field: reward, agg: mean }, window: 12s, missing: { policy: default, value: -1 } }',
        '  - { name: cheap_latency_p50_12s, type: float, source: model, model: cheap, transformation: { field: latency_ms, agg: p50 }, window: 12s, missing: { policy: default, value: -1 } }',
        '  - { name: cheap_cost_sum_12s, type: float, source: model, model: cheap, transformation: { field: cost_usd, agg: sum }, window: 12s, missing: { policy: default, value: 0 } }',
      ].join('\n'),
      'fast.yaml',
    );
    const rng = new Rng(7);
    const decisions: LoggedFeatureDecision[] = [];
    const onlineValues: Float64Array[] = [];
    const events: FeatureEvent[] = [];
    const buckets = new Set<number>();
    let multiBucketWindows = 0;
    // The sums of a series' raw bucket hashes as of `time`, ascending, as BucketStore.window adds them
    // (the fields `fields`, those the set's features read).
    const raw = async (prefix: string, time: number, bucketMs: number, fields: readonly string[]): Promise<Stats> => {
      const last = Math.floor(time / bucketMs);
      const out: Stats = {};
      let nonEmpty = 0;
      for (let b = last - BUCKETS_PER_WINDOW + 1; b <= last; b++) {
        const h = await redis.hgetall(`${prefix}${b}`);
        if (Object.keys(h).length > 0 && b < last) nonEmpty++;
        for (const [f, v] of Object.entries(h)) if (fields.includes(f)) out[f] = f in out ? out[f] + Number(v) : Number(v);
      }
      if (nonEmpty >= 2) multiBucketWindows++;
      return out;
    };
    try {
      for (let i = 0; buckets.size < 4 || i < 60; i++) {
        if (i > 20_000) throw new Error(`Redis' clock crossed ${buckets.size - 1} bucket boundaries in 20,000 steps, expected 3`);
        const tenant = `tenant-${Math.floor(rng.uniform() * 2)}`;
        if (decisions.length > 0 && rng.uniform() < 0.5) {
          const e: FeatureEvent = {
            type: 'reward', time: 0, entities: { tenant }, model: rng.uniform() < 0.7 ? 'cheap' : 'mid',
            reward: Math.round(rng.uniform() * 1000) / 1000,
            components: { latency_ms: 20 + rng.uniform() * 2000, cost_usd: rng.uniform() / 300, error: 0 },
          };
          events.push({ ...e, time: await online.record(fast, e) });
        } else {
          const request = { prompt: 'hi', tenant };
          const { values, asOf } = await online.compute(fast, request, { record: true });
          decisions.push({ decisionId: `d${i}`, asOf, request });
          onlineValues.push(values);
          events.push(fast.decisionEvent(request, asOf));
          buckets.add(Math.floor(asOf / 1000));
          // A read without recording: each window equals the raw buckets' sums (nothing else writes meanwhile).
          const refs = fast.seriesFor(request);
          const { time, windows } = await online.windows(fast, refs, null);
          for (let j = 0; j < refs.length; j++) {
            const r = refs[j];
            expect(windows[j]).toEqual(await raw(`cf:${fast.name}:${r.kind}:${r.id}:${r.bucketMs}:`, time, r.bucketMs, r.fields ?? ALL_FIELDS));
            // Every field (a ref without fields), too.
            const all = await online.windows(fast, [{ kind: r.kind, id: r.id, bucketMs: r.bucketMs }], null);
            if (Math.floor(all.time / r.bucketMs) === Math.floor(time / r.bucketMs)) {
              expect(all.windows[0]).toEqual(await raw(`cf:${fast.name}:${r.kind}:${r.id}:${r.bucketMs}:`, time, r.bucketMs, ALL_FIELDS));
            }
          }
        }
        await new Promise((r) => setTimeout(r, 15));
      }
      expect(multiBucketWindows).toBeGreaterThan(0);
      expect((await redis.keys(`cf:${fast.name}:*:c*`)).length).toBeGreaterThan(0);
      const rows = pointInTimeFeatures(fast, decisions, events);
      rows.forEach((r, i) => {
        for (let k = 0; k < fast.names.length; k++) {
          const a = onlineValues[i][k];
          const b = r.values[k];
          if (Math.abs(a - b) > 1e-9 * Math.max(1, Math.abs(a))) throw new Error(`decision ${i}, feature ${fast.names[k]}: online ${a}, offline ${b}`);
        }
      });
    } finally {
      const keys = await redis.keys(`cf:${fast.name}:*`);
      if (keys.length > 0) await redis.del(...keys);
    }
  }, 120_000);
});
