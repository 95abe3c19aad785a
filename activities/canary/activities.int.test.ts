/**
 * The canary activities against real PostgreSQL (a fresh migrated database, real ONNX versions
 * registered in a filesystem artifact store) and a real local HTTP server for the webhooks.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { TEST_AUTHORIZATION } from '../../inference/testing/api-key';
import { Rng } from '../../ml/rng';
import { rollbackChampion } from '../../registry/rollback';
import type { CheckInput } from '../../contracts/canary';
import { createCanaryActivities } from './activities';
import { validateCanaryPlan } from './plan-config';

describe('canary activities on PostgreSQL', () => {
  let fx: ServingFixture;
  let acts: ReturnType<typeof createCanaryActivities>;
  let hooks: Server;
  let hookUrl: string;
  const received: { headers: IncomingHttpHeaders; body: string }[] = [];

  beforeAll(async () => {
    fx = await createServingFixture();
    acts = createCanaryActivities({ pool: fx.db.pool });
    hooks = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') }));
      const delay = req.url === '/slow' ? 2000 : 0;
      setTimeout(() => {
        res.statusCode = req.url === '/fail' ? 500 : 200;
        res.end('{}');
      }, delay);
    });
    await new Promise<void>((r) => hooks.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hooks?.closeAllConnections();
    await new Promise((r) => hooks?.close(r));
    await fx?.close();
  });

  async function model(name: string) {
    const a = await fx.register(name, 1);
    const b = await fx.register(name, 2);
    await fx.deploy(name, { champion: a.version });
    return { champion: a.version, canary: b.version };
  }

  it('initialize puts the canary in at 0%; setWeight is a no-op for the same target and refuses a foreign canary', async () => {
    const { canary } = await model('act-weights');
    const init = await acts.canaryInitialize({ model: 'act-weights', version: canary, plan: { stepWeights: [10, 100] }, actor: 'test' });
    expect(init.plan.stepWeights).toEqual([10, 100]);
    expect(init.championVersion).toBe(1);
    let d = await fx.registry.getDeployment('act-weights');
    expect(d).toMatchObject({ canaryVersion: canary, canaryWeight: 0 });
    const first = await acts.canarySetWeight({ model: 'act-weights', version: canary, weight: 10, actor: 'test' });
    const again = await acts.canarySetWeight({ model: 'act-weights', version: canary, weight: 10, actor: 'test' });
    expect(first.changed).toBe(true);
    expect(again).toEqual({ generation: first.generation, changed: false });
    // a retried initialize keeps the weight
    await acts.canaryInitialize({ model: 'act-weights', version: canary, actor: 'test' });
    d = await fx.registry.getDeployment('act-weights');
    expect(d.canaryWeight).toBe(10);
    await fx.deploy('act-weights', { canary: null });
    await expect(acts.canarySetWeight({ model: 'act-weights', version: canary, weight: 25, actor: 'test' })).rejects.toMatchObject({
      nonRetryable: true,
      message: 'deployment act-weights: its canary is gone, not v2; it was changed outside this canary',
    });
    await expect(acts.canaryInitialize({ model: 'act-weights', version: 1, actor: 'test' })).rejects.toMatchObject({
      nonRetryable: true,
      message: 'version: got 1; expected a version other than the champion (v1)',
    });
    await expect(acts.canaryInitialize({ model: 'act-weights', version: canary, plan: { threshold: 0 }, actor: 'test' })).rejects.toMatchObject({
      nonRetryable: true,
      message: 'input.plan: threshold: got 0, expected >= 1',
    });
  });

  it('check reads both arms of the window in pages and judges them; an ejection is a breach', async () => {
    const { canary } = await model('act-check');
    await acts.canaryInitialize({ model: 'act-check', version: canary, actor: 'test' });
    const rng = new Rng(11);
    const t0 = new Date(Date.now() - 60_000);
    const decisions = [];
    const rewards: { decisionId: string; reward: number; components: Record<string, number> }[] = [];
    for (let i = 0; i < 12_000; i++) {
      const arm = i % 2 === 0 ? 'champion' : 'canary';
      const id = randomUUID();
      decisions.push({ decisionId: id, time: new Date(t0.getTime() + i), deployment: 'act-check', model: 'act-check', version: arm === 'champion' ? 1 : canary, arm, features: [], action: {}, latencyMs: 2 });
      const mean = arm === 'champion' ? 0.6 : 0.45;
      rewards.push({ decisionId: id, reward: mean + 0.1 * rng.normal(), components: { error: 0, latency_ms: 100 + 50 * rng.uniform() } });
    }
    await fx.decisions.insertDecisions(decisions);
    for (let i = 0; i < rewards.length; i += 500) await Promise.all(rewards.slice(i, i + 500).map((r) => fx.decisions.insertReward(r)));
    const plan = validateCanaryPlan({ minSamples: 100, analysis: { nBootstrap: 2000 } });
    const input: CheckInput = { model: 'act-check', version: canary, arm: 'canary', from: new Date(t0.getTime() - 1).toISOString(), comparison: 'non-inferiority', decisionLook: 1, bakeMs: plan.intervalsMs[0], minSamples: 100, plan };
    const r = await acts.canaryCheck(input);
    expect(r.samples).toEqual({ champion: 6000, canary: 6000 });
    expect(r.outcome).toBe('fail');
    expect(r.breach).toBe(false);
    expect(r.delta!.estimate).toBeCloseTo(-0.15, 1);
    expect(r.reasons[0]).toMatch(/^reward worse than the champion by more than 0.02/);
    expect(r.metrics.find((m) => m.name === 'latency_p95_ms')).toMatchObject({ ok: true, source: 'reward component latency_ms' });
    expect(r.burnRate[0]).toMatchObject({ firing: false, longBurn: 0 });

    await fx.registry.appendAudit({ actor: 'inference:test', action: 'canary.ejected', entity: 'deployment', model: 'act-check', entityKey: 'act-check', before: { canaryVersion: canary }, after: { reason: 'run-time error: boom' } });
    const ejected = await acts.canaryCheck(input);
    expect(ejected).toMatchObject({ outcome: 'fail', breach: true });
    expect(ejected.reasons[0]).toBe(`canary v${canary} ejected by inference:test: run-time error: boom`);
  });

  it('rollback takes the canary out, rejects it and audits; promote and rollbackChampion round-trip', async () => {
    const { champion, canary } = await model('act-roll');
    await acts.canaryInitialize({ model: 'act-roll', version: canary, actor: 'test' });
    await acts.canarySetWeight({ model: 'act-roll', version: canary, weight: 25, actor: 'test' });
    await acts.canaryRollback({ model: 'act-roll', version: canary, reason: 'error_rate 0.2 outside [-inf, 0.01]', actor: 'test' });
    await acts.canaryRollback({ model: 'act-roll', version: canary, reason: 'retried', actor: 'test' });
    expect(await fx.registry.getDeployment('act-roll')).toMatchObject({ championVersion: champion, canaryVersion: null, canaryWeight: 0 });
    expect((await fx.registry.getVersion('act-roll', canary)).status).toBe('rejected');
    const audit = await fx.registry.listAudit({ model: 'act-roll', action: 'canary.rollback' });
    expect(audit[0].after).toMatchObject({ reason: 'error_rate 0.2 outside [-inf, 0.01]' });

    const third = await fx.register('act-roll', 3);
    await acts.canaryInitialize({ model: 'act-roll', version: third.version, actor: 'test' });
    const p = await acts.canaryPromote({ model: 'act-roll', version: third.version, actor: 'test', reason: 'all steps passed' });
    expect(p.previousChampion).toBe(champion);
    expect(await acts.canaryPromote({ model: 'act-roll', version: third.version, actor: 'test', reason: 'retry' })).toMatchObject({ previousChampion: champion });
    expect((await fx.registry.getVersion('act-roll', champion)).status).toBe('registered');
    expect((await fx.registry.getVersion('act-roll', third.version)).status).toBe('champion');

    const back = await rollbackChampion(fx.registry.db, { model: 'act-roll', actor: 'cli:test' });
    expect(back).toMatchObject({ from: third.version, to: champion });
    expect((await fx.registry.getDeployment('act-roll')).championVersion).toBe(champion);
    expect((await fx.registry.getVersion('act-roll', third.version)).status).toBe('rejected');
    expect((await fx.registry.listAudit({ model: 'act-roll', action: 'deployment.rollback' }))[0].after).toMatchObject({ championVersion: champion });
    await expect(rollbackChampion(fx.registry.db, { model: 'act-roll', actor: 'cli:test', toVersion: champion })).rejects.toThrow('deployment act-roll: v1 is already the champion; nothing to roll back');
  });

  it('webhooks report success, HTTP errors and timeouts as values', async () => {
    const call = (path: string, timeoutMs = 1000) => acts.canaryWebhook({ type: 'rollback', name: 'rb', url: `${hookUrl}${path}`, timeoutMs, payload: { model: 'm' } });
    expect(await call('/ok')).toMatchObject({ ok: true, status: 200, error: null });
    expect(await call('/fail')).toMatchObject({ ok: false, status: 500, error: 'HTTP 500' });
    expect(await call('/slow', 200)).toMatchObject({ ok: false, status: null, error: 'no complete answer within 200 ms' });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = await acts.canaryWebhook({ type: 'rollback', name: 'rb', url: `http://127.0.0.1:${port}/x`, timeoutMs: 1000, payload: {} });
    expect(refused.ok).toBe(false);
    expect(refused.error).toMatch(/ECONNREFUSED/);
  });

  it('webhooks are signed with the worker\'s secret and carry the plan\'s metadata; a host off the allow-list is refused at initialize', async () => {
    const secret = 'canary-secret-0123456789';
    const signed = createCanaryActivities({ pool: fx.db.pool, outbound: { secret, allowedHosts: ['127.0.0.1'], maxResponseBytes: 1024, prometheusUrl: null } });
    received.length = 0;
    const r = await signed.canaryWebhook({ type: 'confirm-promotion', name: 'gate', url: `${hookUrl}/ok`, timeoutMs: 1000, payload: { model: 'm', version: 2 }, metadata: { ticket: 'CHG-42' } });
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    expect(JSON.parse(body)).toEqual({ type: 'confirm-promotion', name: 'gate', model: 'm', version: 2, metadata: { ticket: 'CHG-42' } });
    expect(headers['x-autopilot-event']).toBe('canary.confirm-promotion');
    expect(headers['x-autopilot-signature']).toBe(`sha256=${createHmac('sha256', secret).update(`${headers['x-autopilot-timestamp']}.${body}`).digest('hex')}`);

    const { canary } = await model('act-hosts');
    const strict = createCanaryActivities({ pool: fx.db.pool, outbound: { secret, allowedHosts: ['hooks.example.com'], maxResponseBytes: 1024, prometheusUrl: null } });
    await expect(strict.canaryInitialize({ model: 'act-hosts', version: canary, plan: { webhooks: [{ type: 'rollback', url: `${hookUrl}/rb` }] }, actor: 'test' })).rejects.toMatchObject({
      nonRetryable: true,
      message: `input.plan.webhooks.0.url: got "${hookUrl}/rb"; expected a webhook URL this worker may call: host ${new URL(hookUrl).host} is not on the webhook allow-list (hooks.example.com); add it to AUTOPILOT_WEBHOOK_ALLOWED_HOSTS`,
    });
    // a plan's own Prometheus URL passes the same allow-list
    await expect(
      strict.canaryInitialize({ model: 'act-hosts', version: canary, plan: { prometheus: { url: 'http://prom.internal:9090' }, metrics: [{ name: 'q', query: 'sum(up)', thresholdRange: { min: 1 } }] }, actor: 'test' }),
    ).rejects.toMatchObject({
      nonRetryable: true,
      message: 'input.plan.prometheus.url: got "http://prom.internal:9090"; expected a Prometheus for the metric queries: prometheus.url: host prom.internal:9090 is not on the webhook allow-list (hooks.example.com); add it to AUTOPILOT_WEBHOOK_ALLOWED_HOSTS',
    });
    expect((await fx.registry.getDeployment('act-hosts')).canaryVersion).toBeNull();
  });
});

describe('canary shadow stage on PostgreSQL with a real inference server', () => {
  let fx: ServingFixture;
  let acts: ReturnType<typeof createCanaryActivities>;

  beforeAll(async () => {
    fx = await createServingFixture();
    acts = createCanaryActivities({ pool: fx.db.pool });
  });
  afterAll(async () => {
    await fx?.close();
  });

  it('canaryShadow sets and clears config.shadowVersion idempotently; the check judges the mirrored decisions', async () => {
    const a = await fx.register('act-shadow', 1);
    const b = await fx.register('act-shadow', 2);
    await fx.deploy('act-shadow', { champion: a.version, exploration: { mode: 'sample' } });
    await fx.registry.setDeployment({ model: 'act-shadow', config: { owner: 'team-a' }, actor: 'test' });
    const server = await fx.start();
    await acts.canaryInitialize({ model: 'act-shadow', version: b.version, actor: 'test' });
    const from = new Date().toISOString();
    const on = await acts.canaryShadow({ model: 'act-shadow', version: b.version, on: true, actor: 'test' });
    expect(on.changed).toBe(true);
    expect(await acts.canaryShadow({ model: 'act-shadow', version: b.version, on: true, actor: 'test' })).toEqual({ generation: on.generation, changed: false });
    expect((await fx.registry.getDeployment('act-shadow')).config).toEqual({ owner: 'team-a', shadowVersion: b.version });
    const deadline = Date.now() + 15_000; // the shadow loads off the request path (seconds on a loaded machine)
    while (server.manager.get('act-shadow')?.shadow?.info.version !== b.version && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(server.manager.get('act-shadow')?.shadow?.info.version).toBe(b.version);
    expect(server.manager.get('act-shadow')!.canaryWeight).toBe(0);

    const rng = new Rng(5);
    const served: string[] = [];
    for (let i = 0; i < 80; i++) {
      const res = await fetch(`${server.url}/v1/decide`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: TEST_AUTHORIZATION }, body: JSON.stringify({ deployment: 'act-shadow', features: Array.from({ length: 16 }, () => rng.normal()) }) });
      served.push(((await res.json()) as { decisionId: string }).decisionId);
    }
    await server.mirror.drain();
    await server.decisionLog.drain();
    for (const id of served) await fx.decisions.insertReward({ decisionId: id, reward: 1, components: {} });
    const plan = validateCanaryPlan({ shadow: { enabled: true, minSamples: 50 } });
    const check = (minSamples: number) =>
      acts.canaryCheck({ model: 'act-shadow', version: b.version, arm: 'shadow', from, comparison: 'non-inferiority', decisionLook: 1, bakeMs: 60_000, minSamples, plan });
    const passed = await check(50);
    expect(passed).toMatchObject({ outcome: 'pass', breach: false, samples: { canary: 80 } });
    const metric = (name: string) => passed.metrics.find((m) => m.name === name)!.value;
    expect(metric('shadow_agreement')).toBeGreaterThanOrEqual(0);
    expect(metric('shadow_agreement')).toBeLessThanOrEqual(1);
    expect(metric('latency_p95_ms')).toBeGreaterThan(0);
    // Every reward is 1: the IPS estimate is the agreement-weighted 1/p average minus 1.
    const { rows } = await fx.db.pool.query(
      `SELECT avg(CASE WHEN s.action::jsonb = c.action::jsonb THEN 1 / c.propensity ELSE 0 END) - 1 AS delta FROM decisions s JOIN decisions c ON c.decision_id = (s.metadata ->> 'mirrorOf')::uuid WHERE s.arm = 'shadow' AND s.deployment = 'act-shadow'`,
    );
    expect(metric('shadow_ips_delta')).toBeCloseTo(rows[0].delta, 9);
    expect(await check(500)).toMatchObject({ outcome: 'inconclusive', reasons: ['too few mirrored decisions: 80 (shadow.minSamples 500)'] });

    const off = await acts.canaryShadow({ model: 'act-shadow', version: b.version, on: false, actor: 'test' });
    expect(off.changed).toBe(true);
    expect(await acts.canaryShadow({ model: 'act-shadow', version: b.version, on: false, actor: 'test' })).toEqual({ generation: off.generation, changed: false });
    expect((await fx.registry.getDeployment('act-shadow')).config).toEqual({ owner: 'team-a' });
    const empty = await acts.canaryCheck({ model: 'act-shadow', version: b.version, arm: 'shadow', from: new Date().toISOString(), comparison: 'non-inferiority', decisionLook: 1, bakeMs: 60_000, minSamples: 50, plan });
    expect(empty).toMatchObject({ outcome: 'inconclusive', missingData: true });
  });
});
