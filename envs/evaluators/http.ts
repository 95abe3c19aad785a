/**
 * Evaluates batches on a live RAG system (R-TUNER-EVALUATOR): `POST {baseUrl}/tuner/evaluate`.
 *
 * Request body (JSON):
 *   {"config": {"variant": "B", "k": 9, "rerank": true, "fusion_weight": 0, "prompt_id": "cite-sources"},
 *    "category": "policy", "batch_size": 200, "seed": 123456}
 * Response 200 (JSON), validated (`evaluationSchema`):
 *   {"faithfulness": 0.91, "relevancy": 0.93, "latency_ms": {"p50": 310, "p95": 420},
 *    "cost_usd": 0.0012, "error_rate": 0.0, "faithfulness_std"?: …, "relevancy_std"?: …,
 *    "policy_violation_rate"?: …}
 *
 * Each attempt has its own timeout (an AbortController aborts the request after `timeoutMs`).
 * Network errors, timeouts, 5xx, 408 and 429 are retried up to `retries` times with exponential
 * backoff: delay_n = min(maxBackoffMs, backoffMs · 2^n) (a 429/503 `Retry-After` in seconds, when
 * given and larger, is honoured up to maxBackoffMs). Any other 4xx, and a 200 whose body breaks the
 * contract, fail at once: retrying would not change the answer. Errors name the URL, the attempt
 * count and what went wrong.
 *
 * Auth: `secretHeaders` are references, `{ Authorization: { env: 'TUNER_TOKEN' } }`, resolved from the
 * environment of the process that builds the evaluator (the worker), so a workflow input or run
 * config carries only the variable's name. A referenced variable that is unset or empty fails at
 * construction naming the header and the variable; values are never put in errors, names or logs.
 */
import type { Evaluation, Evaluator, RagConfig } from '../types';
import { evaluationSchema, toEvaluation, type EvaluateRequestBody } from './schema';

export interface HttpEvaluatorOptions {
  /** Base URL of the system, e.g. `http://rag.internal:8080` (the path `/tuner/evaluate` is appended). */
  baseUrl: string;
  /** Per-attempt timeout (default 60,000 ms: a batch of a few hundred questions takes a while). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  retries?: number;
  /** First backoff delay (default 500 ms), doubled each retry, capped at `maxBackoffMs` (default 10,000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Extra request headers, literal (use `secretHeaders` for credentials). */
  headers?: Record<string, string>;
  /** Headers whose values come from environment variables on this process: `{ Authorization: { env: 'TUNER_TOKEN' } }`. */
  secretHeaders?: Record<string, SecretRef>;
  /** Where `secretHeaders` are resolved (default `process.env`). */
  environment?: Record<string, string | undefined>;
}

/** A secret by reference: the name of an environment variable on the worker. */
export interface SecretRef {
  env: string;
}

/**
 * Parses the `;header:NAME=env:VAR` options that follow an evaluator URL (`http:URL;header:…`) into
 * secret references. The options' values are never echoed: someone may have pasted a literal secret.
 */
export function parseHeaderOptions(options: readonly string[], field = 'env'): Record<string, SecretRef> {
  const headers: Record<string, SecretRef> = {};
  const seen = new Set<string>();
  for (const option of options) {
    const m = /^header:([A-Za-z0-9!#$%&'*+.^_`|~-]+)=env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(option);
    if (!m) {
      throw new Error(
        `${field}: option ${JSON.stringify(`${option.split('=')[0]}=…`)} after the URL must be header:NAME=env:VARIABLE (a secret reference, e.g. header:Authorization=env:TUNER_TOKEN; literal values are not accepted)`,
      );
    }
    if (seen.has(m[1].toLowerCase())) throw new Error(`${field}: header ${m[1]} given twice`);
    seen.add(m[1].toLowerCase());
    headers[m[1]] = { env: m[2] };
  }
  return headers;
}

/** Resolves secret header references; throws naming the header and variable (never a value). */
export function resolveSecretHeaders(refs: Record<string, SecretRef>, environment: Record<string, string | undefined> = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, ref] of Object.entries(refs)) {
    if (!/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(header)) throw new Error(`http evaluator header name ${JSON.stringify(header)} is not a valid HTTP header name`);
    if (!ref || typeof ref.env !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(ref.env)) {
      throw new Error(`http evaluator header ${header} must reference an environment variable as {env: NAME}, got ${JSON.stringify(ref)}`);
    }
    const value = environment[ref.env];
    if (value === undefined || value === '') throw new Error(`http evaluator header ${header}: environment variable ${ref.env} is not set on this worker`);
    out[header] = value;
  }
  return out;
}

export const EVALUATE_PATH = '/tuner/evaluate';

/** The request body of `POST /tuner/evaluate` (`evaluateRequestSchema`). */
export type EvaluateRequest = EvaluateRequestBody;

class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number, options?: { cause?: unknown }) {
    super(message, options);
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class HttpEvaluator implements Evaluator {
  readonly name: string;
  readonly url: string;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly headers: Record<string, string>;

  constructor(options: HttpEvaluatorOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (err) {
      throw new Error(`http evaluator baseUrl must be an absolute http(s) URL, got ${JSON.stringify(options.baseUrl)}`, { cause: err });
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new Error(`http evaluator baseUrl must be an absolute http(s) URL, got ${JSON.stringify(options.baseUrl)}`);
    }
    // A base path is kept: http://host/rag → http://host/rag/tuner/evaluate
    this.url = `${base.origin}${base.pathname.replace(/\/$/, '')}${EVALUATE_PATH}`;
    this.name = `http:${base.href}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.retries = options.retries ?? 3;
    this.backoffMs = options.backoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.headers = { ...(options.headers ?? {}), ...resolveSecretHeaders(options.secretHeaders ?? {}, options.environment) };
    const check = (name: string, v: number, min: number) => {
      if (!Number.isFinite(v) || v < min) throw new Error(`http evaluator ${name} must be a number ≥ ${min}, got ${v}`);
    };
    check('timeoutMs', this.timeoutMs, 1);
    check('retries', this.retries, 0);
    check('backoffMs', this.backoffMs, 0);
    check('maxBackoffMs', this.maxBackoffMs, 0);
  }

  async evaluate(config: RagConfig, category: string, batchSize: number, seed: number): Promise<Evaluation> {
    const body: EvaluateRequest = { config, category, batch_size: batchSize, seed };
    const attempts = this.retries + 1;
    let last: RetryableError | null = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        const backoff = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** (attempt - 1));
        await sleep(Math.min(this.maxBackoffMs, Math.max(backoff, last?.retryAfterMs ?? 0)));
      }
      try {
        return await this.attempt(body);
      } catch (err) {
        if (!(err instanceof RetryableError)) throw err;
        last = err;
      }
    }
    throw new Error(`POST ${this.url} failed after ${attempts} attempt${attempts > 1 ? 's' : ''}: ${last!.message}`, { cause: last });
  }

  private async attempt(body: EvaluateRequest): Promise<Evaluation> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...this.headers },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      text = await response.text();
    } catch (err) {
      if (controller.signal.aborted) throw new RetryableError(`timed out after ${this.timeoutMs} ms`, undefined, { cause: err });
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new RetryableError(`network error: ${cause?.code ?? cause?.message ?? (err as Error).message}`, undefined, { cause: err });
    } finally {
      clearTimeout(timer);
    }
    const snippet = text.length > 200 ? `${text.slice(0, 200)}…` : text;
    if (response.status >= 500 || response.status === 408 || response.status === 429) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new RetryableError(`HTTP ${response.status}: ${snippet}`, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined);
    }
    if (response.status !== 200) throw new Error(`POST ${this.url} answered HTTP ${response.status} (not retried): ${snippet}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new Error(`POST ${this.url} answered with invalid JSON: ${snippet}`, { cause: err });
    }
    const parsed = evaluationSchema.safeParse(json);
    if (!parsed.success) {
      throw new Error(`POST ${this.url} answered outside the /tuner/evaluate contract: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    }
    return toEvaluation(parsed.data);
  }
}
