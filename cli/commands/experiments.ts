/**
 * `autopilot experiments`: which PPO hyperparameters (or reward weights) to try, by Bayesian
 * optimisation over short ppoTraining child runs with median early stopping (the experimentDesign
 * workflow, task queue `training`); prints the trials, the best, and the plots (convergence,
 * learning curves) written next to the run's trial history.
 *
 *   autopilot experiments --config configs/rl/policy.defaults.yaml --trials 12 --parallel 3 --iterations 10
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { ConfigError, loadConfig } from '../../config/load';
import { loadSettings } from '../../config/settings';
import { policyConfigSchema } from '../../envs/config';
import { EXPERIMENT_DESIGN_WORKFLOW_TYPE, type ExperimentDesignInput, type ExperimentDesignResult, type ExperimentProgress } from '../../contracts/experiment-design';
import { TASK_QUEUES } from '../../contracts/shared';
import { CliError } from '../errors';
import { intOption, startAndFollow } from '../follow-run';
import { LinePrinter, type ProgressOut } from '../progress-bar';
import { readJsonFlag } from './tune';

export interface ExperimentsOptions {
  config?: string;
  space?: string;
  env?: string;
  trials?: string;
  parallel?: string;
  iterations?: string;
  workers?: string;
  seed?: string;
  objective?: string;
  stopping?: string;
  model?: string;
  workflowId?: string;
  wait: boolean;
  json?: boolean;
}

const OBJECTIVES = ['policyReward', 'improvementVsBaseline', 'improvementVsBestStatic'];

export function buildExperimentsInput(opts: ExperimentsOptions): ExperimentDesignInput {
  const input: ExperimentDesignInput = {};
  if (opts.config !== undefined) {
    try {
      input.config = loadConfig(policyConfigSchema, opts.config) as unknown as Record<string, unknown>;
    } catch (err) {
      if (err instanceof ConfigError) throw new CliError(err.message);
      throw err;
    }
  }
  if (opts.space !== undefined) {
    const space = readJsonFlag('--space', opts.space);
    if (!Array.isArray(space)) throw new CliError(`--space ${opts.space}: expected a JSON list of parameters named ppo.<hyperparameter> or policy.reward_weights.<weight>`);
    input.space = space;
  }
  if (opts.env !== undefined) input.env = opts.env;
  const ints: [keyof ExperimentDesignInput, string, string | undefined, number][] = [
    ['trials', '--trials', opts.trials, 1], ['parallelism', '--parallel', opts.parallel, 1], ['iterations', '--iterations', opts.iterations, 1],
    ['workers', '--workers', opts.workers, 1], ['seed', '--seed', opts.seed, 0],
  ];
  for (const [key, flag, raw, min] of ints) {
    const v = intOption(flag, raw, min);
    if (v !== undefined) (input as Record<string, unknown>)[key] = v;
  }
  if (opts.objective !== undefined) {
    if (!OBJECTIVES.includes(opts.objective)) throw new CliError(`--objective must be one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(opts.objective)}`);
    input.objective = opts.objective as ExperimentDesignInput['objective'];
  }
  if (opts.stopping !== undefined) {
    if (opts.stopping !== 'median' && opts.stopping !== 'none') throw new CliError(`--stopping must be median or none, got ${JSON.stringify(opts.stopping)}`);
    input.stopping = { rule: opts.stopping };
  }
  if (opts.model !== undefined) input.model = opts.model;
  return input;
}

export function describeExperiments(r: ExperimentDesignResult, url: string): string {
  return [
    `best trial ${r.best.index}: ${JSON.stringify(r.best.config)} → ${r.best.value?.toFixed(4)} (${r.best.model} version ${r.best.version})`,
    ...r.trials.map((t) => `  trial ${String(t.index).padStart(2)}  ${t.status.padEnd(9)} ${String(t.iterations).padStart(4)} it  ${t.value === null ? `failed: ${t.error}` : t.value.toFixed(4)}  ${JSON.stringify(t.config)}`),
    `  run           ${r.runId}`,
    `  convergence   ${r.convergenceSvg}`,
    `  curves        ${r.learningCurvesSvg}`,
    `  trials        ${r.trialsUri}`,
    `  Temporal UI   ${url}`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('experiments')
    .description('design PPO experiments by Bayesian optimisation over short ppoTraining runs with median early stopping (experimentDesign workflow)')
    .option('-c, --config <file>', 'policy config YAML every trial starts from (default: the defaults file)')
    .option('--space <file>', 'JSON list of parameters named ppo.<hyperparameter> or policy.reward_weights.<weight>')
    .option('--env <spec>', 'simulator (default), replay:FILE or http:URL')
    .option('--trials <n>', 'trials in all (default 12)')
    .option('-q, --parallel <q>', 'trials at once (default 3)')
    .option('-n, --iterations <n>', 'PPO iterations per trial (default 10)')
    .option('-w, --workers <n>', 'rollout activities per iteration of a trial (default 2)')
    .option('--seed <s>', 'seed (default 0)')
    .option('--objective <o>', `${OBJECTIVES.join(' | ')} (default policyReward)`)
    .option('--stopping <rule>', 'median (default) or none')
    .option('-m, --model <prefix>', 'registry model prefix of the trials (default experiment)')
    .option('--workflow-id <id>', 'workflow id (default experiments/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: ExperimentsOptions) => {
      const input = buildExperimentsInput(opts);
      await startAndFollow<ExperimentDesignInput, ExperimentProgress, ExperimentDesignResult>({
        settings: loadSettings(),
        workflowType: EXPERIMENT_DESIGN_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.training,
        workflowId: opts.workflowId ?? `experiments/${randomUUID().slice(0, 8)}`,
        input,
        model: input.model ?? 'experiment',
        runKind: 'experiment-design',
        json: opts.json,
        wait: opts.wait,
        printer: (out: ProgressOut) => new LinePrinter<ExperimentProgress>(out,
          (p) => `${p.trials} trials done, ${p.running} running, ${p.stopped} stopped early  best ${p.best === null ? '–' : p.best.toFixed(4)}  ${p.phase}`,
          (p) => `${p.trials}|${p.running}|${p.stopped}|${p.phase}`),
        describe: describeExperiments,
      });
    });
}
