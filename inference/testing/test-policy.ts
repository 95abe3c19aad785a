/**
 * A policy of the PPO issue's shape for tests and the bench, exported by `ml/onnx` exactly as the
 * trainer exports: 16 inputs, two tanh layers of 64, five heads (retriever variant, k, rerank, fusion
 * weight, prompt id) plus the value head. The weights are spread (seeded) so that every head has a
 * clear argmax, and `forward` is the float64 reference of what the ONNX graph computes.
 */
import { exportOnnx, referenceOutputs } from '../../ml/onnx/export';
import type { PolicySignature } from '../../ml/onnx/signature';
import type { ActionSpace } from '../../ml/rl/environment';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { Rng } from '../../ml/rng';

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

export interface TestPolicy {
  bytes: Buffer;
  signature: PolicySignature;
  /** Float64 reference outputs by output name for one observation. */
  forward(obs: ArrayLike<number>): Record<string, Float64Array>;
}

export function buildTestPolicy(seed: number, opts: { scale?: number } = {}): TestPolicy {
  const policy = ActorCritic.create({ observationSize: 16, actionSpace: TEST_ACTION_SPACE, hidden: [64, 64] }, seed);
  const rng = new Rng(seed * 7919 + 13);
  const d = policy.params.data;
  const scale = opts.scale ?? 0.35;
  for (let i = 0; i < d.length; i++) d[i] = rng.normal() * scale;
  const { model, signature } = exportOnnx(policy, { graphName: 'ranker', observationNames: TEST_FEATURES });
  return {
    bytes: Buffer.from(model),
    signature,
    forward: (obs) => referenceOutputs(policy, Float64Array.from(obs), 1),
  };
}
