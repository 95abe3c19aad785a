/**
 * Every route of the control-plane API, once: method, path, the scope it needs, its zod schemas and its
 * handler. The server (./server.ts) registers them with fastify and the OpenAPI document (./openapi.ts)
 * is made from the same table, so the two cannot disagree.
 *
 * Reads need `read` (on the model named in the path or the `model` filter, or on every deployment for
 * an unfiltered list); mutations need `admin` on the model they change (key management: on every
 * deployment). Mutations run through the registry's own functions in a transaction that names the key
 * (`autopilot.key_id`, migration 018), so every audit row they write carries it.
 */
import type { Client } from '@temporalio/client';
import type { z } from 'zod';
import type { CanaryPlanInput } from '../canary/plan';
import type { Principal, ScopeReach } from '../inference/auth/principal';
import type { Registry } from '../registry';
import { armStats } from '../decision-log/arms';
import { paretoFrontier } from '../ml/pareto';
import { NotFoundError } from '../registry/errors';
import { createKey, listKeys, revokeKey } from '../registry/keys';
import { rollbackChampion } from '../registry/rollback';
import type { RunMetric } from '../registry/types';
import { readCanary, signalCanary, startCanaryWorkflow, type CanarySignalName } from './canary';
import type { HttpMethod } from './openapi/document';
import * as s from './schemas';

/** What a route's handler may use. */
export interface ApiDeps {
  registry: Registry;
  /** null: the API runs without Temporal (the canary routes answer 503). */
  temporal: Client | null;
  /** Task queue canaries are started on (default `rollout`). */
  canaryTaskQueue?: string;
}

export interface Caller {
  /** The API key's id (null when the API runs with auth off). */
  keyId: string | null;
  /** The key's scopes (null when the API runs with auth off). */
  principal: Principal | null;
  /** The audit row's actor: `api:key/<keyId>` or `api:anonymous`. */
  actor: string;
}

/** The deployment a route's scope is checked on (null: every deployment). */
export function scopeDeployment(r: Route, params: unknown, query: unknown): string | null {
  if (r.on === 'model') return (params as { model: string }).model;
  if (r.on === 'filter') return (query as { model?: string }).model ?? null;
  return null;
}

/** The scope a route needs: `read`, or `admin` for a change; `key`: any valid key (GET /v1/whoami). */
export type RouteScope = 'read' | 'admin' | 'key';

export interface Route<P = any, Q = any, B = any> {
  method: HttpMethod;
  path: string;
  summary: string;
  tags: string[];
  scope: RouteScope;
  /**
   * Where the scope is checked: on the path's model, on the `model` query filter (every deployment
   * when it is absent), or on every deployment (key management, runs by id).
   */
  on: 'model' | 'filter' | 'all';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  status: number;
  response: z.ZodType;
  /** Errors this route can answer besides 400/401/403/500 (e.g. 404, 409, 503). */
  errors?: number[];
  /** A route that changes state: audited, with the caller's key. */
  mutation?: boolean;
  /** `body` as parsed by the route's schema; `rawBody` as sent (JSON.parse'd). */
  handler: (input: { params: P; query: Q; body: B; rawBody: unknown; caller: Caller; deps: ApiDeps }) => Promise<unknown>;
}

function reachOf(r: ScopeReach): { all: boolean; models: string[] } {
  return { all: r.all, models: r.all ? [] : [...r.on].sort() };
}

function route<P, Q, B>(r: Route<P, Q, B>): Route {
  return r as Route;
}


function temporalOf(deps: ApiDeps): Client {
  if (deps.temporal === null) throw new TemporalUnavailable();
  return deps.temporal;
}

/** The canary routes of an API started without a Temporal connection (503). */
export class TemporalUnavailable extends Error {
  constructor() {
    super('this API process has no Temporal connection (set AUTOPILOT_TEMPORAL_ADDRESS and restart it)');
  }
}

/** Runs `fn` in one registry transaction whose audit rows carry the caller's key id (migration 018). */
function asCaller<T>(deps: ApiDeps, caller: Caller, fn: (tx: Registry) => Promise<T>): Promise<T> {
  return deps.registry.transaction(async (tx) => {
    if (caller.keyId !== null) await tx.db.query(`SELECT set_config('autopilot.key_id', $1, true)`, [caller.keyId]);
    return fn(tx);
  });
}

/** Run metrics, one entry per step. */
function byStep(rows: RunMetric[]): { step: number; time: Date; metrics: Record<string, number> }[] {
  const out: { step: number; time: Date; metrics: Record<string, number> }[] = [];
  for (const r of rows) {
    let last = out[out.length - 1];
    if (last === undefined || last.step !== r.step) {
      last = { step: r.step, time: r.time, metrics: {} };
      out.push(last);
    }
    last.metrics[r.name] = r.value;
    if (r.time > last.time) last.time = r.time;
  }
  return out;
}

function canarySignalRoute(signal: CanarySignalName, summary: string): Route {
  return route<{ model: string }, unknown, z.infer<typeof s.canarySignalBody>>({
    method: 'POST',
    path: `/v1/canaries/:model/${signal}`,
    summary,
    tags: ['canaries'],
    scope: 'admin',
    mutation: true,
    on: 'model',
    params: s.modelParams,
    body: s.canarySignalBody,
    status: 202,
    response: s.canarySignalAnswer,
    errors: [404, 503],
    handler: async ({ params, body, caller, deps }) => {
      const client = temporalOf(deps);
      const workflowId = `canary/${params.model}`;
      // The audit row commits only if the signal was delivered (it is sent inside the transaction).
      await asCaller(deps, caller, async (tx) => {
        await tx.appendAudit({ actor: caller.actor, keyId: caller.keyId, action: `canary.${signal}`, entity: 'canary', model: params.model, entityKey: workflowId, after: body.reason ? { reason: body.reason } : null });
        await signalCanary(client, params.model, signal, caller.actor, body.reason);
      });
      return { model: params.model, workflowId, signal };
    },
  });
}

export const ROUTES: Route[] = [
  route({
    method: 'GET', path: '/v1/whoami', summary: "the caller's API key and where it may read and change (what the console shows and hides)", tags: ['keys'], scope: 'key', on: 'all',
    status: 200, response: s.whoami,
    handler: async ({ caller }) => {
      const p = caller.principal;
      if (p === null) return { auth: false, keyId: null, read: { all: true, models: [] }, admin: { all: true, models: [] } };
      return { auth: true, keyId: p.keyId, read: reachOf(p.read), admin: reachOf(p.admin) };
    },
  }),

  // ── models and versions ─────────────────────────────────────────────────────────────────────────
  route({
    method: 'GET', path: '/v1/models', summary: 'every model with its deployment state', tags: ['models'], scope: 'read', on: 'all',
    status: 200, response: s.modelSummary.array(),
    handler: ({ deps }) => deps.registry.listModels(),
  }),
  route<{ model: string }, unknown, unknown>({
    method: 'GET', path: '/v1/models/:model', summary: 'a model, its aliases and its deployment', tags: ['models'], scope: 'read', on: 'model',
    params: s.modelParams, status: 200, response: s.modelDetail, errors: [404],
    handler: async ({ params, deps }) => {
      const [model, aliases, deployment] = await Promise.all([deps.registry.getModel(params.model), deps.registry.listAliases(params.model), deps.registry.findDeployment(params.model)]);
      return { model, aliases, deployment };
    },
  }),
  route<{ model: string }, unknown, unknown>({
    method: 'GET', path: '/v1/models/:model/versions', summary: "a model's versions (metrics, tags, lineage, artifact)", tags: ['models'], scope: 'read', on: 'model',
    params: s.modelParams, status: 200, response: s.modelVersion.array(), errors: [404],
    handler: async ({ params, deps }) => {
      await deps.registry.getModel(params.model); // 404 for an unknown model, not []
      return deps.registry.listVersions(params.model);
    },
  }),
  route<{ model: string; version: number }, unknown, unknown>({
    method: 'GET', path: '/v1/models/:model/versions/:version', summary: 'one version, the aliases on it and the run it came from (lineage)', tags: ['models'], scope: 'read', on: 'model',
    params: s.versionParams, status: 200, response: s.versionDetail, errors: [404],
    handler: async ({ params, deps }) => {
      const [version, aliases] = await Promise.all([deps.registry.getVersion(params.model, params.version), deps.registry.listAliases(params.model)]);
      let run = null;
      if (version.lineage.runId !== null) {
        try {
          run = await deps.registry.getRun(version.lineage.runId);
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err; // lineage may name a run recorded elsewhere
        }
      }
      return { version, aliases: aliases.filter((a) => a.version === params.version).map((a) => a.alias), run };
    },
  }),
  route<{ model: string }, { version?: number }, unknown>({
    method: 'GET', path: '/v1/models/:model/evaluations', summary: "a model's evaluations (offline and off-policy), optionally of one version", tags: ['models'], scope: 'read', on: 'model',
    params: s.modelParams, query: s.evaluationsQuery, status: 200, response: s.evaluation.array(),
    handler: ({ params, query, deps }) => deps.registry.listEvaluations(params.model, query.version),
  }),
  route<{ model: string; alias: string }, unknown, z.infer<typeof s.aliasBody>>({
    method: 'PUT', path: '/v1/models/:model/aliases/:alias', summary: 'point an alias at a version (champion and canary follow the deployment)', tags: ['models'], scope: 'admin', mutation: true, on: 'model',
    params: s.aliasParams, body: s.aliasBody, status: 200, response: s.aliasAnswer, errors: [404],
    handler: ({ params, body, caller, deps }) => asCaller(deps, caller, (tx) => tx.setAlias({ model: params.model, alias: params.alias, version: body.version, actor: caller.actor })),
  }),
  route<{ model: string; alias: string }, unknown, unknown>({
    method: 'DELETE', path: '/v1/models/:model/aliases/:alias', summary: 'remove an alias', tags: ['models'], scope: 'admin', mutation: true, on: 'model',
    params: s.aliasParams, status: 200, response: s.aliasRemoveAnswer, errors: [404],
    handler: async ({ params, caller, deps }) => {
      await asCaller(deps, caller, (tx) => tx.removeAlias({ model: params.model, alias: params.alias, actor: caller.actor }));
      return { model: params.model, alias: params.alias, removed: true };
    },
  }),

  // ── deployments ─────────────────────────────────────────────────────────────────────────────────
  route({
    method: 'GET', path: '/v1/deployments', summary: 'every deployment (champion, canary, weight, generation)', tags: ['deployments'], scope: 'read', on: 'all',
    status: 200, response: s.deployment.array(),
    handler: ({ deps }) => deps.registry.listDeployments(),
  }),
  route<{ model: string }, unknown, unknown>({
    method: 'GET', path: '/v1/deployments/:model', summary: 'one deployment', tags: ['deployments'], scope: 'read', on: 'model',
    params: s.modelParams, status: 200, response: s.deployment, errors: [404],
    handler: ({ params, deps }) => deps.registry.getDeployment(params.model),
  }),
  route<{ model: string }, z.infer<typeof s.pageQuery>, unknown>({
    method: 'GET', path: '/v1/deployments/:model/history', summary: "the deployment's generations: every audited change (before and after), oldest first (afterId, limit: pages of at most 1000 by default)", tags: ['deployments'], scope: 'read', on: 'model',
    params: s.modelParams, query: s.pageQuery, status: 200, response: s.auditRow.array(),
    handler: ({ params, query, deps }) => deps.registry.listAudit({ model: params.model, entity: 'deployment', ...query }),
  }),
  route<{ model: string }, z.infer<typeof s.armsQuery>, unknown>({
    method: 'GET', path: '/v1/deployments/:model/arms', summary: 'requests and reward (mean, 95 % interval) per arm over a window back from now, from the decision log (read by day partition)', tags: ['deployments'], scope: 'read', on: 'model',
    params: s.modelParams, query: s.armsQuery, status: 200, response: s.deploymentArms, errors: [404],
    handler: async ({ params, query, deps }) => {
      await deps.registry.getDeployment(params.model); // 404 for an unknown deployment, not []
      const window = query.window ?? '1h';
      const to = new Date();
      const from = new Date(to.getTime() - s.windowMs(window));
      return { deployment: params.model, window, from, to, arms: await armStats(deps.registry.db, { deployment: params.model, from, to }) };
    },
  }),
  route<{ model: string }, unknown, z.infer<typeof s.deployBody>>({
    method: 'POST', path: '/v1/deployments/:model', summary: 'deploy: set champion, canary and canary weight (fields left out keep their value)', tags: ['deployments'], scope: 'admin', mutation: true, on: 'model',
    params: s.modelParams, body: s.deployBody, status: 200, response: s.deployAnswer, errors: [404, 409],
    handler: async ({ params, body, caller, deps }) => {
      const r = await asCaller(deps, caller, (tx) => tx.setDeployment({ model: params.model, ...body, actor: caller.actor }));
      return { deployment: r.deployment, changed: r.changed, statusChanges: r.statusChanges };
    },
  }),
  route<{ model: string }, unknown, z.infer<typeof s.rollbackBody>>({
    method: 'POST', path: '/v1/deployments/:model/rollback', summary: 'make the previous champion (or toVersion) champion again, at once', tags: ['deployments'], scope: 'admin', mutation: true, on: 'model',
    params: s.modelParams, body: s.rollbackBody, status: 200, response: s.rollbackAnswer, errors: [404, 409],
    handler: async ({ params, body, caller, deps }) => {
      const r = await asCaller(deps, caller, (tx) => rollbackChampion(tx.db, { model: params.model, toVersion: body.toVersion, reason: body.reason, actor: caller.actor }));
      return { deployment: r.deployment, from: r.from, to: r.to };
    },
  }),

  // ── canaries (Temporal) ─────────────────────────────────────────────────────────────────────────
  route<{ model: string }, unknown, unknown>({
    method: 'GET', path: '/v1/canaries/:model', summary: "the canary workflow of a model: its status query (phase, weight, checks, history)", tags: ['canaries'], scope: 'read', on: 'model',
    params: s.modelParams, status: 200, response: s.canaryWorkflow, errors: [404, 503],
    handler: ({ params, deps }) => readCanary(temporalOf(deps), params.model),
  }),
  route<{ model: string }, unknown, z.infer<typeof s.canaryStartBody>>({
    method: 'POST', path: '/v1/canaries/:model', summary: 'start the canaryPromotion workflow of a version', tags: ['canaries'], scope: 'admin', mutation: true, on: 'model',
    params: s.modelParams, body: s.canaryStartBody, status: 201, response: s.canaryStartAnswer, errors: [409, 503],
    handler: async ({ params, body, rawBody, caller, deps }) => {
      const client = temporalOf(deps);
      // The plan was checked by its schema (canary/plan.ts); the workflow gets it as sent (durations as text).
      const plan = (rawBody as { plan?: CanaryPlanInput }).plan;
      return asCaller(deps, caller, async (tx) => {
        await tx.appendAudit({ actor: caller.actor, keyId: caller.keyId, action: 'canary.start', entity: 'canary', model: params.model, entityKey: `canary/${params.model}`, after: { version: body.version, plan: plan ?? null } });
        const handle = await startCanaryWorkflow(client, { model: params.model, version: body.version, plan, actor: caller.actor }, deps.canaryTaskQueue);
        return { model: params.model, workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
      });
    },
  }),
  canarySignalRoute('pause', 'pause the canary: no checks and no weight changes until resumed (abort still works)'),
  canarySignalRoute('resume', 'resume a paused canary'),
  canarySignalRoute('abort', 'roll the canary back now, in any phase (after its promotion too)'),
  canarySignalRoute('promote', 'skip the remaining steps and promote now'),

  // ── runs, evaluations, drift, audit ─────────────────────────────────────────────────────────────
  route<unknown, z.infer<typeof s.runsQuery>, unknown>({
    method: 'GET', path: '/v1/runs', summary: 'training and monitoring runs, newest first', tags: ['runs'], scope: 'read', on: 'filter',
    query: s.runsQuery, status: 200, response: s.run.array(),
    handler: ({ query, deps }) => deps.registry.listRuns(query),
  }),
  route<{ id: string }, unknown, unknown>({
    method: 'GET', path: '/v1/runs/:id', summary: 'one run', tags: ['runs'], scope: 'read', on: 'all',
    params: s.runParams, status: 200, response: s.run, errors: [404],
    handler: ({ params, deps }) => deps.registry.getRun(params.id),
  }),
  route<{ id: string }, z.infer<typeof s.runMetricsQuery>, unknown>({
    method: 'GET', path: '/v1/runs/:id/metrics', summary: "a run's metrics by step (names: comma-separated filter)", tags: ['runs'], scope: 'read', on: 'all',
    params: s.runParams, query: s.runMetricsQuery, status: 200, response: s.runMetricsByStep, errors: [404],
    handler: async ({ params, query, deps }) => {
      await deps.registry.getRun(params.id);
      const names = query.names?.split(',').map((n) => n.trim()).filter((n) => n !== '');
      return { runId: params.id, steps: byStep(await deps.registry.readRunMetrics(params.id, names)) };
    },
  }),
  route<unknown, z.infer<typeof s.paretoQuery>, unknown>({
    method: 'GET', path: '/v1/pareto', summary: "quality vs cost across runs: each run's registered version with held-out metrics quality and cost_usd, the Pareto-optimal ones (quality ↑, cost ↓) marked; sweep: one sweep's cells", tags: ['runs'], scope: 'read', on: 'filter',
    query: s.paretoQuery, status: 200, response: s.paretoAnswer,
    handler: async ({ query, deps }) => {
      const params: unknown[] = [];
      const where = ["v.metrics ? 'quality'", "v.metrics ? 'cost_usd'"];
      if (query.model !== undefined) where.push(`v.model = $${params.push(query.model)}`);
      if (query.sweep !== undefined) where.push(`r.workflow_id LIKE $${params.push(`${query.sweep.replace(/[\\%_]/g, '\\$&')}/cell-%`)}`);
      const { rows } = await deps.registry.db.query<{ run_id: string; kind: string; workflow_id: string | null; model: string; version: number; metrics: Record<string, number> }>(
        `SELECT v.run_id, r.kind, r.workflow_id, v.model, v.version, v.metrics
           FROM model_versions v JOIN runs r ON r.id = v.run_id
          WHERE ${where.join(' AND ')}
          ORDER BY v.created_at DESC, v.model, v.version DESC LIMIT ${query.limit ?? 1000}`,
        params,
      );
      const finite = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
      const points = rows
        .map((r) => ({ runId: r.run_id, kind: r.kind, workflowId: r.workflow_id, model: r.model, version: r.version, quality: finite(r.metrics.quality), costUsd: finite(r.metrics.cost_usd), reward: finite(r.metrics.eval_reward), latencyP95Ms: finite(r.metrics.latency_p95_ms), pareto: false }))
        .filter((p): p is typeof p & { quality: number; costUsd: number } => p.quality !== null && p.costUsd !== null);
      const front = paretoFrontier(points.map((p) => ({ quality: p.quality, cost: p.costUsd })));
      for (const i of front) points[i].pareto = true;
      return { points, frontier: front.map((i) => points[i].runId) };
    },
  }),
  route<unknown, z.infer<typeof s.driftQuery>, unknown>({
    method: 'GET', path: '/v1/drift', summary: 'drift detected by driftMonitor runs (checks with drift/detected = 1), newest first', tags: ['runs'], scope: 'read', on: 'filter',
    query: s.driftQuery, status: 200, response: s.driftEvent.array(),
    handler: async ({ query, deps }) => {
      const params: unknown[] = [];
      const model = query.model === undefined ? '' : `AND r.model = $${params.push(query.model)}`;
      const { rows } = await deps.registry.db.query<{ run_id: string; model: string | null; workflow_id: string | null; step: string; time: Date; metrics: Record<string, number> }>(
        `SELECT d.run_id, r.model, r.workflow_id, d.step, d.time,
                (SELECT jsonb_object_agg(m.name, m.value) FROM run_metrics m WHERE m.run_id = d.run_id AND m.step = d.step AND m.name LIKE 'drift/%') AS metrics
           FROM run_metrics d JOIN runs r ON r.id = d.run_id
          WHERE r.kind = 'drift-monitor' AND d.name = 'drift/detected' AND d.value = 1 ${model}
          ORDER BY d.time DESC, d.step DESC LIMIT ${query.limit ?? 1000}`,
        params,
      );
      return rows.map((r) => ({ runId: r.run_id, model: r.model, workflowId: r.workflow_id, step: Number(r.step), time: r.time, metrics: r.metrics }));
    },
  }),
  route<unknown, z.infer<typeof s.auditQuery>, unknown>({
    method: 'GET', path: '/v1/audit', summary: 'the audit log, oldest first (afterId pages; keyId: the API key that made the change)', tags: ['audit'], scope: 'read', on: 'filter',
    query: s.auditQuery, status: 200, response: s.auditRow.array(),
    handler: ({ query, deps }) => deps.registry.listAudit(query),
  }),

  // ── API keys ────────────────────────────────────────────────────────────────────────────────────
  route({
    method: 'GET', path: '/v1/keys', summary: 'API keys (ids, scopes, state; never secrets)', tags: ['keys'], scope: 'admin', on: 'all',
    status: 200, response: s.apiKey.array(),
    handler: ({ deps }) => listKeys(deps.registry.db),
  }),
  route<unknown, unknown, z.infer<typeof s.keyCreateBody>>({
    method: 'POST', path: '/v1/keys', summary: 'create an API key; its token is in this answer only', tags: ['keys'], scope: 'admin', mutation: true, on: 'all',
    body: s.keyCreateBody, status: 201, response: s.keyCreateAnswer,
    handler: ({ body, caller, deps }) =>
      asCaller(deps, caller, (tx) => createKey(tx.db, { name: body.name, scopes: body.scopes, expiresAt: body.expiresAt === undefined ? null : new Date(body.expiresAt), note: body.note ?? caller.actor })),
  }),
  route<{ keyId: string }, unknown, z.infer<typeof s.keyRevokeBody>>({
    method: 'POST', path: '/v1/keys/:keyId/revoke', summary: 'revoke an API key (servers refuse it within about a second)', tags: ['keys'], scope: 'admin', mutation: true, on: 'all',
    params: s.keyParams, body: s.keyRevokeBody, status: 200, response: s.keyRevokeAnswer, errors: [404],
    handler: ({ params, body, caller, deps }) => asCaller(deps, caller, (tx) => revokeKey(tx.db, params.keyId, { note: body.reason ?? caller.actor })),
  }),
];
