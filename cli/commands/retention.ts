/**
 * `autopilot retention run [--days N] [--ahead N]`: the decision log's housekeeping now (the retention
 * workflow, task queue `rollout`): creates the day partitions of today and the next N days (default 7),
 * drops the partitions of `decisions` and `rewards` entirely older than now − days (default 30; seed 002
 * §14 keeps 14–30 days), audited.
 *
 * `autopilot retention schedule [--every 1d] [--days N] [--ahead N] [--if-missing]`: the same on a Temporal
 * Schedule (`decision-log-retention`), daily by default; the days it keeps are the schedule's input.
 *
 * `autopilot retention partitions`: the day partitions of both tables and the rows waiting in their default partitions.
 */
import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings';
import { DEFAULT_AHEAD_DAYS, DEFAULT_RETENTION_DAYS, RETENTION_SCHEDULE_ID, RETENTION_WORKFLOW_TYPE, type RetentionInput, type RetentionResult } from '../../contracts/retention';
import { TASK_QUEUES } from '../../contracts/shared';
import { PARTITIONED_TABLES, defaultPartitionDays, listDayPartitions } from '../../decision-log/partitions';
import { Db } from '../../registry/db';
import { withPool } from '../../registry/pool';
import { CliError } from '../errors';
import { intOption, startAndFollow } from '../follow-run';
import { emit } from '../output';
import { connectClient } from '../temporal';

/**
 * The retention schedule (`decision-log-retention`) starting the workflow with `input` every `every`, unless
 * one exists ('exists'; its input is left as it is). The dev stack's `up` calls it with the defaults.
 */
export async function ensureRetentionSchedule(settings: Settings, input: RetentionInput = {}, every = '1d'): Promise<'created' | 'exists'> {
  if (!/^\d+(s|m|h|d)$/.test(every)) throw new CliError(`--every ${JSON.stringify(every)}: expected an interval such as 30m, 1h or 1d`);
  const { client, close } = await connectClient(settings);
  try {
    await client.schedule.create({
      scheduleId: RETENTION_SCHEDULE_ID,
      spec: { intervals: [{ every: every as `${number}${'s' | 'm' | 'h' | 'd'}` }] },
      action: { type: 'startWorkflow', workflowType: RETENTION_WORKFLOW_TYPE, taskQueue: TASK_QUEUES.rollout, args: [input], workflowId: RETENTION_SCHEDULE_ID },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  } finally {
    await close();
  }
}

export interface RetentionOptions {
  days?: string;
  ahead?: string;
}

export function buildRetentionInput(opts: RetentionOptions): RetentionInput {
  const input: RetentionInput = {};
  const days = intOption('--days', opts.days, 1);
  if (days !== undefined) {
    if (days > 3650) throw new CliError(`--days ${JSON.stringify(opts.days)}: expected an integer from 1 to 3650`);
    input.retentionDays = days;
  }
  const ahead = intOption('--ahead', opts.ahead, 0);
  if (ahead !== undefined) {
    if (ahead > 60) throw new CliError(`--ahead ${JSON.stringify(opts.ahead)}: expected an integer from 0 to 60`);
    input.aheadDays = ahead;
  }
  return input;
}

export function describeRetention(r: RetentionResult, url: string): string {
  const lines = [`retention: kept ${r.retentionDays} days (cutoff ${r.cutoff})`];
  lines.push(`  created       ${r.created.length === 0 ? 'none' : r.created.map((p) => (p.moved > 0 ? `${p.name} (${p.moved} rows moved from the default partition)` : p.name)).join(', ')}`);
  if (r.dropped.length === 0) lines.push('  dropped       none');
  for (const p of r.dropped) lines.push(`  dropped       ${p.name}  [${p.from}, ${p.to})  ${p.rows} rows`);
  for (const d of r.deleted) lines.push(`  deleted       ${d.rows} expired rows from ${d.partition}`);
  lines.push(`  audit rows    ${r.auditIds.length === 0 ? 'none' : r.auditIds.join(', ')}`);
  lines.push(`  Temporal UI   ${url}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  const retention = program.command('retention').description(`decision log retention: day partitions of decisions and rewards created ahead, dropped after ${DEFAULT_RETENTION_DAYS} days (retention workflow)`);
  const days = `days kept (1–3650, default ${DEFAULT_RETENTION_DAYS})`;
  const ahead = `day partitions created after today (0–60, default ${DEFAULT_AHEAD_DAYS})`;
  retention
    .command('run')
    .description('create the partitions ahead and drop the expired ones now')
    .option('--days <n>', days)
    .option('--ahead <n>', ahead)
    .option('--workflow-id <id>', 'workflow id (default retention/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: RetentionOptions & { workflowId?: string; wait: boolean; json?: boolean }) => {
      const input = buildRetentionInput(opts);
      await startAndFollow<RetentionInput, unknown, RetentionResult>({
        settings: loadSettings(),
        workflowType: RETENTION_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.rollout,
        workflowId: opts.workflowId ?? `retention/${randomUUID().slice(0, 8)}`,
        input,
        model: 'decision-log',
        runKind: 'retention',
        json: opts.json,
        wait: opts.wait,
        printer: () => ({ update: () => undefined, done: () => undefined }),
        describe: describeRetention,
      });
    });

  retention
    .command('schedule')
    .description(`run it on a Temporal Schedule (${RETENTION_SCHEDULE_ID}), daily by default`)
    .option('--every <interval>', 'interval (default 1d)', '1d')
    .option('--days <n>', days)
    .option('--ahead <n>', ahead)
    .option('--if-missing', 'succeed without change when the schedule exists (for deploy jobs run on every release)')
    .option('--json', 'machine-readable output')
    .action(async (opts: RetentionOptions & { every: string; ifMissing?: boolean; json?: boolean }) => {
      const input = buildRetentionInput(opts);
      const r = await ensureRetentionSchedule(loadSettings(), input, opts.every);
      if (r === 'exists' && !opts.ifMissing) {
        throw new CliError(`schedule ${RETENTION_SCHEDULE_ID} exists already: delete it first (temporal schedule delete --schedule-id ${RETENTION_SCHEDULE_ID}) or pass --if-missing`);
      }
      emit(opts.json, { scheduleId: RETENTION_SCHEDULE_ID, every: opts.every, input, schedule: r }, () =>
        r === 'created' ? `scheduled ${RETENTION_WORKFLOW_TYPE} every ${opts.every} (schedule ${RETENTION_SCHEDULE_ID})` : `schedule ${RETENTION_SCHEDULE_ID} exists; left as it is`,
      );
    });

  retention
    .command('partitions')
    .description('the day partitions of decisions and rewards, and rows waiting in their default partitions')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const out = await withPool(loadSettings().databaseUrl, async (pool) => {
        const db = Db.fromPool(pool);
        const tables = [];
        for (const table of PARTITIONED_TABLES) tables.push({ table, partitions: await listDayPartitions(db, table), waitingInDefault: await defaultPartitionDays(db, table) });
        return tables;
      });
      emit(opts.json, out, () =>
        out
          .map((t) => {
            const p = t.partitions;
            const span = p.length === 0 ? 'no day partitions' : `${p.length} day partitions, ${p[0].from.toISOString().slice(0, 10)} … ${p[p.length - 1].from.toISOString().slice(0, 10)}`;
            const waiting = t.waitingInDefault.length === 0 ? '' : `; waiting in ${t.table}_default: ${t.waitingInDefault.map((d) => `${d.day} (${d.rows})`).join(', ')}`;
            return `${t.table.padEnd(10)} ${span}${waiting}`;
          })
          .join('\n'),
      );
    });
}
