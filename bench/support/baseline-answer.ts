/**
 * The constant JSON both baselines of bench/inference answer with (the bare node:http server and the own
 * HTTP layer, bench/support/bare-fast.ts): shaped like a decision, so the bytes on the wire match decide's.
 * One definition keeps the two baselines byte-identical.
 */
export const BASELINE_ANSWER = {
  decisionId: '00000000-0000-4000-8000-000000000000',
  model: 'ranker',
  version: 1,
  arm: 'champion',
  action: { variant: 'B', k: 12, rerank: true, fusion_weight: 0.31, prompt_id: 2 },
  propensity: 1,
  armProbability: 0.75,
  fallback: false,
};
