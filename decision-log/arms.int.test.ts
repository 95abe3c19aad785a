/**
 * armStats against real PostgreSQL: requests, rewards and the reward interval per arm of a window of the
 * partitioned decision log, checked against the same numbers computed here from the rows written; the
 * window's edges, other deployments, unrewarded (shadow) arms and v4 ids (undated rewards) included; and
 * the query plan touches only the day partitions of the window.
 */
import { randomUUID } from 'node:crypto';
import { newDecisionId } from '../inference/decisions/id';
import { Rng } from '../ml/rng';
import { studentTQuantile } from '../ml/stats/student-t';
import { ARM_STATS_SQL, armStats } from './arms';
import { createDecisionLogFixture, type DecisionLogFixture } from './test-helpers';
import { createDayPartition, utcDay, type DecisionInput, type RewardInput } from './index';

const DAY = 86_400_000;

describe('armStats: requests and reward per arm of a window (PostgreSQL)', () => {
  let fx: DecisionLogFixture;
  const now = Date.now();
  const from = new Date(now - 2 * 3_600_000);
  const to = new Date(now);
  /** arm → rewards written in the window, and requests */
  const expected = new Map<string, { version: number | null; requests: number; rewards: number[] }>();

  beforeAll(async () => {
    fx = await createDecisionLogFixture();
    for (let d = 1; d <= 10; d++) await createDayPartition(fx.decisions.db, 'decisions', utcDay(new Date(now - d * DAY)));
    for (let d = 1; d <= 10; d++) await createDayPartition(fx.decisions.db, 'rewards', utcDay(new Date(now - d * DAY)));
    const rng = new Rng(7);
    const decisions: DecisionInput[] = [];
    const rewards: RewardInput[] = [];
    const add = (arm: string, version: number | null, t: number, reward: number | null, opts: { deployment?: string; v4?: boolean } = {}) => {
      const decisionId = opts.v4 ? randomUUID() : newDecisionId(t);
      decisions.push({ decisionId, time: new Date(t), deployment: opts.deployment ?? 'ranker', model: opts.deployment ?? 'ranker', version, arm, features: [0], action: 1, propensity: 1, latencyMs: 10 });
      if (reward !== null) rewards.push({ decisionId, reward });
      const inWindow = (opts.deployment ?? 'ranker') === 'ranker' && t >= from.getTime() && t < to.getTime();
      if (!inWindow) return;
      const e = expected.get(arm) ?? { version, requests: 0, rewards: [] };
      e.requests += 1;
      if (reward !== null) e.rewards.push(reward);
      expected.set(arm, e);
    };
    const inside = () => from.getTime() + Math.floor(rng.uniform() * (to.getTime() - from.getTime()));
    for (let i = 0; i < 300; i++) add('champion', 1, inside(), rng.uniform() < 0.8 ? 0.5 + rng.normal() * 0.2 : null);
    for (let i = 0; i < 40; i++) add('canary', 2, inside(), rng.uniform() < 0.9 ? 0.7 + rng.normal() * 0.2 : null);
    for (let i = 0; i < 25; i++) add('shadow', 3, inside(), null);
    for (let i = 0; i < 5; i++) add('canary', 2, inside(), 0.6, { v4: true }); // rewards of v4 ids: rewards_undated
    add('fallback', null, inside(), 1);
    // outside the window, or another deployment: not counted
    add('champion', 1, from.getTime() - 1, 100);
    add('champion', 1, to.getTime(), 100);
    for (let i = 0; i < 20; i++) add('champion', 1, now - 5 * DAY + i * 1000, -100);
    for (let i = 0; i < 20; i++) add('champion', 1, inside(), -100, { deployment: 'other' });
    await fx.decisions.insertDecisions(decisions);
    const outcomes = await fx.decisions.insertRewards(rewards);
    expect(outcomes.filter((o) => 'error' in o)).toEqual([]);
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('counts requests and rewards per arm and gives the mean reward with its t interval', async () => {
    const stats = await armStats(fx.decisions.db, { deployment: 'ranker', from, to });
    expect(stats.map((s) => s.arm)).toEqual(['champion', 'canary', 'shadow', 'fallback']); // by requests
    for (const s of stats) {
      const e = expected.get(s.arm)!;
      expect({ arm: s.arm, version: s.version, requests: s.requests, rewarded: s.rewarded }).toEqual({ arm: s.arm, version: e.version, requests: e.requests, rewarded: e.rewards.length });
      expect(s.latencyMs).toBeCloseTo(10, 9);
      const n = e.rewards.length;
      if (n === 0) {
        expect(s.reward).toBeNull();
        continue;
      }
      const mean = e.rewards.reduce((a, b) => a + b, 0) / n;
      expect(s.reward!.mean).toBeCloseTo(mean, 9);
      if (n < 2) {
        expect(s.reward).toMatchObject({ lower: null, upper: null });
        continue;
      }
      const sd = Math.sqrt(e.rewards.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
      const half = studentTQuantile(0.975, n - 1) * (sd / Math.sqrt(n));
      expect(s.reward!.lower).toBeCloseTo(mean - half, 9);
      expect(s.reward!.upper).toBeCloseTo(mean + half, 9);
    }
    expect(stats.find((s) => s.arm === 'shadow')).toMatchObject({ requests: 25, rewarded: 0, reward: null });
    // the canary's rewards include those of v4 ids (undated partition)
    expect(stats.find((s) => s.arm === 'canary')!.rewarded).toBe(expected.get('canary')!.rewards.length);
  });

  it('scans only the day partitions of the window (partition keys in the query)', async () => {
    const days = new Set([utcDay(from), utcDay(to), utcDay(new Date(from.getTime() - 60_000)), utcDay(new Date(to.getTime() + 60_000))].map((d) => d.replace(/-/g, '')));
    const allowed = new Set([...days].flatMap((d) => [`decisions_p${d}`, `rewards_p${d}`]).concat(['rewards_undated']));
    const plan = await fx.decisions.db.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${ARM_STATS_SQL}`, ['ranker', from.toISOString(), to.toISOString()]);
    const scanned = new Set<string>();
    const walk = (n: unknown): void => {
      if (Array.isArray(n)) return n.forEach(walk);
      if (n === null || typeof n !== 'object') return;
      const rel = (n as Record<string, unknown>)['Relation Name'];
      if (typeof rel === 'string') scanned.add(rel);
      Object.values(n).forEach(walk);
    };
    walk(plan.rows[0]['QUERY PLAN']);
    expect(scanned.size).toBeGreaterThan(0);
    expect([...scanned].filter((r) => !allowed.has(r))).toEqual([]);
  });

  it('refuses a window that ends before it starts, naming the field', async () => {
    await expect(armStats(fx.decisions.db, { deployment: 'ranker', from: to, to: from })).rejects.toMatchObject({ field: 'to' });
  });
});
