/**
 * The retention workflow's contract: the decision log's day partitions (migration 016) created ahead and
 * dropped once expired (seed 002 §14 keeps 14–30 days of telemetry; the default keeps 30, the most the
 * OPE and training readers can then look back over). Types and constant names only; activities in
 * activities/retention/activities.ts, task queue `rollout`.
 */
export const RETENTION_WORKFLOW_TYPE = 'retention';
/** The Temporal Schedule `autopilot retention schedule` creates (and its workflow id). */
export const RETENTION_SCHEDULE_ID = 'decision-log-retention';
/** Days of decisions and rewards kept by default (seed 002 §14: 14–30 days). */
export const DEFAULT_RETENTION_DAYS = 30;
/** Day partitions created ahead of today by default: a week without a retention run loses nothing to the default partition. */
export const DEFAULT_AHEAD_DAYS = 7;

export interface RetentionInput {
  /** Keep this many days (an integer from 1 to 3650; default 30): partitions ending at or before now − days are dropped. */
  retentionDays?: number;
  /** Create the partitions of today and this many days after it (0 to 60; default 7). */
  aheadDays?: number;
  /** Who is named in the audit log (default `workflow:retention`). */
  actor?: string;
}

export interface CreatedPartition {
  table: string;
  name: string;
  /** Rows of that day moved out of the default partition. */
  moved: number;
}

export interface DroppedPartition {
  table: string;
  name: string;
  /** The range it held, ISO times: [from, to). */
  from: string;
  to: string;
  rows: number;
}

export interface RetentionResult {
  /** now − retentionDays, ISO: everything entirely before it is gone. */
  cutoff: string;
  retentionDays: number;
  created: CreatedPartition[];
  dropped: DroppedPartition[];
  /** Expired rows deleted from the partitions that are not days (default; undated rewards). */
  deleted: { table: string; partition: string; rows: number }[];
  /** The audit_log rows that record what was dropped or deleted, one per partition (each written in the drop's transaction). */
  auditIds: number[];
}

/** The activities the retention workflow calls (task queue `rollout`). */
export interface RetentionActivities {
  /** Partitions for today … today + aheadDays, and for every non-expired day with rows waiting in a default partition. */
  retentionCreatePartitions(args: { aheadDays: number; retentionDays: number }): Promise<CreatedPartition[]>;
  /** Drops the day partitions entirely older than now − retentionDays, deletes expired rows elsewhere, audits what went. */
  retentionDropExpired(args: { retentionDays: number; actor: string; workflowId: string }): Promise<Omit<RetentionResult, 'created'>>;
}
