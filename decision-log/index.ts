/**
 * The decision log: the data the inference server logs — decisions and their rewards — in PostgreSQL
 * (tables `decisions` and `rewards`, created by the registry's migrations: one database, one migration
 * runner). Logged data, not registry state: neither audited nor notified, every write idempotent on the
 * decision id.
 *
 *   const decisions = new DecisionStore({ pool });
 *   await decisions.copyDecisionLines(batch.text, batch.count);       // the server's decision log
 *   await decisions.insertRewards([{ decisionId, reward: 1 }]);
 *   for await (const page of decisions.iterateDecisionsWithRewards({ deployment, from, to })) …
 *
 * Each method is also exported as a plain function taking a `Db` (`Db.fromPool(pool)`).
 */
import type { Pool } from 'pg';
import { Db } from '../registry/db';
import { feedbackSummary, findReviewableDecision, insertFeedback, iterateReviewedDecisions, type FeedbackInput, type FeedbackSummaryQuery } from './feedback';
import { getDecision, iterateDecisionsWithRewards, readDecisionsWithRewards } from './read';
import { insertReward, insertRewards } from './rewards';
import type { DecisionInput, DecisionWindowQuery, InsertRewardsOptions, RewardInput } from './types';
import { copyDecisionLines, copyDecisions, insertDecisionLines, insertDecisions } from './write';

export class DecisionStore {
  readonly db: Db;

  constructor(opts: { pool: Pool } | { db: Db }) {
    this.db = 'db' in opts ? opts.db : Db.fromPool(opts.pool);
  }

  // decisions
  /** Validates and inserts; ids already stored are skipped (`inserted` counts the new rows). */
  insertDecisions(rows: DecisionInput[]) { return insertDecisions(this.db, rows); }
  /** insertDecisions through COPY; same validation, same rows stored, same idempotence. */
  copyDecisions(rows: DecisionInput[]) { return copyDecisions(this.db, rows); }
  /** COPY of rows already encoded as decision lines (the server's decision log batches). */
  copyDecisionLines(text: Buffer | string, count: number) { return copyDecisionLines(this.db, text, count); }
  /** INSERT of rows already encoded as decision lines; ids already stored are skipped. */
  insertDecisionLines(lines: readonly string[]) { return insertDecisionLines(this.db, lines); }

  // rewards
  insertReward(input: RewardInput) { return insertReward(this.db, input); }
  /** Many rewards in two statements, one outcome per reward (same rules as insertReward); `requireDecision`: only for decisions stored. */
  insertRewards(inputs: RewardInput[], opts?: InsertRewardsOptions) { return insertRewards(this.db, inputs, opts); }

  // human feedback on text-policy decisions (./feedback.ts)
  findReviewableDecision(decisionId: string) { return findReviewableDecision(this.db, decisionId); }
  insertFeedback(input: FeedbackInput) { return insertFeedback(this.db, input); }
  feedbackSummary(query: FeedbackSummaryQuery) { return feedbackSummary(this.db, query); }
  iterateReviewedDecisions(query: Required<FeedbackSummaryQuery> & { pageSize?: number }) { return iterateReviewedDecisions(this.db, query); }

  // reads
  getDecision(decisionId: string) { return getDecision(this.db, decisionId); }
  readDecisionsWithRewards(query: DecisionWindowQuery) { return readDecisionsWithRewards(this.db, query); }
  iterateDecisionsWithRewards(query: Omit<DecisionWindowQuery, 'cursor'>) { return iterateDecisionsWithRewards(this.db, query); }
}

export * from './types';
export * from './feedback';
export {
  DECISION_COLUMNS,
  encodeDecisionLine,
  decisionLineArmFields,
  encodeServedDecisionLine,
  decisionLineFields,
  splitDecisionLines,
  decodeDecisionLine,
  decodeDecisionLines,
} from './line';
export { insertDecisions, insertDecisionLines, copyDecisions, copyDecisionLines, isRowError } from './write';
export { insertReward, insertRewards } from './rewards';
export { getDecision, readDecisionsWithRewards, iterateDecisionsWithRewards } from './read';
export {
  PARTITIONED_TABLES,
  listDayPartitions,
  createDayPartition,
  defaultPartitionDays,
  dropDayPartition,
  deleteExpiredUndayed,
  daysAhead,
  expiredPartitions,
  partitionHealth,
  utcDay,
  type DayPartition,
  type PartitionHealth,
  type PartitionedTable,
} from './partitions';
