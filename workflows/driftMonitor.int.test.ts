/**
 * driftMonitor on the real Temporal dev server with its real activities against PostgreSQL: decisions
 * seeded with a reward drop and a shifted feature in the current window raise an alert (webhook POST
 * received, `drift/alerts_total` recorded) and signal `abort` to the running `canary/<model>`; a
 * stationary deployment raises none; a running optimizationLoop of the deployment gets `drift`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { createBanditActivities } from '../activities/bandits/activities';
import { createDriftActivities } from '../activities/bandits/drift';
import { createLoopActivities } from '../activities/loop/activities';
import { loopStatusQuery, type LoopStatus } from '../contracts/optimization-loop';
import { Rng } from '../ml/rng';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { DecisionStore, type DecisionInput } from '../decision-log';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { banditSnapshot } from './banditSnapshot';
import { driftMonitor } from './driftMonitor';

describe('driftMonitor', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  let hook: Server;
  const received: any[] = [];

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', () => r()));
  }, 120_000);
  afterAll(async () => {
    hook?.close();
    await env?.teardown();
    await db?.drop();
  });

  async function seed(registry: Registry, model: string, shifted: boolean): Promise<void> {
    await registry.createModel({ name: model, actor: 'test' });
    const rng = new Rng(shifted ? 1 : 2);
    const now = Date.now();
    const rows: DecisionInput[] = [];
    const rewards: { id: string; r: number }[] = [];
    for (let i = 0; i < 600; i++) {
      const current = i >= 300;
      const id = randomUUID();
      const time = new Date(now - 7_000_000 + i * 11_500); // reference: the hour before the last; current: the last hour
      const drift = shifted && current;
      rows.push({ decisionId: id, time, deployment: model, model, version: null, arm: 'a', features: { complexity: (drift ? 1 : 0) + rng.normal() }, action: { arm: 'a' }, propensity: 1, latencyMs: 20 + rng.normal() });
      rewards.push({ id, r: (drift ? 0.3 : 0.8) + 0.1 * rng.normal() });
    }
    const decisions = new DecisionStore({ pool: db.pool });
    await decisions.insertDecisions(rows);
    for (const x of rewards) await decisions.insertReward({ decisionId: x.id, reward: x.r });
  }

  it('alerts on drift (webhook + counter) and aborts the running canary; stays quiet on a stationary deployment', async () => {
    const store = FsArtifactStore.fromUri('file:///tmp/ap-drift-unused');
    const registry = new Registry({ pool: db.pool, store });
    await seed(registry, 'router', true);
    await seed(registry, 'steady', false);
    const redis = new Redis('redis://127.0.0.1:6379', { lazyConnect: true });
    const taskQueue = `drift-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue, workflowBundle: bundle,
      activities: { ...createDriftActivities({ pool: db.pool, store }), ...createBanditActivities({ pool: db.pool, store, redis }) },
    });
    const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
    await worker.runUntil(async () => {
      // Something running under the canary's workflow id that receives the signal.
      const canary = await env.client.workflow.start(banditSnapshot, { taskQueue, workflowId: 'canary/router', args: [{ deployment: 'router', intervalSeconds: 3600 }] });
      const drifted = await env.client.workflow.execute(driftMonitor, {
        taskQueue, workflowId: `drift/router/${randomUUID()}`,
        args: [{ deployment: 'router', windowSeconds: 3600, referenceSeconds: 3600, intervalSeconds: 1, maxIterations: 1, onDrift: 'abort-canary', webhook: { url } }],
      });
      expect(drifted).toMatchObject({ iterations: 1, alerts: 1, actions: [`webhook ${url}`, 'abort canary/router'] });
      const steady = await env.client.workflow.execute(driftMonitor, {
        taskQueue, workflowId: `drift/steady/${randomUUID()}`,
        args: [{ deployment: 'steady', windowSeconds: 3600, referenceSeconds: 3600, intervalSeconds: 1, maxIterations: 1, onDrift: 'abort-canary', webhook: { url } }],
      });
      expect(steady).toMatchObject({ iterations: 1, alerts: 0, actions: [] });
      const history = await canary.fetchHistory();
      const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).map((e) => e.workflowExecutionSignaledEventAttributes!.signalName);
      expect(signals).toEqual(['abort']);
      await canary.terminate('test done');

      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ kind: 'drift', deployment: 'router', action: 'abort-canary' });
      expect(received[0].reasons.join('\n')).toMatch(/reward: adwin/);
      expect(received[0].reasons.join('\n')).toMatch(/feature complexity: KS/);
      const m = await registry.readRunMetrics(drifted.runId, ['drift/alerts_total', 'drift/reward/page_hinkley', 'drift/feature/complexity/psi']);
      expect(Object.fromEntries(m.map((x) => [x.name, x.value]))).toMatchObject({ 'drift/alerts_total': 1, 'drift/reward/page_hinkley': 1 });
      expect(m.find((x) => x.name === 'drift/feature/complexity/psi')!.value).toBeGreaterThan(0.25);
      const quiet = await registry.readRunMetrics(steady.runId, ['drift/alerts_total', 'drift/detected']);
      expect(quiet.map((x) => x.value)).toEqual([0, 0]);
    });
    redis.disconnect();
  }, 120_000);

  it('signals drift to the running optimizationLoop of the deployment (its cycle starts: here skipped, nothing deployed)', async () => {
    const store = FsArtifactStore.fromUri('file:///tmp/ap-drift-unused');
    const registry = new Registry({ pool: db.pool, store });
    await seed(registry, 'looped', true);
    const taskQueue = `drift-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection, taskQueue, workflowBundle: bundle,
      activities: { ...createDriftActivities({ pool: db.pool, store }), ...createLoopActivities({ pool: db.pool, store }) },
    });
    await worker.runUntil(async () => {
      const loop = await env.client.workflow.start('optimizationLoop', { taskQueue, workflowId: 'loop/looped', args: [{ deployment: 'looped', intervalSeconds: 0 }] });
      const drifted = await env.client.workflow.execute(driftMonitor, {
        taskQueue, workflowId: `drift/looped/${randomUUID()}`,
        args: [{ deployment: 'looped', windowSeconds: 3600, referenceSeconds: 3600, intervalSeconds: 1, maxIterations: 1 }],
      });
      expect(drifted).toMatchObject({ alerts: 1, actions: ['drift loop/looped'] });
      let status: LoopStatus;
      for (;;) {
        status = await loop.query(loopStatusQuery);
        if (status.recent.length === 1) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(status.recent[0]).toMatchObject({ cycle: 1, outcome: 'skipped', reasons: ['deployment looped has no champion to improve on'], trigger: { kind: 'drift', by: expect.stringMatching(/^driftMonitor:drift\/looped\//) } });
      expect(status.recent[0].trigger.reason).toMatch(/^drift: reward: adwin/);
      await loop.terminate('test done');
    });
  }, 120_000);
});
