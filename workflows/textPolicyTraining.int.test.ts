/**
 * textPolicyTraining on the real Temporal dev server, a fresh PostgreSQL database, a filesystem artifact
 * store and the real `oumi` CLI (.venv-oumi, CPU) on the tiny model: a few dozen SFT and DPO steps end
 * in two registered versions (HF folder, ONNX export with the text-policy signature) whose metrics are
 * the evaluation activity's, with lineage to the data manifest and both configs; the `progress` query
 * shows the trainer's step and loss while it trains; with startCanary the canaryPromotion child starts; the
 * ONNX version, deployed as a text-policy, answers the inference server's /v1/decide. Skipped, saying so, without .venv-oumi.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createOumiActivities } from '../activities/oumi/activities';
import { createPolicyRunActivities, evaluationMetrics } from '../activities/oumi/register';
import { parseTextPolicySignature } from '../ml/policy-data/signature';
import { createArtifactStore } from '../registry/artifacts';
import type { ArtifactStore } from '../registry/artifacts/store';
import { Registry } from '../registry/index';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { startInferenceServer } from '../inference/server';
import { postJson } from '../inference/testing/fixture';
import { installTestKey } from '../inference/testing/api-key';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import { progressQuery, type PolicyMetrics, type TextPolicyProgress, type TextPolicyTrainingInput } from '../contracts/text-policy-training';
import { textPolicyTraining } from './textPolicyTraining';
import { describeWithOumiVenv } from '../test/support/tools';

const root = resolve(__dirname, '..');
const describeWithVenv = describeWithOumiVenv('workflows/textPolicyTraining.int.test.ts');

describeWithVenv('textPolicyTraining on the real Temporal dev server and the real oumi CLI', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let store: ArtifactStore;
  let registry: Registry;
  let bundle: WorkflowBundleWithSourceMap;
  let dataDir: string;

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    await installTestKey(db.pool); // the inference server below runs with auth on; postJson sends this key
    dataDir = mkdtempSync(join(tmpdir(), 'policy-training-'));
    store = createArtifactStore(`file://${join(dataDir, 'artifacts')}`);
    registry = new Registry({ pool: db.pool, store });
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('prepares, trains SFT then DPO, evaluates both, registers the HF and ONNX versions with metrics, gates and lineage', async () => {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: { ...createOumiActivities({ root, store }), ...createPolicyRunActivities({ pool: db.pool, store, root, dataDir }) },
    });
    const model = `policy-${randomUUID().slice(0, 8)}`;
    const workflowId = `policy/${randomUUID()}`;
    const input: TextPolicyTrainingInput = {
      model,
      data: { generate: { n: 300, seed: 21, noise: 0.02 } },
      sftSteps: 30,
      dpoSteps: 20,
      sftOverrides: { 'training.per_device_train_batch_size': 8, 'training.save_steps': 15 },
      dpoOverrides: { 'training.per_device_train_batch_size': 8, 'training.save_steps': 10, 'training.learning_rate': 5e-4 },
      progressIntervalSeconds: 0, // every trainer line is signalled: a stage of a few fast steps still shows a step ≥ 1 to the 250-ms query loop
      startCanary: true,
      force: true, // 30 SFT steps miss seed 003's targets: the canary starts only forced (textPolicyTraining.gates.int.test.ts)
      timeouts: { trainSeconds: 600, heartbeatSeconds: 120 },
    };
    const seen: TextPolicyProgress[] = [];
    const started = Date.now();
    const { result, last } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(textPolicyTraining, { taskQueue, workflowId, args: [input] });
      let done = false;
      const watcher = (async () => {
        while (!done) {
          const p = await handle.query(progressQuery).catch(() => null);
          if (p) seen.push(p);
          await new Promise((r) => setTimeout(r, 250));
        }
      })();
      try {
        const r = await handle.result();
        // Queries need a polling worker, even after the run closed: ask while this one runs.
        return { result: r, last: await handle.query(progressQuery) };
      } finally {
        done = true;
        await watcher;
      }
    });
    console.log(JSON.stringify({ wallSeconds: (Date.now() - started) / 1000, sft: result.sft, dpo: result.dpo }));

    // The progress query followed the stages and showed the trainer's step and loss during SFT and DPO.
    const stages = [...new Set(seen.map((p) => p.stage))];
    expect(stages).toEqual(expect.arrayContaining(['sft', 'dpo']));
    for (const stage of ['sft', 'dpo'] as const) {
      const trainer = seen.filter((p) => p.stage === stage && p.trainer !== null).map((p) => p.trainer!);
      expect(trainer.length).toBeGreaterThan(0);
      expect(trainer.every((t) => t.stage === stage && t.step >= 0 && t.step <= (stage === 'sft' ? 30 : 20))).toBe(true);
      expect(trainer.some((t) => t.step >= 1)).toBe(true);
      expect(trainer.some((t) => t.totalSteps === (stage === 'sft' ? 30 : 20))).toBe(true);
    }
    expect(last.stage).toBe('done');
    expect(last.result?.onnx.version).toBe(result.onnx.version);
    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runKind)).toBe('policy');
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.model)).toBe(model);
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('done');
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.version)).toBe(result.onnx.version);

    // startCanary: canaryPromotion of the ONNX version, abandoned child on the rollout queue (no rollout worker here).
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: true });
    expect(result.offlineGates?.passed === false ? result.forced : false).toBe(result.offlineGates?.passed === false);
    const canary = await env.client.workflow.getHandle(`canary/${model}`).describe();
    expect(canary.type).toBe('canaryPromotion');
    expect(canary.taskQueue).toBe(TASK_QUEUES.rollout);
    await env.client.workflow.getHandle(`canary/${model}`).terminate('test over');

    expect(result.sft.steps).toBe(30);
    expect(result.dpo.steps).toBe(20);

    // Metrics of both versions are the evaluation activity's (the JSON it wrote), gates included.
    const sftMetrics = JSON.parse(await readFile(join(result.workDir, 'metrics-sft.json'), 'utf8')) as PolicyMetrics;
    const dpoMetrics = JSON.parse(await readFile(join(result.workDir, 'metrics-dpo.json'), 'utf8')) as PolicyMetrics;
    const expected = { ...evaluationMetrics('sft', sftMetrics), ...evaluationMetrics('dpo', dpoMetrics) };
    const hf = await registry.getVersion(model, result.hf.version);
    const onnx = await registry.getVersion(model, result.onnx.version);
    expect([hf.version, onnx.version]).toEqual([1, 2]);
    // The threshold was chosen on the validation split; the registered model is DPO's unless DPO lowered
    // the validation accuracy (then SFT's); its targets are gated on the adjudicated eval labels.
    expect(sftMetrics.calibration?.data).toMatch(/sft_val\.jsonl$/);
    expect(dpoMetrics.calibration?.threshold).toBe(dpoMetrics.threshold);
    const chosen = dpoMetrics.calibration!.accuracy < sftMetrics.calibration!.accuracy ? 'sft' : 'dpo';
    const own = chosen === 'sft' ? sftMetrics : dpoMetrics;
    expect(result).toMatchObject({ chosen, threshold: own.threshold });
    expect(own.adjudicated!.n).toBe(own.n);
    // DPO trained on pairs mined from the SFT model's errors on its training split (or on every pair when too few)
    const scoredTrain = (await readFile(join(result.workDir, 'predictions-sft-train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { p_approve: number; label: string });
    const wrong = scoredTrain.filter((x) => (x.p_approve >= sftMetrics.threshold) !== (x.label === 'APPROVE')).length;
    expect(result.mined?.errors).toBe(wrong);
    if (result.mined?.path) expect(result.mined.records).toBe(result.mined.errors + result.mined.marginal + result.mined.easy);
    expect(result.offlineGates?.passed).toBe(own.adjudicated!.passed);
    for (const v of [hf, onnx]) {
      expect(v.metrics).toMatchObject(expected);
      expect(v.metrics.accuracy).toBe(own.accuracy);
      expect(v.metrics.threshold).toBe(own.threshold);
      expect(v.metrics.adjudicated_accuracy).toBe(own.adjudicated!.accuracy);
      expect(v.metrics.dpo_tp + v.metrics.dpo_fp + v.metrics.dpo_tn + v.metrics.dpo_fn).toBe(dpoMetrics.n);
      expect(v.metrics.gates_passed).toBe(own.adjudicated!.passed ? 1 : 0);
      expect(v.tags).toMatchObject({ chosen_stage: chosen, gated_on: 'adjudicated eval set' });
      expect(v.lineage.runId).toBe(result.runId);
      expect(v.lineage.workflowId).toBe(workflowId);
      expect(v.lineage.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
      const manifest = v.lineage.datasetManifest as { source: { sha256: string; records: number }; configs: { sft: { sha256: string }; dpo: { sha256: string } } };
      expect(manifest.source.records).toBe(300);
      expect(manifest.configs.sft.sha256).toBe(v.tags.sft_config_sha256);
      expect(manifest.configs.dpo.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v.artifactLayout).toBe('directory');
    }
    expect(hf.format).toBe('hf');
    expect(onnx.format).toBe('onnx');
    expect(onnx.tags.exported_from_version).toBe('1');

    // The HF artifact is the model without checkpoints; the ONNX one has the graph and the tokenizer.
    const out = join(dataDir, 'download-hf');
    await registry.downloadVersion(model, hf.version, out);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
    expect(existsSync(join(out, 'tokenizer.json'))).toBe(true);
    expect(existsSync(join(out, 'checkpoint-20'))).toBe(false);
    const signature = parseTextPolicySignature(onnx.signature);
    const policy = JSON.parse(await readFile(join(result.workDir, 'onnx', 'policy.json'), 'utf8')) as { verdict_token_ids: { APPROVE: number; FLAG: number } };
    expect(signature.verdictTokenIds).toEqual(policy.verdict_token_ids);
    expect(signature.threshold).toBe(own.threshold);
    const onnxOut = join(dataDir, 'download-onnx');
    await registry.downloadVersion(model, onnx.version, onnxOut);
    expect(existsSync(join(onnxOut, signature.onnx))).toBe(true);
    expect(existsSync(join(onnxOut, signature.tokenizer))).toBe(true);

    const run = await registry.getRun(result.runId);
    expect(run.kind).toBe('policy');
    expect(run.status).toBe('succeeded');

    // The ONNX version, deployed as a text-policy, answers /v1/decide with PyTorch's score of the same prompts.
    await registry.setDeployment({ model, kind: 'text-policy', championVersion: onnx.version, actor: 'test' });
    const server = await startInferenceServer({
      port: 0, databaseUrl: db.url, redisUrl: null, artifactUri: `file://${join(dataDir, 'artifacts')}`, cacheDir: join(dataDir, 'inference'),
      defaultMetrics: false, log: () => undefined,
    });
    try {
      const reference = JSON.parse(await readFile(join(result.workDir, 'onnx', 'reference.json'), 'utf8')) as { cases: { prompt: string; last_logits: number[] }[] };
      expect(reference.cases.length).toBeGreaterThan(0);
      const { APPROVE, FLAG } = signature.verdictTokenIds;
      for (const c of reference.cases) {
        const r = await postJson(`${server.url}/v1/decide`, { deployment: model, text: c.prompt });
        expect(r.status).toBe(200);
        const p = 1 / (1 + Math.exp(c.last_logits[FLAG] - c.last_logits[APPROVE]));
        expect(r.body.pApprove).toBeCloseTo(p, 4);
        expect(r.body).toMatchObject({ model, version: onnx.version, arm: 'champion', fallback: false, approve: r.body.pApprove >= own.threshold });
      }
    } finally {
      await server.close();
    }
  }, 10 * 60 * 1000);

  function oumiWorker(taskQueue: string): Promise<Worker> {
    return Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: { ...createOumiActivities({ root, store }), ...createPolicyRunActivities({ pool: db.pool, store, root, dataDir }) },
    });
  }

  it('fails at once, naming the field, on a data file that does not exist', async () => {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const worker = await oumiWorker(taskQueue);
    const err = await worker.runUntil(
      env.client.workflow.execute(textPolicyTraining, { taskQueue, workflowId: `policy/${randomUUID()}`, args: [{ data: 'no/such/labeled_decisions.jsonl' }] }).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let cause = err as { message?: string; cause?: unknown };
    while (cause.cause) cause = cause.cause as typeof cause;
    expect(cause.message).toMatch(/data = ".*no\/such\/labeled_decisions.jsonl"; expected a labeled_decisions.jsonl file \(not found\)/);
  });

  it('cancelled during SFT: the trainer process is killed and the run is marked cancelled', async () => {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const worker = await oumiWorker(taskQueue);
    const workflowId = `policy/${randomUUID()}`;
    const input: TextPolicyTrainingInput = {
      model: `policy-cancel-${randomUUID().slice(0, 8)}`,
      data: { generate: { n: 100, seed: 3 } },
      sftSteps: 5000,
      sftOverrides: { 'training.per_device_train_batch_size': 4, 'training.save_steps': 1000 },
      progressIntervalSeconds: 1,
      // Heartbeats reach the server at most every 0.8 × this: the cancellation arrives within ~8 s.
      timeouts: { heartbeatSeconds: 10 },
    };
    const outcome = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(textPolicyTraining, { taskQueue, workflowId, args: [input] });
      let p: TextPolicyProgress | null = null;
      const deadline = Date.now() + 240_000;
      while (Date.now() < deadline) {
        p = await handle.query(progressQuery).catch(() => null);
        if (p?.stage === 'sft' && p.trainer !== null && p.trainer.step >= 1) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(p?.stage).toBe('sft');
      await handle.cancel();
      const error = await handle.result().catch((e: unknown) => e);
      return { error, runId: p!.runId! };
    });
    expect(outcome.error).toBeInstanceOf(WorkflowFailedError);
    const run = await registry.getRun(outcome.runId);
    expect(run.status).toBe('cancelled');
    // No trainer of this run is left: its output folder appears in no process's command line.
    const sftDir = join(dataDir, 'oumi', 'runs', outcome.runId, 'sft');
    const processes = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(sftDir));
    expect(processes).toEqual([]);
  }, 5 * 60 * 1000);
});
