/**
 * offPolicyEvaluation end to end: the real Temporal dev server, real PostgreSQL, onnxruntime-node and
 * the filesystem artifact store, on 300,000 logged decisions of a contextual bandit whose reward
 * model is known, so the candidate's true value can be computed here and compared with the estimates.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { createOpeActivities } from '../activities/ope/activities';
import { LoggedBandit } from '../activities/ope/testing/logged-bandit';
import { exportOnnx } from '../ml/onnx/export';
import { Rng } from '../ml/rng';
import { createArtifactStore } from '../registry/artifacts';
import type { ArtifactStore } from '../registry/artifacts/store';
import { DecisionStore } from '../decision-log';
import { Registry } from '../registry/index';
import { migrate } from '../registry/migrate';
import type { Signature } from '../registry/types';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { progressQuery, type OffPolicyEvaluationResult, type OpeProgress } from '../contracts/off-policy-evaluation';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../contracts/shared';
import { offPolicyEvaluation } from './offPolicyEvaluation';

const N = 300_000;
const SUB = 50_000;
const STEP_MS = 10;
const START = new Date('2025-03-01T00:00:00.000Z');
const MODEL = 'ope-policy';
const DEPLOYMENT = MODEL;
const CHOICES = ['a0', 'a1', 'a2', 'a3', 'a4'];

describe('offPolicyEvaluation on the real Temporal dev server and PostgreSQL', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let store: ArtifactStore;
  let storeUri: string;
  let registry: Registry;
  const bandit = new LoggedBandit({ nFeatures: 6, choices: CHOICES, epsilon: 0.3, staleness: 0.8, seed: 7 });
  const good = bandit.candidate(3);
  const bad = bandit.candidate(-3);
  const truth = { good: { sum: 0, n: 0 }, badSub: { sum: 0, n: 0 }, logging: { sum: 0, n: 0 } };
  const timing = { generateSeconds: 0, insertSeconds: 0 };

  beforeAll(async () => {
    [env, db] = await Promise.all([startDevServer(), createTestDatabase()]);
    await migrate(db.pool);
    storeUri = `file://${mkdtempSync(join(tmpdir(), 'ope-wf-'))}`;
    store = createArtifactStore(storeUri);
    registry = new Registry({ pool: db.pool, store });
    const decisions = new DecisionStore({ pool: db.pool });
    for (const [policy, description] of [[good, 'prefers high-reward actions'], [bad, 'prefers low-reward actions']] as const) {
      const exported = exportOnnx(policy, { graphName: MODEL });
      await registry.registerVersion({
        model: MODEL, artifact: { buffer: Buffer.from(exported.model) }, format: 'onnx', createModel: true, description,
        signature: JSON.parse(JSON.stringify(exported.signature)) as Signature, actor: 'test:ope',
      });
    }

    // 300k logged decisions with rewards, inserted in batches; only running sums are kept.
    const rng = new Rng(11);
    let seen = 0;
    for (const batch of bandit.generate(N, { start: START, stepMs: STEP_MS, batch: 10_000, deployment: DEPLOYMENT, model: MODEL, version: 1, rng })) {
      const t0 = performance.now();
      const g = bandit.trueValue(good, batch.contexts);
      truth.good.sum += g.sum; truth.good.n += g.n;
      const l = bandit.loggingValue(batch.contexts);
      truth.logging.sum += l.sum; truth.logging.n += l.n;
      if (seen < SUB) {
        const b = bandit.trueValue(bad, batch.contexts.subarray(0, Math.min(batch.contexts.length, (SUB - seen) * bandit.d)));
        truth.badSub.sum += b.sum; truth.badSub.n += b.n;
      }
      seen += batch.decisions.length;
      const t1 = performance.now();
      await decisions.insertDecisions(batch.decisions);
      await db.pool.query(
        'INSERT INTO rewards (decision_id, reward, time, decision_time) SELECT id, r, t, decision_id_time(id) FROM unnest($1::uuid[], $2::float8[], $3::timestamptz[]) AS x(id, r, t)',
        [batch.rewards.map((r) => r.decisionId), batch.rewards.map((r) => r.reward), batch.rewards.map((r) => r.time.toISOString())],
      );
      timing.generateSeconds += (t1 - t0) / 1000;
      timing.insertSeconds += (performance.now() - t1) / 1000;
    }
    // Decisions outside the window and decisions without a reward must not count.
    await decisions.insertDecisions([
      { decisionId: randomUUID(), time: new Date(START.getTime() - 1), deployment: DEPLOYMENT, model: MODEL, version: 1, arm: 'champion', features: [0, 0, 0, 0, 0, 0], action: { variant: 'a0' }, propensity: 0.5 },
      { decisionId: randomUUID(), time: new Date(START.getTime() + 5), deployment: DEPLOYMENT, model: MODEL, version: 1, arm: 'champion', features: [0, 0, 0, 0, 0, 0], action: { variant: 'a0' }, propensity: 0.5 },
    ]);
    process.stdout.write(`ope int test setup: ${N} decisions generated in ${timing.generateSeconds.toFixed(1)} s, inserted in ${timing.insertSeconds.toFixed(1)} s\n`);
  }, 600_000);

  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  async function newWorker(taskQueue = `${TASK_QUEUES.rollout}-${randomUUID()}`): Promise<{ worker: Worker; taskQueue: string }> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowsPath: require.resolve('./offPolicyEvaluation'),
      activities: createOpeActivities({ pool: db.pool, store }),
    });
    return { worker, taskQueue };
  }

  it('scores 300k decisions in chunks across continueAsNew, estimates close to the true value, stores the report and records a pass', async () => {
    const { worker, taskQueue } = await newWorker();
    const workflowId = `ope/${randomUUID()}`;
    const memory = { baseline: 0 };
    const progressSeen: OpeProgress[] = [];
    const phaseAt: Record<string, number> = {};
    const started = performance.now();
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(offPolicyEvaluation, {
        taskQueue, workflowId,
        args: [{
          deployment: DEPLOYMENT,
          from: START.toISOString(),
          to: new Date(START.getTime() + N * STEP_MS).toISOString(),
          candidate: { model: MODEL, version: 1 },
          nBootstrap: 1000,
          chunkSize: 5000,
          chunksPerRun: 25,
          seed: 3,
        }],
      });
      const m0 = process.memoryUsage();
      memory.baseline = m0.heapUsed + m0.arrayBuffers;
      // One progress query at a time, each with a deadline, and the last one settled while the worker
      // still runs: a query left in flight past the worker would wait for a poller that never comes,
      // and its gRPC retry would fire on the closed connection after teardown.
      let inflight: Promise<void> | null = null;
      const timer = setInterval(() => {
        if (inflight) return;
        inflight = env.client
          .withDeadline(Date.now() + 10_000, () => handle.query(progressQuery))
          .then((p) => {
            progressSeen.push(p);
            phaseAt[p.phase] ??= performance.now();
          }, () => undefined)
          .finally(() => { inflight = null; });
      }, 250);
      try {
        return (await handle.result()) as OffPolicyEvaluationResult;
      } finally {
        clearInterval(timer);
        await inflight;
      }
    });
    const seconds = (performance.now() - started) / 1000;
    const scoringSeconds = ((phaseAt.estimating ?? NaN) - (phaseAt.scoring ?? NaN)) / 1000;
    const gt = truth.good.sum / truth.good.n;
    const lv = truth.logging.sum / truth.logging.n;
    process.stdout.write(
      `ope workflow: ${result.nRounds} rounds, ${result.chunks} chunks, ${result.runs} runs in ${seconds.toFixed(1)} s ` +
        `(${Math.round(result.nRounds / seconds)} rounds/s end to end; scoring ≈ ${scoringSeconds.toFixed(1)} s = ` +
        `${Math.round(result.nRounds / scoringSeconds)} rounds/s); truth ${gt.toFixed(4)}, logging ${lv.toFixed(4)}; ` +
        `estimates ${Object.entries(result.estimates).map(([k, e]) => `${k}=${e!.value.toFixed(4)}`).join(' ')}\n`,
    );

    // Chunked: 60 pages of 5,000, across three workflow runs (two continueAsNew).
    expect(result.nRounds).toBe(N);
    expect(result.roundsRead).toBe(N);
    expect(result.chunks).toBe(N / 5000);
    expect(result.runs).toBe(3);
    expect(result.skipped).toEqual({ no_propensity: 0, features_invalid: 0, action_not_in_candidate_space: 0 });
    expect(progressSeen.some((p) => p.phase === 'scoring' && p.chunks > 0 && p.chunks < N / 5000)).toBe(true);

    // Estimates close to the candidate's true value on these contexts (IPW/SNIPW exact, DR family with a ridge q̂).
    for (const name of ['ipw', 'snipw', 'dr', 'sndr', 'switch-dr'] as const) {
      const e = result.estimates[name]!;
      expect(Math.abs(e.value - gt)).toBeLessThan(0.01);
      expect(e.lower).toBeLessThan(e.value);
      expect(e.upper).toBeGreaterThan(e.value);
    }
    // DM rests on a linear q̂ of a logistic truth: biased, but in the neighbourhood. DR-os with its
    // default shrinkage λ = 0 is DM (OBP's definition).
    expect(Math.abs(result.estimates.dm!.value - gt)).toBeLessThan(0.05);
    expect(result.estimates['dr-os']!.value).toBeCloseTo(result.estimates.dm!.value, 9);
    // The logging policy's value is the mean logged reward.
    expect(Math.abs(result.logging.value - lv)).toBeLessThan(0.005);
    // Gate: DR's paired difference is clearly positive → pass.
    expect(result.gate.estimator).toBe('dr');
    expect(result.verdict).toBe('pass');
    expect(result.gate.diff.lower).toBeGreaterThan(0.1);
    expect(Math.abs(result.gate.diff.value - (result.estimates.dr!.value - result.logging.value))).toBeLessThan(1e-9);

    // The stored report: JSON, CSV and SVG exist and parse.
    const report = JSON.parse((await store.getBuffer(store.keyFromUri(result.reportUri))).toString('utf8'));
    process.stdout.write(
      `ope estimate activity: ${report.timing.estimateSeconds} s, peak RSS ${(report.memory.peakRssBytes / 2 ** 20).toFixed(0)} MiB, ` +
        `peak heap+buffers ${((report.memory.peakHeapBytes - memory.baseline) / 2 ** 20).toFixed(0)} MiB over the baseline, ${report.memory.perRoundBytes} bytes/round\n`,
    );
    expect(report.format).toBe('autopilot.ope-report/v1');
    expect(report.rounds).toMatchObject({ read: N, used: N, chunks: N / 5000 });
    expect(report.candidate).toMatchObject({ model: MODEL, version: 1 });
    expect(report.estimates.dr.value).toBeCloseTo(result.estimates.dr!.value, 12);
    expect(report.gate.verdict).toBe('pass');
    expect(report.weights.mean).toBeGreaterThan(0.95);
    expect(report.weights.mean).toBeLessThan(1.05);
    const csv = (await store.getBuffer(store.keyFromUri(result.csvUri))).toString('utf8').trim().split('\n');
    expect(csv[0]).toBe('estimator,value,lower,upper,diff_value,diff_lower,diff_upper,gate');
    expect(csv).toHaveLength(2 + 7);
    const drRow = csv.find((l) => l.startsWith('dr,'))!.split(',');
    expect(Number(drRow[1])).toBeCloseTo(result.estimates.dr!.value, 12);
    expect(drRow[7]).toBe('true');
    const svg = (await store.getBuffer(store.keyFromUri(result.svgUri))).toString('utf8');
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(8);
    expect(svg).toContain('verdict: pass');

    // The evaluation row, linked to the version.
    const evaluations = await registry.listEvaluations(MODEL, 1);
    expect(evaluations).toHaveLength(1);
    expect(evaluations[0]).toMatchObject({ kind: 'ope', verdict: 'pass', reportUri: result.reportUri, id: result.evaluationId });
    expect((evaluations[0].summary as { nRounds: number }).nRounds).toBe(N);

    // Chunks and manifests are removed once the report is stored; the report stays.
    const prefix = store.keyFromUri(result.reportUri).replace(/\/report\/report\.json$/, '');
    expect(await store.list(`${prefix}/chunks/`)).toEqual([]);
    expect(await store.list(`${prefix}/manifests/`)).toEqual([]);
    expect((await store.list(`${prefix}/report/`)).map((o) => o.key.split('/').pop()).sort()).toEqual(['estimates.csv', 'estimates.svg', 'report.json']);

    // Bounded memory: the estimate holds compact per-round arrays (~150 bytes a round here), never the
    // table; scoring holds one page at a time (60 chunks of ≤ 5,000 rounds above).
    expect(report.memory.perRoundBytes).toBeLessThan(200);
    expect(report.memory.peakHeapBytes - memory.baseline).toBeLessThan(400 * 2 ** 20);

    const desc = await env.client.workflow.getHandle(workflowId).describe();
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.runKind)).toBe('ope');
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.model)).toBe(MODEL);
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.version)).toBe(1);
    expect(desc.typedSearchAttributes.get(SEARCH_ATTRIBUTES.phase)).toBe('done');
  }, 600_000);

  it('fails a candidate that prefers bad actions, on a sub-window', async () => {
    const { worker, taskQueue } = await newWorker();
    const result = await worker.runUntil(
      env.client.workflow.execute(offPolicyEvaluation, {
        taskQueue, workflowId: `ope/${randomUUID()}`,
        args: [{
          deployment: DEPLOYMENT,
          from: START.toISOString(),
          to: new Date(START.getTime() + SUB * STEP_MS).toISOString(),
          candidate: { model: MODEL, version: 2 },
          estimators: ['ipw', 'snipw', 'dr'],
          nBootstrap: 1000,
          chunkSize: 20_000,
          keepChunks: true,
        }],
      }),
    );
    const bt = truth.badSub.sum / truth.badSub.n;
    expect(result.nRounds).toBe(SUB);
    expect(result.chunks).toBe(3);
    expect(result.verdict).toBe('fail');
    expect(result.gate.diff.upper).toBeLessThan(-0.1);
    for (const name of ['ipw', 'snipw', 'dr'] as const) expect(Math.abs(result.estimates[name]!.value - bt)).toBeLessThan(0.02);
    expect(Object.keys(result.estimates).sort()).toEqual(['dr', 'ipw', 'snipw']);
    const evaluations = await registry.listEvaluations(MODEL, 2);
    expect(evaluations.map((e) => [e.kind, e.verdict, e.reportUri])).toEqual([['ope', 'fail', result.reportUri]]);
    // keepChunks: the scored chunks stay for inspection.
    const prefix = store.keyFromUri(result.reportUri).replace(/\/report\/report\.json$/, '');
    expect(await store.list(`${prefix}/chunks/`)).toHaveLength(3);
  }, 300_000);

  it('fails fast, naming the field, for a version that does not exist', async () => {
    const { worker, taskQueue } = await newWorker();
    const err = await worker
      .runUntil(env.client.workflow.execute(offPolicyEvaluation, {
        taskQueue, workflowId: `ope/${randomUUID()}`,
        args: [{ deployment: DEPLOYMENT, from: START.toISOString(), to: new Date(START.getTime() + 1000).toISOString(), candidate: { model: MODEL, version: 9 } }],
      }))
      .then(() => null, (e: Error) => e);
    let cause: any = err;
    while (cause?.cause) cause = cause.cause;
    expect(cause?.message).toMatch(/^offPolicyEvaluation input\.candidate = ope-policy\/9: no such version/);
  }, 120_000);

  it('`autopilot evaluate … --json` starts the workflow on the rollout queue, prints the result and exits 1 on a fail verdict', async () => {
    const { worker } = await newWorker(TASK_QUEUES.rollout);
    const root = resolve(__dirname, '..');
    const cli = await worker.runUntil(new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, [
        join(root, 'bin', 'autopilot'), 'evaluate', MODEL, '2', '--from', START.toISOString(), '--to', new Date(START.getTime() + 20_000 * STEP_MS).toISOString(),
        '--estimators', 'ipw,snipw', '--n-bootstrap', '200', '--json',
      ], {
        cwd: root,
        env: { ...process.env, AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_TEMPORAL_ADDRESS: env.address, AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: storeUri },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('close', (code) => done({ code, stdout, stderr }));
    }));
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(1);
    const out = JSON.parse(cli.stdout) as OffPolicyEvaluationResult & { url: string };
    expect(out).toMatchObject({ verdict: 'fail', nRounds: 20_000, chunks: 4, gate: { estimator: 'snipw' } });
    expect(Object.keys(out.estimates).sort()).toEqual(['ipw', 'snipw']);
    expect(out.workflowId).toMatch(/^ope\/ope-policy\/2\//);
    expect((await registry.listEvaluations(MODEL, 2)).map((e) => e.reportUri)).toContain(out.reportUri);
  }, 300_000);
});
