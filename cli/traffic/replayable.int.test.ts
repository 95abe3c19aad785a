/**
 * Generated traffic is replayable: a RAG policy of the PPO trainer's shape served with exploration by
 * the real inference server (PostgreSQL, onnxruntime-node, the decision log), `autopilot traffic`'s
 * generator posting decisions and rewards, `autopilot data export`'s snapshot of them, and the PPO
 * replay environment built from that snapshot the way a ppoTraining run builds it (activities/ppo/environment.ts):
 *   - every rewarded decision becomes a replay record, its category read from the observation's one-hot;
 *   - the seed-002 reward of each record is the reward the generator logged for it;
 *   - replaying a logged (config, category) gives back one of its logged rewards, exactly.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { generateTraffic } from './generate';
import { exportSnapshot } from '../../activities/data-export/export';
import { buildEnvironment } from '../../activities/ppo/environment';
import { loadConfig } from '../../config/load';
import { policyConfigSchema } from '../../envs/config';
import { ReplayEvaluator } from '../../envs/evaluators/replay';
import { loadReplaySource } from '../../envs/evaluators/snapshot';
import { SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { actionToConfig, RagTuningEnvironment } from '../../envs/rag-env';
import { computeReward } from '../../envs/reward';
import type { InferenceServer } from '../../inference/server';
import { TEST_API_KEY } from '../../inference/testing/api-key';
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { exportOnnx } from '../../ml/onnx/export';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { actorCriticSpecFor, parsePpoHyperparameters } from '../../ml/rl/hyperparameters';
import type { Signature } from '../../registry/types';

const MODEL = 'rag-replayable';
const CONFIG_FILE = resolve(__dirname, '../../configs/rl/rag-tuner.yaml');
const REQUESTS = 400;

describe('a snapshot of generated traffic replays in the PPO replay environment', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let dir: string;

  beforeAll(async () => {
    fx = await createServingFixture();
    const config = loadConfig(policyConfigSchema, CONFIG_FILE);
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config });
    const spec = actorCriticSpecFor(env.observationSize, env.actionSpace, parsePpoHyperparameters(config.ppo));
    const exported = exportOnnx(ActorCritic.create(spec, 5), { graphName: MODEL });
    await fx.registry.registerVersion({
      model: MODEL, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true,
      signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'test',
    });
    // Exploration that visits many configs, and logs (config, category) pairs more than once.
    await fx.deploy(MODEL, { champion: 1, exploration: { mode: 'sample', epsilon: 0.5, temperature: 1 } });
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    const from = new Date(Date.now() - 1000);
    const traffic = await generateTraffic({ server: server.url, deployment: MODEL, requests: REQUESTS, concurrency: 4, configFile: CONFIG_FILE, seed: 7, apiKey: TEST_API_KEY });
    expect(traffic.errors).toBe(0);
    expect(traffic.rewards).toBe(REQUESTS);
    await server.decisionLog.drain();
    dir = join(mkdtempSync(join(tmpdir(), 'ap-replayable-')), 'snapshot');
    await exportSnapshot(fx.decisions, { deployment: MODEL, from, to: new Date(Date.now() + 1000), out: dir });
  }, 240_000);

  afterAll(async () => {
    await fx?.close();
    if (dir) rmSync(resolve(dir, '..'), { recursive: true, force: true });
  });

  it('every rewarded decision is a replay record whose reward is the logged one, and replaying a logged config gives a logged reward back', async () => {
    const config = loadConfig(policyConfigSchema, CONFIG_FILE);
    const featureNames = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config }).featureNames;
    const predictions = readFileSync(join(dir, 'predictions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(predictions).toHaveLength(REQUESTS);
    for (const p of predictions) {
      expect(Object.keys(p.reward_components).sort()).toEqual(['cost_usd', 'error_rate', 'faithfulness', 'faithfulness_std', 'latency_p50_ms', 'latency_p95_ms', 'policy_violation_rate', 'relevancy', 'relevancy_std']);
    }

    // Without the policy's feature names the logged contexts name no category: refused, naming the line.
    expect(() => loadReplaySource(dir)).toThrow(/predictions\.jsonl:1: the context of decision [0-9a-f-]+ names no category/);

    const { records, kind } = loadReplaySource(dir, { featureNames });
    expect(kind).toBe('snapshot');
    expect(records).toHaveLength(REQUESTS);
    const categories = new Set(records.map((r) => r.category));
    expect([...categories].every((c) => featureNames.includes(`category=${c}`))).toBe(true);
    expect(categories.size).toBeGreaterThanOrEqual(2);

    // The record of each decision gives the reward the generator logged for it (records are in the predictions' order).
    const logged = new Map<string, number[]>();
    records.forEach((r, i) => {
      expect(r.config).toEqual(actionToConfig(predictions[i].action, config.policy));
      expect(computeReward(r, config.policy).reward).toBeCloseTo(predictions[i].reward, 12);
      const key = JSON.stringify([r.config, r.category]);
      logged.set(key, [...(logged.get(key) ?? []), predictions[i].reward]);
    });

    // Replay of every logged (config, category): an exact match, whose reward is one of those logged for it.
    const replay = new ReplayEvaluator(records, { kBounds: config.policy.bounds.k });
    let seed = 1;
    for (const r of records) {
      expect(replay.match(r.config, r.category).exact).toBe(true);
      const evaluation = await replay.evaluate(r.config, r.category, 200, seed++);
      const reward = computeReward(evaluation, config.policy).reward;
      const rewards = logged.get(JSON.stringify([r.config, r.category]))!;
      expect(rewards.some((x) => Math.abs(x - reward) < 1e-12)).toBe(true);
    }

    // The environment a ppoTraining run builds for `replay:<snapshot>` steps on it: a logged config's reward is a logged reward.
    const env = buildEnvironment(config, `replay:${dir}`);
    env.reset(11);
    for (let t = 0; t < 8; t++) {
      const category = env.upcomingCategory;
      const candidates = records.filter((r) => r.category === category);
      const pick = candidates[t % candidates.length];
      const step = await env.step(pick.config as never);
      expect(logged.get(JSON.stringify([pick.config, category]))!.some((x) => Math.abs(x - step.reward) < 1e-12)).toBe(true);
    }
  }, 120_000);
});
