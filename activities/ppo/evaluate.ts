/**
 * Held-out evaluation of a trained policy against static configs (R-TUNER-SUCCESS: "≥ +5–10% reward vs
 * static baseline across 3 datasets; no constraint violations").
 *
 * Every candidate plays the same held-out episodes (`heldOutSeeds`: a seed stream of its own, apart
 * from the training rollouts, whose reset seeds are drawn from the rollout RNGs) in the same
 * environment, so differences come from the configs, not from the draws (common random numbers):
 *   - the policy, acting greedily (argmax / mean of each head);
 *   - the default static config (`policy.baseline`, R-TUNER-SUCCESS's baseline);
 *   - the best static config by grid search: every config of `configGrid` (steps kStep/fusionStep)
 *     plays `screeningEpisodes` screening episodes, then the `shortlist` best are re-played on all
 *     held-out episodes and the best of those is the static config to beat. Screening uses seeds of
 *     its own, so the winner is not picked on the episodes it is judged on.
 * The result per candidate is the mean reward per step (one step = one batch), the mean episodic
 * return, quality (F+R)/2, cost, p95 latency and the steps whose hard gates failed.
 */
import type { Action } from '../../ml/rl/environment';
import type { ActorCritic } from '../../ml/rl/actor-critic';
import { Rng } from '../../ml/rng';
import { pairedBootstrap } from '../../ml/stats/bootstrap';
import type { RewardDeltaInterval } from '../../canary/offline-gates';
import type { CandidateStats } from '../../contracts/ppo-training';
import type { PolicyConfig } from '../../envs/config';
import { configGrid } from '../../envs/oracle';
import { configToAction, type RagTuningEnvironment } from '../../envs/rag-env';
import type { RagConfig } from '../../envs/types';

export interface PolicyEvaluation {
  /** The candidates (e.g. `final`, `best`), each with its stats; `chosen` is the best of them. */
  candidates: CandidateStats[];
  chosen: string;
  baseline: CandidateStats;
  bestStatic: CandidateStats;
  /** Every grid config's screening stats (for the quality-vs-cost plot). */
  screened: CandidateStats[];
  /** What the chosen policy did: category → config label → steps. */
  actions: Record<string, Record<string, number>>;
  /** Relative improvement of the chosen policy's reward: (r − r_ref) / |r_ref|. */
  improvementVsBaseline: number;
  improvementVsBestStatic: number;
  /**
   * Paired bootstrap interval (10,000 resamples, 95 %) of the chosen policy's mean reward per step minus the
   * baseline's, episode by episode on the same held-out seeds: the offline gate's evidence (canary/offline-gates.ts).
   */
  rewardDelta: RewardDeltaInterval;
}

/** The offline gate's interval: 95 %, 10,000 resamples. */
export const REWARD_DELTA_ALPHA = 0.05;
const REWARD_DELTA_RESAMPLES = 10_000;

export interface EvaluateOptions {
  episodes: number;
  screeningEpisodes: number;
  shortlist: number;
  kStep: number;
  fusionStep: number;
  seed: number;
  /** Called every few hundred steps with (steps done, steps planned) (heartbeats). */
  onProgress?: (done: number, total: number) => void;
}

/** `n` episode seeds of a stream apart from training (stream 1: evaluation, 2: screening). */
export function heldOutSeeds(seed: number, n: number, stream = 1): number[] {
  const rng = new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ (0x5eed0000 + stream)) >>> 0);
  return Array.from({ length: n }, () => rng.nextUint32());
}

export function configLabel(c: RagConfig): string {
  return `${c.variant} k=${c.k} rerank=${c.rerank ? 'on' : 'off'} w=${c.fusion_weight.toFixed(2)} ${c.prompt_id}`;
}

type Actor = (observation: Float64Array) => Action;

export function greedyActor(policy: ActorCritic): Actor {
  const raw = new Float64Array(policy.numHeads);
  return (obs) => {
    policy.mode(obs, raw);
    return policy.toAction(raw);
  };
}

class Accumulator {
  steps = 0;
  episodes = 0;
  reward = 0;
  f = 0;
  r = 0;
  cost = 0;
  p95 = 0;
  violations = 0;
  /** Mean reward per step of each finished episode, in seed order. */
  readonly episodeRewards: number[] = [];
  private episodeStart = { reward: 0, steps: 0 };

  endEpisode(): void {
    const steps = this.steps - this.episodeStart.steps;
    this.episodeRewards.push(steps > 0 ? (this.reward - this.episodeStart.reward) / steps : 0);
    this.episodeStart = { reward: this.reward, steps: this.steps };
    this.episodes++;
  }

  add(reward: number, info: Record<string, unknown>): void {
    this.steps++;
    this.reward += reward;
    this.f += info.faithfulness as number;
    this.r += info.relevancy as number;
    this.cost += info.cost_usd as number;
    this.p95 += info.latency_p95_ms as number;
    if (!(info.gates as { passed: boolean }).passed) this.violations++;
  }

  stats(label: string, config?: RagConfig): CandidateStats {
    const n = Math.max(1, this.steps);
    const f = this.f / n, r = this.r / n;
    return {
      label,
      ...(config ? { config } : {}),
      episodes: this.episodes,
      steps: this.steps,
      reward: this.reward / n,
      episodicReturn: this.reward / Math.max(1, this.episodes),
      faithfulness: f,
      relevancy: r,
      quality: (f + r) / 2,
      costUsd: this.cost / n,
      latencyP95Ms: this.p95 / n,
      gateViolations: this.violations,
    };
  }
}

/** Plays one episode per seed with `act`; `onStep` sees each step's info. */
export async function playEpisodes(
  env: RagTuningEnvironment,
  act: Actor,
  seeds: number[],
  onStep?: (info: Record<string, unknown>) => void,
): Promise<Accumulator> {
  const acc = new Accumulator();
  for (const seed of seeds) {
    let obs = env.reset(seed);
    for (;;) {
      const step = await env.step(act(obs));
      acc.add(step.reward, step.info);
      onStep?.(step.info);
      obs = step.observation;
      if (step.done) break;
    }
    acc.endEpisode();
  }
  return acc;
}

const staticActor = (config: RagConfig): Actor => {
  const action = configToAction(config);
  return () => action;
};

export function relativeImprovement(value: number, reference: number): number {
  return (value - reference) / Math.max(Math.abs(reference), 1e-12);
}

export async function evaluatePolicies(
  env: RagTuningEnvironment,
  config: PolicyConfig,
  candidates: { label: string; policy: ActorCritic }[],
  options: EvaluateOptions,
): Promise<PolicyEvaluation> {
  if (candidates.length === 0) throw new Error('evaluatePolicies: no candidate policy given');
  const seeds = heldOutSeeds(options.seed, options.episodes, 1);
  const screeningSeeds = heldOutSeeds(options.seed, options.screeningEpisodes, 2);
  const grid = configGrid(config.policy, { kStep: options.kStep, fusionStep: options.fusionStep });
  const L = config.environment.episode_length;
  const total = L * (seeds.length * (candidates.length + 1 + Math.min(options.shortlist, grid.length)) + screeningSeeds.length * grid.length);
  let done = 0;
  const tick = () => {
    done++;
    if (done % 256 === 0) options.onProgress?.(done, total);
  };

  const policyStats: CandidateStats[] = [];
  const episodeRewards = new Map<string, number[]>();
  const actionsByLabel = new Map<string, Record<string, Record<string, number>>>();
  for (const c of candidates) {
    const actions: Record<string, Record<string, number>> = {};
    const acc = await playEpisodes(env, greedyActor(c.policy), seeds, (info) => {
      tick();
      const category = String(info.category);
      const key = configLabel(info.config as RagConfig);
      actions[category] ??= {};
      actions[category][key] = (actions[category][key] ?? 0) + 1;
    });
    policyStats.push(acc.stats(c.label));
    episodeRewards.set(c.label, acc.episodeRewards);
    actionsByLabel.set(c.label, actions);
  }
  const chosen = policyStats.reduce((a, b) => (b.reward > a.reward ? b : a));

  const baselineConfig = { ...config.policy.baseline } as RagConfig;
  const baselineAcc = await playEpisodes(env, staticActor(baselineConfig), seeds, tick);
  const baseline = baselineAcc.stats('baseline', baselineConfig);
  const delta = pairedBootstrap(episodeRewards.get(chosen.label)!, baselineAcc.episodeRewards, {
    alpha: REWARD_DELTA_ALPHA,
    nBootstrapSamples: REWARD_DELTA_RESAMPLES,
    randomState: options.seed,
  });

  const screened: CandidateStats[] = [];
  for (const gc of grid) screened.push((await playEpisodes(env, staticActor(gc), screeningSeeds, tick)).stats(configLabel(gc), gc));
  const shortlist = [...screened].sort((a, b) => b.reward - a.reward).slice(0, options.shortlist);
  let bestStatic: CandidateStats | null = null;
  for (const s of shortlist) {
    const full = (await playEpisodes(env, staticActor(s.config!), seeds, tick)).stats(s.label, s.config);
    if (!bestStatic || full.reward > bestStatic.reward) bestStatic = full;
  }
  options.onProgress?.(total, total);

  return {
    candidates: policyStats,
    chosen: chosen.label,
    baseline,
    bestStatic: bestStatic!,
    screened,
    actions: actionsByLabel.get(chosen.label)!,
    improvementVsBaseline: relativeImprovement(chosen.reward, baseline.reward),
    improvementVsBestStatic: relativeImprovement(chosen.reward, bestStatic!.reward),
    rewardDelta: { value: delta.value, lower: delta.lower, upper: delta.upper, alpha: REWARD_DELTA_ALPHA, episodes: seeds.length },
  };
}
