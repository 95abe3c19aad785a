/**
 * A policy of the PPO issue's shape for tests and the bench: 16 inputs, two hidden layers of 64, five
 * heads (retriever variant, k, rerank, fusion weight, prompt id), with the registry signature that
 * tells the server how to decode it.
 */
import type { ActionSpace } from '../../ml/rl/environment';
import { buildPolicyModel, type BuiltPolicyModel } from './policy-model';

export const TEST_FEATURES = [
  'quality_mean', 'quality_p10', 'faithfulness', 'relevancy', 'latency_p50', 'latency_p95', 'cost_mean', 'cost_p95',
  'k_current', 'rerank_current', 'fusion_current', 'variant_current', 'corpus_docs', 'corpus_tokens', 'category', 'load',
];

export const TEST_ACTION_SPACE: ActionSpace = [
  { kind: 'categorical', name: 'variant', choices: ['A', 'B', 'C'] },
  { kind: 'integer', name: 'k', min: 3, max: 32 },
  { kind: 'bernoulli', name: 'rerank' },
  { kind: 'continuous', name: 'fusion_weight', min: 0, max: 1 },
  { kind: 'integer', name: 'prompt_id', min: 0, max: 3 },
];

export interface TestPolicy extends BuiltPolicyModel {
  signature: {
    inputs: { name: string; shape: number[]; datatype: string; features: string[] }[];
    outputs: { name: string; shape: number[]; datatype: string }[];
    actionSpace: ActionSpace;
    heads: Record<string, string>[];
  };
}

export function buildTestPolicy(seed: number, opts: { weightScale?: number; hidden?: number[] } = {}): TestPolicy {
  const heads = [
    { output: 'variant_logits', size: 3 },
    { output: 'k_logits', size: 30 },
    { output: 'rerank_logit', size: 1 },
    { output: 'fusion_weight_mean', size: 1 },
    { output: 'fusion_weight_log_std', size: 1 },
    { output: 'prompt_id_logits', size: 4 },
  ];
  const built = buildPolicyModel({ inputs: 16, hidden: opts.hidden ?? [64, 64], heads, seed, weightScale: opts.weightScale ?? 2 });
  return {
    ...built,
    signature: {
      inputs: [{ name: 'obs', shape: [-1, 16], datatype: 'FP32', features: TEST_FEATURES }],
      outputs: heads.map((h) => ({ name: h.output, shape: [-1, h.size], datatype: 'FP32' })),
      actionSpace: TEST_ACTION_SPACE,
      heads: [
        { part: 'variant', logits: 'variant_logits' },
        { part: 'k', logits: 'k_logits' },
        { part: 'rerank', logits: 'rerank_logit' },
        { part: 'fusion_weight', mean: 'fusion_weight_mean', logStd: 'fusion_weight_log_std' },
        { part: 'prompt_id', logits: 'prompt_id_logits' },
      ],
    },
  };
}
