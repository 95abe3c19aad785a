/**
 * The vocabulary of the RAG-tuning environment (R-TUNER-ACTIONS, R-TUNER-STATE, R-TUNER-EVALUATOR): the configuration the tuner
 * sets, the question categories, one batch evaluation's result, and the `Evaluator` that produces it.
 * Field names are snake_case where they cross a wire (HTTP body, JSONL log), as in R-TUNER-EVALUATOR.
 */

/** Retrieval variant: A = BM25 (lexical), B = dense (R-TUNER-ACTIONS). */
export type Variant = 'A' | 'B';
export const VARIANTS: readonly Variant[] = ['A', 'B'];

/** One configuration of the RAG stack: what an action sets for the next batch. */
export interface RagConfig {
  variant: Variant;
  /** Passages retrieved (top-k), an integer in the policy bounds (default [3, 32]). */
  k: number;
  /** Cross-encoder re-ranking of the retrieved passages. */
  rerank: boolean;
  /**
   * Hybrid fusion weight w ∈ [0, 1]: the weight of the *other* retriever merged into the variant's
   * ranking by weighted reciprocal-rank fusion. w = 0 is the pure variant; w = 1 is an even 50/50
   * hybrid. So the dense share of the fused ranking is d = w/2 for variant A and 1 − w/2 for B
   * (see `denseShare`), which covers [0, 1] once: A spans the lexical half, B the dense half.
   */
  fusion_weight: number;
  /** Prompt template id (a categorical choice from the policy config). */
  prompt_id: string;
}

/** Dense share d ∈ [0, 1] of the fused ranking (0 = pure BM25, 1 = pure dense). */
export function denseShare(config: Pick<RagConfig, 'variant' | 'fusion_weight'>): number {
  const w = Math.min(1, Math.max(0, config.fusion_weight));
  return config.variant === 'A' ? w / 2 : 1 - w / 2;
}

/** Latency of a batch, milliseconds per request. */
export interface LatencyStats {
  p50: number;
  p95: number;
}

/** What one batch evaluation returns (R-TUNER-EVALUATOR `POST /tuner/evaluate` response). */
export interface Evaluation {
  /** Mean RAGAS faithfulness over the batch, [0, 1]. */
  faithfulness: number;
  /** Mean RAGAS answer relevancy over the batch, [0, 1]. */
  relevancy: number;
  latency_ms: LatencyStats;
  /** Average cost per request in USD. */
  cost_usd: number;
  /** Share of requests that failed (timeouts, 5xx), [0, 1]. */
  error_rate: number;
  /** Per-query standard deviation of faithfulness within the batch (optional; drives the instability penalty). */
  faithfulness_std?: number;
  /** Per-query standard deviation of relevancy within the batch (optional). */
  relevancy_std?: number;
  /** Share of answers flagged for a policy violation (PII leak, toxicity), [0, 1] (optional). */
  policy_violation_rate?: number;
}

/** Evaluates one batch of `batchSize` validation questions of one category under a config. */
export interface Evaluator {
  /** A short name for logs (`simulator`, `replay:FILE`, `http:URL`). */
  readonly name: string;
  /** Same (config, category, batchSize, seed) → same result where the backend allows it. */
  evaluate(config: RagConfig, category: string, batchSize: number, seed: number): Promise<Evaluation>;
}
