import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { request } from 'node:http';
import { InferenceMetrics } from '../metrics';
import { badRequest } from './errors';
import { createHttpServer, DEFAULT_MAX_INFER_BODY_BYTES, type Handlers } from './server';

function call(port: number, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: any = text;
        try {
          json = JSON.parse(text);
        } catch {
          /* metrics text */
        }
        resolve({ status: res.statusCode ?? 0, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

describe('HTTP core', () => {
  let server: Server;
  let port: number;
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  const seen: unknown[] = [];
  const handlers: Handlers = {
    decide: (body) => {
      seen.push(body);
      if ((body as any)?.boom) throw new Error('kaboom');
      if ((body as any)?.bad) throw badRequest('deployment must be a string, got 3', 'deployment', 'a deployment name');
      return { ok: true };
    },
    rewards: async (_body, ctx) => {
      ctx.status = 201;
      return { accepted: true };
    },
    live: () => ({ live: true }),
    ready: () => ({ ready: true }),
    serverMetadata: () => ({ name: 'autopilot' }),
    modelMetadata: (_ctx, p) => ({ name: p.name, versions: p.version === null ? [] : [p.version] }),
    modelReady: (_ctx, p) => ({ name: p.name, ready: true }),
    infer: (body, _ctx, p) => ({ model_name: p.name, model_version: p.version, body }),
    metrics: async () => ({ contentType: metrics.registry.contentType, body: await metrics.registry.metrics() }),
  };

  const faults: { err: unknown; id: string | undefined }[] = [];
  beforeAll(async () => {
    server = createHttpServer({ maxBodyBytes: 1024, handlers, metrics, onInternalError: (err, _route, id) => faults.push({ err, id }) });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('routes a JSON body to the handler', async () => {
    const r = await call(port, 'POST', '/v1/decide', JSON.stringify({ deployment: 'x' }));
    expect(r).toMatchObject({ status: 200, json: { ok: true } });
    expect(seen.at(-1)).toEqual({ deployment: 'x' });
  });

  it('answers malformed JSON with a 400 naming the body', async () => {
    const r = await call(port, 'POST', '/v1/decide', '{"deployment": ');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ field: 'body', expected: 'a JSON object' });
    expect(r.json.error).toMatch(/^request body is not valid JSON/);
  });

  it('answers an empty body with a 400', async () => {
    const r = await call(port, 'POST', '/v1/decide', '');
    expect(r.json).toEqual({ error: 'request body is empty', field: 'body', expected: 'a JSON object' });
  });

  it('answers an oversized body with a 413 and keeps serving', async () => {
    const r = await call(port, 'POST', '/v1/decide', JSON.stringify({ pad: 'x'.repeat(2000) }));
    expect(r.status).toBe(413);
    expect(r.json).toEqual({ error: 'request body exceeds the limit of 1024 bytes', field: 'body', expected: 'at most 1024 bytes of JSON' });
    const huge = await call(port, 'POST', '/v1/decide', Buffer.alloc(64 * 1024, 0x20)).catch((e) => ({ status: -1, json: String(e), headers: {} }));
    expect([413, -1]).toContain(huge.status);
    expect((await call(port, 'GET', '/v2/health/live')).status).toBe(200);
  });

  it('passes a handler ClientError through as its 4xx', async () => {
    const r = await call(port, 'POST', '/v1/decide', JSON.stringify({ bad: true }));
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'deployment must be a string, got 3', field: 'deployment', expected: 'a deployment name' });
  });

  it('turns our own faults into a 500 and keeps serving', async () => {
    const r = await call(port, 'POST', '/v1/decide', JSON.stringify({ boom: true }));
    expect(r.status).toBe(500);
    // The body carries an id, not our message; the message is logged under that id.
    expect(r.json).toEqual({ error: `internal error (error id ${r.json.errorId as string})`, field: null, expected: null, errorId: expect.stringMatching(/^[0-9a-f]{12}$/) });
    expect(JSON.stringify(r.json)).not.toMatch(/kaboom/);
    expect(faults.at(-1)).toEqual({ err: expect.objectContaining({ message: 'kaboom' }), id: r.json.errorId });
    expect((await call(port, 'POST', '/v1/decide', '{}')).status).toBe(200);
  });

  it('uses the status a handler sets', async () => {
    expect(await call(port, 'POST', '/v1/rewards', '{}')).toMatchObject({ status: 201, json: { accepted: true } });
  });

  it('routes KServe v2 paths with and without a version', async () => {
    expect((await call(port, 'POST', '/v2/models/ranker/infer', '{"inputs":[]}')).json).toEqual({ model_name: 'ranker', model_version: null, body: { inputs: [] } });
    expect((await call(port, 'POST', '/v2/models/ranker/versions/3/infer', '{}')).json).toMatchObject({ model_name: 'ranker', model_version: '3' });
    expect((await call(port, 'GET', '/v2/models/ranker')).json).toEqual({ name: 'ranker', versions: [] });
    expect((await call(port, 'GET', '/v2/models/ranker/versions/2')).json).toEqual({ name: 'ranker', versions: ['2'] });
    expect((await call(port, 'GET', '/v2/models/ranker/ready')).json).toEqual({ name: 'ranker', ready: true });
    expect((await call(port, 'GET', '/v2/health/ready')).json).toEqual({ ready: true });
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const nf = await call(port, 'GET', '/nope');
    expect(nf.status).toBe(404);
    expect(nf.json).toMatchObject({ error: 'no route GET /nope', field: 'path' });
    const na = await call(port, 'GET', '/v1/decide');
    expect(na).toMatchObject({ status: 405, json: { error: 'GET is not allowed on /v1/decide', field: 'method', expected: 'POST' } });
    expect((await call(port, 'GET', '/v2/models/a/b/c')).status).toBe(404);
  });

  it('serves Prometheus metrics with the error counters', async () => {
    const r = await call(port, 'GET', '/metrics');
    expect(r.status).toBe(200);
    expect(r.json).toContain('autopilot_inference_errors_total{route="decide",status="400",deployment="unknown"}');
    expect(r.json).toContain('autopilot_decision_log_rows_lost_total 0');
    expect(r.json).toMatch(/autopilot_inference_request_duration_seconds_count\{route="decide",model="-",version="-",arm="-"\} \d+/);
  });

  it('answers malformed HTTP with a 400 and closes', async () => {
    const net = await import('node:net');
    const text = await new Promise<string>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GARBAGE\r\n\r\n'));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
    });
    expect(text).toMatch(/^HTTP\/1.1 400/);
    expect((await call(port, 'GET', '/v2/health/live')).status).toBe(200);
  });
});

describe('body limits per route', () => {
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  const handlers: Handlers = {
    decide: () => ({ ok: true }),
    rewards: () => ({ accepted: true }),
    live: () => ({ live: true }),
    ready: () => ({ ready: true }),
    serverMetadata: () => ({ name: 'autopilot' }),
    modelMetadata: (_ctx, p) => ({ name: p.name }),
    modelReady: (_ctx, p) => ({ name: p.name, ready: true }),
    infer: (body) => ({ rows: ((body as { inputs: { data: number[] }[] }).inputs[0].data.length) }),
    metrics: async () => ({ contentType: metrics.registry.contentType, body: '' }),
  };
  /** A v2 infer body of `n` floats, about 20 bytes each. */
  const inferBody = (n: number) => JSON.stringify({ inputs: [{ name: 'x', shape: [1, n], datatype: 'FP32', data: Array.from({ length: n }, (_, i) => Math.sin(i) * 1e-3) }] });

  it.each([true, false])('gives v2 infer its own limit and keeps decide and rewards at theirs (fast path: %s)', async (fastPath) => {
    const server = createHttpServer({ maxBodyBytes: 1024, maxInferBodyBytes: 16 * 1024, handlers, metrics, fastPath, onInternalError: () => undefined });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      const within = inferBody(400);
      expect(Buffer.byteLength(within)).toBeGreaterThan(4 * 1024);
      expect(Buffer.byteLength(within)).toBeLessThan(16 * 1024);
      expect(await call(port, 'POST', '/v2/models/ranker/infer', within)).toMatchObject({ status: 200, json: { rows: 400 } });
      expect(await call(port, 'POST', '/v2/models/ranker/versions/2/infer?x=1', within)).toMatchObject({ status: 200, json: { rows: 400 } });
      const over = await call(port, 'POST', '/v2/models/ranker/infer', inferBody(1000));
      expect(over.status).toBe(413);
      expect(over.json).toEqual({ error: `request body exceeds the limit of ${16 * 1024} bytes`, field: 'body', expected: `at most ${16 * 1024} bytes of JSON` });
      for (const path of ['/v1/decide', '/v1/rewards']) {
        const r = await call(port, 'POST', path, JSON.stringify({ pad: 'x'.repeat(2000) }));
        expect(r.status).toBe(413);
        expect(r.json).toEqual({ error: 'request body exceeds the limit of 1024 bytes', field: 'body', expected: 'at most 1024 bytes of JSON' });
      }
      expect((await call(port, 'POST', '/v1/decide', '{}')).status).toBe(200);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('defaults v2 infer to several MB', () => {
    expect(DEFAULT_MAX_INFER_BODY_BYTES).toBeGreaterThanOrEqual(4 * 1024 * 1024);
  });
});
