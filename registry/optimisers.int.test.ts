/** registry/optimisers.ts on a real PostgreSQL: idempotent writes by run key, validation by field, the newest forecast and its gauge values. */
import { Db } from './db';
import { ValidationError } from './errors';
import { migrate } from './migrate';
import { forecastAt, forecastGaugeValues, latestBudgetSolution, latestForecasts, saveBudgetSolution, saveForecast, type SaveForecastInput } from './optimisers';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';

describe('registry/optimisers', () => {
  let pg: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    pg = await createTestDatabase();
    await migrate(pg.pool);
    db = Db.fromPool(pg.pool);
  });
  afterAll(async () => pg?.drop());

  it('a retried budget write returns the first row; the newest solve is shown', async () => {
    const a = await saveBudgetSolution(db, { name: 'm', runKey: 'wf/1', status: 'optimal', problem: { budget: 1 }, solution: { cost: 1 } });
    const again = await saveBudgetSolution(db, { name: 'm', runKey: 'wf/1', status: 'optimal', problem: { budget: 1 }, solution: { cost: 2 } });
    expect(again).toEqual(a);
    const b = await saveBudgetSolution(db, { name: 'm', runKey: 'wf/2', status: 'infeasible', problem: { budget: 0 }, error: 'floors' });
    expect(await latestBudgetSolution(db, 'm')).toEqual(b);
    await expect(saveBudgetSolution(db, { name: 'm', runKey: 'wf/3', status: 'optimal', problem: {} })).rejects.toThrow(ValidationError);
    await expect(saveBudgetSolution(db, { name: 'bad name!', runKey: 'wf/4', status: 'infeasible', problem: {} })).rejects.toThrow(/name/);
  });

  it('forecasts: the newest per deployment, the step covering a time, the gauge quantiles; bad arrays refused by field', async () => {
    const origin = new Date('2026-12-06T10:00:00Z');
    const base: SaveForecastInput = { deployment: 'chat', granularity: 'hour', runKey: 'f/1', method: 'ETS(A,N,N)', origin, stepSeconds: 3600, level: 0.9, mean: [1, 2], lower: [0.5, 1], upper: [1.5, 3], sd: [0.3, 0.6], historyPoints: 48 };
    await saveForecast(db, base);
    const newer = await saveForecast(db, { ...base, runKey: 'f/2', mean: [4, 5], lower: [3, 4], upper: [5, 6] });
    const [latest] = await latestForecasts(db, { granularity: 'hour', deployment: 'chat' });
    expect(latest.id).toBe(newer.id);
    expect(forecastAt(latest, new Date('2026-12-06T11:30:00Z'))).toEqual({ step: 1, mean: 5, lower: 4, upper: 6 });
    expect(forecastAt(latest, new Date('2026-12-06T09:59:59Z'))).toBeNull();
    expect(await forecastGaugeValues(db, new Date('2026-12-06T10:10:00Z'))).toEqual([
      { deployment: 'chat', quantile: '0.05', value: 3 }, { deployment: 'chat', quantile: '0.5', value: 4 }, { deployment: 'chat', quantile: '0.95', value: 5 },
    ]);
    await expect(saveForecast(db, { ...base, runKey: 'f/3', sd: [0.3] })).rejects.toThrow('sd');
    await expect(saveForecast(db, { ...base, runKey: 'f/4', level: 95 })).rejects.toThrow('level');
  });
});
