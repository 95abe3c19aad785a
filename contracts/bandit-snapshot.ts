/**
 * The banditSnapshot workflow's contract: its input and result, and the activities it calls
 * (`BanditSnapshotActivities`, implemented by `createBanditActivities` in activities/bandits/).
 * Types only.
 */
import type { JsonObject } from './json';

export interface BanditSnapshotInput {
  /** The bandit deployment (= its model name). */
  deployment: string;
  /** Seconds between snapshots. Default 300. */
  intervalSeconds?: number;
  /** Iterations before continueAsNew. Default 100. */
  iterationsPerRun?: number;
  /** Stop after this many iterations in total (0: never). Default 0. */
  maxIterations?: number;
  /** Carried over continueAsNew; leave unset. */
  runId?: string;
  lastSeq?: number;
  iteration?: number;
  versions?: number[];
}

export interface BanditSnapshotResult {
  runId: string;
  iterations: number;
  lastSeq: number;
  /** Versions registered (the last 20). */
  versions: number[];
}

export interface BanditSnapshotStepInput {
  deployment: string;
  runId: string;
  step: number;
  /** `seq` of the previous snapshot: no new version when the state has not moved since. */
  lastSeq: number;
  workflowId?: string;
}

/** Cumulative reward and regret of a bandit deployment, estimated from its arm statistics. */
export interface RegretEstimate {
  rounds: number;
  cumulativeReward: number;
  meanReward: number;
  bestArm: number;
  bestArmMean: number;
  regret: number;
  regretRatio: number;
}

export interface BanditSnapshotStepResult {
  seq: number;
  /** The version registered, or null when the state had not changed. */
  version: number | null;
  estimate: RegretEstimate;
}

/** The activities banditSnapshot calls (task queue `rollout`). */
export interface BanditSnapshotActivities {
  /** Records the snapshot run (idempotent on retries); returns the run id. */
  banditStartRun(input: { deployment: string; workflowId: string; config: JsonObject }): Promise<string>;
  banditSnapshotStep(input: BanditSnapshotStepInput): Promise<BanditSnapshotStepResult>;
  banditFinishRun(input: { runId: string; summary: JsonObject }): Promise<void>;
}
