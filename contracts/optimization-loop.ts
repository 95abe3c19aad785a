/**
 * The optimizationLoop workflow's contract: its input (one plain JSON object), the signals that start
 * a cycle (`trigger`, `drift`), the human `approve` / `reject` before the canary, `stop`, the `status`
 * query, one cycle's summary (the row of `loop_cycles`), and the loop's own activities. Types and
 * constant names only; the workflow is workflows/optimizationLoop.ts.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CanaryPlanInput } from '../canary/plan';
import type { OpeGateResult } from '../canary/ope-gate';
import type { EstimatorName } from '../ml/ope/estimators';
import type { PpoTrainingInput } from './ppo-training';

export const OPTIMIZATION_LOOP_WORKFLOW_TYPE = 'optimizationLoop';

/** `loop/<deployment>`: one loop per deployment. */
export function loopWorkflowId(deployment: string): string {
  return `loop/${deployment}`;
}

/**
 * How a cycle retrains from its dataset snapshot:
 *   ppo    the ppoTraining child workflow with `env: replay:<snapshot dir>` (its held-out evaluation and
 *          offline gates are the cycle's offline evaluation; startCanary is off: the loop runs the canary)
 *   refit  the `loopRefit` activity: a linear reward model per action (ridge) fitted on the snapshot's
 *          rewarded decisions, served as softmax(inverseTemperature · q̂(x, ·)) — for deployments whose
 *          policy has one categorical head over numeric features (the contextual-bandit shape)
 */
export type RetrainSpec =
  | { kind: 'ppo'; input?: Omit<PpoTrainingInput, 'model' | 'env' | 'startCanary'> }
  | { kind: 'refit'; ridge?: number; inverseTemperature?: number };

export interface OptimizationLoopInput {
  /** The deployment (and model) the loop improves. */
  deployment: string;
  /** A cycle every this many seconds (the schedule trigger); 0: only on signals. Default 86,400. */
  intervalSeconds?: number;
  /** Lookback of a cycle's dataset and off-policy evaluation, a duration (30m, 24h). It never reaches back before the current champion was promoted by this loop. Default 24h. */
  window?: string;
  /** Fewest rewarded decisions a cycle needs to train on; fewer skip the cycle. Default 200. */
  minRewarded?: number;
  /**
   * Share of the window's rewarded decisions, the latest ones, kept out of training for the off-policy
   * evaluation (a candidate judged on the data it was fitted to looks better than it is). 0: evaluate on
   * the training data. Default 0.5.
   */
  holdout?: number;
  retrain?: RetrainSpec;
  /** The off-policy evaluation gate before the canary (canary/ope-gate.ts's rule); minRounds defaults to the held-out share of minRewarded. */
  ope?: { estimator?: EstimatorName; tolerance?: number; alpha?: number; nBootstrap?: number; minRounds?: number };
  /** The canary's plan (shadow stage included when `shadow.enabled`); its own ope gate stays off unless set here. */
  canaryPlan?: CanaryPlanInput;
  /** Wait for an `approve` signal before the canary (a `reject` signal ends the cycle rejected). Default false. */
  requireApproval?: boolean;
  /** With requireApproval: how long a cycle waits for the signal (a duration: 4h, 2d); no decision by then refuses the candidate. Default: no limit. */
  approvalTimeout?: string;
  /** Cycles per workflow run before continueAsNew (also when Temporal suggests it). Default 20. */
  cyclesPerRun?: number;
  /** End the loop after this many cycles (0: never). Default 0. */
  maxCycles?: number;
  /** The queue of exportDataset, loopRefit and ppoTraining. Default `training`. */
  trainingTaskQueue?: string;
  /** Who the loop acts as in the audit log. Default `workflow:loop/<deployment>`. */
  actor?: string;
  /** Carried over continueAsNew; leave unset. */
  carried?: LoopCarried;
}

export interface LoopCarried {
  loopId: string;
  cycles: number;
  /** ISO time of this loop's last promotion: a window never reaches before it. */
  championSince: string | null;
  nextDueAt: string | null;
  pending: LoopTrigger[];
  recent: LoopCycleSummary[];
}

export type TriggerKind = 'schedule' | 'drift' | 'manual';

export interface LoopTrigger {
  kind: TriggerKind;
  by: string;
  reason: string;
  /** Manual triggers may override the retrain settings for that cycle (e.g. a different ridge or PPO budget). */
  retrain?: RetrainSpec;
}

export const LOOP_STAGES = ['export', 'retrain', 'offline-evaluation', 'ope', 'approval', 'canary', 'record'] as const;
export type LoopStage = (typeof LOOP_STAGES)[number];

export interface StageRecord {
  stage: LoopStage;
  status: 'running' | 'passed' | 'failed' | 'skipped';
  startedAt: string;
  finishedAt: string | null;
  detail: string;
  /** The child workflow of the stage, when it is one. */
  workflowId?: string;
}

export type CycleOutcome = 'promoted' | 'rejected' | 'skipped' | 'failed';

/** One cycle: the `status` query's entries and the `loop_cycles` row. */
export interface LoopCycleSummary {
  loopId: string;
  workflowId: string;
  deployment: string;
  cycle: number;
  trigger: LoopTrigger;
  outcome: CycleOutcome | null;
  /** The stage the cycle ended in (where it was rejected, skipped or failed; `canary` when promoted). */
  stage: LoopStage | null;
  reasons: string[];
  window: { from: string; to: string };
  /** Where the window was split: training data before, the OPE's held-out data from here (null before the split). */
  holdoutFrom: string | null;
  championVersion: number | null;
  candidateVersion: number | null;
  dataset: { dir: string; rows: number; rewarded: number; version: { model: string; version: number } | null } | null;
  ope: OpeGateResult | null;
  canary: { workflowId: string; phase: string; message: string } | null;
  stages: StageRecord[];
  startedAt: string;
  finishedAt: string | null;
}

export interface LoopStatus {
  deployment: string;
  loopId: string;
  state: 'idle' | 'running' | 'awaiting-approval' | 'stopping' | 'stopped';
  cycles: number;
  current: LoopCycleSummary | null;
  /** Latest cycles first (at most 10). */
  recent: LoopCycleSummary[];
  pending: LoopTrigger[];
  nextDueAt: string | null;
  championSince: string | null;
}

export interface SignalBy {
  by?: string;
  reason?: string;
}

/** Start a cycle now (queued when one runs; at most one of each kind waits). */
export const triggerSignal = defineSignal<[SignalBy & { retrain?: RetrainSpec }]>('trigger');
/** driftMonitor's signal: drift was seen on the deployment (a cycle starts, or is queued). */
export const driftSignal = defineSignal<[SignalBy & { reasons?: string[] }]>('drift');
/** The human approval a cycle waits for before its canary (input `requireApproval`). */
export const approveSignal = defineSignal<[SignalBy?]>('approve');
export const rejectSignal = defineSignal<[SignalBy?]>('reject');
/** End the loop after the cycle in flight (at once when idle). */
export const stopSignal = defineSignal<[SignalBy?]>('stop');
export const loopStatusQuery = defineQuery<LoopStatus>('status');

export interface RefitInput {
  deployment: string;
  /** The dataset snapshot directory (exportDataset's `dir`). */
  snapshotDir: string;
  /** The champion version: its signature gives the feature names and the head's choices. */
  championVersion: number;
  ridge: number;
  inverseTemperature: number;
  actor: string;
  workflowId: string;
  dataset: { model: string; version: number } | null;
}

/** The loop's activities: refit on the training queue, the registry ones on the rollout queue. */
export interface LoopActivities {
  loopChampion(input: { deployment: string }): Promise<{ championVersion: number | null }>;
  /** The time that leaves the last `holdout` share of the window's rewarded decisions after it (`to` when there are none). */
  loopSplitWindow(input: { deployment: string; from: string; to: string; holdout: number }): Promise<{ split: string }>;
  loopRefit(input: RefitInput): Promise<{ model: string; version: number; rounds: number }>;
  loopRejectVersion(input: { model: string; version: number; reason: string; actor: string }): Promise<void>;
  loopRecordCycle(input: LoopCycleSummary): Promise<void>;
}
