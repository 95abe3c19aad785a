/**
 * `autopilot loop start|status|stop|trigger|approve|reject <deployment>` drive the optimizationLoop
 * workflow (`loop/<deployment>`, task queue `rollout`): export → retrain → offline evaluation + OPE →
 * (approval) → canary → promote or reject, one cycle per schedule tick, drift signal or trigger.
 */
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { parseDuration } from '../../canary/plan';
import { loadSettings } from '../../config/settings';
import { ESTIMATOR_NAMES, type EstimatorName } from '../../ml/ope/estimators';
import {
  approveSignal,
  loopStatusQuery,
  loopWorkflowId,
  OPTIMIZATION_LOOP_WORKFLOW_TYPE,
  rejectSignal,
  stopSignal,
  triggerSignal,
  type LoopCycleSummary,
  type LoopStatus,
  type OptimizationLoopInput,
} from '../../contracts/optimization-loop';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../../contracts/shared';
import { CliError } from '../errors';
import { emit } from '../output';
import { connectClient, workflowUiUrl } from '../temporal';
import { readPlanFile } from './canary';
import { cliActor } from './models';

export interface LoopStartOptions {
  interval: string;
  window: string;
  retrain: string;
  iterations?: string;
  ridge?: string;
  plan?: string;
  requireApproval?: boolean;
  approvalTimeout?: string;
  estimator?: string;
  tolerance: string;
  minRewarded: string;
  holdout?: string;
}

function seconds(text: string, flag: string): number {
  if (text === '0') return 0;
  try {
    return Math.round(parseDuration(text) / 1000);
  } catch {
    throw new CliError(`${flag} ${JSON.stringify(text)}: expected a duration such as 30m, 24h or 2d (0: only on signals)`);
  }
}

function num(text: string, flag: string, check: (v: number) => boolean, expected: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !check(v)) throw new CliError(`${flag} ${JSON.stringify(text)}: expected ${expected}`);
  return v;
}

function approvalTimeoutOf(o: LoopStartOptions): string {
  if (!o.requireApproval) throw new CliError('--approval-timeout is a setting of --require-approval');
  if (seconds(o.approvalTimeout!, '--approval-timeout') === 0) throw new CliError('--approval-timeout "0": expected a duration such as 4h or 2d');
  return o.approvalTimeout!;
}

/** The workflow input from `loop start`'s options (checked here, with the flag's name in each error). */
export function loopInputFromOptions(deployment: string, o: LoopStartOptions, actor: string): OptimizationLoopInput {
  seconds(o.window, '--window');
  if (o.retrain !== 'ppo' && o.retrain !== 'refit') throw new CliError(`--retrain ${JSON.stringify(o.retrain)}: expected ppo or refit`);
  if (o.estimator !== undefined && !(ESTIMATOR_NAMES as readonly string[]).includes(o.estimator)) throw new CliError(`--estimator ${JSON.stringify(o.estimator)}: expected one of ${ESTIMATOR_NAMES.join(', ')}`);
  const iterations = o.iterations === undefined ? undefined : num(o.iterations, '--iterations', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1');
  const ridge = o.ridge === undefined ? undefined : num(o.ridge, '--ridge', (v) => v > 0, 'a number > 0');
  if (o.retrain === 'ppo' && ridge !== undefined) throw new CliError('--ridge is a setting of --retrain refit');
  if (o.retrain === 'refit' && iterations !== undefined) throw new CliError('--iterations is a setting of --retrain ppo');
  return {
    deployment,
    intervalSeconds: seconds(o.interval, '--interval'),
    window: o.window,
    minRewarded: num(o.minRewarded, '--min-rewarded', (v) => Number.isInteger(v) && v >= 1, 'an integer >= 1'),
    retrain: o.retrain === 'refit' ? { kind: 'refit', ...(ridge !== undefined ? { ridge } : {}) } : { kind: 'ppo', ...(iterations !== undefined ? { input: { iterations } } : {}) },
    holdout: num(o.holdout ?? '0.5', '--holdout', (v) => v >= 0 && v < 1, 'a number in [0, 1)'),
    ope: { ...(o.estimator ? { estimator: o.estimator as EstimatorName } : {}), tolerance: num(o.tolerance, '--tolerance', (v) => v >= 0, 'a number >= 0') },
    ...(o.plan ? { canaryPlan: readPlanFile(o.plan) } : {}),
    requireApproval: o.requireApproval === true,
    ...(o.approvalTimeout !== undefined ? { approvalTimeout: approvalTimeoutOf(o) } : {}),
    actor,
  };
}

function renderCycle(c: LoopCycleSummary): string[] {
  const head = `  cycle ${c.cycle} (${c.trigger.kind} by ${c.trigger.by}): ${c.outcome ?? 'running'}${c.stage && c.outcome ? ` at ${c.stage}` : ''}` +
    `, champion v${c.championVersion ?? '?'}${c.candidateVersion !== null ? `, candidate v${c.candidateVersion}` : ''}, window ${c.window.from} → ${c.window.to}` +
    `${c.holdoutFrom && c.holdoutFrom !== c.window.to ? ` (OPE on ${c.holdoutFrom} →)` : ''}`;
  const stages = c.stages.map((s) => `    ${s.stage.padEnd(18)} ${s.status.padEnd(8)} ${s.detail}${s.workflowId ? ` [${s.workflowId}]` : ''}`);
  return [head, ...stages, ...c.reasons.map((r) => `    → ${r}`)];
}

/** The status as the terminal shows it. */
export function renderLoopStatus(s: LoopStatus): string {
  const lines = [
    `loop ${s.deployment}: ${s.state}, ${s.cycles} cycle${s.cycles === 1 ? '' : 's'}` +
      `${s.nextDueAt ? `, next scheduled ${s.nextDueAt}` : ''}${s.pending.length ? `, waiting: ${s.pending.map((p) => `${p.kind} by ${p.by}`).join(', ')}` : ''}`,
  ];
  if (s.current) lines.push('current:', ...renderCycle(s.current));
  if (s.recent.length) lines.push('recent:', ...s.recent.slice(0, 5).flatMap(renderCycle));
  if (s.state === 'awaiting-approval') lines.push(`approve: autopilot loop approve ${s.deployment}   reject: autopilot loop reject ${s.deployment}`);
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

function notRunning(deployment: string, err: unknown): never {
  if (err instanceof WorkflowNotFoundError) throw new CliError(`no optimizationLoop of ${deployment} (workflow ${loopWorkflowId(deployment)}); start one with \`autopilot loop start ${deployment}\``, 3);
  throw err;
}

export function register(program: Command): void {
  const loop = program.command('loop').description('the optimization loop of a deployment: export → retrain → OPE → canary → promote or reject, on a schedule, on drift or on demand');

  loop
    .command('start <deployment>')
    .description('start optimizationLoop (workflow loop/<deployment>)')
    .option('--interval <duration>', 'a cycle every this long (0: only on drift and trigger)', '24h')
    .option('--window <duration>', "lookback of a cycle's dataset and off-policy evaluation", '24h')
    .option('--retrain <kind>', 'ppo (ppoTraining on the snapshot as replay) or refit (ridge reward model per action, softmax policy)', 'ppo')
    .option('--iterations <n>', 'PPO iterations per cycle (--retrain ppo)')
    .option('--ridge <alpha>', 'ridge penalty of the refit (--retrain refit, default 1)')
    .option('--plan <file>', 'canary plan YAML for the canary stage')
    .option('--require-approval', 'wait for `autopilot loop approve` before each canary')
    .option('--approval-timeout <duration>', 'with --require-approval: refuse the candidate when nobody decides within this long (default: wait)')
    .option('--estimator <name>', `OPE gate estimator (${ESTIMATOR_NAMES.join(', ')}; default dr when it runs, else snipw)`)
    .option('--tolerance <reward>', 'OPE gate: the candidate may be this much below the champion', '0.02')
    .option('--min-rewarded <n>', 'rewarded decisions a cycle needs to train on', '200')
    .option('--holdout <share>', 'latest share of the window kept out of training for the OPE gate (0: evaluate on the training data)', '0.5')
    .option('--json', 'machine-readable output')
    .action(async (deployment: string, opts: LoopStartOptions & { json?: boolean }) => {
      const input = loopInputFromOptions(deployment, opts, cliActor());
      const settings = loadSettings();
      await withClient(async (client) => {
        const workflowId = loopWorkflowId(deployment);
        try {
          const handle = await client.workflow.start(OPTIMIZATION_LOOP_WORKFLOW_TYPE, {
            taskQueue: TASK_QUEUES.rollout, workflowId, args: [input], workflowIdConflictPolicy: 'FAIL',
            typedSearchAttributes: [
              { key: SEARCH_ATTRIBUTES.model, value: deployment },
              { key: SEARCH_ATTRIBUTES.runKind, value: 'loop' },
            ],
          });
          const url = workflowUiUrl(settings, handle.workflowId, handle.firstExecutionRunId);
          emit(opts.json, { workflowId, runId: handle.firstExecutionRunId, url, input }, () => `started ${workflowId}\n  ${url}\n  status: autopilot loop status ${deployment}`);
        } catch (err) {
          if (err instanceof WorkflowExecutionAlreadyStartedError) throw new CliError(`a loop of ${deployment} is already running (workflow ${workflowId}); see \`autopilot loop status ${deployment}\` or stop it with \`autopilot loop stop ${deployment}\``, 4);
          throw err;
        }
      });
    });

  loop
    .command('status <deployment>')
    .description('state, the cycle in flight (its stages) and the recent cycles of the loop')
    .option('--json', 'machine-readable output')
    .action(async (deployment: string, opts: { json?: boolean }) => {
      await withClient(async (client) => {
        const s = await client.workflow.getHandle(loopWorkflowId(deployment)).query(loopStatusQuery).catch((err: unknown) => notRunning(deployment, err));
        emit(opts.json, s, () => renderLoopStatus(s));
      });
    });

  const signals = [
    ['stop', 'end the loop after the cycle in flight (at once when idle)', stopSignal],
    ['trigger', 'start a cycle now (queued when one runs)', triggerSignal],
    ['approve', 'let the cycle waiting for approval go on to its canary', approveSignal],
    ['reject', 'refuse the candidate waiting for approval (it is marked rejected)', rejectSignal],
  ] as const;
  for (const [name, description, signal] of signals) {
    loop
      .command(`${name} <deployment>`)
      .description(description)
      .option('--reason <text>', 'recorded with the cycle')
      .option('--json', 'machine-readable output')
      .action(async (deployment: string, opts: { reason?: string; json?: boolean }) => {
        await withClient(async (client) => {
          const h = client.workflow.getHandle(loopWorkflowId(deployment));
          await h.signal(signal as typeof stopSignal, { by: cliActor(), ...(opts.reason ? { reason: opts.reason } : {}) }).catch((err: unknown) => notRunning(deployment, err));
          emit(opts.json, { deployment, workflowId: h.workflowId, signal: name }, () => `${name} sent to ${h.workflowId}`);
        });
      });
  }
}
