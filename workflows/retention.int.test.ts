/**
 * retention on the real Temporal dev server with its real activities and PostgreSQL: a decision log with
 * day partitions from 40 days ago to today, rows in every one of them. A run with 30 days drops exactly the
 * partitions that ended 30 days ago or earlier (the partly expired one and every later one stay, with their
 * rows), creates the days ahead, moves rows waiting in the default partition into their day, and writes
 * one audit row per dropped partition naming its range and rows. The workers connect as autopilot_worker.
 */
import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { Pool } from 'pg';
import { createRetentionActivities } from '../activities/retention/activities';
import type { RetentionInput, RetentionResult } from '../contracts/retention';
import { DecisionStore, createDayPartition, listDayPartitions, partitionHealth, utcDay, type DecisionInput } from '../decision-log';
import { newDecisionId } from '../inference/decisions/id';
import { listAudit } from '../registry/audit';
import { Db } from '../registry/db';
import { migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';

const DAY = 86_400_000;

describe('retention on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let workerPool: Pool;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    const u = new URL(db.url);
    u.searchParams.set('options', '-c role=autopilot_worker');
    workerPool = new Pool({ connectionString: u.toString(), max: 4 });
  }, 120_000);
  afterAll(async () => {
    await workerPool?.end();
    await env?.teardown();
    await db?.drop();
  });

  async function run(input: RetentionInput): Promise<RetentionResult> {
    const taskQueue = `retention-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createRetentionActivities({ pool: workerPool }) });
    return worker.runUntil(() => env.client.workflow.execute('retention', { taskQueue, workflowId: `retention/${randomUUID()}`, args: [input] }));
  }

  const names = async (table: 'decisions' | 'rewards') => (await listDayPartitions(Db.fromPool(db.pool), table)).map((p) => p.name);
  const dayName = (table: string, t: number) => `${table}_p${utcDay(new Date(t)).replace(/-/g, '')}`;

  it('drops exactly the day partitions that ended before now − retentionDays, keeps the rest with their rows, creates the days ahead, audits each drop', async () => {
    const now = Date.now();
    const today = Math.floor(now / DAY) * DAY;
    const d = Db.fromPool(db.pool);
    for (let k = 40; k >= 1; k--) for (const t of ['decisions', 'rewards'] as const) await createDayPartition(d, t, utcDay(new Date(today - k * DAY)));
    // Two decisions and their rewards per day, from 40 days ago to today.
    const rows: DecisionInput[] = [];
    for (let k = 40; k >= 0; k--) {
      for (const ms of [today - k * DAY + 1000, today - k * DAY + DAY / 2]) {
        if (ms > now) continue;
        rows.push({ decisionId: newDecisionId(ms), time: new Date(ms), deployment: 'router', model: 'router', version: 1, arm: 'a', features: { k }, action: { arm: 'a' }, propensity: 1 });
      }
    }
    const store = new DecisionStore({ pool: db.pool });
    await store.copyDecisions(rows);
    await store.insertRewards(rows.map((r) => ({ decisionId: r.decisionId, reward: 1 })));
    // A decision of a day with no partition yet (3 days ago is partitioned; 45 days ago is not and is expired).
    const expiredWaiting = newDecisionId(today - 45 * DAY);
    await store.insertDecisions([{ ...rows[0], decisionId: expiredWaiting, time: new Date(today - 45 * DAY) }]);
    const decisionsBefore = await names('decisions');
    expect(decisionsBefore).toEqual(Array.from({ length: 48 }, (_, i) => dayName('decisions', today + (i - 40) * DAY))); // migration made today … +7

    const result = await run({ retentionDays: 30, aheadDays: 9 });

    // Expired: every day partition with to ≤ now − 30 d, i.e. the days 40 … 31 days ago. The day 30 days ago
    // holds the cutoff (partly expired) and stays.
    const cutoff = Date.parse(result.cutoff);
    expect(cutoff).toBeGreaterThanOrEqual(now - 30 * DAY);
    const expired = Array.from({ length: 10 }, (_, i) => today - (40 - i) * DAY);
    expect(result.dropped.map((p) => p.name)).toEqual([...expired.map((t) => dayName('decisions', t)), ...expired.map((t) => dayName('rewards', t))]);
    expect(result.dropped.every((p) => p.rows === 2)).toBe(true);
    const kept = Array.from({ length: 31 + 9 }, (_, i) => today + (i - 30) * DAY);
    expect(await names('decisions')).toEqual(kept.map((t) => dayName('decisions', t)));
    expect(await names('rewards')).toEqual(kept.map((t) => dayName('rewards', t)));
    expect(result.created.map((p) => p.name)).toEqual([dayName('decisions', today + 8 * DAY), dayName('decisions', today + 9 * DAY), dayName('rewards', today + 8 * DAY), dayName('rewards', today + 9 * DAY)]);
    // The rows of kept partitions remain (those of the last 31 days), and only those.
    const left = await db.pool.query<{ n: number; r: number; oldest: Date }>('SELECT count(*)::int AS n, (SELECT count(*)::int FROM rewards) AS r, min(time) AS oldest FROM decisions');
    const keptRows = rows.filter((r) => r.time.getTime() >= today - 30 * DAY).length;
    expect(left.rows[0]).toEqual({ n: keptRows, r: keptRows, oldest: new Date(today - 30 * DAY + 1000) });
    // The expired decision waiting in the default partition was deleted, and said so.
    expect(result.deleted).toEqual([{ table: 'decisions', partition: 'decisions_default', rows: 1 }]);
    // One audit row per dropped partition (and the deletion), committed with the drop.
    const audit = await listAudit(d, { entity: 'partition', limit: 100 });
    expect(audit.map((a) => a.entityKey).sort()).toEqual([...result.dropped.map((p) => p.name), 'decisions_default'].sort());
    const first = audit.find((a) => a.entityKey === dayName('decisions', expired[0]))!;
    expect(first).toMatchObject({ action: 'retention.partition_dropped', actor: 'workflow:retention', dbRole: 'autopilot_worker' });
    expect(first.before).toEqual({ table: 'decisions', name: dayName('decisions', expired[0]), from: new Date(expired[0]).toISOString(), to: new Date(expired[0] + DAY).toISOString(), rows: 2 });
    expect(result.auditIds).toHaveLength(21);
    // What the rollout worker's /metrics exports for the retention alerts (read as autopilot_worker).
    const t = new Date();
    expect(await partitionHealth(Db.fromPool(workerPool), t)).toEqual(['decisions', 'rewards'].map((table) => ({ table, aheadSeconds: (today + 10 * DAY - t.getTime()) / 1000, defaultRows: 0 })));

    // Again: nothing left to drop or create.
    const again = await run({ retentionDays: 30, aheadDays: 9 });
    expect({ dropped: again.dropped, created: again.created, deleted: again.deleted }).toEqual({ dropped: [], created: [], deleted: [] });
  }, 120_000);

  it('gives a non-expired day waiting in the default partition its partition and moves its rows into it', async () => {
    const t = Date.now() + 20 * DAY; // beyond the days created ahead
    const id = newDecisionId(t);
    const store = new DecisionStore({ pool: db.pool });
    await store.insertDecisions([{ decisionId: id, time: new Date(t), deployment: 'router', model: 'router', version: 1, arm: 'a', features: {}, action: { arm: 'a' }, propensity: 1 }]);
    await store.insertReward({ decisionId: id, reward: 0.5 });
    const result = await run({});
    expect(result.retentionDays).toBe(30);
    expect(result.created).toEqual(expect.arrayContaining([{ table: 'decisions', name: dayName('decisions', t), moved: 1 }, { table: 'rewards', name: dayName('rewards', t), moved: 1 }]));
    const { rows } = await db.pool.query('SELECT d.tableoid::regclass::text AS d, r.tableoid::regclass::text AS r FROM decisions d JOIN rewards r USING (decision_id) WHERE decision_id = $1', [id]);
    expect(rows).toEqual([{ d: dayName('decisions', t), r: dayName('rewards', t) }]);
  }, 120_000);

  it('refuses a retention that would drop the partition holding now, naming the field', async () => {
    const err = await run({ retentionDays: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(String((err as WorkflowFailedError).cause?.message)).toMatch(/retentionDays 0: expected an integer from 1 to 3650/);
  }, 60_000);
});
