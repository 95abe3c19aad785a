/**
 * Where a PPO run keeps its state in the artifact store. Keys are deterministic per run and
 * iteration, so a repeated activity (a retry after a worker died) overwrites the same object with
 * the same bytes instead of leaving a second copy:
 *   runs/<run>/config.json                      effective policy config
 *   runs/<run>/iter-<n>/checkpoint.json         weights + optimizer after n updates (n = 0: initial)
 *   runs/<run>/iter-<n>/rollout-<e>.json        rollout of env e in iteration n (policy of checkpoint n−1)
 *   runs/<run>/evaluation.json                  held-out evaluation of the policy and the static configs
 *   runs/<run>/report/{summary.csv, configs.csv, report.svg}
 */
import type { PolicyConfig } from '../../envs/config';
import { ActorCritic, type ActorCriticCheckpoint } from '../../ml/rl/actor-critic';
import { optimizerFromJSON, optimizerToJSON, type PpoOptimizerJSON, type PpoOptimizerState } from '../../ml/rl/ppo';
import type { RolloutBatch } from '../../ml/rl/rollout';
import type { ArtifactStore } from '../../registry/artifacts/store';

const pad = (n: number) => String(n).padStart(6, '0');

export const runKeys = {
  root: (runId: string) => `runs/${runId}`,
  config: (runId: string) => `runs/${runId}/config.json`,
  checkpoint: (runId: string, iteration: number) => `runs/${runId}/iter-${pad(iteration)}/checkpoint.json`,
  rollout: (runId: string, iteration: number, env: number) => `runs/${runId}/iter-${pad(iteration)}/rollout-${env}.json`,
  evaluation: (runId: string) => `runs/${runId}/evaluation.json`,
  report: (runId: string, file: string) => `runs/${runId}/report/${file}`,
};

export interface TrainingCheckpoint {
  format: 'autopilot.ppo-checkpoint/v1';
  /** Updates applied (0 for the initial policy). */
  iteration: number;
  policy: ActorCriticCheckpoint;
  optimizer: PpoOptimizerJSON;
}

export async function putJson(store: ArtifactStore, key: string, value: unknown): Promise<string> {
  return (await store.put(key, JSON.stringify(value), { contentType: 'application/json' })).uri;
}

export async function getJson<T>(store: ArtifactStore, uri: string): Promise<T> {
  return JSON.parse((await store.getBuffer(store.keyFromUri(uri))).toString('utf8')) as T;
}

export async function saveCheckpoint(store: ArtifactStore, runId: string, iteration: number, policy: ActorCritic, optimizer: PpoOptimizerState): Promise<string> {
  const body: TrainingCheckpoint = { format: 'autopilot.ppo-checkpoint/v1', iteration, policy: policy.toJSON(), optimizer: optimizerToJSON(optimizer) };
  return putJson(store, runKeys.checkpoint(runId, iteration), body);
}

export async function loadCheckpoint(store: ArtifactStore, uri: string): Promise<{ iteration: number; policy: ActorCritic; optimizer: PpoOptimizerState }> {
  const c = await getJson<TrainingCheckpoint>(store, uri);
  if (c?.format !== 'autopilot.ppo-checkpoint/v1') throw new Error(`${uri} is not a PPO checkpoint (format ${JSON.stringify(c?.format)}, expected "autopilot.ppo-checkpoint/v1")`);
  return { iteration: c.iteration, policy: ActorCritic.fromJSON(c.policy), optimizer: optimizerFromJSON(c.optimizer) };
}

export async function saveRollout(store: ArtifactStore, runId: string, iteration: number, env: number, batch: RolloutBatch): Promise<string> {
  return putJson(store, runKeys.rollout(runId, iteration, env), batch);
}

/** The effective config of a run, read once per worker process (the object at a URI never changes within a run). */
const configCache = new Map<string, PolicyConfig>();

export async function loadRunConfig(store: ArtifactStore, uri: string): Promise<PolicyConfig> {
  const hit = configCache.get(uri);
  if (hit) return hit;
  const config = await getJson<PolicyConfig>(store, uri);
  if (configCache.size > 100) configCache.clear();
  configCache.set(uri, config);
  return config;
}
