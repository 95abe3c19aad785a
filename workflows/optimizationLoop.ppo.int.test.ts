/**
 * optimizationLoop's PPO path end to end on the dev stack (the fixtures of optimizationLoop.int.test.ts):
 * the Temporal dev server with a rollout and a training worker (the production activity factories),
 * PostgreSQL, the filesystem artifact store, the inference server serving a RAG policy of the PPO
 * trainer's shape with exploration, and `autopilot traffic`'s generator (simulated RAG sessions posting
 * the seed-002 reward and the batch's evaluation as components).
 *
 *   drift signal → export (a snapshot of the generated traffic) → ppoTraining child with
 *   env replay:<snapshot> (a short run: the replay environment reads the category from the logged
 *   observation's one-hot) → its held-out evaluation and offline gates → OPE on the held-out half →
 *   canary against live generated traffic → the PPO version is the champion.
 *
 * The champion is an untrained network (its logged value about −0.17); a 20-iteration PPO run on the
 * ~300 replayed decisions (γ = 0 as in configs/rl/rag-tuner.yaml) reaches the static baseline's level
 * (~0.55), so the gates can ask for real evidence with wide margins: the OPE gate with tolerance 0
 * (candidate's lower bound above the champion's value), the offline reward gate within 0.25 of the
 * baseline, the canary's non-inferiority within 0.1. The generator and PPO are seeded; the server's
 * exploration draws are not, hence the margins.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createCanaryActivities } from '../activities/canary/activities';
import { createDataExportActivities } from '../activities/data-export/activities';
import { createLoopActivities } from '../activities/loop/activities';
import { createOpeActivities } from '../activities/ope/activities';
import { createPpoActivities } from '../activities/ppo/activities';
import type { CanaryPlanInput } from '../canary/plan';
import { generateTraffic, type TrafficSummary } from '../cli/traffic/generate';
import { loadConfig } from '../config/load';
import { driftSignal, loopStatusQuery, loopWorkflowId, stopSignal, type LoopStatus, type OptimizationLoopInput } from '../contracts/optimization-loop';
import { TASK_QUEUES } from '../contracts/shared';
import { policyConfigSchema } from '../envs/config';
import { SimulatedRagEvaluator } from '../envs/evaluators/simulator';
import { RagTuningEnvironment } from '../envs/rag-env';
import type { InferenceServer } from '../inference/server';
import { TEST_API_KEY } from '../inference/testing/api-key';
import { createServingFixture, waitFor, type ServingFixture } from '../inference/testing/fixture';
import { exportOnnx } from '../ml/onnx/export';
import { ActorCritic } from '../ml/rl/actor-critic';
import { actorCriticSpecFor, parsePpoHyperparameters } from '../ml/rl/hyperparameters';
import type { Signature } from '../registry/types';
import { startDevServer } from '../test/support/temporal';

const MODEL = 'loop-rag';
const ITERATIONS = Number(process.env.AP_LOOP_PPO_ITERATIONS ?? 20);
const CONFIG_FILE = resolve(__dirname, '../configs/rl/policy.defaults.yaml');
const CANARY_PLAN: CanaryPlanInput = {
  stepWeights: [50],
  interval: '4s',
  checkInterval: '1s',
  threshold: 2,
  minSamples: 100,
  maxInconclusive: 30,
  // Reward and errors only: the seed-002 quality floors (faithfulness, relevancy ≥ 0.75) are the offline gates' here.
  metrics: [{ name: 'error_rate', thresholdRange: { max: 0.05 } }, { name: 'reward_delta', thresholdRange: { min: -0.1 } }],
  analysis: { nBootstrap: 500, tolerance: 0.1 },
  burnRate: { alerts: [{ longWindow: '1h', shortWindow: '5m', factor: 14.4 }] },
};

describe('optimizationLoop retrains with PPO from the replay snapshot and promotes (dev server, workers, inference server, PostgreSQL, traffic)', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let server: InferenceServer;
  let workers: Worker[] = [];
  let running: Promise<void>[] = [];
  let dataDir: string;

  beforeAll(async () => {
    [env, fx] = await Promise.all([startDevServer(), createServingFixture()]);
    dataDir = mkdtempSync(join(tmpdir(), 'ap-loop-ppo-'));
    const deps = { pool: fx.db.pool, store: fx.store };
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./index'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} } as never });
    workers = await Promise.all([
      Worker.create({
        connection: env.nativeConnection, taskQueue: TASK_QUEUES.rollout, workflowBundle,
        activities: { ...createCanaryActivities(deps), ...createOpeActivities(deps), ...createLoopActivities(deps) },
      }),
      Worker.create({
        connection: env.nativeConnection, taskQueue: TASK_QUEUES.training, workflowBundle,
        activities: { ...createDataExportActivities({ ...deps, settings: { dataDir } }), ...createLoopActivities(deps), ...createPpoActivities(deps) },
      }),
    ]);
    running = workers.map((w) => w.run());
  }, 180_000);
  afterAll(async () => {
    workers.forEach((w) => w.shutdown());
    await Promise.all(running.map((r) => r.catch(() => undefined)));
    await env?.teardown();
    await fx?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a drift signal: export → PPO from replay:<snapshot> → offline gates → OPE → canary → the PPO version is promoted', async () => {
    // The champion: an untrained network of the trainer's shape, served with exploration (true propensities logged).
    const config = loadConfig(policyConfigSchema, CONFIG_FILE);
    const shape = new RagTuningEnvironment({ evaluator: new SimulatedRagEvaluator(), config });
    const spec = actorCriticSpecFor(shape.observationSize, shape.actionSpace, parsePpoHyperparameters(config.ppo));
    const onnx = exportOnnx(ActorCritic.create(spec, 3), { graphName: MODEL });
    const champion = (await fx.registry.registerVersion({
      model: MODEL, artifact: { buffer: Buffer.from(onnx.model) }, format: 'onnx', createModel: true,
      signature: JSON.parse(JSON.stringify(onnx.signature)) as Signature, actor: 'test',
    })).version;
    await fx.deploy(MODEL, { champion, exploration: { mode: 'sample', epsilon: 0.3, temperature: 1 } });
    server = await fx.start({ decisionLog: { flushIntervalMs: 25 } });
    const logged = await generateTraffic({ server: server.url, deployment: MODEL, requests: 600, concurrency: 4, configFile: CONFIG_FILE, seed: 41, apiKey: TEST_API_KEY });
    expect([logged.errors, logged.rewards, logged.lastError]).toEqual([0, 600, undefined]);
    await server.decisionLog.drain();

    const input: OptimizationLoopInput = {
      deployment: MODEL, intervalSeconds: 0, window: '1h', minRewarded: 200,
      retrain: {
        kind: 'ppo',
        input: {
          config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { gamma: 0, ent_coef: 0.1, num_steps: 64, num_minibatches: 2, update_epochs: 4, hidden_sizes: [32, 32] } },
          workers: 2, iterations: ITERATIONS, seed: 7,
          evaluation: { episodes: 4, screeningEpisodes: 1, shortlist: 2, kStep: 8, fusionStep: 0.5 },
          // Not much worse than the static baseline config (a 20-iteration run is near it; measured +0.07 per step).
          gates: { minRewardDelta: -0.25, maxGateViolationRate: 1 },
          timeouts: { heartbeatSeconds: 30 },
        },
      },
      // Better than the champion with evidence: the candidate's lower bound above the champion's value (measured: 0.37 vs −0.17).
      ope: { estimator: 'snipw', tolerance: 0, nBootstrap: 500, minRounds: 200 },
      canaryPlan: CANARY_PLAN,
    };
    const handle = await env.client.workflow.start('optimizationLoop', { taskQueue: TASK_QUEUES.rollout, workflowId: loopWorkflowId(MODEL), args: [input] });
    const status = () => handle.query(loopStatusQuery);
    await handle.signal(driftSignal, { by: 'driftMonitor:test', reasons: ['reward ADWIN'] });
    // The cycle's window is fixed when it starts: traffic from then on is the canary's, not the snapshot's.
    await waitFor(async () => (await status()).current !== null || (await status()).cycles > 0, 60_000, 'the cycle to start');

    // Live traffic for the canary, in short seeded bursts until the cycle ends.
    let stop = false;
    const bursts: TrafficSummary[] = [];
    const traffic = (async () => {
      for (let seed = 100; !stop; seed++) {
        bursts.push(await generateTraffic({ server: server.url, deployment: MODEL, requests: 64, concurrency: 4, configFile: CONFIG_FILE, seed, apiKey: TEST_API_KEY }));
      }
    })();
    try {
      await waitFor(async () => (await status()).cycles === 1 && (await status()).current === null, 240_000, 'the PPO cycle to end');
    } finally {
      stop = true;
      await traffic;
    }
    expect(bursts.map((b) => b.errors)).toEqual(bursts.map(() => 0));

    const one = (await status()).recent[0];
    const stages = one.stages.map((s) => [s.stage, s.status]);
    process.stdout.write(`loop PPO cycle: ${one.outcome} at ${one.stage}: ${one.reasons.join('; ')}\n${one.stages.map((s) => `  ${s.stage} ${s.status}: ${s.detail}`).join('\n')}\n`);
    expect(stages).toEqual([['export', 'passed'], ['retrain', 'passed'], ['offline-evaluation', 'passed'], ['ope', 'passed'], ['canary', 'passed']]);
    expect(one).toMatchObject({ cycle: 1, outcome: 'promoted', stage: 'canary', championVersion: champion, candidateVersion: champion + 1, trigger: { kind: 'drift' }, canary: { phase: 'Succeeded' } });
    expect(one.dataset!.rewarded + one.ope!.rounds).toBe(600);
    expect(one.ope).toMatchObject({ verdict: 'pass', estimator: 'snipw' });
    expect(one.ope!.candidate!.lower).toBeGreaterThan(one.ope!.champion!.value);

    // The retrain was a ppoTraining child on the snapshot, and the version's lineage says so.
    const retrain = one.stages[1];
    expect(retrain.detail).toBe(`ppoTraining ${ITERATIONS} iterations on replay:${one.dataset!.dir} → v${champion + 1}`);
    const child = await env.client.workflow.getHandle(retrain.workflowId!).describe();
    expect([child.type, child.status.name]).toEqual(['ppoTraining', 'COMPLETED']);
    const v = await fx.registry.getVersion(MODEL, champion + 1);
    expect(v.lineage.datasetManifest).toMatchObject({ evaluator: { kind: 'replay', file: one.dataset!.dir, source: 'snapshot', records: one.dataset!.rewarded } });
    expect((await fx.registry.getDeployment(MODEL)).championVersion).toBe(champion + 1);

    await handle.signal(stopSignal, { by: 'test' });
    expect(((await handle.result()) as LoopStatus).state).toBe('stopped');
  }, 400_000);
});
