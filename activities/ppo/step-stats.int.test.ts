/**
 * A short real PPO run (the ppoTraining activities on the simulator, real PostgreSQL and a filesystem
 * store) records seed 002 §17's metrics per iteration next to PPO's own: latency p50/p95, gate breaches
 * and the variant breakdown, under the names the console's training-run page charts; and the API's
 * `/v1/runs/:id/metrics` serves them by step.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiServer } from '../../api/server';
import type { RolloutBatch } from '../../ml/rl/rollout';
import { FsArtifactStore } from '../../registry/artifacts/fs';
import { Registry } from '../../registry';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { runKeys } from './checkpoint';
import { runShortPpo, SHORT_PPO_INPUT } from './testing/short-run';

describe('a PPO run records latency, gate breaches and the variant breakdown per iteration', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    dir = mkdtempSync(join(tmpdir(), 'ap-ppo-stats-'));
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every iteration: p50 ≤ p95, breaches ≤ steps, shares sum to 1, Σ share·return = the mean reward of its rollouts', async () => {
    const store = FsArtifactStore.fromUri(`file://${dir}`);
    const registry = new Registry({ pool: db.pool, store });
    const runId = await runShortPpo({ pool: db.pool, store }, 'ppo-stats');
    const rows = await registry.readRunMetrics(runId);
    const steps = [...new Set(rows.map((r) => r.step))].sort((a, b) => a - b);
    expect(steps).toEqual([1, 2, 3]);
    const stepsPerIteration = SHORT_PPO_INPUT.workers! * 16;
    for (const step of steps) {
      const m = Object.fromEntries(rows.filter((r) => r.step === step).map((r) => [r.name, r.value]));
      expect(m['charts/episodic_return']).toEqual(expect.any(Number)); // PPO's own metrics are still there
      const p50 = m['charts/latency_p50_ms'], p95 = m['charts/latency_p95_ms'];
      expect(p50).toBeGreaterThan(0);
      expect(p50).toBeLessThanOrEqual(p95);
      expect(p95).toBeLessThan(60_000);
      const breaches = m['charts/gate_breaches'];
      expect(Number.isInteger(breaches) && breaches >= 0 && breaches <= stepsPerIteration).toBe(true);
      expect(m['charts/gate_breach_rate']).toBeCloseTo(breaches / stepsPerIteration, 12);
      // the simulator's variants, every one with a share (chosen or not)
      const variants = Object.keys(m).filter((n) => n.endsWith('/share')).map((n) => n.split('/')[1]).sort();
      expect(variants).toEqual(['A', 'B']);
      expect(variants.reduce((s, v) => s + m[`variant/${v}/share`], 0)).toBeCloseTo(1, 12);
      let mixed = 0;
      for (const v of variants) {
        const share = m[`variant/${v}/share`];
        expect(share >= 0 && share <= 1).toBe(true);
        expect(m[`variant/${v}/return`] === undefined).toBe(share === 0);
        if (share > 0) mixed += share * m[`variant/${v}/return`];
      }
      const rewards: number[] = [];
      for (let e = 0; e < SHORT_PPO_INPUT.workers!; e++) rewards.push(...(JSON.parse((await store.getBuffer(runKeys.rollout(runId, step, e))).toString('utf8')) as RolloutBatch).rewards);
      expect(rewards.length).toBe(stepsPerIteration);
      expect(mixed).toBeCloseTo(rewards.reduce((a, b) => a + b, 0) / rewards.length, 10);
    }

    // the API serves them by step, as the console reads them
    const api = await startApiServer({ pool: db.pool, databaseUrl: db.url, temporal: null, port: 0, auth: false, log: () => undefined });
    try {
      const res = await fetch(`${api.url}/v1/runs/${encodeURIComponent(runId)}/metrics`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { steps: { step: number; metrics: Record<string, number> }[] };
      expect(body.steps.map((s) => s.step)).toEqual([1, 2, 3]);
      for (const s of body.steps) {
        expect(Object.keys(s.metrics)).toEqual(expect.arrayContaining([
          'charts/episodic_return', 'charts/latency_p50_ms', 'charts/latency_p95_ms', 'charts/gate_breaches', 'charts/gate_breach_rate',
          'variant/A/share', 'variant/B/share',
        ]));
      }
    } finally {
      await api.close();
    }
  });
});
