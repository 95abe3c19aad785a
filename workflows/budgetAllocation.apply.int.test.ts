/**
 * budgetAllocation feeding a bandit deployment, on the real Temporal dev server, PostgreSQL, Redis and
 * the inference server fixture: the solution (HiGHS) is written into the deployment's config as
 * per-segment constraints and per-arm priors (a new, audited generation), the running server picks it
 * up, and the decisions it serves for two segments respect the constraints — the arm the plan forbids
 * in segment A is never chosen there, the costly arm is capped in A but still chosen in B — with the
 * logged propensity equal to the constrained distribution's probability of the chosen arm. Then the
 * rounds loop: continued as new after every round (by count, and by history length) it returns what
 * the run that never continues returns.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { createBudgetActivities } from '../activities/optimisers/budget';
import type { BudgetAllocationInput, BudgetAllocationResult } from '../contracts/budget-allocation';
import type { InferenceServer } from '../inference/server';
import { createServingFixture, postJson, waitFor, type ServingFixture } from '../inference/testing/fixture';
import type { JsonObject } from '../registry/types';
import { startDevServer } from '../test/support/temporal';
import { budgetAllocation } from './budgetAllocation';

const tag = randomBytes(4).toString('hex');
const DEPLOYMENT = 'router';

/** The bandit before any plan: greedy LinUCB (α = 0) on the intercept, ε-greedy 0.3 over three arms. */
const BASE_CONFIG: JsonObject = {
  learner: { kind: 'linucb', params: { alpha: 0 } },
  exploration: { kind: 'epsilon-greedy', epsilon: 0.3 },
  arms: [{ name: 'large', payload: { model: 'gpt-large' } }, 'small', 'tiny'],
  stateKey: `test-budget-router-${tag}`,
};

/**
 * Segment A ("acme/code") gains little from "large" and may not use "tiny"; B ("acme/chat") gains a lot.
 * Cheapest feasible: small in A, small in B (cost 4); the budget 14 buys "large" for all of B (8) and a
 * quarter of A (2): x_A = (0.25, 0.75, 0), x_B = (1, 0, 0).
 */
const plan = (extra: Partial<BudgetAllocationInput> = {}): BudgetAllocationInput => ({
  name: `plan-${tag}`,
  segments: [{ name: 'acme/code', demand: 1000 }, { name: 'acme/chat', demand: 1000 }],
  models: [{ name: 'large' }, { name: 'small' }, { name: 'tiny' }],
  quality: [[0.8, 0.75, 0.4], [0.95, 0.6, 0.5]],
  costPerRequest: [[0.01, 0.002, 0.001], [0.01, 0.002, 0.001]],
  available: [[true, true, false], [true, true, true]],
  budget: 14,
  applyTo: { deployment: DEPLOYMENT, segmentField: 'segment', headroom: 0.05, priorStrength: 10 },
  ...extra,
});

describe('budgetAllocation applied to a bandit deployment', () => {
  let env: TestWorkflowEnvironment;
  let fx: ServingFixture;
  let bundle: WorkflowBundleWithSourceMap;
  let server: InferenceServer;

  beforeAll(async () => {
    [env, fx, bundle] = await Promise.all([startDevServer(), createServingFixture(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await fx.registry.createModel({ name: DEPLOYMENT, actor: 'test' });
    await fx.registry.setDeployment({ model: DEPLOYMENT, kind: 'bandit', championVersion: null, config: BASE_CONFIG, actor: 'test' });
    server = await fx.start({ reconcileIntervalMs: 1000 });
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await fx?.close();
  });

  async function run(input: BudgetAllocationInput): Promise<{ result: BudgetAllocationResult; workflowId: string }> {
    const taskQueue = `budget-apply-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createBudgetActivities({ pool: fx.db.pool, store: fx.store }) });
    const workflowId = `budget/${randomUUID()}`;
    const result = await worker.runUntil(() => env.client.workflow.execute(budgetAllocation, { taskQueue, workflowId, args: [input] }));
    return { result, workflowId };
  }

  const decide = (features: Record<string, unknown>) => postJson(`${server.url}/v1/decide`, { deployment: DEPLOYMENT, features });

  it('writes the solution as per-segment constraints and priors; served decisions respect them with exact propensities', async () => {
    // Before the plan: no segments, the request's features are refused if they name one.
    expect((await decide({})).status).toBe(200);

    const { result, workflowId } = await run(plan());
    const shares = result.allocation.shares;
    expect(shares['acme/code'].large).toBeCloseTo(0.25, 9);
    expect(shares['acme/code'].small).toBeCloseTo(0.75, 9);
    expect(shares['acme/chat'].large).toBeCloseTo(1, 9);
    expect(result.applied).toMatchObject({ deployment: DEPLOYMENT, changed: true });
    expect(result.rounds).toHaveLength(1);

    // A new, audited generation with the constraints and the priors.
    const d = await fx.registry.getDeployment(DEPLOYMENT);
    expect(d.generation).toBe(result.applied!.generation);
    const segments = d.config.segments as any;
    expect(segments.field).toBe('segment');
    expect(segments.rules['acme/code'].arms).toEqual(['large', 'small']);
    expect(segments.rules['acme/code'].maxShare.large).toBeCloseTo(0.3, 9);
    expect(segments.rules['acme/code'].maxShare.small).toBeCloseTo(0.8, 9);
    expect(segments.rules['acme/chat'].arms).toEqual(['large', 'small', 'tiny']);
    expect(segments.rules['acme/chat'].maxShare).toEqual({ small: 0.05, tiny: 0.05 });
    expect(segments.default).toBeUndefined();
    const priors = d.config.priors as any;
    expect(priors.large.mean).toBeCloseTo((0.8 + 0.95) / 2, 12);
    expect(priors.small.mean).toBeCloseTo((0.75 + 0.6) / 2, 12);
    expect(priors.tiny).toEqual({ mean: 0.5, strength: 10 });
    expect(d.config.learner).toEqual(BASE_CONFIG.learner);
    const audit = await fx.db.pool.query(`SELECT actor, after FROM audit_log WHERE model = $1 AND action = 'deployment.set' ORDER BY id DESC LIMIT 1`, [DEPLOYMENT]);
    expect(audit.rows[0].actor).toBe('workflow:budgetAllocation');
    expect(JSON.stringify(audit.rows[0])).toContain(`budgetAllocation ${workflowId}: solution ${result.solutionId}`);
    expect(audit.rows[0].after.config.segments.rules['acme/code'].arms).toEqual(['large', 'small']);

    // The running server reloads the deployment; until then decide takes no segment.
    await waitFor(async () => (await decide({ segment: 'acme/code' })).body.segment === 'acme/code', 15_000, 'the server to serve the new generation');

    // The learner has no rewards: its scores are the priors (large 0.875 > small 0.675 > tiny 0.5), so ε-greedy serves
    // (0.8, 0.1, 0.1). Projected: in A tiny is not allowed and large is capped at 0.3 → (0.3, 0.7, 0);
    // in B small and tiny are capped at 0.05 → (0.9, 0.05, 0.05).
    const expected: Record<string, Record<string, number>> = { 'acme/code': { large: 0.3, small: 0.7, tiny: 0 }, 'acme/chat': { large: 0.9, small: 0.05, tiny: 0.05 } };
    // n = 1000 per segment: the bounds below at ±6 sd fail a correct server about once in 10^7.6 runs
    // (exact binomial tails: A outside [213, 387] 3.1e-9, B large < 843 1.3e-8, B tiny = 0 0.95^1000 = 5e-23;
    // at n = 300 and 5 sd they summed to 4.9e-6), while large at 0.8 in B still falls below 843 with p = 0.9998.
    const n = 1000;
    const counts: Record<string, Record<string, number>> = { 'acme/code': { large: 0, small: 0, tiny: 0 }, 'acme/chat': { large: 0, small: 0, tiny: 0 } };
    const ids: string[] = [];
    // 20 at a time: with no rewards the learner's distribution does not move, so the order does not matter.
    for (const segment of Object.keys(expected)) {
      for (let i = 0; i < n; i += 20) {
        for (const r of await Promise.all(Array.from({ length: Math.min(20, n - i) }, () => decide({ segment })))) {
          expect(r.status).toBe(200);
          expect(r.body.segment).toBe(segment);
          expect(r.body.propensity).toBeCloseTo(expected[segment][r.body.arm], 12);
          counts[segment][r.body.arm]++;
          ids.push(r.body.decisionId);
        }
      }
    }
    expect(counts['acme/code'].tiny).toBe(0);
    // Binomial bounds, 6 sd wide: large's share of A stays at its cap, B still mostly gets large.
    const sd = (p: number) => 6 * Math.sqrt((p * (1 - p)) / n);
    expect(counts['acme/code'].large / n).toBeLessThanOrEqual(0.3 + sd(0.3));
    expect(counts['acme/code'].large / n).toBeGreaterThanOrEqual(0.3 - sd(0.3));
    expect(counts['acme/chat'].large / n).toBeGreaterThanOrEqual(0.9 - sd(0.9));
    expect(counts['acme/chat'].tiny).toBeGreaterThan(0);

    // The decision log holds the segment, the constrained distribution and the propensity taken from it.
    await waitFor(async () => Number((await fx.db.pool.query('SELECT count(*) FROM decisions WHERE decision_id = ANY($1)', [ids])).rows[0].count) === ids.length, 15_000, 'the decision rows');
    const { rows } = await fx.db.pool.query('SELECT arm, propensity, features, metadata FROM decisions WHERE decision_id = ANY($1)', [ids]);
    const armIndex: Record<string, number> = { large: 0, small: 1, tiny: 2 };
    for (const row of rows) {
      const segment = row.features.segment as string;
      expect(row.metadata.segment).toBe(segment);
      const dist = row.metadata.actionDist as number[];
      Object.entries(armIndex).forEach(([arm, i]) => expect(dist[i]).toBeCloseTo(expected[segment][arm], 12));
      expect(dist.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(Number(row.propensity)).toBe(dist[armIndex[row.arm]]);
      expect(Number(row.propensity)).toBeGreaterThan(0);
    }

    // Segments the plan does not list, or none, are refused (applyTo.unlisted defaults to "refuse"), naming the field.
    const other = await decide({ segment: 'globex/code' });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ field: 'features.segment', expected: expect.stringContaining('"acme/code"') });
    expect((await decide({})).status).toBe(400);
  }, 240_000);

  it('a plan whose model is not an arm of the deployment fails naming it, and changes nothing', async () => {
    const before = (await fx.registry.getDeployment(DEPLOYMENT)).generation;
    const input = plan({ models: [{ name: 'large' }, { name: 'small' }, { name: 'haiku' }] });
    const taskQueue = `budget-apply-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createBudgetActivities({ pool: fx.db.pool, store: fx.store }) });
    await expect(worker.runUntil(() => env.client.workflow.execute(budgetAllocation, { taskQueue, workflowId: `budget/${randomUUID()}`, args: [input] }))).rejects.toMatchObject({
      cause: { cause: { message: expect.stringMatching(/the plan's models "haiku" are not arms of "router" \(its arms: large, small, tiny\)/) } },
    });
    expect((await fx.registry.getDeployment(DEPLOYMENT)).generation).toBe(before);
  }, 60_000);

  it('continued as new after every round (by count or by history length), it returns what the uncontinued run returns', async () => {
    /** The result without what differs between any two runs (ids of stored rows, plot keys, generations). */
    const comparable = (r: BudgetAllocationResult) => ({
      ...r,
      workflowId: null,
      solutionId: null,
      plotUri: null,
      continued: null,
      applied: r.applied ? { deployment: r.applied.deployment, changed: r.applied.changed } : null,
      rounds: r.rounds!.map((x) => ({ ...x, solutionId: null, applied: x.applied ? { deployment: x.applied.deployment, changed: x.applied.changed } : null })),
    });
    const runs: { result: BudgetAllocationResult; workflowId: string }[] = [];
    for (const extra of [{}, { continueAsNewEvery: 1 }, { maxHistoryEvents: 1 }] as Partial<BudgetAllocationInput>[]) {
      // Each run starts from the plan-less config, so each writes the first round and finds the later ones already there.
      await fx.registry.setDeployment({ model: DEPLOYMENT, config: BASE_CONFIG, actor: 'test' });
      runs.push(await run(plan({ rounds: 3, intervalSeconds: 1, ...extra })));
    }
    const [plain, byCount, byHistory] = runs;
    expect(plain.result.continued).toBe(0);
    expect(byCount.result.continued).toBe(2);
    expect(byHistory.result.continued).toBe(2);
    expect(plain.result.rounds!.map((r) => [r.round, r.applied?.changed])).toEqual([[1, true], [2, false], [3, false]]);
    expect(comparable(byCount.result)).toEqual(comparable(plain.result));
    expect(comparable(byHistory.result)).toEqual(comparable(plain.result));
    // Every round's solution was stored, in its own row.
    expect(new Set(byCount.result.rounds!.map((r) => r.solutionId)).size).toBe(3);

    // The continued workflow really is three runs: the first two end in ContinuedAsNew.
    const list = async () => (await env.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: `WorkflowId = '${byCount.workflowId}'` })).executions;
    await waitFor(async () => (await list()).length === 3, 15_000, 'the three runs in visibility');
    const executions = await list();
    const statuses = executions.map((e) => e.status).sort();
    const CONTINUED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW;
    const COMPLETED = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED;
    expect(statuses).toEqual([COMPLETED, CONTINUED, CONTINUED].sort());
  }, 120_000);
});
