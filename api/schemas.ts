/**
 * The control-plane API's request and response bodies as zod schemas: what the routes parse requests
 * with and what the OpenAPI document (./openapi.ts, `make openapi`) says they answer. The response
 * schemas mirror the registry's types (registry/types.ts, registry/keys.ts, canary/status.ts) as they
 * travel in JSON: a Date is its ISO-8601 text. Free-form JSON (configs, summaries, audit before/after,
 * the canary's check records) is `unknown`, written out as the JSON Schema `{}`.
 *
 * Objects in responses are strict in the document (`additionalProperties: false`), so a field added to
 * a registry type without a line here fails the API's tests (api/api.int.test.ts).
 */
import { z } from 'zod';
import { canaryPlanSchema } from '../canary/plan';
import { CANARY_PHASES } from '../canary/status';
import { KEY_SCOPES } from '../registry/keys';
import { ARTIFACT_FORMATS, DEPLOYMENT_KINDS, RUN_KINDS, VERSION_STATUSES } from '../registry/types';

/** A time in a response: ISO-8601 text (what JSON makes of a Date). */
const time = z.string().meta({ format: 'date-time' });
const anyJson = z.unknown();
const versionNumber = z.number().int().min(1);

// ── path and query parameters ───────────────────────────────────────────────────────────────────────
export const modelParams = z.object({ model: z.string().min(1).max(128) });
export const versionParams = modelParams.extend({ version: z.coerce.number().int().min(1) });
export const aliasParams = modelParams.extend({ alias: z.string().min(1).max(64) });
export const runParams = z.object({ id: z.string().min(1).max(500) });
export const keyParams = z.object({ keyId: z.string().regex(/^[a-z2-7]{12}$/) });

export const auditQuery = z.object({
  model: z.string().optional(),
  entity: z.string().optional(),
  action: z.string().optional(),
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const pageQuery = z.object({
  afterId: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const runsQuery = z.object({
  model: z.string().optional(),
  kind: z.enum(RUN_KINDS).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const runMetricsQuery = z.object({
  /** Comma-separated metric names; all when absent. */
  names: z.string().optional(),
});
/** A window back from now: `<n>m`, `<n>h` or `<n>d`, at most 7 days (the decision log is read by day partition). */
export const armsQuery = z.object({
  window: z
    .string()
    .regex(/^[1-9][0-9]{0,4}[mhd]$/, 'a duration such as 15m, 1h or 1d')
    .refine((w) => windowMs(w) <= 7 * 86_400_000, 'at most 7d')
    .optional()
    .describe('how far back from now (default 1h; at most 7d)'),
});

/** `15m` → 900000. */
export function windowMs(w: string): number {
  const n = Number(w.slice(0, -1));
  return n * { m: 60_000, h: 3_600_000, d: 86_400_000 }[w.slice(-1) as 'm' | 'h' | 'd'];
}
export const paretoQuery = z.object({
  model: z.string().optional(),
  /** A sweep workflow id: only its cells' runs (child workflow ids `<sweep>/cell-<n>`). */
  sweep: z.string().min(1).max(500).optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});
export const evaluationsQuery = z.object({ version: z.coerce.number().int().min(1).optional() });
export const driftQuery = z.object({ model: z.string().optional(), limit: z.coerce.number().int().min(1).max(10_000).optional() });

// ── responses ───────────────────────────────────────────────────────────────────────────────────────
export const errorBody = z.object({
  error: z.string(),
  field: z.string().nullable(),
  expected: z.string().nullable(),
});
/** A 5xx: the cause is logged under the id, never sent. */
export const faultBody = z.object({ error: z.string(), errorId: z.string() });

export const modelRecord = z.object({
  name: z.string(),
  description: z.string(),
  latestVersion: z.number().int(),
  createdBy: z.string(),
  createdAt: time,
});

export const modelSummary = modelRecord.extend({
  championVersion: z.number().int().nullable(),
  canaryVersion: z.number().int().nullable(),
  canaryWeight: z.number(),
  generation: z.number().int().nullable(),
});

export const alias = z.object({ model: z.string(), alias: z.string(), version: z.number().int(), updatedAt: time });

export const deployment = z.object({
  deployment: z.string(),
  model: z.string(),
  kind: z.enum(DEPLOYMENT_KINDS),
  championVersion: z.number().int().nullable(),
  canaryVersion: z.number().int().nullable(),
  canaryWeight: z.number(),
  generation: z.number().int(),
  exploration: z.object({ mode: z.enum(['greedy', 'sample']), epsilon: z.number().optional(), temperature: z.number().optional() }),
  fallback: anyJson,
  config: z.record(z.string(), anyJson),
  updatedAt: time,
});

export const modelDetail = z.object({
  model: modelRecord,
  aliases: z.array(alias),
  deployment: deployment.nullable(),
});

export const modelVersion = z.object({
  model: z.string(),
  version: z.number().int(),
  id: z.string(),
  artifactUri: z.string(),
  artifactLayout: z.enum(['file', 'directory']),
  sha256: z.string(),
  size: z.number().int(),
  format: z.enum(ARTIFACT_FORMATS),
  signature: z.record(z.string(), anyJson),
  metrics: z.record(z.string(), z.number()),
  tags: z.record(z.string(), z.string()),
  status: z.enum(VERSION_STATUSES),
  description: z.string(),
  lineage: z.object({
    runId: z.string().nullable(),
    workflowId: z.string().nullable(),
    configHash: z.string().nullable(),
    datasetManifest: anyJson,
    codeCommit: z.string().nullable(),
  }),
  createdBy: z.string(),
  createdAt: time,
});

export const run = z.object({
  id: z.string(),
  kind: z.enum(RUN_KINDS),
  model: z.string().nullable(),
  workflowId: z.string().nullable(),
  status: z.enum(['running', 'succeeded', 'failed', 'cancelled']),
  config: z.record(z.string(), anyJson),
  summary: anyJson,
  error: z.string().nullable(),
  startedAt: time,
  finishedAt: time.nullable(),
});

/** A version with the run it came from (lineage) and who points at it. */
export const versionDetail = z.object({
  version: modelVersion,
  aliases: z.array(z.string()),
  run: run.nullable(),
});

export const runMetricsByStep = z.object({
  runId: z.string(),
  /** One entry per step, in step order: every metric recorded at that step. */
  steps: z.array(z.object({ step: z.number().int(), time: time, metrics: z.record(z.string(), z.number()) })),
});

export const evaluation = z.object({
  id: z.string(),
  model: z.string(),
  version: z.number().int(),
  kind: z.string(),
  reportUri: z.string().nullable(),
  verdict: z.enum(['pass', 'fail', 'inconclusive']),
  summary: z.record(z.string(), anyJson),
  runId: z.string().nullable(),
  time: time,
});

export const auditRow = z.object({
  id: z.number().int(),
  time: time,
  actor: z.string(),
  action: z.string(),
  entity: z.string(),
  model: z.string().nullable(),
  entityKey: z.string().nullable(),
  before: anyJson,
  after: anyJson,
  dbRole: z.string().nullable(),
  keyId: z.string().nullable(),
});

/** A check of a driftMonitor run that found drift (`drift/detected` = 1), with that step's drift metrics. */
export const driftEvent = z.object({
  runId: z.string(),
  model: z.string().nullable(),
  workflowId: z.string().nullable(),
  step: z.number().int(),
  time: time,
  metrics: z.record(z.string(), z.number()),
});

/** Requests and reward per arm of a deployment over a window, from the decision log (decision-log/arms.ts). */
export const armStats = z.object({
  arm: z.string().describe('champion, canary, shadow, fallback or a bandit arm'),
  version: z.number().int().nullable(),
  requests: z.number().int().describe('decisions logged in the window'),
  rewarded: z.number().int().describe('of them, those with a reward (a shadow arm: none, it is not served)'),
  reward: z
    .object({ mean: z.number(), lower: z.number().nullable(), upper: z.number().nullable() })
    .nullable()
    .describe("mean reward of the rewarded decisions with its 95 % Student-t interval (null bounds below two rewards)"),
  latencyMs: z.number().nullable(),
});
export const deploymentArms = z.object({
  deployment: z.string(),
  window: z.string(),
  from: time,
  to: time,
  arms: z.array(armStats),
});

/** A run's registered version on the quality-vs-cost plane (the held-out metrics ppoTraining registers). */
export const paretoPoint = z.object({
  runId: z.string(),
  kind: z.enum(RUN_KINDS),
  workflowId: z.string().nullable(),
  model: z.string(),
  version: z.number().int(),
  quality: z.number(),
  costUsd: z.number(),
  reward: z.number().nullable().describe('held-out reward per step (metric eval_reward)'),
  latencyP95Ms: z.number().nullable(),
  pareto: z.boolean().describe('no other point has quality ≥ and cost ≤ (one strictly)'),
});
export const paretoAnswer = z.object({
  points: z.array(paretoPoint),
  /** Run ids of the Pareto-optimal points, by increasing cost. */
  frontier: z.array(z.string()),
});

/** canary/status.ts CanaryStatus (the workflow's `status` query, or its result once it ended). */
export const canaryStatus = z.object({
  model: z.string(),
  version: z.number().int(),
  championVersion: z.number().int().nullable(),
  phase: z.enum(CANARY_PHASES),
  canaryWeight: z.number(),
  stepIndex: z.number().int(),
  failedChecks: z.number().int(),
  iterations: z.number().int(),
  stepChecks: z.number().int(),
  stepStartedAt: time.nullable(),
  paused: z.boolean(),
  promoted: z.boolean(),
  /** canary/status.ts CheckResult records: gate values, reward delta and its interval. */
  lastChecks: z.array(z.record(z.string(), anyJson)),
  history: z.array(z.object({ at: z.string(), event: z.string(), detail: z.string() })),
  eventSeq: z.number().int(),
  message: z.string(),
});

export const canaryWorkflow = z.object({
  model: z.string(),
  workflowId: z.string(),
  runId: z.string().nullable(),
  /** Running, Completed, Failed, … (Temporal's execution status). */
  execution: z.string(),
  status: canaryStatus.nullable(),
});

export const apiKey = z.object({
  keyId: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  createdAt: time,
  createdBy: z.string(),
  expiresAt: time.nullable(),
  revokedAt: time.nullable(),
  revokedBy: z.string().nullable(),
});

// ── mutation bodies and answers ─────────────────────────────────────────────────────────────────────
const reason = z.string().min(1).max(1000).optional();

export const deployBody = z.strictObject({
  championVersion: versionNumber.nullable().optional(),
  canaryVersion: versionNumber.nullable().optional(),
  canaryWeight: z.number().min(0).max(100).optional(),
  kind: z.enum(DEPLOYMENT_KINDS).optional(),
  /** Optimistic concurrency: refused (409) unless the deployment is at this generation (0: none yet). */
  expectedGeneration: z.number().int().min(0).optional(),
  reason,
});
export const deployAnswer = z.object({
  deployment,
  changed: z.boolean(),
  statusChanges: z.array(z.object({ version: z.number().int(), from: z.enum(VERSION_STATUSES), to: z.enum(VERSION_STATUSES) })),
});

export const rollbackBody = z.strictObject({ toVersion: versionNumber.optional(), reason });
export const rollbackAnswer = z.object({ deployment, from: z.number().int(), to: z.number().int() });

export const aliasBody = z.strictObject({ version: versionNumber });
export const aliasAnswer = z.object({ alias, changed: z.boolean() });
export const aliasRemoveAnswer = z.object({ model: z.string(), alias: z.string(), removed: z.boolean() });

export const canaryStartBody = z.strictObject({
  version: versionNumber,
  /** The canary plan inline (configs/canary/default.yaml's fields; those left out take its values). */
  plan: canaryPlanSchema.optional(),
});
export const canaryStartAnswer = z.object({ model: z.string(), workflowId: z.string(), runId: z.string() });
export const canarySignalBody = z.strictObject({ reason });
export const canarySignalAnswer = z.object({ model: z.string(), workflowId: z.string(), signal: z.enum(['pause', 'resume', 'abort', 'promote']) });

export const keyCreateBody = z.strictObject({
  name: z.string().min(1).max(200),
  scopes: z.array(z.string()).min(1),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
  note: z.string().max(200).optional(),
});
export const keyCreateAnswer = z.object({ token: z.string(), key: apiKey });
export const keyRevokeBody = z.strictObject({ reason });
export const keyRevokeAnswer = z.object({ key: apiKey, changed: z.boolean() });

/** Where a key holds a scope: on every deployment, or on these models. */
const reach = z.object({ all: z.boolean(), models: z.array(z.string()) });
/** GET /v1/whoami: the caller's key and what it may read and change (auth off: everything, no key). */
export const whoami = z.object({ auth: z.boolean(), keyId: z.string().nullable(), read: reach, admin: reach });

export const health = z.object({ ok: z.boolean(), auth: z.boolean(), temporal: z.boolean(), temporalUi: z.string().nullable() });

export { KEY_SCOPES };
