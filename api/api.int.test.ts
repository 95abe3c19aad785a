/**
 * The control-plane API against real PostgreSQL and a real Temporal dev server running the real
 * canaryPromotion workflow (its activities are plain objects, as in workflows/canaryPromotion.int.test.ts:
 * the API only starts, signals and queries the workflow). Every exchange is validated against the
 * served OpenAPI document (api/testing/openapi-client.ts), and the last test demands that every operation
 * of the document answered 2xx at least once.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { canaryWorkflowId, statusQuery, type RollbackInput } from '../contracts/canary';
import type { CanaryPlanInput } from '../canary/plan';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { TEST_AUTHORIZATION, TEST_KEY_ID } from '../inference/testing/api-key';
import { DecisionStore } from '../decision-log';
import { newDecisionId } from '../inference/decisions/id';
import { createKey } from '../registry/keys';
import { startDevServer } from '../test/support/temporal';
import { ROUTES } from './routes';
import { startApiServer, type ApiServer } from './server';
import { standInCanaryActivities } from './testing/canary-stand-in';
import { OpenApiClient } from './testing/openapi-client';

const MODEL = 'ranker';
/** The canary waits an hour for its first check: it stays at 5% while the test drives it. */
const PLAN: CanaryPlanInput = { stepWeights: [5, 25, 50, 100], interval: '1h', checkInterval: '1h', threshold: 2 };

describe('control-plane API (PostgreSQL + Temporal dev server)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let api: ApiServer;
  let worker: Worker;
  let running: Promise<void>;
  let client: OpenApiClient;
  let readKey: string;
  let readOtherKey: string;
  let adminOtherKey: string;
  let runId: string;
  const rollbacks: RollbackInput[] = [];
  const taskQueue = `rollout-api-${randomUUID()}`;

  beforeAll(async () => {
    [env, fx] = await Promise.all([startDevServer(), createServingFixture()]);
    for (const seed of [1, 2, 3]) await fx.register(MODEL, seed);
    await fx.register('other', 4);
    await fx.deploy(MODEL, { champion: 1 });
    const bearer = async (scopes: string[]) => `Bearer ${(await createKey(fx.registry.db, { name: `api test ${scopes.join(' ')}`, scopes })).token}`;
    readKey = await bearer(['read']);
    readOtherKey = await bearer(['read:other']);
    adminOtherKey = await bearer(['read', 'admin:other']);

    // a training run with metrics by step, an evaluation, a drift-monitor run that found drift
    const run = await fx.registry.recordRun({ kind: 'ppo', model: MODEL, config: { lr: 0.0003 } });
    runId = run.id;
    await fx.registry.appendRunMetrics(runId, 0, { 'charts/episodic_return': 1.5, 'losses/approx_kl': 0.01 });
    await fx.registry.appendRunMetrics(runId, 1, { 'charts/episodic_return': 2.5, 'losses/approx_kl': 0.02 });
    await fx.registry.recordEvaluation({ model: MODEL, version: 2, kind: 'ope', verdict: 'pass', summary: { dr: 0.61 }, actor: 'test' });
    const drift = await fx.registry.recordRun({ id: `drift-monitor:${randomUUID()}`, kind: 'drift-monitor', model: MODEL, workflowId: 'drift/ranker' });
    await fx.registry.appendRunMetrics(drift.id, 0, { 'drift/detected': 0, 'drift/reference_n': 100 });
    await fx.registry.appendRunMetrics(drift.id, 1, { 'drift/detected': 1, 'drift/reference_n': 100, 'drift/feature/x/psi': 0.4 });

    const activities = standInCanaryActivities(rollbacks);
    worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowsPath: require.resolve('../workflows/canaryPromotion'), activities });
    running = worker.run();

    api = await startApiServer({ pool: fx.db.pool, databaseUrl: fx.db.url, temporal: env.client, port: 0, canaryTaskQueue: taskQueue, consoleDir: '/nonexistent/console', log: () => undefined });
    const doc = (await (await fetch(`${api.url}/openapi.json`)).json()) as ConstructorParameters<typeof OpenApiClient>[1];
    client = new OpenApiClient(api.url, doc, TEST_AUTHORIZATION);
  });

  afterAll(async () => {
    await api?.close();
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await fx?.close();
  });

  /** Audit rows of one action, newest last. */
  async function audit(action: string): Promise<{ key_id: string | null; actor: string; model: string | null }[]> {
    const { rows } = await fx.db.pool.query('SELECT key_id, actor, model FROM audit_log WHERE action = $1 ORDER BY id', [action]);
    return rows;
  }

  it('reads models, versions (metrics, tags, lineage, artifact), deployments and their history', async () => {
    const models = await client.call('GET', '/v1/models', { authorization: readKey });
    expect(models.status).toBe(200);
    expect(models.body.map((m: { name: string }) => m.name)).toEqual(['other', MODEL]);
    expect(models.body[1]).toMatchObject({ latestVersion: 3, championVersion: 1 });

    const model = await client.call('GET', `/v1/models/${MODEL}`, { authorization: readKey });
    expect(model.body.deployment).toMatchObject({ championVersion: 1, canaryVersion: null, generation: 1 });
    expect(model.body.aliases.map((a: { alias: string }) => a.alias)).toEqual(['champion']);

    const versions = await client.call('GET', `/v1/models/${MODEL}/versions`);
    expect(versions.body.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]); // newest first
    const v1 = await client.call('GET', `/v1/models/${MODEL}/versions/1`);
    expect(v1.body).toMatchObject({ version: { version: 1, status: 'champion', format: 'onnx', artifactLayout: 'file' }, aliases: ['champion'], run: null });
    expect(v1.body.version.sha256).toMatch(/^[0-9a-f]{64}$/);

    expect((await client.call('GET', '/v1/deployments')).body).toHaveLength(1);
    expect((await client.call('GET', `/v1/deployments/${MODEL}`)).body).toMatchObject({ model: MODEL, championVersion: 1 });
    const history = await client.call('GET', `/v1/deployments/${MODEL}/history`);
    expect(history.body.map((h: { action: string }) => h.action)).toEqual(['deployment.set']);
    expect((await client.call('GET', `/v1/deployments/${MODEL}/history?afterId=${history.body[0].id as number}`)).body).toEqual([]);

    expect((await client.call('GET', `/v1/models/nope`)).status).toBe(404);
    expect((await client.call('GET', `/v1/models/${MODEL}/versions/9`)).status).toBe(404);
    const bad = await client.call('GET', `/v1/models/${MODEL}/versions/zero`);
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe('path.version');
    // the key is checked before anything else of the request
    expect((await client.call('GET', `/v1/models/${MODEL}/versions/zero`, { authorization: null })).status).toBe(401);
  });

  it('requests and reward per arm of a deployment over a window, from the decision log', async () => {
    const store = new DecisionStore({ pool: fx.db.pool });
    const now = Date.now();
    const rows = [
      ...[0.2, 0.4, 0.6, 0.8].map((reward, i) => ({ arm: 'champion', version: 1, t: now - 60_000 * (i + 1), reward })),
      ...[1, 1.2].map((reward, i) => ({ arm: 'canary', version: 3, t: now - 90_000 * (i + 1), reward })),
      { arm: 'shadow', version: 3, t: now - 30_000, reward: null },
      { arm: 'champion', version: 1, t: now - 3 * 3_600_000, reward: 5 }, // outside 1h, inside 1d
    ];
    const ids = rows.map((r) => newDecisionId(r.t));
    await store.insertDecisions(rows.map((r, i) => ({ decisionId: ids[i], time: new Date(r.t), deployment: MODEL, model: MODEL, version: r.version, arm: r.arm, features: [0], action: 0, propensity: 1 })));
    await store.insertRewards(rows.flatMap((r, i) => (r.reward === null ? [] : [{ decisionId: ids[i], reward: r.reward }])));

    const hour = await client.call('GET', `/v1/deployments/${MODEL}/arms`, { authorization: readKey });
    expect(hour.status).toBe(200);
    expect(hour.body).toMatchObject({ deployment: MODEL, window: '1h' });
    expect(Date.parse(hour.body.to) - Date.parse(hour.body.from)).toBe(3_600_000);
    const [champion, canary, shadow] = hour.body.arms;
    expect(champion).toMatchObject({ arm: 'champion', version: 1, requests: 4, rewarded: 4 });
    // mean 0.5, s = 0.2582 (n = 4): t(0.975, 3) = 3.1824 → half-width 0.41085
    expect(champion.reward.mean).toBeCloseTo(0.5, 12);
    expect(champion.reward.lower).toBeCloseTo(0.5 - 0.41085, 4);
    expect(champion.reward.upper).toBeCloseTo(0.5 + 0.41085, 4);
    expect(canary).toMatchObject({ arm: 'canary', version: 3, requests: 2, rewarded: 2 });
    expect(canary.reward.mean).toBeCloseTo(1.1, 12);
    expect(shadow).toMatchObject({ arm: 'shadow', requests: 1, rewarded: 0, reward: null });

    const day = await client.call('GET', `/v1/deployments/${MODEL}/arms?window=1d`);
    expect(day.body.arms[0]).toMatchObject({ arm: 'champion', requests: 5, rewarded: 5 });
    expect((await client.call('GET', `/v1/deployments/${MODEL}/arms?window=8d`)).body.field).toBe('query.window');
    expect((await client.call('GET', `/v1/deployments/${MODEL}/arms?window=soon`)).status).toBe(400);
    expect((await client.call('GET', '/v1/deployments/nope/arms')).status).toBe(404);
  });

  it('whoami: the key and where it may read and change', async () => {
    expect((await client.call('GET', '/v1/whoami', { authorization: readKey })).body).toMatchObject({ auth: true, read: { all: true, models: [] }, admin: { all: false, models: [] } });
    expect((await client.call('GET', '/v1/whoami', { authorization: adminOtherKey })).body).toMatchObject({ read: { all: true }, admin: { all: false, models: ['other'] } });
    expect((await client.call('GET', '/v1/whoami')).body).toEqual({ auth: true, keyId: TEST_KEY_ID, read: { all: true, models: [] }, admin: { all: true, models: [] } });
    expect((await client.call('GET', '/v1/whoami', { authorization: null })).status).toBe(401);
  });

  it('reads runs with metrics by step, evaluations, drift events and the audit log', async () => {
    const runs = await client.call('GET', `/v1/runs?model=${MODEL}&kind=ppo`, { authorization: readKey });
    expect(runs.body.map((r: { id: string }) => r.id)).toEqual([runId]);
    expect((await client.call('GET', `/v1/runs/${runId}`)).body).toMatchObject({ kind: 'ppo', status: 'running', config: { lr: 0.0003 } });
    const metrics = await client.call('GET', `/v1/runs/${runId}/metrics`);
    expect(metrics.body.steps.map((s: { step: number; metrics: object }) => [s.step, s.metrics])).toEqual([
      [0, { 'charts/episodic_return': 1.5, 'losses/approx_kl': 0.01 }],
      [1, { 'charts/episodic_return': 2.5, 'losses/approx_kl': 0.02 }],
    ]);
    const only = await client.call('GET', `/v1/runs/${runId}/metrics?names=losses/approx_kl`);
    expect(only.body.steps[1].metrics).toEqual({ 'losses/approx_kl': 0.02 });

    const evaluations = await client.call('GET', `/v1/models/${MODEL}/evaluations?version=2`);
    expect(evaluations.body).toEqual([expect.objectContaining({ version: 2, kind: 'ope', verdict: 'pass', summary: { dr: 0.61 } })]);

    const drift = await client.call('GET', `/v1/drift?model=${MODEL}`);
    expect(drift.body).toEqual([expect.objectContaining({ model: MODEL, step: 1, metrics: { 'drift/detected': 1, 'drift/reference_n': 100, 'drift/feature/x/psi': 0.4 } })]);

    const log = await client.call('GET', `/v1/audit?model=${MODEL}&entity=version&limit=2`);
    expect(log.body.map((a: { action: string }) => a.action)).toEqual(['version.register', 'version.register']);
    const limitBad = await client.call('GET', '/v1/audit?limit=0');
    expect(limitBad).toMatchObject({ status: 400, body: { field: 'query.limit' } });
  });

  it('quality vs cost across runs: the Pareto-optimal versions marked, one sweep by its workflow id', async () => {
    const sweep = `sweep-${randomUUID()}`;
    // (quality, cost): c2 is dominated by c1 (higher cost, lower quality); c0, c1, c3 are the frontier
    const cells = [
      { quality: 0.6, cost_usd: 0.01, eval_reward: 0.4 },
      { quality: 0.7, cost_usd: 0.02, eval_reward: 0.5 },
      { quality: 0.65, cost_usd: 0.03, eval_reward: 0.45 },
      { quality: 0.8, cost_usd: 0.05, eval_reward: 0.55 },
    ];
    const runIds: string[] = [];
    for (const [i, metrics] of cells.entries()) {
      const r = await fx.registry.recordRun({ kind: 'ppo', model: `${sweep}-c${i}`, workflowId: `${sweep}/cell-${i}` });
      runIds.push(r.id);
      await fx.registry.registerVersion({ model: `${sweep}-c${i}`, artifact: { buffer: Buffer.from('{}') }, fileName: 'policy.json', format: 'json', metrics, lineage: { runId: r.id, workflowId: `${sweep}/cell-${i}` }, createModel: true, actor: 'test' });
    }
    const front = await client.call('GET', `/v1/pareto?sweep=${sweep}`, { authorization: readKey });
    expect(front.status).toBe(200);
    expect(front.body.frontier).toEqual([runIds[0], runIds[1], runIds[3]]);
    expect(front.body.points).toHaveLength(4);
    const byRun = new Map(front.body.points.map((p: { runId: string }) => [p.runId, p]));
    expect(byRun.get(runIds[2])).toMatchObject({ model: `${sweep}-c2`, version: 1, quality: 0.65, costUsd: 0.03, reward: 0.45, pareto: false, kind: 'ppo' });
    expect(byRun.get(runIds[3])).toMatchObject({ pareto: true, latencyP95Ms: null });
    // one model; a sweep id is matched literally (no LIKE wildcards)
    expect((await client.call('GET', `/v1/pareto?model=${sweep}-c2`)).body).toMatchObject({ frontier: [runIds[2]] });
    expect((await client.call('GET', `/v1/pareto?sweep=${sweep.slice(0, -1)}_`)).body).toEqual({ points: [], frontier: [] });
  });

  it('deploys, moves aliases and rolls back with an admin key; each change is audited with the key id', async () => {
    const deployed = await client.call('POST', `/v1/deployments/${MODEL}`, { body: { championVersion: 2, reason: 'better OPE' } });
    expect(deployed.status).toBe(200);
    expect(deployed.body).toMatchObject({ changed: true, deployment: { championVersion: 2, generation: 2 } });
    const stale = await client.call('POST', `/v1/deployments/${MODEL}`, { body: { canaryVersion: 3, canaryWeight: 5, expectedGeneration: 1 } });
    expect(stale.status).toBe(409);
    const badWeight = await client.call('POST', `/v1/deployments/${MODEL}`, { body: { canaryWeight: 101 }, invalidBody: true });
    expect(badWeight).toMatchObject({ status: 400, body: { field: 'body.canaryWeight' } });
    const unknownField = await client.call('POST', `/v1/deployments/${MODEL}`, { body: { champion: 2 }, invalidBody: true });
    expect(unknownField.status).toBe(400);

    expect((await client.call('PUT', `/v1/models/${MODEL}/aliases/staging`, { body: { version: 3 } })).body).toMatchObject({ changed: true, alias: { alias: 'staging', version: 3 } });
    expect((await client.call('PUT', `/v1/models/${MODEL}/aliases/champion`, { body: { version: 3 } })).status).toBe(400);
    expect((await client.call('DELETE', `/v1/models/${MODEL}/aliases/staging`)).body).toEqual({ model: MODEL, alias: 'staging', removed: true });
    expect((await client.call('DELETE', `/v1/models/${MODEL}/aliases/staging`)).status).toBe(404);

    const rolled = await client.call('POST', `/v1/deployments/${MODEL}/rollback`, { body: { reason: 'regression' } });
    expect(rolled.body).toMatchObject({ from: 2, to: 1, deployment: { championVersion: 1 } });
    expect((await client.call('GET', `/v1/deployments/${MODEL}/history`)).body.map((h: { action: string }) => h.action)).toEqual(['deployment.set', 'deployment.set', 'deployment.set', 'deployment.rollback']);

    for (const action of ['alias.set', 'alias.remove', 'deployment.rollback']) {
      expect(await audit(action)).toEqual([{ key_id: TEST_KEY_ID, actor: `api:key/${TEST_KEY_ID}`, model: MODEL }]);
    }
    // the fixture's deployment (registry, no key), the API's deploy and the rollback's own deployment change
    expect((await audit('deployment.set')).map((r) => r.key_id)).toEqual([null, TEST_KEY_ID, TEST_KEY_ID]);
  });

  it('manages API keys: create (token once), list, revoke; the new key works at once and stops after the revoke', async () => {
    const created = await client.call('POST', '/v1/keys', { body: { name: 'dashboard', scopes: ['read'] } });
    expect(created.status).toBe(201);
    const token = `Bearer ${created.body.token as string}`;
    const keyId = created.body.key.keyId as string;
    await waitFor(async () => (await client.call('GET', '/v1/models', { authorization: token })).status === 200, 10_000, 'the new key to be accepted');
    expect((await client.call('GET', '/v1/keys')).body.map((k: { keyId: string }) => k.keyId)).toContain(keyId);
    expect((await client.call('POST', '/v1/keys', { body: { name: 'x', scopes: ['root'] } })).body.field).toBe('scopes[0]');

    expect((await client.call('POST', `/v1/keys/${keyId}/revoke`, { body: { reason: 'test over' } })).body).toMatchObject({ changed: true, key: { keyId } });
    await waitFor(async () => (await client.call('GET', '/v1/models', { authorization: token })).status === 401, 10_000, 'the revoked key to be refused');
    for (const action of ['api_key.create', 'api_key.revoke']) expect((await audit(action)).some((r) => r.key_id === TEST_KEY_ID)).toBe(true);
  });

  it('starts a canary and pauses, resumes and aborts it through the API, observed with the workflow query', async () => {
    const handle = env.client.workflow.getHandle(canaryWorkflowId(MODEL));
    const started = await client.call('POST', `/v1/canaries/${MODEL}`, { body: { version: 3, plan: PLAN } });
    expect(started.status).toBe(201);
    expect(started.body.workflowId).toBe(`canary/${MODEL}`);
    await waitFor(async () => (await client.call('GET', `/v1/canaries/${MODEL}`, { authorization: readKey })).body.status?.canaryWeight === 5, 30_000, 'the canary at 5%');
    expect((await client.call('POST', `/v1/canaries/${MODEL}`, { body: { version: 3 } })).status).toBe(409);

    expect((await client.call('POST', `/v1/canaries/${MODEL}/pause`, { body: {} })).status).toBe(202);
    await waitFor(async () => (await handle.query(statusQuery)).paused, 10_000, 'the workflow to report paused');
    expect((await client.call('GET', `/v1/canaries/${MODEL}`)).body.status).toMatchObject({ paused: true, phase: 'Progressing' });

    await client.call('POST', `/v1/canaries/${MODEL}/resume`, { body: {} });
    await waitFor(async () => !(await handle.query(statusQuery)).paused, 10_000, 'the workflow to report resumed');

    await client.call('POST', `/v1/canaries/${MODEL}/abort`, { body: { reason: 'api test' } });
    await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', 30_000, 'the aborted canary to end');
    const ended = await client.call('GET', `/v1/canaries/${MODEL}`);
    expect(ended.body).toMatchObject({ execution: 'COMPLETED', status: { phase: 'Failed', canaryWeight: 0 } });
    expect(rollbacks).toEqual([expect.objectContaining({ model: MODEL, version: 3, reason: expect.stringContaining('api test') })]);
    expect((await client.call('POST', `/v1/canaries/${MODEL}/promote`, { body: {} })).status).toBe(404);

    for (const action of ['canary.start', 'canary.pause', 'canary.resume', 'canary.abort']) {
      expect(await audit(action)).toEqual([{ key_id: TEST_KEY_ID, actor: `api:key/${TEST_KEY_ID}`, model: MODEL }]);
    }
  });

  it('promotes a canary through the API', async () => {
    await client.call('POST', `/v1/canaries/${MODEL}`, { body: { version: 3, plan: PLAN } });
    await waitFor(async () => (await client.call('GET', `/v1/canaries/${MODEL}`)).body.status?.canaryWeight === 5, 30_000, 'the second canary at 5%');
    expect((await client.call('POST', `/v1/canaries/${MODEL}/promote`, { body: {} })).status).toBe(202);
    await waitFor(async () => (await client.call('GET', `/v1/canaries/${MODEL}`)).body.status?.promoted === true, 30_000, 'the promotion');
    expect((await audit('canary.promote')).map((r) => r.key_id)).toEqual([TEST_KEY_ID]);
  });

  describe('auth matrix: no key 401, a read key reads and may not change (403), a key scoped to another model 403', () => {
    const concrete = (path: string) =>
      path.replace(':model', MODEL).replace(':version', '1').replace(':alias', 'staging').replace(':keyId', 'aaaaaaaaaaaa').replace(':id', 'run-id');

    it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', async (_, r) => {
      const path = concrete(r.path).replace('run-id', runId);
      const body = r.body === undefined ? undefined : {};
      const none = await client.call(r.method, path, { authorization: null, body, invalidBody: true });
      expect(none.status).toBe(401);
      expect(none.body.field).toBe('headers.authorization');
      const garbage = await client.call(r.method, path, { authorization: 'Bearer apk_aaaaaaaaaaaa_nope', body, invalidBody: true });
      expect(garbage.status).toBe(401);

      const read = await client.call(r.method, path, { authorization: readKey, body, invalidBody: true });
      if (r.scope !== 'admin') expect(read.status).toBe(200);
      else {
        expect(read.status).toBe(403);
        expect(read.body.error).toContain('admin');
      }
      if (r.on === 'model') {
        expect((await client.call(r.method, path, { authorization: readOtherKey, body, invalidBody: true })).status).toBe(403);
        if (r.scope === 'admin') expect((await client.call(r.method, path, { authorization: adminOtherKey, body, invalidBody: true })).status).toBe(403);
      }
      if (r.on === 'filter') {
        // the filter names the model the key may read; without it, every deployment is needed
        const filtered = `${path}?model=other`;
        expect((await client.call(r.method, filtered, { authorization: readOtherKey })).status).toBe(200);
        expect((await client.call(r.method, path, { authorization: readOtherKey })).status).toBe(403);
      }
      if (r.scope === 'admin' && r.on === 'all') expect((await client.call(r.method, path, { authorization: adminOtherKey, body, invalidBody: true })).status).toBe(403);
    });

    it('the documents and /healthz need no key; an unknown route is a 404 in the error shape', async () => {
      expect((await client.call('GET', '/healthz', { authorization: null })).body).toEqual({ ok: true, auth: true, temporal: true, temporalUi: null });
      expect((await client.call('GET', '/openapi.json', { authorization: null })).body.openapi).toBe('3.1.0');
      expect((await client.call('GET', '/openapi/inference.json', { authorization: null })).body.paths['/v1/decide']).toBeDefined();
      const res = await fetch(`${api.url}/v1/nothing`);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ field: 'path' });
      const console = await fetch(`${api.url}/console/index.html`);
      expect(console.status).toBe(404);
      expect(((await console.json()) as { error: string }).error).toContain('console is not built');
    });

    it('with auth off, everything answers without a key (audited as api:anonymous) and a built console is served', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'ap-console-'));
      writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Autopilot</title>');
      const open = await startApiServer({ pool: fx.db.pool, databaseUrl: fx.db.url, temporal: null, port: 0, auth: false, consoleDir: dir, log: () => undefined });
      try {
        const anon = new OpenApiClient(open.url, (await (await fetch(`${open.url}/openapi.json`)).json()) as ConstructorParameters<typeof OpenApiClient>[1]);
        expect((await anon.call('GET', '/v1/models', { authorization: null })).status).toBe(200);
        expect((await anon.call('GET', '/v1/whoami', { authorization: null })).body).toEqual({ auth: false, keyId: null, read: { all: true, models: [] }, admin: { all: true, models: [] } });
        expect((await anon.call('PUT', `/v1/models/${MODEL}/aliases/anon`, { authorization: null, body: { version: 1 } })).status).toBe(200);
        expect(await audit('alias.set')).toContainEqual({ key_id: null, actor: 'api:anonymous', model: MODEL });
        const noTemporal = await anon.call('GET', `/v1/canaries/${MODEL}`, { authorization: null });
        expect(noTemporal.status).toBe(503);
        const page = await fetch(`${open.url}/console/index.html`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<title>Autopilot</title>');
      } finally {
        await open.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('`autopilot api --db-role autopilot_admin` runs as its own process and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [join(__dirname, '..', 'bin/autopilot'), 'api', '--port', '0', '--db-role', 'autopilot_admin'], {
      env: { ...process.env, AUTOPILOT_DATABASE_URL: fx.db.url, AUTOPILOT_TEMPORAL_ADDRESS: env.address, AUTOPILOT_DATA_DIR: mkdtempSync(join(tmpdir(), 'ap-api-data-')) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (err += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await waitFor(() => /control-plane API on (http:\/\/\S+) /.test(out) || child.exitCode !== null, 60_000, `autopilot api to listen (stderr: ${err})`);
      const url = /control-plane API on (http:\/\/\S+) /.exec(out)?.[1];
      expect(url).toBeDefined();
      const proc = new OpenApiClient(url!, (await (await fetch(`${url}/openapi.json`)).json()) as ConstructorParameters<typeof OpenApiClient>[1], readKey);
      expect((await proc.call('GET', '/healthz')).body).toEqual({ ok: true, auth: true, temporal: true, temporalUi: null });
      expect((await proc.call('GET', `/v1/models/${MODEL}`)).status).toBe(200);
      expect((await proc.call('GET', `/v1/models/${MODEL}`, { authorization: null })).status).toBe(401);
      // a change made by the process: its audit row names the database role it runs as and the key
      expect((await proc.call('PUT', `/v1/models/${MODEL}/aliases/by-process`, { authorization: TEST_AUTHORIZATION, body: { version: 1 } })).status).toBe(200);
      const { rows } = await fx.db.pool.query("SELECT db_role, key_id FROM audit_log WHERE action = 'alias.set' AND entity_key = $1", [`${MODEL}:by-process`]);
      expect(rows).toEqual([{ db_role: 'autopilot_admin', key_id: TEST_KEY_ID }]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('every operation of the document answered 2xx in this file', () => {
    expect(client.operations.filter((op) => !client.succeeded.has(op))).toEqual([]);
  });
});
