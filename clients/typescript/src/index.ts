/**
 * @autopilot/client — the two calls of the Autopilot inference server: `decide` (which action to take)
 * and `reward` / `rewards` (how it went). No dependencies: the platform's `fetch` (Node ≥ 18, browsers).
 *
 * Retries and idempotency: a reward is recorded once per decision (the server answers 201 the first
 * time, 200 `duplicate` for the same reward again, 409 for a different one), so the decision id is the
 * idempotency key. A reward whose request timed out or failed (network error, 429, 5xx) is sent again
 * with the same body: if the first attempt reached the server, the retry is answered 200 and counted
 * once. A batch is retried as a whole when the request failed, and only its items answered 5xx (not
 * recordable now) when it was answered. `decide` is retried only when the server certainly made no
 * decision (connection refused, 429, 503): a timed-out decide may have been answered and logged, so it
 * is not sent twice.
 *
 * Errors: every refusal is an AutopilotError carrying the server's `error`, `field` and `expected`.
 */

/** A JSON value (what an action is unless you name its type). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** The model's inputs: in order, by name, or `{ entity: "user:42" }` (read from the feature store) plus named overrides. */
export type Features = number[] | Record<string, number | string>;

/** POST /v1/decide: `features` for policy and bandit deployments, `text` or `snapshot` for a text-policy one. */
export interface DecideRequest {
  deployment: string;
  features?: Features;
  text?: string;
  snapshot?: Record<string, Json>;
  /** Sticky routing key (a user or session id): the same unit gets the same arm of a canary split. */
  unit?: string;
  /** Sample the action (with its propensity) instead of the greedy one. */
  explore?: boolean;
}

/** A decision. `A` is the action's type (e.g. `{ variant: string; k: number }`): the server's JSON action, typed by you. */
export interface Decision<A = Json> {
  decisionId: string;
  model: string;
  version: number | null;
  /** `champion`, `canary`, `fallback` or a bandit arm's name. */
  arm: string;
  /** The action (absent for a text-policy deployment, which answers `approve`). */
  action: A;
  /** Probability of the action under the serving policy (OBP's pscore). */
  propensity: number;
  /** Probability of the arm (the canary split). */
  armProbability: number;
  density?: number | null;
  fallback: boolean;
  /** Bandit deployments. */
  armIndex?: number;
  stateSeq?: number;
  /** Bandit deployments with per-segment constraints: the segment whose rule the decision met (null: the default rule). */
  segment?: string | null;
  /** Text-policy deployments. */
  approve?: boolean;
  confidence?: number;
  pApprove?: number | null;
}

/** A reward of one decision: a scalar, or components for the deployment's reward spec (bandits), or both. */
export interface Reward {
  decisionId: string;
  reward?: number;
  components?: Record<string, number>;
}

export interface RewardResult {
  decisionId: string;
  accepted: true;
  /** True when this reward was already recorded (by an earlier call, or by an attempt of this one whose answer was lost). */
  duplicate: boolean;
  /** 201 recorded now, 200 recorded before. */
  status: 200 | 201;
  reward?: number;
  arm?: string;
  /** HTTP attempts this call made (1 without retries). */
  attempts: number;
}

/** The outcome of one reward of a batch: the status a single reward would have been answered. */
export interface RewardItemResult {
  decisionId: string | null;
  status: number;
  accepted: boolean;
  duplicate: boolean;
  reward?: number;
  arm?: string;
  error?: string;
  field?: string | null;
  expected?: string | null;
  errorId?: string;
}

export interface RewardBatchResult {
  /** One per reward sent, in order. */
  results: RewardItemResult[];
  /** Recorded now or before. */
  accepted: number;
  /** Recorded now. */
  recorded: number;
  duplicates: number;
  /** Refused (4xx), or still not recordable (5xx) after the retries. */
  rejected: number;
  attempts: number;
}

export interface ClientOptions {
  /** The inference server, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** An API key (`autopilot keys create …`), sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  /** Per attempt, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Attempts after the first. Default 2. */
  retries?: number;
  /** First wait before a retry (doubled each time, with jitter; a `Retry-After` is honoured up to `maxRetryDelayMs`). Default 100. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Rewards per request of `rewards()` (larger lists are split). The server's default limit is 500. */
  maxBatch?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** A request the server refused or could not answer: its status and the server's `error`, `field` and `expected`. */
export class AutopilotError extends Error {
  constructor(
    message: string,
    /** HTTP status; null when no answer came (timeout, network). */
    readonly status: number | null,
    readonly field: string | null = null,
    readonly expected: string | null = null,
    /** 5xx: the id the server logged the cause under. */
    readonly errorId: string | null = null,
    readonly body: unknown = null,
  ) {
    super(message);
    this.name = 'AutopilotError';
  }
}

/** No answer within `timeoutMs` (after the retries). */
export class AutopilotTimeoutError extends AutopilotError {
  constructor(message: string) {
    super(message, null);
    this.name = 'AutopilotTimeoutError';
  }
}

type Retry = 'safe' | 'unsent-only';

interface Answer {
  status: number;
  body: unknown;
  attempts: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Did the request certainly not reach the server (nothing could have been done)? */
function unsent(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code === 'ECONNREFUSED' || cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN';
}

function isTimeout(err: unknown): boolean {
  const name = (err as { name?: string })?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

function errorFrom(status: number, body: unknown, what: string): AutopilotError {
  const b = (body !== null && typeof body === 'object' ? body : {}) as Record<string, unknown>;
  const error = typeof b.error === 'string' ? b.error : `HTTP ${status}`;
  const field = typeof b.field === 'string' ? b.field : null;
  const expected = typeof b.expected === 'string' ? b.expected : null;
  const errorId = typeof b.errorId === 'string' ? b.errorId : null;
  const detail = [field === null ? null : `field ${field}`, expected === null ? null : `expected ${expected}`].filter((x) => x !== null).join('; ');
  return new AutopilotError(`${what}: ${status} ${error}${detail ? ` (${detail})` : ''}`, status, field, expected, errorId, body);
}

export class AutopilotClient {
  private readonly baseUrl: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private readonly maxBatch: number;
  private readonly fetch: typeof fetch;

  constructor(opts: ClientOptions) {
    if (typeof opts?.baseUrl !== 'string' || !/^https?:\/\//.test(opts.baseUrl)) throw new TypeError(`baseUrl: got ${JSON.stringify(opts?.baseUrl)}; expected the server's http(s) URL, e.g. http://127.0.0.1:8080`);
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.headers = { 'content-type': 'application/json', accept: 'application/json' };
    if (opts.apiKey !== undefined) this.headers.authorization = `Bearer ${opts.apiKey}`;
    this.timeoutMs = positive(opts.timeoutMs ?? 5000, 'timeoutMs');
    this.retries = nonNegativeInt(opts.retries ?? 2, 'retries');
    this.retryDelayMs = nonNegative(opts.retryDelayMs ?? 100, 'retryDelayMs');
    this.maxRetryDelayMs = nonNegative(opts.maxRetryDelayMs ?? 5000, 'maxRetryDelayMs');
    this.maxBatch = positiveInt(opts.maxBatch ?? 500, 'maxBatch');
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  /** Asks a deployment for a decision. `A`: the action's type. */
  async decide<A = Json>(request: DecideRequest): Promise<Decision<A>> {
    const a = await this.post('/v1/decide', request, 'unsent-only', 'decide');
    if (a.status !== 200) throw errorFrom(a.status, a.body, `decide ${request.deployment}`);
    return a.body as Decision<A>;
  }

  /** A handle on one deployment whose actions are of type `A`. */
  deployment<A = Json>(name: string): { decide(features?: Features, opts?: Omit<DecideRequest, 'deployment' | 'features'>): Promise<Decision<A>> } {
    return { decide: (features, opts = {}) => this.decide<A>({ deployment: name, ...(features === undefined ? {} : { features }), ...opts }) };
  }

  /** Records the reward of a decision (a number, or `{ reward?, components? }`); retried safely (see the module comment). */
  async reward(decisionId: string, reward: number | Omit<Reward, 'decisionId'>): Promise<RewardResult> {
    const body: Reward = typeof reward === 'number' ? { decisionId, reward } : { decisionId, ...reward };
    const a = await this.post('/v1/rewards', body, 'safe', `reward of decision ${decisionId}`);
    if (a.status !== 200 && a.status !== 201) throw errorFrom(a.status, a.body, `reward of decision ${decisionId}`);
    return { ...(a.body as Omit<RewardResult, 'status' | 'attempts'>), status: a.status, attempts: a.attempts };
  }

  /**
   * Records many rewards (split into requests of `maxBatch`): one outcome per reward, in order; a refused
   * reward (4xx) is its own outcome and fails no other. Items answered 5xx are sent again (only them).
   */
  async rewards(rewards: readonly Reward[]): Promise<RewardBatchResult> {
    if (!Array.isArray(rewards) || rewards.length === 0) throw new TypeError('rewards: expected a non-empty array of { decisionId, reward?, components? }');
    const results: RewardItemResult[] = new Array(rewards.length);
    let attempts = 0;
    for (let start = 0; start < rewards.length; start += this.maxBatch) {
      let todo = Array.from({ length: Math.min(this.maxBatch, rewards.length - start) }, (_, k) => start + k);
      for (let round = 0; todo.length > 0; round++) {
        const a = await this.post('/v1/rewards', { rewards: todo.map((i) => rewards[i]) }, 'safe', `batch of ${todo.length} rewards`);
        attempts += a.attempts;
        if (a.status !== 200) throw errorFrom(a.status, a.body, `batch of ${todo.length} rewards`);
        const got = (a.body as { results: RewardItemResult[] }).results;
        todo.forEach((i, k) => (results[i] = got[k]));
        todo = todo.filter((i) => results[i].status >= 500);
        if (round >= this.retries) break;
        if (todo.length > 0) await sleep(this.backoff(round, null));
      }
    }
    let accepted = 0;
    let duplicates = 0;
    for (const r of results) {
      if (r.accepted) accepted++;
      if (r.duplicate) duplicates++;
    }
    return { results, accepted, recorded: accepted - duplicates, duplicates, rejected: results.length - accepted, attempts };
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const after = retryAfter === null ? NaN : Number(retryAfter) * 1000;
    const base = Number.isFinite(after) ? after : this.retryDelayMs * 2 ** attempt * (0.5 + Math.random());
    return Math.min(this.maxRetryDelayMs, base);
  }

  /** One POST with retries: `safe` retries any failure and 429/5xx; `unsent-only` only what certainly did nothing. */
  private async post(path: string, body: unknown, retry: Retry, what: string): Promise<Answer> {
    const text = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
      let res: Response;
      try {
        res = await this.fetch(`${this.baseUrl}${path}`, { method: 'POST', headers: this.headers, body: text, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (err) {
        const again = attempt < this.retries && (retry === 'safe' || unsent(err));
        if (again) {
          await sleep(this.backoff(attempt, null));
          continue;
        }
        if (isTimeout(err)) throw new AutopilotTimeoutError(`${what}: no answer within ${this.timeoutMs} ms (${attempt + 1} attempt(s))`);
        throw new AutopilotError(`${what}: ${(err as Error).message}${(err as { cause?: Error }).cause ? ` (${(err as { cause: Error }).cause.message})` : ''}`, null);
      }
      let parsed: unknown;
      let raw = '';
      try {
        raw = await res.text();
        parsed = raw === '' ? null : JSON.parse(raw);
      } catch (err) {
        if (isTimeout(err) && attempt < this.retries && retry === 'safe') {
          await sleep(this.backoff(attempt, null));
          continue;
        }
        if (isTimeout(err)) throw new AutopilotTimeoutError(`${what}: the answer did not arrive within ${this.timeoutMs} ms`);
        throw new AutopilotError(`${what}: ${res.status} with a body that is not JSON: ${raw.slice(0, 200)}`, res.status);
      }
      const retryable = res.status === 429 || res.status === 503 || (retry === 'safe' && res.status >= 500);
      if (retryable && attempt < this.retries) {
        await sleep(this.backoff(attempt, res.headers.get('retry-after')));
        continue;
      }
      return { status: res.status, body: parsed, attempts: attempt + 1 };
    }
  }
}

function positive(v: number, name: string): number {
  if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new TypeError(`${name}: got ${String(v)}; expected a positive number`);
  return v;
}
function nonNegative(v: number, name: string): number {
  if (!(typeof v === 'number' && v >= 0 && Number.isFinite(v))) throw new TypeError(`${name}: got ${String(v)}; expected a number ≥ 0`);
  return v;
}
function nonNegativeInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 0) throw new TypeError(`${name}: got ${String(v)}; expected an integer ≥ 0`);
  return v;
}
function positiveInt(v: number, name: string): number {
  if (!Number.isInteger(v) || v < 1) throw new TypeError(`${name}: got ${String(v)}; expected an integer ≥ 1`);
  return v;
}
