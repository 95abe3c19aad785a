/**
 * The control-plane API (`autopilot api`, default port 8090) on fastify: the routes of ./routes.ts, the
 * OpenAPI documents (`/openapi.json` for this API, `/openapi/inference.json` for the inference server),
 * `/healthz`, and the web console's built bundle under `/console/` (a directory, default console/dist).
 *
 * Auth is the inference server's (inference/auth/): the same key table held in memory by `AuthStore`,
 * reloaded on the registry channel's key notifications. A request without a valid key is a 401; a key
 * without the route's scope a 403 naming the key and the scope. `auth: false` (local use only) lets
 * everyone read and change everything; mutations are then audited as `api:anonymous` without a key.
 *
 * Errors are the project's: `{ error, field, expected }` for the caller's mistakes (a zod issue names
 * the field by its path: `body.scopes.0`, `query.limit`), `{ error, errorId }` for a fault on our side
 * with the cause logged under that id.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { Client } from '@temporalio/client';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Pool } from 'pg';
import { z } from 'zod';
import { projectRoot } from '../config/settings';
import { isKeyNotification } from '../inference/auth/notifications';
import type { Principal, ScopeReach } from '../inference/auth/principal';
import { AuthStore } from '../inference/auth/store';
import { newErrorId } from '../inference/http/errors';
import { RegistryListener } from '../inference/registry-listener';
import { Registry } from '../registry';
import { ConflictError, NotFoundError, ValidationError } from '../registry/errors';
import { apiDocument } from './openapi';
import { inferenceDocument } from './openapi/inference';
import { ROUTES, scopeDeployment, TemporalUnavailable, type ApiDeps, type Caller, type Route } from './routes';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

export const DEFAULT_API_PORT = 8090;
export const DEFAULT_CONSOLE_DIR = join(projectRoot, 'console', 'dist');

export interface ApiServerOptions {
  pool: Pool;
  /** For the LISTEN connection that reloads keys on change. */
  databaseUrl: string;
  temporal: Client | null;
  port?: number;
  host?: string;
  /** Require an API key (default true). */
  auth?: boolean;
  /** The console's built bundle, served under /console/ (default console/dist; absent: /console/ answers 404 saying so). */
  consoleDir?: string;
  canaryTaskQueue?: string;
  /** The Temporal UI of the namespace (e.g. http://127.0.0.1:8233/namespaces/default): the console links workflows there. */
  temporalUi?: string | null;
  log?: Log;
}

export interface ApiServer {
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** An error answered as `{ error, field, expected }` with its status. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null = null,
    readonly expected: string | null = null,
  ) {
    super(message);
  }
}

const EXPECTED_KEY = 'Authorization: Bearer apk_… (an API key from `autopilot keys create`)';

function holds(r: ScopeReach, deployment: string | null): boolean {
  return r.all || (deployment !== null && r.on.has(deployment));
}

/** The 403 unless `p` holds the route's scope on `deployment` (null: on every deployment). */
function demand(p: Principal, route: Route, deployment: string | null): void {
  if (route.scope === 'key') return;
  const scope = route.scope === 'admin' ? 'admin' : 'read';
  if (holds(p[scope], deployment)) return;
  throw new ApiError(
    403,
    `API key ${p.keyId} has no ${scope} scope ${deployment === null ? 'on every deployment' : `on deployment ${JSON.stringify(deployment)}`} (${route.method} ${route.path})`,
    'headers.authorization',
    deployment === null ? `a key with scope ${scope}` : `a key with scope ${scope} or ${scope}:${deployment}`,
  );
}

function zodError(err: z.ZodError, where: 'path' | 'query' | 'body'): ApiError {
  const issue = err.issues[0];
  const field = [where, ...issue.path.map(String)].join('.');
  return new ApiError(400, `${field}: ${issue.message}`, field, issue.message);
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: 'path' | 'query' | 'body'): T {
  if (schema === undefined) return undefined as T;
  const r = schema.safeParse(value ?? (where === 'body' ? {} : value));
  if (!r.success) throw zodError(r.error, where);
  return r.data;
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const log: Log = opts.log ?? ((level, msg) => process.stderr.write(`[api] ${level}: ${msg}\n`));
  const authOn = opts.auth !== false;
  const auth = authOn ? new AuthStore(opts.pool, log) : null;
  if (auth === null) log('warn', 'AUTH IS OFF: anyone who reaches this port may read and change the registry and canaries (for local use only)');
  else await auth.start();
  const listener = new RegistryListener({
    databaseUrl: opts.databaseUrl,
    onNotification: (n) => {
      if (isKeyNotification(n)) auth?.refresh('keys');
    },
    onResync: () => auth?.refresh('keys'),
    log,
  });
  if (auth !== null) await listener.start();

  const deps: ApiDeps = { registry: new Registry({ pool: opts.pool }), temporal: opts.temporal, canaryTaskQueue: opts.canaryTaskQueue };
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });

  // Every 4xx/5xx in one shape; the cause of a 5xx is logged, never sent.
  app.setErrorHandler((err: unknown, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: err.message, field: err.field, expected: err.expected });
    if (err instanceof ValidationError) return reply.code(400).send({ error: err.message, field: err.field, expected: err.expected });
    if (err instanceof NotFoundError) return reply.code(404).send({ error: err.message, field: null, expected: null });
    if (err instanceof ConflictError) return reply.code(409).send({ error: err.message, field: null, expected: null });
    const status = (err as { statusCode?: number }).statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // fastify's own refusals: malformed JSON, body too large, unsupported media type
      return reply.code(status).send({ error: (err as Error).message, field: 'body', expected: 'a JSON object (Content-Type: application/json) under 1 MiB' });
    }
    const errorId = newErrorId();
    if (err instanceof TemporalUnavailable) {
      log('error', `error ${errorId}: ${err.message}`);
      return reply.code(503).send({ error: `Temporal is not connected (error id ${errorId})`, errorId });
    }
    log('error', `error ${errorId}: ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return reply.code(500).send({ error: `internal error (error id ${errorId})`, errorId });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?', 1)[0].slice(0, 100)}`, field: 'path', expected: 'a route of GET /openapi.json' });
  });

  for (const r of ROUTES) {
    app.route({
      method: r.method,
      url: r.path,
      handler: async (req, reply) => {
        // The key first (401), then the request's model and filters, the scope on them (403), the body (400).
        let principal: Principal | null = null;
        if (auth !== null) {
          try {
            principal = auth.authenticate(req.headers.authorization);
          } catch (err) {
            throw new ApiError(401, (err as Error).message, 'headers.authorization', EXPECTED_KEY);
          }
        }
        const params = parse(r.params, req.params, 'path');
        const query = parse(r.query, req.query, 'query');
        let caller: Caller = { keyId: null, principal: null, actor: 'api:anonymous' };
        if (principal !== null) {
          demand(principal, r, scopeDeployment(r, params, query));
          caller = { keyId: principal.keyId, principal, actor: `api:key/${principal.keyId}` };
        }
        const body = parse(r.body, req.body, 'body');
        const out = await r.handler({ params, query, body, rawBody: req.body, caller, deps });
        reply.code(r.status);
        return out;
      },
    });
  }

  const apiDoc = apiDocument();
  const inferenceDoc = inferenceDocument();
  app.get('/openapi.json', async () => apiDoc);
  app.get('/openapi/inference.json', async () => inferenceDoc);
  app.get('/healthz', async () => ({ ok: true, auth: authOn, temporal: opts.temporal !== null, temporalUi: opts.temporalUi ?? null }));

  const consoleDir = opts.consoleDir ?? DEFAULT_CONSOLE_DIR;
  if (existsSync(consoleDir)) {
    await app.register(fastifyStatic, { root: consoleDir, prefix: '/console/' });
  } else {
    app.get('/console/*', async (_req, reply) => {
      reply.code(404);
      return { error: `the console is not built: ${consoleDir} does not exist`, field: 'path', expected: 'a built console bundle in that directory' };
    });
  }

  const address = await app.listen({ port: opts.port ?? DEFAULT_API_PORT, host: opts.host ?? '127.0.0.1' });
  log('info', `control-plane API on ${address}${auth === null ? ' WITHOUT AUTH' : ` (API keys required; ${auth.size} active)`}`);
  return {
    url: address,
    app,
    async close() {
      await app.close();
      await listener.close();
    },
  };
}
