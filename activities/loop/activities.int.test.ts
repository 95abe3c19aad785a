/**
 * The loop's registry activities against PostgreSQL, connected as the workers' least-privilege role
 * (autopilot_worker, migration 011 + 017's grants): the window split, the cycle row (a retried write
 * changes nothing), a deployment that does not exist.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { DecisionStore } from '../../decision-log';
import { withDbRole } from '../../inference/server';
import { FsArtifactStore } from '../../registry/artifacts/fs';
import { Registry } from '../../registry';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import type { LoopCycleSummary } from '../../contracts/optimization-loop';
import { createLoopActivities } from './activities';

describe('loop activities as autopilot_worker', () => {
  let db: TestDatabase;
  let worker: Pool;
  const store = FsArtifactStore.fromUri('file:///tmp/ap-loop-activities-unused');

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    worker = new Pool({ connectionString: withDbRole(db.url, 'autopilot_worker'), max: 2 });
  });
  afterAll(async () => {
    await worker?.end();
    await db?.drop();
  });

  it('splits a window, records a cycle once and knows an undeployed deployment', async () => {
    const acts = createLoopActivities({ pool: worker, store });
    expect((await worker.query('SELECT current_user AS u')).rows).toEqual([{ u: 'autopilot_worker' }]);
    const registry = new Registry({ pool: db.pool, store });
    await registry.createModel({ name: 'm', actor: 'test' });
    const start = Date.parse('2026-01-01T00:00:00.000Z');
    const rows = Array.from({ length: 10 }, (_, i) => ({ decisionId: randomUUID(), time: new Date(start + i * 60_000), deployment: 'm', model: 'm', version: null, arm: 'champion', features: [i], action: { a: 'x' }, propensity: 0.5 }));
    const decisions = new DecisionStore({ pool: db.pool });
    await decisions.insertDecisions(rows);
    for (const r of rows.slice(0, 8)) await decisions.insertReward({ decisionId: r.decisionId, reward: 1 });
    const window = { from: new Date(start).toISOString(), to: new Date(start + 3_600_000).toISOString() };
    // 8 rewarded decisions at minutes 0..7: the latest quarter (2) are held out from minute 6 on
    expect(await acts.loopSplitWindow({ deployment: 'm', ...window, holdout: 0.25 })).toEqual({ split: new Date(start + 6 * 60_000).toISOString() });
    expect(await acts.loopSplitWindow({ deployment: 'm', ...window, holdout: 0 })).toEqual({ split: window.to });
    expect(await acts.loopSplitWindow({ deployment: 'none', ...window, holdout: 0.5 })).toEqual({ split: window.to });
    expect(await acts.loopChampion({ deployment: 'never-deployed' })).toEqual({ championVersion: null });

    const cycle: LoopCycleSummary = {
      loopId: 'loop-1', workflowId: 'loop/m', deployment: 'm', cycle: 1, trigger: { kind: 'drift', by: 'driftMonitor:x', reason: 'drift: reward' },
      outcome: 'rejected', stage: 'ope', reasons: ['off-policy evaluation gate: too low'], window, holdoutFrom: window.to, championVersion: 1, candidateVersion: 2,
      dataset: null, ope: null, canary: null, stages: [{ stage: 'export', status: 'passed', startedAt: window.from, finishedAt: window.to, detail: '8 rewarded' }],
      startedAt: window.from, finishedAt: window.to,
    };
    await acts.loopRecordCycle(cycle);
    await acts.loopRecordCycle({ ...cycle, reasons: ['a retry'] });
    const { rows: stored } = await db.pool.query('SELECT cycle, trigger, trigger_by, outcome, stage, reasons, candidate_version, stages FROM loop_cycles');
    expect(stored).toEqual([{ cycle: 1, trigger: 'drift', trigger_by: 'driftMonitor:x', outcome: 'rejected', stage: 'ope', reasons: ['off-policy evaluation gate: too low'], candidate_version: 2, stages: cycle.stages }]);
  });
});
