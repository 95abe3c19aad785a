/**
 * `autopilot budget solve --input FILE [--name N] [--every 1h]`: traffic shares per segment and model
 * that maximise expected quality within a budget and quality floors (the budgetAllocation workflow,
 * task queue `rollout`; HiGHS). FILE is the workflow's input as JSON (segments with demand or a
 * decision-log match, models, quality/cost or `logged`, budget). With `--every` a Temporal Schedule
 * re-solves it at that interval instead of solving once now.
 *
 * `autopilot budget show [--name N]`: the newest stored solve (budget_solutions).
 */
import { randomUUID } from 'node:crypto';
import { ScheduleAlreadyRunning } from '@temporalio/client';
import type { Command } from 'commander';
import { loadSettings, type Settings } from '../../config/settings';
import { BUDGET_ALLOCATION_WORKFLOW_TYPE, type BudgetAllocationInput, type BudgetAllocationResult, type BudgetProgress } from '../../contracts/budget-allocation';
import { TASK_QUEUES } from '../../contracts/shared';
import type { Allocation } from '../../ml/lp';
import { Db } from '../../registry/db';
import { latestBudgetSolution } from '../../registry/optimisers';
import { withPool } from '../../registry/pool';
import { NotFoundError } from '../../registry/errors';
import { CliError } from '../errors';
import { startAndFollow } from '../follow-run';
import { emit } from '../output';
import { LinePrinter, type ProgressOut } from '../progress-bar';
import { connectClient } from '../temporal';
import { readJsonFlag } from './tune';

const EVERY = /^\d+(s|m|h|d)$/;

/** Creates a Temporal Schedule that starts `workflowType` with `input` every `every` (e.g. "1h"). */
export async function scheduleWorkflow(settings: Settings, spec: { scheduleId: string; every: string; workflowType: string; taskQueue: string; input: unknown; json?: boolean }): Promise<void> {
  if (!EVERY.test(spec.every)) throw new CliError(`--every ${JSON.stringify(spec.every)}: expected an interval such as 30m, 1h or 1d`);
  const { client, close } = await connectClient(settings);
  try {
    await client.schedule.create({
      scheduleId: spec.scheduleId,
      spec: { intervals: [{ every: spec.every as `${number}${'s' | 'm' | 'h' | 'd'}` }] },
      action: { type: 'startWorkflow', workflowType: spec.workflowType, taskQueue: spec.taskQueue, args: [spec.input], workflowId: spec.scheduleId },
    });
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) throw new CliError(`schedule ${spec.scheduleId} exists already: delete it first (temporal schedule delete --schedule-id ${spec.scheduleId})`);
    throw err;
  } finally {
    await close();
  }
  emit(spec.json, { scheduleId: spec.scheduleId, every: spec.every, workflowType: spec.workflowType }, () => `scheduled ${spec.workflowType} every ${spec.every} (schedule ${spec.scheduleId})`);
}

export function readBudgetInput(file: string, name?: string): BudgetAllocationInput {
  const input = readJsonFlag('--input', file);
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new CliError(`--input ${file}: expected a JSON object { segments, models, budget, … }`);
  const o = input as Record<string, unknown>;
  for (const key of ['segments', 'models']) if (!Array.isArray(o[key])) throw new CliError(`--input ${file}: ${key} must be a list, got ${JSON.stringify(o[key])}`);
  if (typeof o.budget !== 'number') throw new CliError(`--input ${file}: budget must be a number, got ${JSON.stringify(o.budget)}`);
  return { ...(o as unknown as BudgetAllocationInput), ...(name !== undefined ? { name } : {}) };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

export function describeAllocation(name: string, allocation: Allocation, budget: number): string {
  const lines = [`allocation "${name}" (${allocation.kind}): expected quality ${allocation.expectedQuality.toFixed(4)}, cost ${allocation.cost.toFixed(4)} of budget ${budget}`];
  for (const [segment, shares] of Object.entries(allocation.shares)) {
    const parts = Object.entries(shares).filter(([, x]) => x > 1e-9).map(([model, x]) => `${model} ${pct(x)}`);
    lines.push(`  ${segment.padEnd(24)} ${parts.join(', ')}  (mean quality ${allocation.segmentQuality[segment].toFixed(4)})`);
  }
  lines.push(`  shadow price of the budget: +${allocation.shadowPrices.budget.toPrecision(4)} expected quality per extra unit of budget`);
  for (const [segment, mu] of Object.entries(allocation.shadowPrices.floors)) if (Math.abs(mu) > 1e-12) lines.push(`  floor of ${segment} binds: raising it by 0.01 costs ${(Math.abs(mu) * 0.01).toPrecision(4)} expected quality`);
  return lines.join('\n');
}

interface SolveOptions { input: string; name?: string; every?: string; workflowId?: string; wait: boolean; json?: boolean; applyTo?: string; segmentField?: string; headroom?: string; priorStrength?: string; unlisted?: string }

/** A number option in [min, max], or a CliError naming it. */
function numberOption(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < min || x > max) throw new CliError(`${flag} ${JSON.stringify(v)}: expected a number in [${min}, ${max}]`);
  return x;
}

export function register(program: Command): void {
  const budget = program.command('budget').description('budget allocation across models (budgetAllocation workflow, HiGHS LP)');
  budget
    .command('solve')
    .description('solve the allocation now (or on a schedule with --every) and print the shares and shadow prices')
    .requiredOption('--input <file>', 'JSON: { name?, segments: [{ name, demand? | match, qualityFloor? }], models: [{ name }], quality?, costPerRequest?, budget, logged? }')
    .option('--name <name>', 'the plan name (overrides the file; default "default")')
    .option('--every <interval>', 're-solve on a Temporal Schedule at this interval (30m, 1h, 1d) instead of once now')
    .option('--workflow-id <id>', 'workflow id (default budget/<name>/<random>)')
    .option('--apply-to <deployment>', 'write each solution into this bandit deployment: per-segment allowed arms and share caps, per-arm priors (a new, audited generation)')
    .option('--segment-field <field>', 'with --apply-to: the decide request\'s features field naming the segment (default "segment")')
    .option('--headroom <share>', 'with --apply-to: added to each share to give its cap (default 0.05)')
    .option('--prior-strength <n>', 'with --apply-to: observations each prior mean is worth (default 10; 0: no priors)')
    .option('--unlisted <refuse|unconstrained>', 'with --apply-to: requests of a segment the plan does not list (default refuse)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: SolveOptions) => {
      const input = readBudgetInput(opts.input, opts.name);
      if (opts.applyTo === undefined && [opts.segmentField, opts.headroom, opts.priorStrength, opts.unlisted].some((v) => v !== undefined)) throw new CliError('--segment-field, --headroom, --prior-strength and --unlisted go with --apply-to DEPLOYMENT');
      if (opts.applyTo !== undefined) {
        if (opts.unlisted !== undefined && opts.unlisted !== 'refuse' && opts.unlisted !== 'unconstrained') throw new CliError(`--unlisted ${JSON.stringify(opts.unlisted)}: expected refuse or unconstrained`);
        const headroom = numberOption('--headroom', opts.headroom, 0, 1);
        const priorStrength = numberOption('--prior-strength', opts.priorStrength, 0, 1e9);
        input.applyTo = {
          deployment: opts.applyTo,
          ...(opts.segmentField !== undefined ? { segmentField: opts.segmentField } : {}),
          ...(headroom !== undefined ? { headroom } : {}),
          ...(priorStrength !== undefined ? { priorStrength } : {}),
          ...(opts.unlisted !== undefined ? { unlisted: opts.unlisted as 'refuse' | 'unconstrained' } : {}),
        };
      }
      const name = input.name ?? 'default';
      const settings = loadSettings();
      if (opts.every !== undefined) {
        await scheduleWorkflow(settings, { scheduleId: `budget/${name}`, every: opts.every, workflowType: BUDGET_ALLOCATION_WORKFLOW_TYPE, taskQueue: TASK_QUEUES.rollout, input, json: opts.json });
        return;
      }
      await startAndFollow<BudgetAllocationInput, BudgetProgress, BudgetAllocationResult>({
        settings,
        workflowType: BUDGET_ALLOCATION_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.rollout,
        workflowId: opts.workflowId ?? `budget/${name}/${randomUUID().slice(0, 8)}`,
        input,
        model: name,
        runKind: 'budget',
        json: opts.json,
        wait: opts.wait,
        printer: (out: ProgressOut) => new LinePrinter<BudgetProgress>(out, (p) => `budget allocation: ${p.phase}`, (p) => p.phase),
        describe: (r, url) => `${describeAllocation(r.name, r.allocation, r.problem.budget)}\n  sources       demand: ${r.sources.demand}; quality: ${r.sources.quality}; cost: ${r.sources.cost}\n  stored        budget_solutions id ${r.solutionId}\n  plot          ${r.plotUri}${r.applied ? `\n  applied       ${r.applied.deployment} generation ${r.applied.generation}${r.applied.changed ? '' : ' (unchanged)'}` : ''}\n  Temporal UI   ${url}`,
      });
    });

  budget
    .command('show')
    .description('the newest stored solve of a plan')
    .option('--name <name>', 'the plan name (default "default")')
    .option('--json', 'machine-readable output')
    .action(async (opts: { name?: string; json?: boolean }) => {
      const name = opts.name ?? 'default';
      const settings = loadSettings();
      const row = await withPool(settings.databaseUrl, async (pool) => {
        try {
          return await latestBudgetSolution(Db.fromPool(pool), name);
        } catch (err) {
          if (err instanceof NotFoundError) throw new CliError(err.message, 1);
          throw err;
        }
      });
      emit(opts.json, row, () =>
        row.status === 'optimal'
          ? `${describeAllocation(row.name, row.solution as unknown as Allocation, (row.problem as { budget: number }).budget)}\n  solved        ${row.solvedAt.toISOString()} by ${row.workflowId}\n  plot          ${row.plotUri}`
          : `allocation "${row.name}" was infeasible at ${row.solvedAt.toISOString()}: ${row.error}`,
      );
    });
}
