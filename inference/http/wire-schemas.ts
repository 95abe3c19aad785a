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

/** Named features of an online model or a predictor: numbers, strings (categorical), booleans. */
const namedFeatures = z.record(z.string(), z.union([z.number(), z.string(), z.boolean()]));

/** POST /v1/predict: an online-model deployment (`features`, or `rows` of them) or a predictor deployment (`features`, `unit`). */
export const predictRequest = z
  .object({
    deployment: z.string().min(1).describe('an online-model or predictor deployment'),
    features: namedFeatures.optional().describe('one row of named features'),
    rows: z.array(namedFeatures).min(1).max(10_000).optional().describe('online models: several rows, one prediction each'),
    unit: z.string().optional().describe('predictor deployments: the champion/canary choice is sticky per unit'),
  })
  .strict();

/** The answer of /v1/predict: an online model's (`stateKey`, `seq`, `prediction` or `predictions`) or a predictor's (a logged decision with its gate's verdict). */
export const predictResponse = z
  .object({
    model: z.string(),
    stateKey: z.string().optional().describe('online models: the shared state predicted from'),
    seq: z.number().int().optional().describe('online models: labels learnt into that state'),
    output: z.enum(['probability', 'value']).optional().describe('online models: logistic → probability, squared → value'),
    prediction: z.number().optional(),
    predictions: z.array(z.number()).optional(),
    decisionId: z.uuid().optional().describe('predictor deployments: the decision logged'),
    version: z.number().int().optional(),
    arm: z.string().optional(),
    armProbability: z.number().min(0).max(1).optional(),
    probability: z.number().optional().describe('predictor: P(low quality)'),
    quality: z.number().optional().describe('predictor: 1 − probability'),
    threshold: z.number().nullable().optional(),
    passed: z.boolean().optional(),
    action: z.object({ type: z.enum(['reroute', 'escalate']), to: z.string() }).strict().nullable().optional(),
  })
  .strict();

/** POST /v1/labels: one `{ features, label }` or a batch `labels: [{ features, label }…]` for an online-model deployment. */
export const labelsRequest = z
  .object({
    deployment: z.string().min(1).describe('an online-model deployment'),
    features: namedFeatures.optional(),
    label: z.number().optional().describe('logistic: 0 or 1; squared: a finite number'),
    labels: z.array(z.object({ features: namedFeatures, label: z.number() }).strict()).min(1).optional().describe('a batch (1..--max-labels, default 10000), all checked before any is learnt'),
  })
  .strict();

export const labelsResponse = z
  .object({ model: z.string(), stateKey: z.string(), learnt: z.number().int(), seq: z.number().int().describe('labels learnt into the shared state after this batch'), meanLossBefore: z.number() })
  .strict();

/** POST /v1/cache/lookup: is a near-duplicate of this prompt cached? */
export const cacheLookupRequest = z
  .object({
    deployment: z.string().min(1).describe('a semantic-cache deployment'),
    prompt: z.string().min(1).max(32_768).describe('the prompt the LLM would be asked'),
    context: namedFeatures.optional().describe('features of the request for the reuse model (tenant, task, …)'),
    costUsd: z.number().positive().optional().describe("what this request's LLM call costs (default the deployment's cost.llmUsdPerRequest)"),
    unit: z.string().min(1).max(256).optional().describe('a user or session, logged with the decision'),
  })
  .strict();

export const cacheLookupResponse = z
  .object({
    decisionId: z.uuid().describe('a hit: its decision (report it with /v1/cache/wrong-hit); a miss: send it with /v1/cache/store'),
    model: z.string(),
    hit: z.boolean(),
    response: z.string().optional().describe('a hit: the cached answer'),
    similarity: z.number().describe('cosine similarity of the nearest cached prompt (0 when none)'),
  })
  .strict();

/** POST /v1/cache/store: after a miss, the LLM's answer; the cache decides whether to keep it. */
export const cacheStoreRequest = z
  .object({
    deployment: z.string().min(1),
    decisionId: z.string().min(1).describe('the decisionId of the lookup that missed (same server, within ttlSeconds)'),
    response: z.string().max(1_000_000).describe("the LLM's answer"),
    costUsd: z.number().positive().optional().describe('what the LLM call cost, if it differs from what the lookup said'),
  })
  .strict();

export const cacheStoreResponse = z
  .object({
    decisionId: z.uuid(),
    model: z.string(),
    stored: z.boolean().describe('the admission decision (logged with arm store or skip)'),
    propensity: z.number().min(0).max(1).describe('probability of this choice (ε-greedy; 1 for the always/never baselines)'),
    pReuse: z.number().min(0).max(1).describe("the reuse model's P(a near-duplicate arrives within the TTL)"),
    valueUsd: z.number().describe('expected net value of storing: p · (LLM cost − staleness) − storage − what it displaces'),
  })
  .strict();

/** POST /v1/cache/wrong-hit: a hit's answer was wrong for its prompt. */
export const cacheWrongHitRequest = z
  .object({
    deployment: z.string().min(1),
    decisionId: z.string().min(1).describe("the hit's decisionId (same server, within wrongHitWindowSeconds)"),
    mismatchUsd: z.number().min(0).optional().describe('what serving the wrong answer cost (reporting only)'),
  })
  .strict();

export const cacheWrongHitResponse = z.object({ decisionId: z.string(), model: z.string(), dropped: z.literal(true) }).strict();
