/**
 * The optimiser commands end to end, in process (cli/testing/in-process.ts), against a real Temporal
 * dev server, PostgreSQL and a filesystem artifact store, with the real `training` and `rollout`
 * workers' activity lists (workers/queues.ts): `autopilot tune`, `budget solve|show` and `forecast`.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { loadSettings } from '../../config/settings';
import { TASK_QUEUES } from '../../contracts/shared';
import { DecisionStore, type DecisionInput } from '../../decision-log';
import { toRagConfig } from '../../activities/optimisers/tuning';
import { defaultPolicyConfig } from '../../envs';
import { Registry } from '../../registry';
import { createArtifactStore } from '../../registry/artifacts';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { startDevServer } from '../../test/support/temporal';
import { queueActivities } from '../../workers/queues';
import { runCliInProcess } from '../testing/in-process';

describe('autopilot tune, budget and forecast', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  let workers: Worker[];
  let running: Promise<void>[];
  const dir = mkdtempSync(join(tmpdir(), 'ap-optimiser-cli-'));
  const saved = { ...process.env };

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows') })]);
    await migrate(db.pool);
    Object.assign(process.env, { AUTOPILOT_IGNORE_STACK: '1', AUTOPILOT_TEMPORAL_ADDRESS: env.address, AUTOPILOT_DATABASE_URL: db.url, AUTOPILOT_ARTIFACT_URI: `file://${join(dir, 'artifacts')}` });
    const settings = loadSettings();
    const deps = { settings, pool: db.pool, store: createArtifactStore(settings.artifactUri, settings.s3), close: async () => undefined };
    workers = await Promise.all([TASK_QUEUES.training, TASK_QUEUES.rollout].map((taskQueue) =>
      Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: queueActivities[taskQueue](deps) })));
    running = workers.map((w) => w.run());
  }, 120_000);
  afterAll(async () => {
    for (const w of workers ?? []) w.shutdown();
    await Promise.all(running ?? []);
    await env?.teardown();
    await db?.drop();
    process.env = saved;
  });

  const file = (name: string, value: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(value));
    return p;
  };

  it('tune: follows the run with a progress line, prints the best config and the plots; --json gives the result; --apply-to writes the static config', async () => {
    const human = await runCliInProcess('tune', '--evaluations', '8', '--parallel', '2', '--batches', '2', '--seed', '4');
    expect(human.stderr).toBe('');
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^started parameterTuning tuning\/[0-9a-f]{8}$/m);
    expect(human.stdout).toMatch(/\[#+-*\] {2}\d+\/8 evaluations {2}best /);
    expect(human.stdout).toMatch(/^best config after 8 evaluations/m);
    expect(human.stdout).toMatch(/convergence +file:\/\/.*\/convergence\.svg/);
    const json = await runCliInProcess('tune', '--evaluations', '5', '--parallel', '2', '--batches', '2', '--json');
    expect(json.code).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ evaluations: 5, baseline: { baseline: true }, url: expect.stringContaining('/workflows/tuning%2F') });
    expect(r.partialDependence).toHaveLength(5);

    // --apply-to: the best config becomes the deployment's static (fallback) config.
    const registry = new Registry({ pool: db.pool, store: createArtifactStore(loadSettings().artifactUri) });
    await registry.createModel({ name: 'rag-policy', actor: 'test' });
    await registry.setDeployment({ model: 'rag-policy', championVersion: null, actor: 'test' });
    const applied = await runCliInProcess('tune', '--evaluations', '4', '--parallel', '2', '--batches', '1', '--apply-to', 'rag-policy', '--json');
    expect(applied.code).toBe(0);
    const a = JSON.parse(applied.stdout);
    expect(a.applied).toMatchObject({ deployment: 'rag-policy', as: 'fallback', arm: null, generation: 2 });
    expect((await registry.getDeployment('rag-policy')).fallback).toEqual(toRagConfig(defaultPolicyConfig().policy, a.best.config));
  }, 50_000);

  it('budget solve prints shares and shadow prices and stores them; budget show reads them back; an infeasible plan fails naming the floor', async () => {
    const problem = {
      name: `plan-${randomUUID().slice(0, 6)}`,
      segments: [{ name: 'acme/code', demand: 1000, qualityFloor: 0.7 }, { name: 'acme/chat', demand: 3000 }],
      models: [{ name: 'large' }, { name: 'small' }],
      quality: [[0.9, 0.6], [0.8, 0.75]],
      costPerRequest: [[0.01, 0.001], [0.01, 0.001]],
      budget: 12,
    };
    const solved = await runCliInProcess('budget', 'solve', '--input', file('plan.json', problem), '--json');
    expect(solved.stderr).toBe('');
    expect(solved.code).toBe(0);
    const r = JSON.parse(solved.stdout);
    expect(r.allocation.cost).toBeLessThanOrEqual(12 + 1e-9);
    expect(r.allocation.segmentQuality['acme/code']).toBeGreaterThanOrEqual(0.7 - 1e-9);
    expect(r.sources).toEqual({ demand: 'given', quality: 'given', cost: 'given' });
    expect(r.plotUri).toMatch(/^file:\/\/.*\/budgets\/plan-\w+\/.*\.svg$/);
    const shown = await runCliInProcess('budget', 'show', '--name', problem.name, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ id: r.solutionId, status: 'optimal', solution: { expectedQuality: r.allocation.expectedQuality } });
    const text = await runCliInProcess('budget', 'show', '--name', problem.name);
    expect(text.stdout).toContain(`allocation "${problem.name}" (lp): expected quality ${r.allocation.expectedQuality.toFixed(4)}`);
    expect(text.stdout).toMatch(/shadow price of the budget: \+[\d.]+ expected quality per extra unit of budget/);

    const infeasible = await runCliInProcess('budget', 'solve', '--input', file('bad.json', { ...problem, budget: 2, segments: [{ ...problem.segments[0], qualityFloor: 0.85 }, problem.segments[1]] }));
    expect(infeasible.code).toBe(1);
    expect(infeasible.stderr).toMatch(/budgetAllocation budget\/plan-\w+\/\w+ failed: solveBudgetAllocation: budget 2 is below [\d.]+, the cheapest allocation that meets the quality floors; binding floors: "acme\/code" \(floor 0\.85/);
    expect((await runCliInProcess('budget', 'show', '--name', 'never-solved')).stderr).toBe('error: budget solution never-solved not found (solve it first with `autopilot budget solve`)\n');
  }, 40_000);

  it('forecast: per-minute rates from the decision log, stored with a replica count and a plot', async () => {
    const until = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const rows: DecisionInput[] = [];
    for (let t = 0; t < 120; t++) {
      const n = 30 + (t % 10); // 0.5–0.65 requests per second
      for (let i = 0; i < n; i++) rows.push({ decisionId: randomUUID(), time: new Date(until.getTime() - (120 - t) * 60_000 + Math.floor((i / n) * 60_000)), deployment: 'search', model: 'search', version: null, arm: 'champion', features: {}, action: {} });
    }
    await new DecisionStore({ pool: db.pool }).insertDecisions(rows);
    const out = await runCliInProcess('forecast', '--deployment', 'search', '--granularity', 'minute', '--history', '120', '--horizon', '10', '--method', 'ets', '--until', until.toISOString(), '--capacity-per-replica', '0.2', '--json');
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const r = JSON.parse(out.stdout);
    expect(r.forecasts).toHaveLength(1);
    const f = r.forecasts[0];
    expect(f).toMatchObject({ deployment: 'search', stepSeconds: 60, historyPoints: 120, origin: until.toISOString(), method: expect.stringMatching(/^ETS\(/) });
    expect(f.historyMean).toBeCloseTo(rows.length / 120 / 60, 12);
    expect(f.mean[0]).toBeGreaterThan(0.45);
    expect(f.mean[0]).toBeLessThan(0.7);
    expect(f.capacity.replicas).toBe(Math.ceil(f.capacity.peakRate / (0.2 * 0.8)));
    expect(f.plotUri).toMatch(/\.svg$/);
  }, 40_000);
});
