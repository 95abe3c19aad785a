/**
 * `autopilot train ppo --config configs/rl/policy.defaults.yaml [--env simulator|replay:FILE|http:URL]
 *   [--model NAME] [--iterations N] [--seed S] [--workers N] [--continue-as-new-every K]
 *   [--workflow-id ID] [--json] [--no-wait]`
 *
 * Reads and validates the policy config here (errors name the file, line and field), starts the
 * `ppoTraining` workflow on the `training` queue with the config inline, then follows it with a live
 * progress line from its `progress` query until the version is registered, and prints the model,
 * the version, the held-out comparison, the report and the Temporal UI link. `--no-wait` returns once
 * started; `--json` prints one JSON object (progress then goes to stderr when it is a terminal).
 * Ctrl-C stops following, not the run.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../../config/load';
import { loadSettings, projectRoot } from '../../../config/settings';
import { parseEnvSpec } from '../../../activities/ppo/env-spec';
import { DEFAULT_CONFIG_PATH, parsePpoTrainingInput, resolveEffectiveConfig } from '../../../activities/ppo/input';
import { policyConfigSchema } from '../../../envs/config';
import { PPO_TRAINING_WORKFLOW_TYPE, type PpoProgress, type PpoTrainingInput, type PpoTrainingResult } from '../../../contracts/ppo-training';
import { TASK_QUEUES } from '../../../contracts/shared';
import { CliError } from '../../errors';
import { intOption, startAndFollow } from '../../follow-run';
import { ProgressPrinter } from '../../progress-bar';

export interface TrainPpoOptions {
  config?: string;
  env: string;
  model?: string;
  iterations?: string;
  seed?: string;
  workers?: string;
  continueAsNewEvery?: string;
  workflowId?: string;
  startCanary?: boolean;
  force?: boolean;
  minRewardDelta?: string;
  maxGateViolationRate?: string;
  json?: boolean;
  wait: boolean;
}

function numberOption(flag: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new CliError(`${flag} ${JSON.stringify(value)}: expected a number`);
  return n;
}

/** The workflow input the options describe, validated as the worker will validate it. */
export function buildTrainPpoInput(opts: TrainPpoOptions, cwd = process.cwd()): PpoTrainingInput {
  const file = opts.config === undefined ? resolve(projectRoot, DEFAULT_CONFIG_PATH) : resolve(cwd, opts.config);
  if (!existsSync(file)) throw new CliError(`--config ${opts.config ?? file}: no such file`);
  let config;
  try {
    config = loadConfig(policyConfigSchema, file);
  } catch (err) {
    if (err instanceof ConfigError) throw new CliError(err.message);
    throw err;
  }
  try {
    parseEnvSpec(opts.env, '--env');
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const input: PpoTrainingInput = {
    config,
    configPath: relative(cwd, file) || file,
    env: opts.env,
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(opts.iterations !== undefined ? { iterations: intOption('--iterations', opts.iterations, 1) } : {}),
    ...(opts.seed !== undefined ? { seed: intOption('--seed', opts.seed, 0) } : {}),
    ...(opts.workers !== undefined ? { workers: intOption('--workers', opts.workers, 1) } : {}),
    ...(opts.continueAsNewEvery !== undefined ? { continueAsNewEvery: intOption('--continue-as-new-every', opts.continueAsNewEvery, 1) } : {}),
    ...(opts.startCanary ? { startCanary: true } : {}),
    ...(opts.force ? { force: true } : {}),
    ...(opts.minRewardDelta !== undefined || opts.maxGateViolationRate !== undefined
      ? {
        gates: {
          ...(opts.minRewardDelta !== undefined ? { minRewardDelta: numberOption('--min-reward-delta', opts.minRewardDelta) } : {}),
          ...(opts.maxGateViolationRate !== undefined ? { maxGateViolationRate: numberOption('--max-gate-violation-rate', opts.maxGateViolationRate) } : {}),
        },
      }
      : {}),
  };
  if (opts.force && !opts.startCanary) throw new CliError('--force starts a canary although the offline gates failed: it needs --start-canary');
  try {
    resolveEffectiveConfig(parsePpoTrainingInput(input));
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return input;
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

export function describeResult(r: PpoTrainingResult, url: string): string {
  const e = r.evaluation;
  return [
    `registered ${r.model} version ${r.version}`,
    `  artifact      ${r.artifactUri}`,
    `  run           ${r.runId} — ${r.iterations} iteration${r.iterations === 1 ? '' : 's'}${r.stopped ? ' (stopped early)' : ''}, exported the ${r.exported} checkpoint`,
    `  held-out      reward ${e.policyReward.toFixed(4)} vs default static ${e.baselineReward.toFixed(4)} (${pct(e.improvementVsBaseline)}) and best static ${e.bestStaticReward.toFixed(4)} (${pct(e.improvementVsBestStatic)}); gate violations ${e.gateViolations}`,
    ...(r.offlineGates
      ? [`  offline gates ${r.offlineGates.passed ? 'passed' : `FAILED${r.forced ? ' (forced: canary started anyway, audited)' : ' — version rejected'}: ${r.offlineGates.reasons.join('; ')}`}`]
      : []),
    ...(r.canary ? [`  canary        ${r.canary.started ? `started (${r.canary.workflowId})` : `not started: ${r.canary.error ?? ''}`}`] : []),
    `  report        ${r.report.svg}`,
    `                ${r.report.summaryCsv}`,
    `  Temporal UI   ${url}`,
  ].join('\n');
}

export function register(train: Command): void {
  train
    .command('ppo')
    .description('train a PPO RAG-tuning policy (ppoTraining workflow), register it as a model version')
    .option('-c, --config <file>', `policy config YAML (default ${DEFAULT_CONFIG_PATH})`)
    .option('--env <spec>', 'environment: simulator, replay:FILE (as the worker sees it) or http:URL', 'simulator')
    .option('-m, --model <name>', 'registry model name (default rag-tuner)')
    .option('-n, --iterations <n>', 'PPO iterations (default: ppo.total_timesteps / (workers × num_steps))')
    .option('--seed <s>', 'run seed (overrides ppo.seed)')
    .option('-w, --workers <n>', 'rollout activities per iteration, in parallel (overrides ppo.num_envs)')
    .option('--continue-as-new-every <k>', 'iterations per workflow run before continueAsNew (default 50)')
    .option('--workflow-id <id>', 'workflow id (default ppo/<model>/<random>)')
    .option('--start-canary', 'start canaryPromotion with the registered version — only if the offline gates pass')
    .option('--force', 'with --start-canary: start it even when the offline gates fail (audited as canary.forced)')
    .option('--min-reward-delta <x>', 'offline gate: the lower 95% bound of (policy − baseline) held-out reward per step must exceed this (default 0)')
    .option('--max-gate-violation-rate <x>', 'offline gate: most held-out steps with a failed quality gate, as a share (default 0)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: TrainPpoOptions) => {
      const input = buildTrainPpoInput(opts);
      const settings = loadSettings();
      const model = input.model ?? 'rag-tuner';
      const workflowId = opts.workflowId ?? `ppo/${model}/${randomUUID().slice(0, 8)}`;
      await startAndFollow<PpoTrainingInput, PpoProgress, PpoTrainingResult>({
        settings,
        workflowType: PPO_TRAINING_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.training,
        workflowId,
        input,
        model,
        runKind: 'ppo',
        json: opts.json,
        wait: opts.wait,
        printer: (out) => new ProgressPrinter(out),
        describe: describeResult,
      });
    });
}
