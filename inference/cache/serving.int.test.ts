/**
 * Semantic-cache deployments (UC8) on two inference servers sharing one registry (PostgreSQL), one Redis
 * and one artifact store, with the real MiniLM embedding model (make setup-minilm): a near-duplicate
 * prompt hits, every hit and admission is a decision row with its arm and propensity, a wrong hit is
 * dropped, the reuse model learnt through either server is the same model on both, it is snapshotted to
 * the registry, and a config change is hot-swapped (the cached answers carried over, the new reuse model
 * started from the snapshot).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { DEFAULT_MINILM_DIR } from '../embeddings/minilm';
import { JsonClient } from '../testing/client';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';
import type { InferenceServer } from '../server';

const ready = existsSync(join(DEFAULT_MINILM_DIR, 'model.onnx'));
if (!ready && process.env.CI === 'true') throw new Error(`${DEFAULT_MINILM_DIR} is missing: run make setup-minilm`);
const maybe = ready ? describe : describe.skip;

const tag = randomBytes(4).toString('hex');
const stateKey = `test-cache-${tag}`;
const EPS = 0.1;
const config = {
  threshold: 0.85,
  ttlSeconds: 3600,
  capacity: 100,
  epsilon: EPS,
  // 0: a hit may be reported wrong until this server's next lookup, which labels it right otherwise.
  wrongHitWindowSeconds: 0,
  cost: { llmUsdPerRequest: 0.004 },
  reuseModel: { bits: 12, stateKey, snapshotEverySeconds: 1 },
};

maybe('semantic-cache deployments on two servers', () => {
  let fx: ServingFixture;
  let redis: Redis;
  const servers: InferenceServer[] = [];
  let clients: JsonClient[];
  const cacheOf = (i: number) => servers[i].semanticCaches!.get('faq')!;

  /** Looks `prompt` up on server `i`; on a miss stores `answer` (again after an explored skip, until stored). */
  async function ensureStored(i: number, prompt: string, answer: string): Promise<{ decisionIds: string[]; arms: string[] }> {
    const decisionIds: string[] = [];
    const arms: string[] = [];
    for (let attempt = 0; attempt < 12; attempt++) {
      const l = await clients[i].post('/v1/cache/lookup', { deployment: 'faq', prompt });
      expect(l.status).toBe(200);
      if (l.body.hit) return { decisionIds, arms };
      const s = await clients[i].post('/v1/cache/store', { deployment: 'faq', decisionId: l.body.decisionId, response: answer });
      expect(s.status).toBe(200);
      decisionIds.push(l.body.decisionId);
      arms.push(s.body.stored ? 'store' : 'skip');
      // ε-greedy over two actions: the greedy one with 1 − ε/2, the other with ε/2.
      expect([1 - EPS / 2, EPS / 2]).toContainEqual(s.body.propensity);
      if (s.body.stored) return { decisionIds, arms };
    }
    throw new Error(`${prompt}: never stored in 12 tries`);
  }

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'faq', actor: 'test' });
    await fx.registry.setDeployment({ model: 'faq', kind: 'semantic-cache', championVersion: null, actor: 'test', config });
    for (let i = 0; i < 2; i++) servers.push(await fx.start({ onlineRefreshIntervalMs: 50 }));
    clients = servers.map((s) => new JsonClient(s.url));
  }, 120_000);

  afterAll(async () => {
    clients?.forEach((c) => c.close());
    if (redis) {
      const keys = [...(await redis.keys(`online:*:${stateKey}*`)), ...(await redis.keys(`semantic-cache:*:${stateKey}*`))];
      if (keys.length) await redis.del(...keys);
      redis.disconnect();
    }
    await fx?.close();
  });

  it('hits a near-duplicate prompt, drops a hit reported wrong, and logs every hit and admission with its arm and propensity', async () => {
    const answer = 'Open Settings → Security → Reset password, and follow the link we email you.';
    const first = await ensureStored(0, 'How do I reset my password?', answer);
    expect(first.arms[first.arms.length - 1]).toBe('store');
    const hit = await clients[0].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'how do i reset my password' });
    expect(hit.status).toBe(200);
    expect(hit.body).toMatchObject({ hit: true, response: answer, model: 'faq' });
    expect(hit.body.similarity).toBeGreaterThanOrEqual(0.85);
    // Reported wrong: the entry is dropped and its admission labelled 0 in the shared reuse model; twice is a 409.
    const seq = Number((await redis.hget(`online:state:${stateKey}`, 'seq')) ?? 0);
    const wrong = await clients[0].post('/v1/cache/wrong-hit', { deployment: 'faq', decisionId: hit.body.decisionId, mismatchUsd: 0.01 });
    expect([wrong.status, wrong.body.dropped]).toEqual([200, true]);
    await waitFor(async () => Number(await redis.hget(`online:state:${stateKey}`, 'seq')) >= seq + 1, 5000, 'the wrong hit learnt');
    const again = await clients[0].post('/v1/cache/wrong-hit', { deployment: 'faq', decisionId: hit.body.decisionId });
    expect([again.status, again.body.field]).toEqual([409, 'decisionId']);
    // Stored again (its lookup misses: the entry is gone), then hit again.
    const second = await ensureStored(0, 'How do I reset my password?', answer);
    expect(second.decisionIds.length).toBeGreaterThan(0);
    const hit2 = await clients[0].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'How do I reset my password' });
    expect(hit2.body).toMatchObject({ hit: true, response: answer });
    const other = await clients[0].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'Write a limerick about volcanic soil chemistry.' });
    expect(other.body).toMatchObject({ hit: false });
    expect(other.body.similarity).toBeLessThan(0.85);
    // The rows: each admission under its lookup's decision id (arm store/skip, ε-greedy propensity), each hit (arm hit, 1).
    const decisionIds = [...first.decisionIds, ...second.decisionIds];
    const arms = [...first.arms, ...second.arms];
    const rows = async () => (await fx.db.pool.query('SELECT decision_id, arm, propensity, features, action, metadata FROM decisions WHERE deployment = $1', ['faq'])).rows;
    await waitFor(async () => (await rows()).length >= decisionIds.length + 2, 10_000, 'the decision rows');
    const byId = new Map((await rows()).map((r) => [r.decision_id, r]));
    decisionIds.forEach((id, j) => {
      const r = byId.get(id);
      expect(r).toMatchObject({ arm: arms[j], metadata: { kind: 'semantic-cache', stateKey, epsilon: EPS } });
      expect(Number(r.propensity)).toBeCloseTo(r.action.store === r.action.valueUsd > 0 ? 1 - EPS / 2 : EPS / 2, 12);
      expect(r.features).toMatchObject({ near: expect.any(String), len: '1' });
    });
    for (const h of [hit, hit2]) expect(byId.get(h.body.decisionId)).toMatchObject({ arm: 'hit', propensity: 1, action: { hit: true } });
    expect(byId.has(other.body.decisionId)).toBe(false); // a miss not (yet) stored made no decision
    // Entries are this server's: server 1 has not seen the question.
    expect((await clients[1].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'how do i reset my password' })).body.hit).toBe(false);
  });

  it('refuses bad requests naming the field', async () => {
    const c = clients[0];
    const noPrompt = await c.post('/v1/cache/lookup', { deployment: 'faq' });
    expect([noPrompt.status, noPrompt.body.field]).toEqual([400, 'prompt']);
    const badCtx = await c.post('/v1/cache/lookup', { deployment: 'faq', prompt: 'hi', context: { tenant: [1] } });
    expect([badCtx.status, badCtx.body.field]).toEqual([400, 'context.tenant']);
    const badCost = await c.post('/v1/cache/lookup', { deployment: 'faq', prompt: 'hi', costUsd: -1 });
    expect([badCost.status, badCost.body.field]).toEqual([400, 'costUsd']);
    const unknownMember = await c.post('/v1/cache/lookup', { deployment: 'faq', prompt: 'hi', model: 'faq' });
    expect([unknownMember.status, unknownMember.body.field]).toEqual([400, 'model']);
    const unknown = await c.post('/v1/cache/store', { deployment: 'faq', decisionId: '00000000-0000-7000-8000-000000000000', response: 'x' });
    expect([unknown.status, unknown.body.field]).toEqual([404, 'decisionId']);
    const notCache = await c.post('/v1/cache/lookup', { deployment: 'nope', prompt: 'hi' });
    expect([notCache.status, notCache.body.field]).toEqual([404, 'deployment']);
    const decide = await c.post('/v1/decide', { deployment: 'faq', features: [1] });
    expect(decide.status).toBe(400);
    expect(decide.body.error).toMatch(/\/v1\/cache\/lookup/);
    const get = await c.get('/v1/cache/lookup');
    expect(get.status).toBe(405);
  });

  it('learns ONE reuse model from the labels of both servers: both predict alike at the same seq', async () => {
    const families = [
      ['How do I cancel my subscription?', 'how do i cancel my subscription', 'Cancel it under Billing → Plan.'],
      ['What are your opening hours?', 'what are your opening hours', 'Weekdays 9 to 17.'],
      ['Where is my order?', 'where is my order', 'Track it under Orders.'],
      ['How do I get a refund?', 'how do i get a refund', 'Refunds: Orders → Return.'],
    ];
    for (const [j, [q, dup, answer]] of families.entries()) {
      const i = j % 2;
      await ensureStored(i, q, answer);
      expect((await clients[i].post('/v1/cache/lookup', { deployment: 'faq', prompt: dup })).body.hit).toBe(true);
    }
    // One more lookup on each server: the hits before it were not reported wrong, so they are labelled 1.
    for (const c of clients) await c.post('/v1/cache/lookup', { deployment: 'faq', prompt: 'Tell me a joke about Byzantine mosaics.' });
    const labelled = cacheOf(0).cache.stats.labelled + cacheOf(1).cache.stats.labelled;
    expect(labelled).toBeGreaterThanOrEqual(5);
    await waitFor(async () => Number(await redis.hget(`online:state:${stateKey}`, 'seq')) >= labelled, 5000, `${labelled} labels in Redis`);
    const seq = Number(await redis.hget(`online:state:${stateKey}`, 'seq'));
    await waitFor(() => cacheOf(0).state.seq === seq && cacheOf(1).state.seq === seq, 5000, `both servers at seq ${seq}`);
    const probes = [
      { len: '1', near: 'dup', seen: Math.log1p(1), llm_cost_bucket: '3' },
      { len: '2', near: 'new', seen: 0, llm_cost_bucket: '3' },
      { len: '5', near: 'related', seen: 0, llm_cost_bucket: '3' },
    ];
    const p0 = probes.map((f) => cacheOf(0).cache.predictReuse(f));
    const p1 = probes.map((f) => cacheOf(1).cache.predictReuse(f));
    expect(p1).toEqual(p0);
    expect(p0[0]).not.toBe(0.5); // it learnt
  });

  it('snapshots the reuse model to the registry and hot-swaps a new config started from it, keeping the cached answers', async () => {
    const seq = Number(await redis.hget(`online:state:${stateKey}`, 'seq'));
    let version = 0;
    await waitFor(
      async () => {
        const v = (await fx.registry.listVersions('faq')).find((x) => x.tags.seq === String(seq));
        if (v) version = v.version;
        return v !== undefined;
      },
      15_000,
      `a snapshot at seq ${seq}`,
    );
    const v = await fx.registry.getVersion('faq', version);
    expect(v.format).toBe('json');
    expect(v.tags).toMatchObject({ kind: 'semantic-cache', deployment: 'faq', stateKey });
    const probe = { len: '1', near: 'dup', seen: Math.log1p(1), llm_cost_bucket: '3' };
    const before = cacheOf(0).cache.predictReuse(probe);
    const stored = cacheOf(0).cache.size;
    expect(stored).toBeGreaterThan(0);
    const generation = cacheOf(0).generation;
    const key2 = `${stateKey}-swap`;
    await fx.registry.setDeployment({ model: 'faq', kind: 'semantic-cache', championVersion: null, actor: 'test', config: { ...config, threshold: 0.995, reuseModel: { bits: 12, stateKey: key2, snapshotEverySeconds: 0, init: { version } } } });
    await waitFor(() => [0, 1].every((i) => cacheOf(i).generation > generation && cacheOf(i).config.cache.threshold === 0.995), 15_000, 'both servers on the new config');
    for (const i of [0, 1]) {
      expect(cacheOf(i).state.key).toBe(`online:state:${key2}`);
      expect(cacheOf(i).state.seq).toBe(seq);
      expect(cacheOf(i).cache.predictReuse(probe)).toBe(before);
    }
    expect(cacheOf(0).cache.size).toBe(stored); // the answers were carried over
    // The same answer still serves the same prompt; a near-duplicate below the new threshold does not.
    const same = await clients[0].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'Where is my order?' });
    expect(same.body).toMatchObject({ hit: true, response: 'Track it under Orders.' });
    const near = await clients[0].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'hey where is my order thx' });
    expect(near.body.hit).toBe(false);
    expect(near.body.similarity).toBeLessThan(0.995);
    // A bad config keeps the current one serving.
    await fx.registry.setDeployment({ model: 'faq', kind: 'semantic-cache', championVersion: null, actor: 'test', config: { ...config, threshold: 2 } }).catch(() => undefined);
    expect((await clients[1].post('/v1/cache/lookup', { deployment: 'faq', prompt: 'Where is my order?' })).status).toBe(200);
  });
});
