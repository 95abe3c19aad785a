/**
 * `autopilot forecast [--deployment D …] [--granularity hour|minute] [--horizon N] [--capacity-per-replica R]`:
 * request-rate forecasts per deployment from the decision log with prediction intervals, stored in
 * PostgreSQL, with a replica recommendation and a plot per deployment (the workloadForecast workflow,
 * task queue `rollout`). With `--every 1h` a Temporal Schedule runs it at that interval instead.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { TASK_QUEUES } from '../../contracts/shared';
import { WORKLOAD_FORECAST_WORKFLOW_TYPE, type ForecastProgress, type WorkloadForecastInput, type WorkloadForecastResult } from '../../contracts/workload-forecast';
import { CliError } from '../errors';
import { intOption, startAndFollow } from '../follow-run';
import { LinePrinter, type ProgressOut } from '../progress-bar';
import { scheduleWorkflow } from './budget';

export interface ForecastOptions {
  deployment?: string[];
  granularity?: string;
  history?: string;
  horizon?: string;
  seasonalPeriod?: string;
  method?: string;
  level?: string;
  until?: string;
  capacityPerReplica?: string;
  utilisation?: string;
  minReplicas?: string;
  every?: string;
  workflowId?: string;
  wait: boolean;
  json?: boolean;
}

function numberFlag(flag: string, raw: string, check: (v: number) => boolean, expected: string): number {
  const v = Number(raw);
  if (!/^\s*[\d.eE+-]+\s*$/.test(raw) || !check(v)) throw new CliError(`${flag} ${JSON.stringify(raw)}: expected ${expected}`);
  return v;
}

export function buildForecastInput(opts: ForecastOptions): WorkloadForecastInput {
  const input: WorkloadForecastInput = {};
  if (opts.deployment && opts.deployment.length > 0) input.deployments = opts.deployment;
  if (opts.granularity !== undefined) {
    if (opts.granularity !== 'hour' && opts.granularity !== 'minute') throw new CliError(`--granularity must be hour or minute, got ${JSON.stringify(opts.granularity)}`);
    input.granularity = opts.granularity;
  }
  const history = intOption('--history', opts.history, 8);
  if (history !== undefined) input.history = history;
  const horizon = intOption('--horizon', opts.horizon, 1);
  if (horizon !== undefined) input.horizon = horizon;
  const m = intOption('--seasonal-period', opts.seasonalPeriod, 1);
  if (m !== undefined) input.seasonalPeriod = m;
  if (opts.method !== undefined) {
    if (!['auto', 'arima', 'ets'].includes(opts.method)) throw new CliError(`--method must be auto, arima or ets, got ${JSON.stringify(opts.method)}`);
    input.method = opts.method as WorkloadForecastInput['method'];
  }
  if (opts.level !== undefined) input.level = numberFlag('--level', opts.level, (v) => v > 0 && v < 1, 'a coverage in (0, 1), e.g. 0.95');
  if (opts.until !== undefined) {
    if (Number.isNaN(Date.parse(opts.until))) throw new CliError(`--until ${JSON.stringify(opts.until)}: expected an ISO 8601 time`);
    input.until = opts.until;
  }
  if (opts.capacityPerReplica !== undefined) {
    input.capacity = {
      capacityPerReplica: numberFlag('--capacity-per-replica', opts.capacityPerReplica, (v) => v > 0, 'requests per second one replica serves within the p99 target (> 0)'),
      ...(opts.utilisation !== undefined ? { targetUtilisation: numberFlag('--utilisation', opts.utilisation, (v) => v > 0 && v <= 1, 'a fraction in (0, 1]') } : {}),
      ...(opts.minReplicas !== undefined ? { minReplicas: intOption('--min-replicas', opts.minReplicas, 0) } : {}),
    };
  } else if (opts.utilisation !== undefined || opts.minReplicas !== undefined) {
    throw new CliError('--utilisation and --min-replicas need --capacity-per-replica');
  }
  return input;
}

export function describeForecasts(r: WorkloadForecastResult, url: string): string {
  if (r.forecasts.length === 0) return `no deployment logged a decision in the history window\n  Temporal UI   ${url}`;
  const lines: string[] = [];
  for (const f of r.forecasts) {
    const peak = Math.max(...f.upper);
    lines.push(`${f.deployment}: ${f.method}, ${f.mean.length} ${r.granularity}s from ${f.origin}; mean ${f.mean[0].toPrecision(4)} → ${f.mean[f.mean.length - 1].toPrecision(4)} req/s, ${Math.round(f.level * 100)}% upper bound peaks at ${peak.toPrecision(4)} req/s (history mean ${f.historyMean.toPrecision(4)})`);
    lines.push(`  selection     ${f.selection}`);
    if (f.capacity) lines.push(`  replicas      ${f.capacity.replicas} (peak ${f.capacity.peakRate.toPrecision(4)} req/s at step ${f.capacity.peakStep}, quantile ${f.capacity.quantile})`);
    lines.push(`  stored        forecasts id ${f.forecastId}`);
    lines.push(`  plot          ${f.plotUri}`);
  }
  lines.push(`Temporal UI     ${url}`);
  return lines.join('\n');
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('forecast')
    .description('forecast request rates per deployment from the decision log, with intervals and a replica recommendation (workloadForecast workflow)')
    .option('-d, --deployment <name>', 'a deployment to forecast (repeatable; default: every deployment with decisions in the window)', collect)
    .option('--granularity <g>', 'hour (default) or minute')
    .option('--history <n>', 'steps of history (default 336 hours or 360 minutes)')
    .option('--horizon <n>', 'steps to forecast (default 24 hours or 60 minutes)')
    .option('--seasonal-period <m>', 'seasonal period in steps (default 24 hourly, none by minute)')
    .option('--method <m>', 'auto (default: ARIMA or ETS by held-out error), arima or ets')
    .option('--level <p>', 'interval coverage (default 0.95)')
    .option('--until <time>', 'end of the history (default now)')
    .option('--capacity-per-replica <rps>', 'requests per second one replica serves within the p99 target: recommend replicas')
    .option('--utilisation <f>', 'fraction of that capacity to plan for (default 0.8)')
    .option('--min-replicas <n>', 'least replicas recommended (default 1)')
    .option('--every <interval>', 'run on a Temporal Schedule at this interval (e.g. 1h) instead of once now')
    .option('--workflow-id <id>', 'workflow id (default forecast/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: ForecastOptions) => {
      const input = buildForecastInput(opts);
      const settings = loadSettings();
      if (opts.every !== undefined) {
        await scheduleWorkflow(settings, { scheduleId: `forecast/${input.granularity ?? 'hour'}`, every: opts.every, workflowType: WORKLOAD_FORECAST_WORKFLOW_TYPE, taskQueue: TASK_QUEUES.rollout, input, json: opts.json });
        return;
      }
      await startAndFollow<WorkloadForecastInput, ForecastProgress, WorkloadForecastResult>({
        settings,
        workflowType: WORKLOAD_FORECAST_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.rollout,
        workflowId: opts.workflowId ?? `forecast/${randomUUID().slice(0, 8)}`,
        input,
        model: input.deployments?.[0] ?? 'all',
        runKind: 'forecast',
        json: opts.json,
        wait: opts.wait,
        printer: (out: ProgressOut) => new LinePrinter<ForecastProgress>(out, (p) => `forecasting: ${p.done}/${p.deployments} deployments  ${p.phase}`, (p) => `${p.done}|${p.phase}`),
        describe: describeForecasts,
      });
    });
}
