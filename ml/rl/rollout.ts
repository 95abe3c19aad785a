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
  /**
   * Steps whose episode was cut by a time limit (the env's `info.truncated === true`) with V of the
   * observation the env returned there (before the reset): `ppoUpdate` adds γ·value to that step's
   * reward when `bootstrap_truncated` (SB3's handling of timeouts). Absent when no episode was truncated.
   */
  truncations?: { t: number; value: number }[];
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
  const { start, ...shared } = options;
  return (await collectRollouts([env], policy, steps, [rng], { ...shared, starts: [start] }))[0];
}

/**
 * `collectRollout` for several environments stepped in lockstep with ONE policy forward per step
 * for all of them (a rollout worker's vectorised env). Env e draws its actions and reset seeds from
 * rngs[e] in the same order as `collectRollout(envs[e], policy, steps, rngs[e])` does, and a row of a
 * batched forward equals a one-row forward bit for bit, so the batches are identical to running the
 * environments one after another. Environments are stepped (and awaited) in index order.
 */
export async function collectRollouts(
  envs: Environment[],
  policy: ActorCritic,
  steps: number,
  rngs: Rng[],
  options: Omit<RolloutOptions, 'start'> & { starts?: (RolloutCarry | undefined)[] } = {},
): Promise<RolloutBatch[]> {
  const E = envs.length, H = policy.numHeads, obsSize = policy.spec.observationSize;
  if (E < 1) throw new Error('collectRollouts: envs is empty, expected at least one environment');
  if (rngs.length !== E) throw new Error(`collectRollouts: ${rngs.length} rngs for ${E} environments, expected one per environment`);
  if (!Number.isInteger(steps) || steps < 1) throw new Error(`collectRollout: steps = ${steps}, expected an integer ≥ 1`);
  const policyNames = policy.spec.actionSpace.map((p) => `${p.kind}:${p.name}`).join(',');
  for (const env of envs) {
    if (env.observationSize !== obsSize) throw new Error(`collectRollout: env.observationSize = ${env.observationSize}, the policy expects ${obsSize}`);
    const names = env.actionSpace.map((p) => `${p.kind}:${p.name}`).join(',');
    if (names !== policyNames) throw new Error(`collectRollout: env action space [${names}] differs from the policy's [${policyNames}]`);
  }

  const obs = new Float64Array(E * obsSize);
  const done = new Array<number>(E), epReturn = new Array<number>(E), epLength = new Array<number>(E);
  for (let e = 0; e < E; e++) {
    const start = options.starts?.[e];
    if (start) {
      if (start.observation.length !== obsSize) throw new Error(`collectRollout: start.observation has ${start.observation.length} values, expected ${obsSize}`);
      obs.set(start.observation, e * obsSize);
      done[e] = start.done;
      epReturn[e] = start.episodeReturn;
      epLength[e] = start.episodeLength;
    } else {
      const r = envs[e].reset(resetSeed(rngs[e]));
      obs.set(checkObs(isPromise(r) ? await r : r, obsSize), e * obsSize);
      done[e] = 0;
      epReturn[e] = 0;
      epLength[e] = 0;
    }
  }

  const batches: RolloutBatch[] = envs.map(() => ({
    observationSize: obsSize, numHeads: H, numSteps: steps,
    obs: new Array<number>(steps * obsSize), actions: new Array<number>(steps * H),
    logprobs: new Array<number>(steps), rewards: new Array<number>(steps), dones: new Array<number>(steps), values: new Array<number>(steps),
    nextObs: [], nextDone: 0, nextValue: 0, episodes: [], carry: { observation: [], done: 0, episodeReturn: 0, episodeLength: 0 },
    ...(options.keepInfos ? { infos: [] } : {}),
  }));
  const raw = new Float64Array(E * H);

  for (let t = 0; t < steps; t++) {
    policy.forward(obs, E);
    for (let e = 0; e < E; e++) {
      const batch = batches[e];
      for (let j = 0; j < obsSize; j++) batch.obs[t * obsSize + j] = obs[e * obsSize + j];
      batch.dones[t] = done[e];
      const { logProb, value } = policy.actRow(e, raw, e * H, options.deterministic ? null : rngs[e]);
      for (let h = 0; h < H; h++) batch.actions[t * H + h] = raw[e * H + h];
      batch.logprobs[t] = logProb;
      batch.values[t] = value;
    }
    for (let e = 0; e < E; e++) {
      const batch = batches[e];
      const s = envs[e].step(policy.toAction(raw, e * H));
      const res: StepResult = isPromise(s) ? await s : s;
      if (!Number.isFinite(res.reward)) throw new Error(`collectRollout: env returned reward ${res.reward} at step ${t}, expected a finite number`);
      batch.rewards[t] = res.reward;
      if (batch.infos) batch.infos.push(res.info);
      epReturn[e] += res.reward;
      epLength[e] += 1;
      if (res.done) {
        if (res.info?.truncated === true) {
          // V(s_final): one more forward of this row alone (the step's actions and values were already read)
          policy.forward(checkObs(res.observation, obsSize), 1);
          (batch.truncations ??= []).push({ t, value: policy.values()[0] });
        }
        batch.episodes.push({ return: epReturn[e], length: epLength[e] });
        epReturn[e] = 0;
        epLength[e] = 0;
        const r = envs[e].reset(resetSeed(rngs[e]));
        obs.set(checkObs(isPromise(r) ? await r : r, obsSize), e * obsSize);
        done[e] = 1;
      } else {
        obs.set(checkObs(res.observation, obsSize), e * obsSize);
        done[e] = 0;
      }
    }
  }

  policy.forward(obs, E);
  const values = policy.values();
  for (let e = 0; e < E; e++) {
    const batch = batches[e], o = Array.from(obs.subarray(e * obsSize, (e + 1) * obsSize));
    batch.nextValue = values[e];
    batch.nextObs = o;
    batch.nextDone = done[e];
    batch.carry = { observation: [...o], done: done[e], episodeReturn: epReturn[e], episodeLength: epLength[e] };
  }
  return batches;
}

function checkObs(o: Float64Array, size: number): Float64Array {
  if (!o || o.length !== size) throw new Error(`collectRollout: env returned an observation of length ${o?.length}, expected ${size}`);
  for (let j = 0; j < size; j++) if (!Number.isFinite(o[j])) throw new Error(`collectRollout: observation[${j}] = ${o[j]}, expected a finite number`);
  return o;
}
