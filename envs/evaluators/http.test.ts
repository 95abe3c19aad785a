import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configToAction, RagTuningEnvironment } from '../rag-env';
import type { RagConfig } from '../types';
import { HttpEvaluator } from './http';
import { SimulatedRagEvaluator } from './simulator';

/** What the server does with the n-th request. */
type Behaviour = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const config: RagConfig = { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' };
const good = { faithfulness: 0.91, relevancy: 0.93, latency_ms: { p50: 310, p95: 420 }, cost_usd: 0.0012, error_rate: 0.005 };
const json = (status: number, value: unknown, headers: Record<string, string> = {}): Behaviour => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

describe('HttpEvaluator against a local node:http server', () => {
  let server: Server;
  let baseUrl: string;
  let script: Behaviour[] = [];
  let requests: Array<{ method?: string; url?: string; contentType?: string; auth?: string; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, contentType: req.headers['content-type'], auth: req.headers.authorization, body });
        const behaviour = script.shift() ?? json(500, { error: 'no behaviour scripted' });
        behaviour(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    script = [];
    requests = [];
  });

  const evaluator = (over: Partial<ConstructorParameters<typeof HttpEvaluator>[0]> = {}) =>
    new HttpEvaluator({ baseUrl, timeoutMs: 2000, retries: 2, backoffMs: 5, maxBackoffMs: 50, ...over });

  it('POSTs the R-TUNER-EVALUATOR body to /tuner/evaluate and returns the validated evaluation', async () => {
    script = [json(200, good)];
    const e = await evaluator({ headers: { authorization: 'Bearer t' } }).evaluate(config, 'policy', 200, 77);
    expect(e).toEqual(good);
    expect(requests).toEqual([{
      method: 'POST', url: '/tuner/evaluate', contentType: 'application/json', auth: 'Bearer t',
      body: JSON.stringify({ config, category: 'policy', batch_size: 200, seed: 77 }),
    }]);
  });

  it('keeps a base path', async () => {
    script = [json(200, good)];
    await evaluator({ baseUrl: `${baseUrl}/rag/` }).evaluate(config, 'policy', 10, 1);
    expect(requests[0].url).toBe('/rag/tuner/evaluate');
  });

  it('retries 5xx with backoff and succeeds', async () => {
    script = [json(503, { error: 'warming up' }), json(502, { error: 'bad gateway' }), json(200, good)];
    expect(await evaluator().evaluate(config, 'howto', 50, 1)).toEqual(good);
    expect(requests).toHaveLength(3);
  });

  it('gives up after the retries, naming the URL, the attempts and the last failure', async () => {
    script = [json(500, { error: 'a' }), json(500, { error: 'b' }), json(500, { error: 'c' })];
    await expect(evaluator().evaluate(config, 'howto', 50, 1)).rejects.toThrow(`POST ${baseUrl}/tuner/evaluate failed after 3 attempts: HTTP 500: {"error":"c"}`);
    expect(requests).toHaveLength(3);
  });

  it('aborts a slow attempt after the timeout and retries it', async () => {
    const slow: Behaviour = (_req, res) => {
      const t = setTimeout(() => json(200, good)(_req, res, ""), 1000);
      res.on('close', () => clearTimeout(t));
    };
    script = [slow, json(200, { ...good, faithfulness: 0.8 })];
    const e = await evaluator({ timeoutMs: 100 }).evaluate(config, 'definition', 50, 1);
    expect(e.faithfulness).toBe(0.8);
    expect(requests).toHaveLength(2);

    script = [slow, slow];
    await expect(evaluator({ timeoutMs: 100, retries: 1 }).evaluate(config, 'definition', 50, 1)).rejects.toThrow(
      `POST ${baseUrl}/tuner/evaluate failed after 2 attempts: timed out after 100 ms`,
    );
  });

  it('retries a dropped connection (network error)', async () => {
    script = [(req) => req.socket.destroy(), json(200, good)];
    expect(await evaluator().evaluate(config, 'policy', 50, 1)).toEqual(good);
    expect(requests).toHaveLength(2);
  });

  it('reports a refused connection after its retries', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(new HttpEvaluator({ baseUrl: `http://127.0.0.1:${port}`, retries: 1, backoffMs: 1 }).evaluate(config, 'policy', 50, 1)).rejects.toThrow(
      `POST http://127.0.0.1:${port}/tuner/evaluate failed after 2 attempts: network error: ECONNREFUSED`,
    );
  });

  it('does not retry a 4xx, and says what the server said', async () => {
    script = [json(400, { error: 'unknown category faq' })];
    await expect(evaluator().evaluate(config, 'faq', 50, 1)).rejects.toThrow(`POST ${baseUrl}/tuner/evaluate answered HTTP 400 (not retried): {"error":"unknown category faq"}`);
    expect(requests).toHaveLength(1);
  });

  it('honours Retry-After on 429', async () => {
    script = [json(429, { error: 'slow down' }, { 'retry-after': '0.05' }), json(200, good)];
    const t0 = process.hrtime.bigint();
    expect(await evaluator({ backoffMs: 1, maxBackoffMs: 1000 }).evaluate(config, 'policy', 50, 1)).toEqual(good);
    expect(Number(process.hrtime.bigint() - t0) / 1e6).toBeGreaterThanOrEqual(45);
  });

  it.each([
    [{ ...good, faithfulness: 1.4 }, 'faithfulness must be a number in [0, 1], got 1.4'],
    [{ ...good, latency_ms: 'fast' }, 'latency_ms must be a number or {p50, p95} in milliseconds, got "fast"'],
    [{ relevancy: 0.9 }, 'faithfulness must be a number in [0, 1], got nothing'],
  ])('rejects a response outside the contract without retrying: %j', async (body, message) => {
    script = [json(200, body)];
    await expect(evaluator().evaluate(config, 'policy', 50, 1)).rejects.toThrow(`POST ${baseUrl}/tuner/evaluate answered outside the /tuner/evaluate contract: ${message}`);
    expect(requests).toHaveLength(1);
  });

  it('rejects a body that is not JSON', async () => {
    script = [(_req, res) => { res.writeHead(200); res.end('<html>oops</html>'); }];
    await expect(evaluator().evaluate(config, 'policy', 50, 1)).rejects.toThrow(`POST ${baseUrl}/tuner/evaluate answered with invalid JSON: <html>oops</html>`);
  });

  it('drives the environment through a server that answers with the simulator', async () => {
    const sim = new SimulatedRagEvaluator();
    const answer: Behaviour = (_req, res, body) => {
      const r = JSON.parse(body) as { config: RagConfig; category: string; batch_size: number; seed: number };
      json(200, sim.evaluateSync(r.config, r.category, r.batch_size, r.seed))(_req, res, body);
    };
    script = Array.from({ length: 4 }, () => answer);
    const env = new RagTuningEnvironment({ evaluator: evaluator(), episodeLength: 4, batchSize: 100 });
    env.reset(5);
    let done = false;
    while (!done) ({ done } = await env.step(configToAction(config)));
    expect(requests).toHaveLength(4);
  });

  it('validates its options', () => {
    expect(() => new HttpEvaluator({ baseUrl: 'rag.internal' })).toThrow('http evaluator baseUrl must be an absolute http(s) URL, got "rag.internal"');
    expect(() => new HttpEvaluator({ baseUrl: 'ftp://x' })).toThrow('http evaluator baseUrl must be an absolute http(s) URL, got "ftp://x"');
    expect(() => new HttpEvaluator({ baseUrl, retries: -1 })).toThrow('http evaluator retries must be a number ≥ 0, got -1');
  });
});
