import { SemanticCache, parseSemanticCacheConfig, type CacheRequest } from './semantic-cache';

/** A unit vector in 4-d at angle θ in the first plane (cos θ similarity to e1). */
function at(theta: number): Float32Array {
  return Float32Array.from([Math.cos(theta), Math.sin(theta), 0, 0]);
}
const req = (v: Float32Array, cost = 0.01, features = {}): CacheRequest => ({ vector: v, llmCostUsd: cost, features });

describe('SemanticCache', () => {
  it('hits a stored near-duplicate above the threshold and misses below it', () => {
    const c = new SemanticCache({ threshold: 0.9, epsilon: 0, admission: 'always' });
    const first = c.lookup(req(at(0)), 0);
    expect(first).toMatchObject({ hit: false, similarity: 0, matches: 0 });
    expect(c.admit(req(at(0)), 'answer-A', 1000, first, 0)).toMatchObject({ store: true, propensity: 1 });
    const near = c.lookup(req(at(Math.acos(0.95))), 10);
    expect(near.hit).toBe(true);
    expect(near.response).toBe('answer-A');
    expect(near.similarity).toBeCloseTo(0.95, 6);
    const far = c.lookup(req(at(Math.acos(0.85))), 20);
    expect(far.hit).toBe(false);
    expect(far.similarity).toBeCloseTo(0.85, 6);
    expect(c.stats).toMatchObject({ requests: 3, hits: 1, stored: 1 });
  });

  it('labels a skipped answer 1 when a near-duplicate gets the same answer, 0 when another, and 0 when its TTL ends', () => {
    const updates: number[] = [];
    const model = { predict: () => 0.5, learn: (_idx: Int32Array, _val: Float64Array, y: 0 | 1) => void updates.push(y) };
    const c = new SemanticCache({ threshold: 0.9, ttlSeconds: 100, admission: 'never' }, { model });
    const s1 = c.lookup(req(at(0)), 0);
    c.admit(req(at(0)), 'A', 100, s1, 0);
    const s2 = c.lookup(req(at(0.1)), 1);
    expect(s2.hit).toBe(false);
    expect(s2.matches).toBe(1);
    c.admit(req(at(0.1)), 'A', 100, s2, 1); // the shadow's answer would have served: 1
    expect(updates).toEqual([1]);
    const s3 = c.lookup(req(at(0.05)), 2); // near both; another answer: both get 0 (the second's first label)
    c.admit(req(at(0.05)), 'B', 100, s3, 2);
    expect(updates).toEqual([1, 0]);
    c.lookup(req(at(2)), 500); // the rest expire unlabelled: 0
    expect(updates).toEqual([1, 0, 0]);
    expect(c.stats.labelled).toBe(3);
  });

  it('a hit reported wrong is labelled 0, dropped, and costs the LLM call again plus the mismatch', () => {
    const c = new SemanticCache({ threshold: 0.9, admission: 'always', cost: { stalenessUsdPerHit: 0, storageUsdPerGbHour: 0 } });
    c.admit(req(at(0), 0.01), 'A', 100, c.lookup(req(at(0), 0.01), 0), 0);
    const hit = c.lookup(req(at(0.1), 0.01), 1);
    expect(hit.hit).toBe(true);
    c.reportWrongHit(0.05);
    expect(c.size).toBe(0);
    expect(c.stats.wrongHits).toBe(1);
    expect(c.stats.costWithCacheUsd).toBeCloseTo(0.01 + 0.01 + 0.05, 12);
    expect(() => c.reportWrongHit()).toThrow('reportWrongHit: no hit to report since the last lookup');
    expect(c.lookup(req(at(0.1)), 2).hit).toBe(false);
  });

  it('a hit named by its id can be reported wrong within the window; unreported hits are labelled 1 after it', () => {
    const updates: number[] = [];
    const model = { predict: () => 0.9, learn: (_idx: Int32Array, _val: Float64Array, y: 0 | 1) => void updates.push(y) };
    const c = new SemanticCache({ threshold: 0.9, admission: 'always', wrongHitWindowSeconds: 30 }, { model });
    c.admit(req(at(0)), 'A', 100, c.lookup(req(at(0)), 0), 0);
    c.admit(req(at(2)), 'B', 100, c.lookup(req(at(2)), 0), 0);
    expect(c.lookup(req(at(0.05)), 1, 'h1').response).toBe('A');
    expect(c.lookup(req(at(2.05)), 2, 'h2').response).toBe('B');
    c.lookup(req(at(1)), 20); // within both windows: nothing settled
    expect(updates).toEqual([]);
    c.reportWrongHit(0, 'h2');
    expect(updates).toEqual([0]);
    expect(() => c.reportWrongHit(0, 'h2')).toThrow('reportWrongHit: hit h2 is not open');
    c.lookup(req(at(1)), 40); // h1's window passed unreported: right
    expect(updates).toEqual([0, 1]);
    expect(() => c.reportWrongHit(0, 'h1')).toThrow('its window of 30 s passed');
    expect(c.size).toBe(1);
  });

  it('explores with the stated propensities and evicts the least recently used entry at capacity', () => {
    let u = 0;
    const draws = [0.01, 0.2, 0.99]; // explore (< ε), then the coin for the other action (< 0.5), then no exploration
    const c = new SemanticCache({ threshold: 0.99, epsilon: 0.1, capacity: 1, admission: 'learned' }, () => draws[u++ % draws.length]);
    const d1 = c.lookup(req(at(0)), 0);
    const a1 = c.admit(req(at(0)), 'A', 100, d1, 0);
    // Untrained model: p̂ = 0.5, value = 0.5 · (0.01 − 0.0001) − storage > 0, so storing is greedy; exploration took "skip".
    expect(a1.pReuse).toBeCloseTo(0.5, 12);
    expect(a1.valueUsd).toBeGreaterThan(0);
    expect(a1).toMatchObject({ store: false, propensity: 0.05 });
    const a2 = c.admit(req(at(1)), 'B', 100, c.lookup(req(at(1)), 1), 1);
    expect(a2).toMatchObject({ store: true, propensity: 0.95 });
    const always = new SemanticCache({ threshold: 0.99, capacity: 1, admission: 'always' });
    always.admit(req(at(0)), 'A', 100, always.lookup(req(at(0)), 0), 0);
    always.admit(req(at(1)), 'B', 100, always.lookup(req(at(1)), 1), 1);
    expect(always.size).toBe(1);
    expect(always.stats.evicted).toBe(1);
    expect(always.lookup(req(at(1)), 2).hit).toBe(true);
    expect(always.lookup(req(at(0)), 3).hit).toBe(false);
  });

  it('refuses bad settings naming the field', () => {
    expect(() => parseSemanticCacheConfig({ threshold: 1.5 })).toThrow('threshold: got 1.5, expected a cosine similarity in (0, 1]');
    expect(() => parseSemanticCacheConfig({ capacity: 0 })).toThrow('capacity: got 0, expected an integer ≥ 1');
    expect(() => parseSemanticCacheConfig({ admission: 'sometimes' as never })).toThrow('admission: got "sometimes", expected learned, always or never');
    expect(() => parseSemanticCacheConfig({ cost: { storageUsdPerGbHour: -1 } })).toThrow('cost.storageUsdPerGbHour: got -1, expected a price ≥ 0');
    const c = new SemanticCache({ admission: 'always' });
    const hit = { hit: true, response: 'x', similarity: 1, matches: 1, shadows: [] };
    expect(() => c.admit(req(at(0)), 'A', 1, hit, 0)).toThrow('admit: the request was a hit; only a miss is admitted');
  });
});
