/**
 * Reference points a learned policy is judged against, found by exhaustive grid search on the
 * simulator's expected reward per batch (`expectedReward`):
 *   - the default static config (R-TUNER-SUCCESS baseline, from the policy config);
 *   - the best single static config for a dataset: argmax over the grid of Σ_c mix_c · r(config, c);
 *   - the per-category oracle: argmax over the grid of r(config, c) for each category c, which is
 *     what a contextual policy (one that sees the category) can reach at best.
 *
 * `expectedReward` is E[r] over the simulator's batch noise (`BatchNoise`), not r at the expected
 * batch: a config whose mean F sits just above a gate breaches it in a good share of batches and
 * pays the penalty that often. With Φ the standard normal CDF and n the batch size:
 *   E[r] ≈ αF + βR − γ·min(p95·e^{sd²/2}/T_l, 2) − δ·min(c/C_ref, 2)
 *          − λ·( g·(1 − P(F̂ ≥ F_min)·P(R̂ ≥ R_min)) + s·(1 − P(p̂95 ≤ T_l)·P(errors < e_max·n))
 *               + i·P(max(ŝ_F, ŝ_R) > band) + v·P(violations > 0) )
 * (clipping of F̂ to [0, 1] and the cap of L̂ inside the expectation are neglected; `oracle.test.ts`
 * checks the formula against Monte-Carlo averages of `computeReward` on noisy batches).
 */
import type { PolicySection } from './config';
import type { DatasetSpec } from './datasets';
import { normalCdf, SimulatedRagEvaluator } from './evaluators/simulator';
import type { RewardSettings } from './reward';
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

/** Default batch size of the oracle (the environment's default). */
export const ORACLE_BATCH_SIZE = 200;

/** E[r] of one batch of `batchSize` questions of `category` under `config` (see the file comment). */
export function expectedReward(sim: SimulatedRagEvaluator, policy: RewardSettings, config: RagConfig, category: string, batchSize = ORACLE_BATCH_SIZE): number {
  const e = sim.expected(config, category);
  const nz = SimulatedRagEvaluator.noise(batchSize);
  const { thresholds: t, reward_weights: w, penalties: pen } = policy;
  const pass = (mean: number, sd: number, min: number) => (sd > 0 ? normalCdf((mean - min) / sd) : mean >= min ? 1 : 0);
  const pF = pass(e.faithfulness, e.faithfulness_std * nz.meanSdFactor, t.faithfulness);
  const pR = pass(e.relevancy, e.relevancy_std * nz.meanSdFactor, t.relevancy);
  const pLat = normalCdf((Math.log(t.p95_latency_ms) - Math.log(e.latency_ms.p95)) / nz.logP95Sd);
  const pErr = binomialCdf(Math.ceil(t.error_rate * batchSize) - 1, batchSize, e.error_rate);
  const stable = (s: number) => (s > 0 ? normalCdf((t.instability_std / s - 1) / nz.stdRelSd) : 1);
  const pUnstable = 1 - stable(e.faithfulness_std) * stable(e.relevancy_std);
  const pViolation = 1 - Math.pow(1 - e.policy_violation_rate, batchSize);
  const latencyHat = Math.min((e.latency_ms.p95 * Math.exp(nz.logP95Sd ** 2 / 2)) / t.p95_latency_ms, 2);
  const costHat = Math.min(e.cost_usd / policy.cost_ref, 2);
  const penalty =
    pen.gate_breach * (1 - pF * pR) + pen.slo_breach * (1 - pLat * pErr) + pen.instability * pUnstable + pen.policy_violation * pViolation;
  return w.alpha * e.faithfulness + w.beta * e.relevancy - w.gamma * latencyHat - w.delta * costHat - w.lambda * penalty;
}

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  let prob = Math.pow(1 - p, n);
  let cdf = prob;
  for (let i = 0; i < k; i++) {
    prob *= ((n - i) / (i + 1)) * (p / (1 - p));
    cdf += prob;
  }
  return Math.min(1, cdf);
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
