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
import { readFile, rm, writeFile } from 'node:fs/promises';
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
import { DecisionStore } from '../decision-log';
import { generateDecisions } from '../ml/policy-data/generate';
import { isBorderline, judgeEvaluations, judgeExpectations, poolExpectations, ruleVerdict } from '../activities/oumi/testing/judge-checks';
import { startRuleJudgeServer, type RuleJudgeServer } from '../activities/oumi/testing/rule-judge-server';

const root = resolve(__dirname, '..');
const describeWithVenv = describeWithOumiVenv('workflows/textPolicyTraining.int.test.ts');

describeWithVenv('textPolicyTraining on the real Temporal dev server and the real oumi CLI', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let store: ArtifactStore;
  let registry: Registry;
  let bundle: WorkflowBundleWithSourceMap;
  let dataDir: string;
  // The LLM judge (seed 003's llm_judge): an OpenAI-compatible stand-in answering with the reviewing rule, behind an API key.
  let judgeServer: RuleJudgeServer;
  const judgeKey = `sk-judge-${randomUUID()}`;
  const previousJudgeKey = process.env.AUTOPILOT_JUDGE_API_KEY;

  beforeAll(async () => {
    judgeServer = await startRuleJudgeServer({ apiKey: judgeKey, borderline: 0.03 });
    process.env.AUTOPILOT_JUDGE_API_KEY = judgeKey;
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    await installTestKey(db.pool); // the inference server below runs with auth on; postJson sends this key
    dataDir = mkdtempSync(join(tmpdir(), 'policy-training-'));
    store = createArtifactStore(`file://${join(dataDir, 'artifacts')}`);
    registry = new Registry({ pool: db.pool, store });
  }, 120_000);
  afterAll(async () => {
    if (previousJudgeKey === undefined) delete process.env.AUTOPILOT_JUDGE_API_KEY;
    else process.env.AUTOPILOT_JUDGE_API_KEY = previousJudgeKey;
    await judgeServer?.close();
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
      // configs/oumi/policy_rl.yaml, the endpoint overridden; a generated pool of 120 unseen decisions (20,000 by default)
      judge: { endpoint: judgeServer.url, model: 'rule-judge', poolSize: 120 },
    };
    // Served decisions of this model that reviewers judged: the reviewer follows the rule except on the first.
    const reviewed = generateDecisions({ n: 10, seed: 31 }).filter((r) => !isBorderline(r, 0.03));
    const reviewerVerdicts = reviewed.map((r, i) => (i === 0 ? (ruleVerdict(r) === 'APPROVE' ? 'FLAG' : 'APPROVE') : ruleVerdict(r)));
    const reviewedIds = reviewed.map(() => randomUUID());
    await new DecisionStore({ pool: db.pool }).insertDecisions(reviewed.map((r, i) => ({
      decisionId: reviewedIds[i], time: new Date(Date.now() - 60_000), deployment: model, model, version: null, arm: 'champion',
      features: { snapshot: { input: r.input, output: r.output } } as never, action: { verdict: 'APPROVE' }, metadata: { kind: 'text-policy' },
    })));
    for (const [i, id] of reviewedIds.entries()) {
      await db.pool.query(`INSERT INTO decision_feedback (decision_id, decision_time, deployment, model, served_verdict, verdict) VALUES ($1, now() - interval '1 minute', $2, $2, 'APPROVE', $3)`, [id, model, reviewerVerdicts[i]]);
    }
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
    // DPO trained on pairs mined from the SFT model's errors at p_approve 0.5 on its training split (or on every pair when too few)
    const scoredTrain = (await readFile(join(result.workDir, 'predictions-sft-train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { p_approve: number; label: string });
    const wrong = scoredTrain.filter((x) => (x.p_approve >= 0.5) !== (x.label === 'APPROVE')).length;
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

    // The judge stage: Oumi's rubric judge scored the SFT model's answer and the alternative of every training
    // item, and each reviewed decision's two answers; its pairs prefer the rule's verdict, the borderline items
    // (where the stand-in is unsure) fall below the margin, contradicted mined pairs are dropped, the DPO stage
    // trained on the merged file, and the agreement is a `judge` evaluation of both versions. The key went to the
    // endpoint only.
    const judged = result.judge!;
    expect(stages).toContain('judging');
    const judgeExpected = await judgeExpectations(result.workDir, judged, 1000, 0.03, 3);
    expect(judged.judged).toBe((await readFile(join(result.workDir, 'prepared', 'train.jsonl'), 'utf8')).trim().split('\n').length); // max_items 1000: every training item
    expect(judged.variantsJudged).toBe(6 * judged.judged); // variant_candidates 6 one-fact changes of each (every decision has at least 14)
    const pool = judged.pool!;
    const poolJudged = pool.size + pool.variantsJudged;
    expect(judgeServer.requests).toBe(2 * (judged.judged + judged.variantsJudged + reviewed.length + poolJudged));
    expect([...judgeServer.authorizations]).toEqual([`Bearer ${judgeKey}`]);
    expect(judged).toMatchObject({ scored: 2 * (judged.judged + judged.variantsJudged + reviewed.length + poolJudged), failed: 0, margin: 0.5, judgeModel: 'rule-judge', belowMargin: judgeExpected.belowMargin, pairs: judgeExpected.chosen.length, labels: judgeExpected.labels });
    // The judge's pairs: its verdict on each decided item, then on each one-fact change it decided the other way (synthetic preference data),
    // then the pool's: its hard items (the SFT model wrong or barely right at 0.5 by the judge), their flips, their matches.
    const trainingPairs = judgeExpected.chosen.length + judgeExpected.variantChosen.length;
    expect(judgeExpected.judgePairs.slice(0, trainingPairs).map((p) => p.chosen)).toEqual([...judgeExpected.chosen, ...judgeExpected.variantChosen]);
    // The unseen pool: fresh decisions from the run's generator (seed 21 + 1000, no label), scored by the SFT model, judged.
    const poolExpected = await poolExpectations(join(result.workDir, 'judge'), 0.03, 3);
    expect(poolExpected.records).toEqual(generateDecisions({ n: 120, seed: 1021, labelNoise: 0 }).map((r) => ({ input: r.input, output: r.output })));
    expect(poolExpected.scores.every((p) => p >= 0 && p <= 1)).toBe(true);
    expect(poolExpected.hard.length).toBeGreaterThan(0);
    expect(pool).toMatchObject({
      source: 'generated', size: 120, decided: poolExpected.verdicts.filter((v) => v !== null).length, errors: poolExpected.errors, marginal: poolExpected.hard.length - poolExpected.errors,
      variantsJudged: 6 * poolExpected.hard.length, variantPairs: poolExpected.variantChosen.length,
    });
    expect(poolExpected.roles.flatMap((r, i) => (r === 'hard' ? [i] : []))).toEqual(poolExpected.hard);
    const matched = poolExpected.roles.flatMap((r, i) => (r === 'matched' ? [i] : []));
    expect(pool.matched).toBe(matched.length);
    // a match is an item the model gets confidently right, of the other verdict than the hard ones it balances
    for (const i of matched) expect(Math.abs(poolExpected.scores[i] - 0.5) >= 0.1 && (poolExpected.scores[i] >= 0.5) === (poolExpected.verdicts[i] === 'APPROVE')).toBe(true);
    const hardApprove = poolExpected.hard.filter((i) => poolExpected.verdicts[i] === 'APPROVE').length;
    expect(matched.filter((i) => poolExpected.verdicts[i] === 'FLAG').length).toBeLessThanOrEqual(hardApprove);
    expect(pool.pairs).toBe(poolExpected.hard.length + pool.variantPairs + pool.matched);
    const poolPairs = judgeExpected.judgePairs.slice(trainingPairs);
    expect(poolPairs).toHaveLength(pool.pairs);
    const head = poolExpected.hard.length + poolExpected.variantChosen.length;
    expect(poolPairs.slice(0, head).map((p) => p.chosen)).toEqual([...poolExpected.hard.map((i) => poolExpected.verdicts[i]), ...poolExpected.variantChosen]);
    expect(poolPairs.slice(head).map((p) => p.chosen).sort()).toEqual(matched.map((i) => poolExpected.verdicts[i]).sort());
    // and they went into the DPO file (pool prompts are not training prompts: no base pair contradicts them)
    const mergedPrompts = new Set(judgeExpected.merged.map((p) => p.prompt));
    expect(poolPairs.every((p) => mergedPrompts.has(p.prompt))).toBe(true);
    expect(judged.variantPairs).toBe(judgeExpected.variantChosen.length);
    expect(judged.variantPairs).toBeGreaterThan(judged.judged / 2);
    for (const v of judgeExpected.variants.filter((x) => x.pair)) expect(ruleVerdict(v.record)).not.toBe(v.item);
    expect(judged.feedback).toMatchObject({ n: reviewed.length, decided: reviewed.length, agree: reviewed.length - 1 });
    expect(judged.conflicts).toBe(judgeExpected.contradicted.length);
    expect(judgeExpected.merged).toHaveLength(judgeExpected.base.length - judgeExpected.contradicted.length + judged.added);
    expect(judgeExpected.merged.some((p) => judgeExpected.contradicted.includes(p.prompt))).toBe(false);
    expect(judged.path).toBe(join(result.workDir, 'judge', 'dpo_judged.jsonl'));
    for (const text of [...judgeExpected.files, JSON.stringify(result), JSON.stringify(run)]) expect(text).not.toContain(judgeKey);
    for (const v of [hf, onnx]) {
      const [evaluation] = await judgeEvaluations(registry, model, v.version);
      expect(evaluation).toMatchObject({ runId: result.runId, verdict: judged.labels.agreement! >= 0.8 ? 'pass' : 'fail', summary: { labels: judgeExpected.labels, feedback: judged.feedback, pairs: judged.pairs } });
      expect(JSON.stringify(evaluation)).not.toContain(judgeKey);
      expect(v.tags).toMatchObject({ judge_config: 'configs/oumi/policy_rl.yaml', judge_model: 'rule-judge' });
    }

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
  }, 20 * 60 * 1000); // on a loaded 2-core machine SFT, the judge stage, DPO and the export take 10+ minutes

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

  it("refuses at once a generated judge pool on a run that trains on a file, naming the config's field and the fix", async () => {
    const taskQueue = `${TASK_QUEUES.oumi}-${randomUUID()}`;
    const worker = await oumiWorker(taskQueue);
    const file = join(dataDir, 'own-decisions.jsonl');
    await writeFile(file, generateDecisions({ n: 5, seed: 3 }).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const err = await worker.runUntil(
      env.client.workflow.execute(textPolicyTraining, { taskQueue, workflowId: `policy/${randomUUID()}`, args: [{ data: file, judge: { endpoint: judgeServer.url } }] }).catch((e: unknown) => e),
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    let cause = err as { message?: string; cause?: unknown };
    while (cause.cause) cause = cause.cause as typeof cause;
    expect(cause.message).toBe(
      `configs/oumi/policy_rl.yaml: llm_judge.pool.source is generated, but this run trains on a file (data.path ${file}), not on generated data; set pool.source to served (the model's served decisions) or none there, or give judge.poolSize 0`,
    );
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
      // Heartbeats reach the server at most every 0.8 × this: the cancellation arrives within ~24 s. (10 s timed
      // an activity out at load 15: a throttled heartbeat every 8 s left too little room for a slow worker.)
      timeouts: { heartbeatSeconds: 30 },
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
