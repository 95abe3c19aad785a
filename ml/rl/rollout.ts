import { Rng } from '../rng';
import type { Environment, StepResult } from './environment';
import type { ActorCritic } from './actor-critic';

/**
 * One environment's experience for one PPO iteration, as plain JSON-ready arrays (a Temporal
 * activity returns it, or stores it and returns its URI). Layout follows CleanRL's buffers:
 *   obs[t·obsSize + j], actions[t·numHeads + h] (raw per-head actions, see `ActorCritic`), logprobs[t],
 *   rewards[t], dones[t] (1 when obs[t] follows a terminal step), values[t];
 *   nextObs/nextDone/nextValue describe the observation after the last step (for bootstrapping).
 */
export interface RolloutBatch {
  observationSize: number;
  numHeads: number;
  numSteps: number;
  obs: number[];
  actions: number[];
  logprobs: number[];
  rewards: number[];
  dones: number[];
  values: number[];
  nextObs: number[];
  nextDone: number;
  nextValue: number;
  /** Episodes that ended during this rollout. */
  episodes: { return: number; length: number }[];
  /** Where the environment stands, to continue in the next rollout with the same env object. */
  carry: RolloutCarry;
  /** The env's `info` per step, when `keepInfos` was asked. */
  infos?: Record<string, unknown>[];
}

/** The state of an unfinished episode between rollouts (CleanRL keeps its envs running across iterations). */
export interface RolloutCarry {
  observation: number[];
  done: number;
  episodeReturn: number;
  episodeLength: number;
}

export interface RolloutOptions {
  /** Continue from a previous rollout on the same env object; otherwise the env is reset with a seed drawn from `rng`. */
  start?: RolloutCarry;
  /** Keep each step's `info` in the batch. */
  keepInfos?: boolean;
  /** Act deterministically (argmax/mean) instead of sampling — for evaluation, not training. */
  deterministic?: boolean;
}

function isPromise<T>(x: T | Promise<T>): x is Promise<T> {
  return typeof (x as { then?: unknown })?.then === 'function';
}

/** A reset seed drawn from the rollout's rng: episodes replay from the rollout seed. */
function resetSeed(rng: Rng): number {
  return rng.nextUint32();
}

/**
 * Runs `steps` environment steps with the policy sampling actions (CleanRL's rollout phase).
 * When an episode ends the env is reset at once and the next observation is marked done.
 */
export async function collectRollout(env: Environment, policy: ActorCritic, steps: number, rng: Rng, options: RolloutOptions = {}): Promise<RolloutBatch> {
  const obsSize = env.observationSize, H = policy.numHeads;
  if (obsSize !== policy.spec.observationSize) throw new Error(`collectRollout: env.observationSize = ${obsSize}, the policy expects ${policy.spec.observationSize}`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`collectRollout: steps = ${steps}, expected an integer ≥ 1`);
  const names = env.actionSpace.map((p) => `${p.kind}:${p.name}`).join(',');
  const policyNames = policy.spec.actionSpace.map((p) => `${p.kind}:${p.name}`).join(',');
  if (names !== policyNames) throw new Error(`collectRollout: env action space [${names}] differs from the policy's [${policyNames}]`);

  const obs = new Float64Array(obsSize);
  let done: number, epReturn: number, epLength: number;
  if (options.start) {
    if (options.start.observation.length !== obsSize) throw new Error(`collectRollout: start.observation has ${options.start.observation.length} values, expected ${obsSize}`);
    obs.set(options.start.observation);
    done = options.start.done;
    epReturn = options.start.episodeReturn;
    epLength = options.start.episodeLength;
  } else {
    const r = env.reset(resetSeed(rng));
    obs.set(checkObs(isPromise(r) ? await r : r, obsSize));
    done = 0;
    epReturn = 0;
    epLength = 0;
  }

  const batch: RolloutBatch = {
    observationSize: obsSize, numHeads: H, numSteps: steps,
    obs: new Array<number>(steps * obsSize), actions: new Array<number>(steps * H),
    logprobs: new Array<number>(steps), rewards: new Array<number>(steps), dones: new Array<number>(steps), values: new Array<number>(steps),
    nextObs: [], nextDone: 0, nextValue: 0, episodes: [], carry: { observation: [], done: 0, episodeReturn: 0, episodeLength: 0 },
  };
  if (options.keepInfos) batch.infos = [];
  const raw = new Float64Array(H);

  for (let t = 0; t < steps; t++) {
    for (let j = 0; j < obsSize; j++) batch.obs[t * obsSize + j] = obs[j];
    batch.dones[t] = done;
    const { logProb, value } = options.deterministic ? policy.mode(obs, raw) : policy.sample(obs, rng, raw);
    for (let h = 0; h < H; h++) batch.actions[t * H + h] = raw[h];
    batch.logprobs[t] = logProb;
    batch.values[t] = value;

    const s = env.step(policy.toAction(raw));
    const res: StepResult = isPromise(s) ? await s : s;
    if (!Number.isFinite(res.reward)) throw new Error(`collectRollout: env returned reward ${res.reward} at step ${t}, expected a finite number`);
    batch.rewards[t] = res.reward;
    if (batch.infos) batch.infos.push(res.info);
    epReturn += res.reward;
    epLength += 1;
    if (res.done) {
      batch.episodes.push({ return: epReturn, length: epLength });
      epReturn = 0;
      epLength = 0;
      const r = env.reset(resetSeed(rng));
      obs.set(checkObs(isPromise(r) ? await r : r, obsSize));
      done = 1;
    } else {
      obs.set(checkObs(res.observation, obsSize));
      done = 0;
    }
  }

  policy.forward(obs, 1);
  batch.nextValue = policy.values()[0];
  batch.nextObs = Array.from(obs);
  batch.nextDone = done;
  batch.carry = { observation: Array.from(obs), done, episodeReturn: epReturn, episodeLength: epLength };
  return batch;
}

function checkObs(o: Float64Array, size: number): Float64Array {
  if (!o || o.length !== size) throw new Error(`collectRollout: env returned an observation of length ${o?.length}, expected ${size}`);
  for (let j = 0; j < size; j++) if (!Number.isFinite(o[j])) throw new Error(`collectRollout: observation[${j}] = ${o[j]}, expected a finite number`);
  return o;
}
