/**
 * Bandit deployments served by two `autopilot serve` processes sharing one registry and one Redis:
 * decide answers with an arm and its propensity; 2,000 concurrent rewards spread over both processes
 * (each rewarded at the process that did NOT make the decision) lose no update — the shared
 * statistics equal the sums computed here; the same reward twice is applied once; and an update made
 * through one process changes the other's decisions within 1 s.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { JsonClient } from '../testing/client';
import { deleteBanditDecisions } from '../testing/bandit-keys';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';

const root = resolve(__dirname, '../..');
const tag = randomBytes(4).toString('hex');

interface Proc {
  child: ChildProcess;
  url: string;
  out: string[];
  exited: Promise<number | null>;
}

function serve(fx: ServingFixture, name: string): Promise<Proc> {
  const child = spawn(process.execPath, [join(root, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(fx.dir, name), '--reconcile', '30'], {
    cwd: root,
    env: { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: fx.artifactUri, AUTOPILOT_DATA_DIR: join(fx.dir, `${name}-data`), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return new Promise((resolveProc, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.join('')}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out.push(d.toString());
      const m = /serving on (http:\/\/\S+)/.exec(out.join(''));
      if (m) {
        clearTimeout(timer);
        resolveProc({ child, url: m[1], out, exited });
      }
    });
    child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
    child.on('exit', (code) => reject(new Error(`${name} exited with ${code}: ${out.join('')}`)));
  });
}

const rewardSpec = {
  version: 1,
  components: {
    thumbs_up: { source: 'user_feedback', weight: 1 },
    cost_usd: { source: 'cost', weight: 10, direction: 'penalty' },
  },
};

describe('bandit deployments on two serve processes', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const procs: Proc[] = [];
  let clients: JsonClient[];

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    for (const name of ['router', 'pick']) await fx.registry.createModel({ name, actor: 'test' });
    await fx.registry.setDeployment({
      model: 'router',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: {
        learner: { kind: 'linucb', params: { alpha: 0.5 } },
        exploration: { kind: 'epsilon-greedy', epsilon: 0.1 },
        arms: [{ name: 'gpt-large', payload: { model: 'large' } }, { name: 'gpt-small' }, { name: 'haiku' }],
        features: ['complexity', 'length'],
        rewardSpec,
        stateKey: `test-router-${tag}`,
      },
    });
    await fx.registry.setDeployment({
      model: 'pick',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { learner: { kind: 'linucb', params: { alpha: 0 } }, exploration: { kind: 'none' }, arms: ['a', 'b'], stateKey: `test-pick-${tag}` },
    });
    procs.push(...(await Promise.all([serve(fx, 'one'), serve(fx, 'two')])));
    clients = procs.map((p) => new JsonClient(p.url));
  }, 60_000);

  afterAll(async () => {
    clients?.forEach((c) => c.close());
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const keys = await redis.keys(`bandit:state:test-*-${tag}`);
    if (keys.length) await redis.del(...keys);
    process.stdout.write(`bandit test clean-up: ${await deleteBanditDecisions(redis, tag)} decision entries\n`);
    redis.disconnect();
    await fx?.close();
  });

  it('answers decide with an arm, a propensity and a decision id; refuses bad input by field', async () => {
    const r = await clients[0].post('/v1/decide', { deployment: 'router', features: { complexity: 0.3, length: 120 } });
    expect(r.status).toBe(200);
    expect(['gpt-large', 'gpt-small', 'haiku']).toContain(r.body.arm);
    expect(r.body.propensity).toBeGreaterThan(0);
    expect(r.body.propensity).toBeLessThanOrEqual(1);
    expect(r.body.decisionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.body.action.arm).toBe(r.body.arm);
    const bad = await clients[1].post('/v1/decide', { deployment: 'router', features: { complexity: 'high', length: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('features.complexity');
    const missing = await clients[1].post('/v1/rewards', { decisionId: r.body.decisionId, components: { thumbs_up: 1 } });
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('components');
    expect(missing.body.error).toMatch(/cost_usd/);
  });

  it('loses no update under 2,000 concurrent rewards spread over both processes', async () => {
    const n = 2000;
    const decisions: { id: string; arm: number; x: number[]; made: number }[] = [];
    for (let start = 0; start < n; start += 100) {
      const batch = await Promise.all(
        Array.from({ length: 100 }, async (_, j) => {
          const i = start + j;
          const f = { complexity: ((i * 37) % 100) / 100, length: (i % 17) + 1 };
          const r = await clients[i % 2].post('/v1/decide', { deployment: 'router', features: f });
          expect(r.status).toBe(200);
          return { id: r.body.decisionId as string, arm: r.body.armIndex as number, x: [1, f.complexity, f.length], made: i % 2 };
        }),
      );
      decisions.push(...batch);
    }
    const key = `bandit:state:test-router-${tag}`;
    const seq0 = Number((await redis.hget(key, 'seq')) ?? 0);
    // Rewarded at the other process, 64 in flight per process; half by components, half by a scalar.
    const rewards = decisions.map((_, i) => (i % 2 === 0 ? { thumbs_up: i % 3 === 0 ? 1 : 0, cost_usd: (i % 7) / 1000 } : ((i * 13) % 10) / 10));
    const scalar = rewards.map((r) => (typeof r === 'number' ? r : r.thumbs_up - 10 * r.cost_usd));
    let next = 0;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (next < n) {
          const i = next++;
          const d = decisions[i];
          const r = rewards[i];
          const body = typeof r === 'number' ? { decisionId: d.id, reward: r } : { decisionId: d.id, components: r };
          const res = await clients[1 - d.made].post('/v1/rewards', body);
          statuses.push(res.status);
        }
      }),
    );
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    // Increments are acknowledged before their batched flush: wait for the last batch, then it must be exact.
    await waitFor(async () => Number(await redis.hget(key, 'seq')) - seq0 >= n, 15_000, 'every increment in Redis');
    const h = await redis.hgetall(key);
    expect(Number(h.seq) - seq0).toBe(n);
    // Per arm: n, Σr, Σ r·x must equal what we sent (the first test's lone decision was never rewarded).
    for (let a = 0; a < 3; a++) {
      const mine = decisions.map((d, i) => ({ d, r: scalar[i] })).filter((e) => e.d.arm === a);
      expect(Number(h[`${a}:n`] ?? 0)).toBe(mine.length);
      expect(Number(h[`${a}:rs`] ?? 0)).toBeCloseTo(mine.reduce((s, e) => s + e.r, 0), 6);
      expect(Number(h[`${a}:xr:2`] ?? 0)).toBeCloseTo(mine.reduce((s, e) => s + e.r * e.d.x[2], 0), 5);
      expect(Number(h[`${a}:xx:0`] ?? 0)).toBe(mine.length); // Σ 1·1
    }
    // A reward is applied once: the same again is a 200 and changes nothing, a different one a 409.
    const again = await clients[0].post('/v1/rewards', { decisionId: decisions[1].id, reward: rewards[1] });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const other = await clients[1].post('/v1/rewards', { decisionId: decisions[1].id, reward: 5 });
    expect(other.status).toBe(409);
    expect(Number(await redis.hget(key, 'seq')) - seq0).toBe(n);
    // Both processes converge on the totals; decision and reward rows reach PostgreSQL.
    for (const c of clients) {
      await waitFor(async () => (await c.post('/v1/decide', { deployment: 'router', features: [0.5, 3] })).body.stateSeq === Number(h.seq), 15_000, 'the totals on both processes');
    }
    const ids = decisions.map((d) => d.id);
    await waitFor(async () => {
      const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
      return Number(rows[0].n) === n;
    }, 10_000, 'reward rows');
    const { rows } = await fx.db.pool.query<{ s: number }>('SELECT sum(reward) AS s FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
    expect(rows[0].s).toBeCloseTo(scalar.reduce((s, r) => s + r, 0), 6);
    await waitFor(async () => {
      const q = await fx.db.pool.query<{ n: string }>("SELECT count(*) AS n FROM decisions WHERE deployment = 'router' AND decision_id = ANY($1::uuid[]) AND propensity > 0", [ids]);
      return Number(q.rows[0].n) === n;
    }, 10_000, 'decision rows');
  }, 120_000);

  it('makes an update through one process visible in the other within 1 s', async () => {
    const [one, two] = clients;
    // Greedy LinUCB (alpha 0) on an intercept: a tie (propensity 1/2) until arm b earns a reward.
    const first = await two.post('/v1/decide', { deployment: 'pick' });
    expect(first.body.propensity).toBe(0.5);
    let bDecision: string | null = null;
    while (bDecision === null) {
      const r = await one.post('/v1/decide', { deployment: 'pick' });
      if (r.body.arm === 'b') bDecision = r.body.decisionId;
    }
    const rewarded = await one.post('/v1/rewards', { decisionId: bDecision, reward: 1 });
    expect(rewarded.status).toBe(201);
    const elapsed = await waitFor(async () => {
      const r = await two.post('/v1/decide', { deployment: 'pick' });
      return r.body.arm === 'b' && r.body.propensity === 1;
    }, 1000, 'arm b chosen with certainty by the other process');
    expect(elapsed).toBeLessThan(1000);
  });

  it('reads the context from the feature store (written by `autopilot features put`) and reports its age', async () => {
    const entity = `user:${tag}`;
    const env = { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379' };
    const validFrom = new Date(Date.now() - 5000).toISOString();
    const put = await promisify(execFile)(process.execPath, [join(root, 'bin/autopilot'), 'features', 'put', entity, 'complexity=0.25', 'length=42', '--valid-from', validFrom, '--json'], { cwd: root, env });
    expect(JSON.parse(put.stdout)).toMatchObject({ offlineRows: 2, online: 'written' });
    try {
      const r = await clients[0].post('/v1/decide', { deployment: 'router', features: { entity, length: 50 } });
      expect(r.status).toBe(200);
      await waitFor(async () => {
        const { rows } = await fx.db.pool.query('SELECT features FROM decisions WHERE decision_id = $1', [r.body.decisionId]);
        if (rows.length === 1) expect(rows[0].features).toEqual({ entity, length: 50, complexity: 0.25 });
        return rows.length === 1;
      }, 5000, 'the decision row with the stored features (the request\'s length wins)');
      const metrics = await clients[0].get('/metrics');
      const count = /autopilot_feature_age_seconds_count (\d+)/.exec(String(metrics.body));
      expect(Number(count?.[1])).toBeGreaterThanOrEqual(1);
      // Younger than 5 s buckets stay empty: the values are 5 s old.
      expect(String(metrics.body)).toMatch(/autopilot_feature_age_seconds_bucket\{le="1"\} 0/);
      expect(procs.map((p) => p.out.join('')).join('')).not.toMatch(/spilling to the journal/);
      const missing = await clients[1].post('/v1/decide', { deployment: 'router', features: { entity: `nobody:${tag}` } });
      expect(missing.status).toBe(404);
    } finally {
      await redis.del(`features:${entity}`);
    }
  });
});
