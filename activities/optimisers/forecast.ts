/**
 * Activities of workloadForecast (R-USE-CASES, workload forecasting): count each deployment's
 * logged decisions per step (hour or minute; steps without one count 0), turn the counts into
 * requests per second, fit ARIMA (AICc order selection) or ETS (ml/forecast), store the forecast with
 * its interval in `forecasts`, and recommend replicas at the interval's upper end.
 *
 * Rates cannot be negative, so the stored mean and lower bound are clipped at 0 (the Gaussian
 * interval of a low-traffic deployment otherwise reaches below it).
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { autoArima, autoEts, recommendReplicas, type FittedModel } from '../../ml/forecast';
import { Db } from '../../registry/db';
import { saveForecast } from '../../registry/optimisers';
import type { ArtifactStore } from '../../registry/artifacts/store';
import type { DeploymentForecast, ForecastActivities, ForecastSetup, WorkloadForecastInput } from '../../contracts/workload-forecast';
import { chartSvg } from './svg';

function inputError(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: 'ForecastInputError', nonRetryable: true });
}

const STEP_SECONDS = { hour: 3600, minute: 60 } as const;
const DEFAULTS = { hour: { history: 14 * 24, horizon: 24, m: 24 }, minute: { history: 6 * 60, horizon: 60, m: 1 } } as const;

/** Mean absolute error of a model's forecast of `test` after fitting `train`. */
function holdoutMae(fit: (y: number[]) => FittedModel, train: number[], test: number[]): number {
  const f = fit(train).forecast(test.length, 0.95);
  return test.reduce((s, v, h) => s + Math.abs(v - f.mean[h]), 0) / test.length;
}

export function createForecastActivities(deps: { pool: Pool; store: ArtifactStore }): ForecastActivities {
  const db = Db.fromPool(deps.pool);

  /** Requests per second in each of the `history` steps before `until`. */
  async function readRates(deployment: string, setup: ForecastSetup): Promise<number[]> {
    const until = new Date(setup.until);
    const from = new Date(until.getTime() - setup.history * setup.stepSeconds * 1000);
    const { rows } = await deps.pool.query(
      `SELECT floor(extract(epoch FROM (time - $2::timestamptz)) / $4)::int AS i, count(*)::bigint AS n
         FROM decisions WHERE deployment = $1 AND time >= $2 AND time < $3 GROUP BY 1`,
      [deployment, from.toISOString(), until.toISOString(), setup.stepSeconds],
    );
    const counts = new Array<number>(setup.history).fill(0);
    for (const r of rows) counts[r.i] = Number(r.n);
    return counts.map((c) => c / setup.stepSeconds);
  }

  return {
    async forecastPrepare({ input }: { input: WorkloadForecastInput }) {
      const granularity = input.granularity ?? 'hour';
      if (granularity !== 'hour' && granularity !== 'minute') throw inputError(`granularity: got ${JSON.stringify(granularity)}, expected "hour" or "minute"`);
      const d = DEFAULTS[granularity];
      const int = (field: string, v: unknown, fallback: number, min: number): number => {
        if (v === undefined || v === null) return fallback;
        if (!(typeof v === 'number' && Number.isInteger(v) && v >= min)) throw inputError(`${field}: got ${JSON.stringify(v)}, expected an integer >= ${min}`);
        return v;
      };
      const stepSeconds = STEP_SECONDS[granularity];
      const history = int('history', input.history, d.history, 8);
      const horizon = int('horizon', input.horizon, d.horizon, 1);
      const seasonalPeriod = int('seasonalPeriod', input.seasonalPeriod, d.m, 1);
      const method = input.method ?? 'auto';
      if (!['auto', 'arima', 'ets'].includes(method)) throw inputError(`method: got ${JSON.stringify(method)}, expected "auto", "arima" or "ets"`);
      const level = input.level ?? 0.95;
      if (!(typeof level === 'number' && level > 0 && level < 1)) throw inputError(`level: got ${JSON.stringify(level)}, expected a coverage in (0, 1)`);
      const untilMs = input.until === undefined ? Date.now() : Date.parse(input.until);
      if (Number.isNaN(untilMs)) throw inputError(`until: got ${JSON.stringify(input.until)}, expected an ISO 8601 time`);
      const until = new Date(Math.floor(untilMs / (stepSeconds * 1000)) * stepSeconds * 1000).toISOString();
      const capacity = input.capacity ?? null;
      if (capacity && !(typeof capacity.capacityPerReplica === 'number' && capacity.capacityPerReplica > 0)) throw inputError(`capacity.capacityPerReplica: got ${JSON.stringify(capacity.capacityPerReplica)}, expected requests per second > 0 that one replica serves within the p99 target`);
      const setup: ForecastSetup = { granularity, stepSeconds, history, horizon, seasonalPeriod, method, level, until, capacity };
      let deployments = input.deployments;
      if (deployments === undefined) {
        const from = new Date(Date.parse(until) - history * stepSeconds * 1000).toISOString();
        const { rows } = await deps.pool.query('SELECT DISTINCT deployment FROM decisions WHERE time >= $1 AND time < $2 ORDER BY 1', [from, until]);
        deployments = rows.map((r: { deployment: string }) => r.deployment);
      } else if (!Array.isArray(deployments) || deployments.some((x) => typeof x !== 'string' || x === '')) {
        throw inputError(`deployments: got ${JSON.stringify(deployments)}, expected a list of deployment names`);
      }
      return { setup, deployments };
    },

    async forecastDeployment({ setup, deployment, workflowId, runId }): Promise<DeploymentForecast> {
      const y = await readRates(deployment, setup);
      const m = setup.seasonalPeriod;
      const arima = (s: number[]) => autoArima(s, { m }).model;
      const ets = (s: number[]) => autoEts(s, { m }).model;
      let fit = setup.method === 'ets' ? ets : arima;
      let selection: string = setup.method;
      if (setup.method === 'auto') {
        const h = setup.horizon;
        if (y.length - h < Math.max(2 * m + 2, 16)) throw inputError(`history: ${y.length} steps leave ${y.length - h} after holding out the horizon (${h}) for method "auto", expected at least ${Math.max(2 * m + 2, 16)}; read more history or choose "arima" or "ets"`);
        const train = y.slice(0, y.length - h), test = y.slice(y.length - h);
        const maeArima = holdoutMae(arima, train, test);
        const maeEts = holdoutMae(ets, train, test);
        fit = maeArima <= maeEts ? arima : ets;
        selection = `auto: held-out MAE of the last ${h} steps, ARIMA ${maeArima.toPrecision(4)} vs ETS ${maeEts.toPrecision(4)} req/s`;
      }
      const model = fit(y);
      const f = model.forecast(setup.horizon, setup.level);
      const mean = f.mean.map((v) => Math.max(0, v));
      const lower = f.lower.map((v) => Math.max(0, v));
      const upper = f.upper.map((v) => Math.max(0, v));
      const quantile = (1 + setup.level) / 2;
      const capacity = setup.capacity ? { ...recommendReplicas(f, { ...setup.capacity, quantile }), quantile } : null;
      const origin = new Date(setup.until);
      const row = await saveForecast(db, {
        deployment, granularity: setup.granularity, runKey: `${workflowId}/${runId}`, workflowId, method: model.name, origin, stepSeconds: setup.stepSeconds,
        level: setup.level, mean, lower, upper, sd: f.sd, historyPoints: y.length, capacity,
      });
      // The plot: the last 3 horizons of history and the forecast with its interval, x in steps from the origin.
      const shown = Math.min(y.length, 3 * setup.horizon);
      const hx = Array.from({ length: shown }, (_, i) => i - shown);
      const fx = Array.from({ length: setup.horizon }, (_, i) => i);
      const unit = setup.granularity === 'hour' ? 'hours' : 'minutes';
      const svg = chartSvg(`workloadForecast ${deployment}: ${model.name}, ${Math.round(setup.level * 100)}% interval`, [{
        title: `requests per second, forecast from ${origin.toISOString()}`,
        xLabel: `${unit} from the forecast origin`, yLabel: 'requests per second',
        series: [
          { label: 'observed', x: hx, y: y.slice(y.length - shown), color: '#555555' },
          { label: 'forecast', x: fx, y: mean, color: '#0969da' },
        ],
        bands: [{ x: fx, lower, upper, color: '#0969da' }],
        hlines: capacity ? [{ y: capacity.peakRate, label: `provisioned for ${capacity.peakRate.toPrecision(3)} req/s: ${capacity.replicas} replicas`, color: '#cf222e' }] : [],
      }]);
      const plot = await deps.store.put(`forecasts/${deployment.replace(/[^A-Za-z0-9_.-]/g, '_')}/${setup.granularity}/${row.id}.svg`, svg, { contentType: 'image/svg+xml' });
      return {
        deployment, forecastId: row.id, method: model.name, selection, origin: origin.toISOString(), stepSeconds: setup.stepSeconds, historyPoints: y.length,
        historyMean: y.reduce((a, b) => a + b, 0) / y.length, mean, lower, upper, level: setup.level, capacity, plotUri: plot.uri,
      };
    },
  };
}
