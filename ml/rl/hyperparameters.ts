import { z } from 'zod';
import type { ActorCriticSpec } from './actor-critic';
import type { ActionSpace } from './environment';

/**
 * PPO hyperparameters, named as CleanRL's `ppo.py` Args (snake_case, so the YAML policy config and
 * CleanRL runs read the same). Defaults: R-TUNER-PPO where it speaks (γ 0.99, λ 0.95, clip 0.2,
 * KL target in 0.01–0.05, lr 1e-4, 4 minibatches, epochs in 3–10), CleanRL otherwise.
 */
const int = (min: number, what: string) => z.number({ error: what }).int({ error: what }).min(min, { error: what });
const num = (what: string) => z.number({ error: what }).refine(Number.isFinite, { error: what });
const unit = (what: string) => num(what).refine((x) => x >= 0 && x <= 1, { error: what });
const nonneg = (what: string) => num(what).refine((x) => x >= 0, { error: what });
const pos = (what: string) => num(what).refine((x) => x > 0, { error: what });
const bool = z.boolean({ error: 'true or false' });

export const PpoHyperparametersSchema = z.strictObject({
  /** Seed of the policy initialisation, minibatch shuffles and action sampling. */
  seed: int(0, 'an integer ≥ 0').default(1),
  /** Total environment steps of the run; num_iterations = total_timesteps // batch_size. */
  total_timesteps: int(1, 'an integer ≥ 1').default(100_000),
  /** Adam learning rate (the start value when annealed or adapted). */
  learning_rate: pos('a number > 0').default(1e-4),
  /** Parallel environments (rollout activities) per iteration. */
  num_envs: int(1, 'an integer ≥ 1').default(4),
  /** Steps each environment runs per rollout. */
  num_steps: int(1, 'an integer ≥ 1').default(128),
  /** Linear learning-rate annealing from learning_rate to 0 over num_iterations. */
  anneal_lr: bool.default(true),
  /** Adapt the learning rate to the KL after each update (÷1.5 above 2·target_kl, ×1.5 below target_kl/2; needs target_kl). Seed 002: "schedule per KL". */
  kl_adaptive_lr: bool.default(false),
  /** Discount factor γ. */
  gamma: unit('a number in [0, 1]').default(0.99),
  /** GAE λ. */
  gae_lambda: unit('a number in [0, 1]').default(0.95),
  /** Minibatches per epoch; minibatch_size = batch_size // num_minibatches. */
  num_minibatches: int(1, 'an integer ≥ 1').default(4),
  /** Epochs over the batch per update. */
  update_epochs: int(1, 'an integer ≥ 1').default(10),
  /** Normalise advantages per minibatch. */
  norm_adv: bool.default(true),
  /** Surrogate clipping ε. */
  clip_coef: pos('a number > 0').default(0.2),
  /** Clip the value loss around the old values (CleanRL's clipped value loss). */
  clip_vloss: bool.default(true),
  /** Entropy bonus coefficient. */
  ent_coef: nonneg('a number ≥ 0').default(0.01),
  /** Value loss coefficient. */
  vf_coef: nonneg('a number ≥ 0').default(0.5),
  /** Global gradient-norm clip. */
  max_grad_norm: pos('a number > 0').default(0.5),
  /** Stop the epochs of an update once approx_kl exceeds this; null disables it. */
  target_kl: pos('a number > 0 or null').nullable().default(0.02),
  /** Trunk widths of the policy MLP (and of the critic's own trunk when vf_share_layers is false). */
  hidden_sizes: z.array(int(1, 'an integer ≥ 1'), { error: 'a list of positive integers' }).min(1, { error: 'a non-empty list of positive integers' }).default([64, 64]),
  /**
   * RLlib's name: one trunk shared by the policy and the value head (true), or separate actor and
   * critic trunks (false: SB3's and CleanRL's design). Default false, by bench/ppo-peers.ts: on
   * CartPole-v1 with CleanRL's hyperparameters the shared trunk reached 0.14× SB3's return (its value
   * loss swamps the policy's gradients), separate trunks 0.99× (bench/RESULTS.md, 2026-12-06).
   */
  vf_share_layers: bool.default(false),
  /**
   * Normalise observations by their running mean/variance inside the network (SB3's VecNormalize
   * norm_obs): the statistics are updated from each iteration's rollouts after its update, stored in
   * the checkpoint and exported into the ONNX graph, so serving applies the same transform.
   */
  norm_obs: bool.default(false),
  /** Clip normalised observations to [−clip_obs, clip_obs] (SB3's VecNormalize default 10). */
  clip_obs: pos('a number > 0').default(10),
  /**
   * Scale rewards by the running std of each environment's discounted return (CleanRL's
   * NormalizeReward wrapper, SB3's VecNormalize norm_reward); the statistics live in the optimizer
   * state. Episode returns in the metrics stay unscaled.
   */
  norm_reward: bool.default(false),
  /**
   * Value-target normalisation (MAPPO's ValueNorm): the value head learns the returns standardised by
   * their running mean/variance (updated from each iteration's returns before its epochs, stored in the
   * policy checkpoint); GAE and the reported values stay in reward units, the value loss is taken in the
   * standardised ones, so its scale no longer depends on the rewards'.
   */
  norm_value: bool.default(false),
  /** Clip scaled rewards to [−clip_reward, clip_reward] (SB3's default 10). */
  clip_reward: pos('a number > 0').default(10),
  /**
   * Where an environment ends an episode by a time limit (`info.truncated === true`), add γ·V(s_final)
   * to that step's reward instead of treating the cut as a terminal state (SB3's timeout handling;
   * CleanRL treats it as terminal). Changes nothing for environments that never report truncation.
   */
  bootstrap_truncated: bool.default(true),
});

export type PpoHyperparameters = z.output<typeof PpoHyperparametersSchema>;
export type PpoHyperparametersInput = z.input<typeof PpoHyperparametersSchema>;

/** The ε under the square roots of both normalisers (SB3's VecNormalize epsilon). */
export const NORM_EPSILON = 1e-8;

/** The network a run trains, from its hyperparameters (hidden_sizes, vf_share_layers, norm_obs/clip_obs, norm_value). */
export function actorCriticSpecFor(observationSize: number, actionSpace: ActionSpace, hp: PpoHyperparameters): ActorCriticSpec {
  return {
    observationSize,
    actionSpace,
    hidden: [...hp.hidden_sizes],
    shareLayers: hp.vf_share_layers,
    ...(hp.norm_obs ? { obsNorm: { clip: hp.clip_obs, epsilon: NORM_EPSILON } } : {}),
    ...(hp.norm_value ? { valueNorm: { epsilon: NORM_EPSILON } } : {}),
  };
}

/** Sizes CleanRL derives at run time, computed here once. */
export interface PpoDerived {
  batch_size: number;
  minibatch_size: number;
  num_iterations: number;
}

export function derivePpoSizes(hp: PpoHyperparameters): PpoDerived {
  const batch_size = hp.num_envs * hp.num_steps;
  return {
    batch_size,
    minibatch_size: Math.floor(batch_size / hp.num_minibatches),
    num_iterations: Math.floor(hp.total_timesteps / batch_size),
  };
}

/**
 * Validates and fills defaults. Throws one Error listing every problem as
 * `ppo.<field> = <value>: expected <what>`.
 */
export function parsePpoHyperparameters(input: unknown = {}): PpoHyperparameters {
  const r = PpoHyperparametersSchema.safeParse(input ?? {});
  const problems: string[] = [];
  if (!r.success) {
    for (const issue of r.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const k of issue.keys) problems.push(`ppo.${k}: unknown field (known: ${Object.keys(PpoHyperparametersSchema.shape).join(', ')})`);
        continue;
      }
      const field = issue.path.join('.');
      problems.push(`ppo.${field} = ${show(valueAt(input, issue.path))}: expected ${issue.message}`);
    }
  } else {
    const hp = r.data;
    const batch = hp.num_envs * hp.num_steps;
    if (hp.num_minibatches > batch) problems.push(`ppo.num_minibatches = ${hp.num_minibatches}: expected at most batch_size = num_envs × num_steps = ${batch}`);
    if (hp.total_timesteps < batch) problems.push(`ppo.total_timesteps = ${hp.total_timesteps}: expected at least batch_size = num_envs × num_steps = ${batch}`);
    if (hp.kl_adaptive_lr && hp.target_kl === null) problems.push('ppo.kl_adaptive_lr = true: expected target_kl to be set (a number > 0), got null');
  }
  if (problems.length) throw new Error(`Invalid PPO hyperparameters:\n  ${problems.join('\n  ')}`);
  return (r as { data: PpoHyperparameters }).data;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v: unknown = input;
  for (const k of path) v = v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  return JSON.stringify(v);
}
