import { z } from 'zod';
import type { ActionSpace } from '../rl/environment';

/**
 * The signature of an exported policy: everything a server needs to feed the ONNX model and turn
 * its outputs into an Action, with no other knowledge of the trainer. Stored as JSON in the
 * registry version beside the `.onnx` artifact.
 *
 * Model contract (opset 17):
 *   input  `input.name` float32 [batch, observation.size] (batch is dynamic)
 *   per head, in action-space order:
 *     categorical  `output`: float32 [batch, choices.length]  softmax probabilities, index i ↔ choices[i]
 *     integer      `output`: float32 [batch, max − min + 1]   softmax probabilities, index i ↔ value min + i
 *     bernoulli    `output`: float32 [batch, 1]               p(true) = σ(logit)
 *     continuous   `mean`, `logStd`: float32 [batch, 1]       u ~ N(mean, exp(logStd)²) and the action is
 *                  squash(u) = min + (max − min)·(tanh(u) + 1)/2 (`squash: 'tanh'`); the greedy action is
 *                  squash(mean); the density of an action a is N(u; mean, σ)/|da/du| at u = squash⁻¹(a).
 *   value `value.output`: float32 [batch, 1], the critic's V(s) (informational).
 */
export type HeadSignature =
  | { kind: 'categorical'; name: string; choices: string[]; output: string }
  | { kind: 'integer'; name: string; min: number; max: number; output: string }
  | { kind: 'bernoulli'; name: string; output: string }
  | { kind: 'continuous'; name: string; min: number; max: number; squash: 'tanh'; mean: string; logStd: string };

export interface PolicySignature {
  format: 'autopilot.policy-signature/v1';
  /** ONNX opset the model was written for. */
  opset: number;
  input: { name: string; dtype: 'float32'; shape: ['batch', number] };
  observation: {
    size: number;
    /** Feature names in input order, when the environment gave them. */
    names?: string[];
  };
  /** One entry per action part, in the order of the trainer's action space. */
  heads: HeadSignature[];
  value: { output: string };
}

const name = z.string({ error: 'a non-empty string' }).min(1, { error: 'a non-empty string' });
const int = z.number({ error: 'an integer' }).int({ error: 'an integer' });
const fin = z.number({ error: 'a finite number' }).refine(Number.isFinite, { error: 'a finite number' });

const HeadSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('categorical'), name, choices: z.array(name).min(2, { error: 'at least two choices' }), output: name }),
  z.strictObject({ kind: z.literal('integer'), name, min: int, max: int, output: name }),
  z.strictObject({ kind: z.literal('bernoulli'), name, output: name }),
  z.strictObject({ kind: z.literal('continuous'), name, min: fin, max: fin, squash: z.literal('tanh', { error: '"tanh"' }), mean: name, logStd: name }),
], { error: 'a head with kind "categorical", "integer", "bernoulli" or "continuous"' });

export const PolicySignatureSchema = z.strictObject({
  format: z.literal('autopilot.policy-signature/v1', { error: '"autopilot.policy-signature/v1"' }),
  opset: int.min(1, { error: 'an integer ≥ 1' }),
  input: z.strictObject({
    name,
    dtype: z.literal('float32', { error: '"float32"' }),
    shape: z.tuple([z.literal('batch', { error: '"batch"' }), int.min(1, { error: 'an integer ≥ 1' })], { error: '["batch", observation size]' }),
  }),
  observation: z.strictObject({ size: int.min(1, { error: 'an integer ≥ 1' }), names: z.array(z.string()).optional() }),
  heads: z.array(HeadSchema).min(1, { error: 'at least one head' }),
  value: z.strictObject({ output: name }),
});

/** Validates a signature read from the registry; errors name the field, the value and what was expected. */
export function parsePolicySignature(json: unknown): PolicySignature {
  const r = PolicySignatureSchema.safeParse(json);
  const problems: string[] = [];
  if (!r.success) {
    for (const issue of r.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        problems.push(`signature${issue.path.map((p) => `.${String(p)}`).join('')}: unknown field(s) ${issue.keys.join(', ')}`);
        continue;
      }
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      problems.push(`signature${path} = ${JSON.stringify(valueAt(json, issue.path)) ?? 'undefined'}: expected ${issue.message}`);
    }
  } else {
    const s = r.data as PolicySignature;
    if (s.input.shape[1] !== s.observation.size) problems.push(`signature.input.shape[1] = ${s.input.shape[1]}: expected observation.size = ${s.observation.size}`);
    if (s.observation.names && s.observation.names.length !== s.observation.size) problems.push(`signature.observation.names has ${s.observation.names.length} names: expected observation.size = ${s.observation.size}`);
    const seen = new Set<string>();
    s.heads.forEach((h, i) => {
      if (seen.has(h.name)) problems.push(`signature.heads[${i}].name = ${JSON.stringify(h.name)}: expected a name not used by another head`);
      seen.add(h.name);
      if ((h.kind === 'integer' || h.kind === 'continuous') && !(h.max > h.min)) problems.push(`signature.heads[${i}] min/max = [${h.min}, ${h.max}]: expected min < max`);
    });
  }
  if (problems.length) throw new Error(`Invalid policy signature:\n  ${problems.join('\n  ')}`);
  return r.data as PolicySignature;
}

/** The action space a signature decodes to (the trainer's, reconstructed). */
export function actionSpaceOf(sig: PolicySignature): ActionSpace {
  return sig.heads.map((h) => {
    switch (h.kind) {
      case 'categorical': return { kind: 'categorical', name: h.name, choices: [...h.choices] };
      case 'integer': return { kind: 'integer', name: h.name, min: h.min, max: h.max };
      case 'bernoulli': return { kind: 'bernoulli', name: h.name };
      case 'continuous': return { kind: 'continuous', name: h.name, min: h.min, max: h.max };
    }
  });
}

/** Every output tensor name of the model, in graph order. */
export function outputNames(sig: PolicySignature): string[] {
  return [...sig.heads.flatMap((h) => (h.kind === 'continuous' ? [h.mean, h.logStd] : [h.output])), sig.value.output];
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}
