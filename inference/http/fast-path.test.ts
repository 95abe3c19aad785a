import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { Rng } from '../../ml/rng';
import { InferenceMetrics } from '../metrics';
import { badRequest } from './errors';
import { fastPathStats, MAX_HEAD_BYTES, parseHead as parseHeadBytes } from './fast-path';
import { createHttpServer, type Handlers } from './server';

const LIMIT = 1024;

/** The parser on a head given as text (latin1), inside a larger buffer as on a socket. */
const parseHead = (head: string, limit: number) => {
  const bytes = Buffer.from(`xx${head}\r\n\r\n{}`, 'latin1');
  return parseHeadBytes(bytes.subarray(2), Buffer.byteLength(head, 'latin1'), limit);
};

describe('parseHead', () => {
  const head = (lines: string[]) => lines.join('\r\n');

  it('takes a plain keep-alive GET or POST', () => {
    expect(parseHead(head(['POST /v1/decide HTTP/1.1', 'Host: a:1', 'Content-Type: application/json', 'Content-Length: 17']), LIMIT)).toEqual({ method: 'POST', target: '/v1/decide', contentLength: 17, close: false, host: true });
    expect(parseHead(head(['GET /metrics?x=1 HTTP/1.1', 'host: a']), LIMIT)).toEqual({ method: 'GET', target: '/metrics?x=1', contentLength: 0, close: false, host: true });
    expect(parseHead(head(['POST / HTTP/1.1', 'HOST:a', 'content-length:\t 0 \t', 'Connection: Close']), LIMIT)).toEqual({ method: 'POST', target: '/', contentLength: 0, close: true, host: true });
    expect(parseHead(head(['POST / HTTP/1.1', 'Host: a', 'Content-Length: 1024', 'connection: keep-alive', 'X-Empty:', "x-t!#$%&'*+-.^_`|~: \u00e9"]), LIMIT)).toMatchObject({ contentLength: 1024, close: false });
  });

  it('takes a body over the common limit only for a route with a larger one', () => {
    const largeBodies = { limitOf: (target: string) => (target.startsWith('/v2/models/') ? 8 * LIMIT : LIMIT) };
    const lines = (target: string, length: number) => head([`POST ${target} HTTP/1.1`, 'Host: a', `Content-Length: ${length}`]);
    const bytes = (h: string) => Buffer.from(`${h}\r\n\r\n`, 'latin1');
    const parse = (h: string) => parseHeadBytes(bytes(h), Buffer.byteLength(h, 'latin1'), LIMIT, largeBodies);
    expect(parse(lines('/v2/models/m/infer', 8 * LIMIT))).toMatchObject({ target: '/v2/models/m/infer', contentLength: 8 * LIMIT });
    expect(parse(lines('/v2/models/m/infer', 8 * LIMIT + 1))).toBeNull();
    expect(parse(lines('/v1/decide', LIMIT))).toMatchObject({ contentLength: LIMIT });
    expect(parse(lines('/v1/decide', LIMIT + 1))).toBeNull();
    expect(parseHead(lines('/v2/models/m/infer', LIMIT + 1), LIMIT)).toBeNull();
  });

  it.each([
    ['another method', ['PUT / HTTP/1.1', 'Host: a', 'Content-Length: 1']],
    ['HEAD', ['HEAD / HTTP/1.1', 'Host: a']],
    ['HTTP/1.0', ['POST / HTTP/1.0', 'Host: a', 'Content-Length: 1']],
    ['HTTP/2', ['POST / HTTP/2.0', 'Host: a', 'Content-Length: 1']],
    ['absolute-form target', ['GET http://a/ HTTP/1.1', 'Host: a']],
    ['a space in the target', ['GET /a b HTTP/1.1', 'Host: a']],
    ['a control character in the target', ['GET /a\x01 HTTP/1.1', 'Host: a']],
    ['extra text after the version', ['GET / HTTP/1.1 x', 'Host: a']],
    ['two Hosts', ['GET / HTTP/1.1', 'Host: a', 'Host: b']],
    ['a POST without Content-Length', ['POST / HTTP/1.1', 'Host: a']],
    ['a GET with a body', ['GET / HTTP/1.1', 'Host: a', 'Content-Length: 3']],
    ['two Content-Lengths', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 1', 'Content-Length: 1']],
    ['a Content-Length list', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 1, 1']],
    ['a signed Content-Length', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: +1']],
    ['an empty Content-Length', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: ']],
    ['a body over the limit', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 1025']],
    ['a huge Content-Length', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 99999999999999999999']],
    ['chunked', ['POST / HTTP/1.1', 'Host: a', 'Transfer-Encoding: chunked']],
    ['chunked and a length', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'transfer-encoding: chunked']],
    ['Expect', ['POST / HTTP/1.1', 'Host: a', 'Content-Length: 3', 'Expect: 100-continue']],
    ['Upgrade', ['GET / HTTP/1.1', 'Host: a', 'Upgrade: websocket', 'Connection: Upgrade']],
    ['another Connection option', ['GET / HTTP/1.1', 'Host: a', 'Connection: keep-alive, Upgrade']],
    ['obsolete line folding', ['GET / HTTP/1.1', 'Host: a', 'X-A: b', ' c']],
    ['whitespace before the colon', ['POST / HTTP/1.1', 'Host: a', 'Content-Length : 3']],
    ['a header without a colon', ['GET / HTTP/1.1', 'Host: a', 'oops']],
    ['an empty header name', ['GET / HTTP/1.1', 'Host: a', ': x']],
    ['a non-token name', ['GET / HTTP/1.1', 'Host: a', 'X(a): b']],
    ['a control character in a value', ['GET / HTTP/1.1', 'Host: a', 'X-A: b\x00c']],
    ['a bare CR in a value', ['GET / HTTP/1.1', 'Host: a', 'X-A: b\rc']],
    ['a bare LF between headers', ['GET / HTTP/1.1', 'Host: a\nX-A: b']],
    ['a lower-case method', ['post / HTTP/1.1', 'Host: a', 'Content-Length: 1']],
  ])('leaves %s to node:http', (_what, lines) => {
    expect(parseHead(head(lines), LIMIT)).toBeNull();
  });
});

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Parses the responses in `raw` (Content-Length framed, as both paths send them). */
function parseResponses(raw: Buffer): Answer[] {
  const out: Answer[] = [];
  let at = 0;
  while (at < raw.length) {
    const end = raw.indexOf('\r\n\r\n', at);
    if (end === -1) throw new Error(`incomplete response: ${raw.subarray(at).toString('latin1')}`);
    const lines = raw.toString('latin1', at, end).split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(lines[0])?.[1] ?? NaN);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    if (status === 100) {
      at = end + 4;
      continue;
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status, headers, body: raw.toString('utf8', end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

/** Sends `writes` on one raw connection (a turn of the event loop apart) and collects until `answers` responses came or the server closed. */
function rawExchange(port: number, writes: (string | Buffer)[], opts: { answers?: number; end?: boolean; timeoutMs?: number } = {}): Promise<{ raw: Buffer; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let closed = false;
    const s = connect(port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      resolve({ raw: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(() => {
      s.destroy();
      done();
    }, opts.timeoutMs ?? 3000);
    s.on('connect', async () => {
      for (const w of writes) {
        s.write(w);
        await new Promise((r) => setTimeout(r, 1));
      }
      if (opts.end) s.end();
    });
    s.on('data', (d) => {
      chunks.push(d);
      if (opts.answers !== undefined) {
        try {
          if (parseResponses(Buffer.concat(chunks)).length >= opts.answers) {
            s.destroy();
            done();
          }
        } catch {
          /* not complete yet */
        }
      }
    });
    s.on('error', reject);
    s.on('close', () => {
      closed = true;
      done();
    });
  });
}

const post = (path: string, body: string, extra = '') => `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe('fast path', () => {
  let server: Server;
  let port: number;
  const metrics = new InferenceMetrics({ defaultMetrics: false });
  const seen: unknown[] = [];
  let slow: { resolve: () => void } | null = null;
  const handlers: Handlers = {
    decide: async (body) => {
      seen.push(body);
      if ((body as any)?.slow) await new Promise<void>((resolve) => (slow = { resolve }));
      if ((body as any)?.boom) throw new Error('kaboom');
      if ((body as any)?.bad) throw badRequest('deployment must be a string', 'deployment', 'a deployment name');
      return { ok: true, echo: body };
    },
    rewards: (body) => ({ accepted: body }),
    live: () => ({ live: true }),
    ready: () => ({ ready: true }),
    serverMetadata: () => ({ name: 'autopilot' }),
    modelMetadata: (_ctx, p) => ({ name: p.name }),
    modelReady: (_ctx, p) => ({ name: p.name, ready: true }),
    infer: (body, _ctx, p) => ({ model_name: p.name, body }),
    metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'm 1\n' }),
  };
  const start = async (fastPath: boolean) => {
    const s = createHttpServer({ maxBodyBytes: LIMIT, handlers, metrics, onInternalError: () => undefined, keepAliveTimeoutMs: 5000, fastPath });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return { server: s, port: (s.address() as AddressInfo).port };
  };

  beforeAll(async () => {
    ({ server, port } = await start(true));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const stats = () => ({ ...fastPathStats(server)! });

  it('answers a plain request itself, with the keep-alive headers node:http sends', async () => {
    const before = stats();
    const { raw, closed } = await rawExchange(port, [post('/v1/decide', '{"deployment":"x"}')], { answers: 1 });
    const [a] = parseResponses(raw);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body)).toEqual({ ok: true, echo: { deployment: 'x' } });
    expect(a.headers).toMatchObject({ 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(a.body)), connection: 'keep-alive', 'keep-alive': 'timeout=5' });
    expect(Date.now() - Date.parse(a.headers.date)).toBeLessThan(5000);
    expect(closed).toBe(false);
    expect(stats().requests - before.requests).toBe(1);
    expect(stats().handOffs).toBe(before.handOffs);
  });

  it('reads a v2 infer body over the common limit itself (its route has a larger one)', async () => {
    const before = stats();
    const body = JSON.stringify({ inputs: [{ name: 'x', data: Array.from({ length: 200 }, (_, i) => i / 7) }] });
    expect(body.length).toBeGreaterThan(LIMIT);
    const answers = parseResponses((await rawExchange(port, [post('/v2/models/m/infer', body) + post('/v1/decide', '{"n":1}')], { answers: 2 })).raw);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(JSON.parse(answers[0].body)).toEqual({ model_name: 'm', body: JSON.parse(body) });
    expect(stats().requests - before.requests).toBe(2);
    expect(stats().handOffs).toBe(before.handOffs);
  });

  it('answers pipelined requests in order on one connection', async () => {
    const before = stats();
    const bytes = post('/v1/decide', '{"n":1}') + get('/v2/health/live') + get('/nope') + post('/v1/rewards', '{"n":2}') + post('/v1/decide', '{"bad":true}') + post('/v1/decide', '{"n":3}');
    const answers = parseResponses((await rawExchange(port, [bytes], { answers: 6 })).raw);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 404, 200, 400, 200]);
    expect(JSON.parse(answers[0].body).echo).toEqual({ n: 1 });
    expect(JSON.parse(answers[1].body)).toEqual({ live: true });
    expect(JSON.parse(answers[2].body)).toMatchObject({ error: 'no route GET /nope', field: 'path' });
    expect(JSON.parse(answers[3].body)).toEqual({ accepted: { n: 2 } });
    expect(JSON.parse(answers[4].body)).toEqual({ error: 'deployment must be a string', field: 'deployment', expected: 'a deployment name' });
    expect(JSON.parse(answers[5].body).echo).toEqual({ n: 3 });
    expect(stats().requests - before.requests).toBe(6);
  });

  it('answers thousands of pipelined synchronous answers without growing the stack', async () => {
    const n = 5000;
    const answers = parseResponses((await rawExchange(port, [get('/nope').repeat(n)], { answers: n, timeoutMs: 20_000 })).raw);
    expect(answers).toHaveLength(n);
    expect(answers.every((a) => a.status === 404)).toBe(true);
  }, 30_000);

  it('stops reading from a client that pipelines without reading its answers, and answers everything once it reads', async () => {
    const n = 40_000;
    const bytes = get('/nope').repeat(n);
    const count = await new Promise<number>((resolve, reject) => {
      const s = connect(port, '127.0.0.1');
      const chunks: Buffer[] = [];
      let got = 0;
      let tail = '';
      s.on('connect', () => {
        s.pause();
        s.write(bytes);
        setTimeout(() => s.resume(), 500);
      });
      s.on('data', (d) => {
        chunks.push(d);
        const text = tail + d.toString('latin1');
        got += text.split('HTTP/1.1 404 ').length - 1;
        tail = text.slice(-12);
        if (got >= n) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      const timer = setTimeout(() => (s.destroy(), resolve(got)), 20_000);
      s.on('close', () => clearTimeout(timer));
    });
    expect(count).toBe(n);
  }, 30_000);

  it('reassembles a request written one byte at a time, multi-byte UTF-8 split included', async () => {
    const body = JSON.stringify({ deployment: 'ñandú-日本-🙂' });
    const bytes = Buffer.from(post('/v1/decide', body));
    const writes = Array.from(bytes, (b) => Buffer.from([b]));
    const [a] = parseResponses((await rawExchange(port, writes, { answers: 1, timeoutMs: 10_000 })).raw);
    expect(a.status).toBe(200);
    expect(JSON.parse(a.body).echo).toEqual({ deployment: 'ñandú-日本-🙂' });
  }, 15_000);

  it('takes a body delivered in many small pieces, and a pipelined request right behind it', async () => {
    const body = JSON.stringify({ deployment: 'x', pad: 'y'.repeat(900) });
    const bytes = Buffer.from(post('/v1/decide', body) + get('/v2/health/live'));
    const head = bytes.indexOf('\r\n\r\n') + 4;
    const writes = [bytes.subarray(0, head), ...Array.from({ length: Math.ceil((bytes.length - head) / 7) }, (_, k) => bytes.subarray(head + k * 7, head + (k + 1) * 7))];
    const answers = parseResponses((await rawExchange(port, writes, { answers: 2, timeoutMs: 10_000 })).raw);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    expect(JSON.parse(answers[0].body).echo).toEqual(JSON.parse(body));
    expect(JSON.parse(answers[1].body)).toEqual({ live: true });
  }, 15_000);

  it('hands a connection to node:http mid-way when a request needs it (chunked body), unparsed bytes included', async () => {
    const before = stats();
    const chunked = 'POST /v1/decide HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"n":\r\n2\r\n4}\r\n0\r\n\r\n';
    const answers = parseResponses((await rawExchange(port, [post('/v1/decide', '{"n":1}') + chunked + post('/v1/decide', '{"n":5}')], { answers: 3 })).raw);
    expect(answers.map((a) => [a.status, JSON.parse(a.body).echo])).toEqual([
      [200, { n: 1 }],
      [200, { n: 4 }],
      [200, { n: 5 }],
    ]);
    expect(stats().requests - before.requests).toBe(1);
    expect(stats().handOffs - before.handOffs).toBe(1);
    const scrape = await metrics.registry.metrics();
    expect(scrape).toContain(`autopilot_inference_http_fast_path_total{event="request"} ${stats().requests}\n`);
    expect(scrape).toContain(`autopilot_inference_http_fast_path_total{event="hand_off"} ${stats().handOffs}\n`);
  });

  it.each([
    ['Expect: 100-continue', post('/v1/decide', '{"n":6}', 'Expect: 100-continue\r\n'), 200],
    ['HTTP/1.0', 'POST /v1/decide HTTP/1.0\r\nContent-Length: 7\r\n\r\n{"n":7}', 200],
    ['Content-Length with Transfer-Encoding', 'POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
    ['a body over the limit', post('/v1/decide', JSON.stringify({ pad: 'x'.repeat(LIMIT) })), 413],
    ['garbage', 'GARBAGE\r\n\r\n', 400],
    ['a PUT', 'PUT /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n{}', 405],
  ])('leaves %s to node:http and its answer', async (_what, bytes, status) => {
    const before = stats();
    const answers = parseResponses((await rawExchange(port, [bytes], { answers: 1 })).raw);
    expect(answers[0].status).toBe(status);
    expect(JSON.parse(answers[0].body)).toEqual(expect.objectContaining(status === 200 ? { ok: true } : { error: expect.any(String) }));
    expect(stats().handOffs - before.handOffs).toBe(1);
    expect(stats().requests).toBe(before.requests);
  });

  it.each([
    ['the fast path', post('/v1/decide', '{"n":8}').replace('Host: t\r\n', '')],
    ['node:http', 'POST /v1/decide HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n'],
  ])('answers an HTTP/1.1 request without Host with a JSON 400 and closes, on %s', async (_path, bytes) => {
    const errors = async () => (await metrics.errors.get()).values.find((v) => v.labels.route === 'decide' && v.labels.status === '400')?.value ?? 0;
    const before = await errors();
    const { raw, closed } = await rawExchange(port, [bytes + get('/v2/health/live')]);
    const answers = parseResponses(raw);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ status: 400, headers: { connection: 'close' } });
    expect(JSON.parse(answers[0].body)).toEqual({ error: 'an HTTP/1.1 request must have a Host header', field: 'headers.host', expected: 'a Host header' });
    expect(closed).toBe(true);
    expect((await errors()) - before).toBe(1);
    expect(parseHead('GET / HTTP/1.1\r\nX: y', LIMIT)).toMatchObject({ host: false });
  });

  it('closes after answering Connection: close', async () => {
    const { raw, closed } = await rawExchange(port, [post('/v1/decide', '{"n":9}', 'Connection: close\r\n') + get('/v2/health/live')]);
    const answers = parseResponses(raw);
    expect(answers).toHaveLength(1);
    expect(answers[0].headers.connection).toBe('close');
    expect(closed).toBe(true);
  });

  it('answers what is complete when the client half-closes, then closes', async () => {
    const { raw, closed } = await rawExchange(port, [post('/v1/decide', '{"n":10}') + 'POST /v1/decide HTTP/1.1\r\nHost: t\r\nContent-Le'], { end: true });
    expect(parseResponses(raw).map((a) => a.status)).toEqual([200]);
    expect(closed).toBe(true);
  });

  it('hands over a request line longer than it reads', async () => {
    const before = stats();
    const { raw } = await rawExchange(port, [`GET /${'a'.repeat(MAX_HEAD_BYTES)} HTTP/1.1\r\nHost: t\r\n\r\n`], { answers: 1 });
    expect(parseResponses(raw)[0]).toMatchObject({ status: 431, headers: { connection: 'close' } });
    expect(stats().handOffs - before.handOffs).toBe(1);
  });

  it('gives the same answers as node:http alone', async () => {
    const plain = await start(false);
    expect(fastPathStats(plain.server)).toBeNull();
    try {
      const requests = [
        post('/v1/decide', '{"deployment":"x","features":[1,2]}'),
        post('/v1/decide', '{"deployment": '),
        post('/v1/decide', ''),
        post('/v1/decide', '{"boom":true}'),
        post('/v1/rewards?x=1', '[1,2,3]'),
        post('/v2/models/m%20x/versions/3/infer', '{"inputs":[]}'),
        post('/v2/models/m/versions//infer', '{}'),
        get('/v2/models/m/ready'),
        get('/v2'),
        get('/v1/decide'),
        get('/metrics'),
        post('/metrics', '{}'),
      ];
      // Error ids differ per answer: compared as a placeholder.
      const pick = (a: Answer) => ({ status: a.status, body: a.body.replace(/[0-9a-f]{12}/g, '<id>'), type: a.headers['content-type'], length: a.headers['content-length'], connection: a.headers.connection, keepAlive: a.headers['keep-alive'] });
      for (const r of requests) {
        const fast = parseResponses((await rawExchange(port, [r], { answers: 1 })).raw).map(pick);
        const node = parseResponses((await rawExchange(plain.port, [r], { answers: 1 })).raw).map(pick);
        expect({ r, fast }).toEqual({ r, fast: node });
      }
    } finally {
      await new Promise<void>((r) => plain.server.close(() => r()));
    }
  });

  it('on close: closes idle connections at once, lets a busy one answer with Connection: close', async () => {
    const s = await start(true);
    const idle = rawExchange(s.port, [get('/v2/health/live')], { timeoutMs: 10_000 });
    const busy = rawExchange(s.port, [post('/v1/decide', '{"slow":true}')], { timeoutMs: 10_000 });
    while (slow === null) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 50));
    let closedAt = 0;
    const closed = new Promise<void>((r) => s.server.close(() => ((closedAt = Date.now()), r())));
    const idleDone = await idle;
    expect(idleDone.closed).toBe(true);
    expect(parseResponses(idleDone.raw).map((a) => a.status)).toEqual([200]);
    expect(closedAt).toBe(0); // the busy connection holds the server open
    const answeredAt = Date.now();
    slow!.resolve();
    slow = null;
    const busyDone = await busy;
    await closed;
    expect(closedAt).toBeGreaterThanOrEqual(answeredAt);
    const [a] = parseResponses(busyDone.raw);
    expect(a.status).toBe(200);
    expect(a.headers.connection).toBe('close');
    expect(busyDone.closed).toBe(true);
  });

  it('survives thousands of mutated raw requests: never a 5xx, never a hang, still serving after', async () => {
    const rng = new Rng(4242);
    const base = [post('/v1/decide', '{"deployment":"x","features":[1,2,3]}'), get('/v2/health/live'), post('/v1/rewards', '{"decisionId":"a","reward":1}') + get('/metrics')];
    const statuses = new Map<number, number>();
    let hangs = 0;
    const mutate = (text: string): Buffer => {
      const b = [...Buffer.from(text)];
      const edits = 1 + rng.int(4);
      for (let e = 0; e < edits; e++) {
        const at = rng.int(b.length + 1);
        switch (rng.int(6)) {
          case 0: b[at] = rng.int(256); break;
          case 1: b.splice(at, 1); break;
          case 2: b.splice(at, 0, [13, 10, 32, 58, 9, 0, 48][rng.int(7)]); break;
          case 3: b.splice(at, 0, ...Buffer.from(['\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'Host: x\r\n', 'Connection: close\r\n'][rng.int(5)])); break;
          case 4: b.length = Math.max(1, at); break;
          default: b.splice(at, 0, ...b.slice(0, rng.int(40)));
        }
      }
      return Buffer.from(b);
    };
    for (let round = 0; round < 100; round++) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const bytes = mutate(base[rng.int(base.length)]);
          const { raw, closed } = await rawExchange(port, [bytes], { end: true, timeoutMs: 5000 });
          if (!closed) hangs++;
          let answers: Answer[] = [];
          try {
            answers = parseResponses(raw);
          } catch {
            // a response cut short by the server closing after an error it already answered: statuses below still count
          }
          for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
          if (answers.length === 0) statuses.set(0, (statuses.get(0) ?? 0) + 1);
        }),
      );
    }
    if (process.env.AP_TEST_LOG) console.log(Object.fromEntries(statuses), stats());
    expect(hangs).toBe(0);
    expect([...statuses.keys()].filter((s) => s >= 500)).toEqual([]);
    expect(statuses.get(200)).toBeGreaterThan(100);
    expect(statuses.get(400)).toBeGreaterThan(100);
    const [a] = parseResponses((await rawExchange(port, [post('/v1/decide', '{"after":true}')], { answers: 1 })).raw);
    expect(a.status).toBe(200);
  }, 60_000);
});

describe('fast path with a route of a larger body limit', () => {
  it('reads pipelined large v2 bodies in whole while an async handler is busy (never stalls on its buffer limit)', async () => {
    const metrics = new InferenceMetrics({ defaultMetrics: false });
    const handlers: Handlers = {
      decide: () => ({ ok: true }),
      rewards: () => ({ ok: true }),
      live: () => ({ live: true }),
      ready: () => ({ ready: true }),
      serverMetadata: () => ({ name: 'autopilot' }),
      modelMetadata: (_ctx, p) => ({ name: p.name }),
      modelReady: (_ctx, p) => ({ name: p.name, ready: true }),
      infer: async (body) => {
        await new Promise((r) => setTimeout(r, 20));
        return { n: (body as { data: number[] }).data.length };
      },
      metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: '' }),
    };
    const server = createHttpServer({ maxBodyBytes: LIMIT, maxInferBodyBytes: 1024 * 1024, handlers, metrics, onInternalError: () => undefined, keepAliveTimeoutMs: 5000 });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      const body = (n: number) => JSON.stringify({ data: Array.from({ length: n }, (_, i) => i / 3) });
      // Each body is far over the bytes a connection buffers for the common limit (2 × (16 KiB + LIMIT)).
      const sizes = [20_000, 30_000, 25_000];
      const bytes = sizes.map((n) => post('/v2/models/m/infer', body(n))).join('');
      expect(bytes.length).toBeGreaterThan(3 * 2 * (MAX_HEAD_BYTES + LIMIT));
      const answers = parseResponses((await rawExchange(port, [bytes], { answers: 3, timeoutMs: 5000 })).raw);
      expect(answers.map((a) => [a.status, JSON.parse(a.body)])).toEqual(sizes.map((n) => [200, { n }]));
      expect(fastPathStats(server)).toEqual({ requests: 3, handOffs: 0, deadlines: 0 });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
