/**
 * Migration 016 converts a decision log WITH ROWS in it: a database migrated to 015, filled with decisions
 * and rewards over several days (UUIDv7 ids as the server makes them, v4 ids as API writers may, a reward
 * whose decision was never logged), then migrated to 016. Every row survives byte for byte, the tables are
 * partitioned by day, the grants hold, the write paths keep their idempotence and conflict rules, and the
 * readers (and off-policy estimates computed from them) give the same answers as before the conversion.
 */
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newDecisionId } from '../inference/decisions/id';
import { InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting, actionArray } from '../ml/ope';
import { Db } from '../registry/db';
import { ConflictError } from '../registry/errors';
import { defaultMigrationsDir, migrate } from '../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { DecisionStore, createDayPartition, defaultPartitionDays, dropDayPartition, expiredPartitions, listDayPartitions, type DecisionInput, type DecisionWithReward } from './index';

const DAY = 86_400_000;
const ARMS = ['large', 'small'];

/** IPW and SNIPW of "always large" from the rows a reader returns (rewarded rows only). */
function ope(rows: DecisionWithReward[]): { ipw: number; snipw: number; n: number } {
  const r = rows.filter((d) => d.reward !== null);
  const inputs = {
    reward: Float64Array.from(r.map((d) => d.reward!)),
    action: Int32Array.from(r.map((d) => ARMS.indexOf(d.arm))),
    pscore: Float64Array.from(r.map((d) => d.propensity!)),
    actionDist: actionArray(r.map(() => [1, 0])),
  };
  return { ipw: new InverseProbabilityWeighting().estimatePolicyValue(inputs), snipw: new SelfNormalizedInverseProbabilityWeighting().estimatePolicyValue(inputs), n: r.length };
}

async function readAll(store: DecisionStore, from: Date, to: Date): Promise<DecisionWithReward[]> {
  const out: DecisionWithReward[] = [];
  for await (const page of store.iterateDecisionsWithRewards({ deployment: 'router', from, to, limit: 37 })) out.push(...page);
  return out;
}

async function snapshot(db: TestDatabase): Promise<{ decisions: string[]; rewards: string[] }> {
  const d = await db.pool.query<{ j: string }>('SELECT row_to_json(d)::text AS j FROM decisions d ORDER BY decision_id');
  const r = await db.pool.query<{ j: string }>('SELECT json_build_object(\'decision_id\', decision_id, \'reward\', reward, \'components\', components, \'time\', time)::text AS j FROM rewards ORDER BY decision_id');
  return { decisions: d.rows.map((x) => x.j), rewards: r.rows.map((x) => x.j) };
}

describe('migration 016 on a decision log with rows', () => {
  let db: TestDatabase;
  let store: DecisionStore;
  const now = Date.now();
  const dayStart = Math.floor(now / DAY) * DAY;
  const from = new Date(dayStart - 4 * DAY);
  const to = new Date(now + 1);
  const v7: { id: string; time: Date }[] = [];
  const v4: { id: string; time: Date }[] = [];
  let before: { decisions: string[]; rewards: string[] };
  let readBefore: DecisionWithReward[];
  const orphanV7 = newDecisionId(now - 2 * DAY);
  const orphanV4 = randomUUID();
  const old: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    store = new DecisionStore({ pool: db.pool });
    const dir = mkdtempSync(join(tmpdir(), 'ap-migrations-015-'));
    try {
      for (const f of readdirSync(defaultMigrationsDir())) if (Number(f.slice(0, 3)) <= 15) copyFileSync(join(defaultMigrationsDir(), f), join(dir, f));
      expect((await migrate(db.pool, { dir })).current).toBe(15);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // 5 days × 40 decisions, both id kinds, 3 of 4 rewarded; one day-boundary row; times to the millisecond.
    const rows: DecisionInput[] = [];
    const rewards: { decisionId: string; reward: number; components?: Record<string, number> }[] = [];
    for (let day = 0; day < 5; day++) {
      for (let i = 0; i < 40; i++) {
        const ms = i === 0 ? dayStart - (4 - day) * DAY : dayStart - (4 - day) * DAY + 1 + i * 1_234_567 + day;
        if (ms > now) continue;
        const time = new Date(ms);
        const id = i % 2 === 0 ? newDecisionId(ms) : randomUUID();
        (i % 2 === 0 ? v7 : v4).push({ id, time });
        const arm = ARMS[(i + day) % 2];
        rows.push({ decisionId: id, time, deployment: 'router', model: 'router', version: 1, arm, features: { x: i, day }, action: { arm }, propensity: arm === 'large' ? 0.7 : 0.3, unit: `u${i}`, latencyMs: i / 10 });
        if (i % 4 !== 3) rewards.push({ decisionId: id, reward: ((i * 7 + day) % 10) / 10, ...(i % 3 === 0 ? { components: { quality: i / 40 } } : {}) });
      }
    }
    // Two old decisions (100 and 70 days ago): the conversion keeps what is older than 60 days in one partition.
    for (const daysAgo of [100, 70]) {
      const ms = dayStart - daysAgo * DAY + 5000;
      const id = newDecisionId(ms);
      old.push(id);
      rows.push({ decisionId: id, time: new Date(ms), deployment: 'archive', model: 'archive', version: 1, arm: 'large', features: {}, action: { arm: 'large' }, propensity: 1 });
      rewards.push({ decisionId: id, reward: 1 });
    }
    // Written as the 015 schema takes them: COPY (the server's path) and the rewards' old statement.
    await store.copyDecisions(rows);
    // Rewards whose decisions were never logged (a reward may come first): kept as they are.
    rewards.push({ decisionId: orphanV7, reward: 0.25 }, { decisionId: orphanV4, reward: 0.5 });
    await db.pool.query(
      `INSERT INTO rewards (decision_id, reward, components, time) SELECT id, r, c, now() - random() * interval '1 hour'
         FROM unnest($1::uuid[], $2::float8[], $3::jsonb[]) AS x(id, r, c)`,
      [rewards.map((r) => r.decisionId), rewards.map((r) => r.reward), rewards.map((r) => (r.components ? JSON.stringify(r.components) : null))],
    );
    before = await snapshot(db);
    readBefore = await readAll(store, from, to);
    expect(before.decisions.length).toBeGreaterThan(150);
    expect(readBefore.length).toBe(before.decisions.length - 2); // all but the two 'archive' decisions

    // 016 and whatever came after it.
    expect((await migrate(db.pool)).applied[0]).toBe('016_partitioned_decision_log.sql');
  }, 120_000);
  afterAll(async () => {
    await db?.drop();
  });

  it('keeps every row as it was, in tables partitioned by UTC day', async () => {
    expect(await snapshot(db)).toEqual(before);
    const kinds = await db.pool.query("SELECT relname, relkind FROM pg_class WHERE relname IN ('decisions', 'rewards') ORDER BY 1");
    expect(kinds.rows).toEqual([{ relname: 'decisions', relkind: 'p' }, { relname: 'rewards', relkind: 'p' }]);
    const d = Db.fromPool(db.pool);
    const decisionDays = await listDayPartitions(d, 'decisions');
    // One partition from the oldest day to 60 days ago, then every day that holds rows, today and the next 7 days.
    const name = (t: number) => `decisions_p${new Date(t).toISOString().slice(0, 10).replace(/-/g, '')}`;
    const expected = [name(dayStart - 100 * DAY), ...Array.from({ length: 12 }, (_, i) => name(dayStart + (i - 4) * DAY))];
    expect(decisionDays.map((p) => p.name)).toEqual(expected);
    expect(decisionDays[0]).toMatchObject({ from: new Date(dayStart - 100 * DAY), to: new Date(dayStart - 60 * DAY) });
    expect(decisionDays[1]).toMatchObject({ from: new Date(dayStart - 4 * DAY), to: new Date(dayStart - 3 * DAY) });
    expect((await listDayPartitions(d, 'rewards')).map((p) => p.name)).toEqual(decisionDays.map((p) => p.name.replace('decisions', 'rewards')));
    // Each recent decision sits in its day's partition, the old ones in the old rows' partition; nothing waits in the default partitions.
    const misplaced = await db.pool.query(
      "SELECT count(*)::int AS n FROM decisions WHERE deployment <> 'archive' AND tableoid::regclass::text <> 'decisions_p' || to_char(time AT TIME ZONE 'UTC', 'YYYYMMDD')",
    );
    expect(misplaced.rows[0].n).toBe(0);
    const archived = await db.pool.query("SELECT d.tableoid::regclass::text AS d, r.tableoid::regclass::text AS r FROM decisions d JOIN rewards r USING (decision_id) WHERE deployment = 'archive'");
    expect(archived.rows).toEqual([{ d: decisionDays[0].name, r: decisionDays[0].name.replace('decisions', 'rewards') }, { d: decisionDays[0].name, r: decisionDays[0].name.replace('decisions', 'rewards') }]);
    expect(await defaultPartitionDays(d, 'decisions')).toEqual([]);
    expect(await defaultPartitionDays(d, 'rewards')).toEqual([]);
    // A reward sits in its decision's day (v7) or in rewards_undated (ids that carry no time).
    const where = await db.pool.query<{ part: string; n: number }>('SELECT tableoid::regclass::text AS part, count(*)::int AS n FROM rewards GROUP BY 1');
    const undated = where.rows.find((r) => r.part === 'rewards_undated')?.n;
    const v4Rewarded = (await db.pool.query('SELECT count(*)::int AS n FROM rewards WHERE substr(decision_id::text, 15, 1) <> \'7\'')).rows[0].n;
    expect(undated).toBe(v4Rewarded);
    const orphan = await db.pool.query('SELECT tableoid::regclass::text AS part FROM rewards WHERE decision_id = $1', [orphanV7]);
    expect(orphan.rows[0].part).toBe(`rewards_p${new Date(now - 2 * DAY).toISOString().slice(0, 10).replace(/-/g, '')}`);
  });

  it('keeps the primary keys, indexes and grants the code relies on', async () => {
    const idx = await db.pool.query("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename IN ('decisions', 'rewards') ORDER BY 1, 2");
    expect(idx.rows.map((r) => [r.tablename, r.indexname])).toEqual([
      ['decisions', 'decisions_deployment_time_idx'], ['decisions', 'decisions_pkey'], ['rewards', 'rewards_pkey'], ['rewards', 'rewards_time_idx'],
    ]);
    expect(idx.rows.find((r) => r.indexname === 'decisions_pkey').indexdef).toMatch(/\(decision_id, "time"\)/);
    expect(idx.rows.find((r) => r.indexname === 'rewards_pkey').indexdef).toMatch(/\(decision_id, decision_time\)/);
    const priv = async (role: string, table: string, p: string) => (await db.pool.query('SELECT has_table_privilege($1, $2, $3) AS ok', [role, table, p])).rows[0].ok;
    for (const t of ['decisions', 'rewards']) {
      expect(await priv('autopilot_inference', t, 'INSERT')).toBe(true);
      expect(await priv('autopilot_inference', t, 'SELECT')).toBe(true);
      expect(await priv('autopilot_inference', t, 'DELETE')).toBe(false);
      expect(await priv('autopilot_worker', t, 'SELECT')).toBe(true);
      expect(await priv('autopilot_worker', t, 'INSERT')).toBe(false);
      expect(await priv('autopilot_admin', t, 'DELETE')).toBe(true);
    }
    const fn = async (role: string) => (await db.pool.query("SELECT has_function_privilege($1, 'decision_log_drop_partition(text, text, timestamptz)', 'EXECUTE') AS ok", [role])).rows[0].ok;
    expect(await fn('autopilot_worker')).toBe(true);
    expect(await fn('autopilot_inference')).toBe(false);
  });

  it('reads the same rows, in the same order, and off-policy estimates are equal over a window spanning five partitions', async () => {
    const after = await readAll(store, from, to);
    expect(after).toEqual(readBefore);
    const days = new Set(after.map((r) => r.time.toISOString().slice(0, 10)));
    expect(days.size).toBe(5);
    const e = ope(after);
    expect(e.n).toBeGreaterThan(100);
    expect(e).toEqual(ope(readBefore));
    // A window inside one day reads the same rows as the full read restricted to it.
    const one = await readAll(store, new Date(dayStart - 2 * DAY), new Date(dayStart - DAY));
    expect(one).toEqual(readBefore.filter((r) => r.time.getTime() >= dayStart - 2 * DAY && r.time.getTime() < dayStart - DAY));
  });

  it('keeps the write paths idempotent per decision: a batch again is skipped, a reward again is the same, a different one conflicts', async () => {
    const again: DecisionInput[] = [...v7.slice(0, 5), ...v4.slice(0, 5)].map(({ id, time }) => ({ decisionId: id, time, deployment: 'router', model: 'router', version: 1, arm: 'large', features: {}, action: { arm: 'large' }, propensity: 0.7 }));
    expect(await store.copyDecisions(again)).toEqual({ inserted: 0 }); // COPY meets the stored keys, falls back to INSERT … ON CONFLICT
    expect(await store.insertDecisions(again)).toEqual({ inserted: 0 });
    const fresh = newDecisionId(now);
    expect(await store.copyDecisions([{ ...again[0], decisionId: fresh, time: new Date(now) }])).toEqual({ inserted: 1 });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM decisions')).rows[0].n).toBe(before.decisions.length + 1);

    // Rewards stored before the conversion, sent again later: the same value is accepted once, a different one conflicts.
    const storedReward = async (id: string) => (await db.pool.query('SELECT reward FROM rewards WHERE decision_id = $1', [id])).rows[0].reward as number;
    for (const id of [v7[1].id, v4[0].id, orphanV7, orphanV4]) {
      const r = await storedReward(id);
      expect(await store.insertReward({ decisionId: id, reward: r })).toEqual({ inserted: false });
      await expect(store.insertReward({ decisionId: id, reward: r + 1 })).rejects.toBeInstanceOf(ConflictError);
    }
    const outcomes = await store.insertRewards([{ decisionId: v7[2].id, reward: await storedReward(v7[2].id) }, { decisionId: v4[2].id, reward: 9 }, { decisionId: fresh, reward: 1 }, { decisionId: fresh, reward: 1 }]);
    expect(outcomes[0]).toEqual({ inserted: false });
    expect((outcomes[1] as { error: unknown }).error).toBeInstanceOf(ConflictError);
    expect(outcomes.slice(2)).toEqual([{ inserted: true }, { inserted: false }]);
    const dup = await db.pool.query('SELECT decision_id, count(*)::int AS n FROM rewards GROUP BY 1 HAVING count(*) > 1');
    expect(dup.rows).toEqual([]);
    // The partition key must be the id's time: a writer that sets another is refused.
    await expect(db.pool.query('INSERT INTO rewards (decision_id, reward, decision_time) VALUES ($1, 1, now())', [newDecisionId(now - 1000)])).rejects.toThrow(/rewards_decision_time_check/);
  });

  it('keeps a row of a day with no partition in the default partition, and moves it into the day when its partition is created', async () => {
    const far = Date.parse('2031-03-04T05:06:07.089Z');
    const id = newDecisionId(far);
    await store.insertDecisions([{ decisionId: id, time: new Date(far), deployment: 'router', model: 'router', version: 1, arm: 'large', features: {}, action: { arm: 'large' }, propensity: 1 }]);
    await store.insertReward({ decisionId: id, reward: 0.5 });
    const d = Db.fromPool(db.pool);
    expect(await defaultPartitionDays(d, 'decisions')).toEqual([{ day: '2031-03-04', rows: 1 }]);
    expect(await defaultPartitionDays(d, 'rewards')).toEqual([{ day: '2031-03-04', rows: 1 }]);
    expect(await createDayPartition(d, 'decisions', '2031-03-04')).toEqual({ name: 'decisions_p20310304', created: true, moved: 1 });
    expect(await createDayPartition(d, 'rewards', '2031-03-04')).toEqual({ name: 'rewards_p20310304', created: true, moved: 1 });
    expect(await createDayPartition(d, 'rewards', '2031-03-04')).toEqual({ name: 'rewards_p20310304', created: false, moved: 0 });
    const part = await db.pool.query('SELECT d.tableoid::regclass::text AS d, r.tableoid::regclass::text AS r, r.reward FROM decisions d JOIN rewards r USING (decision_id) WHERE decision_id = $1', [id]);
    expect(part.rows).toEqual([{ d: 'decisions_p20310304', r: 'rewards_p20310304', reward: 0.5 }]);
    expect(await defaultPartitionDays(d, 'decisions')).toEqual([]);
    // The moved rows keep their indexes: the reward is found by its key again.
    expect(await store.insertReward({ decisionId: id, reward: 0.5 })).toEqual({ inserted: false });
  });

  it('drops the old rows\' partition whole once all of it is expired, with its rewards', async () => {
    const d = Db.fromPool(db.pool);
    const cutoff = new Date(Date.now() - 30 * DAY);
    for (const table of ['decisions', 'rewards'] as const) {
      const expired = expiredPartitions(await listDayPartitions(d, table), cutoff);
      expect(expired.map((p) => p.from)).toEqual([new Date(dayStart - 100 * DAY)]);
      expect(await dropDayPartition(d, table, expired[0].name, cutoff)).toEqual({ rows: 2 });
    }
    expect((await db.pool.query('SELECT count(*)::int AS n FROM decisions WHERE decision_id = ANY($1::uuid[])', [old])).rows[0].n).toBe(0);
    // A partition that still holds kept rows is refused by the database itself.
    const today = `decisions_p${new Date(dayStart).toISOString().slice(0, 10).replace(/-/g, '')}`;
    await expect(dropDayPartition(d, 'decisions', today, cutoff)).rejects.toThrow(/ends after the cutoff .*: it still holds kept rows/);
    await expect(dropDayPartition(d, 'decisions', 'decisions_default', cutoff)).rejects.toThrow(/is not a day partition of decisions/);
  });
});
