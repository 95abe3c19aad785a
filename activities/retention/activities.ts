/**
 * The retention workflow's activities: the decision log's day partitions (decision-log/partitions.ts,
 * migration 016's functions) created ahead and dropped once expired. Each drop and its audit row commit
 * together, so the audit log names every partition that went, with its range and row count.
 */
import type { Pool } from 'pg';
import type { CreatedPartition, DroppedPartition, RetentionActivities, RetentionResult } from '../../contracts/retention';
import {
  PARTITIONED_TABLES,
  createDayPartition,
  daysAhead,
  defaultPartitionDays,
  deleteExpiredUndayed,
  dropDayPartition,
  expiredPartitions,
  listDayPartitions,
} from '../../decision-log/partitions';
import { writeAudit } from '../../registry/audit';
import { Db } from '../../registry/db';
import { ValidationError } from '../../registry/errors';

const DAY_MS = 86_400_000;

function checkDays(field: string, value: unknown, lo: number, hi: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) throw new ValidationError(field, value, `an integer from ${lo} to ${hi}`);
  return value;
}

export function createRetentionActivities(deps: { pool: Pool; now?: () => Date }): RetentionActivities {
  const db = Db.fromPool(deps.pool);
  const now = deps.now ?? (() => new Date());
  const cutoffOf = (retentionDays: number) => new Date(now().getTime() - checkDays('retentionDays', retentionDays, 1, 3650) * DAY_MS);

  return {
    async retentionCreatePartitions({ aheadDays, retentionDays }): Promise<CreatedPartition[]> {
      const cutoff = cutoffOf(retentionDays);
      const ahead = daysAhead(now(), checkDays('aheadDays', aheadDays, 0, 60));
      const created: CreatedPartition[] = [];
      for (const table of PARTITIONED_TABLES) {
        // Rows of a day with no partition wait in the default partition: give every day that is not expired its partition.
        const waiting = (await defaultPartitionDays(db, table)).map((d) => d.day).filter((day) => Date.parse(`${day}T00:00:00Z`) + DAY_MS > cutoff.getTime());
        for (const day of [...new Set([...waiting, ...ahead])].sort()) {
          const r = await createDayPartition(db, table, day);
          if (r.created) created.push({ table, name: r.name, moved: r.moved });
        }
      }
      return created;
    },

    async retentionDropExpired({ retentionDays, actor, workflowId }): Promise<Omit<RetentionResult, 'created'>> {
      const cutoff = cutoffOf(retentionDays);
      const dropped: DroppedPartition[] = [];
      const deleted: RetentionResult['deleted'] = [];
      const auditIds: number[] = [];
      for (const table of PARTITIONED_TABLES) {
        for (const p of expiredPartitions(await listDayPartitions(db, table), cutoff)) {
          await db.transaction(async (tx) => {
            const { rows } = await dropDayPartition(tx, table, p.name, cutoff);
            const d: DroppedPartition = { table, name: p.name, from: p.from.toISOString(), to: p.to.toISOString(), rows };
            auditIds.push(await writeAudit(tx, { actor, action: 'retention.partition_dropped', entity: 'partition', entityKey: p.name, before: d, after: { cutoff: cutoff.toISOString(), retentionDays, workflowId } }));
            dropped.push(d);
          });
        }
        await db.transaction(async (tx) => {
          for (const r of await deleteExpiredUndayed(tx, table, cutoff)) {
            if (r.rows === 0) continue;
            const d = { table, partition: r.partition, rows: r.rows };
            auditIds.push(await writeAudit(tx, { actor, action: 'retention.rows_deleted', entity: 'partition', entityKey: r.partition, before: d, after: { cutoff: cutoff.toISOString(), retentionDays, workflowId } }));
            deleted.push(d);
          }
        });
      }
      return { cutoff: cutoff.toISOString(), retentionDays, dropped, deleted, auditIds };
    },
  };
}
