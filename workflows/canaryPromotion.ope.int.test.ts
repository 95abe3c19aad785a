/**
 * The canary's off-policy evaluation gate end to end: the Temporal dev server, a worker with the real
 * canary and OPE activities, PostgreSQL, the filesystem artifact store and the inference server
 * serving a champion with exploration (ε-greedy sampling, true propensities logged). Traffic comes
 * from a contextual bandit with a known reward model (workflows/testing/bandit-traffic.ts).
 *
 *   - a worse candidate fails the gate: the canary ends Failed, the version `rejected`, no weight was
 *     ever set, the reasons are in the status and the version's `canary-ope-gate` evaluation;
 *   - a better candidate passes it: the canary goes on to its steps (then a promote signal finishes it).
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createCanaryActivities } from '../activities/canary/activities';
import { createOpeActivities } from '../activities/ope/activities';
import type { CanaryPlanInput } from '../canary/plan';
import type { CanaryStatus } from '../canary/status';
import { startCanary } from '../cli/commands/canary';
import type { InferenceServer } from '../inference/server';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { startDevServer } from '../test/support/temporal';
import { promoteSignal, statusQuery } from '../contracts/canary';
import { registerBanditPolicy, sendBanditTraffic, testBandit } from './testing/bandit-traffic';

const MODEL = 'ope-gated';
const PLAN: CanaryPlanInput = {
  stepWeights: [50, 100],
  interval: '1h',
  checkInterval: '1h',
  ope: { enabled: true, window: '1h', estimator: 'snipw', tolerance: 0.01, nBootstrap: 1000, minRounds: 500 },
};

describe('canaryPromotion with an off-policy evaluation gate (dev server, inference server, PostgreSQL)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let server: InferenceServer;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `rollout-${randomUUID()}`;
  const bandit = testBandit();
  const versions = { champion: 0, better: 0, worse: 0 };

  beforeAll(async () => {
    [env, fx] = await Promise.all([startDevServer(), createServingFixture()]);
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./index'),
      activities: { ...createCanaryActivities({ pool: fx.db.pool }), ...createOpeActivities({ pool: fx.db.pool, store: fx.store }) },
    });
    running = worker.run();
    versions.champion = await registerBanditPolicy(fx, MODEL, bandit.candidate(0.3), 'champion: barely prefers good actions');
    versions.better = await registerBanditPolicy(fx, MODEL, bandit.candidate(3), 'prefers high-reward actions');
    versions.worse = await registerBanditPolicy(fx, MODEL, bandit.candidate(-3), 'prefers low-reward actions');
    await fx.deploy(MODEL, { champion: versions.champion, exploration: { mode: 'sample', epsilon: 0.3, temperature: 1 } });
    await sendBanditTraffic(server, fx, bandit, MODEL, 3000, 5);
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await fx?.close();
  });

  it('rejects a worse candidate at the gate: no traffic moves, the reasons are in the status and the registry', async () => {
    const handle = await startCanary(env.client, { model: MODEL, version: versions.worse, plan: PLAN, actor: 'test' }, taskQueue);
    const status = (await handle.result()) as CanaryStatus;
    expect(status.phase).toBe('Failed');
    expect(status.opeGate).toMatchObject({ verdict: 'fail', estimator: 'snipw', tolerance: 0.01, minRounds: 500, rounds: 3000 });
    expect(status.opeGate!.reasons[0]).toMatch(/^snipw estimate of v-candidate 0\.\d+ \(95% CI \[0\.\d+, 0\.\d+\]\): lower bound not above the champion's value 0\.\d+ − tolerance 0\.0100/);
    expect(status.opeGate!.candidate!.upper).toBeLessThan(status.opeGate!.champion!.value);
    expect(status.message).toMatch(/^rolled back: off-policy evaluation gate failed: snipw estimate/);
    expect(status.history.some((h) => h.event === 'weight')).toBe(false);
    expect(await fx.registry.getDeployment(MODEL)).toMatchObject({ championVersion: versions.champion, canaryVersion: null, canaryWeight: 0 });
    expect((await fx.registry.getVersion(MODEL, versions.worse)).status).toBe('rejected');
    const audit = await fx.registry.listAudit({ model: MODEL });
    expect(audit.filter((a) => a.action === 'deployment.set' && ((a.after as { canaryWeight?: number } | null)?.canaryWeight ?? 0) > 0)).toEqual([]);
    const evals = (await fx.registry.listEvaluations(MODEL, versions.worse)).filter((e) => e.kind === 'canary-ope-gate');
    expect(evals).toHaveLength(1);
    expect(evals[0]).toMatchObject({ verdict: 'fail', runId: `${handle.workflowId}/${(await handle.describe()).runId}` });
    expect(evals[0].summary).toMatchObject({ verdict: 'fail', estimator: 'snipw', window: status.opeGate!.window });
    // The evaluation itself is a child workflow the Temporal UI shows.
    const child = await env.client.workflow.getHandle(status.opeGate!.workflowId).describe();
    expect(child.status.name).toBe('COMPLETED');
    expect(child.type).toBe('offPolicyEvaluation');
  }, 120_000);

  it('lets a better candidate through the gate to its traffic steps', async () => {
    const handle = await startCanary(env.client, { model: MODEL, version: versions.better, plan: PLAN, actor: 'test' }, taskQueue);
    await waitFor(async () => (await handle.query(statusQuery)).phase === 'Progressing', 60_000, 'the canary to pass its gate and start progressing');
    const progressing = await handle.query(statusQuery);
    expect(progressing.canaryWeight).toBe(50);
    expect(progressing.opeGate).toMatchObject({ verdict: 'pass', estimator: 'snipw', rounds: 3000 });
    expect(progressing.opeGate!.candidate!.lower).toBeGreaterThan(progressing.opeGate!.champion!.value - 0.01);
    expect(progressing.opeGate!.estimates.snipw).toEqual(progressing.opeGate!.candidate);
    await handle.signal(promoteSignal, { by: 'test' });
    const status = (await handle.result()) as CanaryStatus;
    expect(status.phase).toBe('Succeeded');
    expect((await fx.registry.getDeployment(MODEL)).championVersion).toBe(versions.better);
    const evals = (await fx.registry.listEvaluations(MODEL, versions.better)).filter((e) => e.kind === 'canary-ope-gate');
    expect(evals.map((e) => e.verdict)).toEqual(['pass']);
  }, 120_000);
});
