/**
 * The HTTP layer on bare `node:http`: routing, JSON bodies under each route's size limit, error mapping and the
 * latency histogram. It knows no models: handlers do the work and return a JSON-able value.
 *
 * Plain keep-alive requests are read by the fast path (./fast-path.ts) and routed here without
 * node:http's request and response objects; everything else (chunked bodies, Expect, HTTP/1.0,
 * malformed or oversized requests) is node:http's, on the same port, through the same router.
 *
 * Every client error is a 4xx JSON `{ error, field, expected }`; a 5xx only when a handler throws
 * something that is not a ClientError (our fault), and even then the process keeps serving.
 */
import { STATUS_CODES, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { BodyTooLarge, parseJsonText, readBody } from './body';
import { ClientError, RETRY_AFTER_SECONDS, ServerFault, asServerFault } from './errors';
import { installFastPath, MISSING_HOST, type FastExchange } from './fast-path';
import { installConnectionCap, nodeDeadlineOptions, overloadLimits, type OverloadOptions } from './overload';
import type { InferenceMetrics, Observer, RouteLabel } from '../metrics';
import type { Principal } from '../auth/principal';

/** Per-request scratch a handler fills so the latency lands in the right series. */
export interface RequestContext {
  /** The histogram child of the model/version/arm that served, or null for the route's default. */
  latency: Observer | null;
  /** Response status when not 200. */
  status: number;
  /**
   * The served deployment the request was routed to, set by the route's handler once it found it (the error
   * counter's `deployment` label; only names of deployments served here, so the label stays bounded).
   */
  deployment?: string | null;
  /** performance.now() when the request arrived. */
  start: number;
  /** The JSON body's text (what the handler's `body` was parsed from); null for requests without one and for bodies a BytesHandler read. */
  bodyText: string | null;
  /** The API key the request came with (inference/auth/), or null when the server runs with auth off (absent in hand-made test contexts). */
  readonly principal?: Principal | null;
  /** `principal.keyId`: recorded with the decision. */
  readonly keyId?: string | null;
  /** POST /v1/rewards: decision ids (lower-case) the tenant guard looked for and did not find (answered 404 by the handler, after the body's checks). */
  unknownDecisions?: ReadonlySet<string>;
  /** Answers the request with `value` (as a handler's return value would), for a handler that returned ANSWER_LATER. */
  answer(value: unknown): void;
  /** Answers the request with the error `err` (as a handler's throw would), for a handler that returned ANSWER_LATER. */
  fail(err: unknown): void;
}

/**
 * What a JSON handler returns (or resolves with) when it answers by itself later: it then calls
 * `ctx.answer` or `ctx.fail`, once. For decide's hand-over from the micro-batch, which would otherwise
 * cost a promise and a turn of the microtask queue per request.
 */
export const ANSWER_LATER: unique symbol = Symbol('answer later');

/**
 * A handler's answer already serialized: `respond` sends `text` as is instead of JSON.stringify-ing the
 * value. For answers that embed JSON the handler holds as text anyway (decide: the action, which the
 * decision log also carries), so it is not serialized twice. `text` must be one JSON value.
 */
export class JsonText {
  constructor(readonly text: string) {}
}

export type JsonHandler<P = void> = (body: unknown, ctx: RequestContext, params: P) => Promise<unknown> | unknown;

/** What a BytesHandler answers for a body it does not read itself: the router parses it and calls the JsonHandler. */
export const PARSE_BODY: unique symbol = Symbol('parse the body');

/**
 * Reads a JSON body from its bytes for the shapes it knows, answering as the route's JsonHandler would
 * for the parsed body; PARSE_BODY for anything else (nothing done yet). `body` is valid only until it
 * returns (a view into the connection's buffer): what it keeps, it copies before.
 */
export type BytesHandler = (body: Buffer, ctx: RequestContext) => Promise<unknown> | unknown;

export type GetHandler<P = void> = (ctx: RequestContext, params: P) => Promise<unknown> | unknown;

export interface Handlers {
  /** With `fromBytes`, bodies are offered to it first (decide's common body, read without JSON.parse). */
  decide: JsonHandler & { fromBytes?: BytesHandler };
  rewards: JsonHandler;
  /** POST /v1/feedback (a reviewer's verdict on a text-policy decision); absent: the route is not served. */
  feedback?: JsonHandler;
  /** POST /v1/predict and /v1/labels (online models); absent: 404. */
  predict?: JsonHandler;
  labels?: JsonHandler;
  /** POST /v1/cache/{lookup,store,wrong-hit} (semantic caches, inference/cache/); absent: 404. */
  cacheLookup?: JsonHandler;
  cacheStore?: JsonHandler;
  cacheWrongHit?: JsonHandler;
  live: GetHandler;
  ready: GetHandler;
  serverMetadata: GetHandler;
  modelMetadata: GetHandler<{ name: string; version: string | null }>;
  modelReady: GetHandler<{ name: string; version: string | null }>;
  infer: JsonHandler<{ name: string; version: string | null }>;
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export interface HttpOptions {
  /** Body limit in bytes (413 above) of decide, rewards and every route without its own. */
  maxBodyBytes: number;
  /**
   * Body limit of `POST /v2/models/{name}[/versions/{v}]/infer`: KServe and Triton clients send batches
   * of MBs. Default DEFAULT_MAX_INFER_BODY_BYTES (never below maxBodyBytes).
   */
  maxInferBodyBytes?: number;
  handlers: Handlers;
  metrics: InferenceMetrics;
  /** Called with our own faults (5xx), for logging: the real cause and the error id the client was given. */
  onInternalError?: (err: unknown, route: RouteLabel, errorId?: string) => void;
  keepAliveTimeoutMs?: number;
  /** Read plain keep-alive requests off the socket without node:http's request objects (./fast-path.ts); default true. */
  fastPath?: boolean;
  /** Deadlines for slow clients and the connection cap (./overload.ts); defaults there. */
  overload?: OverloadOptions;
  /**
   * API key check of every /v1 and /v2 request but /v2/health/* (inference/auth/store.ts): the key's
   * principal, or a 401/403 ClientError thrown. Absent: no auth (`autopilot serve --auth off`).
   */
  auth?: { authorize(authorization: string | undefined, route: RouteLabel, deployment: string | null): Principal };
}

const JSON_TYPE = 'application/json';

/** The default body limit of v2 infer: 8 MiB (a batch of ~200,000 floats as JSON text). */
export const DEFAULT_MAX_INFER_BODY_BYTES = 8 * 1024 * 1024;

/** A request's body as node:http delivers it (a stream) or as the fast path read it (its bytes). */
type Body = IncomingMessage | Buffer;

/** A body node:http is still delivering (it must be read or discarded). */
function isStream(body: Body): body is IncomingMessage {
  return !(body instanceof Uint8Array);
}

/** How a route answers, whoever read the request. */
type Exchange = FastExchange;

/** node:http's response as an Exchange. With a Content-Length the response goes out as headers + body in one write, not as chunks. */
class NodeExchange implements Exchange {
  constructor(private readonly res: ServerResponse) {}

  get sent(): boolean {
    return this.res.headersSent;
  }

  send(status: number, contentType: string, payload: string, close = false, retryAfter: number | null = null): void {
    const headers: Record<string, string | number> = { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) };
    if (close) headers.connection = 'close';
    if (retryAfter !== null) headers['retry-after'] = retryAfter;
    this.res.writeHead(status, headers);
    this.res.end(payload);
  }

  abort(): void {
    this.res.destroy();
  }
}

function errorBody(err: ClientError): string {
  return JSON.stringify(err.toJSON());
}

/**
 * The fault a 5xx is answered with. A ClientError of status 5xx made elsewhere (a deployment that
 * cannot serve: its message may quote a load error) is sent as its status's name with its `expected`,
 * the message itself logged under the id.
 */
function faultOf(err: unknown): ServerFault {
  if (err instanceof ClientError && !(err instanceof ServerFault)) {
    return new ServerFault(err.status, (STATUS_CODES[err.status] ?? 'server error').toLowerCase(), err, err.expected, err.status === 503 ? RETRY_AFTER_SECONDS : null);
  }
  return asServerFault(err);
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

/** The route label a path's requests are counted under (for answers given before routing). */
function routeLabel(path: string): RouteLabel {
  if (path === '/v1/decide') return 'decide';
  if (path === '/v1/rewards') return 'rewards';
  if (path === '/v1/feedback') return 'feedback';
  if (path === '/v1/predict') return 'predict';
  if (path === '/v1/labels') return 'labels';
  if (path === '/v1/cache/lookup') return 'cache_lookup';
  if (path === '/v1/cache/store') return 'cache_store';
  if (path === '/v1/cache/wrong-hit') return 'cache_wrong_hit';
  if (path === '/metrics') return 'metrics';
  if (path === '/v2/health/live' || path === '/v2/health/ready' || path === '/v2') return 'health';
  const parsed = path.startsWith('/v2/models/') ? parseModelPath(path) : null;
  if (parsed !== null) return parsed.tail === 'infer' ? 'v2_infer' : 'v2_metadata';
  return 'not_found';
}

/** The connection cap (./overload.ts) in front of whichever connection listener is installed, counted in the metrics. */
function applyConnectionCap(server: Server, max: number, metrics: InferenceMetrics): void {
  const cap = installConnectionCap(server, max);
  metrics.trackOverload({ open: () => cap.open, refused: () => cap.refused });
}

export function createHttpServer(opts: HttpOptions): Server {
  const { handlers, metrics, maxBodyBytes } = opts;
  const maxInferBodyBytes = Math.max(maxBodyBytes, opts.maxInferBodyBytes ?? DEFAULT_MAX_INFER_BODY_BYTES);
  const defaults: Record<RouteLabel, Observer> = {
    decide: metrics.latency('decide'),
    rewards: metrics.latency('rewards'),
    feedback: metrics.latency('feedback'),
    predict: metrics.latency('predict'),
    labels: metrics.latency('labels'),
    cache_lookup: metrics.latency('cache_lookup'),
    cache_store: metrics.latency('cache_store'),
    cache_wrong_hit: metrics.latency('cache_wrong_hit'),
    v2_infer: metrics.latency('v2_infer'),
    v2_metadata: metrics.latency('v2_metadata'),
    health: metrics.latency('health'),
    metrics: metrics.latency('metrics'),
    not_found: metrics.latency('not_found'),
  };

  const finish = (ex: Exchange, route: RouteLabel, ctx: RequestContext, start: number, status: number, payload: string, close = false): void => {
    ex.send(status, JSON_TYPE, payload, close);
    (ctx.latency ?? defaults[route]).observe((performance.now() - start) / 1000);
    if (status >= 400) metrics.errors.labels(route, String(status), ctx.deployment ?? 'unknown').inc();
  };

  const fail = (ex: Exchange, route: RouteLabel, ctx: RequestContext, start: number, err: unknown): void => {
    if (ex.sent) {
      ex.abort();
      return;
    }
    if (err instanceof ClientError && !(err instanceof ServerFault) && err.status < 500) {
      finish(ex, route, ctx, start, err.status, errorBody(err), err instanceof BodyTooLarge && err.closeConnection);
      return;
    }
    failFault(ex, route, ctx, start, faultOf(err));
  };

  /** A 5xx: the body carries the fault's id and public message; its cause is logged under the id. */
  const failFault = (ex: Exchange, route: RouteLabel, ctx: RequestContext, start: number, fault: ServerFault): void => {
    opts.onInternalError?.(fault.cause, route, fault.errorId);
    ex.send(fault.status, JSON_TYPE, errorBody(fault), false, fault.retryAfterSeconds);
    (ctx.latency ?? defaults[route]).observe((performance.now() - start) / 1000);
    metrics.errors.labels(route, String(fault.status), ctx.deployment ?? 'unknown').inc();
  };

  const respond = (ex: Exchange, route: RouteLabel, ctx: RequestContext, start: number, value: unknown): void => {
    let payload: string;
    try {
      payload = value instanceof JsonText ? value.text : JSON.stringify(value);
    } catch (err) {
      fail(ex, route, ctx, start, err);
      return;
    }
    finish(ex, route, ctx, start, ctx.status, payload);
  };

  /** One request's context: what handlers fill in, and the answer (once). */
  class Context implements RequestContext {
    latency: Observer | null = null;
    bodyText: string | null = null;
    deployment: string | null = null;
    private settled = false;
    readonly keyId: string | null;

    constructor(
      private readonly ex: Exchange,
      private readonly route: RouteLabel,
      readonly start: number,
      public status = 200,
      readonly principal: Principal | null = null,
    ) {
      this.keyId = principal === null ? null : principal.keyId;
    }

    answer(value: unknown): void {
      if (this.settle()) respond(this.ex, this.route, this, this.start, value);
    }

    fail(err: unknown): void {
      if (this.settle()) fail(this.ex, this.route, this, this.start, err);
    }

    /** True the first time; a second answer is our bug: reported, not sent. */
    private settle(): boolean {
      if (!this.settled) {
        this.settled = true;
        return true;
      }
      opts.onInternalError?.(new Error('a handler answered one request twice'), this.route);
      return false;
    }
  }

  /** A handler's outcome: a value, a promise of one, or ANSWER_LATER (it answers itself). */
  const settle = (ctx: Context, out: unknown): void => {
    if (out === ANSWER_LATER) return;
    if (out instanceof Promise) {
      out.then(
        (value) => {
          if (value !== ANSWER_LATER) ctx.answer(value);
        },
        (err) => ctx.fail(err),
      );
    } else ctx.answer(out);
  };

  /** Runs a handler on a JSON body of at most `limit` bytes (the fast path already held its bodies to it). */
  const runJson = <P>(body: Body, ex: Exchange, route: RouteLabel, handler: JsonHandler<P>, params: P, start: number, limit: number, principal: Principal | null): void => {
    const ctx = new Context(ex, route, start, 200, principal);
    const fromBytes = (handler as { fromBytes?: BytesHandler }).fromBytes;
    const run = (bytes: Buffer): unknown => {
      if (fromBytes !== undefined) {
        const out = fromBytes(bytes, ctx);
        if (out !== PARSE_BODY) return out;
      }
      const text = bytes.toString('utf8');
      ctx.bodyText = text;
      return handler(parseJsonText(text), ctx, params);
    };
    let out: unknown;
    if (!isStream(body)) {
      // The fast path read the whole body already: no promise until the handler makes one.
      try {
        out = run(body);
      } catch (err) {
        ctx.fail(err);
        return;
      }
    } else out = readBody(body, limit).then(run);
    settle(ctx, out);
  };

  const runGet = <P>(ex: Exchange, route: RouteLabel, handler: GetHandler<P>, params: P, start: number, principal: Principal | null = null): void => {
    const ctx = new Context(ex, route, start, 200, principal);
    let out: unknown;
    try {
      out = handler(ctx, params);
    } catch (err) {
      ctx.fail(err);
      return;
    }
    settle(ctx, Promise.resolve(out));
  };

  const reject = (body: Body, ex: Exchange, route: RouteLabel, start: number, err: ClientError): void => {
    if (isStream(body)) body.resume(); // discard any body so the connection stays usable
    new Context(ex, route, start, err.status).fail(err);
  };

  /** The request's key checked for `route` (opts.auth); undefined when it was refused (answered here). */
  const authorize = (body: Body, ex: Exchange, route: RouteLabel, start: number, authorization: string | undefined, deployment: string | null): Principal | null | undefined => {
    if (opts.auth === undefined) return null;
    try {
      return opts.auth.authorize(authorization, route, deployment);
    } catch (err) {
      reject(body, ex, route, start, err as ClientError);
      return undefined;
    }
  };

  /** Routes one request, read by node:http (`body` is its IncomingMessage) or by the fast path (the body's text). */
  const route = (method: string, url: string, body: Body, ex: Exchange, start: number, hostMissing = false, authorization?: string): void => {
    let key: Principal | null | undefined;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (hostMissing) {
      // RFC 9112 §3.2: an HTTP/1.1 request without Host is a 400; the connection is closed after it.
      if (isStream(body)) body.resume();
      finish(ex, routeLabel(path), new Context(ex, routeLabel(path), start, 400), start, 400, MISSING_HOST, true);
      return;
    }

    if (path === '/v1/decide') {
      if (method === 'POST') return (key = authorize(body, ex, 'decide', start, authorization, null)) === undefined ? undefined : runJson(body, ex, 'decide', handlers.decide, undefined, start, maxBodyBytes, key);
      return reject(body, ex, 'decide', start, methodNotAllowed(method, path, 'POST'));
    }
    if (path === '/v1/rewards') {
      if (method === 'POST') return (key = authorize(body, ex, 'rewards', start, authorization, null)) === undefined ? undefined : runJson(body, ex, 'rewards', handlers.rewards, undefined, start, maxBodyBytes, key);
      return reject(body, ex, 'rewards', start, methodNotAllowed(method, path, 'POST'));
    }
    if (path === '/v1/feedback' && handlers.feedback !== undefined) {
      if (method === 'POST') return (key = authorize(body, ex, 'feedback', start, authorization, null)) === undefined ? undefined : runJson(body, ex, 'feedback', handlers.feedback, undefined, start, maxBodyBytes, key);
      return reject(body, ex, 'feedback', start, methodNotAllowed(method, path, 'POST'));
    }
    if ((path === '/v1/predict' || path === '/v1/labels') && handlers.predict !== undefined && handlers.labels !== undefined) {
      const r = path === '/v1/predict' ? 'predict' : 'labels';
      // Label batches are larger than a decision: they take the v2 infer body limit.
      if (method === 'POST') return (key = authorize(body, ex, r, start, authorization, null)) === undefined ? undefined : runJson(body, ex, r, r === 'predict' ? handlers.predict : handlers.labels, undefined, start, r === 'labels' ? maxInferBodyBytes : maxBodyBytes, key);
      return reject(body, ex, r, start, methodNotAllowed(method, path, 'POST'));
    }
    if (path.startsWith('/v1/cache/')) {
      const r = routeLabel(path);
      const h = r === 'cache_lookup' ? handlers.cacheLookup : r === 'cache_store' ? handlers.cacheStore : r === 'cache_wrong_hit' ? handlers.cacheWrongHit : undefined;
      if (h !== undefined && r !== 'not_found') {
        // A stored answer may be larger than a decision: store takes the v2 infer body limit.
        if (method === 'POST') return (key = authorize(body, ex, r, start, authorization, null)) === undefined ? undefined : runJson(body, ex, r, h, undefined, start, r === 'cache_store' ? maxInferBodyBytes : maxBodyBytes, key);
        return reject(body, ex, r, start, methodNotAllowed(method, path, 'POST'));
      }
    }
    if (path === '/metrics') {
      if (method !== 'GET') return reject(body, ex, 'metrics', start, methodNotAllowed(method, path, 'GET'));
      handlers.metrics().then(
        ({ contentType, body: text }) => {
          ex.send(200, contentType, text);
          defaults.metrics.observe((performance.now() - start) / 1000);
        },
        (err) => new Context(ex, 'metrics', start, 500).fail(err),
      );
      return;
    }
    if (path === '/v2/health/live' || path === '/v2/health/ready' || path === '/v2') {
      if (method !== 'GET') return reject(body, ex, 'health', start, methodNotAllowed(method, path, 'GET'));
      const h = path === '/v2' ? handlers.serverMetadata : path === '/v2/health/live' ? handlers.live : handlers.ready;
      if (path === '/v2' && (key = authorize(body, ex, 'health', start, authorization, null)) === undefined) return; // server metadata: read; health stays open
      return runGet(ex, 'health', h, undefined, start, key ?? null);
    }
    if (path.startsWith('/v2/models/')) {
      const parsed = parseModelPath(path);
      if (parsed !== null) {
        const params = { name: parsed.name, version: parsed.version };
        if (parsed.tail === 'infer') {
          if (method === 'POST') return (key = authorize(body, ex, 'v2_infer', start, authorization, parsed.name)) === undefined ? undefined : runJson(body, ex, 'v2_infer', handlers.infer, params, start, maxInferBodyBytes, key);
          return reject(body, ex, 'v2_infer', start, methodNotAllowed(method, path, 'POST'));
        }
        if (method !== 'GET') return reject(body, ex, 'v2_metadata', start, methodNotAllowed(method, path, 'GET'));
        if ((key = authorize(body, ex, 'v2_metadata', start, authorization, parsed.name)) === undefined) return;
        return runGet(ex, 'v2_metadata', parsed.tail === 'ready' ? handlers.modelReady : handlers.modelMetadata, params, start, key);
      }
    }
    return reject(
      body,
      ex,
      'not_found',
      start,
      new ClientError(404, `no route ${method} ${path.length > 100 ? `${path.slice(0, 97)}...` : path}`, 'path',
        'POST /v1/decide, POST /v1/rewards, POST /v1/feedback, POST /v1/predict, POST /v1/labels, POST /v1/cache/{lookup,store,wrong-hit}, GET /v2/health/{live,ready}, GET /v2/models/{name}[/versions/{v}], POST /v2/models/{name}[/versions/{v}]/infer, GET /metrics'),
    );
  };

  const limits = overloadLimits(opts.overload ?? {});
  // Host is checked here, not by node:http, so that its absence is a JSON 400 like every other client error.
  const server = createServer({ requireHostHeader: false, ...nodeDeadlineOptions(limits) }, (req, res) => {
    const start = performance.now();
    const hostMissing = req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1;
    route(req.method ?? 'GET', req.url ?? '/', req, new NodeExchange(res), start, hostMissing, req.headers.authorization);
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
  if (opts.fastPath !== false) {
    // Only v2 infer takes more than the common limit; its limit is looked up only for a body over that.
    const largeBodies = { limitOf: (target: string) => {
        const r = routeLabel(target.split('?', 1)[0]);
        return r === 'v2_infer' || r === 'labels' || r === 'cache_store' ? maxInferBodyBytes : maxBodyBytes;
      } };
    const fastStats = installFastPath(
      server,
      {
        maxBodyBytes,
        largeBodies,
        keepAliveTimeoutMs: server.keepAliveTimeout,
        headersTimeoutMs: limits.headersTimeoutMs,
        bodyTimeoutMs: limits.bodyTimeoutMs,
        onFault: (fault, target) => opts.onInternalError?.(fault.cause, routeLabel(target.split('?', 1)[0]), fault.errorId),
      },
      route,
    );
    metrics.trackFastPath(fastStats);
    metrics.trackOverload({ deadlines: () => fastStats.deadlines });
  }
  applyConnectionCap(server, limits.maxConnections, metrics);
  return server;
}
