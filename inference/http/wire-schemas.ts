/**
 * The wire format of the inference server (`autopilot serve`) as zod schemas, once: what a client may
 * send to POST /v1/decide, /v1/rewards and /v1/feedback and what every endpoint answers. The handlers
 * read bodies by hand (the hot path: no schema walk per request, inference/handlers/decide-body.ts);
 * these schemas are the contract that
 *   - the OpenAPI document of the server is made from (api/openapi/inference.ts → docs/openapi/inference.json;
 *     api/openapi/inference.int.test.ts validates every request and answer of the real server against it),
 *   - the client SDKs (clients/) are checked against, at compile time and on every exchange of their tests.
 *
 * This file imports only zod (a rule in .dependency-cruiser.cjs), so the control-plane API may import it
 * without any of the decision server. No schema here may be recursive: the OpenAPI document inlines every
 * schema, so a free-form JSON value is `z.unknown()` (bodies come from JSON.parse: always JSON).
 *
 * The decide answer differs by deployment kind (policy: `action`, `density`; bandit: `armIndex`,
 * `stateSeq`; text-policy: `approve`, `confidence`, `pApprove`): one closed object with the common
 * fields required and the kind's own optional.
 */
import { z } from 'zod';

/** Any JSON value (what JSON.parse gives). */
const json = z.unknown();

/** Features: the model's inputs in order, by name, or `{ entity }` (a feature-store entity, plus optional named overrides). */
export const decideFeatures = z.union([
  z.array(z.number()).describe("the model's inputs in signature order"),
  z.record(z.string(), z.union([z.number(), z.string()])).describe('inputs by name (observation.names), or { entity: "user:42" } (+ named overrides) to read the feature store'),
]);

/** POST /v1/decide: a policy or bandit deployment (`features`), or a text-policy one (`text` or `snapshot`). */
export const decideRequest = z
  .object({
    deployment: z.string().min(1).describe('the deployment (= model name) to decide with'),
    features: decideFeatures.optional().describe('what the decision is about (policy and bandit deployments)'),
    text: z.string().min(1).max(32768).optional().describe('text-policy deployments: the rendered prompt (or give snapshot)'),
    snapshot: z.record(z.string(), json).optional().describe('text-policy deployments: the decision record { input, output: { actions } } to render'),
    unit: z.string().optional().describe('a user or session: the champion/canary choice is sticky per unit'),
    explore: z.boolean().optional().describe("sample the action (logged propensity < 1) instead of the deployment's default"),
  })
  .strict();

/** The answer of every kind: these fields always; kind-specific ones beside them (bandit `armIndex`, `stateSeq`, `segment`; text-policy `approve`, `confidence`, `pApprove`). */
export const decideResponse = z
  .object({
    decisionId: z.uuid().describe('send it back with the reward'),
    model: z.string(),
    version: z.number().int().nullable().describe('null for a fallback or a bandit decision'),
    arm: z.string().describe('champion, canary or fallback (a bandit: the arm chosen)'),
    action: json.optional().describe('the action (policy and bandit kinds)'),
    propensity: z.number().min(0).max(1).describe("probability of this action under the serving arm's policy"),
    armProbability: z.number().min(0).max(1).describe('P(this arm): the canary weight or 1 − weight'),
    density: z.number().nullable().optional(),
    fallback: z.boolean(),
    armIndex: z.number().int().optional(),
    stateSeq: z.number().int().optional(),
    segment: z.string().nullable().optional().describe('bandit deployments with per-segment constraints: the segment whose rule the decision met (null: the default rule)'),
    approve: z.boolean().optional(),
    confidence: z.number().optional(),
    pApprove: z.number().nullable().optional(),
  })
  .strict();

/** One reward: a scalar, or components (a bandit deployment's reward spec turns them into one), or both. */
export const rewardRequest = z
  .object({
    decisionId: z.uuid(),
    reward: z.number().finite().optional().describe('within the deployment reward range (default ±1e6); may be left out when components make it'),
    components: z.record(z.string(), z.number().finite()).optional().describe('at most 64 named numbers'),
  })
  .strict()
  .refine((r) => r.reward !== undefined || r.components !== undefined, { message: 'reward or components is required', path: ['reward'] });

export const rewardBatchRequest = z.object({ rewards: z.array(rewardRequest).min(1).describe('a batch (1..--max-reward-batch, default 500)') }).strict();

/** POST /v1/rewards: one reward or a batch `{ rewards: [...] }`. */
export const rewardBody = z.union([rewardRequest, rewardBatchRequest]);

/** A single reward's answer: 201 recorded, 200 the same reward again (`duplicate`). */
export const rewardResponse = z
  .object({
    decisionId: z.string(),
    accepted: z.literal(true),
    duplicate: z.boolean().describe('the same reward was recorded before (200)'),
    reward: z.number().optional(),
    arm: z.string().optional(),
  })
  .strict();

/** The outcome of one item of a batch: the status a single request would have answered. */
export const rewardItemResult = z
  .object({
    decisionId: z.string().nullable(),
    status: z.number().int().describe('what a single reward request would have answered'),
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
    rejected: z.number().int().describe('items refused (4xx) or not recordable now (503): retry only these'),
  })
  .strict();

const verdict = z.enum(['APPROVE', 'FLAG']);

/** POST /v1/feedback: a reviewer's verdict on a served text-policy decision. */
export const feedbackRequest = z
  .object({
    decisionId: z.uuid().describe('a served text-policy decision'),
    verdict: verdict.describe("the reviewer's verdict"),
    reason: z.string().min(1).max(2000).optional(),
  })
  .strict();

export const feedbackResponse = z
  .object({
    decisionId: z.string(),
    accepted: z.literal(true),
    duplicate: z.boolean().describe('the same verdict was recorded before (200)'),
    servedVerdict: verdict.describe('what the policy answered'),
    verdict,
    overridden: z.boolean().describe('the reviewer reversed the served verdict'),
  })
  .strict();

/** A 4xx: what was wrong (`error`), the field (null when it is the request as a whole) and what was expected. */
export const clientErrorResponse = z.object({ error: z.string(), field: z.string().nullable(), expected: z.string().nullable() }).strict();

/** A 5xx: a fixed message and the id the cause was logged under. */
export const faultResponse = z.object({ error: z.string(), errorId: z.string(), field: z.null().optional(), expected: z.string().nullable().optional() }).strict();

/** Any error body, 4xx or 5xx (what a client reads before it looks at the status). */
export const errorResponse = z
  .object({
    error: z.string(),
    field: z.string().nullable().optional(),
    expected: z.string().nullable().optional(),
    errorId: z.string().optional(),
  })
  .strict();

// ── health and KServe v2 metadata ─────────────────────────────────────────────────────────────────────
export const liveResponse = z.object({ live: z.boolean() }).strict();
export const readyResponse = z.object({ ready: z.boolean() }).strict();
export const serverMetadataResponse = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) }).strict();
export const modelReadyParams = z.object({ name: z.string() });
export const modelReadyResponse = z.object({ name: z.string(), ready: z.boolean() }).strict();

export type DecideRequest = z.infer<typeof decideRequest>;
export type DecideResponse = z.infer<typeof decideResponse>;
export type RewardRequest = z.infer<typeof rewardRequest>;
export type RewardBatchRequest = z.infer<typeof rewardBatchRequest>;
export type RewardResponse = z.infer<typeof rewardResponse>;
export type RewardItemResult = z.infer<typeof rewardItemResult>;
export type RewardBatchResponse = z.infer<typeof rewardBatchResponse>;
export type FeedbackRequest = z.infer<typeof feedbackRequest>;
export type FeedbackResponse = z.infer<typeof feedbackResponse>;
export type ErrorResponse = z.infer<typeof errorResponse>;
