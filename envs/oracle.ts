/**
 * Reference points a learned policy is judged against, found by exhaustive grid search on the
 * simulator's noise-free surface (`SimulatedRagEvaluator.expected`):
 *   - the default static config (seed §16 baseline, from the policy config);
 *   - the best single static config for a dataset: argmax over the grid of Σ_c mix_c · r(config, c);
 *   - the per-category oracle: argmax over the grid of r(config, c) for each category c, which is
 *     what a contextual policy (one that sees the category) can reach at best.
 * Rewards are those of the expected batch (`computeReward` on `expected`).
 */
import type { PolicySection } from './config';
import type { DatasetSpec } from './datasets';
import type { SimulatedRagEvaluator } from './evaluators/simulator';
import { computeReward } from './reward';
import type { RagConfig, Variant } from './types';

export interface GridOptions {
  /** Step of k over the bounds (default 1: every integer). */
  kStep?: number;
  /** Step of the fusion weight over its bounds (default 0.05). */
  fusionStep?: number;
}

/** Every config on the grid: variant × k × rerank × fusion weight × prompt. */
export function configGrid(policy: PolicySection, options: GridOptions = {}): RagConfig[] {
  const kStep = options.kStep ?? 1;
  const fStep = options.fusionStep ?? 0.05;
  const { k, fusion_weight: fw } = policy.bounds;
  const ks: number[] = [];
  for (let v = k.min; v <= k.max; v += kStep) ks.push(v);
  if (ks[ks.length - 1] !== k.max) ks.push(k.max);
  const ws: number[] = [];
  const steps = Math.round((fw.max - fw.min) / fStep);
  for (let i = 0; i <= steps; i++) ws.push(Math.min(fw.max, fw.min + i * fStep));
  const out: RagConfig[] = [];
  for (const variant of policy.discrete.variant as Variant[]) {
    for (const kk of ks) {
      for (const rerank of [false, true]) {
        for (const w of ws) {
          for (const prompt_id of policy.discrete.prompt_id) out.push({ variant, k: kk, rerank, fusion_weight: w, prompt_id });
        }
      }
    }
  }
  return out;
}

/** Reward of the noise-free batch of `config` on `category`. */
export function expectedReward(sim: SimulatedRagEvaluator, policy: PolicySection, config: RagConfig, category: string): number {
  return computeReward(sim.expected(config, category), policy).reward;
}

/** Mix-weighted expected reward of one static config on a dataset. */
export function staticReward(sim: SimulatedRagEvaluator, policy: PolicySection, config: RagConfig, dataset: DatasetSpec): number {
  let r = 0;
  for (const [category, share] of Object.entries(dataset.categoryMix)) r += share * expectedReward(sim, policy, config, category);
  return r;
}

export interface Best {
  config: RagConfig;
  reward: number;
}

/** The best single static config for a dataset (grid search). */
export function bestStaticConfig(sim: SimulatedRagEvaluator, policy: PolicySection, dataset: DatasetSpec, grid = configGrid(policy)): Best {
  let best: Best | null = null;
  for (const config of grid) {
    const reward = staticReward(sim, policy, config, dataset);
    if (!best || reward > best.reward) best = { config, reward };
  }
  return best!;
}

/** The best config for each category (grid search). */
export function perCategoryOracle(sim: SimulatedRagEvaluator, policy: PolicySection, categories: string[], grid = configGrid(policy)): Record<string, Best> {
  const out: Record<string, Best> = {};
  for (const category of categories) {
    let best: Best | null = null;
    for (const config of grid) {
      const reward = expectedReward(sim, policy, config, category);
      if (!best || reward > best.reward) best = { config, reward };
    }
    out[category] = best!;
  }
  return out;
}

/** Mix-weighted reward of the per-category oracle on a dataset. */
export function oracleReward(oracle: Record<string, Best>, dataset: DatasetSpec): number {
  let r = 0;
  for (const [category, share] of Object.entries(dataset.categoryMix)) r += share * oracle[category].reward;
  return r;
}
