/**
 * The evaluator service (R-TUNER-EVALUATOR): `POST /tuner/evaluate` runs one batch on a given RAG
 * config and answers F / R / latency / cost, over any `Evaluator` (the simulator, or a replay log or
 * dataset snapshot). Served by `autopilot evaluator serve`; the contract is envs/evaluators/README.md.
 *
 * The request is validated with `evaluateRequestSchema` and the answer with `evaluationSchema`, the
 * same zod schemas the HTTP evaluator client uses, so the two cannot drift apart.
 *
 *   200 the evaluation                             400 {error, field, expected}: a bad body or field
 *   401 {error, field: "authorization", expected}  when a token is configured and the request lacks it
 *   404 / 405 unknown path / method                413 a body over `maxBodyBytes`
 *   415 not application/json                       422 the evaluator refused the request (e.g. a config
 *                                                  a replay log has nothing near), naming the field
 *   500 the evaluator failed (the client retries)
 *
 * Plain `node:http`: one route and one JSON body do not need a framework, and the project has none
 * for HTTP (inference/http/server.ts is hand-written as well).
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Evaluation, Evaluator } from '../types';
import { EVALUATE_PATH } from './http';
import { EVALUATE_REQUEST_EXPECTED, evaluateRequestSchema, evaluationSchema } from './schema';

export interface EvaluatorServerOptions {
  evaluator: Evaluator;
  /** Categories the evaluator knows; another category is a 400 naming `category`. */
  categories: readonly string[];
  /** When set, requests must carry `Authorization: Bearer <token>` (401 otherwise). */
  token?: string;
  /** Request body limit (default 64 KiB). */
  maxBodyBytes?: number;
  /** Called after each answered request (for logs and counts); never given headers. */
  onRequest?: (event: { status: number; category?: string; ms: number }) => void;
}

export interface ErrorBody {
  error: string;
  field: string | null;
  expected: string | null;
}

class HttpError extends Error {
  constructor(readonly status: number, readonly body: ErrorBody) {
    super(body.error);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new HttpError(413, { error: `the request body exceeds ${limit} bytes`, field: null, expected: `a JSON body of at most ${limit} bytes` }));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Checks `Authorization: Bearer <token>` in constant time (digests compared, so lengths leak nothing). */
function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(digest(header.slice('Bearer '.length)), digest(token));
}

/** The request handler (exported for embedding in another server). */
export function createEvaluateHandler(options: EvaluatorServerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const limit = options.maxBodyBytes ?? 64 * 1024;
  const categories = new Set(options.categories);
  if (options.token !== undefined && options.token === '') throw new Error('evaluator server token must not be empty (omit it to serve without auth)');
  return async (req, res) => {
    const started = Date.now();
    let category: string | undefined;
    let status = 500;
    try {
      const path = (req.url ?? '/').split('?')[0];
      if (path !== EVALUATE_PATH) throw new HttpError(404, { error: `no route ${path}`, field: null, expected: `POST ${EVALUATE_PATH}` });
      if (req.method !== 'POST') throw new HttpError(405, { error: `${req.method} is not allowed on ${EVALUATE_PATH}`, field: null, expected: 'POST' });
      if (options.token !== undefined && !authorized(req, options.token)) {
        throw new HttpError(401, {
          error: req.headers.authorization === undefined ? 'the Authorization header is missing' : 'the Authorization header does not carry the configured token',
          field: 'authorization',
          expected: 'Authorization: Bearer <token>',
        });
      }
      const type = req.headers['content-type'] ?? '';
      if (!/^application\/json\b/i.test(type)) {
        throw new HttpError(415, { error: `content-type must be application/json, got ${JSON.stringify(type)}`, field: 'content-type', expected: 'application/json' });
      }
      const text = await readBody(req, limit);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new HttpError(400, { error: `the body is not valid JSON (${(err as Error).message})`, field: null, expected: EVALUATE_REQUEST_EXPECTED[''] });
      }
      const parsed = evaluateRequestSchema.safeParse(json);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const field = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]].join('.') : issue.path.join('.');
        const error = issue.code === 'unrecognized_keys' ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}` : issue.message;
        throw new HttpError(400, {
          error,
          field: field === '' ? null : field,
          expected: issue.code === 'unrecognized_keys' ? 'only config, category, batch_size, seed' : (EVALUATE_REQUEST_EXPECTED[issue.path.join('.')] ?? EVALUATE_REQUEST_EXPECTED['']),
        });
      }
      const body = parsed.data;
      category = body.category;
      if (!categories.has(body.category)) {
        throw new HttpError(400, {
          error: `category ${JSON.stringify(body.category)} is not known to ${options.evaluator.name}`,
          field: 'category',
          expected: `one of ${[...categories].join(', ')}`,
        });
      }
      let evaluation: Evaluation;
      try {
        evaluation = await options.evaluator.evaluate(body.config, body.category, body.batch_size, body.seed);
      } catch (err) {
        // The evaluator refused this config (a replay log with nothing near it): the client must not retry.
        throw new HttpError(422, { error: (err as Error).message, field: 'config', expected: `a config ${options.evaluator.name} can evaluate` });
      }
      const checked = evaluationSchema.safeParse(evaluation);
      if (!checked.success) throw new Error(`${options.evaluator.name} produced an evaluation outside the contract: ${checked.error.issues[0].message}`);
      status = 200;
      send(res, 200, evaluation);
    } catch (err) {
      if (err instanceof HttpError) {
        status = err.status;
        send(res, err.status, err.body);
      } else {
        status = 500;
        send(res, 500, { error: (err as Error).message, field: null, expected: null } satisfies ErrorBody);
      }
    } finally {
      options.onRequest?.({ status, category, ms: Date.now() - started });
    }
  };
}

export interface RunningEvaluatorServer {
  server: Server;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts the service on host:port (port 0: a free one). */
export async function startEvaluatorServer(options: EvaluatorServerOptions & { port: number; host?: string }): Promise<RunningEvaluatorServer> {
  const handler = createEvaluateHandler(options);
  const server = createServer((req, res) => void handler(req, res));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
