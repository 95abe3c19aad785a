/**
 * optimizationLoop end to end on the dev stack, everything real: the Temporal dev server with a
 * rollout worker and a training worker (the production activity factories), PostgreSQL, the
 * filesystem artifact store, the inference server serving the champion with exploration (ε-greedy
 * sampling, true propensities logged) and generated traffic whose rewards come from a contextual
 * bandit with a known reward model (workflows/testing/bandit-traffic.ts).
 *
 *   cycle 1 (drift signal): export → refit from the snapshot → OPE gate passes → approval → canary →
 *           the refit is promoted (it is better: it learns the reward model the champion barely follows);
 *   cycle 2 (manual trigger, an over-regularised refit: ridge 10⁶, so a uniform policy): rejected at
 *           the OPE gate, the champion unchanged, the version `rejected`, the cycle row says why;
 *   a scheduled cycle whose ppoTraining child cannot replay the (bandit) snapshot fails at retrain;
 *   `reject` and `stop` while a cycle waits for approval refuse the candidate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createCanaryActivities } from '../activities/canary/activities';
import { createDataExportActivities } from '../activities/data-export/activities';
import { createLoopActivities } from '../activities/loop/activities';
import { createOpeActivities } from '../activities/ope/activities';
import { createPpoActivities } from '../activities/ppo/activities';
import type { CanaryPlanInput } from '../canary/plan';
import { approveSignal, driftSignal, loopStatusQuery, loopWorkflowId, rejectSignal, stopSignal, triggerSignal, type LoopStatus, type OptimizationLoopInput } from '../contracts/optimization-loop';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import type { InferenceServer } from '../inference/server';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { startDevServer } from '../test/support/temporal';
import { registerBanditPolicy, rewardedSince, sendBanditTraffic, startBanditTraffic, testBandit } from './testing/bandit-traffic';

const MODEL = 'loop-bandit';
const CANARY_PLAN: CanaryPlanInput = {
  stepWeights: [50],
  interval: '4s',
  checkInterval: '1s',
  threshold: 2,
  minSamples: 150,
  maxInconclusive: 8,
  analysis: { nBootstrap: 1000, tolerance: 0.02 },
  burnRate: { alerts: [{ longWindow: '1h', shortWindow: '5m', factor: 14.4 }] },
};

describe('optimizationLoop end to end (dev server, workers, inference server, PostgreSQL, traffic)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let server: InferenceServer;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];
  let dataDir: string;
  const bandit = testBandit();

  beforeAll(async () => {
    [env, fx] = await Promise.all([startDevServer(), createServingFixture()]);
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    dataDir = mkdtempSync(join(tmpdir(), 'ap-loop-'));
    const deps = { pool: fx.db.pool, store: fx.store };
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    workers = await Promise.all([
      Worker.create({
        connection: env.nativeConnection, taskQueue: TASK_QUEUES.rollout, workflowBundle,
        activities: { ...createCanaryActivities(deps), ...createOpeActivities(deps), ...createLoopActivities(deps) },
      }),
      Worker.create({
        connection: env.nativeConnection, taskQueue: TASK_QUEUES.training, workflowBundle,
        activities: { ...createDataExportActivities({ ...deps, settings: { dataDir } }), ...createLoopActivities(deps), ...createPpoActivities(deps) },
      }),
    ]);
    running = workers.map((w) => w.run());
  });
  afterAll(async () => {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running.map((r) => r.catch(() => undefined)));
    await env?.teardown();
    await fx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a drift signal retrains from the snapshot, passes the OPE gate and promotes the refit; a worse refit is rejected at the OPE gate', async () => {
    const champion = await registerBanditPolicy(fx, MODEL, bandit.candidate(0.3), 'champion: barely prefers good actions');
    await fx.deploy(MODEL, { champion, exploration: { mode: 'sample', epsilon: 0.3, temperature: 1 } });
    await sendBanditTraffic(server, fx, bandit, MODEL, 3000, 11);

    const input: OptimizationLoopInput = {
      deployment: MODEL, intervalSeconds: 0, window: '1h', minRewarded: 500,
      retrain: { kind: 'refit' },
      ope: { estimator: 'snipw', tolerance: 0.01, nBootstrap: 1000, minRounds: 500 },
      canaryPlan: CANARY_PLAN,
      requireApproval: true,
    };
    const handle = await env.client.workflow.start('optimizationLoop', { taskQueue: TASK_QUEUES.rollout, workflowId: loopWorkflowId(MODEL), args: [input] });
    const status = () => handle.query(loopStatusQuery);
    expect((await status()).state).toBe('idle');

    // cycle 1: drift → export → refit → OPE → (approval) → canary → promoted
    await handle.signal(driftSignal, { by: 'driftMonitor:test', reasons: ['reward ADWIN: mean 0.41 → 0.33'] });
    await waitFor(async () => (await status()).state === 'awaiting-approval', 90_000, 'cycle 1 to wait for approval');
    const waiting = await status();
    expect(waiting.current!.trigger).toMatchObject({ kind: 'drift', by: 'driftMonitor:test', reason: 'drift: reward ADWIN: mean 0.41 → 0.33' });
    expect(waiting.current!.stages.map((s) => [s.stage, s.status])).toEqual([['export', 'passed'], ['retrain', 'passed'], ['ope', 'passed'], ['approval', 'running']]);
    // the window split in time: the refit trains on the first half, the OPE gate judges it on the second
    const trainedOn = waiting.current!.dataset!.rewarded;
    expect(trainedOn + waiting.current!.ope!.rounds).toBe(3000);
    expect(Math.min(trainedOn, waiting.current!.ope!.rounds)).toBeGreaterThan(1400);
    expect(waiting.current!.ope!.window).toEqual({ from: waiting.current!.holdoutFrom, to: waiting.current!.window.to });
    const candidate = waiting.current!.candidateVersion!;
    expect(candidate).toBe(champion + 1);
    expect(waiting.current!.ope).toMatchObject({ verdict: 'pass', estimator: 'snipw' });
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.progress)).toBe('cycle 1: approval');
    const opeChild = await env.client.workflow.getHandle(waiting.current!.stages[2].workflowId!).describe();
    expect([opeChild.type, opeChild.status.name]).toEqual(['offPolicyEvaluation', 'COMPLETED']);

    const traffic = startBanditTraffic(server, bandit, MODEL, 12);
    let promotedAt: Date;
    try {
      await handle.signal(approveSignal, { by: 'test:alice' });
      await waitFor(async () => (await status()).cycles === 1 && (await status()).current === null, 120_000, 'cycle 1 to end');
      promotedAt = new Date();
      const one = (await status()).recent[0];
      expect(one.reasons).toEqual([expect.stringMatching(/^promoted: v\d+ is the champion/)]);
      expect(one).toMatchObject({ cycle: 1, outcome: 'promoted', stage: 'canary', championVersion: champion, candidateVersion: candidate, canary: { phase: 'Succeeded' } });
      expect((await fx.registry.getDeployment(MODEL)).championVersion).toBe(candidate);

      // cycle 2: traffic of the new champion, then a manual trigger with an over-regularised refit
      await waitFor(async () => (await rewardedSince(fx, MODEL, promotedAt)) >= 1200, 60_000, '1200 rewarded decisions of the new champion');
    } finally {
      await traffic.stop();
    }
    expect(traffic.errors).toEqual([]);
    await handle.signal(triggerSignal, { by: 'test:bob', reason: 'try a context-blind refit', retrain: { kind: 'refit', ridge: 1e6 } });
    await waitFor(async () => (await status()).cycles === 2 && (await status()).current === null, 90_000, 'cycle 2 to end');
    const two = (await status()).recent[0];
    const one = (await status()).recent[1];
    const fmt = (g: typeof one.ope) => (g ? `${g.estimator} ${g.candidate?.value.toFixed(3)} [${g.candidate?.lower.toFixed(3)}, ${g.candidate?.upper.toFixed(3)}] vs champion ${g.champion?.value.toFixed(3)}, n=${g.rounds}` : 'none');
    process.stdout.write(`loop cycle 1: ${one.outcome} (OPE ${fmt(one.ope)}; ${one.canary?.message})\nloop cycle 2: ${two.outcome} at ${two.stage} (OPE ${fmt(two.ope)})\n`);
    expect(two).toMatchObject({ cycle: 2, outcome: 'rejected', stage: 'ope', championVersion: candidate, candidateVersion: candidate + 1, trigger: { kind: 'manual', by: 'test:bob' } });
    expect(Date.parse(two.window.from)).toBeGreaterThanOrEqual(promotedAt!.getTime() - 5000);
    expect(two.reasons[0]).toMatch(/^off-policy evaluation gate: snipw estimate of v-candidate 0\.\d+ \(95% CI \[0\.\d+, 0\.\d+\]\): lower bound not above the champion's value/);
    expect(two.stages.map((s) => s.stage)).toEqual(['export', 'retrain', 'ope']);
    expect((await fx.registry.getDeployment(MODEL)).championVersion).toBe(candidate);
    expect((await fx.registry.getVersion(MODEL, candidate + 1)).status).toBe('rejected');

    // the cycle records
    const { rows } = await fx.db.pool.query('SELECT cycle, trigger, trigger_by, outcome, stage, reasons, champion_version, candidate_version, ope FROM loop_cycles WHERE deployment = $1 ORDER BY cycle', [MODEL]);
    expect(rows.map((r) => [r.cycle, r.trigger, r.trigger_by, r.outcome, r.stage, r.champion_version, r.candidate_version])).toEqual([
      [1, 'drift', 'driftMonitor:test', 'promoted', 'canary', champion, candidate],
      [2, 'manual', 'test:bob', 'rejected', 'ope', candidate, candidate + 1],
    ]);
    expect(rows[1].reasons).toEqual(two.reasons);
    expect(rows[1].ope).toMatchObject({ verdict: 'fail', estimator: 'snipw' });

    await handle.signal(stopSignal, { by: 'test' });
    const final = (await handle.result()) as LoopStatus;
    expect(final).toMatchObject({ state: 'stopped', cycles: 2 });
  }, 300_000);

  it('runs on its schedule; a ppoTraining retrain that cannot replay the snapshot fails the cycle with the reason, and the loop goes on until stopped', async () => {
    const model = 'loop-ppo';
    const champion = await registerBanditPolicy(fx, model, bandit.candidate(0.3), 'champion');
    await fx.deploy(model, { champion, exploration: { mode: 'sample', epsilon: 0.3, temperature: 1 } });
    await sendBanditTraffic(server, fx, bandit, model, 300, 21);
    const handle = await env.client.workflow.start('optimizationLoop', {
      taskQueue: TASK_QUEUES.rollout, workflowId: loopWorkflowId(model),
      args: [{ deployment: model, intervalSeconds: 1, window: '1h', minRewarded: 100, retrain: { kind: 'ppo', input: { iterations: 1 } } } satisfies OptimizationLoopInput],
    });
    await waitFor(async () => (await handle.query(loopStatusQuery)).recent.length >= 1, 90_000, 'the first scheduled cycle to end');
    await handle.signal(stopSignal, { by: 'test' });
    const final = (await handle.result()) as LoopStatus;
    expect(final.state).toBe('stopped');
    const first = final.recent[final.recent.length - 1];
    expect(first).toMatchObject({ cycle: 1, trigger: { kind: 'schedule', by: 'schedule' }, outcome: 'failed', stage: 'retrain', candidateVersion: null, });
    expect(first.dataset!.rewarded).toBeGreaterThanOrEqual(140);
    expect(first.reasons[0]).toMatch(/action is not a RAG config, so the snapshot cannot be replayed/);
    expect(first.stages.map((s) => [s.stage, s.status])).toEqual([['export', 'passed'], ['retrain', 'failed']]);
    expect(first.stages[1].workflowId).toMatch(/^loop\/loop-ppo\/[0-9a-f-]+\/cycle-1\/ppo$/);
    expect((await fx.registry.getDeployment(model)).championVersion).toBe(champion);
  }, 180_000);

  it('a reject signal refuses the candidate waiting for approval; a stop while waiting refuses the next one and ends the loop', async () => {
    const model = 'loop-approval';
    const champion = await registerBanditPolicy(fx, model, bandit.candidate(0.3), 'champion');
    await fx.deploy(model, { champion, exploration: { mode: 'sample', epsilon: 0.3, temperature: 1 } });
    await sendBanditTraffic(server, fx, bandit, model, 1000, 31);
    const handle = await env.client.workflow.start('optimizationLoop', {
      taskQueue: TASK_QUEUES.rollout, workflowId: loopWorkflowId(model),
      args: [{ deployment: model, intervalSeconds: 0, window: '1h', minRewarded: 300, retrain: { kind: 'refit' }, ope: { estimator: 'snipw', tolerance: 0.5, nBootstrap: 500, minRounds: 300 }, requireApproval: true } satisfies OptimizationLoopInput],
    });
    const awaiting = () => waitFor(async () => (await handle.query(loopStatusQuery)).state === 'awaiting-approval', 60_000, 'a cycle waiting for approval');
    await handle.signal(triggerSignal, { by: 'test' });
    await awaiting();
    await handle.signal(rejectSignal, { by: 'test:carol' });
    await waitFor(async () => (await handle.query(loopStatusQuery)).recent.length === 1, 30_000, 'cycle 1 to end');
    await handle.signal(triggerSignal, { by: 'test' });
    await awaiting();
    await handle.signal(stopSignal, { by: 'test:dave' });
    const final = (await handle.result()) as LoopStatus;
    expect(final.state).toBe('stopped');
    expect(final.recent.map((c) => [c.cycle, c.outcome, c.stage, c.reasons])).toEqual([
      [2, 'rejected', 'approval', ['rejected before the canary by test:dave (the loop was stopped while the cycle waited for approval)']],
      [1, 'rejected', 'approval', ['rejected before the canary by test:carol']],
    ]);
    for (const c of final.recent) expect((await fx.registry.getVersion(model, c.candidateVersion!)).status).toBe('rejected');
    expect((await fx.registry.getDeployment(model)).championVersion).toBe(champion);
  }, 120_000);
});
