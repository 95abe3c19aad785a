/**
 * The decision log's day partitions (migration 016): `decisions` by `time`, `rewards` by `decision_time`
 * (the time its decision id carries), one partition per UTC day named `<table>_pYYYYMMDD`, plus a DEFAULT
 * partition each (rows of a day with no partition wait there, never lost) and `rewards_undated` (rewards
 * of ids that carry no time). Every change goes through the migration's SECURITY DEFINER functions, so a
 * worker connected as autopilot_worker can run it.
 */
import type { Db } from '../registry/db';
import { ValidationError } from '../registry/errors';

export const PARTITIONED_TABLES = ['decisions', 'rewards'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

/** One day partition: rows with key in [from, to). */
export interface DayPartition {
  table: PartitionedTable;
  name: string;
  from: Date;
  to: Date;
}

const DAY_MS = 86_400_000;

function checkTable(table: unknown): PartitionedTable {
  if (!PARTITIONED_TABLES.includes(table as PartitionedTable)) throw new ValidationError('table', table, `one of ${PARTITIONED_TABLES.join(', ')}`);
  return table as PartitionedTable;
}

/** A UTC day as YYYY-MM-DD. */
export function utcDay(t: Date): string {
  return t.toISOString().slice(0, 10);
}

/** The day partitions of a table, oldest first (the default and undated partitions are not days). */
export async function listDayPartitions(db: Db, table: PartitionedTable): Promise<DayPartition[]> {
  checkTable(table);
  const { rows } = await db.query<{ name: string; lo: Date | null; hi: Date | null }>(
    `SELECT c.relname AS name, b[1]::timestamptz AS lo, b[2]::timestamptz AS hi
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
            LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \\(''([^'']+)''\\) TO \\(''([^'']+)''\\)') AS b
      WHERE i.inhparent = $1::regclass AND c.relname ~ ('^' || $1 || '_p[0-9]{8}$')
      ORDER BY 2`,
    [table],
  );
  return rows.map((r) => {
    if (r.lo === null || r.hi === null) throw new Error(`partition ${r.name} of ${table}: bounds not of the form FROM ('…') TO ('…')`);
    return { table, name: r.name, from: r.lo, to: r.hi };
  });
}

/**
 * Creates the partition of `day` (YYYY-MM-DD, UTC) unless it exists, moving the default partition's rows
 * of that day into it. `created: false` when it existed; `moved`: rows taken from the default partition.
 */
export async function createDayPartition(db: Db, table: PartitionedTable, day: string): Promise<{ name: string; created: boolean; moved: number }> {
  checkTable(table);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`))) throw new ValidationError('day', day, 'a UTC date as YYYY-MM-DD');
  const { rows } = await db.query<{ moved: string | null }>('SELECT decision_log_create_partition($1, $2::date) AS moved', [table, day]);
  const moved = rows[0].moved;
  return { name: `${table}_p${day.replace(/-/g, '')}`, created: moved !== null, moved: moved === null ? 0 : Number(moved) };
}

/** The UTC days of the rows waiting in a table's default partition, with their counts. */
export async function defaultPartitionDays(db: Db, table: PartitionedTable): Promise<{ day: string; rows: number }[]> {
  checkTable(table);
  const { rows } = await db.query<{ day: string; n: string }>("SELECT to_char(day, 'YYYY-MM-DD') AS day, n FROM decision_log_default_days($1)", [table]);
  return rows.map((r) => ({ day: r.day, rows: Number(r.n) }));
}

/** Drops a day partition that ends at or before `cutoff`; returns the rows it held (the database refuses any other). */
export async function dropDayPartition(db: Db, table: PartitionedTable, name: string, cutoff: Date): Promise<{ rows: number }> {
  checkTable(table);
  const { rows } = await db.query<{ n: string }>('SELECT decision_log_drop_partition($1, $2, $3::timestamptz) AS n', [table, name, cutoff.toISOString()]);
  return { rows: Number(rows[0].n) };
}

/** Deletes the rows older than `cutoff` from the partitions that are not days (default; undated rewards by reward time). */
export async function deleteExpiredUndayed(db: Db, table: PartitionedTable, cutoff: Date): Promise<{ partition: string; rows: number }[]> {
  checkTable(table);
  const { rows } = await db.query<{ part: string; deleted: string }>('SELECT part, deleted FROM decision_log_delete_expired($1, $2::timestamptz)', [table, cutoff.toISOString()]);
  return rows.map((r) => ({ partition: r.part, rows: Number(r.deleted) }));
}

/** The UTC days from `from`'s day to `days` days after it, inclusive, as YYYY-MM-DD. */
export function daysAhead(from: Date, days: number): string[] {
  const start = Date.parse(`${utcDay(from)}T00:00:00Z`);
  return Array.from({ length: days + 1 }, (_, i) => utcDay(new Date(start + i * DAY_MS)));
}

/**
 * The day partitions retention drops at `cutoff`: those whose whole range ends at or before it. A
 * partition that holds the cutoff (partly expired) or a later time (`now` included) is kept.
 */
export function expiredPartitions(partitions: readonly DayPartition[], cutoff: Date): DayPartition[] {
  return partitions.filter((p) => p.to.getTime() <= cutoff.getTime());
}

/** What the retention alerts watch, per table: how far ahead of `now` day partitions exist, and rows waiting in the default partition. */
export interface PartitionHealth {
  table: PartitionedTable;
  /** End of the last day partition − now, in seconds (≤ 0: new rows already land in the default partition). */
  aheadSeconds: number;
  defaultRows: number;
}

export async function partitionHealth(db: Db, now: Date): Promise<PartitionHealth[]> {
  const out: PartitionHealth[] = [];
  for (const table of PARTITIONED_TABLES) {
    const days = await listDayPartitions(db, table);
    const last = days.length === 0 ? now : days[days.length - 1].to;
    const waiting = await defaultPartitionDays(db, table);
    out.push({ table, aheadSeconds: (last.getTime() - now.getTime()) / 1000, defaultRows: waiting.reduce((a, d) => a + d.rows, 0) });
  }
  return out;
}
