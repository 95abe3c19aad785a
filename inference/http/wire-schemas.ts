/**
 * The wire format of POST /v1/decide and POST /v1/rewards as zod schemas: what a client may send and
 * what it gets back. The handlers validate bodies by hand (the hot path: no schema walk per request);
 * these schemas are the contract the client SDKs (clients/) are checked against, and
 * `wire-schemas.int.test.ts` checks that the server's real answers — every kind, every reward outcome —
 * parse with them, so the schemas cannot drift from the server.
 */
import { z } from 'zod';

const json: z.ZodType<unknown> = z.lazy(() => z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]));

/** Features: the model's inputs in order, by name, or `{ entity }` (a feature-store entity, plus optional named overrides). */
export const decideFeatures = z.union([z.array(z.number()), z.record(z.string(), z.union([z.number(), z.string()]))]);

/** POST /v1/decide: a policy or bandit deployment (`features`), or a text-policy one (`text` or `snapshot`). */
export const decideRequest = z
  .object({
    deployment: z.string().min(1),
    features: decideFeatures.optional(),
    text: z.string().optional(),
    snapshot: z.record(z.string(), json).optional(),
    unit: z.string().optional(),
    explore: z.boolean().optional(),
  })
  .strict();

/** The answer of every kind: these fields always; kind-specific ones beside them (bandit `armIndex`, `stateSeq`; text-policy `approve`, `confidence`, `pApprove`). */
export const decideResponse = z
  .object({
    decisionId: z.string().uuid(),
    model: z.string(),
    version: z.number().int().nullable(),
    arm: z.string(),
    action: json.optional(),
    propensity: z.number().min(0).max(1),
    armProbability: z.number().min(0).max(1),
    density: z.number().nullable().optional(),
    fallback: z.boolean(),
    armIndex: z.number().int().optional(),
    stateSeq: z.number().optional(),
    approve: z.boolean().optional(),
    confidence: z.number().optional(),
    pApprove: z.number().nullable().optional(),
  })
  .strict();

/** One reward: a scalar, or components (a bandit deployment's reward spec turns them into one), or both. */
export const rewardRequest = z
  .object({
    decisionId: z.string().uuid(),
    reward: z.number().finite().optional(),
    components: z.record(z.string(), z.number().finite()).optional(),
  })
  .strict()
  .refine((r) => r.reward !== undefined || r.components !== undefined, { message: 'reward or components is required', path: ['reward'] });

export const rewardBatchRequest = z.object({ rewards: z.array(rewardRequest).min(1) }).strict();

/** A single reward's answer: 201 recorded, 200 the same reward again (`duplicate`). */
export const rewardResponse = z
  .object({
    decisionId: z.string(),
    accepted: z.literal(true),
    duplicate: z.boolean(),
    reward: z.number().optional(),
    arm: z.string().optional(),
  })
  .strict();

/** The outcome of one item of a batch: the status a single request would have answered. */
export const rewardItemResult = z
  .object({
    decisionId: z.string().nullable(),
    status: z.number().int(),
    accepted: z.boolean(),
    duplicate: z.boolean(),
    reward: z.number().optional(),
    arm: z.string().optional(),
    error: z.string().optional(),
    field: z.string().nullable().optional(),
    expected: z.string().nullable().optional(),
    errorId: z.string().optional(),
  })
  .strict();

export const rewardBatchResponse = z
  .object({
    results: z.array(rewardItemResult),
    accepted: z.number().int(),
    recorded: z.number().int(),
    duplicates: z.number().int(),
    rejected: z.number().int(),
  })
  .strict();

/** Every 4xx body: what was wrong (`error`), the field (null when it is the request as a whole) and what was expected. 5xx bodies are `{ error, errorId }`. */
export const errorResponse = z
  .object({
    error: z.string(),
    field: z.string().nullable().optional(),
    expected: z.string().nullable().optional(),
    errorId: z.string().optional(),
  })
  .strict();

export type DecideRequest = z.infer<typeof decideRequest>;
export type DecideResponse = z.infer<typeof decideResponse>;
export type RewardRequest = z.infer<typeof rewardRequest>;
export type RewardBatchRequest = z.infer<typeof rewardBatchRequest>;
export type RewardResponse = z.infer<typeof rewardResponse>;
export type RewardItemResult = z.infer<typeof rewardItemResult>;
export type RewardBatchResponse = z.infer<typeof rewardBatchResponse>;
export type ErrorResponse = z.infer<typeof errorResponse>;
