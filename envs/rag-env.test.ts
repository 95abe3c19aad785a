import { Rng } from '../ml/rng';
import { defaultPolicyConfig } from './config';
import { DATASETS } from './datasets';
import { SimulatedRagEvaluator } from './evaluators/simulator';
import { DEFAULT_OBSERVATION_SIZE } from './features';
import { actionToConfig, configToAction, RagTuningEnvironment, ragActionSpace } from './rag-env';
import { computeReward } from './reward';
import { randomPolicy, runEpisode, staticPolicy } from './rollout';
import type { Evaluation, Evaluator, RagConfig } from './types';

const policy = defaultPolicyConfig().policy;
const baseline = policy.baseline as RagConfig;

/** Records every call and answers from the simulator. */
class RecordingEvaluator implements Evaluator {
  readonly name = 'recording';
  readonly calls: Array<{ config: RagConfig; category: string; batchSize: number; seed: number }> = [];
  private readonly sim = new SimulatedRagEvaluator();
  async evaluate(config: RagConfig, category: string, batchSize: number, seed: number): Promise<Evaluation> {
    this.calls.push({ config, category, batchSize, seed });
    return this.sim.evaluate(config, category, batchSize, seed);
  }
}

describe('RagTuningEnvironment', () => {
  it('exposes the R-TUNER-ACTIONS action space and the documented observation size', () => {
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator() });
    expect(env.actionSpace).toEqual([
      { kind: 'categorical', name: 'variant', choices: ['A', 'B'] },
      { kind: 'integer', name: 'k', min: 3, max: 32 },
      { kind: 'bernoulli', name: 'rerank' },
      { kind: 'continuous', name: 'fusion_weight', min: 0, max: 1 },
      { kind: 'categorical', name: 'prompt_id', choices: ['default', 'cite-sources', 'step-by-step'] },
    ]);
    expect(env.observationSize).toBe(DEFAULT_OBSERVATION_SIZE);
    expect(env.reset(1)).toHaveLength(DEFAULT_OBSERVATION_SIZE);
    expect(env.categories).toEqual(['policy', 'howto', 'definition']);
  });

  it('is deterministic: the same seed and actions give the same episode; another seed another', async () => {
    const play = async (seed: number) => {
      const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), episodeLength: 12 });
      return runEpisode(env, randomPolicy(env.actionSpace, new Rng(5)), seed);
    };
    const a = await play(11);
    const b = await play(11);
    const c = await play(12);
    expect(b.rewards).toEqual(a.rewards);
    expect(b.observations.map((o) => Array.from(o))).toEqual(a.observations.map((o) => Array.from(o)));
    expect(b.infos).toEqual(a.infos);
    expect(c.rewards).not.toEqual(a.rewards);
    expect(a.rewards).toHaveLength(12);
  });

  it('each step evaluates the action\'s config on the announced category and returns the R-TUNER-REWARD reward', async () => {
    const evaluator = new RecordingEvaluator();
    const env = new RagTuningEnvironment({ evaluator, episodeLength: 5, batchSize: 120, contextual: true });
    const obs0 = env.reset(3);
    const catIdx = env.featureNames.indexOf('category=policy');
    let announced = env.upcomingCategory;
    expect(Array.from(obs0.slice(catIdx, catIdx + 3))).toEqual(env.categories.map((c) => (c === announced ? 1 : 0)));
    const config: RagConfig = { variant: 'B', k: 9, rerank: true, fusion_weight: 0, prompt_id: 'cite-sources' };
    for (let i = 0; i < 5; i++) {
      const step = await env.step(configToAction(config));
      const call = evaluator.calls[i];
      expect(call.config).toEqual(config);
      expect(call.category).toBe(announced);
      expect(call.batchSize).toBe(120);
      const e = await new SimulatedRagEvaluator().evaluate(config, call.category, 120, call.seed);
      expect(step.reward).toBe(computeReward(e, policy).reward);
      expect(step.info).toMatchObject({ step: i + 1, category: announced, config, faithfulness: e.faithfulness, gates: computeReward(e, policy).gates });
      expect(step.done).toBe(i === 4);
      announced = env.upcomingCategory;
      // contextual: the observation shows the next batch's category
      expect(Array.from(step.observation.slice(catIdx, catIdx + 3))).toEqual(env.categories.map((c) => (c === announced ? 1 : 0)));
    }
    await expect(env.step(configToAction(config))).rejects.toThrow('RagTuningEnvironment.step called after the episode ended (5 steps); call reset(seed)');
  });

  it('non-contextual: the observation shows the category just evaluated (none after reset)', async () => {
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), contextual: false, episodeLength: 4 });
    const obs0 = env.reset(8);
    const catIdx = env.featureNames.indexOf('category=policy');
    expect(Array.from(obs0.slice(catIdx, catIdx + 3))).toEqual([0, 0, 0]);
    const step = await env.step(configToAction(baseline));
    const shown = env.categories[Array.from(step.observation.slice(catIdx, catIdx + 3)).indexOf(1)];
    expect(shown).toBe(step.info.category);
  });

  it('draws categories from the episode dataset\'s mix, and keeps them with the configured stickiness', async () => {
    const count = async (stickiness: number) => {
      const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), datasets: ['acme-policies'], episodeLength: 50, categoryStickiness: stickiness });
      const counts: Record<string, number> = { policy: 0, howto: 0, definition: 0 };
      let repeats = 0;
      for (let ep = 0; ep < 40; ep++) {
        const rec = await runEpisode(env, staticPolicy(configToAction(baseline)), ep);
        rec.infos.forEach((info, i) => {
          counts[info.category as string] += 1;
          if (i > 0 && info.category === rec.infos[i - 1].category) repeats += 1;
        });
      }
      return { share: Object.fromEntries(Object.entries(counts).map(([c, n]) => [c, n / 2000])), repeatRate: repeats / (40 * 49) };
    };
    const iid = await count(0);
    const mix = DATASETS['acme-policies'].categoryMix;
    for (const c of Object.keys(mix)) expect(Math.abs(iid.share[c] - mix[c])).toBeLessThan(0.04);
    // with iid draws a repeat happens with probability Σ p² = 0.38
    expect(Math.abs(iid.repeatRate - 0.38)).toBeLessThan(0.04);
    const sticky = await count(0.8);
    // 0.8 + 0.2 · 0.38 = 0.876, and the mix is kept
    expect(Math.abs(sticky.repeatRate - 0.876)).toBeLessThan(0.04);
    for (const c of Object.keys(mix)) expect(Math.abs(sticky.share[c] - mix[c])).toBeLessThan(0.08);
  });

  it('draws one dataset per episode and shows its corpus metadata', () => {
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator() });
    const seen = new Set<string>();
    const docsIdx = env.featureNames.indexOf('corpus_docs');
    const docsFeature = new Map<string, number>();
    for (let seed = 0; seed < 30; seed++) {
      const obs = env.reset(seed);
      const d = env.currentDataset!;
      seen.add(d.id);
      docsFeature.set(d.id, obs[docsIdx]);
    }
    expect([...seen].sort()).toEqual(['acme-policies-v1', 'dev-docs-v3', 'support-faq-v2']);
    expect(new Set(docsFeature.values()).size).toBe(3);
  });

  it('validates actions with messages naming the part', () => {
    const space = ragActionSpace(policy);
    expect(space).toHaveLength(5);
    const ok = configToAction(baseline);
    expect(actionToConfig({ ...ok, rerank: 1, fusion_weight: 1.0000001 }, policy)).toEqual({ ...baseline, rerank: true, fusion_weight: 1 });
    expect(() => actionToConfig({ ...ok, variant: 'C' }, policy)).toThrow('action.variant must be one of A, B, got "C"');
    expect(() => actionToConfig({ ...ok, k: 33 }, policy)).toThrow('action.k must be an integer in [3, 32], got 33');
    expect(() => actionToConfig({ ...ok, k: 4.5 }, policy)).toThrow('action.k must be an integer in [3, 32], got 4.5');
    expect(() => actionToConfig({ ...ok, rerank: 'yes' }, policy)).toThrow('action.rerank must be true/false (or 1/0), got "yes"');
    expect(() => actionToConfig({ ...ok, fusion_weight: Number.NaN }, policy)).toThrow('action.fusion_weight must be a number in [0, 1], got null');
    expect(() => actionToConfig({ ...ok, prompt_id: 'x' }, policy)).toThrow('action.prompt_id must be one of default, cite-sources, step-by-step, got "x"');
  });

  it('rejects bad options and a step before reset', async () => {
    const evaluator = new SimulatedRagEvaluator();
    expect(() => new RagTuningEnvironment({ evaluator, episodeLength: 0 })).toThrow('RagTuningEnvironment episodeLength must be an integer ≥ 1, got 0');
    expect(() => new RagTuningEnvironment({ evaluator, datasets: ['nope'] })).toThrow('unknown dataset "nope" (expected one of acme-policies, dev-docs, support-faq)');
    expect(() => new RagTuningEnvironment({ evaluator, categoryStickiness: 2 })).toThrow('RagTuningEnvironment categoryStickiness must be in [0, 1], got 2');
    const env = new RagTuningEnvironment({ evaluator });
    await expect(env.step(configToAction(baseline))).rejects.toThrow('RagTuningEnvironment.step called before reset(seed)');
  });
});
