/**
 * banditSnapshot on the real Temporal dev server (1 s interval; the time-skipping server does not
 * register our search attributes) with its real activities (PostgreSQL registry,
 * filesystem artifact store, Redis): state written to Redis as the inference server writes it is
 * snapshotted into a `json` version once per change, metrics are recorded every iteration, and the
 * workflow continues as new every `iterationsPerRun` iterations and finishes the run at maxIterations.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Redis } from 'ioredis';
import { LinUCB, deltaToFields, sumDeltas } from '../ml/bandits';
import { createBanditActivities } from '../activities/bandits/activities';
import { Registry } from '../registry';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { banditSnapshot } from './banditSnapshot';

describe('banditSnapshot', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  let redis: Redis;
  let dir: string;
  const stateKey = `test-snap-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    redis = new Redis('redis://127.0.0.1:6379');
    dir = mkdtempSync(join(tmpdir(), 'ap-bandit-snap-'));
  }, 120_000);
  afterAll(async () => {
    await redis?.del(`bandit:state:${stateKey}`);
    redis?.disconnect();
    await env?.teardown();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('snapshots changed state into json versions, records regret metrics and continues as new', async () => {
    const store = FsArtifactStore.fromUri(`file://${dir}`);
    const registry = new Registry({ pool: db.pool, store });
    await registry.createModel({ name: 'router', actor: 'test' });
    await registry.setDeployment({
      model: 'router', kind: 'bandit', championVersion: null, actor: 'test',
      config: { learner: { kind: 'linucb' }, exploration: { kind: 'none' }, arms: ['large', 'small'], features: ['complexity'], stateKey },
    });
    // 30 rewards as the server's flush writes them: arm 0 mean 0.5 (10 pulls), arm 1 mean 0.8 (20 pulls).
    const l = new LinUCB({ nArms: 2, d: 2 });
    const deltas = [
      ...Array.from({ length: 10 }, (_, i) => l.statsDelta([1, i / 10], 0, i % 2)),
      ...Array.from({ length: 20 }, (_, i) => l.statsDelta([1, i / 20], 1, i % 5 === 0 ? 0 : 1)),
    ];
    const args: (string | number)[] = [];
    for (const s of sumDeltas(deltas)) for (const [f, v] of Object.entries(deltaToFields(s))) args.push(f, v);
    await redis.del(`bandit:state:${stateKey}`);
    for (let i = 0; i < args.length; i += 2) await redis.hincrbyfloat(`bandit:state:${stateKey}`, String(args[i]), Number(args[i + 1]));
    await redis.hincrby(`bandit:state:${stateKey}`, 'seq', 30);

    const taskQueue = `bandits-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createBanditActivities({ pool: db.pool, store, redis }) });
    const workflowId = `bandit-snapshot-${randomUUID()}`;
    const { result, firstRunId } = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(banditSnapshot, { taskQueue, workflowId, args: [{ deployment: 'router', intervalSeconds: 1, iterationsPerRun: 2, maxIterations: 5 }] });
      return { result: await handle.result(), firstRunId: handle.firstExecutionRunId };
    });
    // Only the first iteration saw a new seq: one version, five metric steps, across three runs.
    expect(result).toMatchObject({ iterations: 5, lastSeq: 30, versions: [1] });
    const v = await registry.getVersion('router', 1);
    expect(v.format).toBe('json');
    expect(v.lineage.runId).toBe(result.runId);
    const { stream } = await registry.openVersionArtifact('router', 1);
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
    const doc = JSON.parse(Buffer.concat(chunks).toString());
    expect(doc.seq).toBe(30);
    expect(doc.learner.stats.arms.map((a: { n: number }) => a.n)).toEqual([10, 20]);
    const metrics = await registry.readRunMetrics(result.runId, ['bandit/regret', 'bandit/cumulative_reward', 'bandit/regret_ratio']);
    const regret = metrics.filter((m) => m.name === 'bandit/regret');
    expect(regret.map((m) => m.step)).toEqual([0, 1, 2, 3, 4]);
    expect(regret[0].value).toBeCloseTo(10 * (0.8 - 0.5), 9);
    expect(metrics.find((m) => m.name === 'bandit/cumulative_reward')!.value).toBe(5 + 16);
    expect((await registry.getRun(result.runId)).status).toBe('succeeded');
    // continueAsNew every 2 iterations: the run that completed is not the first one.
    const last = await env.client.workflow.getHandle(workflowId).describe();
    expect(last.status.name).toBe('COMPLETED');
    expect(last.runId).not.toBe(firstRunId);
  }, 120_000);
});
