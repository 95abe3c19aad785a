/**
 * Seed 001's caching use case (UC8): a semantic response cache whose admission is a logged decision.
 *
 * Keys are sentence embeddings (unit vectors): a request whose embedding is within `threshold` cosine of
 * a stored entry's is a hit and gets that entry's response. On a miss the LLM answers, and the cache
 * decides whether to store the answer from
 *
 *   value = p̂(reuse within TTL) · (LLM cost saved − staleness cost per hit) − storage cost − displacement,
 *
 * where p̂ is an online logistic model (FTRL-Proximal, ml/online) of "a near-duplicate arrives within
 * the TTL", storage is priced per GB-hour for the TTL, and displacement is what admitting costs when the
 * cache is full: the value the evicted entry (the least recently used) still has, p̂ of its next reuse
 * (scored by the same model with what it has seen so far) times the LLM cost it saves — the newcomer
 * must be worth more than the entry it pushes out (TinyLFU's admission idea, with a learned frequency). The decision explores (ε-greedy over store / skip) and reports the probability of
 * the action taken, like every other decision in Autopilot.
 *
 * Labels come from the cache itself: every miss is tracked for one TTL, stored or not (a skipped answer
 * keeps its embedding and a fingerprint of its answer only, a "shadow" entry). A near-duplicate that
 * arrives within the TTL labels it: for a shadow, 1 when the fresh answer the LLM then gives has the
 * same fingerprint (the cached answer would have been right), else 0; for a stored entry (a hit), 1
 * unless the caller reports the hit wrong (`reportWrongHit`: a user re-asked, a grader disagreed), which
 * also drops the entry. An entry no near-duplicate reached is labelled 0 when its TTL ends. So the model
 * learns what would have been reused correctly, whatever was decided.
 *
 * The nearest-neighbour search is a flat scan over the tracked entries (a few thousand 384-d dot
 * products per request, well under a millisecond); an ANN index pays off only far beyond that size.
 */
import { FeatureHasher, FtrlProximal, SparseVector, type FtrlParams, type NamedFeatures } from '../online';

/**
 * The reuse model the cache scores and trains: by default an in-process FTRL-Proximal learner; the
 * inference server passes one whose state all servers share (inference/cache/: predict from the shared
 * learner, labels sent to the shared state).
 */
export interface ReuseModel {
  /** P(reuse) of a hashed row. */
  predict(idx: ArrayLike<number>, val: ArrayLike<number>, count: number): number;
  /** Learns the label `y` of a row (the row's arrays are the caller's to keep). */
  learn(idx: Int32Array, val: Float64Array, y: 0 | 1): void;
}

export interface SemanticCacheOptions {
  /** Draws in [0, 1) for exploration (default Math.random). */
  random?: () => number;
  /** The reuse model (default: an in-process FTRL-Proximal over the config's bits and ftrl). */
  model?: ReuseModel;
  /** The feature hasher's seed and intercept (must match the model's; default 0 and true). */
  hashSeed?: number;
  bias?: boolean;
}

export interface CacheCostModel {
  /** USD per GB-hour of cache memory (e.g. a managed Redis node's price / its memory). */
  storageUsdPerGbHour: number;
  /** Expected cost of serving a cached answer instead of a fresh one (staleness, a near-miss), USD per hit. */
  stalenessUsdPerHit: number;
}

export type AdmissionPolicy = 'learned' | 'always' | 'never';

export interface SemanticCacheConfig {
  /** Cosine similarity at or above which two prompts share a key (default 0.85). */
  threshold: number;
  /** Seconds a stored answer may be served (and a miss is tracked for its label). */
  ttlSeconds: number;
  /** Stored answers at most; the least recently used goes first. */
  capacity: number;
  /** Probability of the other action than the model's choice (default 0.05). */
  epsilon: number;
  cost: CacheCostModel;
  /** `learned` (the model above), or the baselines `always` / `never` (store every answer / none). */
  admission: AdmissionPolicy;
  /** Hash space of the reuse model (default 16 bits) and its FTRL settings. */
  bits: number;
  ftrl: Partial<FtrlParams>;
  /**
   * Seconds a hit may still be reported wrong (`reportWrongHit(id)`); a hit not reported within it is
   * labelled reused (1) at the next lookup after it. Default 0: at the next lookup.
   */
  wrongHitWindowSeconds: number;
}

export const DEFAULT_SEMANTIC_CACHE: SemanticCacheConfig = {
  threshold: 0.85,
  ttlSeconds: 3600,
  capacity: 1000,
  epsilon: 0.05,
  cost: { storageUsdPerGbHour: 0.02, stalenessUsdPerHit: 0.0001 },
  admission: 'learned',
  bits: 16,
  // α = 0.7: on the UC8 workload (bench/semantic-cache.ts, seeds 1–3) α = 0.1 learnt too slowly to tell one-off
  // prompts from popular ones within a few thousand requests (net saving 11 % below always-cache); 0.5 beat
  // always-cache on 2 of 3 seeds, 0.7 on all 3, 1 overshoots (bench/RESULTS.md).
  ftrl: { alpha: 0.7, beta: 1, l1: 0, l2: 1 },
  wrongHitWindowSeconds: 0,
};

/** Checks a (partial) config; errors name the field, the value and what was expected. */
export type SemanticCacheSettings = Partial<Omit<SemanticCacheConfig, 'cost'>> & { cost?: Partial<CacheCostModel> };

export function parseSemanticCacheConfig(input: SemanticCacheSettings): SemanticCacheConfig {
  const c: SemanticCacheConfig = { ...DEFAULT_SEMANTIC_CACHE, ...input, cost: { ...DEFAULT_SEMANTIC_CACHE.cost, ...(input.cost ?? {}) }, ftrl: { ...DEFAULT_SEMANTIC_CACHE.ftrl, ...(input.ftrl ?? {}) } };
  const fail = (field: string, v: unknown, expected: string): never => {
    throw new Error(`${field}: got ${JSON.stringify(v)}, expected ${expected}`);
  };
  if (!(c.threshold > 0 && c.threshold <= 1)) fail('threshold', c.threshold, 'a cosine similarity in (0, 1]');
  if (!(c.ttlSeconds > 0 && Number.isFinite(c.ttlSeconds))) fail('ttlSeconds', c.ttlSeconds, 'a number of seconds > 0');
  if (!(Number.isInteger(c.capacity) && c.capacity >= 1)) fail('capacity', c.capacity, 'an integer ≥ 1');
  if (!(c.epsilon >= 0 && c.epsilon <= 1)) fail('epsilon', c.epsilon, 'a probability in [0, 1]');
  if (!(c.cost.storageUsdPerGbHour >= 0 && Number.isFinite(c.cost.storageUsdPerGbHour))) fail('cost.storageUsdPerGbHour', c.cost.storageUsdPerGbHour, 'a price ≥ 0');
  if (!(c.cost.stalenessUsdPerHit >= 0 && Number.isFinite(c.cost.stalenessUsdPerHit))) fail('cost.stalenessUsdPerHit', c.cost.stalenessUsdPerHit, 'a cost ≥ 0');
  if (!['learned', 'always', 'never'].includes(c.admission)) fail('admission', c.admission, 'learned, always or never');
  if (!(Number.isInteger(c.bits) && c.bits >= 4 && c.bits <= 24)) fail('bits', c.bits, 'an integer from 4 to 24');
  if (!(c.wrongHitWindowSeconds >= 0 && Number.isFinite(c.wrongHitWindowSeconds))) fail('wrongHitWindowSeconds', c.wrongHitWindowSeconds, 'a number of seconds ≥ 0');
  return c;
}

interface Entry {
  vector: Float32Array;
  /** The stored response (null: a shadow entry, tracked for its label only). */
  response: string | null;
  /** The answer's fingerprint (equal fingerprints: the same answer). */
  fingerprint: string;
  expiresAt: number;
  lastUsed: number;
  /** Near-duplicates seen since it was created. */
  matches: number;
  /** The reuse model's row for its admission decision, until its label is known. */
  row: { idx: Int32Array; val: Float64Array } | null;
  /** The request's own features (without the cache's), to re-score it as an eviction victim. */
  base: NamedFeatures;
  llmCostUsd: number;
}

export interface CacheRequest {
  /** The prompt's unit-length embedding. */
  vector: Float32Array;
  /** What an LLM call for this request costs, USD (what a hit saves). */
  llmCostUsd: number;
  /** Features of the request for the reuse model (e.g. tenant, task category, has digits). */
  features?: NamedFeatures;
}

export interface CacheLookup {
  hit: boolean;
  /** The stored response on a hit. */
  response: string | null;
  /** Similarity of the nearest tracked entry (stored or not; 0 when none). */
  similarity: number;
  /** Near-duplicates that entry has seen, this request included (0 when it is not within the threshold). */
  matches: number;
  /** Shadow entries this request is a near-duplicate of: labelled when the fresh answer is admitted. */
  shadows: readonly unknown[];
}

export interface AdmissionDecision {
  store: boolean;
  /** Probability with which this action was chosen. */
  propensity: number;
  /** The reuse model's probability that a near-duplicate comes within the TTL. */
  pReuse: number;
  /** The value of storing, USD (positive: the model would store). */
  valueUsd: number;
  /** The features the model saw (logged with the decision). */
  features: NamedFeatures;
}

export interface CacheStats {
  requests: number;
  hits: number;
  /** Hits reported wrong (reportWrongHit). */
  wrongHits: number;
  stored: number;
  skipped: number;
  evicted: number;
  labelled: number;
  /** LLM spend without any cache, and with this one (calls made + storage + staleness), USD. */
  llmCostNoCacheUsd: number;
  costWithCacheUsd: number;
}

const GB = 1e9;

export class SemanticCache {
  readonly config: SemanticCacheConfig;
  /** The in-process learner when no model was given (null otherwise). */
  readonly learner: FtrlProximal | null;
  private readonly model: ReuseModel;
  private readonly random: () => number;
  private readonly hasher: FeatureHasher;
  private readonly scratch = new SparseVector();
  private stored: Entry[] = [];
  private shadows: Entry[] = [];
  /** Hits that may still be reported wrong, by id, oldest first (Map keeps insertion order). */
  private readonly openHits = new Map<string, { entry: Entry; at: number }>();
  private lastHitId: string | null = null;
  private hitCounter = 0;
  readonly stats: CacheStats = { requests: 0, hits: 0, wrongHits: 0, stored: 0, skipped: 0, evicted: 0, labelled: 0, llmCostNoCacheUsd: 0, costWithCacheUsd: 0 };

  constructor(config: SemanticCacheSettings = {}, random: (() => number) | SemanticCacheOptions = Math.random) {
    const opts: SemanticCacheOptions = typeof random === 'function' ? { random } : random;
    this.config = parseSemanticCacheConfig(config);
    this.random = opts.random ?? Math.random;
    if (opts.model !== undefined) {
      this.learner = null;
      this.model = opts.model;
    } else {
      const l = new FtrlProximal('logistic', this.config.bits, this.config.ftrl);
      this.learner = l;
      this.model = { predict: (idx, val, count) => l.predict(idx, val, 0, count), learn: (idx, val, y) => void l.update(idx, val, 0, idx.length, y) };
    }
    this.hasher = new FeatureHasher({ bits: this.config.bits, seed: opts.hashSeed, bias: opts.bias });
  }

  /** Stored answers now. */
  get size(): number {
    return this.stored.length;
  }

  /** Tracked entries: stored answers and shadows (skipped or evicted answers awaiting their label). */
  get tracked(): number {
    return this.stored.length + this.shadows.length;
  }

  /**
   * Looks `req` up at time `now` (seconds). A near-duplicate of a tracked entry labels that entry's
   * decision 1 (reused); a stored one within the threshold is a hit. `hitId` names the hit for a later
   * `reportWrongHit(…, hitId)` (default: a counter).
   */
  lookup(req: CacheRequest, now: number, hitId?: string): CacheLookup {
    this.expire(now);
    this.settleHits(now);
    this.stats.requests++;
    this.stats.llmCostNoCacheUsd += req.llmCostUsd;
    // Entries within the threshold saw a near-duplicate; the hit is the most similar stored one.
    let nearest = 0;
    let matches = 0;
    let hit: Entry | null = null;
    let hitSim = 0;
    const shadows: Entry[] = [];
    for (const list of [this.stored, this.shadows]) {
      for (const e of list) {
        const s = dot(e.vector, req.vector);
        if (s > nearest) nearest = s;
        if (s < this.config.threshold) continue;
        e.matches++;
        matches = Math.max(matches, e.matches);
        if (e.response !== null) {
          if (s > hitSim) [hit, hitSim] = [e, s];
        } else {
          shadows.push(e);
        }
      }
    }
    if (hit === null) return { hit: false, response: null, similarity: nearest, matches, shadows };
    hit.lastUsed = now;
    const id = hitId ?? `hit-${++this.hitCounter}`;
    this.openHits.set(id, { entry: hit, at: now });
    this.lastHitId = id;
    this.stats.hits++;
    this.stats.costWithCacheUsd += this.config.cost.stalenessUsdPerHit;
    return { hit: true, response: hit.response, similarity: hitSim, matches, shadows: [] };
  }

  /**
   * Takes over `from`'s entries (stored, shadows, hits still open), e.g. when a deployment's settings
   * change: its answers keep serving under the new settings. The entries' rows must have been hashed
   * alike (same bits, seed and intercept; the caller checks). Stored answers above this capacity are
   * evicted, least recently used first. `from` is left empty.
   */
  adopt(from: SemanticCache): void {
    this.stored.push(...from.stored);
    this.shadows.push(...from.shadows);
    for (const [id, h] of from.openHits) this.openHits.set(id, h);
    from.stored = [];
    from.shadows = [];
    from.openHits.clear();
    while (this.stored.length > this.config.capacity) this.evictLru();
  }

  /** The reuse model's features of a miss (what `admit` scores and logs). */
  features(req: CacheRequest, seen: CacheLookup): NamedFeatures {
    return {
      ...(req.features ?? {}),
      near: nearBucket(seen.similarity, this.config.threshold),
      seen: Math.log1p(seen.matches),
      llm_cost_bucket: costBucket(req.llmCostUsd),
    };
  }

  /**
   * After a miss (`lookup` said no hit and the LLM answered `response` of `responseBytes`): store it or
   * not. `seen` is what lookup returned (its similarity is a feature).
   */
  admit(req: CacheRequest, response: string, responseBytes: number, seen: CacheLookup, now: number, fingerprint: string = response): AdmissionDecision {
    if (seen.hit) throw new Error('admit: the request was a hit; only a miss is admitted');
    // The near-duplicates' shadows learn whether their answer would have served this request.
    for (const e of seen.shadows as Entry[]) this.label(e, e.fingerprint === fingerprint ? 1 : 0);
    this.stats.costWithCacheUsd += req.llmCostUsd;
    const features = this.features(req, seen);
    const row = this.hasher.hash(features, this.scratch, 'features');
    const pReuse = this.model.predict(row.idx, row.val, row.count);
    const storageUsd = (responseBytes / GB) * this.config.cost.storageUsdPerGbHour * (this.config.ttlSeconds / 3600);
    const displacement = this.stored.length >= this.config.capacity ? this.victimValue(this.stored[this.lruIndex()]) : 0;
    const valueUsd = pReuse * (req.llmCostUsd - this.config.cost.stalenessUsdPerHit) - storageUsd - displacement;
    const eps = this.config.epsilon;
    let store: boolean;
    let propensity: number;
    if (this.config.admission !== 'learned') {
      store = this.config.admission === 'always';
      propensity = 1;
    } else {
      const greedy = valueUsd > 0;
      const explore = this.random() < eps;
      store = explore ? this.random() < 0.5 ? !greedy : greedy : greedy;
      propensity = store === greedy ? 1 - eps / 2 : eps / 2;
    }
    const entry: Entry = {
      vector: req.vector, response: store ? response : null, fingerprint, expiresAt: now + this.config.ttlSeconds, lastUsed: now, matches: 0,
      row: { idx: Int32Array.from(row.idx.subarray(0, row.count)), val: Float64Array.from(row.val.subarray(0, row.count)) }, base: { ...(req.features ?? {}), llm_cost_bucket: features.llm_cost_bucket }, llmCostUsd: req.llmCostUsd,
    };
    if (store) {
      if (this.stored.length >= this.config.capacity) this.evictLru();
      this.stored.push(entry);
      this.stats.stored++;
      this.stats.costWithCacheUsd += storageUsd;
    } else {
      this.shadows.push(entry);
      this.stats.skipped++;
    }
    return { store, propensity, pReuse, valueUsd, features };
  }

  /** Ends entries whose TTL passed: unlabelled ones are labelled 0 (no near-duplicate came). */
  expire(now: number): void {
    const keep = (list: Entry[]) =>
      list.filter((e) => {
        if (e.expiresAt > now) return true;
        this.label(e, 0);
        return false;
      });
    this.stored = keep(this.stored);
    this.shadows = keep(this.shadows);
  }

  /** The model's probability of reuse for `features` (for tests and reports). */
  predictReuse(features: NamedFeatures): number {
    const row = this.hasher.hash(features, this.scratch, 'features');
    return this.model.predict(row.idx, row.val, row.count);
  }

  private lruIndex(): number {
    let lru = 0;
    for (let i = 1; i < this.stored.length; i++) if (this.stored[i].lastUsed < this.stored[lru].lastUsed) lru = i;
    return lru;
  }

  /** What a stored entry is still worth: p̂(another near-duplicate) · (LLM cost − staleness), scored with what it has seen. */
  private victimValue(e: Entry): number {
    const p = this.predictReuse({ ...e.base, near: e.matches > 0 ? 'dup' : 'new', seen: Math.log1p(e.matches) });
    return p * (e.llmCostUsd - this.config.cost.stalenessUsdPerHit);
  }

  /**
   * A hit's answer was wrong for its request (a user re-asked, a grader disagreed): its decision is
   * labelled 0, the entry is dropped, and the request's LLM call and the mismatch cost are counted.
   * `hitId` names the hit (default: the last one). Throws when the hit is unknown or its window passed.
   */
  reportWrongHit(mismatchUsd = 0, hitId: string | null = this.lastHitId): void {
    const open = hitId === null ? undefined : this.openHits.get(hitId);
    if (open === undefined) throw new Error(hitId === null ? 'reportWrongHit: no hit to report since the last lookup' : `reportWrongHit: hit ${hitId} is not open (unknown, already reported, or its window of ${this.config.wrongHitWindowSeconds} s passed)`);
    this.openHits.delete(hitId as string);
    if (this.lastHitId === hitId) this.lastHitId = null;
    const e = open.entry;
    this.label(e, 0);
    this.stats.wrongHits++;
    this.stats.costWithCacheUsd += e.llmCostUsd + mismatchUsd;
    const i = this.stored.indexOf(e);
    if (i >= 0) this.stored.splice(i, 1);
  }

  /** Hits whose window passed unreported were right: their entries' decisions are labelled 1. */
  private settleHits(now: number): void {
    this.lastHitId = null;
    for (const [id, h] of this.openHits) {
      if (h.at + this.config.wrongHitWindowSeconds > now) break;
      this.openHits.delete(id);
      this.label(h.entry, 1);
    }
  }

  private evictLru(): void {
    const [e] = this.stored.splice(this.lruIndex(), 1);
    this.stats.evicted++;
    // Still tracked until its TTL ends, so its label says whether it would have been reused.
    e.response = null;
    this.shadows.push(e);
  }

  private label(e: Entry, y: 0 | 1): void {
    if (e.row === null) return;
    this.model.learn(e.row.idx, e.row.val, y);
    e.row = null;
    this.stats.labelled++;
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** The LLM cost in decades of micro-dollars (a categorical feature). */
function costBucket(usd: number): string {
  return `${Math.min(6, Math.max(0, Math.floor(Math.log10(usd * 1e6))))}`;
}

/** How close the nearest tracked prompt is, in bands below the threshold (a categorical feature). */
function nearBucket(similarity: number, threshold: number): string {
  if (similarity >= threshold) return 'dup';
  if (similarity >= threshold - 0.1) return 'close';
  if (similarity >= threshold - 0.3) return 'related';
  return 'new';
}
