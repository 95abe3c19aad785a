/**
 * Computed features: fetch + compute per request. Run: node -r ./scripts/register-ts.js bench/features.ts
 * [--requests 20000] [--warm 2000] [--tenants 50] [--history 1]
 *
 * The shipped llm-routing set (34 features: 12 request, 5 temporal, 12 model, 5 aggregate over 8 Redis
 * series of 12 buckets) under its own set name. Windows are warmed first: `--warm` decisions and as many
 * rewards (latency, cost, error) over `--tenants` tenants and the three models. With `--history 1` (the
 * default) every series' 11 earlier buckets are then filled with a copy of its current bucket, as a store
 * that has served for a whole window holds them (the warm-up alone, seconds long, fills one or two buckets).
 *
 * Per request, sequential on one connection to the machine's Redis (latency, not throughput), each a
 * p50/p99 over `--requests` calls, interleaved in rounds of 100 so load on the shared machine hits all alike:
 *  - online: `OnlineFeatures.compute(set, request, { record: true })` — the request and temporal features,
 *    one Lua script that reads the windows (per series the cached sums of its complete buckets and the
 *    current bucket, the fields the features read) and counts the request, and the window features;
 *  - baseline: the plain feature-store fetch decide does for `{ entity }` (inference/features.ts: one
 *    HGETALL of a 32-field hash and the numbers parsed) — what a precomputed vector costs;
 *  - compute only (in process, no Redis): `FeatureSet.compute` with windows already fetched.
 * Last line: `SUMMARY …`, the figures on one line (p50/p99 of each, the ratio to the baseline, the load average).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Rng } from '../ml/rng';
import { DEFAULT_FEATURE_SETS_DIR, OnlineFeatures, parseFeatureSet } from '../feature-store/computed';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

function quantiles(xs: number[]): { p50: number; p99: number; mean: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { p50: q(0.5), p99: q(0.99), mean: xs.reduce((a, b) => a + b, 0) / xs.length };
}

async function main(): Promise<void> {
  const requests = arg('requests', 20_000);
  const warm = arg('warm', 2000);
  const tenants = arg('tenants', 50);
  const history = arg('history', 1) !== 0;
  const tag = randomBytes(4).toString('hex');
  const set = parseFeatureSet(readFileSync(join(DEFAULT_FEATURE_SETS_DIR, 'llm-routing.yaml'), 'utf8').replace(/^set: llm-routing$/m, `set: bench-${tag}`), 'llm-routing.yaml');
  const redis = new Redis('redis://127.0.0.1:6379');
  const online = new OnlineFeatures(redis);
  const rng = new Rng(1);
  const prompts = [
    'Fix this python bug: def f(x): return x + 1 if x else None',
    'What is the integral of x^2 from 0 to 3? Show the steps.',
    'Summarize the key points of the following memo for a busy executive: the quarterly numbers were up, costs were down, and the team shipped three features.',
    '你好，请把这句话翻译成英文',
    'hello?',
  ];
  const models = ['cheap', 'mid', 'premium'];
  const baselineKey = `features:bench-${tag}`;
  try {
    // Warm the windows.
    for (let i = 0; i < warm; i++) {
      const tenant = `t${Math.floor(rng.uniform() * tenants)}`;
      await online.compute(set, { prompt: prompts[i % prompts.length], tenant }, { record: true });
      await online.record(set, { type: 'reward', time: 0, entities: { tenant }, model: models[i % 3], reward: rng.uniform(), components: { latency_ms: 100 + rng.uniform() * 2000, cost_usd: rng.uniform() / 100, error: rng.uniform() < 0.05 ? 1 : 0 } });
    }
    let filled = 0;
    if (history) {
      // Each series' earlier buckets as a copy of its newest one (keys …:<bucketMs>:<bucket>).
      const newest = new Map<string, number>();
      for (const k of await redis.keys(`cf:bench-${tag}:*`)) {
        const m = /^(.*:)(\d+)$/.exec(k);
        if (m !== null && Number(m[2]) > (newest.get(m[1]) ?? -1)) newest.set(m[1], Number(m[2]));
      }
      for (const [series, last] of newest) {
        const h = await redis.hgetall(`${series}${last}`);
        const bucketMs = Number(/:(\d+):$/.exec(series)![1]);
        for (let b = last - 11; b < last; b++) {
          if ((await redis.exists(`${series}${b}`)) === 1) continue;
          await redis.hset(`${series}${b}`, h);
          await redis.pexpire(`${series}${b}`, 13 * bucketMs + 60_000);
          filled++;
        }
      }
      // The fill rewrote the past, which the online store never does: drop what it derived from it
      // (the complete buckets' cached sums; every key but the buckets and the clock).
      const derived = (await redis.keys(`cf:bench-${tag}:*`)).filter((k) => !/:\d+$/.test(k) && !k.endsWith(':clock'));
      if (derived.length > 0) await redis.del(...derived);
    }
    const hash: Record<string, string> = {};
    for (const n of set.names) hash[n] = String(rng.uniform() * 100);
    await redis.hset(baselineKey, hash);

    const tOnline: number[] = [];
    const tBase: number[] = [];
    const tCompute: number[] = [];
    const request = (i: number) => ({ prompt: prompts[i % prompts.length], tenant: `t${i % tenants}`, max_tokens: 512 });
    const windows = (await online.windows(set, set.seriesFor(request(0)), null)).windows;
    for (let round = 0; round < requests / 100; round++) {
      for (let k = 0; k < 100; k++) {
        const i = round * 100 + k;
        let t0 = process.hrtime.bigint();
        await online.compute(set, request(i), { record: true });
        tOnline.push(Number(process.hrtime.bigint() - t0) / 1e6);
        t0 = process.hrtime.bigint();
        const h = await redis.hgetall(baselineKey);
        const x = new Float64Array(set.names.length);
        for (let j = 0; j < set.names.length; j++) x[j] = Number(h[set.names[j]]);
        tBase.push(Number(process.hrtime.bigint() - t0) / 1e6);
        t0 = process.hrtime.bigint();
        set.compute(request(i), Date.now(), windows);
        tCompute.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
    const o = quantiles(tOnline);
    const b = quantiles(tBase);
    const c = quantiles(tCompute);
    const f = (x: number) => x.toFixed(3);
    const load = loadavg().map((l) => l.toFixed(1)).join(' ');
    process.stdout.write(`machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${load}; ${set.names.length} features, ${set.seriesFor(request(0)).length} series; ${requests} requests, ${warm} warm-up decisions + rewards, ${filled} earlier buckets filled\n`);
    process.stdout.write(`online fetch + compute (+ count): p50 ${f(o.p50)} ms, p99 ${f(o.p99)} ms, mean ${f(o.mean)} ms\n`);
    process.stdout.write(`baseline HGETALL of ${set.names.length} fields: p50 ${f(b.p50)} ms, p99 ${f(b.p99)} ms, mean ${f(b.mean)} ms\n`);
    process.stdout.write(`compute only (in process): p50 ${f(c.p50)} ms, p99 ${f(c.p99)} ms, mean ${f(c.mean)} ms\n`);
    process.stdout.write(`ratio online / baseline: p50 ${(o.p50 / b.p50).toFixed(2)}×, p99 ${(o.p99 / b.p99).toFixed(2)}×\n`);
    process.stdout.write(`SUMMARY features online p50 ${f(o.p50)} ms p99 ${f(o.p99)} ms | baseline HGETALL p50 ${f(b.p50)} ms p99 ${f(b.p99)} ms | ratio p50 ${(o.p50 / b.p50).toFixed(2)}x p99 ${(o.p99 / b.p99).toFixed(2)}x | compute-only p99 ${f(c.p99)} ms | load ${load} | ${requests} req\n`);
  } finally {
    const keys = await redis.keys(`cf:bench-${tag}:*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.del(baselineKey);
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
