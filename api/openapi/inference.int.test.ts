/**
 * The inference server's OpenAPI document (api/openapi/inference.ts, docs/openapi/inference.json) held
 * to the real server: every request and answer below is validated against it, including the errors,
 * and every operation of the document must have answered 2xx.
 */
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { TEST_AUTHORIZATION } from '../../inference/testing/api-key';
import { TEST_FEATURES } from '../../inference/testing/test-policy';
import type { InferenceServer } from '../../inference/server';
import { createKey } from '../../registry/keys';
import { OpenApiClient } from '../testing/openapi-client';
import { inferenceDocument } from './inference';

describe('the inference OpenAPI document against the real server', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let client: OpenApiClient;
  let readKey: string;
  const features = TEST_FEATURES.map((_, i) => (i % 5) / 5);

  beforeAll(async () => {
    fx = await createServingFixture();
    const v = await fx.register('ranker', 1);
    await fx.deploy('ranker', { champion: v.version });
    // a text-policy deployment serving its fallback: served text-policy decisions for /v1/feedback
    await fx.registry.createModel({ name: 'reviewed', actor: 'test' });
    await fx.registry.setDeployment({ model: 'reviewed', kind: 'text-policy', championVersion: null, fallback: { approve: true }, actor: 'test' });
    readKey = `Bearer ${(await createKey(fx.registry.db, { name: 'read only', scopes: ['read'] })).token}`;
    server = await fx.start();
    client = new OpenApiClient(server.url, inferenceDocument() as ConstructorParameters<typeof OpenApiClient>[1], TEST_AUTHORIZATION);
  });

  afterAll(async () => {
    await server?.close();
    await fx?.close();
  });

  it('decide: the decision, and the errors in their documented shape', async () => {
    const d = await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features, unit: 'user:1' } });
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ model: 'ranker', version: 1, arm: 'champion', fallback: false });
    const named = await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features: Object.fromEntries(TEST_FEATURES.map((n, i) => [n, features[i]])), explore: true } });
    expect(named.status).toBe(200);

    expect((await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features: [1, 2] } })).status).toBe(400);
    expect((await client.call('POST', '/v1/decide', { body: { deployment: 'nope', features } })).status).toBe(404);
    expect((await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features }, authorization: null })).status).toBe(401);
    expect((await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features }, authorization: readKey })).status).toBe(403);
    expect((await client.call('POST', '/v1/decide', { body: { deployment: 'ranker' }, invalidBody: true })).body.field).toBe('features');
  });

  it('rewards: recorded (201), the same again (200), a different one (409), a batch (200 per item), a malformed one (400)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features } })).body.decisionId);
    expect((await client.call('POST', '/v1/rewards', { body: { decisionId: ids[0], reward: 0.5 } })).status).toBe(201);
    expect((await client.call('POST', '/v1/rewards', { body: { decisionId: ids[0], reward: 0.5 } })).body).toMatchObject({ duplicate: true });
    expect((await client.call('POST', '/v1/rewards', { body: { decisionId: ids[0], reward: 0.9 } })).status).toBe(409);
    const batch = await client.call('POST', '/v1/rewards', { body: { rewards: [{ decisionId: ids[1], reward: 1 }, { decisionId: ids[2], reward: 0, components: { latency_ms: 120 } }, { decisionId: 'not-a-uuid', reward: 1 }] }, invalidBody: true });
    expect(batch.status).toBe(200);
    expect(batch.body).toMatchObject({ accepted: 2, recorded: 2, rejected: 1 });
    expect(batch.body.results[2]).toMatchObject({ status: 400, field: 'rewards.2.decisionId' });
    const bad = await client.call('POST', '/v1/rewards', { body: { decisionId: 'x', reward: 1 }, invalidBody: true });
    expect(bad).toMatchObject({ status: 400, body: { field: 'decisionId' } });
  });

  it('feedback: a verdict recorded (201), the same again (200), another one (409), a decision of another kind (400)', async () => {
    const d = await client.call('POST', '/v1/decide', { body: { deployment: 'reviewed', text: 'restart the api?' } });
    expect(d.status).toBe(200);
    const id = d.body.decisionId as string;
    expect((await client.call('POST', '/v1/feedback', { body: { decisionId: id, verdict: 'FLAG', reason: 'no evidence' } })).status).toBe(201);
    expect((await client.call('POST', '/v1/feedback', { body: { decisionId: id, verdict: 'FLAG', reason: 'no evidence' } })).body).toMatchObject({ duplicate: true, overridden: true });
    expect((await client.call('POST', '/v1/feedback', { body: { decisionId: id, verdict: 'APPROVE' } })).status).toBe(409);
    const policy = await client.call('POST', '/v1/decide', { body: { deployment: 'ranker', features } });
    expect((await client.call('POST', '/v1/feedback', { body: { decisionId: policy.body.decisionId, verdict: 'FLAG' } })).status).toBe(400);
    expect((await client.call('POST', '/v1/feedback', { body: { decisionId: id, verdict: 'maybe' }, invalidBody: true })).body.field).toBe('verdict');
  });

  it('health, readiness, server metadata, model readiness and metrics', async () => {
    expect((await client.call('GET', '/v2/health/live', { authorization: null })).body).toEqual({ live: true });
    expect((await client.call('GET', '/v2/health/ready', { authorization: null })).body).toEqual({ ready: true });
    expect((await client.call('GET', '/v2')).status).toBe(200);
    expect((await client.call('GET', '/v2', { authorization: null })).status).toBe(401);
    expect((await client.call('GET', '/v2/models/ranker/ready')).body).toEqual({ name: 'ranker', ready: true });
    const metrics = await client.call('GET', '/metrics', { authorization: null });
    expect(metrics.body).toContain('# TYPE');
  });

  it('every operation of the document answered 2xx', () => {
    expect(client.operations.filter((op) => !client.succeeded.has(op))).toEqual([]);
  });
});
