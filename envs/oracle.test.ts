import { defaultPolicyConfig } from './config';
import { DATASETS } from './datasets';
import { CATEGORIES, SimulatedRagEvaluator } from './evaluators/simulator';
import { binomialCdf, configGrid, expectedReward, perCategoryOracle, staticReward } from './oracle';
import { computeReward } from './reward';
import type { RagConfig } from './types';

const policy = defaultPolicyConfig().policy;
const sim = new SimulatedRagEvaluator();

describe('expectedReward', () => {
  const cases: Array<[string, RagConfig, string]> = [
    ['the default static config on policy questions', policy.baseline as RagConfig, 'policy'],
    ['the policy optimum', { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' }, 'policy'],
    ['a config near the quality gates (breaches in a share of batches)', { variant: 'A', k: 5, rerank: true, fusion_weight: 0, prompt_id: 'default' }, 'policy'],
    ['a config near the latency gate', { variant: 'B', k: 20, rerank: true, fusion_weight: 0.5, prompt_id: 'step-by-step' }, 'howto'],
    ['a config that leaks personal data', { variant: 'B', k: 30, rerank: false, fusion_weight: 0, prompt_id: 'default' }, 'policy'],
  ];

  it.each(cases)('matches the Monte-Carlo mean of noisy batches: %s', (_name, config, category) => {
    const n = 3000;
    let sum = 0;
    let sumSq = 0;
    for (let seed = 0; seed < n; seed++) {
      const r = computeReward(sim.evaluateSync(config, category, 200, seed), policy).reward;
      sum += r;
      sumSq += r * r;
    }
    const mean = sum / n;
    const se = Math.sqrt((sumSq / n - mean * mean) / n);
    expect(Math.abs(expectedReward(sim, policy, config, category) - mean)).toBeLessThan(4 * se + 0.002);
  });

  it('binomialCdf sums the pmf', () => {
    expect(binomialCdf(0, 10, 0.1)).toBeCloseTo(0.9 ** 10, 12);
    expect(binomialCdf(1, 10, 0.1)).toBeCloseTo(0.9 ** 10 + 10 * 0.1 * 0.9 ** 9, 12);
    expect(binomialCdf(-1, 10, 0.1)).toBe(0);
    expect(binomialCdf(10, 10, 0.3)).toBe(1);
  });
});

describe('grid search', () => {
  it('covers the action space: 2 variants × 30 k × 2 re-rank × 21 fusion weights × 3 prompts', () => {
    const grid = configGrid(policy);
    expect(grid).toHaveLength(2 * 30 * 2 * 21 * 3);
    expect(grid[0]).toEqual({ variant: 'A', k: 3, rerank: false, fusion_weight: 0, prompt_id: 'default' });
  });

  it('the per-category oracle is the argmax of expectedReward, and static rewards are mix-weighted', () => {
    const grid = configGrid(policy, { kStep: 3, fusionStep: 0.25 });
    const oracle = perCategoryOracle(sim, policy, CATEGORIES, grid);
    for (const c of CATEGORIES) {
      for (const config of grid) expect(expectedReward(sim, policy, config, c)).toBeLessThanOrEqual(oracle[c].reward);
    }
    const mix = DATASETS['dev-docs'].categoryMix;
    const cfg = policy.baseline as RagConfig;
    expect(staticReward(sim, policy, cfg, DATASETS['dev-docs'])).toBeCloseTo(
      CATEGORIES.reduce((s, c) => s + mix[c] * expectedReward(sim, policy, cfg, c), 0), 12,
    );
  });
});
