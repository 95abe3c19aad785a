/**
 * @autopilot/client against a real inference server (auth on, PostgreSQL, Redis, onnxruntime): the
 * decide → reward round trip with a typed action, batch rewards, a reward whose answer is delayed past
 * the client's timeout retried with the same decision id and counted once (the bandit learner's
 * sequence and the rewards table), errors carrying the server's field and expected; and every body the
 * client sends and receives parsed with the server's wire schemas (inference/http/wire-schemas.ts),
 * with the SDK's types checked against the schemas' types at compile time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { z } from 'zod';
import { AutopilotClient, AutopilotError, AutopilotTimeoutError, type Decision, type DecideRequest, type Reward, type RewardBatchResult, type RewardItemResult, type RewardResult } from '../src/index.js';
import * as wire from '../../../inference/http/wire-schemas.js';
import { createServingFixture, type ServingFixture } from '../../../inference/testing/fixture.js';
import { TEST_API_KEY } from '../../../inference/testing/api-key.js';
import { TcpProxy } from '../../../inference/testing/tcp-proxy.js';
import { deleteBanditDecisions } from '../../../inference/testing/bandit-keys.js';
import type { InferenceServer } from '../../../inference/server.js';

jest.setTimeout(60_000);

// ---- the SDK's types against the server's schemas (compile time: `tsc` fails when they drift) ----
type Assignable<From, To> = [From] extends [To] ? true : false;
/** Every key of `A` is a key of `B` (assignability alone allows extra optional keys, which a strict schema refuses). */
type KeysWithin<A, B> = [Exclude<keyof A, keyof B>] extends [never] ? true : false;
const typeChecks: [
  Assignable<DecideRequest, z.input<typeof wire.decideRequest>>,
  KeysWithin<DecideRequest, z.input<typeof wire.decideRequest>>,
  Assignable<Reward, z.input<typeof wire.rewardRequest>>,
  KeysWithin<Reward, z.input<typeof wire.rewardRequest>>,
  KeysWithin<z.output<typeof wire.decideResponse>, Decision<unknown>>,
  KeysWithin<z.output<typeof wire.rewardItemResult>, RewardItemResult>,
  Assignable<z.output<typeof wire.decideResponse>, Omit<Decision<unknown>, 'action'> & { action?: unknown }>,
  Assignable<z.output<typeof wire.rewardItemResult>, RewardItemResult>,
  Assignable<z.output<typeof wire.rewardResponse>, Omit<RewardResult, 'status' | 'attempts'>>,
  Assignable<Omit<z.output<typeof wire.rewardBatchResponse>, 'results'>, Omit<RewardBatchResult, 'results' | 'attempts'>>,
] = [true, true, true, true, true, true, true, true, true, true];

/** The action of the test policy (inference/testing/test-policy.ts): typed by the caller. */
interface RagAction {
  variant: string;
  k: number;
  rerank: boolean;
  fusion_weight: number;
  prompt_id: number;
}

const tag = randomBytes(4).toString('hex');
const stateKey = `test-sdk-${tag}`;
const x = Array.from({ length: 16 }, (_, i) => Math.sin(i / 3));

describe('@autopilot/client against the inference server', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let proxy: TcpProxy;
  const redis = new Redis('redis://127.0.0.1:6379');
  /** Every body sent and answered, to parse with the wire schemas. */
  const seen: { path: string; sent: unknown; status: number; answer: unknown }[] = [];
  const recording: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    const text = await res.clone().text();
    seen.push({ path: new URL(String(input)).pathname, sent: JSON.parse(String(init?.body)), status: res.status, answer: text === '' ? null : JSON.parse(text) });
    return res;
  };
  let client: AutopilotClient;

  beforeAll(async () => {
    fx = await createServingFixture();
    const v = await fx.register('ranker', 3);
    await fx.deploy('ranker', { champion: v.version });
    await fx.registry.createModel({ name: 'coin', actor: 'test' });
    await fx.registry.setDeployment({ model: 'coin', kind: 'bandit', championVersion: null, actor: 'test', config: { learner: { kind: 'beta-ts' }, arms: ['heads', 'tails'], stateKey } });
    server = await fx.start();
    proxy = new TcpProxy('127.0.0.1', Number(new URL(server.url).port));
    await proxy.start();
    client = new AutopilotClient({ baseUrl: server.url, apiKey: TEST_API_KEY, fetch: recording });
  });

  afterAll(async () => {
    await proxy?.close();
    await fx?.close();
    await redis.del(`bandit:state:${stateKey}`, `bandit:flushed:${stateKey}`);
    await deleteBanditDecisions(redis, tag);
    redis.disconnect();
  });

  const seq = async () => Number((await redis.hget(`bandit:state:${stateKey}`, 'seq')) ?? 0);
  const rewardRows = async (ids: string[]) =>
    (await fx.db.pool.query<{ id: string; reward: number }>('SELECT decision_id::text AS id, reward FROM rewards WHERE decision_id = ANY($1::uuid[]) ORDER BY 1', [ids])).rows;

  it('decides with a typed action and records its reward once (the same again is a duplicate)', async () => {
    const ranker = client.deployment<RagAction>('ranker');
    const d = await ranker.decide(x);
    expect(d).toMatchObject({ model: 'ranker', version: 1, arm: 'champion', fallback: false });
    expect(typeof d.action.k).toBe('number');
    expect(typeof d.action.variant).toBe('string');
    const first = await client.reward(d.decisionId, 0.8);
    expect(first).toEqual({ decisionId: d.decisionId, accepted: true, duplicate: false, status: 201, attempts: 1 });
    expect(await client.reward(d.decisionId, { reward: 0.8 })).toMatchObject({ status: 200, duplicate: true });
    const b = await client.decide({ deployment: 'coin' });
    expect(b.armIndex).toEqual(expect.any(Number));
    expect(await client.reward(b.decisionId, 1)).toMatchObject({ status: 201, arm: b.arm, reward: 1 });
    expect(await rewardRows([d.decisionId])).toEqual([{ id: d.decisionId, reward: 0.8 }]);
  });

  it('records a batch with one outcome per reward, refused ones naming their field', async () => {
    const ds = await Promise.all([0, 1, 2].map(() => client.decide<RagAction>({ deployment: 'ranker', features: x })));
    const unknown = randomUUID();
    const r = await client.rewards([
      { decisionId: ds[0].decisionId, reward: 1 },
      { decisionId: ds[1].decisionId, reward: 0, components: { quality: 0.5 } },
      { decisionId: unknown, reward: 1 },
      { decisionId: ds[2].decisionId, reward: 2e6 },
    ]);
    expect(r.results.map((o) => o.status)).toEqual([201, 201, 404, 400]);
    expect(r).toMatchObject({ accepted: 2, recorded: 2, duplicates: 0, rejected: 2, attempts: 1 });
    expect(r.results[2]).toMatchObject({ decisionId: unknown, field: 'rewards.2.decisionId', expected: expect.any(String) });
    expect(r.results[3]).toMatchObject({ field: 'rewards.3.reward', expected: 'a number in [-1000000, 1000000]' });
    // Larger than a request may hold: split, outcomes in order.
    const small = new AutopilotClient({ baseUrl: server.url, apiKey: TEST_API_KEY, maxBatch: 2, fetch: recording });
    const again = await small.rewards(ds.map((d) => ({ decisionId: d.decisionId, reward: 1 })));
    expect(again.results.map((o) => o.status)).toEqual([200, 409, 201]);
    expect(again.attempts).toBe(2);
  });

  it('retries a reward whose answer came after the timeout with the same decision id: counted once', async () => {
    const slow = new AutopilotClient({ baseUrl: `http://127.0.0.1:${proxy.port}`, apiKey: TEST_API_KEY, timeoutMs: 400, retries: 2, retryDelayMs: 10, fetch: recording });
    const d = await client.decide({ deployment: 'coin' });
    const seq0 = await seq();
    proxy.delayAnswers(1500); // the first attempt reaches the server; its answer comes too late
    const r = await slow.reward(d.decisionId, 1);
    expect(r).toMatchObject({ decisionId: d.decisionId, accepted: true, duplicate: true, status: 200, attempts: 2 });
    // A batch the same way.
    const ds = await Promise.all([0, 1].map(() => client.decide({ deployment: 'coin' })));
    proxy.delayAnswers(1500);
    const batch = await slow.rewards(ds.map((e) => ({ decisionId: e.decisionId, reward: 0 })));
    expect(batch).toMatchObject({ accepted: 2, duplicates: 2, rejected: 0, attempts: 2 });
    // The learner saw each reward once, and each has one row.
    const ids = [d.decisionId, ...ds.map((e) => e.decisionId)];
    const deadline = Date.now() + 15_000;
    while ((await seq()) < seq0 + 3 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    await new Promise((res) => setTimeout(res, 300));
    expect((await seq()) - seq0).toBe(3);
    const deadline2 = Date.now() + 15_000;
    while ((await rewardRows(ids)).length < 3 && Date.now() < deadline2) await new Promise((res) => setTimeout(res, 50));
    expect((await rewardRows(ids)).map((row) => row.reward).sort()).toEqual([0, 0, 1]);
    // Without retries the timeout surfaces as such.
    const impatient = new AutopilotClient({ baseUrl: `http://127.0.0.1:${proxy.port}`, apiKey: TEST_API_KEY, timeoutMs: 200, retries: 0 });
    proxy.delayAnswers(1000);
    await expect(impatient.reward(d.decisionId, 1)).rejects.toBeInstanceOf(AutopilotTimeoutError);
  });

  it('surfaces the server\'s error, field and expected', async () => {
    const bad = await client.decide({ deployment: 'ranker', features: [1, 2, 3] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(AutopilotError);
    expect(bad).toMatchObject({ status: 400, field: 'features', expected: expect.stringMatching(/16/) });
    expect((bad as Error).message).toMatch(/^decide ranker: 400 .*\(field features; expected .*16/);
    const unknown = randomUUID();
    await expect(client.reward(unknown, 1)).rejects.toMatchObject({ status: 404, field: 'decisionId', message: expect.stringContaining(`decision ${unknown} not found`) });
    const d = await client.decide({ deployment: 'ranker', features: x });
    await client.reward(d.decisionId, 0.5);
    await expect(client.reward(d.decisionId, 0.25)).rejects.toMatchObject({ status: 409, field: 'reward', expected: expect.stringMatching(/already recorded/) });
    await expect(client.decide({ deployment: 'nope', features: x })).rejects.toMatchObject({ status: 404, field: 'deployment' });
    const stranger = new AutopilotClient({ baseUrl: server.url, apiKey: 'ap_not_a_key' });
    await expect(stranger.decide({ deployment: 'ranker', features: x })).rejects.toMatchObject({ status: 401 });
    expect(() => new AutopilotClient({ baseUrl: 'localhost:8080' })).toThrow(/baseUrl: got "localhost:8080"; expected/);
  });

  it('sends and receives only what the server\'s wire schemas describe', () => {
    expect(typeChecks.every(Boolean)).toBe(true);
    expect(seen.length).toBeGreaterThan(15);
    for (const s of seen) {
      const batch = s.sent !== null && typeof s.sent === 'object' && 'rewards' in s.sent;
      const request = s.path === '/v1/decide' ? wire.decideRequest : batch ? wire.rewardBatchRequest : wire.rewardRequest;
      expect({ path: s.path, sent: request.safeParse(s.sent).error?.issues }).toEqual({ path: s.path, sent: undefined });
      const answer = s.status >= 400 ? wire.errorResponse : s.path === '/v1/decide' ? wire.decideResponse : batch ? wire.rewardBatchResponse : wire.rewardResponse;
      expect({ path: s.path, status: s.status, answer: answer.safeParse(s.answer).error?.issues }).toEqual({ path: s.path, status: s.status, answer: undefined });
    }
  });
});
