/**
 * Rewards are checked before anything reaches a learner (issue "Trust" item 2), against a real server,
 * the machine's Redis and a fresh PostgreSQL database:
 *
 * - a reward of 1e200, "-Infinity" as text, a non-JSON -Infinity, or one outside the deployment's
 *   `rewardRange` is a 400 naming the field and the range; the learner's hash in Redis is unchanged;
 *   the same decision then takes a valid reward (the refused one left no claim) and later rewards apply;
 * - a reward of a non-bandit decision is held to the default range (±1e6);
 * - a poison flush (an increment the Redis script refuses) changes nothing in Redis, lands in
 *   `reward_dead_letters` with an audit row and the metric, and the learner's later rewards still apply.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { JsonClient } from '../testing/client';
import { deleteBanditDecisions } from '../testing/bandit-keys';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';
import type { InferenceServer } from '../server';
import { BanditDeployment } from './deployment';
import { flushedKeyOf, stateKeyOf } from './shared-state';

jest.setTimeout(60_000);

const tag = randomBytes(4).toString('hex');
const stateKey = `guard-${tag}`;

describe('rewards checked before the learner', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let client: JsonClient;
  const redis = new Redis('redis://127.0.0.1:6379');
  const logged: string[] = [];

  beforeAll(async () => {
    fx = await createServingFixture();
    await fx.registry.createModel({ name: 'router', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'router',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: { learner: { kind: 'gaussian-ts' }, arms: ['a', 'b'], stateKey, rewardRange: [-10, 10] },
    });
    server = await fx.start({ banditFlushIntervalMs: 10, log: (level, msg) => logged.push(`${level} ${msg}`) });
    client = new JsonClient(server.url, 8);
  });

  afterAll(async () => {
    client?.close();
    await fx?.close();
    await redis.del(stateKeyOf(stateKey), flushedKeyOf(stateKey));
    await deleteBanditDecisions(redis, tag);
    redis.disconnect();
  });

  const decide = async (): Promise<string> => {
    const r = await client.post('/v1/decide', { deployment: 'router' });
    expect(r.status).toBe(200);
    return (r.body as { decisionId: string }).decisionId;
  };
  const state = () => redis.hgetall(stateKeyOf(stateKey));
  /** Long enough for a flush that had been queued to reach Redis (flush interval 10 ms). */
  const settle = () => new Promise((r) => setTimeout(r, 300));

  it('refuses 1e200, "-Infinity" as text and out-of-range rewards with a 400, leaves the learner unchanged, and applies later rewards', async () => {
    const [d1, d2] = [await decide(), await decide()];
    const before = await state();

    const cases: [string, unknown, RegExp, RegExp][] = [
      ['1e200', 1e200, /beyond any reward range/, /reward range/],
      ['-Infinity as text', '-Infinity', /must be a finite number, got "-Infinity"/, /finite number/],
      ['out of the deployment range', 50, /outside the reward range of bandit deployment router/, /\[-10, 10\]/],
      ['just below it', -10.5, /outside the reward range/, /\[-10, 10\]/],
    ];
    for (const [what, reward, error, expected] of cases) {
      const r = await client.post('/v1/rewards', { decisionId: d1, reward });
      expect({ what, status: r.status }).toEqual({ what, status: 400 });
      expect(r.body).toMatchObject({ error: expect.stringMatching(error), field: 'reward', expected: expect.stringMatching(expected) });
    }
    // -Infinity is not JSON at all.
    const raw = await client.post('/v1/rewards', `{"decisionId":"${d1}","reward":-Infinity}`);
    expect(raw.status).toBe(400);
    // In a batch: each bad item its own 400, the envelope 200.
    const batch = await client.post('/v1/rewards', { rewards: [{ decisionId: d1, reward: 1e200 }, { decisionId: d2, reward: 11 }] });
    expect(batch.status).toBe(200);
    expect((batch.body as { results: { status: number; field: string }[] }).results).toEqual([
      expect.objectContaining({ status: 400, field: 'rewards.0.reward' }),
      expect.objectContaining({ status: 400, field: 'rewards.1.reward' }),
    ]);

    await settle();
    expect(await state()).toEqual(before);

    // The refused rewards left no claim: the same decisions take valid rewards, which reach the learner.
    expect((await client.post('/v1/rewards', { decisionId: d1, reward: 2.5 })).status).toBe(201);
    expect((await client.post('/v1/rewards', { rewards: [{ decisionId: d2, reward: -10 }] })).body).toMatchObject({ recorded: 1 });
    const seq0 = Number(before.seq ?? 0);
    await waitFor(async () => Number((await state()).seq) === seq0 + 2, 5000, 'the two valid rewards in Redis');
    const after = await state();
    const rSum = Object.entries(after).filter(([k]) => k.endsWith(':rs')).reduce((s, [, v]) => s + Number(v), 0);
    const rSumBefore = Object.entries(before).filter(([k]) => k.endsWith(':rs')).reduce((s, [, v]) => s + Number(v), 0);
    expect(rSum - rSumBefore).toBeCloseTo(2.5 - 10, 9);
  });

  it('holds rewards of other decisions to the default range (±1e6)', async () => {
    const r = await client.post('/v1/rewards', { decisionId: randomUUID(), reward: 2e6 });
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ field: 'reward', expected: 'a number in [-1000000, 1000000]' });
  });

  it('sets a poison flush aside in the dead-letter table (audit row, metric) and keeps applying later rewards', async () => {
    const s = server.deployments.get('router');
    expect(s).toBeInstanceOf(BanditDeployment);
    const shared = (s as BanditDeployment).shared;
    const before = await state();
    // What no checked reward can produce: an increment the script must refuse (1e200 is beyond its bound,
    // and its square is not finite). Added straight to the learner, as a bug upstream would.
    shared.add({ arm: 0, stats: { n: 1, rSum: 1e200, rSqSum: Infinity } });
    await waitFor(() => shared.deadLettered === 1, 5000, 'the poison flush to be refused');
    expect(await state()).toEqual(before); // refused before its first write

    const rows = await waitFor(async () => (await fx.db.pool.query('SELECT 1 FROM reward_dead_letters')).rowCount === 1, 5000, 'the dead-letter row').then(
      async () => (await fx.db.pool.query('SELECT state_key, observations, increments, error FROM reward_dead_letters')).rows,
    );
    expect(rows).toEqual([{ state_key: stateKey, observations: 1, increments: { '0:n': '1', '0:rs': '1e+200', '0:rss': 'Infinity' }, error: expect.stringMatching(/^POISON increment of 0:rs/) }]);
    const audit = await fx.db.pool.query(`SELECT entity, entity_key, after FROM audit_log WHERE action = 'rewards.dead_lettered'`);
    expect(audit.rows).toEqual([{ entity: 'bandit_state', entity_key: stateKey, after: expect.objectContaining({ observations: 1, error: expect.stringMatching(/^POISON/) }) }]);
    const metrics = await client.get('/metrics');
    expect(String(metrics.body)).toMatch(new RegExp(`autopilot_inference_rewards_dead_lettered_total\\{state_key="${stateKey}"\\} 1\\b`));
    expect(logged.some((l) => /flush \d+ of 1 reward\(s\) refused/.test(l))).toBe(true);

    // Later rewards still apply (the poison flush is not retried in front of them).
    const d = await decide();
    expect((await client.post('/v1/rewards', { decisionId: d, reward: 1 })).status).toBe(201);
    await waitFor(async () => Number((await state()).seq) === Number(before.seq) + 1, 5000, 'the later reward in Redis');
    expect(shared.deadLettered).toBe(1);
  });
});
