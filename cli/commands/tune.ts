/**
 * `autopilot tune`: Bayesian optimisation of the RAG/LLM config on the simulator or a live
 * `/tuner/evaluate` (the parameterTuning workflow, task queue `training`), with a progress line, the
 * best config, the gain over the policy config's baseline, and the run's plots (convergence, partial
 * dependence) written next to its trial history in the artifact store. `--apply-to DEPLOYMENT`
 * writes the best config as the deployment's static (fallback) config, or `--as bandit-arm` as an arm.
 *
 *   autopilot tune --evaluations 40 --parallel 4 --seed 1 --apply-to rag-router --as bandit-arm
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { PARAMETER_TUNING_WORKFLOW_TYPE, type ParameterTuningInput, type ParameterTuningResult, type TuningProgress } from '../../contracts/parameter-tuning';
import { TASK_QUEUES } from '../../contracts/shared';
import { CliError } from '../errors';
import { intOption, startAndFollow } from '../follow-run';
import { LinePrinter, type ProgressOut } from '../progress-bar';

export interface TuneOptions {
  space?: string;
  objective?: string;
  dataset?: string;
  evaluations?: string;
  costUsd?: string;
  parallel?: string;
  seed?: string;
  batches?: string;
  acquisition?: string;
  applyTo?: string;
  as?: string;
  arm?: string;
  workflowId?: string;
  wait: boolean;
  json?: boolean;
}

/** Reads a JSON file, naming the flag in every error. */
export function readJsonFlag(flag: string, file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`${flag} ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new CliError(`${flag} ${file}: not valid JSON: ${(err as Error).message}`);
  }
}

export function buildTuneInput(opts: TuneOptions): ParameterTuningInput {
  const input: ParameterTuningInput = {};
  if (opts.space !== undefined) {
    const space = readJsonFlag('--space', opts.space);
    if (!Array.isArray(space)) throw new CliError(`--space ${opts.space}: expected a JSON list of parameters ({ name, type, low, high } or { name, type: "categorical", choices })`);
    input.space = space;
  }
  if (opts.objective !== undefined) {
    if (opts.objective !== 'simulator' && !/^(http:)?https?:\/\//.test(opts.objective)) throw new CliError(`--objective must be simulator or http:URL, got ${JSON.stringify(opts.objective)}`);
    input.objective = opts.objective;
  }
  if (opts.dataset !== undefined) input.dataset = opts.dataset;
  const evaluations = intOption('--evaluations', opts.evaluations, 1);
  let costUsd: number | undefined;
  if (opts.costUsd !== undefined) {
    costUsd = Number(opts.costUsd);
    if (!/^\s*[\d.eE+-]+\s*$/.test(opts.costUsd) || !(costUsd > 0)) throw new CliError(`--cost-usd ${JSON.stringify(opts.costUsd)}: expected a budget in USD > 0`);
  }
  if (evaluations !== undefined || costUsd !== undefined) input.budget = { ...(evaluations !== undefined ? { evaluations } : {}), ...(costUsd !== undefined ? { costUsd } : {}) };
  const parallelism = intOption('--parallel', opts.parallel, 1);
  if (parallelism !== undefined) input.parallelism = parallelism;
  const seed = intOption('--seed', opts.seed, 0);
  if (seed !== undefined) input.seed = seed;
  const batches = intOption('--batches', opts.batches, 1);
  if (batches !== undefined) input.batchesPerEvaluation = batches;
  if (opts.acquisition !== undefined) {
    if (opts.acquisition !== 'ei' && opts.acquisition !== 'ucb') throw new CliError(`--acquisition must be ei or ucb, got ${JSON.stringify(opts.acquisition)}`);
    input.acquisition = opts.acquisition;
  }
  if (opts.as !== undefined && opts.as !== 'fallback' && opts.as !== 'bandit-arm') throw new CliError(`--as must be fallback or bandit-arm, got ${JSON.stringify(opts.as)}`);
  if ((opts.as !== undefined || opts.arm !== undefined) && opts.applyTo === undefined) throw new CliError('--as and --arm need --apply-to DEPLOYMENT');
  if (opts.applyTo !== undefined) input.applyTo = { deployment: opts.applyTo, ...(opts.as ? { as: opts.as as 'fallback' | 'bandit-arm' } : {}), ...(opts.arm ? { arm: opts.arm } : {}) };
  return input;
}

const num = (v: number | null, digits = 4) => (v === null ? '–' : v.toFixed(digits));

export function tuneProgressLine(p: TuningProgress, barWidth = 20): string {
  const total = p.budget?.evaluations ?? 0;
  const filled = total > 0 ? Math.min(barWidth, Math.round((p.evaluations / total) * barWidth)) : 0;
  return [
    `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`,
    `${p.evaluations}/${total || '?'} evaluations`,
    `best ${num(p.best)} (baseline ${num(p.baseline)})`,
    `running ${p.running}`,
    `$${p.costUsd.toFixed(4)}`,
    p.phase,
  ].join('  ');
}

export function describeTuning(r: ParameterTuningResult, url: string): string {
  return [
    `best config after ${r.evaluations} evaluations ($${r.costUsd.toFixed(4)}): ${JSON.stringify(r.best.config)}`,
    `  reward        ${r.best.value.toFixed(4)}${r.baseline ? ` vs baseline ${r.baseline.value.toFixed(4)} (${r.improvement! >= 0 ? '+' : ''}${r.improvement!.toFixed(4)})` : ''}`,
    ...(r.applied ? [`  applied       ${r.applied.as === 'fallback' ? 'as the static config of' : `as arm "${r.applied.arm}" of`} ${r.applied.deployment} (generation ${r.applied.generation})`] : []),
    `  run           ${r.runId}`,
    `  convergence   ${r.convergenceSvg}`,
    `  dependence    ${r.partialDependenceSvg}`,
    `  trials        ${r.trialsUri}`,
    `  Temporal UI   ${url}`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('tune')
    .description('tune the RAG/LLM config by Bayesian optimisation (parameterTuning workflow); print the best config and its plots')
    .option('--space <file>', 'JSON list of ml/bo parameters over RAG config fields (default: all fields over the policy bounds)')
    .option('--objective <spec>', 'simulator (default) or http:URL serving POST /tuner/evaluate')
    .option('--dataset <id>', 'dataset whose category mix the batches follow')
    .option('-n, --evaluations <n>', 'evaluation budget (default 30)')
    .option('--cost-usd <x>', 'cost budget in USD')
    .option('-q, --parallel <q>', 'evaluations in parallel (default 4)')
    .option('--seed <s>', 'seed (default 0)')
    .option('--batches <b>', 'batches per evaluation (default 6)')
    .option('--acquisition <a>', 'ei (default) or ucb')
    .option('--apply-to <deployment>', 'write the best config to this deployment')
    .option('--as <target>', 'fallback (default: the static config) or bandit-arm')
    .option('--arm <name>', 'arm name with --as bandit-arm')
    .option('--workflow-id <id>', 'workflow id (default tuning/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: TuneOptions) => {
      const input = buildTuneInput(opts);
      const workflowId = opts.workflowId ?? `tuning/${randomUUID().slice(0, 8)}`;
      await startAndFollow<ParameterTuningInput, TuningProgress, ParameterTuningResult>({
        settings: loadSettings(),
        workflowType: PARAMETER_TUNING_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.training,
        workflowId,
        input,
        model: input.applyTo?.deployment ?? 'tuning',
        runKind: 'tuning',
        json: opts.json,
        wait: opts.wait,
        printer: (out: ProgressOut) => new LinePrinter<TuningProgress>(out, (p) => tuneProgressLine(p), (p) => `${p.evaluations}|${p.phase}`),
        describe: describeTuning,
      });
    });
}
