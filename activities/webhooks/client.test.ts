/**
 * The webhook sender against a real local HTTP server: what each kind of answer gives, the signature
 * recomputed here with node:crypto from the bytes the server received (not with the sender's code),
 * the allow-list (refused calls never connect), redirects not followed, answers read only up to the
 * cap, and the timeout covering a body that never ends.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhookSender, hostRefusal, loadOutboundSettings, verifyWebhookSignature } from '.';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('webhook sender', () => {
  let server: Server;
  let base: string;
  const seen: Seen[] = [];
  const SECRET = 'test-secret-0123456789abcdef';

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
        switch (req.url) {
          case '/ok':
            res.writeHead(202, { 'content-type': 'application/json' }).end('{"approved":true}');
            return;
          case '/denied':
            res.writeHead(403).end('change freeze until Monday');
            return;
          case '/redirect':
            res.writeHead(302, { location: `${base}/target` }).end();
            return;
          case '/target':
            res.writeHead(200).end('followed');
            return;
          case '/huge': {
            // 200 with a body that never ends: 64 KiB chunks until the client goes away
            res.writeHead(200, { 'content-type': 'application/octet-stream' });
            const chunk = Buffer.alloc(65_536, 0x61);
            const pump = () => {
              while (res.write(chunk));
            };
            res.on('drain', pump);
            pump();
            return;
          }
          case '/slow':
            // headers at once, then a byte every 100 ms: the answer never completes, yet it is never idle
            // (a timeout that restarts on every byte would never end it)
            res.writeHead(200);
            {
              const t = setInterval(() => res.write('.'), 100);
              res.on('close', () => clearInterval(t));
            }
            return;
          default:
            res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const sender = (over: Partial<{ secret: string | null; allowedHosts: string[]; maxResponseBytes: number }> = {}) =>
    createWebhookSender({ secret: SECRET, allowedHosts: ['127.0.0.1'], maxResponseBytes: 4096, ...over });
  // 10 s: a loaded CI machine must not turn a plain answer of the local server into a timeout.
  const post = (path: string, over: Parameters<typeof sender>[0] = {}, timeoutMs = 10_000) =>
    sender(over)({ url: `${base}${path}`, event: 'canary.confirm-promotion', timeoutMs, payload: { model: 'ranker', version: 3, note: 'ünïcode "quoted"' } });

  it('a 2xx is ok; the body is signed with HMAC-SHA256 over "<timestamp>.<body>", checked here independently', async () => {
    const before = Math.floor(Date.now() / 1000);
    const r = await post('/ok');
    expect(r).toMatchObject({ ok: true, status: 202, error: null, body: '{"approved":true}', truncated: false, signed: true });
    expect(seen).toHaveLength(1);
    const { headers, body } = seen[0];
    expect(JSON.parse(body.toString('utf8'))).toEqual({ model: 'ranker', version: 3, note: 'ünïcode "quoted"' });
    expect(headers['content-type']).toBe('application/json');
    expect(headers['x-autopilot-event']).toBe('canary.confirm-promotion');
    const ts = headers['x-autopilot-timestamp'] as string;
    expect(Number(ts)).toBeGreaterThanOrEqual(before);
    expect(Number(ts)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const expected = `sha256=${createHmac('sha256', SECRET).update(Buffer.concat([Buffer.from(`${ts}.`), body])).digest('hex')}`;
    expect(headers['x-autopilot-signature']).toBe(expected);
    // the receiver's helper agrees, and refuses a tampered body, another secret and a stale timestamp
    const text = body.toString('utf8');
    expect(verifyWebhookSignature(SECRET, ts, text, expected)).toBe(true);
    expect(verifyWebhookSignature(SECRET, ts, text.replace('ranker', 'rankes'), expected)).toBe(false);
    expect(verifyWebhookSignature('another-secret-0123456789', ts, text, expected)).toBe(false);
    expect(verifyWebhookSignature(SECRET, ts, text, expected, { nowS: Number(ts) + 301 })).toBe(false);
  });

  it('without a secret the call goes out unsigned (and says so)', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const r = await post('/ok', { secret: null });
    expect(r).toMatchObject({ ok: true, signed: false });
    expect(seen[0].headers['x-autopilot-signature']).toBeUndefined();
    warn.mockRestore();
  });

  it('a 4xx is not ok, with the status and the start of the answer', async () => {
    expect(await post('/denied')).toMatchObject({ ok: false, status: 403, error: 'HTTP 403', body: 'change freeze until Monday' });
  });

  it('follows no redirect: a 3xx is a failed call naming the Location, and the target is never asked', async () => {
    const r = await post('/redirect');
    expect(r).toMatchObject({ ok: false, status: 302, error: `HTTP 302 redirect to ${base}/target; webhooks follow no redirects` });
    expect(seen.map((s) => s.path)).toEqual(['/redirect']);
  });

  it('reads an endless answer only up to the cap, then hangs up (well before the timeout)', async () => {
    // ok (not 'no complete answer within …') shows the cap ended the call, not the timeout; the elapsed
    // time is checked only against half the timeout, far from what a loaded machine needs for 100 KB.
    const t0 = performance.now();
    const r = await post('/huge', { maxResponseBytes: 100_000 }, 30_000);
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(r).toMatchObject({ ok: true, status: 200, truncated: true, bytesRead: 100_000 });
    expect(r.body).toHaveLength(1024);
  });

  it('ends a slow answer at the timeout, body included', async () => {
    const t0 = performance.now();
    const r = await post('/slow', {}, 700);
    const ms = performance.now() - t0;
    expect(r).toMatchObject({ ok: false, status: null, error: 'no complete answer within 700 ms' });
    // Not before the deadline (a timer never fires early); after it only by event-loop delay, which on a
    // loaded 2-core machine can reach seconds: the upper bound catches a call the timeout does not end
    // (the answer never completes), not scheduling jitter.
    expect(ms).toBeGreaterThanOrEqual(650);
    expect(ms).toBeLessThan(700 + 5000);
  });

  it('refuses a host off the allow-list without connecting', async () => {
    const r = await post('/ok', { allowedHosts: ['hooks.example.com'] });
    expect(r).toMatchObject({ ok: false, status: null, error: `host ${new URL(base).host} is not on the webhook allow-list (hooks.example.com); add it to AUTOPILOT_WEBHOOK_ALLOWED_HOSTS` });
    expect(seen).toEqual([]);
  });

  it('reports a refused connection', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const r = await sender()({ url: `http://127.0.0.1:${port}/x`, event: 'e', timeoutMs: 1000, payload: {} });
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/ECONNREFUSED/);
  });
});

describe('webhook host allow-list', () => {
  it.each([
    ['http://hooks.example.com/x', ['hooks.example.com'], true],
    ['https://HOOKS.example.com:8443/x', ['hooks.example.com'], true],
    ['https://hooks.example.com:8443/x', ['hooks.example.com:8443'], true],
    ['https://hooks.example.com/x', ['hooks.example.com:8443'], false],
    ['https://hooks.example.com/x', ['hooks.example.com:443'], true],
    ['https://hooks.example.com/x', ['hooks.example.com:80'], false],
    ['http://hooks.example.com/x', ['hooks.example.com:80'], true],
    ['http://[::1]:9/x', ['[::1]:9'], true],
    ['http://[::1]:10/x', ['[::1]:9'], false],
    ['http://a.b.example.com/x', ['*.example.com'], true],
    ['http://example.com/x', ['*.example.com'], false],
    ['http://evilexample.com/x', ['*.example.com'], false],
    ['http://hooks.example.com.evil.io/x', ['hooks.example.com'], false],
    ['http://user:pw@hooks.example.com/x', ['hooks.example.com'], true],
    ['http://127.1:8080/x', ['127.0.0.1'], true],
    ['http://[::1]:9/x', ['[::1]'], true],
    ['http://169.254.169.254/latest', ['127.0.0.1', 'localhost', '[::1]'], false],
    ['http://anything.io/x', ['*'], true],
    ['ftp://hooks.example.com/x', ['*'], false],
  ])('%s with %j → allowed %s', (url, hosts, allowed) => {
    expect(hostRefusal(url, hosts) === null).toBe(allowed);
  });
});

describe('outbound settings', () => {
  it('defaults to loopback hosts, no secret, a 64 KiB answer cap', () => {
    expect(loadOutboundSettings({})).toEqual({ secret: null, allowedHosts: ['localhost', '127.0.0.1', '[::1]'], maxResponseBytes: 65_536, prometheusUrl: null });
  });

  it('reads the secret from a variable or a file, the hosts list and the Prometheus URL', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-hook-'));
    writeFileSync(join(dir, 'secret'), 'from-a-file-0123456789\n');
    expect(loadOutboundSettings({ AUTOPILOT_WEBHOOK_SECRET_FILE: join(dir, 'secret'), AUTOPILOT_WEBHOOK_ALLOWED_HOSTS: ' Hooks.Example.com, *.corp.io ,', AUTOPILOT_PROMETHEUS_URL: 'http://prom:9090' })).toEqual({
      secret: 'from-a-file-0123456789',
      allowedHosts: ['hooks.example.com', '*.corp.io'],
      maxResponseBytes: 65_536,
      prometheusUrl: 'http://prom:9090',
    });
  });

  it.each([
    [{ AUTOPILOT_WEBHOOK_SECRET: 'short' }, 'webhook secret: got 5 characters, expected at least 16 (e.g. `openssl rand -hex 32`)'],
    [{ AUTOPILOT_WEBHOOK_SECRET: 'x'.repeat(16), AUTOPILOT_WEBHOOK_SECRET_FILE: '/x' }, 'AUTOPILOT_WEBHOOK_SECRET and AUTOPILOT_WEBHOOK_SECRET_FILE are both set; expected one of them'],
    [{ AUTOPILOT_WEBHOOK_SECRET_FILE: '/nonexistent/secret' }, /^AUTOPILOT_WEBHOOK_SECRET_FILE: cannot read \/nonexistent\/secret \(ENOENT/],
    [{ AUTOPILOT_WEBHOOK_ALLOWED_HOSTS: 'http://x.io' }, 'AUTOPILOT_WEBHOOK_ALLOWED_HOSTS: got "http://x.io", expected host, host:port, *.domain, [ipv6] or *'],
    [{ AUTOPILOT_WEBHOOK_MAX_RESPONSE_BYTES: '1e3x' }, 'AUTOPILOT_WEBHOOK_MAX_RESPONSE_BYTES: got "1e3x", expected a whole number of bytes >= 0'],
    [{ AUTOPILOT_PROMETHEUS_URL: 'prom:9090' }, 'AUTOPILOT_PROMETHEUS_URL: got "prom:9090", expected an http:// or https:// URL'],
  ])('%j → %s', (env, message) => {
    expect(() => loadOutboundSettings(env)).toThrow(message);
  });
});
