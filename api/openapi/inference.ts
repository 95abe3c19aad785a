/**
 * The inference server's endpoints (`autopilot serve`, inference/README.md) as zod schemas and the
 * OpenAPI 3.1 document made from them (docs/openapi/inference.json). The server itself reads its bodies
 * without zod, byte by byte on its hot path (inference/handlers/decide-body.ts, inference/rewards/body.ts):
 * these schemas describe that wire format for clients and SDKs, and api/openapi/inference.int.test.ts
 * holds them to the real server (every answer it gives in the test is validated against this document).
 *
 * The decide answer differs by deployment kind (policy: `action`, `density`; bandit: `armIndex`,
 * `stateSeq`; text-policy: `approve`, `confidence`, `pApprove`): one closed object with the common
 * fields required and the kind's own optional.
 */
import { z } from 'zod';
import { buildDocument, type DocOperation } from './document';

const errorBody = z.object({
  error: z.string(),
  field: z.string().nullable(),
  expected: z.string().nullable(),
});
/** A 5xx: a fixed message and the id the cause was logged under. */
const faultBody = z.object({ error: z.string(), errorId: z.string(), field: z.null().optional(), expected: z.string().nullable().optional() });

export const decideBody = z.object({
  deployment: z.string().min(1).describe('the deployment (= model name) to decide with'),
  features: z
    .union([
      z.array(z.number()).describe("the model's inputs in signature order"),
      z.record(z.string(), z.unknown()).describe('inputs by name (observation.names), or { entity: "user:42" } (+ named overrides) to read the feature store'),
    ])
    .describe('what the decision is about (policy and bandit deployments)')
    .optional(),
  text: z.string().min(1).max(32768).optional().describe('text-policy deployments: the rendered prompt (or give snapshot)'),
  snapshot: z.record(z.string(), z.unknown()).optional().describe('text-policy deployments: the decision record { input, output: { actions } } to render'),
  unit: z.string().optional().describe('a user or session: the champion/canary choice is sticky per unit'),
  explore: z.boolean().optional().describe("sample the action (logged propensity < 1) instead of the deployment's default"),
});

export const decideAnswer = z.object({
  decisionId: z.uuid().describe('send it back with the reward'),
  model: z.string(),
  version: z.number().int().nullable().describe('null for a fallback or a bandit decision'),
  arm: z.string().describe('champion, canary or fallback (a bandit: the arm chosen)'),
  action: z.unknown().optional().describe('the action (policy and bandit kinds)'),
  propensity: z.number().describe("probability of this action under the serving arm's policy"),
  armProbability: z.number().describe('P(this arm): the canary weight or 1 − weight'),
  density: z.number().nullable().optional(),
  fallback: z.boolean(),
  armIndex: z.number().int().optional(),
  stateSeq: z.number().int().optional(),
  approve: z.boolean().optional(),
  confidence: z.number().optional(),
  pApprove: z.number().nullable().optional(),
});

const rewardItem = z.object({
  decisionId: z.uuid(),
  reward: z.number().optional().describe('within the deployment reward range (default ±1e6); may be left out when components make it'),
  components: z.record(z.string(), z.number()).optional().describe('at most 64 named numbers'),
});

export const rewardBody = z.union([rewardItem, z.object({ rewards: z.array(rewardItem).min(1).describe('a batch (1..--max-reward-batch, default 500)') })]);

export const rewardAnswer = z.object({
  decisionId: z.string(),
  accepted: z.boolean(),
  duplicate: z.boolean().describe('the same reward was recorded before (200)'),
  reward: z.number().optional(),
  arm: z.string().optional(),
});

export const rewardBatchAnswer = z.object({
  results: z.array(
    z.object({
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
    }),
  ),
  accepted: z.number().int(),
  recorded: z.number().int(),
  duplicates: z.number().int(),
  rejected: z.number().int().describe('items refused (4xx) or not recordable now (503): retry only these'),
});

export const feedbackBody = z.object({
  decisionId: z.uuid().describe('a served text-policy decision'),
  verdict: z.enum(['APPROVE', 'FLAG']).describe("the reviewer's verdict"),
  reason: z.string().min(1).max(2000).optional(),
});

export const feedbackAnswer = z.object({
  decisionId: z.string(),
  accepted: z.literal(true),
  duplicate: z.boolean().describe('the same verdict was recorded before (200)'),
  servedVerdict: z.enum(['APPROVE', 'FLAG']).describe('what the policy answered'),
  verdict: z.enum(['APPROVE', 'FLAG']),
  overridden: z.boolean().describe('the reviewer reversed the served verdict'),
});

const live = z.object({ live: z.boolean() });
const ready = z.object({ ready: z.boolean() });
const serverMetadata = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
const modelParams = z.object({ name: z.string() });
const modelReady = z.object({ name: z.string(), ready: z.boolean() });

const errors = {
  400: { description: 'malformed body: the field, the value and what was expected', schema: errorBody },
  401: { description: 'no, an unknown, a revoked or an expired API key', schema: errorBody },
  403: { description: 'the key lacks the scope on this deployment', schema: errorBody },
  413: { description: 'body over the limit', schema: errorBody },
  503: { description: 'a dependency is unavailable (Retry-After)', schema: faultBody },
};

export const INFERENCE_OPERATIONS: DocOperation[] = [
  {
    method: 'POST',
    path: '/v1/decide',
    summary: 'decide: the action for these features, with its logged propensity',
    tags: ['decisions'],
    secured: true,
    body: decideBody,
    responses: {
      200: { description: 'the decision', schema: decideAnswer },
      ...errors,
      404: { description: 'no such deployment (or feature-store entity)', schema: errorBody },
      422: { description: 'features incomplete for the model', schema: errorBody },
    },
  },
  {
    method: 'POST',
    path: '/v1/rewards',
    summary: "reward a decision (or a batch { rewards: [...] }); retrying the same reward is answered 200 and not counted twice",
    tags: ['decisions'],
    secured: true,
    body: rewardBody,
    responses: {
      201: { description: 'recorded', schema: rewardAnswer },
      200: { description: 'the same reward again (single), or the batch outcome per item', schema: z.union([rewardAnswer, rewardBatchAnswer]) },
      ...errors,
      404: { description: 'no such decision (yet)', schema: errorBody },
      409: { description: 'a different reward was recorded for this decision', schema: errorBody },
    },
  },
  {
    method: 'POST',
    path: '/v1/feedback',
    summary: "a reviewer's verdict on a served text-policy decision (scope reward), once per decision: the override rate and the next training run's data",
    tags: ['decisions'],
    secured: true,
    body: feedbackBody,
    responses: {
      201: { description: 'recorded', schema: feedbackAnswer },
      200: { description: 'the same verdict (and reason) again', schema: feedbackAnswer },
      ...errors,
      404: { description: 'no such decision (after waiting ~1 s for the decision log)', schema: errorBody },
      409: { description: 'a different verdict was recorded for this decision', schema: errorBody },
    },
  },
  { method: 'GET', path: '/v2/health/live', summary: 'liveness', tags: ['health'], secured: false, responses: { 200: { description: 'the process answers', schema: live } } },
  {
    method: 'GET',
    path: '/v2/health/ready',
    summary: 'readiness: deployments loaded (from the registry or the local cache)',
    tags: ['health'],
    secured: false,
    responses: { 200: { description: 'ready', schema: ready }, 503: { description: 'not ready yet', schema: ready } },
  },
  { method: 'GET', path: '/v2', summary: 'KServe v2 server metadata', tags: ['kserve'], secured: true, responses: { 200: { description: 'server metadata', schema: serverMetadata }, 401: errors[401], 403: errors[403] } },
  {
    method: 'GET',
    path: '/v2/models/:name/ready',
    summary: 'KServe v2 model readiness (a champion loaded)',
    tags: ['kserve'],
    secured: true,
    params: modelParams,
    responses: { 200: { description: 'ready', schema: modelReady }, 503: { description: 'not ready', schema: modelReady }, 401: errors[401], 403: errors[403], 404: { description: 'no such model', schema: errorBody } },
  },
  {
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format)',
    tags: ['health'],
    secured: false,
    responses: { 200: { description: 'metrics', schema: z.string(), contentType: 'text/plain' } },
  },
];

export function inferenceDocument(): Record<string, unknown> {
  return buildDocument(
    {
      title: 'Autopilot inference server',
      version: '1',
      description:
        'Decisions and rewards (`autopilot serve`, default port 8080). Every /v1 and /v2 request but /v2/health/* needs an API key with the decide, reward or read scope (`autopilot keys create`). Client errors are `{ error, field, expected }`; server faults `{ error, errorId }`. KServe v2 model metadata and infer (`/v2/models/{name}[/versions/{v}][/infer]`) follow the KServe v2 protocol and are not repeated here.',
    },
    INFERENCE_OPERATIONS,
    [{ url: 'http://127.0.0.1:8080', description: 'autopilot serve (default)' }],
    { Error: errorBody, Fault: faultBody, DecideAnswer: decideAnswer, RewardAnswer: rewardAnswer, RewardBatchAnswer: rewardBatchAnswer },
  );
}
