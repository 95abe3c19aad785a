/**
 * SharedLearner against the machine's Redis: increments added on two instances reach the shared hash
 * exactly (per-arm sums, `seq` = observations) in a few flushes rather than one per reward; a flush
 * whose reply is lost after Redis applied it is retried without counting twice, one that failed
 * before is retried until applied; and the other instance's learner takes the totals on refresh.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LinUCB, deltaToFields, sumDeltas, type StatsDelta } from '../../ml/bandits';
import { Rng } from '../../ml/rng';
import { flushedKeyOf, SharedLearner, stateKeyOf } from './shared-state';

const tag = randomBytes(4).toString('hex');
const d = 3;
const K = 3;

/** The real client, except that `evalsha` can fail on purpose: before or after Redis ran the script. */
function flaky(redis: Redis): { client: Redis; failNext: (when: 'before' | 'after') => void } {
  let fail: 'before' | 'after' | null = null;
  const client = new Proxy(redis, {
    get(target, prop) {
      if (prop === 'evalsha') {
        return async (...args: unknown[]) => {
          const when = fail;
          fail = null;
          if (when === 'before') throw new Error('Connection is closed.');
          const r = await (target.evalsha as (...a: unknown[]) => Promise<unknown>)(...args);
          if (when === 'after') throw new Error('Command timed out');
          return r;
        };
      }
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { client, failNext: (when) => (fail = when) };
}

describe('SharedLearner', () => {
  const redis = new Redis('redis://127.0.0.1:6379');
  const errors: string[] = [];
  const made: SharedLearner[] = [];
  const learner = (stateKey: string, client: Redis = redis, flushIntervalMs = 20) => {
    const s = new SharedLearner({ redis: client, stateKey, learner: new LinUCB({ nArms: K, d }), statsKind: 'linucb', d, refreshIntervalMs: 50, flushIntervalMs, onError: (m) => errors.push(m) });
    made.push(s);
    return s;
  };
  const expectHash = async (stateKey: string, deltas: StatsDelta[]) => {
    const h = await redis.hgetall(stateKeyOf(stateKey));
    expect(Number(h.seq)).toBe(deltas.length);
    const want: Record<string, number> = {};
    for (const s of sumDeltas(deltas)) Object.assign(want, deltaToFields(s));
    expect(Object.keys(h).filter((k) => k !== 'seq').sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect(Number(h[k])).toBeCloseTo(v, 9);
  };

  afterAll(async () => {
    await Promise.all(made.map((s) => s.close()));
    const keys = [...(await redis.keys(`bandit:state:shared-${tag}-*`)), ...(await redis.keys(`bandit:flushed:shared-${tag}-*`))];
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  it('sums the increments of two instances exactly, in a few flushes', async () => {
    const key = `shared-${tag}-sum`;
    const [a, b] = [learner(key), learner(key)];
    await Promise.all([a.start(), b.start()]);
    const rng = new Rng(5);
    const deltas: StatsDelta[] = [];
    for (let i = 0; i < 3000; i++) {
      const delta = a.learner.statsDelta([1, rng.uniform(), rng.uniform()], rng.int(K), rng.uniform());
      deltas.push(delta);
      (i % 2 === 0 ? a : b).add(delta);
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all([a.close(), b.close()]);
    await expectHash(key, deltas);
    expect(a.applied + b.applied).toBe(3000);
    expect(a.lost + b.lost).toBe(0);
    expect(a.flushes + b.flushes).toBeLessThan(100);
    expect(a.pending + b.pending).toBe(0);
  });

  it('retries a flush whose reply was lost without counting it twice, and one that failed until it is applied', async () => {
    const key = `shared-${tag}-retry`;
    const { client, failNext } = flaky(redis);
    const s = learner(key, client, 0);
    await s.start();
    const rng = new Rng(6);
    const deltas: StatsDelta[] = [];
    const add = (n: number) => {
      for (let i = 0; i < n; i++) {
        const delta = s.learner.statsDelta([1, rng.uniform(), rng.uniform()], rng.int(K), rng.uniform());
        deltas.push(delta);
        s.add(delta);
      }
    };
    failNext('after'); // Redis applies the first flush, its reply is lost
    add(10);
    await new Promise((r) => setTimeout(r, 50));
    add(5); // while the retry waits
    await new Promise((r) => setTimeout(r, 400));
    expect(errors.some((m) => /Command timed out; retrying/.test(m))).toBe(true);
    await expectHash(key, deltas);
    failNext('before'); // never reaches Redis
    add(7);
    await new Promise((r) => setTimeout(r, 400));
    expect(errors.some((m) => /Connection is closed.; retrying/.test(m))).toBe(true);
    await expectHash(key, deltas);
    expect(s.applied).toBe(22);
    expect(Object.keys(await redis.hgetall(flushedKeyOf(key)))).toHaveLength(1);
    expect(await redis.pttl(flushedKeyOf(key))).toBeGreaterThan(3_600_000);
  });

  it('hands the totals to the other instance\'s learner on refresh', async () => {
    const key = `shared-${tag}-refresh`;
    const [a, b] = [learner(key), learner(key)];
    await Promise.all([a.start(), b.start()]);
    const delta = a.learner.statsDelta([1, 0.5, 0.25], 2, 1);
    a.add(delta);
    const t0 = Date.now();
    while (b.seq !== 1 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 5));
    expect(b.seq).toBe(1);
    expect(b.learner.getStats().arms[2]).toEqual(expect.objectContaining({ n: 1, rSum: 1 }));
  });
});
