/**
 * Batched POST /v1/rewards `{ rewards: [...] }` on two `autopilot serve` processes sharing one registry
 * and one Redis: a batch mixing bandit decisions, registry decisions, invalid items and repeated
 * decision ids gets one outcome per item (first wins inside a batch; a decision that does not exist is
 * that item's 404); concurrent batches through both
 * processes, with the same decisions sent to both, lose no update and apply none twice (Redis `seq` and
 * the per-arm sums equal what was sent); a batch's update through one process is visible in the other's
 * decisions within 1 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
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
}

function serve(fx: ServingFixture, name: string, extra: string[] = []): Promise<Proc> {
  const child = spawn(process.execPath, [join(root, 'bin/autopilot'), 'serve', '--port', '0', '--cache-dir', join(fx.dir, name), '--reconcile', '30', ...extra], {
    cwd: root,
    env: { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_ARTIFACT_URI: fx.artifactUri, AUTOPILOT_DATA_DIR: join(fx.dir, `${name}-data`), AUTOPILOT_REDIS_URL: 'redis://127.0.0.1:6379' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: string[] = [];
  return new Promise((resolveProc, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start: ${out.join('')}`)), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out.push(d.toString());
      const m = /serving on (http:\/\/\S+)/.exec(out.join(''));
      if (m) {
        clearTimeout(timer);
        resolveProc({ child, url: m[1], out });
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

interface Made {
  id: string;
  arm: number;
  x: number[];
}

describe('batched rewards on two serve processes', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const procs: Proc[] = [];
  let clients: JsonClient[];
  const routerKey = `bandit:state:test-brouter-${tag}`;

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    for (const name of ['router', 'pick', 'coin']) await fx.registry.createModel({ name, actor: 'test' });
    await fx.registry.setDeployment({
      model: 'coin',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { learner: { kind: 'beta-ts' }, arms: ['heads', 'tails'], stateKey: `test-bcoin-${tag}` },
    });
    await fx.registry.setDeployment({
      model: 'router',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: {
        learner: { kind: 'linucb', params: { alpha: 0.5 } },
        exploration: { kind: 'epsilon-greedy', epsilon: 0.1 },
        arms: ['gpt-large', 'gpt-small', 'haiku'],
        features: ['complexity', 'length'],
        rewardSpec,
        stateKey: `test-brouter-${tag}`,
      },
    });
    await fx.registry.setDeployment({
      model: 'pick',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { learner: { kind: 'linucb', params: { alpha: 0 } }, exploration: { kind: 'none' }, arms: ['a', 'b'], stateKey: `test-bpick-${tag}` },
    });
    procs.push(...(await Promise.all([serve(fx, 'one', ['--max-reward-batch', '600']), serve(fx, 'two', ['--max-reward-batch', '600'])])));
    clients = procs.map((p) => new JsonClient(p.url));
  }, 60_000);

  afterAll(async () => {
    clients?.forEach((c) => c.close());
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const keys = await redis.keys(`bandit:state:test-b*-${tag}`);
    if (keys.length) await redis.del(...keys);
    process.stdout.write(`bandit test clean-up: ${await deleteBanditDecisions(redis, tag)} decision entries\n`);
    redis.disconnect();
    await fx?.close();
  });

  async function decide(n: number, via: (i: number) => JsonClient = (i) => clients[i % 2]): Promise<Made[]> {
    const made: Made[] = [];
    for (let start = 0; start < n; start += 100) {
      made.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(100, n - start) }, async (_, j) => {
            const i = start + j;
            const f = { complexity: ((i * 37) % 100) / 100, length: (i % 17) + 1 };
            const r = await via(i).post('/v1/decide', { deployment: 'router', features: f });
            expect(r.status).toBe(200);
            return { id: r.body.decisionId as string, arm: r.body.armIndex as number, x: [1, f.complexity, f.length] };
          }),
        )),
      );
    }
    return made;
  }

  /** A decision of a non-bandit deployment, as another server logged it (rewards go to the registry). */
  async function registryDecision(): Promise<string> {
    const decisionId = randomUUID();
    await fx.decisions.insertDecisions([{ decisionId, time: new Date(), deployment: 'ranker', model: 'ranker', version: 1, arm: 'champion', features: [1, 2], action: { k: 1 }, propensity: 1 }]);
    return decisionId;
  }

  const seqOf = async (key: string) => Number((await redis.hget(key, 'seq')) ?? 0);

  it('answers a mixed batch with one outcome per item, first wins for a repeated decision', async () => {
    const [b1, b2, b3, b4, b5] = await decide(5);
    const seq0 = await seqOf(routerKey);
    const reg1 = await registryDecision();
    const reg2 = await registryDecision();
    const unknown = randomUUID();
    // reg2 already has a reward in the registry: the same again is a 200, a different one a 409.
    expect((await clients[0].post('/v1/rewards', { decisionId: reg2, reward: 0.25 })).status).toBe(201);
    const body = {
      rewards: [
        { decisionId: b1.id, reward: 0.5 }, // 0: bandit, recorded
        { decisionId: b1.id.toUpperCase(), reward: 0.5 }, // 1: same again (ids are case-insensitive): duplicate
        { decisionId: b1.id, reward: 0.75 }, // 2: different: 409
        { decisionId: reg1, reward: 1, components: { quality: 1 } }, // 3: registry, recorded
        { decisionId: reg1, reward: 2 }, // 4: registry, different: 409
        { decisionId: 'not-a-uuid', reward: 1 }, // 5: invalid id
        { decisionId: b2.id, reward: 'high' }, // 6: invalid reward
        { decisionId: b2.id, reward: 1, extra: true }, // 7: unknown field
        42, // 8: not an object
        { decisionId: b3.id, components: { thumbs_up: 1, cost_usd: 0.01 } }, // 9: bandit by components: 1 - 0.1 = 0.9
        { decisionId: b3.id, reward: 0.9 }, // 10: the same reward as a scalar: duplicate
        { decisionId: b4.id, components: { thumbs_up: 1 } }, // 11: incomplete components: 400
        { decisionId: b4.id, reward: 0.3 }, // 12: then a scalar: recorded (11 claimed nothing)
        { decisionId: randomUUID(), components: { thumbs_up: 1 } }, // 13: components for a non-bandit decision: 400
        { decisionId: reg2, reward: 0.25 }, // 14: registry duplicate of an earlier request
        { decisionId: reg2, reward: 0.5 }, // 15: registry conflict with an earlier request
        { decisionId: b5.id }, // 16: neither reward nor components
        { decisionId: b2.id, reward: 0 }, // 17: bandit, recorded (6 and 7 were refused)
        { decisionId: unknown, reward: 1 }, // 18: no such decision: 404
      ],
    };
    const r = await clients[1].post('/v1/rewards', body);
    expect(r.status).toBe(200);
    const st = (r.body.results as { status: number }[]).map((x) => x.status);
    expect(st).toEqual([201, 200, 409, 201, 409, 400, 400, 400, 400, 201, 200, 400, 201, 400, 200, 409, 400, 201, 404]);
    expect(r.body).toMatchObject({ accepted: 8, recorded: 5, duplicates: 3, rejected: 11 });
    const res = r.body.results;
    expect(res[0]).toEqual({ decisionId: b1.id, status: 201, accepted: true, duplicate: false, reward: 0.5, arm: expect.any(String) });
    expect(res[1]).toMatchObject({ decisionId: b1.id.toUpperCase(), duplicate: true, accepted: true });
    expect(res[2]).toMatchObject({ accepted: false, field: 'rewards.2.reward', error: expect.stringMatching(/already recorded as 0.5/) });
    expect(res[4]).toMatchObject({ field: 'rewards.4.reward', error: expect.stringMatching(/already recorded/) });
    expect(res[5]).toMatchObject({ decisionId: 'not-a-uuid', field: 'rewards.5.decisionId' });
    expect(res[6]).toMatchObject({ field: 'rewards.6.reward', expected: 'a finite number' });
    expect(res[7]).toMatchObject({ field: 'rewards.7.extra' });
    expect(res[8]).toMatchObject({ decisionId: null, field: 'rewards.8' });
    expect(res[9]).toMatchObject({ reward: 0.9, duplicate: false });
    expect(res[11]).toMatchObject({ field: 'rewards.11.components', error: expect.stringMatching(/cost_usd/) });
    expect(res[13]).toMatchObject({ field: 'rewards.13.reward' });
    expect(res[16]).toMatchObject({ field: 'rewards.16.reward' });
    expect(res[18]).toMatchObject({ decisionId: unknown, field: 'rewards.18.decisionId', error: expect.stringContaining(`decision ${unknown} not found`) });
    // Exactly the 4 bandit rewards reached the learner, and nothing else.
    await waitFor(async () => (await seqOf(routerKey)) - seq0 >= 4, 15_000, 'the batch in Redis');
    await new Promise((r2) => setTimeout(r2, 100));
    expect((await seqOf(routerKey)) - seq0).toBe(4);
    // Rows: 4 bandit rewards (batched reward log) + reg1 + reg2.
    const ids = [b1.id, b2.id, b3.id, b4.id, reg1, reg2, unknown];
    await waitFor(async () => {
      const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
      return Number(rows[0].n) === 6;
    }, 10_000, 'reward rows');
    const { rows } = await fx.db.pool.query<{ decision_id: string; reward: number; components: unknown }>('SELECT decision_id, reward, components FROM rewards WHERE decision_id = ANY($1::uuid[]) ORDER BY decision_id', [ids]);
    const byId = Object.fromEntries(rows.map((x) => [x.decision_id, x]));
    expect(byId[b1.id].reward).toBe(0.5);
    expect(byId[b2.id].reward).toBe(0);
    expect(byId[b3.id]).toMatchObject({ reward: 0.9, components: { thumbs_up: 1, cost_usd: 0.01 } });
    expect(byId[b4.id].reward).toBe(0.3);
    expect(byId[reg1]).toMatchObject({ reward: 1, components: { quality: 1 } });
    expect(byId[reg2].reward).toBe(0.25);
    // Sent again as a whole: everything accepted before is a duplicate now, nothing moves.
    const again = await clients[0].post('/v1/rewards', body);
    expect((again.body.results as { status: number }[]).map((x) => x.status)).toEqual([200, 200, 409, 200, 409, 400, 400, 400, 400, 200, 200, 400, 200, 400, 200, 409, 400, 200, 404]);
    await new Promise((r2) => setTimeout(r2, 100));
    expect((await seqOf(routerKey)) - seq0).toBe(4);
  });

  it('takes back the claim of a reward the learner refuses (Beta TS: outside [0, 1]), single or batched', async () => {
    const coinKey = `bandit:state:test-bcoin-${tag}`;
    const made = await Promise.all([0, 1].map(() => clients[0].post('/v1/decide', { deployment: 'coin' })));
    const [one, two] = made.map((r) => r.body.decisionId as string);
    const seq0 = await seqOf(coinKey);
    const bad = await clients[1].post('/v1/rewards', { decisionId: one, reward: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ field: 'reward', error: expect.stringMatching(/\[0, 1\]/) });
    expect((await clients[0].post('/v1/rewards', { decisionId: one, reward: 1 })).status).toBe(201);
    const batch = await clients[1].post('/v1/rewards', { rewards: [{ decisionId: two, reward: 2 }, { decisionId: two, reward: 2 }, { decisionId: two, reward: 0.5 }] });
    expect((batch.body.results as { status: number }[]).map((x) => x.status)).toEqual([400, 400, 409]);
    expect(batch.body.results[0]).toMatchObject({ field: 'rewards.0.reward' });
    expect(batch.body.results[2]).toMatchObject({ field: 'rewards.2.reward', error: expect.stringMatching(/send it again/) });
    const again = await clients[0].post('/v1/rewards', { rewards: [{ decisionId: two, reward: 0.5 }] });
    expect(again.body.results[0].status).toBe(201);
    await waitFor(async () => (await seqOf(coinKey)) - seq0 === 2, 15_000, 'the two accepted rewards in Redis');
  });

  it('refuses a malformed or oversized envelope as a whole', async () => {
    const id = await registryDecision();
    const cases: [unknown, number, string][] = [
      [{ rewards: [] }, 400, 'rewards'],
      [{ rewards: { decisionId: id, reward: 1 } }, 400, 'rewards'],
      [{ rewards: [{ decisionId: id, reward: 1 }], decisionId: id }, 400, 'decisionId'],
      [{ rewards: Array.from({ length: 601 }, () => ({ decisionId: id, reward: 1 })) }, 413, 'rewards'],
    ];
    for (const [body, status, field] of cases) {
      const r = await clients[0].post('/v1/rewards', body);
      expect(r.status).toBe(status);
      expect(r.body).toMatchObject({ field, expected: expect.any(String), error: expect.any(String) });
    }
    const r = await clients[0].post('/v1/rewards', { rewards: Array.from({ length: 600 }, () => ({ decisionId: id, reward: 1 })) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ accepted: 600, recorded: 1, duplicates: 599, rejected: 0 });
  });

  it('loses no update and applies none twice under concurrent batches through both processes', async () => {
    const n = 2000;
    const made = await decide(n);
    const seq0 = await seqOf(routerKey);
    const before = await redis.hgetall(routerKey);
    const rewardOf = (i: number) => ((i * 13) % 10) / 10;
    // Every decision is sent twice: once in a batch to each process, the two batches in flight together.
    // Batches of 100 in a different order on each side, so the same decision races on both processes.
    const order1 = made.map((_, i) => i);
    const order2 = [...order1].reverse();
    const batches = (order: number[]) => Array.from({ length: n / 100 }, (_, b) => ({ rewards: order.slice(b * 100, b * 100 + 100).map((i) => ({ decisionId: made[i].id, reward: rewardOf(i) })) }));
    const [r1, r2] = await Promise.all(
      [batches(order1), batches(order2)].map(async (list, side) => {
        const res = await Promise.all(list.map((body) => clients[side].post('/v1/rewards', body)));
        return res.map((r) => {
          expect(r.status).toBe(200);
          return r.body as { recorded: number; duplicates: number; rejected: number; results: { status: number; decisionId: string }[] };
        });
      }),
    );
    const all = [...r1, ...r2];
    expect(all.reduce((s, b) => s + b.rejected, 0)).toBe(0);
    expect(all.reduce((s, b) => s + b.recorded, 0)).toBe(n);
    expect(all.reduce((s, b) => s + b.duplicates, 0)).toBe(n);
    // Each decision: exactly one 201 over both processes.
    const recordedIds = all.flatMap((b) => b.results.filter((x) => x.status === 201).map((x) => x.decisionId));
    expect(new Set(recordedIds).size).toBe(n);
    await waitFor(async () => (await seqOf(routerKey)) - seq0 >= n, 15_000, 'every increment in Redis');
    await new Promise((r) => setTimeout(r, 100));
    const h = await redis.hgetall(routerKey);
    expect(Number(h.seq) - seq0).toBe(n);
    const num = (m: Record<string, string>, k: string) => Number(m[k] ?? 0);
    for (let a = 0; a < 3; a++) {
      const mine = made.map((d, i) => ({ d, r: rewardOf(i) })).filter((e) => e.d.arm === a);
      expect(num(h, `${a}:n`) - num(before, `${a}:n`)).toBe(mine.length);
      expect(num(h, `${a}:rs`) - num(before, `${a}:rs`)).toBeCloseTo(mine.reduce((s, e) => s + e.r, 0), 6);
      expect(num(h, `${a}:xr:2`) - num(before, `${a}:xr:2`)).toBeCloseTo(mine.reduce((s, e) => s + e.r * e.d.x[2], 0), 5);
      expect(num(h, `${a}:xx:0`) - num(before, `${a}:xx:0`)).toBe(mine.length);
    }
    // A different reward for an already rewarded decision, through either process: 409, nothing moves.
    const conflict = await clients[1].post('/v1/rewards', { rewards: [{ decisionId: made[7].id, reward: 5 }] });
    expect(conflict.body.results[0].status).toBe(409);
    // Both processes converge on the totals; every reward row reaches PostgreSQL once.
    for (const c of clients) {
      await waitFor(async () => (await c.post('/v1/decide', { deployment: 'router', features: [0.5, 3] })).body.stateSeq === Number(h.seq), 15_000, 'the totals on both processes');
    }
    const ids = made.map((d) => d.id);
    await waitFor(async () => {
      const { rows } = await fx.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
      return Number(rows[0].n) === n;
    }, 10_000, 'reward rows');
    const { rows } = await fx.db.pool.query<{ s: number }>('SELECT sum(reward) AS s FROM rewards WHERE decision_id = ANY($1::uuid[])', [ids]);
    expect(rows[0].s).toBeCloseTo(made.reduce((s, _, i) => s + rewardOf(i), 0), 6);
  }, 120_000);

  it('makes a batch\'s update through one process visible in the other within 1 s', async () => {
    const [one, two] = clients;
    // Greedy LinUCB (alpha 0) on an intercept: a tie (propensity 1/2) until arm b earns rewards.
    const first = await two.post('/v1/decide', { deployment: 'pick' });
    expect(first.body.propensity).toBe(0.5);
    const bDecisions: string[] = [];
    while (bDecisions.length < 3) {
      const r = await one.post('/v1/decide', { deployment: 'pick' });
      if (r.body.arm === 'b') bDecisions.push(r.body.decisionId);
    }
    const rewarded = await one.post('/v1/rewards', { rewards: bDecisions.map((decisionId) => ({ decisionId, reward: 1 })) });
    expect(rewarded.body.recorded).toBe(3);
    const elapsed = await waitFor(async () => {
      const r = await two.post('/v1/decide', { deployment: 'pick' });
      return r.body.arm === 'b' && r.body.propensity === 1;
    }, 1000, 'arm b chosen with certainty by the other process');
    expect(elapsed).toBeLessThan(1000);
  });
});
