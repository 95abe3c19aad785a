/**
 * Logging that OPE can use, end to end with real components: a RAG policy of the PPO trainer's shape
 * (variant × k × rerank × prompt = 360 joint discrete actions, plus the continuous fusion weight)
 * deployed WITH DEFAULTS through the registry, served by the real inference server (PostgreSQL,
 * onnxruntime-node, the decision log), simulated RAG sessions posting rewards (`autopilot traffic`'s
 * generator), then the offPolicyEvaluation activities over those logs for another version:
 *   - the default deployment explores: every logged propensity is < 1 and > 0, with per-head
 *     propensities whose product is the logged one;
 *   - OPE returns DM and DR (not only IPW/SNIPW) for the 360-action policy, through the
 *     action-feature reward model, each with its effective sample size; factored weights = joint.
 */
import { resolve } from 'node:path';
import { createOpeActivities } from './activities';
import { generateTraffic } from '../../cli/traffic/generate';
import { loadConfig } from '../../config/load';
import { policyConfigSchema } from '../../envs/config';
import { RagTuningEnvironment } from '../../envs/rag-env';
import { SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import type { InferenceServer } from '../../inference/server';
import { TEST_API_KEY } from '../../inference/testing/api-key';
import { createServingFixture, type ServingFixture } from '../../inference/testing/fixture';
import { exportOnnx } from '../../ml/onnx/export';
import { ActorCritic } from '../../ml/rl/actor-critic';
import { actorCriticSpecFor, parsePpoHyperparameters } from '../../ml/rl/hyperparameters';
import { DEFAULT_POLICY_EXPLORATION } from '../../registry/deployments';
import type { Signature } from '../../registry/types';
import type { ChunkRef, OpeOutcome, PreparedEvaluation } from '../../contracts/off-policy-evaluation';

const MODEL = 'rag-explore';
const CONFIG_FILE = resolve(__dirname, '../../configs/rl/rag-tuner.yaml');
const REQUESTS = 1500;

describe('exploration by default → logs OPE can use → DM and DR on 360 joint actions', () => {
  let fx: ServingFixture;
  let server: InferenceServer;
  let from: string;
  let to: string;

  beforeAll(async () => {
    fx = await createServingFixture();
    const config = loadConfig(policyConfigSchema, CONFIG_FILE);
    const env = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config });
    const spec = actorCriticSpecFor(env.observationSize, env.actionSpace, parsePpoHyperparameters(config.ppo));
    // Two versions of the trainer's network: the champion that serves and a candidate to evaluate.
    for (const seed of [1, 2]) {
      const exported = exportOnnx(ActorCritic.create(spec, seed), { graphName: MODEL });
      await fx.registry.registerVersion({
        model: MODEL, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true,
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'test',
      });
    }
    // Deployed the way a user deploys: no exploration given (not through fx.deploy, which keeps tests greedy).
    const dep = await fx.registry.setDeployment({ model: MODEL, championVersion: 1, actor: 'test' });
    expect(dep.deployment.exploration).toEqual(DEFAULT_POLICY_EXPLORATION);
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    from = new Date(Date.now() - 1000).toISOString();
    const traffic = await generateTraffic({ server: server.url, deployment: MODEL, requests: REQUESTS, concurrency: 4, configFile: CONFIG_FILE, seed: 3, apiKey: TEST_API_KEY });
    expect(traffic.errors).toBe(0);
    expect(traffic.rewards).toBe(REQUESTS);
    await server.decisionLog.drain();
    to = new Date(Date.now() + 1000).toISOString();
  }, 300_000);

  afterAll(async () => {
    await fx?.close();
  });

  it('logs every decision with a true propensity in (0, 1) and the per-head propensities that multiply to it', async () => {
    const page = await fx.decisions.readDecisionsWithRewards({ deployment: MODEL, from: new Date(from), to: new Date(to), limit: 50_000, rewardedOnly: true });
    expect(page.rows.length).toBe(REQUESTS);
    let explored = 0;
    for (const row of page.rows) {
      expect(row.propensity).toBeGreaterThan(0);
      expect(row.propensity).toBeLessThan(1);
      const heads = (row.metadata as { headPropensities: Record<string, number> }).headPropensities;
      expect(Object.keys(heads)).toEqual(['variant', 'k', 'rerank', 'prompt_id']);
      expect(Object.values(heads).reduce((a, b) => a * b, 1)).toBeCloseTo(row.propensity!, 12);
      // ε-greedy with ε = 0.05: the argmax of head h has 0.95 + 0.05/K_h, any other value 0.05/K_h.
      if (Object.values(heads).some((p) => p < 0.5)) explored++;
    }
    // P(at least one head explored) = 1 − Π_h (1 − ε + ε/K_h)·… ≈ 1 − 0.975·0.952·0.975·0.967 ≈ 0.125 of the decisions.
    expect(explored / REQUESTS).toBeGreaterThan(0.07);
    expect(explored / REQUESTS).toBeLessThan(0.2);
  });

  it('offPolicyEvaluation of another version returns DM and DR through the action-feature model, with diagnostics', async () => {
    const acts = createOpeActivities({ pool: fx.db.pool, store: fx.store });
    const prepared: PreparedEvaluation = await acts.opePrepare({
      input: { deployment: MODEL, from, to, candidate: { model: MODEL, version: 2 }, nBootstrap: 500, chunkSize: 600 },
      workflowId: 'exploration-int', firstRunId: 'r1',
    });
    expect(prepared.actionSpace).toMatchObject({ jointSize: 360, enumerated: false, rewardModel: 'action-features', excludedContinuousHeads: ['fusion_weight'] });
    expect(prepared.estimators).toEqual(['ipw', 'snipw', 'dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);
    expect(prepared.skippedEstimators).toEqual({});
    expect(prepared.gateEstimator).toBe('dr');

    const chunks: ChunkRef[] = [];
    let cursor: string | null = null;
    let read = 0;
    for (let seq = 0; ; seq++) {
      const r = await acts.opeScoreChunk({ config: prepared.config, candidateSha256: prepared.candidate.sha256, runPrefix: prepared.runPrefix, seq, cursor });
      chunks.push(r.chunk);
      read += r.read;
      cursor = r.nextCursor;
      if (cursor === null) break;
    }
    const out: OpeOutcome = await acts.opeEstimate({ prepared, workflowId: 'exploration-int', manifests: [], chunks, totals: { read, skipped: {} } });
    expect(out.nRounds).toBe(REQUESTS);
    for (const name of ['dm', 'dr', 'ipw', 'snipw'] as const) {
      const e = out.estimates[name]!;
      expect(Number.isFinite(e.value)).toBe(true);
      expect(e.lower).toBeLessThanOrEqual(e.value);
      expect(e.upper).toBeGreaterThanOrEqual(e.value);
      expect(e.diagnostics!.effectiveSampleSize).toBeGreaterThan(0);
      expect(e.diagnostics!.unsupportedRounds).toBe(0); // exploration: full support
    }
    expect(out.gate.estimator).toBe('dr');
    // Two untrained networks: the candidate is nearly uniform over 360 actions, the champion's logs
    // mostly its argmax, so a few explored rounds carry the weights — and the estimates say so.
    expect(out.estimates.ipw!.diagnostics!.effectiveSampleSize).toBeLessThan(100);
    expect(out.warnings).toEqual(expect.arrayContaining([expect.stringMatching(/^ipw: effective sample size [\d.]+ of 1500 rounds/)]));
    // The report: the action-feature model, and factored weights equal to the joint ones.
    const report = JSON.parse((await fx.store.getBuffer(fx.store.keyFromUri(out.reportUri))).toString('utf8'));
    expect(report.rewardModel).toMatchObject({ kind: 'ridge-action-features', nFolds: 5 });
    expect(report.weights.factored.maxRelativeDifferenceFromJoint).toBeLessThan(1e-9);
    expect(Object.keys(report.weights.factored.byHead)).toEqual(['variant', 'k', 'rerank', 'prompt_id']);
    process.stdout.write(`OPE of v2 on ${out.nRounds} explored decisions of v1 (360 joint actions): ` +
      `${Object.entries(out.estimates).map(([k, e]) => `${k} ${e!.value.toFixed(4)} [${e!.lower.toFixed(4)}, ${e!.upper.toFixed(4)}] ESS ${e!.diagnostics?.effectiveSampleSize.toFixed(1)}`).join('; ')}; ` +
      `logging ${out.logging.value.toFixed(4)}; warnings: ${out.warnings!.length}\n`);
  }, 300_000);
});
