/**
 * The driftMonitor workflow's contract: its input and result, the detector parameters, and the
 * activities it calls (`DriftMonitorActivities`, implemented by `createDriftActivities` in
 * activities/bandits/). Types only.
 */
import type { CalibrationReport, CalibrationThresholds } from '../ml/calibration';
import type { ADWINParams, PageHinkleyParams } from '../ml/drift';
import type { JsonObject } from './json';

export type { CalibrationThresholds };

/** The calibration of one model's logged predictions (decisions with `metadata.prediction`) over the window. */
export interface ModelCalibration {
  model: string;
  report: CalibrationReport;
}

/** Parameters of the drift detectors (every field optional: the detectors' defaults). */
export interface DriftParams {
  adwin?: ADWINParams;
  pageHinkley?: PageHinkleyParams;
  /** KS drift when p < ksAlpha (default 0.01). */
  ksAlpha?: number;
  /** Fewest values per window for a test to run (default 30). */
  minSamples?: number;
}

export interface DriftMonitorInput {
  deployment: string;
  intervalSeconds?: number;
  windowSeconds?: number;
  referenceSeconds?: number;
  params?: DriftParams;
  /**
   * Calibration bounds on the current window's (prediction, reward) pairs, per model: a breach is a drift
   * reason like the detectors' (e.g. `{ maxEce: 0.1, maxBrier: 0.25, minCorrelation: 0.7 }`). Unset: the
   * figures are recorded (run metrics, Prometheus) but not checked.
   */
  calibration?: CalibrationThresholds;
  webhook?: { url: string; timeoutMs?: number };
  onDrift?: 'alert' | 'abort-canary' | 'retrain';
  retrain?: { workflowType: string; input?: JsonObject; taskQueue?: string };
  iterationsPerRun?: number;
  maxIterations?: number;
  /** Carried over continueAsNew; leave unset. */
  runId?: string;
  iteration?: number;
  alerts?: number;
}

export interface DriftMonitorResult {
  runId: string;
  iterations: number;
  alerts: number;
  actions: string[];
}

export interface DriftCheckInput {
  deployment: string;
  runId: string;
  step: number;
  /** End of the current window (ISO time; default now). */
  until?: string;
  windowSeconds: number;
  referenceSeconds: number;
  params?: DriftParams;
  calibration?: CalibrationThresholds;
  /** Alerts raised before this check (the counter carried by the workflow). */
  alertsSoFar: number;
}

export interface DriftReport {
  drift: boolean;
  reasons: string[];
  /** Metric name → value, ready for run metrics. */
  metrics: Record<string, number>;
  /** Per model with logged predictions in the current window (none: absent or empty). */
  calibration?: ModelCalibration[];
}

/** The activities driftMonitor calls (task queue `rollout`). */
export interface DriftMonitorActivities {
  /** Records the monitor's run (idempotent on retries); returns the run id. */
  driftStartRun(input: { deployment: string; workflowId: string; config: JsonObject }): Promise<string>;
  driftCheck(input: DriftCheckInput): Promise<DriftReport & { until: string }>;
  /** POSTs the alert; returns the HTTP status. */
  driftAlert(input: { url: string; timeoutMs?: number; payload: JsonObject }): Promise<number>;
}
