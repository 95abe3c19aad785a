import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_FEATURE_SETS_DIR, OnlineFeatures, parseFeatureSet } from './feature-store/computed';
async function main() {
  const set = parseFeatureSet(readFileSync(join(DEFAULT_FEATURE_SETS_DIR, 'llm-routing.yaml'), 'utf8').replace(/^set: llm-routing$/m, `set: prof-x`), 'x');
  const redis = new Redis('redis://127.0.0.1:6379');
  const online = new OnlineFeatures(redis);
  const req = { prompt: 'Fix this python bug', tenant: 't1' };
  for (let i = 0; i < 300; i++) { await online.compute(set, req, { record: true }); await online.record(set, { type: 'reward', time: 0, entities: { tenant: 't1' }, model: ['cheap','mid','premium'][i%3], reward: 0.3, components: { latency_ms: 100 + i, cost_usd: 0.001 * i, error: 0 } }); }
  const time = async (name: string, f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < 3000; i++) { const t0 = process.hrtime.bigint(); await f(); xs.push(Number(process.hrtime.bigint() - t0) / 1e6); }
    xs.sort((a, b) => a - b);
    console.log(name, 'p50', xs[1500].toFixed(3));
  };
  const refs = set.seriesFor(req);
  await time('compute+record', () => online.compute(set, req, { record: true }));
  await time('compute', () => online.compute(set, req));
  await time('windows only', () => online.windows(set, refs, null));
  await time('windows 1 series', () => online.windows(set, refs.slice(0, 1), null));
  await time('windows 0 series', () => online.windows(set, [], null));
  await time('ping', () => redis.ping());
  await time('hgetall', () => redis.hgetall('nothing'));
  const keys = await redis.keys('cf:prof-x:*'); await redis.del(...keys); redis.disconnect();
}
main();
