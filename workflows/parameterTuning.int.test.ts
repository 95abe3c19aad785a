/**
 * parameterTuning on the real Temporal dev server with its real activities: the simulator as the
 * objective, PostgreSQL and the registry for the run, a filesystem artifact store for the plots. The
 * tuned config must beat the policy config's baseline on the simulator's expected reward (noise-free,
 * envs/oracle.ts), not only on the noisy evaluations the optimiser saw.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createTuningActivities, toRagConfig } from '../activities/optimisers/tuning';
import { tuningProgressQuery, type ParameterTuningResult } from '../contracts/parameter-tuning';
import { defaultPolicyConfig, getDataset, SimulatedRagEvaluator, staticReward, type RagConfig } from '../envs';
import { createRegistryFixture, type RegistryFixture } from '../registry/test-helpers';
import { startDevServer } from '../test/support/temporal';
import { parameterTuning } from './parameterTuning';

describe('parameterTuning on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let fx: RegistryFixture;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, fx, bundle] = await Promise.all([startDevServer(), createRegistryFixture(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await fx?.close();
  });

  it('tunes the RAG config on the simulator with 40 evaluations, 4 in parallel, beats the baseline, records the run and writes the best config as a bandit arm', async () => {
    const { registry, store, db } = fx;
    await registry.createModel({ name: 'rag-router', actor: 'test' });
    await registry.setDeployment({ model: 'rag-router', kind: 'bandit', championVersion: null, config: { learner: { kind: 'beta-ts' }, arms: [{ name: 'default' }] }, actor: 'test' });
    const taskQueue = `tuning-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createTuningActivities({ pool: db.pool, store }) });
    const workflowId = `tuning/${randomUUID()}`;
    const result: ParameterTuningResult = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(parameterTuning, {
        taskQueue, workflowId,
        // 8 batches per evaluation: the proposals depend on the order the 4 parallel evaluations finish in, and with 4
        // batches the recommendation missed the baseline + 0.005 under 1 of 12 completion orders (a loaded CI run:
        // 0.5982 vs 0.6004); with 8, none of 24 orders did (lowest 0.6144; scratch replay of the activities in random orders).
        args: [{ budget: { evaluations: 40 }, parallelism: 4, seed: 3, batchesPerEvaluation: 8, applyTo: { deployment: 'rag-router', as: 'bandit-arm', arm: 'tuned' } }],
      });
      const out = await handle.result();
      expect(await handle.query(tuningProgressQuery)).toMatchObject({ phase: 'done', evaluations: 40, running: 0 });
      // Four evaluations were in flight at once: the history has 4 activity tasks scheduled before the first completed.
      const history = await handle.fetchHistory();
      let scheduled = 0, maxInFlight = 0;
      for (const e of history.events ?? []) {
        const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
        if (type === 'tuningEvaluate') maxInFlight = Math.max(maxInFlight, ++scheduled);
        if (e.activityTaskCompletedEventAttributes && scheduled > 0) scheduled--;
      }
      expect(maxInFlight).toBeGreaterThanOrEqual(4);
      // Replaying the history reproduces every command: the proposals are read from it, not recomputed.
      await Worker.runReplayHistory({ workflowBundle: bundle }, history, workflowId);
      return out;
    });

    expect(result.evaluations).toBe(40);
    expect(result.baseline?.baseline).toBe(true);
    expect(result.improvement).toBeGreaterThan(0);
    // Measured on the simulator's expected reward (no batch noise), mixed over the dataset's categories.
    const policy = defaultPolicyConfig().policy;
    const dataset = getDataset(defaultPolicyConfig().environment.datasets[0]);
    const sim = new SimulatedRagEvaluator();
    const tuned = staticReward(sim, policy, toRagConfig(policy, result.best.config), dataset);
    const baseline = staticReward(sim, policy, policy.baseline as RagConfig, dataset);
    process.stdout.write(`parameterTuning: expected reward tuned ${tuned.toFixed(4)} vs baseline ${baseline.toFixed(4)} (noisy: ${result.best.value.toFixed(4)} vs ${result.baseline!.value.toFixed(4)}); best ${JSON.stringify(result.best.config)}\n`);
    expect(tuned).toBeGreaterThan(baseline + 0.005);

    // The run: one metric row per evaluation, the summary, and the plots in the artifact store.
    const run = await registry.getRun(result.runId);
    expect(run).toMatchObject({ kind: 'tuning', status: 'succeeded', workflowId });
    expect((run.summary as any).best.value).toBeCloseTo(result.best.value, 12);
    const rewards = await registry.readRunMetrics(result.runId, ['tuning/reward']);
    expect(rewards.map((m) => m.step)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const svg = (await store.getBuffer(store.keyFromUri(result.convergenceSvg))).toString();
    expect(svg).toContain('best so far');
    const pd = (await store.getBuffer(store.keyFromUri(result.partialDependenceSvg))).toString();
    for (const p of ['variant', 'k', 'rerank', 'fusion_weight', 'prompt_id']) expect(pd).toContain(`>${p}</text>`);
    expect(result.partialDependence.map((d) => d.parameter)).toEqual(['variant', 'k', 'rerank', 'fusion_weight', 'prompt_id']);

    // The best config became a bandit arm.
    expect(result.applied).toMatchObject({ deployment: 'rag-router', as: 'bandit-arm', arm: 'tuned' });
    const dep = await registry.getDeployment('rag-router');
    expect((dep.config.arms as any[]).find((a) => a.name === 'tuned').payload).toEqual(toRagConfig(policy, result.best.config));
  }, 60_000);

  it('stops at the cost budget: the evaluations started before it was spent finish, no more start', async () => {
    const taskQueue = `tuning-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createTuningActivities({ pool: fx.db.pool, store: fx.store }) });
    const result = await worker.runUntil(() => env.client.workflow.execute(parameterTuning, {
      taskQueue, workflowId: `tuning/${randomUUID()}`, args: [{ budget: { evaluations: 50, costUsd: 3 }, parallelism: 2, batchesPerEvaluation: 2, seed: 1 }],
    }));
    const trials = JSON.parse((await fx.store.getBuffer(fx.store.keyFromUri(result.trialsUri))).toString()).trials as { cost: number }[];
    const maxCost = Math.max(...trials.map((t) => t.cost));
    expect(result.evaluations).toBeLessThan(50);
    expect(result.costUsd).toBeCloseTo(trials.reduce((a, t) => a + t.cost, 0), 9);
    // Spent when the last proposal was made: under the budget; what was still running may overshoot by at most q evaluations.
    expect(result.costUsd - maxCost * 2).toBeLessThan(3);
    expect(result.costUsd).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('refuses a parameter the evaluator cannot set, naming it', async () => {
    const taskQueue = `tuning-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createTuningActivities({ pool: fx.db.pool, store: fx.store }) });
    await worker.runUntil(async () => {
      const run = env.client.workflow.execute(parameterTuning, { taskQueue, workflowId: `tuning/${randomUUID()}`, args: [{ space: [{ name: 'temperature', type: 'continuous', low: 0, high: 2 }] }] });
      await expect(run).rejects.toMatchObject({ cause: { cause: { message: expect.stringContaining('space[0].name: got "temperature", expected one of variant, k, rerank, fusion_weight, prompt_id') } } });
    });
  }, 30_000);
});
