/**
 * Judges a tuning policy against static configs on held-out seeds (issue 4's learning criteria):
 * for each dataset, the policy, the default static config (R-TUNER-SUCCESS baseline) and the best single
 * static config for that dataset (grid search on the simulator's expected reward, `oracle.ts`) each
 * play the same episodes: same reset seeds, so the same categories and the same evaluator seeds
 * (common random numbers: the environment draws both independently of the actions). Reported per
 * dataset: mean reward per batch of each, the relative gains, gate violations, and how often the
 * policy chose each category's optimal config.
 *
 * "Chose the optimal config" for a batch of category c: the same re-rank and prompt as the grid-search
 * optimum of c, and an expected reward within `tolerance` (default 2%) of the optimum's: k and the
 * fusion weight are an integer and a real, so "the" optimum is a small neighbourhood. The variant is
 * judged through the reward, because (A, w = 1) and (B, w = 1) are the same 50/50 hybrid.
 */
import type { PolicyConfig } from './config';
import { getDataset } from './datasets';
import type { SimulatedRagEvaluator } from './evaluators/simulator';
import { bestStaticConfig, configGrid, expectedReward, perCategoryOracle, type Best } from './oracle';
import { configToAction, RagTuningEnvironment } from './rag-env';
import { runEpisode, staticPolicy, type PolicyFn } from './rollout';
import type { RagConfig } from './types';

export interface ComparisonOptions {
  config: Pick<PolicyConfig, 'policy' | 'environment'>;
  /** A fresh simulator per played episode set (drift clocks stay independent). */
  makeSimulator: () => SimulatedRagEvaluator;
  datasets: string[];
  /** Held-out reset seeds (never used in training). */
  seeds: number[];
  contextual?: boolean;
  tolerance?: number;
}

export interface DatasetComparison {
  dataset: string;
  batches: number;
  /** Mean reward per batch. */
  policyReward: number;
  baselineReward: number;
  bestStaticReward: number;
  bestStaticConfig: RagConfig;
  /** policyReward / baselineReward − 1, and against the best static config. */
  gainOverBaseline: number;
  gainOverBestStatic: number;
  /** Batches that failed a hard gate. */
  gateViolations: { policy: number; baseline: number; bestStatic: number };
  /** Per category: share of its batches where the policy chose the category's optimal config. */
  optimalPickRate: Record<string, number>;
}

async function play(options: ComparisonOptions, dataset: string, act: PolicyFn) {
  const env = new RagTuningEnvironment({
    evaluator: options.makeSimulator(),
    config: options.config,
    datasets: [dataset],
    contextual: options.contextual,
  });
  let total = 0;
  let batches = 0;
  let violations = 0;
  const steps: Array<{ category: string; config: RagConfig }> = [];
  for (const seed of options.seeds) {
    const rec = await runEpisode(env, act, seed);
    for (let i = 0; i < rec.rewards.length; i++) {
      total += rec.rewards[i];
      batches += 1;
      const info = rec.infos[i] as { category: string; config: RagConfig; gates: { passed: boolean } };
      if (!info.gates.passed) violations += 1;
      steps.push({ category: info.category, config: info.config });
    }
  }
  return { mean: total / batches, batches, violations, steps };
}

/** Plays `policy`, the baseline and the best static config on every dataset. */
export async function compareWithStaticConfigs(policy: PolicyFn, options: ComparisonOptions): Promise<DatasetComparison[]> {
  const tolerance = options.tolerance ?? 0.02;
  const p = options.config.policy;
  const sim = options.makeSimulator();
  const grid = configGrid(p);
  const categories = sim.categories;
  const oracle: Record<string, Best> = perCategoryOracle(sim, p, categories, grid);
  const out: DatasetComparison[] = [];
  for (const dataset of options.datasets) {
    const best = bestStaticConfig(sim, p, getDataset(dataset), grid);
    const pol = await play(options, dataset, policy);
    const base = await play(options, dataset, staticPolicy(configToAction(p.baseline as RagConfig)));
    const stat = await play(options, dataset, staticPolicy(configToAction(best.config)));
    const picks: Record<string, { hit: number; n: number }> = {};
    for (const { category, config } of pol.steps) {
      const o = oracle[category];
      const same = config.rerank === o.config.rerank && config.prompt_id === o.config.prompt_id;
      const near = expectedReward(sim, p, config, category) >= o.reward - tolerance * Math.abs(o.reward);
      picks[category] ??= { hit: 0, n: 0 };
      picks[category].n += 1;
      if (same && near) picks[category].hit += 1;
    }
    out.push({
      dataset,
      batches: pol.batches,
      policyReward: pol.mean,
      baselineReward: base.mean,
      bestStaticReward: stat.mean,
      bestStaticConfig: best.config,
      gainOverBaseline: pol.mean / base.mean - 1,
      gainOverBestStatic: pol.mean / stat.mean - 1,
      gateViolations: { policy: pol.violations, baseline: base.violations, bestStatic: stat.violations },
      optimalPickRate: Object.fromEntries(Object.entries(picks).map(([c, v]) => [c, v.hit / v.n])),
    });
  }
  return out;
}
