/**
 * Prints the simulator's reference points (what a learned policy is judged against):
 *   node -r ./scripts/register-ts.js envs/surface-report.ts
 * per category: the optimal config and its expected reward per batch (and the default static
 * config's); per dataset: the default static config, the best single static config (grid search)
 * and the per-category oracle, with the oracle's gains over both.
 */
import { defaultPolicyConfig } from './config';
import { DATASETS } from './datasets';
import { SimulatedRagEvaluator } from './evaluators/simulator';
import { bestStaticConfig, configGrid, expectedReward, oracleReward, perCategoryOracle, staticReward } from './oracle';
import type { RagConfig } from './types';

function main(): void {
  const policy = defaultPolicyConfig().policy;
  const sim = new SimulatedRagEvaluator();
  const grid = configGrid(policy);
  const baseline = policy.baseline as RagConfig;
  const oracle = perCategoryOracle(sim, policy, sim.categories, grid);
  const fmt = (c: RagConfig) => `${c.variant} k=${c.k} rerank=${c.rerank ? 'on' : 'off'} w=${c.fusion_weight.toFixed(2)} ${c.prompt_id}`;
  console.log(`grid: ${grid.length} configs; expected reward per batch of 200`);
  for (const c of sim.categories) {
    console.log(`${c.padEnd(11)} optimum ${fmt(oracle[c].config).padEnd(42)} ${oracle[c].reward.toFixed(4)}   default ${expectedReward(sim, policy, baseline, c).toFixed(4)}`);
  }
  for (const [name, d] of Object.entries(DATASETS)) {
    const best = bestStaticConfig(sim, policy, d, grid);
    const base = staticReward(sim, policy, baseline, d);
    const top = oracleReward(oracle, d);
    console.log(
      `${name.padEnd(14)} default ${base.toFixed(4)}  best static ${best.reward.toFixed(4)} (${fmt(best.config)})  oracle ${top.toFixed(4)}: ` +
        `+${(100 * (top / base - 1)).toFixed(1)}% over default, +${(100 * (top / best.reward - 1)).toFixed(1)}% over best static`,
    );
  }
}

main();
