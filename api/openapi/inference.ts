/**
 * The inference server's endpoints (`autopilot serve`, inference/README.md) and the OpenAPI 3.1 document
 * made from them (docs/openapi/inference.json). The bodies are the server's wire schemas
 * (inference/http/wire-schemas.ts, the one description of the wire format, which the client SDKs are
 * checked against too); this file only lists the operations. api/openapi/inference.int.test.ts holds the
 * document to the real server (every answer it gives in the test is validated against it).
 */
import { z } from 'zod';
import * as wire from '../../inference/http/wire-schemas';
import { buildDocument, type DocOperation } from './document';

const errorBody = wire.clientErrorResponse;
const faultBody = wire.faultResponse;

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
    body: wire.decideRequest,
    responses: {
      200: { description: 'the decision', schema: wire.decideResponse },
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
    body: wire.rewardBody,
    responses: {
      201: { description: 'recorded', schema: wire.rewardResponse },
      200: { description: 'the same reward again (single), or the batch outcome per item', schema: z.union([wire.rewardResponse, wire.rewardBatchResponse]) },
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
    body: wire.feedbackRequest,
    responses: {
      201: { description: 'recorded', schema: wire.feedbackResponse },
      200: { description: 'the same verdict (and reason) again', schema: wire.feedbackResponse },
      ...errors,
      404: { description: 'no such decision (after waiting ~1 s for the decision log)', schema: errorBody },
      409: { description: 'a different verdict was recorded for this decision', schema: errorBody },
    },
  },
  {
    method: 'POST',
    path: '/v1/predict',
    summary: "predict: an online model's probability or value (scope decide), or a predictor deployment's gated quality prediction (a logged decision)",
    tags: ['models'],
    secured: true,
    body: wire.predictRequest,
    responses: { 200: { description: 'the prediction(s)', schema: wire.predictResponse }, ...errors, 404: { description: 'no online-model or predictor deployment of that name', schema: errorBody } },
  },
  {
    method: 'POST',
    path: '/v1/labels',
    summary: 'learn labels into an online model shared by every server (scope reward); a batch is checked whole before any label is learnt',
    tags: ['models'],
    secured: true,
    body: wire.labelsRequest,
    responses: { 200: { description: 'learnt', schema: wire.labelsResponse }, ...errors, 404: { description: 'no online-model deployment of that name', schema: errorBody } },
  },
  {
    method: 'POST',
    path: '/v1/cache/lookup',
    summary: 'semantic cache: the cached answer of a near-duplicate prompt (a hit, logged as a decision) or a miss (scope decide)',
    tags: ['cache'],
    secured: true,
    body: wire.cacheLookupRequest,
    responses: { 200: { description: 'hit or miss', schema: wire.cacheLookupResponse }, ...errors, 404: { description: 'no semantic-cache deployment of that name', schema: errorBody } },
  },
  {
    method: 'POST',
    path: '/v1/cache/store',
    summary: "semantic cache: after a miss, the LLM's answer; the admission decision (store or skip, with its propensity) is logged (scope decide)",
    tags: ['cache'],
    secured: true,
    body: wire.cacheStoreRequest,
    responses: { 200: { description: 'the admission decision', schema: wire.cacheStoreResponse }, ...errors, 404: { description: 'no such miss awaiting its store on this server, or no such deployment', schema: errorBody } },
  },
  {
    method: 'POST',
    path: '/v1/cache/wrong-hit',
    summary: "semantic cache: a hit's answer was wrong; the entry is dropped and its admission labelled not reused (scope reward)",
    tags: ['cache'],
    secured: true,
    body: wire.cacheWrongHitRequest,
    responses: {
      200: { description: 'dropped', schema: wire.cacheWrongHitResponse },
      ...errors,
      404: { description: 'no such deployment', schema: errorBody },
      409: { description: 'not an open hit of this server (unknown, reported already, or its window passed)', schema: errorBody },
    },
  },
  { method: 'GET', path: '/v2/health/live', summary: 'liveness', tags: ['health'], secured: false, responses: { 200: { description: 'the process answers', schema: wire.liveResponse } } },
  {
    method: 'GET',
    path: '/v2/health/ready',
    summary: 'readiness: deployments loaded (from the registry or the local cache)',
    tags: ['health'],
    secured: false,
    responses: { 200: { description: 'ready', schema: wire.readyResponse }, 503: { description: 'not ready yet', schema: wire.readyResponse } },
  },
  { method: 'GET', path: '/v2', summary: 'KServe v2 server metadata', tags: ['kserve'], secured: true, responses: { 200: { description: 'server metadata', schema: wire.serverMetadataResponse }, 401: errors[401], 403: errors[403] } },
  {
    method: 'GET',
    path: '/v2/models/:name/ready',
    summary: 'KServe v2 model readiness (a champion loaded)',
    tags: ['kserve'],
    secured: true,
    params: wire.modelReadyParams,
    responses: { 200: { description: 'ready', schema: wire.modelReadyResponse }, 503: { description: 'not ready', schema: wire.modelReadyResponse }, 401: errors[401], 403: errors[403], 404: { description: 'no such model', schema: errorBody } },
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
    { Error: errorBody, Fault: faultBody, DecideAnswer: wire.decideResponse, RewardAnswer: wire.rewardResponse, RewardBatchAnswer: wire.rewardBatchResponse },
  );
}
