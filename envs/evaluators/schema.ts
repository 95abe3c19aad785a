/**
 * Wire schemas shared by the replay log (one JSON object a line) and the HTTP evaluator
 * (`POST /tuner/evaluate` response): a config, and the statistics of one batch evaluation. Every
 * message names the field, the value received and what was expected.
 */
import { z } from 'zod';
import type { Evaluation } from '../types';

const got = (input: unknown) => JSON.stringify(input) ?? 'nothing';

const unit = (field: string) =>
  z.number({ error: (iss) => `${field} must be a number in [0, 1], got ${got(iss.input)}` })
    .min(0, { error: (iss) => `${field} must be a number in [0, 1], got ${got(iss.input)}` })
    .max(1, { error: (iss) => `${field} must be a number in [0, 1], got ${got(iss.input)}` });
const nonNegative = (field: string) =>
  z.number({ error: (iss) => `${field} must be a number ≥ 0, got ${got(iss.input)}` })
    .min(0, { error: (iss) => `${field} must be a number ≥ 0, got ${got(iss.input)}` });

export const configSchema = z.object(
  {
    variant: z.enum(['A', 'B'], { error: (iss) => `config.variant must be A or B, got ${got(iss.input)}` }),
    k: z.number({ error: (iss) => `config.k must be an integer ≥ 1, got ${got(iss.input)}` })
      .int({ error: (iss) => `config.k must be an integer ≥ 1, got ${got(iss.input)}` })
      .min(1, { error: (iss) => `config.k must be an integer ≥ 1, got ${got(iss.input)}` }),
    rerank: z.boolean({ error: (iss) => `config.rerank must be true or false, got ${got(iss.input)}` }),
    fusion_weight: unit('config.fusion_weight'),
    prompt_id: z.string({ error: (iss) => `config.prompt_id must be a string, got ${got(iss.input)}` }),
  },
  { error: (iss) => `config must be an object {variant, k, rerank, fusion_weight, prompt_id}, got ${got(iss.input)}` },
);

/** One batch's statistics. `latency_ms` may be one number (then both p50 and p95). */
export const evaluationSchema = z.object(
  {
    faithfulness: unit('faithfulness'),
    relevancy: unit('relevancy'),
    latency_ms: z.union([nonNegative('latency_ms'), z.object({ p50: nonNegative('latency_ms.p50'), p95: nonNegative('latency_ms.p95') })], {
      error: (iss) => `latency_ms must be a number or {p50, p95} in milliseconds, got ${got(iss.input)}`,
    }),
    cost_usd: nonNegative('cost_usd'),
    error_rate: unit('error_rate').optional(),
    faithfulness_std: nonNegative('faithfulness_std').optional(),
    relevancy_std: nonNegative('relevancy_std').optional(),
    policy_violation_rate: unit('policy_violation_rate').optional(),
  },
  { error: (iss) => `the evaluation must be an object {faithfulness, relevancy, latency_ms, cost_usd, …}, got ${got(iss.input)}` },
);

/**
 * The request body of `POST /tuner/evaluate` (R-TUNER-EVALUATOR): the HTTP evaluator sends it and
 * `autopilot evaluator serve` validates it with this schema, so client and server cannot drift.
 * `batch_size` ≥ 2 (a batch std needs two queries); `seed` an integer ≥ 0.
 */
export const evaluateRequestSchema = z.strictObject(
  {
    config: configSchema,
    category: z.string({ error: (iss) => `category must be a non-empty string, got ${got(iss.input)}` }).min(1, { error: 'category must be a non-empty string, got ""' }),
    batch_size: z.number({ error: (iss) => `batch_size must be an integer ≥ 2, got ${got(iss.input)}` })
      .int({ error: (iss) => `batch_size must be an integer ≥ 2, got ${got(iss.input)}` })
      .min(2, { error: (iss) => `batch_size must be an integer ≥ 2, got ${got(iss.input)}` }),
    seed: z.number({ error: (iss) => `seed must be an integer ≥ 0, got ${got(iss.input)}` })
      .int({ error: (iss) => `seed must be an integer ≥ 0, got ${got(iss.input)}` })
      .min(0, { error: (iss) => `seed must be an integer ≥ 0, got ${got(iss.input)}` }),
  },
  { error: (iss) => `the request must be an object {config, category, batch_size, seed}, got ${got(iss.input)}` },
);

export type EvaluateRequestBody = z.infer<typeof evaluateRequestSchema>;

/** What each request field must be (the `expected` of a 400 answer). */
export const EVALUATE_REQUEST_EXPECTED: Record<string, string> = {
  '': 'an object {config, category, batch_size, seed}',
  config: 'an object {variant, k, rerank, fusion_weight, prompt_id}',
  'config.variant': 'A or B',
  'config.k': 'an integer ≥ 1',
  'config.rerank': 'true or false',
  'config.fusion_weight': 'a number in [0, 1]',
  'config.prompt_id': 'a string',
  category: 'a non-empty string naming a category the evaluator knows',
  batch_size: 'an integer ≥ 2',
  seed: 'an integer ≥ 0',
};

/** A replay log line: the config and category evaluated, and the batch's statistics. */
export const recordSchema = evaluationSchema.extend({
  config: configSchema,
  category: z.string({ error: (iss) => `category must be a string, got ${got(iss.input)}` }).min(1, { error: 'category must not be empty' }),
});

/** Normalises a parsed wire evaluation (single latency number, missing error rate → 0). */
export function toEvaluation(r: z.infer<typeof evaluationSchema>): Evaluation {
  return {
    faithfulness: r.faithfulness,
    relevancy: r.relevancy,
    latency_ms: typeof r.latency_ms === 'number' ? { p50: r.latency_ms, p95: r.latency_ms } : { p50: r.latency_ms.p50, p95: r.latency_ms.p95 },
    cost_usd: r.cost_usd,
    error_rate: r.error_rate ?? 0,
    ...(r.faithfulness_std !== undefined ? { faithfulness_std: r.faithfulness_std } : {}),
    ...(r.relevancy_std !== undefined ? { relevancy_std: r.relevancy_std } : {}),
    ...(r.policy_violation_rate !== undefined ? { policy_violation_rate: r.policy_violation_rate } : {}),
  };
}
