/**
 * A short real PPO run for tests, through the `ppoTraining` activities themselves (startRun,
 * initPolicy, rollout per env, update) in @temporalio/testing's MockActivityEnvironment, without a
 * workflow: the run and its run_metrics land in the registry exactly as a workflow run writes them.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { Pool } from 'pg';
import type { PpoTrainingInput } from '../../../contracts/ppo-training';
import type { ArtifactStore } from '../../../registry/artifacts/store';
import { createPpoActivities } from '../activities';

/** A small run on the simulator: 4-batch episodes, 2 rollouts × 16 steps, a 16×16 MLP. */
export const SHORT_PPO_INPUT: PpoTrainingInput = {
  config: {
    environment: { episode_length: 4, batch_size: 50 },
    ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 2, hidden_sizes: [16, 16] },
  },
  env: 'simulator',
  workers: 2,
  iterations: 3,
  seed: 7,
};

/** Runs `input.iterations` PPO iterations of a new run for `model`; returns the run id. */
export async function runShortPpo(deps: { pool: Pool; store: ArtifactStore }, model: string, input: PpoTrainingInput = SHORT_PPO_INPUT): Promise<string> {
  const acts = createPpoActivities(deps);
  const ctx = new MockActivityEnvironment();
  const call = <A, R>(fn: (a: A) => Promise<R>, a: A): Promise<R> => ctx.run(fn, a) as Promise<R>;
  const runId = `ppo-test-${randomUUID()}`;
  const setup = await call(acts.startRun, { input: { ...input, model }, runId, workflowId: `wf-${runId}` });
  let { checkpointUri } = await call(acts.initPolicy, { runId, configUri: setup.configUri, env: setup.env });
  for (let iteration = 1; iteration <= setup.iterations; iteration++) {
    const batchUris: string[] = [];
    for (let envIndex = 0; envIndex < setup.workers; envIndex++) {
      batchUris.push((await call(acts.rollout, { runId, configUri: setup.configUri, env: setup.env, checkpointUri, iteration, envIndex })).batchUri);
    }
    ({ checkpointUri } = await call(acts.update, { runId, configUri: setup.configUri, checkpointUri, batchUris, iteration }));
  }
  return runId;
}
