/**
 * experimentDesign on the real Temporal dev server: each trial a real child ppoTraining run (tiny
 * sizes) on the simulator with its real activities, PostgreSQL and the registry; the median stopping
 * rule reads the trials' per-iteration returns from the run metrics and stops the trials it names.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createExperimentActivities } from '../activities/optimisers/experiments';
import { createPpoActivities } from '../activities/ppo/activities';
import { MedianStoppingRule } from '../ml/bo';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { createRegistryFixture, type RegistryFixture } from '../registry/test-helpers';
import { startDevServer } from '../test/support/temporal';
import { experimentDesign } from './experimentDesign';

describe('experimentDesign on the real Temporal dev server', () => {
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

  it('runs trials as child ppoTraining runs, two at a time, stops the ones the median rule names, and reports the best', async () => {
    const store = new FsArtifactStore(mkdtempSync(join(tmpdir(), 'ap-experiments-')));
    const deps = { pool: fx.db.pool, store };
    const taskQueue = `experiments-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: { ...createPpoActivities(deps), ...createExperimentActivities(deps) } });
    // Whether the median rule names a trial depends on how far the trials got when it looks (wall clock,
    // every second): on a fast, quiet machine a seed's trials may all finish first. Up to three seeds are
    // run until one stops a trial; the assertions below hold for that run.
    let workflowId = '';
    const result = await worker.runUntil(async () => {
      let r!: Awaited<ReturnType<typeof experimentDesign>>;
      for (const seed of [2, 3, 4]) {
        workflowId = `experiments/${randomUUID()}`;
        r = await env.client.workflow.execute(experimentDesign, {
          taskQueue, workflowId,
          args: [{
            config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { num_steps: 32, num_minibatches: 2, update_epochs: 2, hidden_sizes: [16, 16] } },
            space: [{ name: 'ppo.learning_rate', type: 'continuous', low: 1e-5, high: 3e-2, log: true }, { name: 'policy.reward_weights.delta', type: 'continuous', low: 0, high: 2 }],
            objective: 'improvementVsBaseline',
            trials: 5, parallelism: 2, iterations: 24, workers: 1, seed, model: 'exp',
            stopping: { rule: 'median', gracePeriod: 2, minCompletedTrials: 1, checkSeconds: 1 },
            evaluation: { episodes: 2, screeningEpisodes: 1, shortlist: 1, kStep: 16, fusionStep: 1 },
          }],
        });
        if (r.trials.some((t) => t.status === 'stopped')) break;
      }
      return r;
    });
    expect(result.trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4]);
    for (const t of result.trials) {
      expect(t.status).not.toBe('failed');
      expect(t.childWorkflowId).toBe(`${workflowId}/trial-${t.index}`);
      // Each trial is a registered ppo run with its proposal in its config.
      const run = await fx.registry.getRun(t.runId);
      expect(run).toMatchObject({ kind: 'ppo', status: 'succeeded', model: `exp-t${t.index}` });
      expect(t.config['ppo.learning_rate']).toBeGreaterThanOrEqual(1e-5);
      if (t.status === 'stopped') expect(t.iterations).toBeLessThan(24);
      else expect(t.iterations).toBe(24);
    }
    // A stopped trial's best return over its first `gracePeriod` or more iterations lay below the median of a finished trial's running average.
    const stopped = result.trials.filter((t) => t.status === 'stopped');
    expect(stopped.length).toBeGreaterThanOrEqual(1);
    const curve = async (runId: string) => (await fx.registry.readRunMetrics(runId, ['charts/episodic_return'])).map((m) => m.value);
    for (const t of stopped) {
      const mine = await curve(t.runId);
      const others = await Promise.all(result.trials.filter((o) => o.status === 'succeeded').map((o) => curve(o.runId)));
      const rule = new MedianStoppingRule({ direction: 'maximize', gracePeriod: 2, minCompletedTrials: 1 });
      expect(mine.some((_, s) => s >= 1 && rule.shouldStop(mine.slice(0, s + 1), others))).toBe(true);
    }
    process.stdout.write(`experimentDesign: ${result.trials.map((t) => `trial ${t.index} ${t.status} after ${t.iterations} it, ${t.value?.toFixed(4)}`).join('; ')}\n`);
    const values = result.trials.map((t) => t.value as number);
    expect(result.best.value).toBe(Math.max(...values));
    const run = await fx.registry.getRun(result.runId);
    expect(run).toMatchObject({ kind: 'experiment-design', status: 'succeeded' });
    expect((run.summary as any).stopped).toBe(stopped.length);
    const svg = (await store.getBuffer(store.keyFromUri(result.learningCurvesSvg))).toString();
    for (const t of result.trials) expect(svg).toContain(`trial ${t.index} (${t.status})`);
  }, 150_000);
});
