/**
 * `autopilot canary start|status|pause|resume|abort|promote` drive the canaryPromotion workflow
 * (`canary/<model>`, task queue `rollout`); `autopilot rollback <model>` makes the previous champion
 * champion again at once (audited), for when an abort would come too late.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { startCanaryWorkflow } from '../../api/canary';
import { loadCanaryPlan, DEFAULT_PLAN_FILE } from '../../activities/canary/plan-config';
import { formatDuration, type CanaryPlanInput } from '../../canary/plan';
import type { CanaryStatus, CheckResult } from '../../canary/status';
import { ConfigError } from '../../config/load';
import { loadSettings } from '../../config/settings';
import { rollbackChampion } from '../../registry/rollback';
import { abortSignal, canaryWorkflowId, pauseSignal, promoteSignal, resumeSignal, statusQuery, type CanaryPromotionInput } from '../../contracts/canary';
import { TASK_QUEUES } from '../../contracts/shared';
import { ConflictError } from '../../registry/errors';
import { CliError } from '../errors';
import { emit } from '../output';
import { connectClient, workflowUiUrl } from '../temporal';
import { cliActor, withRegistry } from './models';

/** Reads a plan file into the inline plan of the workflow input (validated here, with exact errors). */
export function readPlanFile(file: string): CanaryPlanInput {
  try {
    loadCanaryPlan(file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  return (parse(readFileSync(file, 'utf8')) as CanaryPlanInput | null) ?? {};
}

function parseVersion(value: string): number {
  const m = /^v?(\d+)$/.exec(value);
  if (!m || Number(m[1]) < 1) throw new CliError(`version ${JSON.stringify(value)}: expected a version number such as 3 or v3`);
  return Number(m[1]);
}

/** Starts `canary/<model>` (api/canary.ts); a second start while one runs is refused with what is running. */
export async function startCanary(client: Client, input: CanaryPromotionInput, taskQueue: string = TASK_QUEUES.rollout) {
  const workflowId = canaryWorkflowId(input.model);
  try {
    return await startCanaryWorkflow(client, input, taskQueue);
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    let running = '';
    try {
      const s = await client.workflow.getHandle(workflowId).query(statusQuery);
      running = `: v${s.version}, ${s.phase} at ${s.canaryWeight}%`;
    } catch {
      // no worker answering queries: say what we know
    }
    throw new CliError(
      `a canary of ${input.model} is already running (workflow ${workflowId}${running}); ` +
        `watch it with \`autopilot canary status ${input.model}\` or stop it with \`autopilot canary abort ${input.model}\``,
      4,
    );
  }
}

/** The status of `canary/<model>`: the live query while it runs, the result once it has ended. */
export async function canaryStatus(client: Client, model: string): Promise<CanaryStatus> {
  const handle = client.workflow.getHandle(canaryWorkflowId(model));
  try {
    const d = await handle.describe();
    if (d.status.name !== 'RUNNING') return (await handle.result()) as CanaryStatus;
    return await handle.query(statusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new CliError(`no canary of ${model} found (workflow ${canaryWorkflowId(model)}); start one with \`autopilot canary start ${model} <version>\``, 3);
    throw err;
  }
}

function fmt(x: number | null | undefined): string {
  if (x === null || x === undefined) return 'n/a';
  if (!Number.isFinite(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toPrecision(3);
}

function renderCheck(c: CheckResult): string {
  const gates = c.metrics.map((m) => `${m.name}=${fmt(m.value)}${m.ok ? '' : '!'}`).join(' ');
  const delta = c.delta ? ` Δ=${fmt(c.delta.estimate)} 95%CI[${fmt(c.delta.ci95.lower)}, ${fmt(c.delta.ci95.upper)}]` : '';
  const why = c.reasons.length ? `\n      ${c.reasons.join('\n      ')}` : '';
  return `    ${c.at.slice(11, 19)} ${c.canaryWeight ?? '?'}% ${c.outcome.toUpperCase()}${c.breach ? ' (breach)' : ''} n=${c.samples.canary}/${c.samples.champion} ${gates}${delta}${why}`;
}

/** The status as the terminal shows it (also what `--watch` redraws). */
export function renderStatus(s: CanaryStatus): string {
  const lines = [
    `canary ${s.model} v${s.version} vs champion v${s.championVersion ?? '?'}: ${s.phase}${s.paused ? ' (paused)' : ''}`,
    `  weight ${s.canaryWeight}%  step ${s.stepIndex + 1}  failed checks ${s.failedChecks}  iterations ${s.iterations}`,
    `  ${s.message}`,
  ];
  if (s.opeGate) {
    const g = s.opeGate;
    const est = g.candidate ? ` ${g.estimator}=${fmt(g.candidate.value)} CI[${fmt(g.candidate.lower)}, ${fmt(g.candidate.upper)}] vs champion ${fmt(g.champion!.value)} − ${fmt(g.tolerance)}` : '';
    lines.push(`  ope gate: ${g.verdict.toUpperCase()}${est} n=${g.rounds} window ${g.window.from} → ${g.window.to}`, ...g.reasons.map((r) => `      ${r}`));
  }
  if (s.lastChecks.length) lines.push('  last checks:', ...s.lastChecks.map(renderCheck));
  const events = s.history.slice(-5).map((h) => `    ${h.at.slice(0, 19).replace('T', ' ')} ${h.event}: ${h.detail}`);
  lines.push('  history:', ...events);
  return lines.join('\n');
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const { client, close } = await connectClient(loadSettings());
  try {
    return await fn(client);
  } finally {
    await close();
  }
}

async function signalCanary(model: string, send: (client: Client) => Promise<void>, what: string, json?: boolean): Promise<void> {
  await withClient(async (client) => {
    try {
      await send(client);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new CliError(`no running canary of ${model} (workflow ${canaryWorkflowId(model)})`, 3);
      throw err;
    }
    emit(json, { model, workflowId: canaryWorkflowId(model), signal: what }, () => `${what} sent to ${canaryWorkflowId(model)}`);
  });
}

const TERMINAL = new Set(['Succeeded', 'Failed']);

export function register(program: Command): void {
  const canary = program.command('canary').description('roll a model version out as a canary: 5% → 25% → 50% → 100% with statistical gates');

  canary
    .command('start <model> <version>')
    .description(`start canaryPromotion for a version (plan: --plan FILE, default ${DEFAULT_PLAN_FILE.replace(/.*\/configs\//, 'configs/')})`)
    .option('--plan <file>', 'canary plan YAML (fields left out take the default plan\'s values)')
    .option('--json', 'machine-readable output')
    .action(async (model: string, versionText: string, opts: { plan?: string; json?: boolean }) => {
      const version = parseVersion(versionText);
      const plan = opts.plan ? readPlanFile(opts.plan) : undefined;
      const settings = loadSettings();
      await withClient(async (client) => {
        const handle = await startCanary(client, { model, version, plan, actor: cliActor() });
        const url = workflowUiUrl(settings, handle.workflowId, handle.firstExecutionRunId);
        emit(opts.json, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url }, () => `started ${handle.workflowId} (v${version})\n  ${url}\n  watch: autopilot canary status ${model} --watch`);
      });
    });

  canary
    .command('status <model>')
    .description('phase, weight, failed checks and the last checks of the canary of a model')
    .option('--watch', 'redraw every few seconds until the canary ends')
    .option('--interval <seconds>', 'redraw interval with --watch', '2')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { watch?: boolean; interval: string; json?: boolean }) => {
      await withClient(async (client) => {
        for (;;) {
          const s = await canaryStatus(client, model);
          if (opts.watch && !opts.json && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
          emit(opts.json, s, () => renderStatus(s));
          if (!opts.watch || TERMINAL.has(s.phase)) return;
          await new Promise((r) => setTimeout(r, Math.max(0.2, Number(opts.interval) || 2) * 1000));
        }
      });
    });

  for (const [name, description] of [
    ['pause', 'hold checks and weight changes (timers keep running; abort still works)'],
    ['resume', 'carry on after a pause'],
    ['promote', 'skip the remaining steps and promote now (recorded in the history)'],
  ] as const) {
    canary
      .command(`${name} <model>`)
      .description(description)
      .option('--json', 'machine-readable output')
      .action(async (model: string, opts: { json?: boolean }) => {
        const signal = name === 'pause' ? pauseSignal : name === 'resume' ? resumeSignal : promoteSignal;
        await signalCanary(model, (c) => c.workflow.getHandle(canaryWorkflowId(model)).signal(signal, { by: cliActor() }), name, opts.json);
      });
  }

  canary
    .command('abort <model>')
    .description('roll the canary back now, in any phase (after its promotion too: the previous champion returns)')
    .option('--reason <text>', 'recorded in the history and the audit log', 'aborted from the CLI')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { reason: string; json?: boolean }) => {
      await signalCanary(model, (c) => c.workflow.getHandle(canaryWorkflowId(model)).signal(abortSignal, { by: cliActor(), reason: opts.reason }), 'abort', opts.json);
    });

  program
    .command('rollback <model>')
    .description('make the previous champion champion again, at once (audited); the current one is marked rejected')
    .option('--to <version>', 'the version to restore (default: the champion before the current one)')
    .option('--reason <text>', 'recorded in the audit log')
    .option('--json', 'machine-readable output')
    .action(async (model: string, opts: { to?: string; reason?: string; json?: boolean }) => {
      const toVersion = opts.to === undefined ? undefined : parseVersion(opts.to);
      const t0 = performance.now();
      const res = await withRegistry((r) => rollbackChampion(r.db, { model, toVersion, actor: cliActor(), reason: opts.reason }));
      emit(opts.json, { model, from: res.from, to: res.to, generation: res.deployment.generation }, () =>
        `rolled back ${model}: champion v${res.from} → v${res.to} (generation ${res.deployment.generation}, v${res.from} rejected) in ${formatDuration(performance.now() - t0)}`,
      );
    });
}
