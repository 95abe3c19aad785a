/**
 * Fuzz: thousands of random and malformed requests (bodies, types, sizes, paths, methods) against a
 * live server with a real model. Every answer must be a JSON 4xx (or a 2xx for a body that happens to
 * be valid); not one 5xx; and the server still decides correctly afterwards.
 */
import { Rng } from '../ml/rng';
import { JsonClient } from './testing/client';
import { createServingFixture, type ServingFixture } from './testing/fixture';
import { TEST_FEATURES } from './testing/test-policy';
import type { InferenceServer } from './server';

const LIMIT = 16 * 1024;

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 3 ? 7 : 10)) {
    case 0: return null;
    case 1: return rng.uniform() < 0.5;
    case 2: return [0, -0, 1e308, -1e308, 5e-324, 2 ** 53 + 1, 3.4e39, NaN][rng.int(8)];
    case 3: return (rng.uniform() - 0.5) * 10 ** rng.int(12);
    case 4: return ['', 'ranker', '\u0000', '💥', 'x'.repeat(rng.int(5000)), '__proto__', 'NaN', 'Infinity', '1e400'][rng.int(9)];
    case 5: return rng.int(1000) - 500;
    case 6: return 'user:' + rng.int(100);
    case 7: return Array.from({ length: rng.int(20) }, () => randomValue(rng, depth + 1));
    case 8: {
      const o: Record<string, unknown> = {};
      const keys = ['deployment', 'features', 'unit', 'explore', 'entity', '__proto__', 'constructor', 'decisionId', 'reward', 'components', 'inputs', 'name', 'shape', 'datatype', 'data', ...TEST_FEATURES];
      for (let i = rng.int(6); i > 0; i--) o[keys[rng.int(keys.length)]] = randomValue(rng, depth + 1);
      return o;
    }
    default: return Array.from({ length: 16 }, () => (rng.uniform() < 0.9 ? rng.normal() : randomValue(rng, depth + 1)));
  }
}

function mutate(rng: Rng, text: string): string {
  const chars = text.split('');
  for (let i = rng.int(4) + 1; i > 0; i--) {
    const at = rng.int(chars.length + 1);
    switch (rng.int(4)) {
      case 0: chars.splice(at, 1); break;
      case 1: chars.splice(at, 0, '{}[]",:\\0e-'[rng.int(12)]); break;
      case 2: chars.length = at; break;
      default: chars.splice(at, 0, String.fromCharCode(rng.int(0x3000)));
    }
  }
  return chars.join('');
}

function validDecide(rng: Rng): Record<string, unknown> {
  return { deployment: 'ranker', features: Array.from({ length: 16 }, () => rng.normal()), unit: `u${rng.int(50)}` };
}

function body(rng: Rng): string | Buffer {
  switch (rng.int(9)) {
    case 0: return Buffer.from(Array.from({ length: rng.int(300) }, () => rng.int(256)));
    case 1: return mutate(rng, JSON.stringify(validDecide(rng)));
    case 2: {
      const b = validDecide(rng);
      b[['deployment', 'features', 'unit', 'explore'][rng.int(4)]] = randomValue(rng);
      return JSON.stringify(b);
    }
    case 3: return JSON.stringify(randomValue(rng));
    case 4: return JSON.stringify({ ...validDecide(rng), features: Object.fromEntries(TEST_FEATURES.filter(() => rng.uniform() < 0.95).map((n) => [n, rng.uniform() < 0.95 ? rng.normal() : randomValue(rng)])) });
    case 5: return JSON.stringify({ deployment: 'ranker', features: { entity: randomValue(rng) } });
    case 6: return 'x'.repeat(LIMIT + rng.int(LIMIT));
    case 7: return '['.repeat(rng.int(LIMIT / 2)) + ']'.repeat(rng.int(LIMIT / 2));
    default: return JSON.stringify({ inputs: [{ name: rng.uniform() < 0.7 ? 'obs' : randomValue(rng), shape: rng.uniform() < 0.5 ? [1, 16] : randomValue(rng), datatype: rng.uniform() < 0.7 ? 'FP32' : randomValue(rng), data: rng.uniform() < 0.5 ? Array.from({ length: 16 }, () => rng.normal()) : randomValue(rng) }] });
  }
}

const PATHS = ['/v1/decide', '/v1/decide', '/v1/decide', '/v1/rewards', '/v2/models/ranker/infer', '/v2/models/ranker/versions/1/infer', '/v2/models/%E0%A4%A/infer', '/v2/models/ranker/versions//infer', '/metrics', '/v2/health/ready', '/../etc/passwd', '/v1/decide?x=1'];
const METHODS = ['POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'];

describe('fuzz', () => {
  let fx: ServingFixture;
  let server: InferenceServer;

  beforeAll(async () => {
    fx = await createServingFixture();
    const v = await fx.register('ranker', 1);
    await fx.deploy('ranker', { champion: v.version, fallback: { k: 8 } });
    server = await fx.start({ maxBodyBytes: LIMIT });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('answers 5,000 random and malformed requests without a single 5xx and stays alive', async () => {
    const rng = new Rng(20240607);
    const client = new JsonClient(server.url, 16);
    const statuses = new Map<number, number>();
    const fivexx: { path: string; method: string; body: string; status: number; answer: unknown }[] = [];
    for (let round = 0; round < 250; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const path = PATHS[rng.int(PATHS.length)];
          const method = METHODS[rng.int(METHODS.length)];
          const payload = method === 'GET' ? undefined : body(rng);
          let status: number;
          let answer: unknown;
          try {
            const r = await client.send(method, path, payload);
            status = r.status;
            answer = r.body;
          } catch (err) {
            // A body far over the limit may be cut off by the server closing the connection: not a 5xx.
            status = -1;
            answer = String(err);
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status >= 500) fivexx.push({ path, method, body: String(payload).slice(0, 200), status, answer });
          if (status >= 400 && status < 500) {
            expect(answer).toEqual(expect.objectContaining({ error: expect.any(String) }));
          }
        }),
      );
    }
    client.close();
    if (process.env.AP_TEST_LOG) console.log(Object.fromEntries(statuses));
    expect(fivexx).toEqual([]);
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(5000);
    expect(statuses.get(400)).toBeGreaterThan(1000);
    expect(statuses.get(200)).toBeGreaterThan(100);
    const after = new JsonClient(server.url);
    const ok = await after.post('/v1/decide', { deployment: 'ranker', features: Array(16).fill(0.5) });
    expect(ok).toMatchObject({ status: 200, body: { version: 1, fallback: false } });
    expect((await after.get('/v2/health/live')).status).toBe(200);
    after.close();
    const metrics = await server.metrics.registry.getSingleMetricAsString('autopilot_inference_errors_total');
    expect(metrics).not.toMatch(/status="5\d\d"/);
    // Every decision the fuzz got answered is in the decisions table: no row refused, none spilled.
    const log = await server.decisionLog.drain();
    expect(log).toMatchObject({ rejected: 0, lost: 0, journalPending: 0, databaseUp: true });
    expect(log.written).toBe(log.enqueued);
  }, 120_000);
});
