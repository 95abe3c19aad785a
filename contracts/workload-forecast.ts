/**
 * The workloadForecast workflow's contract (R-USE-CASES, workload forecasting): request-rate series
 * read from the decision log per deployment → ARIMA/ETS forecasts with intervals, stored in
 * PostgreSQL, and a replica recommendation. Types and constant names only; activities in
 * activities/optimisers/forecast.ts, models in ml/forecast.
 */
import { defineQuery } from '@temporalio/workflow';

export const WORKLOAD_FORECAST_WORKFLOW_TYPE = 'workloadForecast';

export type ForecastGranularity = 'hour' | 'minute';
export type ForecastMethod = 'auto' | 'arima' | 'ets';

export interface CapacityInput {
  /** Requests per second one replica serves within the p99 latency target (measured, e.g. by bench/inference.ts). */
  capacityPerReplica: number;
  /** Fraction of that capacity to plan for (default 0.8). */
  targetUtilisation?: number;
  minReplicas?: number;
}

export interface WorkloadForecastInput {
  /** Deployments to forecast (default: every deployment with a decision in the history window). */
  deployments?: string[];
  /** Time step of the series (default hour). */
  granularity?: ForecastGranularity;
  /** Steps of history read (default 14 days of hours, or 6 hours of minutes). */
  history?: number;
  /** Steps forecast (default 24 hours, or 60 minutes). */
  horizon?: number;
  /** Seasonal period in steps (default 24 for hourly series, 1 — none — for minutes). */
  seasonalPeriod?: number;
  /** 'arima' (AICc order selection), 'ets', or 'auto' (default: the one with the smaller error on the last `horizon` steps held out). */
  method?: ForecastMethod;
  /** Nominal coverage of the stored interval (default 0.95). */
  level?: number;
  /** End of the history, ISO 8601 (default: now, truncated to the step); the forecast starts there. */
  until?: string;
  /** With it, the replicas needed at the forecast's upper bound are recommended. */
  capacity?: CapacityInput | null;
}

export interface DeploymentForecast {
  deployment: string;
  forecastId: number;
  method: string;
  /** Why this method: the held-out errors of both with `auto`. */
  selection: string;
  origin: string;
  stepSeconds: number;
  historyPoints: number;
  /** Mean observed rate (requests per second) over the history. */
  historyMean: number;
  mean: number[];
  lower: number[];
  upper: number[];
  level: number;
  capacity: { replicas: number; peakRate: number; peakStep: number; quantile: number } | null;
  plotUri: string;
}

export interface WorkloadForecastResult {
  workflowId: string;
  granularity: ForecastGranularity;
  forecasts: DeploymentForecast[];
}

export interface ForecastProgress {
  phase: 'listing' | 'forecasting' | 'done';
  deployments: number;
  done: number;
}

export const forecastProgressQuery = defineQuery<ForecastProgress>('progress');

/** The settled input of one run (defaults filled in). */
export interface ForecastSetup {
  granularity: ForecastGranularity;
  stepSeconds: number;
  history: number;
  horizon: number;
  seasonalPeriod: number;
  method: ForecastMethod;
  level: number;
  /** End of the history = origin of the forecast (ISO 8601, on a step boundary). */
  until: string;
  capacity: CapacityInput | null;
}

/** The activities workloadForecast calls (task queue `rollout`). */
export interface ForecastActivities {
  forecastPrepare(args: { input: WorkloadForecastInput }): Promise<{ setup: ForecastSetup; deployments: string[] }>;
  forecastDeployment(args: { setup: ForecastSetup; deployment: string; workflowId: string; runId: string }): Promise<DeploymentForecast>;
}
