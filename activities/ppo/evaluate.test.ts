import { parsePolicyConfig } from '../../envs/config';
import { SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { configGrid } from '../../envs/oracle';
import { RagTuningEnvironment } from '../../envs/rag-env';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { evaluatePolicies, heldOutSeeds, relativeImprovement } from './evaluate';

const config = parsePolicyConfig({ environment: { episode_length: 4, batch_size: 50 } });
const env = () => new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config });
const policy = (seed: number) => ActorCritic.create({ observationSize: env().observationSize, actionSpace: env().actionSpace, hidden: [8] }, seed);
const options = { episodes: 6, screeningEpisodes: 1, shortlist: 3, kStep: 10, fusionStep: 0.5, seed: 3 };

describe('evaluatePolicies', () => {
  it('plays every candidate, the baseline and the grid on held-out episodes, deterministically', async () => {
    const candidates = [{ label: 'final', policy: policy(1) }, { label: 'best', policy: policy(2) }];
    const progress: [number, number][] = [];
    const a = await evaluatePolicies(env(), config, candidates, { ...options, onProgress: (done, total) => progress.push([done, total]) });
    const b = await evaluatePolicies(env(), config, candidates, options);
    expect(JSON.parse(JSON.stringify(a))).toEqual(JSON.parse(JSON.stringify(b)));

    expect(a.candidates.map((c) => [c.label, c.episodes, c.steps])).toEqual([['final', 6, 24], ['best', 6, 24]]);
    expect(a.chosen).toBe(a.candidates[0].reward >= a.candidates[1].reward ? 'final' : 'best');
    expect(a.baseline.config).toEqual(config.policy.baseline);
    expect(a.baseline.steps).toBe(24);
    expect(a.screened).toHaveLength(configGrid(config.policy, { kStep: 10, fusionStep: 0.5 }).length);
    for (const s of a.screened) expect(s.steps).toBe(4);
    // The best static config is the best of the shortlist re-played on the held-out episodes.
    const top = [...a.screened].sort((x, y) => y.reward - x.reward).slice(0, 3).map((s) => s.label);
    expect(top).toContain(a.bestStatic.label);
    expect(a.bestStatic.steps).toBe(24);
    const chosen = a.candidates.find((c) => c.label === a.chosen)!;
    expect(a.improvementVsBaseline).toBeCloseTo((chosen.reward - a.baseline.reward) / Math.abs(a.baseline.reward), 12);
    expect(chosen.quality).toBeCloseTo((chosen.faithfulness + chosen.relevancy) / 2, 12);
    // Every step of the chosen policy is counted in its action table.
    const counted = Object.values(a.actions).flatMap((m) => Object.values(m)).reduce((x, y) => x + y, 0);
    expect(counted).toBe(24);
    // Heartbeat progress ends at the planned total: 2 candidates + baseline + shortlist on 6 episodes, the grid on 1.
    const planned = 4 * (6 * (2 + 1 + 3) + a.screened.length);
    expect(progress.at(-1)).toEqual([planned, planned]);
  });

  it('draws held-out seeds from their own streams', () => {
    expect(heldOutSeeds(1, 5)).toEqual(heldOutSeeds(1, 5));
    expect(heldOutSeeds(1, 5)).not.toEqual(heldOutSeeds(2, 5));
    expect(heldOutSeeds(1, 5, 1)).not.toEqual(heldOutSeeds(1, 5, 2));
    expect(new Set(heldOutSeeds(1, 100)).size).toBe(100);
  });

  it('measures improvement relative to the reference magnitude', () => {
    expect(relativeImprovement(1.1, 1)).toBeCloseTo(0.1, 12);
    expect(relativeImprovement(-0.9, -1)).toBeCloseTo(0.1, 12);
  });
});
