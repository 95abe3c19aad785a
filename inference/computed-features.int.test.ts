/**
 * Computed features on the real inference server, Redis and PostgreSQL: a bandit deployment whose
 * context comes from a feature set named in the decide request. The server computes the set from the
 * raw request and the Redis windows, logs what it used; rewards (with latency, cost and error) feed
 * the windows of the model that served them; the offline builder, reading the decision log and
 * feature_events, recomputes every decision's features point-in-time and gets the logged values —
 * a reward that arrived after a decision is not in its features.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DEFAULT_FEATURE_SETS_DIR, buildTrainingSet, parseFeatureSet } from '../feature-store/computed';
import { Db } from '../registry/db';
import { ActorCritic } from '../ml/rl/actor-critic';
import { exportOnnx } from '../ml/onnx/export';
import { Rng } from '../ml/rng';
import type { InferenceServer } from './server';
import { TEST_ACTION_SPACE } from './testing/test-policy';
import { createServingFixture, postJson, waitFor, type ServingFixture } from './testing/fixture';

const tag = randomBytes(4).toString('hex');
const set = parseFeatureSet(readFileSync(join(DEFAULT_FEATURE_SETS_DIR, 'llm-routing.yaml'), 'utf8').replace(/^set: llm-routing$/m, `set: llm-routing-i${tag}`), 'llm-routing.yaml');
const POLICY_INPUTS = [
  'prompt_chars', 'prompt_words', 'prompt_tokens_est', 'prompt_script', 'task_category', 'has_code', 'question_marks', 'max_tokens',
  'hour_sin', 'hour_cos', 'is_weekend', 'tenant_requests_1m', 'tenant_reward_mean_1h', 'cheap_latency_p50_15m', 'mid_error_rate_15m', 'premium_cost_mean_1h',
];
const CONTEXT = ['prompt_tokens_est', 'has_code', 'task_category', 'tenant_requests_1h', 'tenant_reward_mean_1h', 'cheap_latency_mean_15m', 'mid_latency_mean_15m', 'premium_latency_mean_15m'];

describe('computed features served by name (bandit deployment, Redis, PostgreSQL)', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let redis: Redis;
  const tenant = `acme-${tag}`;

  beforeAll(async () => {
    fx = await createServingFixture();
    redis = new Redis('redis://127.0.0.1:6379');
    await fx.registry.createModel({ name: 'llm-router', actor: 'test' });
    await fx.registry.setDeployment({
      model: 'llm-router',
      kind: 'bandit',
      championVersion: null,
      actor: 'test',
      config: {
        learner: { kind: 'linucb', params: { alpha: 0.5 } },
        exploration: { kind: 'epsilon-greedy', epsilon: 0.1 },
        arms: ['cheap', 'mid', 'premium'],
        features: CONTEXT,
        stateKey: `test-llm-router-${tag}`,
      },
    });
    // A policy (ONNX) whose 16 inputs are named after features of the set.
    const policy = ActorCritic.create({ observationSize: POLICY_INPUTS.length, actionSpace: TEST_ACTION_SPACE, hidden: [16] }, 5);
    const rng = new Rng(11);
    for (let i = 0; i < policy.params.data.length; i++) policy.params.data[i] = rng.normal() * 0.3;
    const { model, signature } = exportOnnx(policy, { graphName: 'router', observationNames: POLICY_INPUTS });
    const v = await fx.registry.registerVersion({ model: 'llm-policy', artifact: { buffer: Buffer.from(model) }, format: 'onnx', signature: signature as never, createModel: true, actor: 'test' });
    await fx.registry.setDeployment({ model: 'llm-policy', championVersion: v.version, exploration: { mode: 'greedy' }, actor: 'test' });
    server = await fx.start({ featureSets: new Map([[set.name, set]]) });
  }, 60_000);

  afterAll(async () => {
    await server?.close();
    const keys = [...(await redis.keys(`cf:${set.name}:*`)), ...(await redis.keys(`bandit:state:test-llm-router-${tag}*`))];
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await fx?.close();
  });

  const decide = (prompt: string) => postJson(`${server.url}/v1/decide`, { deployment: 'llm-router', features: { featureSet: set.name, request: { prompt, tenant } } });

  it('decides from a named set, feeds rewards into the windows, and the offline builder recomputes the logged values', async () => {
    const d1 = await decide('Fix this python bug: def f(x): return x +');
    expect(d1.status).toBe(200);
    const d2 = await decide('What is the capital of France?');
    expect(d2.status).toBe(200);
    // d1's reward: counted for its tenant and for the model (arm) that served it.
    const r1 = await postJson(`${server.url}/v1/rewards`, { decisionId: d1.body.decisionId, reward: 0.75, components: { latency_ms: 300, cost_usd: 0.002, error: 0 } });
    expect(r1.status).toBe(201);
    await waitFor(() => server.featureObserver!.stats.counted === 1, 20_000, 'the first reward counted in the windows');
    const d3 = await decide('Summarize the key points of this memo.');
    expect(d3.status).toBe(200);
    // d3's reward (batch form) arrives after d3 was decided: d3's own features must not include it.
    const r3 = await postJson(`${server.url}/v1/rewards`, { rewards: [{ decisionId: d3.body.decisionId, reward: 0.25, components: { latency_ms: 900, cost_usd: 0.01, error: 1 } }] });
    expect(r3.body.results[0].accepted).toBe(true);
    await waitFor(() => server.featureObserver!.stats.counted === 2, 20_000, 'the second reward counted');
    const count = async (n: number) => Number((await fx.db.pool.query(`SELECT count(*) FROM decisions WHERE deployment = 'llm-router'`)).rows[0].count) === n;
    await waitFor(() => count(3), 20_000, 'the three decisions written');

    const { rows } = await fx.db.pool.query(`SELECT decision_id, features FROM decisions WHERE deployment = 'llm-router' ORDER BY time`);
    expect(rows.map((r) => r.decision_id)).toEqual([d1.body.decisionId, d2.body.decisionId, d3.body.decisionId]);
    const logged = rows.map((r) => r.features as { featureSet: string; asOf: number; request: { prompt: string; tenant: string }; values: Record<string, number> });
    expect(logged[0].featureSet).toBe(set.name);
    expect(logged[0].request).toEqual({ prompt: 'Fix this python bug: def f(x): return x +', tenant });
    expect(Object.keys(logged[0].values).sort()).toEqual([...set.names].sort());
    // What the windows held at each decision: requests before it; d1's reward only for d3.
    expect(logged.map((l) => l.values.tenant_requests_1h)).toEqual([0, 1, 2]);
    expect(logged.map((l) => l.values.tenant_rewards_1h)).toEqual([0, 0, 1]);
    expect(logged[2].values.tenant_reward_mean_1h).toBe(0.75);
    expect(logged[2].values[`${d1.body.arm}_latency_mean_15m`]).toBe(300);
    expect(logged[0].values.has_code).toBe(1);
    expect(logged[0].values.task_category).toBe(1); // code, levels [chat, code, …]

    // The offline builder: decisions from the log, rewards from feature_events, point in time.
    const training = await buildTrainingSet(Db.fromPool(fx.db.pool), set, { deployment: 'llm-router' });
    expect(training.map((t) => t.decisionId)).toEqual(rows.map((r) => r.decision_id));
    training.forEach((t, i) => {
      expect(set.toRecord(t.values)).toEqual(logged[i].values);
      expect(t.logged).toEqual(logged[i].values);
    });
    expect(training.map((t) => t.reward)).toEqual([0.75, null, 0.25]);
    // The windows now hold d3's reward too: a decision made now sees it, d3's row does not.
    const d4 = await decide('hello?');
    await waitFor(() => count(4), 20_000, 'the fourth decision written');
    const { rows: r4 } = await fx.db.pool.query(`SELECT features FROM decisions WHERE decision_id = $1`, [d4.body.decisionId]);
    expect(r4[0].features.values.tenant_rewards_1h).toBe(2);
    expect(r4[0].features.values.tenant_reward_mean_1h).toBe(0.5);
  }, 90_000);

  it('serves a policy (ONNX) deployment from the same set: the inputs filled by name, the logged form replayed without counting again', async () => {
    const request = { prompt: 'Translate this sentence into French, please?', tenant: `policy-${tag}`, max_tokens: 128 };
    const a = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-policy', features: { featureSet: set.name, request } });
    expect(a.status).toBe(200);
    await waitFor(async () => (await fx.db.pool.query(`SELECT 1 FROM decisions WHERE decision_id = $1`, [a.body.decisionId])).rowCount === 1, 20_000, 'the policy decision written');
    const { rows } = await fx.db.pool.query(`SELECT features FROM decisions WHERE decision_id = $1`, [a.body.decisionId]);
    const logged = rows[0].features as { featureSet: string; asOf: number; request: unknown; values: Record<string, number> };
    expect(logged.request).toEqual(request);
    expect(logged.values.max_tokens).toBe(128);
    expect(logged.values.task_category).toBe(4); // translate
    // The same inputs sent inline by name: the same (greedy) action.
    const inline = Object.fromEntries(POLICY_INPUTS.map((n) => [n, logged.values[n]]));
    const b = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-policy', features: inline });
    expect(b.status).toBe(200);
    expect(b.body.action).toEqual(a.body.action);
    // The logged form replayed: same action, and the tenant's windows did not count it.
    const c = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-policy', features: logged });
    expect(c.status).toBe(200);
    expect(c.body.action).toEqual(a.body.action);
    const d = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-policy', features: { featureSet: set.name, request } });
    await waitFor(async () => (await fx.db.pool.query(`SELECT 1 FROM decisions WHERE decision_id = $1`, [d.body.decisionId])).rowCount === 1, 20_000, 'the last policy decision written');
    const { rows: r2 } = await fx.db.pool.query(`SELECT features FROM decisions WHERE decision_id = $1`, [d.body.decisionId]);
    expect(r2[0].features.values.tenant_requests_1h).toBe(1); // only the first computed request counted
  }, 60_000);

  it('refuses an unknown set (400), a request field of the wrong type (422) and fields beside featureSet, naming them', async () => {
    const a = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-router', features: { featureSet: 'nope', request: { prompt: 'x' } } });
    expect(a.status).toBe(400);
    expect(a.body.field).toBe('features.featureSet');
    expect(a.body.expected).toContain(set.name);
    const b = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-router', features: { featureSet: set.name, request: { prompt: 42, tenant } } });
    expect(b.status).toBe(422);
    expect(b.body.field).toBe('features.request.prompt');
    expect(b.body.expected).toBe('a string');
    const c = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-router', features: { featureSet: set.name, request: { prompt: 'x' }, extra: 1 } });
    expect(c.status).toBe(400);
    expect(c.body.field).toBe('features.extra');
    const d = await postJson(`${server.url}/v1/decide`, { deployment: 'llm-router', features: { featureSet: set.name, request: { prompt: 'x', tenant: '' } } });
    expect(d.status).toBe(400);
    expect(d.body.field).toBe('features.request.tenant');
  });
});
