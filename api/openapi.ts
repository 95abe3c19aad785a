/**
 * The control-plane API's OpenAPI 3.1 document, made from the route table (./routes.ts) and its zod
 * schemas; served at /openapi.json and checked into docs/openapi/api.json by `make openapi`
 * (scripts/openapi.ts; api/openapi.test.ts fails when the checked-in file is stale).
 */
import { z } from 'zod';
import { buildDocument, type DocOperation } from './openapi/document';
import { ROUTES } from './routes';
import * as s from './schemas';
import { errorBody, faultBody, health } from './schemas';

const ERROR_TEXT: Record<number, string> = {
  400: 'malformed request: the field, the value and what was expected',
  401: 'no, an unknown, a revoked or an expired API key',
  403: 'the key lacks the scope (read, or admin for changes) on this model, or on every deployment',
  404: 'not found (the message says what)',
  409: 'conflicts with the current state (stale generation, a canary already running, nothing to roll back)',
};

const ON_TEXT = {
  model: 'on this model (scope:model) or on every deployment',
  filter: 'on the `model` filter, or on every deployment without one',
  all: 'on every deployment',
};

export function apiOperations(): DocOperation[] {
  const ops: DocOperation[] = ROUTES.map((r) => {
    const responses: DocOperation['responses'] = { [r.status]: { description: 'success', schema: r.response } };
    for (const status of [400, 401, 403, ...(r.errors ?? []).filter((e) => e < 500)]) responses[status] = { description: ERROR_TEXT[status], schema: errorBody };
    responses[500] = { description: 'a fault on our side, logged under errorId', schema: faultBody };
    if (r.errors?.includes(503)) responses[503] = { description: 'Temporal is not connected', schema: faultBody };
    return {
      method: r.method,
      path: r.path,
      summary: r.summary,
      description: r.scope === 'key' ? 'Needs any valid API key (none with auth off).' : `Needs an API key with the ${r.scope} scope ${ON_TEXT[r.on]}.${r.mutation ? ' Audited with the key id.' : ''}`,
      tags: r.tags,
      secured: true,
      params: r.params,
      query: r.query,
      body: r.body,
      responses,
    };
  });
  const openDoc = { description: 'the document', schema: z.record(z.string(), z.unknown()) };
  ops.push(
    { method: 'GET', path: '/healthz', summary: 'liveness, whether auth and Temporal are on, and the Temporal UI the console links to', tags: ['meta'], secured: false, responses: { 200: { description: 'up', schema: health } } },
    { method: 'GET', path: '/openapi.json', summary: 'this document', tags: ['meta'], secured: false, responses: { 200: openDoc } },
    { method: 'GET', path: '/openapi/inference.json', summary: "the inference server's OpenAPI document", tags: ['meta'], secured: false, responses: { 200: openDoc } },
  );
  return ops;
}

export function apiDocument(): Record<string, unknown> {
  return buildDocument(
    {
      title: 'Autopilot control-plane API',
      version: '1',
      description:
        'Models, versions, deployments, canaries, runs, evaluations, drift and the audit log (`autopilot api`, default port 8090). Reads need an API key with the read scope, changes the admin scope (`autopilot keys create`); every change is audited with the key id.',
    },
    apiOperations(),
    [{ url: 'http://127.0.0.1:8090', description: 'autopilot api (default)' }],
    {
      Error: errorBody,
      Fault: faultBody,
      Model: s.modelRecord,
      ModelSummary: s.modelSummary,
      ModelVersion: s.modelVersion,
      Alias: s.alias,
      Deployment: s.deployment,
      ArmStats: s.armStats,
      Run: s.run,
      ParetoPoint: s.paretoPoint,
      Evaluation: s.evaluation,
      AuditRow: s.auditRow,
      DriftEvent: s.driftEvent,
      CanaryStatus: s.canaryStatus,
      ApiKey: s.apiKey,
    },
  );
}
