/**
 * A deployment of kind `semantic-cache` as this server serves it (UC8's caching decisions; config:
 * ml/cache/config.ts): the embedding model, the cache (ml/cache/semantic-cache.ts) and the reuse model's
 * shared state (inference/online/state.ts). ./handlers.ts routes to it:
 *
 * - `lookup { deployment, prompt, context?, costUsd? }`: embeds the prompt; a stored near-duplicate
 *   (cosine ≥ threshold) is a hit → `{ decisionId, hit: true, response, similarity }` and a decision row
 *   (arm `hit`, propensity 1: serving a hit is not a choice); a miss → `{ decisionId, hit: false, similarity }`.
 * - `store { deployment, decisionId, response, costUsd? }` after a miss (the caller asked the LLM): the
 *   admission decision → `{ decisionId, stored, propensity, pReuse, valueUsd }` and its decision row (arm
 *   `store` or `skip`, the propensity of the ε-greedy choice, the reuse model's features), under the
 *   lookup's decision id. A miss never followed by a store made no decision and has no row.
 * - `wrongHit { deployment, decisionId, mismatchUsd? }` within `wrongHitWindowSeconds` of a hit: its
 *   answer was wrong; the entry is dropped and its admission labelled 0 (not reused).
 *
 * Where things live: the reuse model (what every admission is scored with and every label trains) is
 * ONE model for all servers, learnt in Redis by SharedOnlineState (a label learnt through any server is
 * applied by all within their refresh interval). The entries (the answers, their embeddings and the
 * shadows awaiting labels) are this server's memory: a hit needs the 384-d scan over a few thousand
 * vectors per lookup, which in-process takes well under a millisecond, while shipping the entries from
 * Redis per lookup (or a Redis vector index, which the project's Redis does not have) would cost a
 * round trip and the vectors' bytes on every request; and an entry's lifetime (TTL, LRU capacity) is
 * a cache's, not a record's — losing them on a restart costs hits, not correctness. So each server
 * caches the answers its own traffic brought (send a user's requests to one server, e.g. by a sticky
 * load balancer, for the most hits), and `capacity` is per server. A config change keeps the entries
 * (the new deployment adopts them) when the reuse model's hashing is unchanged.
 */
import { FeatureError, type NamedFeatures } from '../../ml/online';
import type { SemanticCache } from '../../ml/cache/semantic-cache';
import type { SemanticCacheDeploymentConfig } from '../../ml/cache/config';
import type { DecisionLog } from '../decisions/log';
import { newDecisionStamp } from '../decisions/id';
import type { SentenceEmbedder } from '../embeddings/minilm';
import { ClientError, badRequest, notFound, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { CacheLookup, CacheRequest } from '../../ml/cache/semantic-cache';
import type { SharedOnlineState } from '../online/state';
import type { DecideOutcome, ScannedDecide, ServedDeployment } from '../serving/served-deployment';

export interface CacheOwner {
  released(s: SemanticCacheDeployment): void;
  readonly decisionLog: DecisionLog;
  readonly metrics: InferenceMetrics | null;
}

/** Longest prompt accepted, characters (the embedding model reads its first 256 word pieces anyway). */
export const MAX_PROMPT_CHARS = 32_768;
/** Longest response stored, characters. */
export const MAX_RESPONSE_CHARS = 1_000_000;

interface PendingMiss {
  req: CacheRequest;
  seen: CacheLookup;
  at: number;
  unit: string | null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function only(body: Record<string, unknown>, keys: readonly string[]): void {
  for (const k of Object.keys(body)) if (!keys.includes(k)) throw badRequest(`unknown member ${k}`, k, `only ${keys.join(', ')}`);
}

const CONTEXT_EXPECTED = 'an object of named features of the request for the reuse model: numbers, strings (categorical) or booleans';

export class SemanticCacheDeployment implements ServedDeployment {
  readonly kind = 'semantic-cache' as const;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'semantic-cache' };
  /** Misses awaiting their store call, by decision id, oldest first (dropped after the TTL). */
  readonly pending = new Map<string, PendingMiss>();

  constructor(
    private readonly owner: CacheOwner,
    readonly name: string,
    readonly model: string,
    public generation: number,
    readonly config: SemanticCacheDeploymentConfig,
    readonly configJson: string,
    readonly state: SharedOnlineState,
    readonly embedder: SentenceEmbedder,
    readonly cache: SemanticCache,
    /** Seconds now (tests move it). */
    private readonly clock: () => number = () => Date.now() / 1000,
  ) {
    this.metricsLabels = { deployment: name, kind: 'semantic-cache' };
  }

  /** Takes over the entries and pending misses of the deployment this one replaces. */
  adopt(prev: SemanticCacheDeployment): void {
    this.cache.adopt(prev.cache);
    for (const [id, p] of prev.pending) this.pending.set(id, p);
    prev.pending.clear();
  }

  private cost(v: unknown, field: string): number {
    if (v === undefined || v === null) {
      if (this.config.llmUsdPerRequest === null) throw badRequest(`${field} is required: deployment ${this.name} has no config.cost.llmUsdPerRequest`, field, 'the LLM cost of this request in USD (> 0)');
      return this.config.llmUsdPerRequest;
    }
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw badRequest(`${field} must be a cost in USD > 0`, field, 'the LLM cost of this request in USD (> 0)');
    return v;
  }

  private forget(now: number): void {
    const ttl = this.config.cache.ttlSeconds;
    const max = Math.max(10_000, 10 * this.config.cache.capacity);
    for (const [id, p] of this.pending) {
      if (p.at + ttl > now && this.pending.size <= max) break;
      this.pending.delete(id);
    }
  }

  async lookup(body: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    only(body, ['deployment', 'prompt', 'context', 'costUsd', 'unit']);
    if (typeof body.prompt !== 'string' || body.prompt === '' || body.prompt.length > MAX_PROMPT_CHARS) throw badRequest(`prompt must be a string of 1 to ${MAX_PROMPT_CHARS} characters`, 'prompt', 'the prompt the LLM would be asked');
    if (body.context !== undefined && !isObject(body.context)) throw badRequest('context must be an object', 'context', CONTEXT_EXPECTED);
    if (body.unit !== undefined && body.unit !== null && (typeof body.unit !== 'string' || body.unit === '' || body.unit.length > 256)) throw badRequest('unit must be a string of 1 to 256 characters', 'unit', 'a user or session key, logged with the decision');
    const unit = typeof body.unit === 'string' ? body.unit : null;
    const llmCostUsd = this.cost(body.costUsd, 'costUsd');
    const context = (body.context ?? {}) as NamedFeatures;
    for (const [k, v] of Object.entries(context)) {
      if (!(typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v)))) throw badRequest(`context.${k} must be a number, a string or a boolean`, `context.${k}`, CONTEXT_EXPECTED);
    }
    let vector: Float32Array;
    try {
      [vector] = await this.embedder.embed([body.prompt]);
    } catch (err) {
      throw unavailable(`embedding a prompt for ${this.name}`, err, 'embedding model');
    }
    // The prompt's length in bands of 20 characters is always a feature (short questions are the ones asked again).
    const req: CacheRequest = { vector, llmCostUsd, features: { ...context, len: `${Math.min(20, Math.floor(body.prompt.length / 20))}` } };
    const now = this.clock();
    this.forget(now);
    const { decisionId, time } = newDecisionStamp();
    const seen = this.cache.lookup(req, now, decisionId);
    if (!seen.hit) {
      this.pending.set(decisionId, { req, seen, at: now, unit });
      return { decisionId, model: this.model, hit: false, similarity: seen.similarity };
    }
    this.log(decisionId, time, 'hit', 1, req.features ?? {}, { hit: true, similarity: seen.similarity }, unit, ctx);
    return { decisionId, model: this.model, hit: true, response: seen.response, similarity: seen.similarity };
  }

  store(body: Record<string, unknown>, ctx: RequestContext): unknown {
    only(body, ['deployment', 'decisionId', 'response', 'costUsd']);
    if (typeof body.decisionId !== 'string' || body.decisionId === '') throw badRequest('decisionId must be a non-empty string', 'decisionId', 'the decisionId of a lookup that missed');
    if (typeof body.response !== 'string' || body.response.length > MAX_RESPONSE_CHARS) throw badRequest(`response must be a string of at most ${MAX_RESPONSE_CHARS} characters`, 'response', 'the LLM\'s answer to the prompt looked up');
    const p = this.pending.get(body.decisionId);
    if (p === undefined) throw notFound(`decision ${JSON.stringify(body.decisionId.slice(0, 64))} is not a miss awaiting its store on this server (unknown, already stored, a hit, or older than the TTL)`, 'decisionId', 'the decisionId a lookup on this server answered with hit: false, within ttlSeconds');
    const req = body.costUsd === undefined ? p.req : { ...p.req, llmCostUsd: this.cost(body.costUsd, 'costUsd') };
    this.pending.delete(body.decisionId);
    let d;
    try {
      d = this.cache.admit(req, body.response, Buffer.byteLength(body.response), p.seen, this.clock());
    } catch (err) {
      if (err instanceof FeatureError) throw badRequest(err.message, err.field.replace(/^features\./, 'context.'), CONTEXT_EXPECTED);
      throw err;
    }
    const arm = d.store ? 'store' : 'skip';
    this.log(body.decisionId, new Date(), arm, d.propensity, d.features, { store: d.store, pReuse: d.pReuse, valueUsd: d.valueUsd, similarity: p.seen.similarity, admission: this.config.cache.admission }, p.unit, ctx);
    return { decisionId: body.decisionId, model: this.model, stored: d.store, propensity: d.propensity, pReuse: d.pReuse, valueUsd: d.valueUsd };
  }

  wrongHit(body: Record<string, unknown>): unknown {
    only(body, ['deployment', 'decisionId', 'mismatchUsd']);
    if (typeof body.decisionId !== 'string' || body.decisionId === '') throw badRequest('decisionId must be a non-empty string', 'decisionId', 'the decisionId of a hit');
    const mismatch = body.mismatchUsd ?? 0;
    if (typeof mismatch !== 'number' || !Number.isFinite(mismatch) || mismatch < 0) throw badRequest('mismatchUsd must be a cost in USD ≥ 0', 'mismatchUsd', 'what serving the wrong answer cost, USD (default 0)');
    try {
      this.cache.reportWrongHit(mismatch, body.decisionId);
    } catch (err) {
      throw new ClientError(409, `${(err as Error).message.replace(/^reportWrongHit: /, '')} on deployment ${this.name} of this server`, 'decisionId', `the decisionId of a hit answered by this server within wrongHitWindowSeconds (${this.config.cache.wrongHitWindowSeconds} s)`);
    }
    return { decisionId: body.decisionId, model: this.model, dropped: true };
  }

  private log(decisionId: string, time: Date, arm: 'hit' | 'store' | 'skip', propensity: number, features: NamedFeatures, action: Record<string, unknown>, unit: string | null, ctx: RequestContext): void {
    this.owner.metrics?.decisionCounter(this.name, '-', arm).inc();
    this.owner.decisionLog.enqueue({
      decisionId,
      time,
      deployment: this.name,
      model: this.model,
      version: this.config.reuseModel.init?.version ?? null,
      generation: this.generation,
      arm,
      features: features as Record<string, never>,
      action: action as Record<string, never>,
      propensity,
      density: null,
      unit,
      latencyMs: performance.now() - ctx.start,
      metadata: { kind: 'semantic-cache', stateKey: this.config.reuseModel.stateKey, seq: this.state.seq, threshold: this.config.cache.threshold, epsilon: this.config.cache.epsilon },
      keyId: ctx.keyId ?? null,
    });
  }

  decide(_body: Record<string, unknown>, _ctx: RequestContext): DecideOutcome {
    throw badRequest(`deployment ${JSON.stringify(this.name)} is a semantic cache: POST /v1/cache/lookup { deployment, prompt } looks a prompt up, POST /v1/cache/store { deployment, decisionId, response } stores the LLM's answer after a miss`, 'deployment', 'a deployment of kind policy, bandit or text-policy for /v1/decide');
  }

  decideScanned(_body: ScannedDecide, _values: Float64Array, ctx: RequestContext): DecideOutcome {
    return this.decide({}, ctx);
  }

  close(): void {
    this.owner.released(this);
  }
}
