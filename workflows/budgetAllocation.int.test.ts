/**
 * budgetAllocation on the real Temporal dev server with its real activities: demand, quality and
 * cost read from a decision log in PostgreSQL, the LP solved by HiGHS, the solution stored in
 * budget_solutions; an infeasible plan is stored and fails naming the binding floor.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createBudgetActivities } from '../activities/optimisers/budget';
import type { BudgetAllocationInput } from '../contracts/budget-allocation';
import { DecisionStore, type DecisionInput } from '../decision-log';
import { Rng } from '../ml/rng';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { Db } from '../registry/db';
import { migrate } from '../registry/migrate';
import { latestBudgetSolution, listBudgetSolutions } from '../registry/optimisers';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { budgetAllocation } from './budgetAllocation';

/** True mean reward per (category, arm) and cost per request per arm of the seeded log. */
const QUALITY: Record<string, Record<string, number>> = { code: { large: 0.9, small: 0.55 }, chat: { large: 0.8, small: 0.74 } };
const COST: Record<string, number> = { large: 0.01, small: 0.001 };
const COUNTS: Record<string, number> = { code: 300, chat: 600 };

describe('budgetAllocation on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  const from = new Date(Date.now() - 3_600_000);
  const logged = { large: {} as Record<string, number[]>, small: {} as Record<string, number[]> };

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    artifacts = new FsArtifactStore(mkdtempSync(join(tmpdir(), 'ap-budget-')));
    const rng = new Rng(11);
    const rows: DecisionInput[] = [];
    const rewards: { decisionId: string; reward: number; components: Record<string, number> }[] = [];
    for (const [category, n] of Object.entries(COUNTS)) {
      for (let i = 0; i < n; i++) {
        const arm = i % 2 === 0 ? 'large' : 'small';
        const decisionId = randomUUID();
        rows.push({ decisionId, time: new Date(from.getTime() + 1000 + i * 1000), deployment: 'router', model: 'router', version: null, arm, features: { tenant: 'acme', category }, action: { arm }, propensity: 0.5 });
        const reward = QUALITY[category][arm] + 0.05 * rng.normal();
        (logged[arm][category] ??= []).push(reward);
        rewards.push({ decisionId, reward, components: { cost_usd: COST[arm] } });
      }
    }
    // Another tenant's decisions must not count.
    rows.push({ decisionId: randomUUID(), time: new Date(from.getTime() + 5000), deployment: 'router', model: 'router', version: null, arm: 'large', features: { tenant: 'other', category: 'code' }, action: { arm: 'large' }, propensity: 0.5 });
    const store = new DecisionStore({ pool: db.pool });
    await store.insertDecisions(rows);
    await store.insertRewards(rewards);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
  });

  const input = (budget: number, floors: Record<string, number> = {}): BudgetAllocationInput => ({
    name: 'monthly',
    segments: ['code', 'chat'].map((category) => ({ name: `acme/${category}`, qualityFloor: floors[category], match: { deployment: 'router', features: { tenant: 'acme', category } } })),
    models: [{ name: 'large' }, { name: 'small' }],
    budget,
    logged: { from: from.toISOString(), to: new Date().toISOString(), demandScale: 30 },
  });

  let artifacts: FsArtifactStore;
  async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `budget-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createBudgetActivities({ pool: db.pool, store: artifacts }) });
    return worker.runUntil(() => fn(taskQueue));
  }

  it('reads demand, quality and cost from the log, solves the LP within the budget and stores shares and shadow prices', async () => {
    // Demand per month: 9,000 code and 18,000 chat requests. All-large costs 270, all-small 27.
    const result = await withWorker((taskQueue) => env.client.workflow.execute(budgetAllocation, { taskQueue, workflowId: `budget/${randomUUID()}`, args: [input(120)] }));
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(result.problem.segments).toEqual([{ name: 'acme/code', demand: 9000 }, { name: 'acme/chat', demand: 18000 }]);
    expect(result.problem.quality[0][0]).toBeCloseTo(mean(logged.large.code), 10);
    expect(result.problem.quality[1][1]).toBeCloseTo(mean(logged.small.chat), 10);
    result.problem.costPerRequest.flat().forEach((c, i) => expect(c).toBeCloseTo([0.01, 0.001][i % 2], 12));
    expect(result.sources.demand).toMatch(/^decision log \[.*\) × 30$/);

    const { allocation, problem } = result;
    // Independent checks: every segment fully served, the budget respected, the objective recomputed from the shares.
    let cost = 0, quality = 0;
    for (const [s, seg] of problem.segments.entries()) {
      const shares = allocation.shares[seg.name];
      expect(Object.values(shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      for (const [m, model] of problem.models.entries()) {
        const x = shares[model.name] ?? 0;
        expect(x).toBeGreaterThanOrEqual(-1e-9);
        cost += seg.demand * problem.costPerRequest[s][m] * x;
        quality += seg.demand * problem.quality[s][m] * x;
      }
    }
    expect(cost).toBeLessThanOrEqual(120 + 1e-6);
    expect(allocation.cost).toBeCloseTo(cost, 6);
    expect(allocation.expectedQuality).toBeCloseTo(quality, 6);
    // The budget binds (all-large would cost 270), so one more unit of budget buys quality; code gains more per dollar from "large".
    expect(allocation.shadowPrices.budget).toBeGreaterThan(0);
    expect(allocation.shares['acme/code'].large).toBeGreaterThan(allocation.shares['acme/chat'].large ?? 0);

    const stored = await latestBudgetSolution(Db.fromPool(db.pool), 'monthly');
    expect(stored).toMatchObject({ id: result.solutionId, status: 'optimal', workflowId: result.workflowId });
    expect((stored.solution as any).shadowPrices.budget).toBeCloseTo(allocation.shadowPrices.budget, 12);
    expect(stored.plotUri).toBe(result.plotUri);
    const svg = (await artifacts.getBuffer(artifacts.keyFromUri(result.plotUri))).toString();
    for (const label of ['acme/code', 'acme/chat', 'large', 'small']) expect(svg).toContain(`>${label}</text>`);
  }, 50_000);

  it('an infeasible plan is stored and fails the run with the binding floor named', async () => {
    const before = (await listBudgetSolutions(Db.fromPool(db.pool), { name: 'monthly' })).length;
    const run = withWorker((taskQueue) => env.client.workflow.execute(budgetAllocation, { taskQueue, workflowId: `budget/${randomUUID()}`, args: [input(40, { code: 0.85 })] }));
    await expect(run).rejects.toMatchObject({ cause: { cause: { message: expect.stringMatching(/budget 40 is below [\d.]+, the cheapest allocation that meets the quality floors; binding floors: "acme\/code" \(floor 0\.85/) } } });
    const rows = await listBudgetSolutions(Db.fromPool(db.pool), { name: 'monthly' });
    expect(rows.length).toBe(before + 1);
    expect(rows[0]).toMatchObject({ status: 'infeasible', solution: null, error: expect.stringContaining('"acme/code" (floor 0.85') });
  }, 30_000);
});
