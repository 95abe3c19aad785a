/**
 * workloadForecast on the real Temporal dev server with its real activities: an hourly request series
 * with a daily cycle written to the decision log in PostgreSQL is read back, forecast with intervals
 * (auto: ARIMA vs ETS on a held-out day), stored in `forecasts` with a replica recommendation and a
 * plot; the next day's real counts fall inside the interval, and the gauge reader serves the values.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createForecastActivities } from '../activities/optimisers/forecast';
import { DecisionStore, type DecisionInput } from '../decision-log';
import { normalQuantile } from '../ml/stats/normal';
import { Rng } from '../ml/rng';
import { FsArtifactStore } from '../registry/artifacts/fs';
import { Db } from '../registry/db';
import { migrate } from '../registry/migrate';
import { forecastGaugeValues, latestForecasts } from '../registry/optimisers';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { startDevServer } from '../test/support/temporal';
import { workloadForecast } from './workloadForecast';

const HOUR = 3_600_000;
const DAYS = 9;
/** Decisions in hour t: a daily cycle around 40 per hour plus Poisson-like noise. */
const expected = (t: number) => 40 + 20 * Math.sin((2 * Math.PI * t) / 24);

describe('workloadForecast on the real Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  let db: TestDatabase;
  let bundle: WorkflowBundleWithSourceMap;
  let dir: string;
  const until = new Date(Math.floor(Date.now() / HOUR) * HOUR - 24 * HOUR);
  const start = new Date(until.getTime() - DAYS * 24 * HOUR);
  const counts: number[] = [];

  beforeAll(async () => {
    [env, db, bundle] = await Promise.all([startDevServer(), createTestDatabase(), bundleWorkflowCode({ workflowsPath: require.resolve('./index') })]);
    await migrate(db.pool);
    dir = mkdtempSync(join(tmpdir(), 'ap-forecast-'));
    const rng = new Rng(5);
    const rows: DecisionInput[] = [];
    // DAYS of history and the day after `until` (held out: the forecast must not read it).
    for (let t = 0; t < (DAYS + 1) * 24; t++) {
      const n = Math.max(0, Math.round(expected(t) + Math.sqrt(expected(t)) * rng.normal()));
      counts.push(n);
      for (let i = 0; i < n; i++) rows.push({ decisionId: randomUUID(), time: new Date(start.getTime() + t * HOUR + Math.floor(((i + 0.5) / n) * HOUR)), deployment: 'chat', model: 'chat', version: null, arm: 'champion', features: {}, action: {} });
    }
    await new DecisionStore({ pool: db.pool }).insertDecisions(rows);
  }, 120_000);
  afterAll(async () => {
    await env?.teardown();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('forecasts the next day with intervals that cover it, stores it with a replica count, and the gauge reader serves it', async () => {
    const store = new FsArtifactStore(dir);
    const taskQueue = `forecast-${randomUUID()}`;
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities: createForecastActivities({ pool: db.pool, store }) });
    const result = await worker.runUntil(() => env.client.workflow.execute(workloadForecast, {
      taskQueue, workflowId: `forecast/${randomUUID()}`,
      args: [{ granularity: 'hour', history: DAYS * 24, horizon: 24, until: until.toISOString(), capacity: { capacityPerReplica: 0.004, targetUtilisation: 0.8 } }],
    }));
    expect(result.forecasts.map((f) => f.deployment)).toEqual(['chat']);
    const f = result.forecasts[0];
    expect(f.historyPoints).toBe(DAYS * 24);
    expect(f.historyMean * 3600).toBeCloseTo(counts.slice(0, DAYS * 24).reduce((a, b) => a + b, 0) / (DAYS * 24), 9);
    expect(f.selection).toMatch(/^auto: held-out MAE of the last 24 steps, ARIMA [\d.]+ vs ETS [\d.]+ req\/s$/);
    // The held-out day: at least 20 of 24 hours inside (measured: 21) the 95% interval, and the forecast tracks the cycle.
    const actual = counts.slice(DAYS * 24).map((c) => c / 3600);
    const inside = actual.filter((a, h) => a >= f.lower[h] && a <= f.upper[h]).length;
    const mae = actual.reduce((s, a, h) => s + Math.abs(a - f.mean[h]), 0) / 24;
    process.stdout.write(`workloadForecast: ${f.method}; ${inside}/24 held-out hours inside the 95% interval; MAE ${(mae * 3600).toFixed(2)} requests/hour (noise sd ≈ ${Math.sqrt(40).toFixed(1)}); ${f.capacity?.replicas} replicas\n`);
    expect(inside).toBeGreaterThanOrEqual(20);
    expect(mae * 3600).toBeLessThan(12);
    // Replicas: the 97.5% quantile's peak over the horizon / (capacity × utilisation), recomputed from the stored sd.
    const [stored] = await latestForecasts(Db.fromPool(db.pool), { granularity: 'hour', deployment: 'chat' });
    expect(stored).toMatchObject({ id: f.forecastId, method: f.method, stepSeconds: 3600, level: 0.95 });
    expect(stored.origin.toISOString()).toBe(until.toISOString());
    const z = normalQuantile(0.975);
    const peak = Math.max(...stored.mean.map((m, h) => m + z * stored.sd[h]));
    expect(f.capacity!.replicas).toBe(Math.ceil(peak / (0.004 * 0.8)));
    expect(f.capacity!.replicas).toBeGreaterThanOrEqual(2);
    const svg = (await store.getBuffer(store.keyFromUri(f.plotUri))).toString();
    expect(svg).toContain(`${f.capacity!.replicas} replicas`);

    // The gauge's values at the middle of the third forecast hour.
    const values = await forecastGaugeValues(Db.fromPool(db.pool), new Date(until.getTime() + 2.5 * HOUR));
    expect(values).toEqual([
      { deployment: 'chat', quantile: '0.025', value: f.lower[2] },
      { deployment: 'chat', quantile: '0.5', value: f.mean[2] },
      { deployment: 'chat', quantile: '0.975', value: f.upper[2] },
    ]);
    expect(await forecastGaugeValues(Db.fromPool(db.pool), new Date(until.getTime() + 25 * HOUR))).toEqual([]);
  }, 50_000);
});
