/**
 * The bandit reward log's durability (issue 19 item 4: "bandit rewards get the same treatment"),
 * against real PostgreSQL with a TCP proxy to take it away:
 * - journal durability: a reward is fsynced in the reward journal before `committed()` settles; an
 *   instance that dies with the database away leaves every such reward for the next one, which
 *   replays it into `rewards`;
 * - async durability: rewards the database cannot take are spilled to the journal (at risk only
 *   while in memory), and replayed when it is back; none lost.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { RewardLog, type RewardRow } from '../bandits/reward-log';
import { waitFor } from '../testing/fixture';
import { TcpProxy } from '../testing/tcp-proxy';
import { DecisionJournal } from './journal';
import { newDecisionId } from './id';

describe('reward log durability', () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let proxied: Pool;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    const u = new URL(db.url);
    proxy = new TcpProxy(u.hostname, Number(u.port || 5432));
    await proxy.start();
    u.port = String(proxy.port);
    proxied = new Pool({ connectionString: u.toString(), connectionTimeoutMillis: 500, max: 2 });
    proxied.on('error', () => undefined);
  });
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ap-reward-journal-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  afterAll(async () => {
    await proxied?.end().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
  });

  const rewards = (n: number): RewardRow[] => Array.from({ length: n }, (_, i) => ({ decisionId: newDecisionId(), reward: i / n, components: i % 2 ? { clicks: i } : null, time: new Date() }));

  async function stored(rows: RewardRow[]): Promise<Map<string, number>> {
    const { rows: got } = await db.pool.query<{ decision_id: string; reward: number }>('SELECT decision_id, reward FROM rewards WHERE decision_id = ANY($1::uuid[])', [rows.map((r) => r.decisionId)]);
    return new Map(got.map((r) => [r.decision_id, r.reward]));
  }

  it('journal durability: rewards committed by an instance that dies are replayed by the next', async () => {
    await proxy.cut();
    const journal = new DecisionJournal(dir, { writeAhead: true, kind: 'rewards' });
    await journal.open();
    const first = new RewardLog({ pool: proxied, journal, durability: 'journal', retryMs: 60_000 });
    const rows = rewards(120);
    for (const r of rows) first.enqueue(r);
    await first.committed();
    expect(first.atRisk).toBe(0);
    expect((await stored(rows)).size).toBe(0);
    // "kill -9": the first instance is never closed; its owner file names this PID (as a restarted container's would).
    await proxy.restore();
    const next = new DecisionJournal(dir, { writeAhead: true, kind: 'rewards' });
    await next.open();
    expect(next.pending).toBe(120);
    const second = new RewardLog({ pool: db.pool, journal: next, durability: 'journal' });
    await waitFor(async () => (await stored(rows)).size === 120, 10_000, 'the replay of the dead instance\'s rewards');
    const got = await stored(rows);
    for (const r of rows) expect(got.get(r.decisionId)).toBe(r.reward);
    await second.close();
    expect(second.lost).toBe(0);
    expect(readdirSync(dir).filter((f) => f.startsWith('seg-') && f.includes(next.instanceId))).toEqual([]);
    // (the first instance's timers only)
    await first.close(100).catch(() => undefined);
  }, 30_000);

  it('async durability: rewards the database cannot take are spilled and replayed when it is back, none lost', async () => {
    const journal = new DecisionJournal(dir, { kind: 'rewards' });
    await journal.open();
    const errors: string[] = [];
    const log = new RewardLog({ pool: proxied, journal, retryMs: 200, flushIntervalMs: 5, onError: (m) => errors.push(m) });
    const before = rewards(50);
    for (const r of before) log.enqueue(r);
    await log.flush();
    expect((await stored(before)).size).toBe(50);
    await proxy.cut();
    const during = rewards(300);
    for (const r of during) log.enqueue(r);
    await waitFor(() => log.spilled === 300, 10_000, 'the rewards to be spilled');
    expect(log.atRisk).toBe(0);
    expect(errors.some((e) => /journaling them until the database is back/.test(e))).toBe(true);
    await proxy.restore();
    await waitFor(async () => (await stored(during)).size === 300, 10_000, 'the replay');
    const after = rewards(20);
    for (const r of after) log.enqueue(r);
    await log.close();
    expect((await stored(after)).size).toBe(20);
    expect(log.lost).toBe(0);
    expect(journal.pending).toBe(0);
  }, 30_000);
});
