/**
 * The `predictor` kind end to end (issue 23, UC10) on the real servers: Temporal dev server, PostgreSQL
 * (registry + decision log), SeaweedFS S3, the LightGBM venv and onnxruntime-node, nothing mocked.
 *
 * qualityPredictorTraining (the real activity) trains the LightGBM quality predictor, checks ONNX parity,
 * uploads it to S3 and registers it as the `predictor` deployment's champion → the inference server serves
 * it on POST /v1/predict (the route the online-model kind shares) → the deployment's gate reroutes or
 * escalates a request whose predicted quality is below the threshold → each answer is a decision row →
 * a bad config is refused (by `autopilot deploy`'s check, and by the server, which keeps serving) → a second
 * version hot-swaps in → a run whose parity check fails registers nothing and names the max diff.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createPredictorActivities } from '../../activities/predictor/activities';
import { checkDeploymentConfig } from '../../cli/commands/deploy';
import type { QualityPredictorTrainingInput, QualityPredictorTrainingResult } from '../../contracts/quality-predictor-training';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../../contracts/shared';
import { S3ArtifactStore } from '../../registry/artifacts/s3';
import { testS3Bucket, testS3Settings, uniquePrefix } from '../../test/support/s3';
import { startDevServer } from '../../test/support/temporal';
import { describeWithTool } from '../../test/support/tools';
import type { InferenceServer } from '../server';
import { createServingFixture, postJson, waitFor, type ServingFixture } from '../testing/fixture';

const root = resolve(__dirname, '..', '..');
const describeLgbm = describeWithTool(
  'inference/predictor/serving.int.test.ts',
  existsSync(join(root, '.venv-lightgbm', 'bin', 'python')),
  '.venv-lightgbm/bin/python is absent; build it with `make setup-lightgbm` (scripts/lightgbm-venv.sh)',
);

const model = 'quality';
/** A small model keeps the three training runs short; the ground truth is the same. */
const small: QualityPredictorTrainingInput = { model, trainRows: 8000, heldoutRows: 1500, trees: 80 };
/** Small model, maths, a long prompt, no retrieval, hot sampling on an overloaded provider: the simulator's worst case. */
const risky = { prompt_tokens: 9000, task: 'math', model_tier: 'small', retrieval_k: 0, temperature: 1.4, model_latency_ms: 5200 };
/** Large model, chat, a short prompt, k = 5, cool sampling, fast provider: its best case. */
const safe = { prompt_tokens: 120, task: 'chat', model_tier: 'large', retrieval_k: 5, temperature: 0.2, model_latency_ms: 600 };

describeLgbm('predictor deployments: LightGBM quality predictor trained, registered, served and gated', () => {
  let fx: ServingFixture;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let server: InferenceServer;
  const taskQueue = `${TASK_QUEUES.training}-predictor-${randomUUID()}`;

  const train = (input: QualityPredictorTrainingInput) =>
    env.client.workflow.execute('qualityPredictorTraining', { taskQueue, workflowId: `quality-predictor/${randomUUID()}`, args: [input] }) as Promise<QualityPredictorTrainingResult>;
  const predict = (features: unknown, extra: Record<string, unknown> = {}) => postJson(`${server.url}/v1/predict`, { deployment: model, features, ...extra });

  beforeAll(async () => {
    const uri = `s3://${testS3Bucket()}/${uniquePrefix('predictor')}`;
    [fx, env] = await Promise.all([createServingFixture({ store: { store: S3ArtifactStore.fromUri(uri, testS3Settings()), uri }, s3: testS3Settings() }), startDevServer()]);
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('../../workflows/qualityPredictorTraining'),
      activities: createPredictorActivities({ pool: fx.db.pool, store: fx.store, root }),
    });
    running = worker.run();
  }, 180_000);
  afterAll(async () => {
    worker?.shutdown();
    await running?.catch(() => undefined);
    await env?.teardown();
    await fx?.close();
  });

  let v1: QualityPredictorTrainingResult;

  it('trains through the workflow: parity within 1e-6, the ONNX file in S3, a registered champion of kind predictor', async () => {
    const wfId = `quality-predictor/${randomUUID()}`;
    v1 = (await env.client.workflow.execute('qualityPredictorTraining', { taskQueue, workflowId: wfId, args: [{ ...small, champion: true }] })) as QualityPredictorTrainingResult;
    expect(v1).toMatchObject({ model, version: 1, champion: true });
    expect(v1.parity.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    expect(v1.parity.rows).toBe(1500);
    expect(v1.artifactUri.startsWith(fx.artifactUri)).toBe(true);
    expect(v1.metrics.heldout_auc).toBeGreaterThan(0.7);
    const v = await fx.registry.getVersion(model, 1);
    expect(v).toMatchObject({ format: 'onnx', sha256: v1.sha256 });
    expect(v.metrics.parity_max_abs_diff).toBe(v1.parity.maxAbsDiff);
    expect((v.signature as { predictor: { target: string } }).predictor.target).toBe('low_quality');
    expect((await fx.store.getBuffer(fx.store.keyFromUri(v1.artifactUri), { expectedSha256: v1.sha256 })).length).toBe(v.size);
    const d = await fx.registry.getDeployment(model);
    expect(d).toMatchObject({ kind: 'predictor', championVersion: 1 });
    const desc = await env.client.workflow.getHandle(wfId).describe();
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runKind)).toBe('quality-predictor');
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.version)).toBe(1);
    server = await fx.start();
  }, 300_000);

  it('POST /v1/predict answers P(low quality) for named features; without a gate every request passes', async () => {
    const r = await predict(risky);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ model, version: 1, arm: 'champion', armProbability: 1, threshold: null, passed: true, action: null });
    expect(r.body.quality).toBeCloseTo(1 - r.body.probability, 12);
    const s = await predict(safe);
    // The simulator's worst and best cases are far apart (true P ≈ 0.98 and ≈ 0.04): any fitted model orders them.
    expect(r.body.probability).toBeGreaterThan(0.7);
    expect(s.body.probability).toBeLessThan(0.3);
  });

  it('gates: quality below the threshold answers the configured action (reroute to a named fallback, or escalate)', async () => {
    await fx.registry.setDeployment({ model, config: { gate: { threshold: 0.5, action: 'reroute', to: 'llm-premium' } }, actor: 'test' });
    await waitFor(async () => (await predict(safe)).body.threshold === 0.5, 20_000, 'the gate to be served');
    const r = await predict(risky, { unit: 'request:1' });
    expect(r.body).toMatchObject({ version: 1, threshold: 0.5, passed: false, action: { type: 'reroute', to: 'llm-premium' } });
    const s = await predict(safe);
    expect(s.body).toMatchObject({ passed: true, action: null });

    await fx.registry.setDeployment({ model, config: { gate: { threshold: 0.5, action: 'escalate', to: 'human-review' } }, actor: 'test' });
    await waitFor(async () => (await predict(risky)).body.action?.type === 'escalate', 20_000, 'the escalate gate');
    expect((await predict(risky)).body.action).toEqual({ type: 'escalate', to: 'human-review' });

    // Every answer is a decision row, its action the verdict.
    let row: { arm: string; version: number; propensity: number; unit: string; action: { probability: number; passed: boolean; gate: unknown }; metadata: { kind: string; threshold: number } } | undefined;
    await waitFor(async () => {
      row = (await fx.db.pool.query('SELECT arm, version, propensity, unit, action, metadata FROM decisions WHERE decision_id = $1', [r.body.decisionId])).rows[0];
      return row !== undefined;
    }, 15_000, 'the decision row');
    expect(row).toMatchObject({ arm: 'champion', version: 1, propensity: 1, unit: 'request:1', metadata: { kind: 'predictor', threshold: 0.5 } });
    expect(row!.action).toMatchObject({ probability: r.body.probability, passed: false, gate: { type: 'reroute', to: 'llm-premium' } });
    // /v1/decide answers the same for a predictor deployment.
    const viaDecide = await postJson(`${server.url}/v1/decide`, { deployment: model, features: risky });
    expect(viaDecide.body).toMatchObject({ probability: r.body.probability, action: { type: 'escalate', to: 'human-review' } });
  }, 120_000);

  it('refuses bad requests naming the field, the value and what was expected', async () => {
    const { task: _t, ...noTask } = safe;
    const missing = await predict(noTask);
    expect(missing.status).toBe(400);
    expect(missing.body.field).toBe('features.task');
    const unknown = await predict({ ...safe, task: 'poetry' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ field: 'features.task', expected: 'one of chat, code, math, summarise, extract, reasoning' });
    const extra = await predict({ ...safe, colour: 'red' });
    expect(extra.body.field).toBe('features.colour');
    const nan = await predict({ ...safe, retrieval_k: 'five' });
    expect(nan.body).toMatchObject({ field: 'features.retrieval_k', expected: 'a finite number' });
    // A name no kind serves still gets the shared route's 404.
    const none = await postJson(`${server.url}/v1/predict`, { deployment: 'nobody', features: safe });
    expect(none.status).toBe(404);
  });

  it('refuses a bad gate config: `autopilot deploy --config` before writing, the server by keeping what it serves', async () => {
    const bad = { gate: { threshold: 1.5, action: 'reroute', to: 'llm-premium' } };
    expect(() => checkDeploymentConfig('predictor', bad, model, '--config gate.yaml')).toThrow(
      '--config gate.yaml: not a valid predictor deployment config: config.gate.threshold: got 1.5, expected a number in (0, 1): the lowest predicted quality (1 − P(low quality)) that passes',
    );
    expect(() => checkDeploymentConfig('predictor', { gate: { threshold: 0.5, action: 'page', to: 'x' } }, model, '--config g.yaml')).toThrow('config.gate.action: got "page", expected one of reroute, escalate');
    // Written past the CLI straight into the registry: the server refuses it and the previous generation keeps serving.
    const before = server.predictors.configRefusals;
    await fx.registry.setDeployment({ model, config: bad, actor: 'test' });
    await waitFor(() => server.predictors.configRefusals > before, 20_000, 'the server to refuse the config');
    expect((await predict(risky)).body).toMatchObject({ threshold: 0.5, action: { type: 'escalate', to: 'human-review' } });
    await fx.registry.setDeployment({ model, config: { gate: { threshold: 0.5, action: 'reroute', to: 'llm-premium' } }, actor: 'test' });
    await waitFor(async () => (await predict(risky)).body.action?.type === 'reroute', 20_000, 'a good config again');
  }, 60_000);

  it('hot-swaps to a new version: the next requests are answered by version 2 with its own probabilities', async () => {
    const before = (await predict(safe)).body.probability as number;
    // shift +1.5 on the ground-truth logit: a world where every response is likelier to be poor.
    const v2 = await train({ ...small, seed: 8, shift: 1.5 });
    expect(v2).toMatchObject({ version: 2, champion: false });
    expect((await predict(safe)).body.version).toBe(1);
    await fx.registry.setDeployment({ model, championVersion: 2, actor: 'test' });
    await waitFor(async () => (await predict(safe)).body.version === 2, 20_000, 'version 2 to serve');
    const after = await predict(safe);
    expect(after.body).toMatchObject({ version: 2, arm: 'champion', threshold: 0.5 });
    // True P(low quality | safe) is ≈ 0.04 before and ≈ 0.17 after the shift.
    expect(after.body.probability).toBeGreaterThan(before);
  }, 300_000);

  it('fails a run whose parity check fails, naming the max diff, and registers nothing', async () => {
    const err = await train({ ...small, trees: 20, parityTolerance: 1e-12 }).then(() => null, (e: Error) => e);
    let cause: any = err;
    while (cause?.cause) cause = cause.cause;
    expect(cause?.type).toBe('PredictorParityFailed');
    expect(cause?.message).toMatch(/^ONNX and LightGBM disagree on the held-out rows: (onnxruntime-node max \|diff\| \d\.\d+e-\d+ at held-out row \d+|Python onnxruntime max \|diff\| \d\.\d+e-\d+).*, expected ≤ 1e-12; nothing registered$/);
    expect((await fx.registry.listVersions(model)).map((v) => v.version)).toEqual([2, 1]);
  }, 300_000);
});
