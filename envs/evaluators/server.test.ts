/**
 * The evaluator service on a real socket (a free port): the HTTP evaluator client against it, auth by
 * a secret reference, and every 4xx naming the field and what was expected.
 */
import { HttpEvaluator } from './http';
import { ReplayEvaluator } from './replay';
import { startEvaluatorServer, type RunningEvaluatorServer } from './server';
import { CATEGORIES, SimulatedRagEvaluator } from './simulator';

const config = { variant: 'B' as const, k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' };
const body = { config, category: 'policy', batch_size: 50, seed: 11 };

async function post(url: string, payload: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const res = await fetch(`${url}/tuner/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof payload === 'string' ? payload : JSON.stringify(payload),
  });
  return { status: res.status, json: await res.json() };
}

describe('evaluator service over the simulator', () => {
  let server: RunningEvaluatorServer;
  const seen: { status: number; category?: string }[] = [];
  beforeAll(async () => {
    server = await startEvaluatorServer({ evaluator: new SimulatedRagEvaluator(), categories: CATEGORIES, token: 'sekrit-42', port: 0, onRequest: (e) => seen.push(e) });
  });
  afterAll(() => server.close());

  it('answers what the simulator answers, through the HttpEvaluator with a secret header reference', async () => {
    const client = new HttpEvaluator({ baseUrl: server.url, secretHeaders: { Authorization: { env: 'EVAL_TOKEN' } }, environment: { EVAL_TOKEN: 'Bearer sekrit-42' }, retries: 0 });
    const served = await client.evaluate(config, 'policy', 50, 11);
    const direct = await new SimulatedRagEvaluator().evaluate(config, 'policy', 50, 11);
    expect(served).toEqual(direct);
    expect(served.faithfulness).toBeGreaterThan(0.5);
    expect(seen.at(-1)).toMatchObject({ status: 200, category: 'policy' });
  });

  it('refuses a request without the token (401) and the client does not retry it', async () => {
    const before = seen.length;
    const client = new HttpEvaluator({ baseUrl: server.url, retries: 3, backoffMs: 1 });
    await expect(client.evaluate(config, 'policy', 50, 1)).rejects.toThrow(/answered HTTP 401 \(not retried\).*"field":"authorization"/);
    expect(seen.length).toBe(before + 1);
    const wrong = await post(server.url, body, { authorization: 'Bearer nope' });
    expect(wrong).toEqual({ status: 401, json: { error: 'the Authorization header does not carry the configured token', field: 'authorization', expected: 'Authorization: Bearer <token>' } });
  });

  it('fails construction naming the header and variable when the secret is not set (never a value)', () => {
    expect(() => new HttpEvaluator({ baseUrl: server.url, secretHeaders: { Authorization: { env: 'NOT_SET_ANYWHERE' } }, environment: {} })).toThrow(
      'http evaluator header Authorization: environment variable NOT_SET_ANYWHERE is not set on this worker',
    );
  });

  const auth = { authorization: 'Bearer sekrit-42' };
  it.each([
    [{ ...body, config: { ...config, k: 0 } }, 'config.k', 'an integer ≥ 1', /config.k must be an integer ≥ 1, got 0/],
    [{ ...body, config: { ...config, variant: 'C' } }, 'config.variant', 'A or B', /got "C"/],
    [{ ...body, batch_size: 1 }, 'batch_size', 'an integer ≥ 2', /batch_size must be an integer ≥ 2, got 1/],
    [{ ...body, seed: -3 }, 'seed', 'an integer ≥ 0', /got -3/],
    [{ ...body, category: 'poetry' }, 'category', 'one of policy, howto, definition', /category "poetry" is not known to simulator/],
    [{ ...body, temperature: 0.3 }, 'temperature', 'only config, category, batch_size, seed', /unknown field temperature/],
    [{ category: 'policy', batch_size: 50, seed: 1 }, 'config', 'an object {variant, k, rerank, fusion_weight, prompt_id}', /config must be an object/],
  ])('400 for %j names %s', async (payload, field, expected, error) => {
    const r = await post(server.url, payload, auth);
    expect(r.status).toBe(400);
    expect(r.json.field).toBe(field);
    expect(r.json.expected).toBe(expected);
    expect(r.json.error).toMatch(error);
  });

  it('400 for invalid JSON, 415 for another content type, 404 and 405 elsewhere', async () => {
    expect(await post(server.url, '{"config":', auth)).toMatchObject({ status: 400, json: { field: null, expected: 'an object {config, category, batch_size, seed}' } });
    const text = await fetch(`${server.url}/tuner/evaluate`, { method: 'POST', headers: { ...auth, 'content-type': 'text/plain' }, body: 'x' });
    expect(text.status).toBe(415);
    expect((await fetch(`${server.url}/nope`, { method: 'POST', headers: auth })).status).toBe(404);
    const get = await fetch(`${server.url}/tuner/evaluate`, { headers: auth });
    expect(get.status).toBe(405);
    expect(await get.json()).toMatchObject({ expected: 'POST' });
  });
});

describe('evaluator service over a replay log', () => {
  it('answers logged rows and 422 when nothing logged is near enough', async () => {
    const replay = new ReplayEvaluator(
      [{ config, category: 'policy', faithfulness: 0.9, relevancy: 0.8, latency_ms: { p50: 300, p95: 400 }, cost_usd: 0.001, error_rate: 0 }],
      { name: 'replay:test', maxDistance: 0.5 },
    );
    const server = await startEvaluatorServer({ evaluator: replay, categories: replay.categories, port: 0 });
    try {
      const ok = await post(server.url, body);
      expect(ok).toEqual({ status: 200, json: { faithfulness: 0.9, relevancy: 0.8, latency_ms: { p50: 300, p95: 400 }, cost_usd: 0.001, error_rate: 0 } });
      const far = await post(server.url, { ...body, config: { variant: 'A', k: 3, rerank: false, fusion_weight: 0, prompt_id: 'default' } });
      expect(far.status).toBe(422);
      expect(far.json.field).toBe('config');
      expect(far.json.error).toMatch(/no logged config within distance 0.5/);
      expect((await post(server.url, { ...body, category: 'howto' })).json).toMatchObject({ field: 'category', expected: 'one of policy' });
    } finally {
      await server.close();
    }
  });
});
