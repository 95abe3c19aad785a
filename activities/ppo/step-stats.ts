/**
 * What a PPO iteration's rollouts saw besides the reward, for seed 002 §17's charts (the console's
 * training-run page reads these run_metrics by step):
 *   charts/latency_p50_ms      median over the iteration's env steps of each step's batch p50 latency
 *   charts/latency_p95_ms      median over the iteration's env steps of each step's batch p95 latency
 *   charts/gate_breaches       env steps whose hard gates (R-TUNER-GATES) did not all pass
 *   charts/gate_breach_rate    gate_breaches / env steps
 *   variant/<v>/share          share of the iteration's env steps that chose retriever variant v
 *   variant/<v>/return         mean reward of those steps (v's conditional one-step return); absent when v was never chosen
 *
 * A rollout records its steps as the environment returns them (`recordingStepStats` wraps the env:
 * no second pass over the rollout), the stats travel inside the stored rollout, and the update
 * activity merges the iteration's rollouts with `stepStatsMetrics`. Since every step's p50 ≤ its
 * p95, the median of the p50s is ≤ the median of the p95s.
 */
import type { Environment, StepResult } from '../../ml/rl/environment';

/** One rollout's step statistics (plain JSON, stored with the rollout). */
export interface RolloutStepStats {
  steps: number;
  /** Each step's batch latency percentiles, in step order. */
  latencyP50Ms: number[];
  latencyP95Ms: number[];
  gateBreaches: number;
  /** Retriever variant → steps that chose it and the sum of their rewards (every choice of the action space, chosen or not). */
  variants: Record<string, { steps: number; rewardSum: number }>;
}

/** The variant choices of an environment's action space (its categorical part `variant`). */
function variantChoices(env: Environment): string[] {
  const part = env.actionSpace.find((p) => p.name === 'variant');
  if (part?.kind !== 'categorical') throw new Error(`step stats: the environment's action space has no categorical part "variant" (parts: ${env.actionSpace.map((p) => `${p.kind}:${p.name}`).join(', ')})`);
  return part.choices;
}

function emptyStats(choices: string[]): RolloutStepStats {
  return { steps: 0, latencyP50Ms: [], latencyP95Ms: [], gateBreaches: 0, variants: Object.fromEntries(choices.map((v) => [v, { steps: 0, rewardSum: 0 }])) };
}

function finiteField(info: Record<string, unknown>, field: string): number {
  const x = info[field];
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`step stats: info.${field} = ${typeof x === 'number' ? String(x) : JSON.stringify(x)}, expected a finite number`);
  return x;
}

/** Adds one environment step to `stats`. The info is the RAG environment's (`envs/rag-env.ts`). */
export function addStep(stats: RolloutStepStats, res: StepResult): void {
  const info = res.info;
  const p50 = finiteField(info, 'latency_p50_ms'), p95 = finiteField(info, 'latency_p95_ms');
  const passed = (info.gates as { passed?: unknown } | undefined)?.passed;
  if (typeof passed !== 'boolean') throw new Error(`step stats: info.gates.passed = ${JSON.stringify(passed)}, expected a boolean`);
  const variant = (info.config as { variant?: unknown } | undefined)?.variant;
  const slot = typeof variant === 'string' ? stats.variants[variant] : undefined;
  if (slot === undefined) throw new Error(`step stats: info.config.variant = ${JSON.stringify(variant)}, expected one of ${Object.keys(stats.variants).join(', ')}`);
  stats.steps += 1;
  stats.latencyP50Ms.push(p50);
  stats.latencyP95Ms.push(p95);
  if (!passed) stats.gateBreaches += 1;
  slot.steps += 1;
  slot.rewardSum += res.reward;
}

/** `env` with every step result also added to the returned `stats` (filled as the rollout runs). */
export function recordingStepStats(env: Environment): { env: Environment; stats: RolloutStepStats } {
  const stats = emptyStats(variantChoices(env));
  const record = (res: StepResult): StepResult => {
    addStep(stats, res);
    return res;
  };
  return {
    stats,
    env: {
      observationSize: env.observationSize,
      actionSpace: env.actionSpace,
      reset: (seed) => env.reset(seed),
      step: (action) => {
        const s = env.step(action);
        return s instanceof Promise ? s.then(record) : record(s);
      },
    },
  };
}

/** The median (linear interpolation between the two middle values for an even count). */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One iteration's metrics (names above) from its rollouts' stats; {} when the rollouts made no steps. */
export function stepStatsMetrics(rollouts: readonly RolloutStepStats[]): Record<string, number> {
  const steps = rollouts.reduce((n, r) => n + r.steps, 0);
  if (steps === 0) return {};
  const out: Record<string, number> = {
    'charts/latency_p50_ms': median(rollouts.flatMap((r) => r.latencyP50Ms)),
    'charts/latency_p95_ms': median(rollouts.flatMap((r) => r.latencyP95Ms)),
    'charts/gate_breaches': rollouts.reduce((n, r) => n + r.gateBreaches, 0),
  };
  out['charts/gate_breach_rate'] = out['charts/gate_breaches'] / steps;
  const variants = [...new Set(rollouts.flatMap((r) => Object.keys(r.variants)))].sort();
  for (const v of variants) {
    let n = 0, sum = 0;
    for (const r of rollouts) {
      n += r.variants[v]?.steps ?? 0;
      sum += r.variants[v]?.rewardSum ?? 0;
    }
    out[`variant/${v}/share`] = n / steps;
    if (n > 0) out[`variant/${v}/return`] = sum / n;
  }
  return out;
}
