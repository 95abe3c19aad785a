/**
 * The sweep on the real Temporal dev server, PostgreSQL and a filesystem artifact store: 2 reward-weight
 * settings × 3 ablations = 6 tiny child ppoTraining runs, 3 at a time; every child registers a version,
 * the report (CSV, JSON, Pareto SVG) covers all six and names exactly the non-dominated runs.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { createPpoActivities } from '../activities/ppo/activities';
import { createSweepActivities } from '../activities/sweep/activities';
import { TASK_QUEUES } from '../contracts/shared';
import { sweepProgressQuery, type SweepInput, type SweepProgress } from '../contracts/sweep';
import { createArtifactStore } from '../registry/artifacts';
import { Registry } from '../registry/index';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { sweep } from './sweep';

describe('sweep on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;

  beforeAll(async () => {
    [env, db] = await Promise.all([startDevServer(), createTestDatabase()]);
    await migrate(db.pool);
  });
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  it('refuses a head ablation with the reason, before any child starts', async () => {
    const acts = createSweepActivities({ pool: db.pool, store: createArtifactStore(`file://${mkdtempSync(join(tmpdir(), 'sweep-'))}`) });
    await expect(acts.planSweep({ input: { ablations: ['none', 'drop:k' as never] }, workflowId: 'w' })).rejects.toThrow(
      /ablations\[\] "drop:k" is not supported yet: the trainer's action space needs every head to keep ≥ 2 choices/,
    );
    await expect(acts.planSweep({ input: { rewardWeights: [{ lambda: -1 }] }, workflowId: 'w' })).rejects.toThrow(/rewardWeights\[\]\.lambda must be a number ≥ 0, got -1/);
    await expect(acts.planSweep({ input: { rewardWeights: [{}, {}] }, workflowId: 'w' })).rejects.toThrow(/the grid has the cell base-weights\|none twice/);
  });

  it('runs 6 configurations as parallel child ppoTraining runs and reports the Pareto-optimal ones', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sweep-'));
    const store = createArtifactStore(`file://${root}`);
    const registry = new Registry({ pool: db.pool, store });
    const taskQueue = `${TASK_QUEUES.training}-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({ workflowsPath: require.resolve('./index') }),
      activities: { ...createPpoActivities({ pool: db.pool, store }), ...createSweepActivities({ pool: db.pool, store }) },
      maxConcurrentActivityTaskExecutions: 8,
    });
    const name = `sw-${randomUUID().slice(0, 6)}`;
    const input: SweepInput = {
      name,
      config: {
        environment: { episode_length: 4, batch_size: 50 },
        ppo: { num_steps: 16, num_minibatches: 2, update_epochs: 1, hidden_sizes: [8, 8] },
      },
      iterations: 1,
      workers: 1,
      seed: 5,
      evaluation: { episodes: 2, screeningEpisodes: 1, shortlist: 1, kStep: 16, fusionStep: 1 },
      timeouts: { heartbeatSeconds: 20 },
      rewardWeights: [{}, { lambda: 4 }, { alpha: 1, gamma: 0.05 }],
      ablations: ['none', 'no-context'],
      parallel: 3,
    };
    const workflowId = `sweep/${randomUUID()}`;
    let maxRunning = 0;
    const result = await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(sweep, { taskQueue, workflowId, args: [input] });
      let done = false;
      const watcher = (async () => {
        while (!done) {
          const p: SweepProgress | null = await handle.query(sweepProgressQuery).catch(() => null);
          if (p) maxRunning = Math.max(maxRunning, p.running);
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const r = await handle.result();
      done = true;
      await watcher;
      return r;
    });

    expect(result.failed).toBe(0);
    expect(result.succeeded).toBe(6);
    expect(result.rows.map((r) => r.label)).toEqual([
      'base-weights|none', 'base-weights|no-context',
      'lambda=4|none', 'lambda=4|no-context',
      'alpha=1,gamma=0.05|none', 'alpha=1,gamma=0.05|no-context',
    ]);
    // Children ran in parallel (up to 3 at once), each registered a version with its own config.
    expect(maxRunning).toBeGreaterThan(1);
    expect(maxRunning).toBeLessThanOrEqual(3);
    for (const [i, row] of result.rows.entries()) {
      expect(row).toMatchObject({ model: `${name}-${i}`, version: 1, childWorkflowId: `${workflowId}/cell-${i}` });
      const v = await registry.getVersion(row.model, 1);
      expect(row.quality).toBe(v.metrics.quality);
      expect(row.costUsd).toBe(v.metrics.cost_usd);
    }
    // Ablations and weights reached the children's effective configs (the run records them).
    for (const [i, row] of result.rows.entries()) {
      const v = await registry.getVersion(row.model, 1);
      const run = await registry.getRun(v.lineage.runId!);
      const cfg = (run.config as any).policyConfig;
      expect(cfg.environment.contextual).toBe(i % 2 === 0);
      expect(cfg.policy.reward_weights).toEqual(row.rewardWeights);
      expect(cfg.policy.reward_weights.lambda).toBe(i >= 2 && i < 4 ? 4 : 1);
      expect(cfg.policy.reward_weights.alpha).toBe(i >= 4 ? 1 : 0.5);
    }

    // The Pareto set is exactly the non-dominated rows (quality ↑, cost ↓).
    const dominated = (a: (typeof result.rows)[number]) =>
      result.rows.some((b) => b !== a && b.costUsd! <= a.costUsd! && b.quality! >= a.quality! && (b.costUsd! < a.costUsd! || b.quality! > a.quality!));
    expect(new Set(result.pareto)).toEqual(new Set(result.rows.filter((r) => !dominated(r)).map((r) => r.label)));
    expect(result.pareto.length).toBeGreaterThan(0);
    expect(result.rows.filter((r) => r.pareto).map((r) => r.label).sort()).toEqual([...result.pareto].sort());

    // The report files: CSV table of 6 rows, JSON, and the SVG naming the Pareto-optimal runs.
    const csv = readFileSync(fileURLToPath(result.uris.csv), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]).toMatch(/^label,ablation,alpha,beta,gamma,delta,lambda,model,version,quality,cost_usd/);
    expect(JSON.parse(readFileSync(fileURLToPath(result.uris.json), 'utf8')).pareto).toEqual(result.pareto);
    const svg = readFileSync(fileURLToPath(result.uris.svg), 'utf8');
    expect(svg).toMatch(/^<svg/);
    for (const l of result.pareto) expect(svg).toContain(l.replace(/&/g, '&amp;'));
  }, 300_000);
});
