/**
 * Issue 4's learning criteria, in the simulator: PPO (ml/rl) trained on the three datasets with the
 * tuned config (configs/rl/rag-tuner.yaml), then judged on held-out seeds against the default static
 * config (R-TUNER-SUCCESS baseline) and the best single static config per dataset (grid search), in the
 * contextual environment (the next batch's category is observed). A heavy test: ~40 s of training
 * on one core.
 */
import { resolve } from 'node:path';
import { loadConfig } from '../config/load';
import { trainPpo } from '../ml/rl/train';
import { compareWithStaticConfigs } from './compare';
import { policyConfigSchema } from './config';
import { SimulatedRagEvaluator } from './evaluators/simulator';
import { RagTuningEnvironment } from './rag-env';

const config = loadConfig(policyConfigSchema, resolve(__dirname, '../configs/rl/rag-tuner.yaml'));

describe('PPO learns to tune the RAG stack in the simulator', () => {
  it('beats the default static config by ≥ 10% and the best static config by ≥ 5% on held-out seeds, without gate violations, picking each category\'s optimum ≥ 90% of the time', async () => {
    expect(config.environment.contextual).toBe(true);
    const { policy, history } = await trainPpo(
      () => new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config }),
      config.ppo,
    );
    expect(history).toHaveLength(80);
    const out = new Float64Array(policy.heads.length);
    const greedy = (obs: Float64Array) => {
      policy.mode(obs, out);
      return policy.toAction(out);
    };
    const heldOut = Array.from({ length: 10 }, (_, i) => 2_000_000_000 + i);
    const results = await compareWithStaticConfigs(greedy, {
      config,
      makeSimulator: () => new SimulatedRagEvaluator(),
      datasets: config.environment.datasets,
      seeds: heldOut,
    });
    console.log(results.map((r) =>
      `${r.dataset}: reward/batch policy ${r.policyReward.toFixed(4)}, default ${r.baselineReward.toFixed(4)} (+${(100 * r.gainOverBaseline).toFixed(1)}%), ` +
      `best static ${r.bestStaticReward.toFixed(4)} (+${(100 * r.gainOverBestStatic).toFixed(1)}%), gate violations ${r.gateViolations.policy}/${r.batches}, ` +
      `optimal picks ${JSON.stringify(r.optimalPickRate)}`).join('\n'));
    expect(results.map((r) => r.dataset)).toEqual(['acme-policies', 'dev-docs', 'support-faq']);
    for (const r of results) {
      expect({ dataset: r.dataset, gainOverBaseline: r.gainOverBaseline >= 0.1 }).toEqual({ dataset: r.dataset, gainOverBaseline: true });
      expect({ dataset: r.dataset, gainOverBestStatic: r.gainOverBestStatic >= 0.05 }).toEqual({ dataset: r.dataset, gainOverBestStatic: true });
      expect({ dataset: r.dataset, gateViolations: r.gateViolations.policy }).toEqual({ dataset: r.dataset, gateViolations: 0 });
      expect(Object.keys(r.optimalPickRate).sort()).toEqual(['definition', 'howto', 'policy']);
      for (const [category, rate] of Object.entries(r.optimalPickRate)) {
        expect({ dataset: r.dataset, category, pickedOptimum: rate >= 0.9 }).toEqual({ dataset: r.dataset, category, pickedOptimum: true });
      }
    }
  }, 600_000);
});
