/**
 * Replays a prompt stream through a SemanticCache: each prompt is looked up, and on a miss the LLM's
 * answer is admitted or not. Prompts come with their embeddings (computed by the caller), so this stays
 * pure; the same stream through the `learned`, `always` and `never` admission policies is the
 * comparison the caching use case asks for.
 */
import { SemanticCache, type SemanticCacheSettings } from './semantic-cache';
import type { NamedFeatures } from '../online';

export interface SimulatedPrompt {
  vector: Float32Array;
  /** Seconds since the stream began (non-decreasing). */
  at: number;
  llmCostUsd: number;
  responseBytes: number;
  /** The right answer's identity: a hit on an entry with another answer is wrong (and reported so). */
  answer: string;
  features?: NamedFeatures;
}

export interface SimulationCosts {
  /** What a wrong answer served from the cache costs beyond the LLM call it then needs, USD (default 0.01). */
  mismatchUsd?: number;
}

export interface CacheSimulation {
  requests: number;
  hits: number;
  /** Hits that served another question's answer (hitRate counts right hits only). */
  wrongHits: number;
  hitRate: number;
  stored: number;
  evicted: number;
  /** LLM spend with no cache, with this cache (calls + storage + staleness), and the share saved. */
  costNoCacheUsd: number;
  costWithCacheUsd: number;
  /** Net cost saved, USD: LLM spend without a cache − (LLM calls made + storage + staleness + wrong hits' calls and mismatch). */
  netSavedUsd: number;
  /** netSavedUsd as a share of the spend without a cache. */
  saved: number;
  /** Mean propensity of the admission decisions (1 for the fixed baselines). */
  meanPropensity: number;
}

export function simulateCache(prompts: readonly SimulatedPrompt[], config: SemanticCacheSettings, random: () => number = Math.random, costs: SimulationCosts = {}): CacheSimulation {
  const mismatchUsd = costs.mismatchUsd ?? 0.01;
  const cache = new SemanticCache(config, random);
  let propensitySum = 0;
  let decisions = 0;
  let last = -Infinity;
  for (const [i, p] of prompts.entries()) {
    if (!(p.at >= last)) throw new Error(`prompts[${i}].at: got ${p.at}, expected ≥ ${last} (the stream's times must not go back)`);
    last = p.at;
    const req = { vector: p.vector, llmCostUsd: p.llmCostUsd, features: p.features };
    const seen = cache.lookup(req, p.at);
    if (seen.hit) {
      if (seen.response !== p.answer) cache.reportWrongHit(mismatchUsd);
      continue;
    }
    const d = cache.admit(req, p.answer, p.responseBytes, seen, p.at);
    propensitySum += d.propensity;
    decisions++;
  }
  const s = cache.stats;
  return {
    requests: s.requests, hits: s.hits, wrongHits: s.wrongHits, hitRate: s.requests ? (s.hits - s.wrongHits) / s.requests : 0, stored: s.stored, evicted: s.evicted,
    costNoCacheUsd: s.llmCostNoCacheUsd, costWithCacheUsd: s.costWithCacheUsd, netSavedUsd: s.llmCostNoCacheUsd - s.costWithCacheUsd,
    saved: s.llmCostNoCacheUsd > 0 ? 1 - s.costWithCacheUsd / s.llmCostNoCacheUsd : 0,
    meanPropensity: decisions ? propensitySum / decisions : 1,
  };
}
