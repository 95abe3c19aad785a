/**
 * Small helpers to drive an environment without the trainer: a uniformly random policy, a static
 * (constant-config) policy, and `runEpisode`, which plays one episode and returns what happened.
 * Used by tests, by the baseline comparison and to fit the feature reference.
 */
import type { Action, ActionSpace, Environment } from '../ml/rl/environment';
import { Rng } from '../ml/rng';

/** Chooses an action from an observation (and the environment's info of the last step). */
export type PolicyFn = (observation: Float64Array) => Action;

/** Uniform over every part of the action space. */
export function randomPolicy(actionSpace: ActionSpace, rng: Rng): PolicyFn {
  return () => {
    const action: Action = {};
    for (const part of actionSpace) {
      switch (part.kind) {
        case 'categorical':
          action[part.name] = part.choices[rng.int(part.choices.length)];
          break;
        case 'integer':
          action[part.name] = part.min + rng.int(part.max - part.min + 1);
          break;
        case 'bernoulli':
          action[part.name] = rng.uniform() < 0.5;
          break;
        case 'continuous':
          action[part.name] = part.min + (part.max - part.min) * rng.uniform();
          break;
      }
    }
    return action;
  };
}

/** Always the same action. */
export function staticPolicy(action: Action): PolicyFn {
  return () => ({ ...action });
}

export interface EpisodeRecord {
  observations: Float64Array[];
  actions: Action[];
  rewards: number[];
  infos: Array<Record<string, unknown>>;
  /** Sum of rewards. */
  episodicReturn: number;
}

/** Plays one episode from `reset(seed)` until done (or `maxSteps`). */
export async function runEpisode(env: Environment, policy: PolicyFn, seed: number, maxSteps = 10_000): Promise<EpisodeRecord> {
  let observation = await env.reset(seed);
  const rec: EpisodeRecord = { observations: [observation], actions: [], rewards: [], infos: [], episodicReturn: 0 };
  for (let i = 0; i < maxSteps; i++) {
    const action = policy(observation);
    const step = await env.step(action);
    rec.actions.push(action);
    rec.rewards.push(step.reward);
    rec.infos.push(step.info);
    rec.episodicReturn += step.reward;
    observation = step.observation;
    rec.observations.push(observation);
    if (step.done) break;
  }
  return rec;
}
