/**
 * The HTTP layer on bare `node:http`: routing, JSON bodies under a size limit, error mapping and the
 * latency histogram. It knows no models: handlers do the work and return a JSON-able value.
 *
 * Every client error is a 4xx JSON `{ error, field, expected }`; a 5xx only when a handler throws
 * something that is not a ClientError (our fault), and even then the process keeps serving.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLarge, parseJsonText, readBody } from './body';
import { ClientError } from './errors';
import type { InferenceMetrics, Observer, RouteLabel } from '../metrics';

/** Per-request scratch a handler fills so the latency lands in the right series. */
export interface RequestContext {
  /** The histogram child of the model/version/arm that served, or null for the route's default. */
  latency: Observer | null;
  /** Response status when not 200. */
  status: number;
  /** performance.now() when the request arrived. */
  start: number;
  /** The JSON body's text (what the handler's `body` was parsed from); null for requests without one. */
  bodyText: string | null;
}

export type JsonHandler<P = void> = (body: unknown, ctx: RequestContext, params: P) => Promise<unknown> | unknown;
export type GetHandler<P = void> = (ctx: RequestContext, params: P) => Promise<unknown> | unknown;

export interface Handlers {
  decide: JsonHandler;
  rewards: JsonHandler;
  live: GetHandler;
  ready: GetHandler;
  serverMetadata: GetHandler;
  modelMetadata: GetHandler<{ name: string; version: string | null }>;
  modelReady: GetHandler<{ name: string; version: string | null }>;
  infer: JsonHandler<{ name: string; version: string | null }>;
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export interface HttpOptions {
  maxBodyBytes: number;
  handlers: Handlers;
  metrics: InferenceMetrics;
  /** Called with our own faults (5xx), for logging. */
  onInternalError?: (err: unknown, route: RouteLabel) => void;
  keepAliveTimeoutMs?: number;
}

// With a Content-Length the response goes out as headers + body in one write, not as chunks.
function send(res: ServerResponse, status: number, payload: string, close = false): void {
  res.writeHead(
    status,
    close
      ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), connection: 'close' }
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
  );
  res.end(payload);
}

function errorBody(err: ClientError): string {
  return JSON.stringify(err.toJSON());
}

function methodNotAllowed(method: string, path: string, allowed: string): ClientError {
  return new ClientError(405, `${method} is not allowed on ${path}`, 'method', allowed);
}

/** Splits `/v2/models/{name}[/versions/{v}][/infer|/ready]`; null when the path is not of that shape. */
function parseModelPath(path: string): { name: string; version: string | null; tail: '' | 'infer' | 'ready' } | null {
  const parts = path.split('/'); // ['', 'v2', 'models', name, ...]
  if (parts.length < 4 || parts[3] === '') return null;
  let name: string;
  try {
    name = decodeURIComponent(parts[3]);
  } catch {
    return null;
  }
  let i = 4;
  let version: string | null = null;
  if (parts[i] === 'versions') {
    if (parts[i + 1] === undefined || parts[i + 1] === '') return null;
    version = parts[i + 1];
    i += 2;
  }
  const rest = parts.slice(i);
  if (rest.length === 0) return { name, version, tail: '' };
  if (rest.length === 1 && (rest[0] === 'infer' || rest[0] === 'ready')) return { name, version, tail: rest[0] };
  return null;
}

export function createHttpServer(opts: HttpOptions): Server {
  const { handlers, metrics, maxBodyBytes } = opts;
  const defaults: Record<RouteLabel, Observer> = {
    decide: metrics.latency('decide'),
    rewards: metrics.latency('rewards'),
    v2_infer: metrics.latency('v2_infer'),
    v2_metadata: metrics.latency('v2_metadata'),
    health: metrics.latency('health'),
    metrics: metrics.latency('metrics'),
    not_found: metrics.latency('not_found'),
  };

  const finish = (res: ServerResponse, route: RouteLabel, ctx: RequestContext, start: number, status: number, payload: string, close = false): void => {
    send(res, status, payload, close);
    (ctx.latency ?? defaults[route]).observe((performance.now() - start) / 1000);
    if (status >= 400) metrics.errors.labels(route, String(status)).inc();
  };

  const fail = (res: ServerResponse, route: RouteLabel, ctx: RequestContext, start: number, err: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ClientError) {
      finish(res, route, ctx, start, err.status, errorBody(err), err instanceof BodyTooLarge && err.closeConnection);
      return;
    }
    opts.onInternalError?.(err, route);
    const e = new ClientError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    finish(res, route, ctx, start, 500, errorBody(e));
  };

  const respond = (res: ServerResponse, route: RouteLabel, ctx: RequestContext, start: number, value: unknown): void => {
    let payload: string;
    try {
      payload = JSON.stringify(value);
    } catch (err) {
      fail(res, route, ctx, start, err);
      return;
    }
    finish(res, route, ctx, start, ctx.status, payload);
  };

  const runJson = <P>(req: IncomingMessage, res: ServerResponse, route: RouteLabel, handler: JsonHandler<P>, params: P, start: number): void => {
    const ctx: RequestContext = { latency: null, status: 200, start, bodyText: null };
    readBody(req, maxBodyBytes)
      .then((buf) => {
        const text = buf.toString('utf8');
        ctx.bodyText = text;
        return handler(parseJsonText(text), ctx, params);
      })
      .then(
        (out) => respond(res, route, ctx, start, out),
        (err) => fail(res, route, ctx, start, err),
      );
  };

  const runGet = <P>(res: ServerResponse, route: RouteLabel, handler: GetHandler<P>, params: P, start: number): void => {
    const ctx: RequestContext = { latency: null, status: 200, start, bodyText: null };
    let out: unknown;
    try {
      out = handler(ctx, params);
    } catch (err) {
      fail(res, route, ctx, start, err);
      return;
    }
    Promise.resolve(out).then(
      (value) => respond(res, route, ctx, start, value),
      (err) => fail(res, route, ctx, start, err),
    );
  };

  const reject = (req: IncomingMessage, res: ServerResponse, route: RouteLabel, start: number, err: ClientError): void => {
    req.resume(); // discard any body so the connection stays usable
    fail(res, route, { latency: null, status: err.status, start, bodyText: null }, start, err);
  };

  const server = createServer((req, res) => {
    const start = performance.now();
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const method = req.method ?? 'GET';

    if (path === '/v1/decide') {
      if (method === 'POST') return runJson(req, res, 'decide', handlers.decide, undefined, start);
      return reject(req, res, 'decide', start, methodNotAllowed(method, path, 'POST'));
    }
    if (path === '/v1/rewards') {
      if (method === 'POST') return runJson(req, res, 'rewards', handlers.rewards, undefined, start);
      return reject(req, res, 'rewards', start, methodNotAllowed(method, path, 'POST'));
    }
    if (path === '/metrics') {
      if (method !== 'GET') return reject(req, res, 'metrics', start, methodNotAllowed(method, path, 'GET'));
      handlers.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
          res.end(body);
          defaults.metrics.observe((performance.now() - start) / 1000);
        },
        (err) => fail(res, 'metrics', { latency: null, status: 500, start, bodyText: null }, start, err),
      );
      return;
    }
    if (path === '/v2/health/live' || path === '/v2/health/ready' || path === '/v2') {
      if (method !== 'GET') return reject(req, res, 'health', start, methodNotAllowed(method, path, 'GET'));
      const h = path === '/v2' ? handlers.serverMetadata : path === '/v2/health/live' ? handlers.live : handlers.ready;
      return runGet(res, 'health', h, undefined, start);
    }
    if (path.startsWith('/v2/models/')) {
      const parsed = parseModelPath(path);
      if (parsed !== null) {
        const params = { name: parsed.name, version: parsed.version };
        if (parsed.tail === 'infer') {
          if (method === 'POST') return runJson(req, res, 'v2_infer', handlers.infer, params, start);
          return reject(req, res, 'v2_infer', start, methodNotAllowed(method, path, 'POST'));
        }
        if (method !== 'GET') return reject(req, res, 'v2_metadata', start, methodNotAllowed(method, path, 'GET'));
        return runGet(res, 'v2_metadata', parsed.tail === 'ready' ? handlers.modelReady : handlers.modelMetadata, params, start);
      }
    }
    return reject(
      req,
      res,
      'not_found',
      start,
      new ClientError(404, `no route ${method} ${path.length > 100 ? `${path.slice(0, 97)}...` : path}`, 'path',
        'POST /v1/decide, POST /v1/rewards, GET /v2/health/{live,ready}, GET /v2/models/{name}[/versions/{v}], POST /v2/models/{name}[/versions/{v}]/infer, GET /metrics'),
    );
  });

  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  // Malformed HTTP (bad request line, oversized headers): answer 400 JSON and close, never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || (err as { code?: string }).code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const body = JSON.stringify({ error: `malformed HTTP request: ${err.code ?? err.message}`, field: 'request', expected: 'an HTTP/1.1 request' });
    socket.end(`HTTP/1.1 ${status} Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  return server;
}
