/**
 * /v1/decide and /v1/rewards against real PostgreSQL (registry + decision log), Redis (feature
 * store), the S3 artifact store (SeaweedFS) and onnxruntime-node.
 */
import { Redis } from 'ioredis';
import { S3ArtifactStore } from '../registry/artifacts/s3';
import { testS3Bucket, testS3Settings, uniquePrefix } from '../test/support/s3';
import { decisionIdTime } from './decisions/id';
import { TEST_FEATURES } from './testing/test-policy';
import { createServingFixture, postJson, type ServingFixture } from './testing/fixture';
import type { InferenceServer } from './server';

const argmax = (p: ArrayLike<number>) => {
  let b = 0;
  for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i;
  return b;
};

describe('decide and rewards', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let redis: Redis;
  const x = Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));

  beforeAll(async () => {
    const uri = `s3://${testS3Bucket()}/${uniquePrefix('inference-decide')}`;
    fx = await createServingFixture({ store: { store: S3ArtifactStore.fromUri(uri, testS3Settings()), uri }, s3: testS3Settings() });
    const v = await fx.register('ranker', 1);
    // Greedy on purpose (new deployments explore by default): these tests check the argmax and propensity 1.
    await fx.deploy('ranker', { champion: v.version, fallback: { variant: 'A', k: 8, rerank: false, fusion_weight: 0.5, prompt_id: 0 }, exploration: { mode: 'greedy' } });
    server = await fx.start();
    redis = new Redis('redis://127.0.0.1:6379');
  });
  afterAll(async () => {
    redis?.disconnect();
    await fx?.close();
  });

  it('counts errors by the deployment they were routed to, and "unknown" for a name not served here', async () => {
    const count = async (labels: string) => {
      const text = await server.metrics.registry.getSingleMetricAsString('autopilot_inference_errors_total');
      const m = new RegExp(`^autopilot_inference_errors_total\\{${labels.replace(/[{}]/g, '\\$&')}\\} (\\d+)$`, 'm').exec(text);
      return m === null ? 0 : Number(m[1]);
    };
    const before = { ranker: await count('route="decide",status="400",deployment="ranker"'), unknown: await count('route="decide",status="404",deployment="unknown"') };
    expect((await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: [1, 2] })).status).toBe(400);
    expect((await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: { nope: 1 }, extra: true })).status).toBe(400);
    expect((await postJson(`${server.url}/v1/decide`, { deployment: `not-served-${Date.now()}`, features: x })).status).toBe(404);
    // Both were routed to ranker (the second one's unknown field is refused by ranker's decide).
    expect(await count('route="decide",status="400",deployment="ranker"')).toBe(before.ranker + 2);
    expect(await count('route="decide",status="404",deployment="unknown"')).toBe(before.unknown + 1);
    expect((await postJson(`${server.url}/v2/models/ranker/infer`, { inputs: [] })).status).toBe(400);
    expect(await count('route="v2_infer",status="400",deployment="ranker"')).toBeGreaterThanOrEqual(1);
  });

  it('returns the greedy action of the champion with propensity 1 and logs it', async () => {
    const r = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: x });
    expect(r.status).toBe(200);
    const out = fx.policies.get('ranker@1')!.forward(x);
    const expected = {
      variant: ['A', 'B', 'C'][argmax(out.variant_probs)],
      k: 3 + argmax(out.k_probs),
      rerank: out.rerank_prob[0] >= 0.5,
      prompt_id: argmax(out.prompt_id_probs),
    };
    expect(r.body).toMatchObject({ model: 'ranker', version: 1, arm: 'champion', propensity: 1, armProbability: 1, fallback: false, action: expected });
    expect(r.body.action.fusion_weight).toBeCloseTo(0.5 * (Math.tanh(out.fusion_weight_mean[0]) + 1), 5);
    await server.decisionLog.drain();
    const row = await fx.decisions.getDecision(r.body.decisionId);
    expect(row).toMatchObject({ deployment: 'ranker', version: 1, arm: 'champion', propensity: 1, features: x, action: r.body.action });
    // A version-7 (time-ordered) id carrying the decision's millisecond.
    expect(r.body.decisionId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(decisionIdTime(r.body.decisionId)).toBe(row.time.getTime());
    const pol = out.variant_probs[argmax(out.variant_probs)] * out.k_probs[argmax(out.k_probs)] * Math.max(out.rerank_prob[0], 1 - out.rerank_prob[0]) * out.prompt_id_probs[argmax(out.prompt_id_probs)];
    expect(row.metadata).toMatchObject({ armProbability: 1, mode: 'greedy' });
    expect((row.metadata as any).policyProbability).toBeCloseTo(pol, 5);
  });

  it('samples with explore: true and logs the true probability of the sampled action', async () => {
    const out = fx.policies.get('ranker@1')!.forward(x);
    const pv = out.variant_probs;
    const pk = out.k_probs;
    const p1 = out.rerank_prob[0];
    const pp = out.prompt_id_probs;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const r = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: x, explore: true });
      expect(r.status).toBe(200);
      const a = r.body.action;
      const want = pv[['A', 'B', 'C'].indexOf(a.variant)] * pk[a.k - 3] * (a.rerank ? p1 : 1 - p1) * pp[a.prompt_id];
      expect(r.body.propensity).toBeCloseTo(want, 5);
      expect(r.body.density).toBeGreaterThan(0);
      seen.add(JSON.stringify([a.variant, a.k, a.rerank, a.prompt_id]));
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('logs the client\'s own text of the features, exactly as sent', async () => {
    // Spacing, newlines, a tab, exponents and a key repeated (JSON.parse, and so the server, keep the last).
    const arrayText = `[\n  ${x.slice(0, 8).map((v) => v.toExponential()).join(',\t')},\n  ${x.slice(8).join(' , ')} ]`;
    const named = Object.fromEntries(TEST_FEATURES.map((n, i) => [n, x[i]]));
    const namedText = JSON.stringify(named, null, 1).replace('"quality_mean"', '"quality_mean": 99, "quality_mean"');
    for (const [text, want] of [
      [arrayText, x],
      [namedText, named],
    ] as const) {
      const r = await postJson(`${server.url}/v1/decide`, `{ "deployment": "ranker", "features": ${text}, "features": ${text}, "unit": "u:raw" }`);
      expect(r.status).toBe(200);
      await server.decisionLog.drain();
      const row = await fx.decisions.getDecision(r.body.decisionId);
      expect(row.features).toEqual(want);
      const stored = await fx.db.pool.query<{ text: string; same: boolean }>(
        'SELECT features::text AS text, features::jsonb = $2::jsonb AS same FROM decisions WHERE decision_id = $1',
        [r.body.decisionId, JSON.stringify(want)],
      );
      expect(stored.rows[0]).toEqual({ text, same: true });
    }
  });

  it('accepts features keyed by name and from the Redis feature store', async () => {
    const named = Object.fromEntries(TEST_FEATURES.map((n, i) => [n, x[i]]));
    const a = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: x });
    const b = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: named });
    expect(b.body.action).toEqual(a.body.action);
    const entity = `user:${Date.now()}`;
    await redis.hset(`features:${entity}`, Object.fromEntries(TEST_FEATURES.map((n, i) => [n, String(x[i])])));
    const c = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: { entity } });
    expect(c.status).toBe(200);
    expect(c.body.action).toEqual(a.body.action);
    await server.decisionLog.drain();
    const row = await fx.decisions.getDecision(c.body.decisionId);
    expect((row.features as any).entity).toBe(entity);
    expect((row.features as any).latency_p95).toBeCloseTo(x[5], 12);
    await redis.del(`features:${entity}`);
  });

  it('answers a missing entity with a 404 and an incomplete one with a 422, never a zero vector', async () => {
    const missing = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: { entity: 'user:nobody-here' } });
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ field: 'features.entity' });
    expect(missing.body.error).toContain('user:nobody-here');
    const entity = `user:partial-${Date.now()}`;
    await redis.hset(`features:${entity}`, { quality_mean: '0.5' });
    const partial = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: { entity } });
    expect(partial.status).toBe(422);
    expect(partial.body.field).toBe('features.quality_p10');
    await redis.del(`features:${entity}`);
  });

  it('answers the common body read from its text as it answers the same body parsed', async () => {
    // The first form is read without JSON.parse (inference/handlers/decide-body.ts); an escape in a
    // string sends the second through the generic path. Same decision, same logged row, bit for bit.
    const features = `[${x.map((v) => v.toExponential()).join(', ')}]`;
    const scanned = `{"unit":"user:7","features":${features},"deployment":"ranker","explore":false}`;
    const parsed = `{"unit":"user:\u0037","features":${features},"deployment":"ranker","explore":false}`;
    const rows = [];
    for (const text of [scanned, parsed]) {
      const r = await postJson(`${server.url}/v1/decide`, text);
      expect(r.status).toBe(200);
      await server.decisionLog.drain();
      const stored = await fx.db.pool.query('SELECT arm, unit, features::text AS features, action::text AS action, propensity, metadata::text AS metadata FROM decisions WHERE decision_id = $1', [r.body.decisionId]);
      rows.push({ answer: { ...r.body, decisionId: undefined }, row: stored.rows[0] });
    }
    expect(rows[0].row).toMatchObject({ unit: 'user:7', features });
    expect(rows[1]).toEqual(rows[0]);
    // A count the model does not take is the generic path's 400, naming the field.
    const short = await postJson(`${server.url}/v1/decide`, `{"deployment":"ranker","features":[${x.slice(1).join(',')}]}`);
    expect(short).toMatchObject({ status: 400, body: { field: 'features', error: 'features has 15 values; this model takes 16' } });
  });

  it('names the field of every bad request', async () => {
    const cases: [unknown, number, string][] = [
      [{ deployment: 'ranker', features: x.slice(1) }, 400, 'features'],
      [{ deployment: 'ranker', features: [...x.slice(1), 'a'] }, 400, 'features.15'],
      [{ deployment: 'ranker', features: [...x.slice(1), null] }, 400, 'features.15'],
      [{ deployment: 'ranker', features: { quality_mean: 1 } }, 400, 'features.quality_p10'],
      [{ deployment: 'ranker', features: { bogus: 1 } }, 400, 'features.bogus'],
      [{ deployment: 'nope', features: x }, 404, 'deployment'],
      [{ deployment: 7, features: x }, 400, 'deployment'],
      [{ deployment: 'ranker' }, 400, 'features'],
      [{ deployment: 'ranker', features: x, unit: {} }, 400, 'unit'],
      [{ deployment: 'ranker', features: x, unit: '' }, 400, 'unit'],
      [{ deployment: 'ranker', features: x, unit: 'u'.repeat(257) }, 400, 'unit'],
      // PostgreSQL cannot store these in the decision log: refused here, never a poisoned batch there.
      [{ deployment: 'ranker', features: x, unit: 'user\u00000' }, 400, 'unit'],
      [{ deployment: 'ranker', features: x, unit: 'user\ud800' }, 400, 'unit'],
      [{ deployment: 'ranker', features: { entity: 'user:\u0000' } }, 400, 'features.entity'],
      [{ deployment: 'ranker', features: x, explore: 'yes' }, 400, 'explore'],
      [{ deployment: 'ranker', features: x, extra: 1 }, 400, 'extra'],
      [[1, 2], 400, 'body'],
    ];
    for (const [body, status, field] of cases) {
      const r = await postJson(`${server.url}/v1/decide`, body);
      expect({ status: r.status, field: r.body.field }).toEqual({ status, field });
      expect(typeof r.body.error).toBe('string');
      expect(typeof r.body.expected).toBe('string');
    }
    const inf = await postJson(`${server.url}/v1/decide`, `{"deployment":"ranker","features":[${x.slice(1).join(',')},1e400]}`);
    expect(inf).toMatchObject({ status: 400, body: { field: 'features.15' } });
    expect(inf.body.error).toContain('Infinity');
  });

  it('records a reward once: the same value again is accepted, a different one is a 409', async () => {
    const d = await postJson(`${server.url}/v1/decide`, { deployment: 'ranker', features: x });
    const first = await postJson(`${server.url}/v1/rewards`, { decisionId: d.body.decisionId, reward: 0.7, components: { quality: 0.9, cost: -0.2 } });
    expect(first).toMatchObject({ status: 201, body: { accepted: true, duplicate: false } });
    const again = await postJson(`${server.url}/v1/rewards`, { decisionId: d.body.decisionId, reward: 0.7, components: { cost: -0.2, quality: 0.9 } });
    expect(again).toMatchObject({ status: 200, body: { accepted: true, duplicate: true } });
    const conflict = await postJson(`${server.url}/v1/rewards`, { decisionId: d.body.decisionId, reward: 0.1 });
    expect(conflict.status).toBe(409);
    expect(conflict.body.field).toBe('reward');
    await server.decisionLog.drain();
    const joined = await fx.decisions.getDecision(d.body.decisionId);
    expect(joined.reward).toBe(0.7);
    expect(joined.rewardComponents).toEqual({ quality: 0.9, cost: -0.2 });
    for (const [body, field] of [
      [{ decisionId: 'x', reward: 1 }, 'decisionId'],
      [{ decisionId: d.body.decisionId, reward: 'high' }, 'reward'],
      [{ decisionId: d.body.decisionId, reward: 1, components: { q: 'a' } }, 'components.q'],
    ] as const) {
      const r = await postJson(`${server.url}/v1/rewards`, body);
      expect({ status: r.status, field: r.body.field }).toEqual({ status: 400, field });
    }
  });
});
