import { Rng } from '../rng';
import type { Environment } from './environment';
import { actorCriticSpecFor, derivePpoSizes, parsePpoHyperparameters, type PpoHyperparameters, type PpoHyperparametersInput } from './hyperparameters';
import { ActorCritic } from './actor-critic';
import { createPpoOptimizer, ppoUpdate, type PpoMetrics, type PpoOptimizerState } from './ppo';
import { collectRollouts, type RolloutBatch, type RolloutCarry } from './rollout';

/**
 * Seeds of one run, derived from hp.seed the same way in `trainPpo` and in the Temporal workflow, so
 * a run replays bit for bit wherever its pieces execute:
 *   policy init: seed;  rollout of env e in iteration i: seed·1_000_003 + i·1009 + e + 1;
 *   update of iteration i: seed·1_000_003 + i·1009 + 1_000.
 */
export const runSeeds = {
  policyInit: (hp: PpoHyperparameters): number => hp.seed,
  rollout: (hp: PpoHyperparameters, iteration: number, env: number): number => (hp.seed * 1_000_003 + iteration * 1009 + env + 1) >>> 0,
  update: (hp: PpoHyperparameters, iteration: number): number => (hp.seed * 1_000_003 + iteration * 1009 + 1_000) >>> 0,
};

export interface TrainPpoResult {
  policy: ActorCritic;
  optimizer: PpoOptimizerState;
  hp: PpoHyperparameters;
  /** One entry per iteration. */
  history: PpoMetrics[];
}

/**
 * A whole in-process PPO run (for tests, benches and notebooks; the Temporal workflow runs the same
 * pieces as activities): num_envs environments from `makeEnv(index)`, kept running across
 * iterations and stepped together with one policy forward per step (`collectRollouts`), then
 * `iterations` × (rollouts → update). When `iterations` is given it overrides
 * total_timesteps (= iterations × batch_size) so learning-rate annealing ends with the run.
 */
export async function trainPpo(
  makeEnv: (index: number) => Environment,
  hpInput: PpoHyperparametersInput | PpoHyperparameters,
  iterations?: number,
  onIteration?: (metrics: PpoMetrics, policy: ActorCritic, batches: RolloutBatch[]) => void,
): Promise<TrainPpoResult> {
  let hp = parsePpoHyperparameters(hpInput);
  if (iterations !== undefined) hp = parsePpoHyperparameters({ ...hp, total_timesteps: iterations * hp.num_envs * hp.num_steps });
  const { num_iterations } = derivePpoSizes(hp);
  const envs = Array.from({ length: hp.num_envs }, (_, i) => makeEnv(i));
  const policy = ActorCritic.create(actorCriticSpecFor(envs[0].observationSize, envs[0].actionSpace, hp), runSeeds.policyInit(hp));
  const optimizer = createPpoOptimizer(policy, hp);
  const carries: (RolloutCarry | undefined)[] = envs.map(() => undefined);
  const history: PpoMetrics[] = [];
  for (let iteration = 1; iteration <= num_iterations; iteration++) {
    const rngs = envs.map((_, e) => new Rng(runSeeds.rollout(hp, iteration, e)));
    const batches: RolloutBatch[] = await collectRollouts(envs, policy, hp.num_steps, rngs, { starts: carries });
    batches.forEach((b, e) => { carries[e] = b.carry; });
    const { metrics } = ppoUpdate(policy, optimizer, batches, hp, new Rng(runSeeds.update(hp, iteration)));
    history.push(metrics);
    onIteration?.(metrics, policy, batches);
  }
  return { policy, optimizer, hp, history };
}
