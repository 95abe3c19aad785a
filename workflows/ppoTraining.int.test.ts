/**
 * ppoTraining against the real Temporal dev server, a fresh PostgreSQL database and a filesystem
 * artifact store: a full small run registers a version with signature, lineage and metrics and
 * writes run_metrics and a report; `stop` ends a long run early; a worker process killed with
 * SIGKILL mid-run is replaced and the run finishes from its last checkpoint.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import * as ort from 'onnxruntime-node';
import { createPpoActivities } from '../activities/ppo/activities';
import { runKeys } from '../activities/ppo/checkpoint';
import { parsePolicySignature } from '../ml/onnx/signature';
import { createArtifactStore } from '../registry/artifacts';
import type { ArtifactStore } from '../registry/artifacts/store';
import { Registry } from '../registry/index';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { progressQuery, stopSignal, type PpoProgress, type PpoTrainingInput } from '../contracts/ppo-training';
import { ppoTraining } from './ppoTraining';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';

const root = resolve(__dirname, '..');

/** A run small enough for a test: 4-batch episodes, 2 rollouts × 16 steps, a 16×16 MLP, a coarse grid. */
function smallInput(model: string, extra: Partial<PpoTrainingInput> = {}): PpoTrainingInput {
  return {
    model,
    config: {
      environment: { episode_length: 4, batch_size: 50 },
      ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 2, hidden_sizes: [16, 16] },
    },
    workers: 2,
    iterations: 3,
    seed: 7,
    continueAsNewEvery: 2,
    evaluation: { episodes: 4, screeningEpisodes: 1, shortlist: 2, kStep: 8, fusionStep: 0.5 },
    timeouts: { heartbeatSeconds: 5 },
    ...extra,
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('ppoTraining on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let store: ArtifactStore;
  let storeUri: string;
  let registry: Registry;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    storeUri = `file://${mkdtempSync(join(tmpdir(), 'ppo-training-'))}`;
    store = createArtifactStore(storeUri);
    registry = new Registry({ pool: db.pool, store });
  });
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  async function inProcessWorker(taskQueue: string): Promise<Worker> {
    return Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createPpoActivities({ pool: db.pool, store }) });
  }

  it('runs a small training end to end: registered version with signature, lineage, metrics; run_metrics; report', async () => {
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await inProcessWorker(taskQueue);
    const workflowId = `ppo/${randomUUID()}`;
    const model = `ppo-full-${randomUUID().slice(0, 8)}`;
    const progressSeen: PpoProgress[] = [];
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(ppoTraining, { taskQueue, workflowId, args: [smallInput(model)] });
      const firstRunId = handle.firstExecutionRunId;
      // Poll the progress query while it runs (it follows the run across continueAsNew).
      let done = false;
      const watcher = (async () => {
        while (!done) {
          const p = await env.client.workflow.getHandle(workflowId).query(progressQuery).catch(() => null);
          if (p) progressSeen.push(p);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const r = await handle.result();
      done = true;
      await watcher;
      const desc = await env.client.workflow.getHandle(workflowId).describe();
      expect(desc.runId).not.toBe(firstRunId); // continued as new after 2 iterations
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runKind)).toBe('ppo');
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.model)).toBe(model);
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('done');
      expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.version)).toBe(r.version);
      const last = await env.client.workflow.getHandle(workflowId).query(progressQuery);
      expect(last.phase).toBe('done');
      expect(last.iteration).toBe(3);
      expect(last.result?.version).toBe(r.version);
      return r;
    });

    expect(result).toMatchObject({ model, version: 1, iterations: 3, stopped: false, workflowId });
    expect(['final', 'best']).toContain(result.exported);
    expect(progressSeen.length).toBeGreaterThan(0);
    for (const p of progressSeen) {
      expect(p.iteration).toBeGreaterThanOrEqual(0);
      expect(p.iteration).toBeLessThanOrEqual(3);
    }

    // The registered version: ONNX with a signature the server decodes from, lineage and metrics.
    const v = await registry.getVersion(model, 1);
    expect(v.format).toBe('onnx');
    const signature = parsePolicySignature(v.signature);
    expect(signature.heads.map((h) => `${h.kind}:${h.name}`)).toEqual([
      'categorical:variant',
      'integer:k',
      'bernoulli:rerank',
      'continuous:fusion_weight',
      'categorical:prompt_id',
    ]);
    expect(signature.observation.names).toHaveLength(signature.observation.size);
    expect(v.lineage.runId).toBe(result.runId);
    expect(v.lineage.workflowId).toBe(workflowId);
    expect(v.lineage.configHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    let head = 'unknown';
    try {
      head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root }).toString().trim();
    } catch {
      /* no git here */
    }
    expect(v.lineage.codeCommit).toBe(head);
    const manifest = v.lineage.datasetManifest as any;
    expect(manifest.seed).toBe(7);
    expect(manifest.evaluator).toEqual({ kind: 'simulator' });
    expect(manifest.datasets.map((d: any) => d.id)).toEqual(['acme-policies-v1', 'dev-docs-v3', 'support-faq-v2']);
    for (const name of ['final_reward', 'best_reward', 'baseline_reward', 'best_static_reward', 'eval_reward', 'gate_violations', 'gates_passed', 'improvement_vs_baseline']) {
      expect(Number.isFinite(v.metrics[name])).toBe(true);
    }
    expect(v.metrics.best_reward).toBeGreaterThanOrEqual(v.metrics.final_reward);
    expect(v.metrics.baseline_reward).toBeCloseTo(result.evaluation.baselineReward, 12);
    expect(v.tags).toMatchObject({ run_id: result.runId, run_kind: 'ppo', env: 'simulator', seed: '7' });

    // The artifact runs in onnxruntime and has one output per head as the signature says.
    const bytes = await store.getBuffer(store.keyFromUri(v.artifactUri), { expectedSha256: v.sha256 });
    const session = await ort.InferenceSession.create(bytes);
    const obs = new ort.Tensor('float32', new Float32Array(signature.observation.size), [1, signature.observation.size]);
    const out = await session.run({ [signature.input.name]: obs });
    const variant = signature.heads[0] as { output: string };
    expect(Array.from(out[variant.output].data as Float32Array).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);

    // run_metrics under CleanRL's names, one step per iteration, and the run finished.
    const metrics = await registry.readRunMetrics(result.runId);
    const names = new Set(metrics.map((m) => m.name));
    for (const n of ['charts/episodic_return', 'losses/approx_kl', 'losses/old_approx_kl', 'losses/entropy', 'losses/clipfrac', 'losses/value_loss', 'losses/policy_loss', 'charts/learning_rate']) {
      expect(names.has(n)).toBe(true);
    }
    expect([...new Set(metrics.map((m) => m.step))]).toEqual([1, 2, 3]);
    const run = await registry.getRun(result.runId);
    expect(run).toMatchObject({ kind: 'ppo', model, workflowId, status: 'succeeded' });
    expect((run.config as any).configHash).toBe(v.lineage.configHash);

    // Checkpoints of every iteration, and the report in the store.
    for (let i = 0; i <= 3; i++) expect(await store.head(runKeys.checkpoint(result.runId, i))).not.toBeNull();
    const csv = (await store.getBuffer(store.keyFromUri(result.report.summaryCsv))).toString('utf8').trim().split('\n');
    expect(csv[0].split(',').slice(0, 2)).toEqual(['iteration', 'charts/episodic_return']);
    expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual([1, 2, 3]);
    const configs = (await store.getBuffer(store.keyFromUri(result.report.configsCsv!))).toString('utf8').trim().split('\n');
    expect(configs[0].startsWith('kind,label,variant,k,rerank,fusion_weight,prompt_id')).toBe(true);
    const kinds = configs.slice(1).map((l) => l.split(',')[0]);
    expect(kinds.filter((k) => k === 'policy')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'baseline')).toHaveLength(1);
    expect(kinds.filter((k) => k === 'grid').length).toBeGreaterThan(50);
    expect(configs.slice(1).some((l) => l.endsWith(',true'))).toBe(true);
    const svg = (await store.getBuffer(store.keyFromUri(result.report.svg))).toString('utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Pareto frontier');
    expect(svg).toContain('Episodic return per iteration');
  });

  it('stop: finishes the iteration in flight, then evaluates, exports, registers and starts the canary child', async () => {
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await inProcessWorker(taskQueue);
    const model = `ppo-stop-${randomUUID().slice(0, 8)}`;
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(ppoTraining, {
        taskQueue,
        workflowId: `ppo/${randomUUID()}`,
        // gates anyone passes: this test is about stop; the offline gates have their own test below
        args: [smallInput(model, { iterations: 500, continueAsNewEvery: 50, startCanary: true, gates: { minRewardDelta: -1e9, maxGateViolationRate: 1 } })],
      });
      await until('the first iteration', async () => ((await handle.query(progressQuery)).iteration >= 1 ? true : undefined));
      await handle.signal(stopSignal);
      const p = await handle.query(progressQuery);
      expect(p.stopRequested).toBe(true);
      return handle.result();
    });
    expect(result.stopped).toBe(true);
    expect(result.iterations).toBeGreaterThanOrEqual(1);
    expect(result.iterations).toBeLessThan(500);
    const v = await registry.getVersion(model, result.version);
    expect(v.tags.stopped).toBe('true');
    expect(v.metrics.iterations).toBe(result.iterations);
    const steps = [...new Set((await registry.readRunMetrics(result.runId)).map((m) => m.step))];
    expect(steps).toEqual(Array.from({ length: result.iterations }, (_, i) => i + 1));
    expect((await registry.getRun(result.runId)).status).toBe('succeeded');

    // The canary of the new version was started on the rollout queue and outlives the training run.
    expect(result.canary).toEqual({ workflowId: `canary/${model}`, started: true });
    const canary = env.client.workflow.getHandle(`canary/${model}`);
    const desc = await canary.describe();
    expect(desc.type).toBe('canaryPromotion');
    expect(desc.taskQueue).toBe(TASK_QUEUES.rollout);
    expect(desc.status.name).toBe('RUNNING');
    const history = await canary.fetchHistory();
    const payload = history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0];
    expect(JSON.parse(Buffer.from(payload.data!).toString('utf8'))).toMatchObject({ model, version: result.version });
    await canary.terminate('test over');
  });

  it('offline gates: a version without evidence is rejected and gets no canary; with force the canary starts, audited', async () => {
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await inProcessWorker(taskQueue);
    const model = `ppo-gates-${randomUUID().slice(0, 8)}`;
    // An unreachable reward gate: the lower bound of the reward-delta interval must exceed 1e9 per step.
    const gates = { minRewardDelta: 1e9 };
    const [refused, forced] = await worker.runUntil(async () => {
      const a = await env.client.workflow.execute(ppoTraining, { taskQueue, workflowId: `ppo/${randomUUID()}`, args: [smallInput(model, { iterations: 1, startCanary: true, gates })] });
      const forcedId = `ppo/${randomUUID()}`;
      const b = await env.client.workflow.execute(ppoTraining, { taskQueue, workflowId: forcedId, args: [smallInput(model, { iterations: 1, startCanary: true, gates, force: true, actor: 'test:release-manager' })] });
      const desc = await env.client.workflow.getHandle(forcedId).describe();
      return [a, { ...b, searchAttributes: desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.forced) }] as const;
    });

    // Refused: the verdict names the interval; the version is registered but rejected; no canary workflow.
    expect(refused.offlineGates?.passed).toBe(false);
    expect(refused.offlineGates?.reasons[0]).toMatch(/^held-out reward vs baseline: Δ = .* per step, 95% CI \[.*\] over 4 episodes; its lower bound must exceed 1000000000$/);
    expect(refused.forced).toBe(false);
    expect(refused.canary).toEqual({ workflowId: `canary/${model}`, started: false, error: expect.stringMatching(/^offline gates failed: held-out reward vs baseline/) });
    const v1 = await registry.getVersion(model, refused.version);
    expect(v1.status).toBe('rejected');
    expect(v1.metrics.reward_delta_lower).toBeLessThanOrEqual(v1.metrics.reward_delta);
    const statusAudit = await registry.listAudit({ model, action: 'version.status' });
    expect(statusAudit.some((a) => JSON.stringify(a.after).includes('rejected') && JSON.stringify(a.after).includes('offline gates failed'))).toBe(true);

    // Forced: the canary started, the version stays deployable (registered), the audit names the actor and
    // the reasons, and the run carries AutopilotForced = true.
    expect(forced.offlineGates?.passed).toBe(false);
    expect(forced.forced).toBe(true);
    expect(forced.canary).toEqual({ workflowId: `canary/${model}`, started: true });
    expect((await registry.getVersion(model, forced.version)).status).toBe('registered');
    const audit = (await registry.listAudit({ model, action: 'canary.forced' }));
    expect(audit).toEqual([expect.objectContaining({ actor: 'test:release-manager', entityKey: `${model}/${forced.version}`, after: expect.objectContaining({ reasons: forced.offlineGates!.reasons }) })]);
    expect(forced.searchAttributes).toBe(true);
    await env.client.workflow.getHandle(`canary/${model}`).terminate('test over');
  }, 180_000);

  it('rejects a bad input at once, naming the field', async () => {
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await inProcessWorker(taskQueue);
    const err = await worker
      .runUntil(
        env.client.workflow.execute(ppoTraining, {
          taskQueue,
          workflowId: `ppo/${randomUUID()}`,
          args: [{ env: 'carrier-pigeon', workers: 0, config: { ppo: { clip_coef: -1 } } } as PpoTrainingInput],
        }),
      )
      .then(() => null, (e: Error) => e);
    let cause: any = err;
    while (cause?.cause) cause = cause.cause;
    expect(cause.message).toMatch(/workers must be an integer ≥ 1, got 0/);
  });

  describe('with worker processes (bin/autopilot worker) on the training queue', () => {
    const children: ChildProcess[] = [];
    afterAll(() => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });

    function startWorkerProcess(): Promise<ChildProcess> {
      const child = spawn(process.execPath, [join(root, 'bin', 'autopilot'), 'worker', '--queue', TASK_QUEUES.training], {
        cwd: root,
        env: {
          ...process.env,
          AUTOPILOT_IGNORE_STACK: '1',
          AUTOPILOT_TEMPORAL_ADDRESS: env.address,
          AUTOPILOT_DATABASE_URL: db.url,
          AUTOPILOT_ARTIFACT_URI: storeUri,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      return new Promise((resolveReady, reject) => {
        const onData = (d: Buffer) => {
          output += d.toString();
          if (output.includes('worker: serving task queue')) resolveReady(child);
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
        child.once('exit', (code, signal) => reject(new Error(`worker exited (${code ?? signal}) before it was ready:\n${output}`)));
      });
    }

    /** A live worker process, started if none is running. */
    async function ensureWorker(): Promise<void> {
      if (children.some((c) => c.exitCode === null && c.signalCode === null)) return;
      await startWorkerProcess();
    }

    function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawn(process.execPath, [join(root, 'bin', 'autopilot'), ...args], {
        cwd: root,
        env: { ...process.env, AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_TEMPORAL_ADDRESS: env.address, AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: storeUri },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise((done) => child.once('close', (code) => done({ code, stdout, stderr })));
    }

    it('a worker killed with SIGKILL mid-run: a new worker resumes from the last checkpoint, iterations continuous', async () => {
      const model = `ppo-kill-${randomUUID().slice(0, 8)}`;
      const workflowId = `ppo/${randomUUID()}`;
      const first = await startWorkerProcess();
      const handle = await env.client.workflow.start(ppoTraining, {
        taskQueue: TASK_QUEUES.training,
        workflowId,
        args: [smallInput(model, { iterations: 8, continueAsNewEvery: 3, config: { environment: { episode_length: 4, batch_size: 50 }, ppo: { num_steps: 64, num_minibatches: 2, update_epochs: 4, hidden_sizes: [32, 32] } } })],
      });
      const before = await until('iteration 2 on the first worker', async () => {
        const p = await handle.query(progressQuery);
        return p.iteration >= 2 ? p : undefined;
      });
      expect(before.iteration).toBeLessThan(8);
      first.kill('SIGKILL');
      const killedAt = new Date();
      await new Promise((r) => first.once('exit', r));
      // The kill landed mid-run: the workflow is still open, with no worker left.
      expect((await handle.describe()).status.name).toBe('RUNNING');

      await startWorkerProcess();
      const result = await handle.result();
      expect(result.iterations).toBe(8);
      expect(result.stopped).toBe(false);

      // Every iteration ran exactly once as far as the record goes: steps 1..8, and those finished
      // before the kill were not redone (their metric rows keep their first write time).
      const metrics = await registry.readRunMetrics(result.runId, ['charts/episodic_return', 'losses/approx_kl']);
      const steps = [...new Set(metrics.map((m) => m.step))];
      expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      for (const m of metrics.filter((x) => x.step <= before.iteration)) expect(m.time.getTime()).toBeLessThan(killedAt.getTime());
      // …and the second worker did the rest.
      for (const m of metrics.filter((x) => x.step === 8)) expect(m.time.getTime()).toBeGreaterThan(killedAt.getTime());
      for (let i = 0; i <= 8; i++) expect(await store.head(runKeys.checkpoint(result.runId, i))).not.toBeNull();
      const v = await registry.getVersion(model, result.version);
      expect(v.lineage.runId).toBe(result.runId);
      expect((await registry.getRun(result.runId)).status).toBe('succeeded');
    });

    it('autopilot train ppo starts the run, shows progress and prints the registered model and version', async () => {
      await ensureWorker();
      const dir = mkdtempSync(join(tmpdir(), 'ppo-cli-'));
      const yaml = join(dir, 'policy.yaml');
      writeFileSync(yaml, 'environment:\n  episode_length: 4\n  batch_size: 50\nppo:\n  num_steps: 16\n  num_minibatches: 2\n  update_epochs: 2\n  hidden_sizes: [16, 16]\n');
      const model = `ppo-cli-${randomUUID().slice(0, 8)}`;
      const out = await cli(['train', 'ppo', '--config', yaml, '--model', model, '--iterations', '2', '--workers', '2', '--seed', '5']);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      const lines = out.stdout.split('\n');
      // Not a terminal: plain progress lines, one per change, then the result.
      expect(lines.some((l) => /^\[#+-*\]\s+[0-2]\/2 it\s+return /.test(l))).toBe(true);
      expect(out.stdout).toContain(`registered ${model} version 1`);
      expect(out.stdout).toMatch(/Temporal UI\s+http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/ppo%2F/);
      const v = await registry.getVersion(model, 1);
      expect(v.tags.seed).toBe('5');
      expect((await registry.getRun(v.lineage.runId!)).config).toMatchObject({ iterations: 2, workers: 2, configSource: expect.stringContaining('policy.yaml') });

      const started = await cli(['train', 'ppo', '--config', yaml, '--model', model, '--iterations', '1', '--no-wait', '--json']);
      expect(started.code).toBe(0);
      const info = JSON.parse(started.stdout) as { workflowId: string; runId: string; url: string };
      expect(info.workflowId).toMatch(new RegExp(`^ppo/${model}/`));
      const r = await env.client.workflow.getHandle(info.workflowId).result();
      expect(r).toMatchObject({ model, version: 2, iterations: 1 });
    });
  });
});
