/**
 * A reward is accepted only for a decision that exists (issue 19 item 2), against real servers
 * (auth on), PostgreSQL and Redis:
 *
 * - a reward of an unknown non-bandit decision is a 404 naming the decision id, after the body's own
 *   checks (a bad reward for an unknown id is still the 400); nothing is stored;
 * - a reward sent right after its decision is accepted while the decision still waits in the server's
 *   decision log (a server whose log flushes once an hour: the row is provably not in `decisions` yet),
 *   or in its journal (spilled while the database was away, not replayed yet);
 * - a batch mixing a logged decision, a decision still in the log, a bandit decision, unknown ids and a
 *   bad item gets one outcome per item: the known ones recorded, the unknown ones 404;
 * - the same with keys limited to deployments (the tenant guard): unknown ids are per-item 404s, a
 *   decision still in the log is found with its deployment and deciding key.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Db } from '../../registry/db';
import { createKey } from '../../registry';
import { newDecisionId } from '../decisions/id';
import { deleteBanditDecisions } from '../testing/bandit-keys';
import { TcpProxy } from '../testing/tcp-proxy';
import { createServingFixture, postJson, waitFor, type ServingFixture } from '../testing/fixture';
import type { InferenceServer } from '../server';

jest.setTimeout(60_000);

const tag = randomBytes(4).toString('hex');
const x = Array.from({ length: 16 }, (_, i) => Math.cos(i + 1));

describe('rewards bound to an existing decision', () => {
  let fx: ServingFixture;
  /** Writes its decision log as usual (batches every 25 ms). */
  let logged: InferenceServer;
  /** Holds every decision in its log's memory (one flush an hour, batches of 100,000). */
  let held: InferenceServer;
  const redis = new Redis('redis://127.0.0.1:6379');
  const tokens: Record<string, string> = {};

  beforeAll(async () => {
    fx = await createServingFixture();
    for (const [model, seed] of [['ranker', 1], ['owned', 2]] as const) {
      const v = await fx.register(model, seed);
      await fx.deploy(model, { champion: v.version });
    }
    await fx.registry.setDeployment({ model: 'owned', config: { rewardsFromDecidingKeyOnly: true }, actor: 'test' });
    await fx.registry.createModel({ name: 'coin', actor: 'test' });
    await fx.registry.setDeployment({ model: 'coin', kind: 'bandit', championVersion: null, actor: 'test', config: { learner: { kind: 'beta-ts' }, arms: ['heads', 'tails'], stateKey: `test-exist-${tag}` } });
    const db = Db.fromPool(fx.db.pool);
    for (const [name, scopes] of [['ranker', ['decide:ranker', 'reward:ranker']], ['owner', ['decide:owned', 'reward:owned']], ['stranger', ['reward:owned']]] as const) {
      tokens[name] = (await createKey(db, { name: `${name}-${tag}`, scopes: [...scopes] })).token;
    }
    logged = await fx.start();
    held = await fx.start({ decisionLog: { flushIntervalMs: 3_600_000, batchSize: 100_000 } });
  });

  afterAll(async () => {
    await fx?.close();
    await redis.del(`bandit:state:test-exist-${tag}`);
    await deleteBanditDecisions(redis, tag);
    redis.disconnect();
  });

  const decide = async (server: InferenceServer, deployment = 'ranker', apiKey?: string): Promise<string> => {
    const r = await postJson(`${server.url}/v1/decide`, deployment === 'coin' ? { deployment } : { deployment, features: x }, { apiKey });
    expect(r.status).toBe(200);
    return r.body.decisionId as string;
  };
  const inTable = async (table: 'decisions' | 'rewards', ids: string[]) =>
    (await fx.db.pool.query<{ id: string }>(`SELECT decision_id::text AS id FROM ${table} WHERE decision_id = ANY($1::uuid[])`, [ids])).rows.map((r) => r.id).sort();

  it('refuses a reward of a decision that does not exist with a 404 naming it, after the body\'s own 400s', async () => {
    const random = randomUUID(); // not a decision id at all (v4): refused at once
    const recent = newDecisionId(); // could be a decision another process has not written yet: looked for ~1 s, then refused
    for (const id of [random, recent]) {
      const r = await postJson(`${logged.url}/v1/rewards`, { decisionId: id, reward: 1 });
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error: expect.stringContaining(`decision ${id} not found`), field: 'decisionId', expected: expect.stringMatching(/decide call/) });
    }
    // The body's checks come first: a bad reward of an unknown decision is the 400.
    expect(await postJson(`${logged.url}/v1/rewards`, { decisionId: random, reward: 2e6 })).toMatchObject({ status: 400, body: { field: 'reward' } });
    expect(await postJson(`${logged.url}/v1/rewards`, { decisionId: random, reward: 'high' })).toMatchObject({ status: 400, body: { field: 'reward' } });
    expect(await inTable('rewards', [random, recent])).toEqual([]);
  });

  it('accepts a reward sent right after its decision, while the decision still waits in the decision log', async () => {
    const id = await decide(held);
    const r = await postJson(`${held.url}/v1/rewards`, { decisionId: id, reward: 0.5 });
    expect(r).toMatchObject({ status: 201, body: { accepted: true, duplicate: false } });
    expect(await inTable('decisions', [id])).toEqual([]); // provably still in the log's memory
    expect(await postJson(`${held.url}/v1/rewards`, { decisionId: id, reward: 0.5 })).toMatchObject({ status: 200, body: { duplicate: true } });
    expect((await postJson(`${held.url}/v1/rewards`, { decisionId: id, reward: 0.75 })).status).toBe(409);
    // On the usual server, each reward posted the moment its decision is answered.
    const ids = await Promise.all(Array.from({ length: 20 }, async () => {
      const d = await decide(logged);
      expect((await postJson(`${logged.url}/v1/rewards`, { decisionId: d, reward: 1 })).status).toBe(201);
      return d;
    }));
    expect(await inTable('rewards', [id, ...ids])).toEqual([id, ...ids].sort());
    await held.decisionLog.drain();
    expect(await inTable('decisions', [id])).toEqual([id]);
  });

  it('accepts a reward of a decision spilled to the journal while the database was away, before the backlog is replayed', async () => {
    const u = new URL(fx.db.url);
    const proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
    try {
      u.port = String(proxy.port);
      // Replays the journal once an hour: the spilled decision stays in the journal for this test.
      const spilling = await fx.start({ databaseUrl: u.toString(), decisionLog: { flushIntervalMs: 10, writeTimeoutMs: 300, retryIntervalMs: 3_600_000 } });
      await proxy.cut();
      const id = await decide(spilling);
      await waitFor(() => spilling.decisionLog.getStats().spilled >= 1, 10_000, 'the decision spilled to the journal');
      await proxy.restore();
      expect(await inTable('decisions', [id])).toEqual([]);
      expect(await postJson(`${spilling.url}/v1/rewards`, { rewards: [{ decisionId: id, reward: 0.5 }, { decisionId: randomUUID(), reward: 0.5 }] })).toMatchObject({
        status: 200,
        body: { results: [expect.objectContaining({ status: 201 }), expect.objectContaining({ status: 404 })] },
      });
      expect(await inTable('decisions', [id])).toEqual([]); // still only in the journal
      expect(await inTable('rewards', [id])).toEqual([id]);
      await spilling.decisionLog.drain();
      expect(await inTable('decisions', [id])).toEqual([id]);
    } finally {
      await proxy.close();
    }
  });

  it('answers a mixed batch with one outcome per item: known decisions recorded, unknown ones 404', async () => {
    const written = await decide(logged);
    await logged.decisionLog.drain();
    const waiting = await decide(held);
    const bandit = await decide(held, 'coin');
    const unknown = [randomUUID(), newDecisionId()];
    const r = await postJson(`${held.url}/v1/rewards`, {
      rewards: [
        { decisionId: written, reward: 1 }, // 0: in `decisions`
        { decisionId: unknown[0], reward: 1 }, // 1: no such decision
        { decisionId: waiting, reward: 0.25 }, // 2: still in the decision log
        { decisionId: bandit, reward: 1 }, // 3: a bandit decision (its claim)
        { decisionId: unknown[1], reward: 0 }, // 4: no such decision (a recent-looking id)
        { decisionId: unknown[0], reward: 'x' }, // 5: a bad item: its 400, not the 404
        { decisionId: written, reward: 1 }, // 6: the same again: duplicate
      ],
    });
    expect(r.status).toBe(200);
    expect(r.body.results.map((o: { status: number }) => o.status)).toEqual([201, 404, 201, 201, 404, 400, 200]);
    expect(r.body).toMatchObject({ accepted: 4, recorded: 3, duplicates: 1, rejected: 3 });
    expect(r.body.results[1]).toMatchObject({ decisionId: unknown[0], accepted: false, field: 'rewards.1.decisionId', error: expect.stringContaining(unknown[0]) });
    expect(r.body.results[4]).toMatchObject({ decisionId: unknown[1], field: 'rewards.4.decisionId' });
    expect(r.body.results[5]).toMatchObject({ field: 'rewards.5.reward' });
    await held.decisionLog.drain();
    expect(await inTable('rewards', [written, waiting, ...unknown])).toEqual([written, waiting].sort());
  });

  it('with keys limited to deployments: unknown ids are per-item 404s; a decision still in the log is found with its deployment and key', async () => {
    const mine = await decide(held, 'ranker', tokens.ranker);
    const unknown = randomUUID();
    const batch = await postJson(`${held.url}/v1/rewards`, { rewards: [{ decisionId: mine, reward: 1 }, { decisionId: unknown, reward: 1 }] }, { apiKey: tokens.ranker });
    expect(batch.status).toBe(200);
    expect(batch.body.results).toEqual([
      expect.objectContaining({ decisionId: mine, status: 201 }),
      expect.objectContaining({ decisionId: unknown, status: 404, field: 'rewards.1.decisionId' }),
    ]);
    expect((await postJson(`${held.url}/v1/rewards`, { decisionId: unknown, reward: 1 }, { apiKey: tokens.ranker })).status).toBe(404);
    expect(await postJson(`${held.url}/v1/rewards`, { decisionId: unknown, reward: 'x' }, { apiKey: tokens.ranker })).toMatchObject({ status: 400, body: { field: 'reward' } });
    // `owned` takes rewards from the deciding key only: checked against the key in the log's pending line.
    const owned = await decide(held, 'owned', tokens.owner);
    expect(await postJson(`${held.url}/v1/rewards`, { decisionId: owned, reward: 1 }, { apiKey: tokens.stranger })).toMatchObject({ status: 403, body: { field: 'decisionId' } });
    expect((await postJson(`${held.url}/v1/rewards`, { decisionId: owned, reward: 1 }, { apiKey: tokens.owner })).status).toBe(201);
    // A key limited to ranker may not reward an `owned` decision still in the log either.
    expect((await postJson(`${held.url}/v1/rewards`, { rewards: [{ decisionId: owned, reward: 1 }] }, { apiKey: tokens.ranker })).status).toBe(403);
    expect(await inTable('decisions', [mine, owned])).toEqual([]);
  });
});
