/**
 * `retention`: the decision log's housekeeping, started daily by a Temporal Schedule
 * (`autopilot retention schedule`). Task queue `rollout`.
 *
 *   retentionCreatePartitions (today … today + aheadDays, and days waiting in a default partition)
 *   → retentionDropExpired (day partitions entirely older than now − retentionDays; audited) → result
 *
 * Creating comes first, so a run that fails to drop still leaves tomorrow's partitions in place.
 */
import { ApplicationFailure, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { DEFAULT_AHEAD_DAYS, DEFAULT_RETENTION_DAYS, type RetentionActivities, type RetentionInput, type RetentionResult } from '../contracts/retention';
import { SEARCH_ATTRIBUTES } from '../contracts/shared';

const { retentionCreatePartitions, retentionDropExpired } = proxyActivities<RetentionActivities>({
  startToCloseTimeout: '30 minutes',
  // A lock wait that times out (a long reader on the table) is retried; a refusal by the database is not.
  retry: { initialInterval: '10 seconds', maximumAttempts: 5, nonRetryableErrorTypes: ['ValidationError'] },
});

function intIn(field: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw ApplicationFailure.nonRetryable(`${field} ${JSON.stringify(value)}: expected an integer from ${lo} to ${hi}`, 'ValidationError');
  }
  return value;
}

export async function retention(input: RetentionInput = {}): Promise<RetentionResult> {
  const retentionDays = intIn('retentionDays', input.retentionDays ?? DEFAULT_RETENTION_DAYS, 1, 3650);
  const aheadDays = intIn('aheadDays', input.aheadDays ?? DEFAULT_AHEAD_DAYS, 0, 60);
  upsertSearchAttributes([{ key: SEARCH_ATTRIBUTES.runKind, value: 'retention' }]);
  const created = await retentionCreatePartitions({ aheadDays, retentionDays });
  const dropped = await retentionDropExpired({ retentionDays, actor: input.actor ?? 'workflow:retention', workflowId: workflowInfo().workflowId });
  return { ...dropped, created };
}
