/**
 * Overload and slow clients against a real inference server (PostgreSQL, onnxruntime, Redis; issue
 * "Trust" item 6):
 *
 * - slowloris: connections that send one byte a second, in the head (fast path), in the body (fast
 *   path) and in a chunked body (node:http's path), are closed at their absolute deadline — not
 *   moved by the bytes that keep coming — while normal clients go on being served (their p99 printed);
 * - a connection flood over `maxConnections`: the connections over the cap are answered 503 with
 *   Retry-After and closed, those under it served, and the server serves new clients once it is over;
 * - a Redis outage (a redis-server started here and killed): bandit decide and bandit rewards 503 with
 *   Retry-After, the feature store (`{ entity }` features) 503, policy decide with inline features 200,
 *   and no body names Redis' own error.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect, createServer as createNetServer, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { InferenceServer } from '../server';
import { TEST_AUTHORIZATION } from '../testing/api-key';
import { TEST_FEATURES } from '../testing/test-policy';
import { createServingFixture, waitFor, type ServingFixture } from '../testing/fixture';

jest.setTimeout(60_000);

const HEADERS_MS = 4000;
const BODY_MS = 4000;
/**
 * A deadline is kept to within this (timer and event-loop delay on a busy machine: a loaded 2-core CI
 * machine delays timers by more than 1 s now and then). The wrong deadlines this must still tell apart
 * differ by 4 s or more: a deadline that restarts on every byte never fires; a head deadline of
 * head + body (8 s) is above 4 + 3 s; a chunked body cut at the body deadline alone (4 s) is below 8 − 0.05 s.
 */
const SLACK_MS = 3000;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function call(port: number, method: string, path: string, body?: unknown, agent?: Agent): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, method, path, agent: agent ?? false, headers: { authorization: TEST_AUTHORIZATION, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* not JSON */
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

const features = TEST_FEATURES.map((_, i) => (i % 5) / 5);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
}

/**
 * A slow client: `head` at once, then `drip` one byte a second until the server closes. Resolves with
 * the ms from its `from` moment ('start': the first byte; 'head': the end of the head) to the close,
 * and whether it saw a 408.
 */
/** Slow clients closed so far (their slots under the cap are free again). */
let slowClosed = 0;

function slowClient(port: number, first: string, drip: string): Promise<{ closedAfterMs: number; bytesSent: number; answered408: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let t0 = 0;
    let sent = 0;
    let got = '';
    let timer: NodeJS.Timeout | null = null;
    socket.on('connect', () => {
      t0 = performance.now();
      socket.write(first);
      timer = setInterval(() => {
        if (!socket.writable) return;
        socket.write(drip[sent % drip.length]);
        sent++;
      }, 1000);
    });
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      slowClosed++;
      if (timer) clearInterval(timer);
      resolve({ closedAfterMs: performance.now() - t0, bytesSent: sent, answered408: got.startsWith('HTTP/1.1 408') });
    });
  });
}

describe('overload: slow clients and floods', () => {
  let fx: ServingFixture;
  let server: InferenceServer;

  beforeAll(async () => {
    fx = await createServingFixture();
    const { version } = await fx.register('ranker', 7);
    await fx.deploy('ranker', { champion: version });
    server = await fx.start({ overload: { headersTimeoutMs: HEADERS_MS, bodyTimeoutMs: BODY_MS, maxConnections: 200 } });
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('closes slowloris connections at their absolute deadline while normal clients are served; a flood over the cap gets 503 + Retry-After', async () => {
    const { port } = server;
    // Normal clients: 4 keep-alive connections, opened before the slow ones and the flood.
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    await Promise.all([0, 1, 2, 3].map(() => call(port, 'POST', '/v1/decide', { deployment: 'ranker', features }, agent)));
    const latencies: number[] = [];
    const statuses = new Map<number, number>();
    let stop = false;
    const normal = [0, 1, 2, 3].map(async () => {
      while (!stop) {
        const t = performance.now();
        const r = await call(port, 'POST', '/v1/decide', { deployment: 'ranker', features }, agent);
        latencies.push(performance.now() - t);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    });

    // 60 slow heads, 30 slow bodies (fast path), 10 slow chunked bodies (node:http's path).
    const slowHeads = Array.from({ length: 60 }, () => slowClient(port, 'POST /v1/decide HTTP/1.1\r\nHost: x\r\nX-Slow: ', 'abcdefghij'));
    const slowBodies = Array.from({ length: 30 }, () => slowClient(port, `POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: ${TEST_AUTHORIZATION}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`, ' '));
    const slowChunked = Array.from({ length: 10 }, () => slowClient(port, `POST /v1/decide HTTP/1.1\r\nHost: x\r\nAuthorization: ${TEST_AUTHORIZATION}\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n `, '\r\n1\r\n '.split('').join('')));

    // The flood: 300 connections at once, each asking for health. 4 + 100 are open already: at most
    // 96 more are under the cap of 200 (plus the slots of slow clients cut meanwhile), the others are
    // answered 503 and closed.
    await new Promise((r) => setTimeout(r, 300));
    const flood = await Promise.all(
      Array.from({ length: 300 }, () =>
        new Promise<{ status: number; retryAfter: string | null; closed: boolean; socket: Socket }>((resolve) => {
          const s = connect(port, '127.0.0.1');
          let text = '';
          let done = false;
          const finish = (closed: boolean) => {
            if (done) return;
            done = true;
            const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
            const ra = /\r\nretry-after: *(\d+)/i.exec(text);
            resolve({ status: m ? Number(m[1]) : 0, retryAfter: ra ? ra[1] : null, closed, socket: s });
          };
          s.on('connect', () => s.write('GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n'));
          s.on('data', (d: Buffer) => {
            text += d.toString('latin1');
            if (/\r\n\r\n/.test(text) && !/^HTTP\/1\.1 503/.test(text)) finish(false); // served: stays open (keep-alive)
          });
          s.on('error', () => undefined);
          s.on('close', () => finish(true));
        }),
      ),
    );
    const freedBySlow = slowClosed; // on a slow machine the flood may outlast the first deadlines
    const refused = flood.filter((f) => f.status === 503);
    const served = flood.filter((f) => f.status === 200);
    expect(refused.length + served.length).toBe(300);
    expect(served.length).toBeLessThanOrEqual(96 + freedBySlow);
    expect(refused.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThan(0);
    for (const f of refused) {
      expect(f.retryAfter).toBe('1');
      expect(f.closed).toBe(true);
    }

    const [heads, bodies, chunked] = await Promise.all([Promise.all(slowHeads), Promise.all(slowBodies), Promise.all(slowChunked)]);
    stop = true;
    await Promise.all(normal);
    agent.destroy();
    for (const f of served) f.socket.destroy();

    // Each slow client kept sending a byte a second; it was still cut at its deadline (an inactivity
    // timeout would never have fired). Heads: from the first byte; bodies: from the end of the head
    // (sent in the first write); chunked (node:http's requestTimeout): head + body deadlines from the start.
    for (const h of heads) {
      expect(h.closedAfterMs).toBeGreaterThan(HEADERS_MS - 50);
      expect(h.closedAfterMs).toBeLessThan(HEADERS_MS + SLACK_MS);
      expect(h.bytesSent).toBeGreaterThanOrEqual(1);
      expect(h.answered408).toBe(true);
    }
    for (const b of bodies) {
      expect(b.closedAfterMs).toBeGreaterThan(BODY_MS - 50);
      expect(b.closedAfterMs).toBeLessThan(BODY_MS + SLACK_MS);
      expect(b.answered408).toBe(true);
    }
    for (const c of chunked) {
      expect(c.closedAfterMs).toBeGreaterThan(HEADERS_MS + BODY_MS - 50);
      expect(c.closedAfterMs).toBeLessThan(HEADERS_MS + BODY_MS + SLACK_MS);
      expect(c.bytesSent).toBeGreaterThanOrEqual(3);
    }

    // Normal clients: every request answered 200 throughout.
    expect([...statuses.keys()]).toEqual([200]);
    const sorted = [...latencies].sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    const p99 = percentile(sorted, 0.99);
    process.stdout.write(
      `overload.int.test: normal clients during 100 slowloris connections + a 300-connection flood: ${sorted.length} decides, p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms; flood ${served.length} served, ${refused.length} refused 503\n`,
    );
    // Served throughout, not starved by the slow clients until their deadlines (4 s): a normal client's p99
    // under half a deadline. (The latency target itself, p99 < 10 ms, is measured in bench/inference.ts,
    // not here, where 100 slow clients and a flood share two cores with the test process.)
    expect(p99).toBeLessThan(HEADERS_MS / 2);

    const metrics = await call(port, 'GET', '/metrics');
    expect(metrics.body).toMatch(new RegExp(`autopilot_inference_connections_refused_total ${refused.length}\\b`));
    expect(metrics.body).toMatch(new RegExp(`autopilot_inference_request_deadlines_total ${heads.length + bodies.length}\\b`));
    // Over: a new client is served.
    expect((await call(port, 'POST', '/v1/decide', { deployment: 'ranker', features })).status).toBe(200);
  });
});

describe('overload: a Redis outage fails only what needs Redis', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let redisProc: ChildProcess;
  let redis: Redis;
  const tag = randomBytes(4).toString('hex');
  const logged: string[] = [];

  beforeAll(async () => {
    const redisPort = await freePort();
    redisProc = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    redis = new Redis(`redis://127.0.0.1:${redisPort}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await waitFor(async () => (await redis.ping().catch(() => null)) === 'PONG', 10_000, 'redis-server to start');
    await redis.hset('features:user:1', Object.fromEntries(TEST_FEATURES.map((n, i) => [n, String(i / 10)])));
    fx = await createServingFixture();
    const { version } = await fx.register('ranker', 3);
    await fx.deploy('ranker', { champion: version });
    await fx.registry.createModel({ name: 'router', actor: 'test' });
    await fx.registry.setDeployment({ model: 'router', kind: 'bandit', championVersion: null, actor: 'test', config: { learner: { kind: 'beta-ts' }, arms: ['a', 'b'], stateKey: `guard-${tag}` } });
    server = await fx.start({ redisUrl: `redis://127.0.0.1:${redisPort}`, log: (level, msg) => logged.push(`${level} ${msg}`) });
  });

  afterAll(async () => {
    redis?.disconnect();
    if (redisProc && redisProc.exitCode === null) redisProc.kill('SIGKILL');
    await fx?.close();
  });

  it('answers bandit decide and rewards 503 + Retry-After, the feature store 503, policy decide 200', async () => {
    const { port } = server;
    const before = await call(port, 'POST', '/v1/decide', { deployment: 'router' });
    expect(before.status).toBe(200);
    expect((await call(port, 'POST', '/v1/decide', { deployment: 'ranker', features: { entity: 'user:1' } })).status).toBe(200);

    redisProc.kill('SIGKILL');
    await new Promise<void>((r) => (redisProc.exitCode !== null ? r() : redisProc.once('exit', () => r())));

    const bandit = await call(port, 'POST', '/v1/decide', { deployment: 'router' });
    expect(bandit.status).toBe(503);
    expect(bandit.headers['retry-after']).toBe('1');
    expect(bandit.body).toMatchObject({ error: expect.stringMatching(/Redis is unavailable \(error id [0-9a-f]{12}\)/), errorId: expect.any(String) });

    const reward = await call(port, 'POST', '/v1/rewards', { decisionId: before.body.decisionId, reward: 1 });
    expect(reward.status).toBe(503);
    expect(reward.headers['retry-after']).toBe('1');

    const store = await call(port, 'POST', '/v1/decide', { deployment: 'ranker', features: { entity: 'user:1' } });
    expect(store.status).toBe(503);
    expect(store.headers['retry-after']).toBe('1');
    expect(store.body.error).toMatch(/feature store is unavailable/);

    const policy = await call(port, 'POST', '/v1/decide', { deployment: 'ranker', features });
    expect(policy.status).toBe(200);

    // Nothing of Redis' own errors reaches a client; each is logged under the id the client got.
    for (const r of [bandit, reward, store]) {
      expect(JSON.stringify(r.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Connection is closed|max retries|features:user/i);
      expect(logged.some((l) => l.includes(`error ${r.body.errorId as string}`))).toBe(true);
    }
  });
});
