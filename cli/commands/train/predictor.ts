/**
 * `autopilot train predictor [--model NAME] [--seed S] [--train-rows N] [--heldout-rows N] [--trees N]
 *   [--leaves N] [--learning-rate R] [--shift X] [--parity-tolerance T] [--champion] [--workflow-id ID]
 *   [--json] [--no-wait]`
 *
 * Trains the UC10 quality predictor: starts `qualityPredictorTraining` (task queue `training`), which
 * trains LightGBM on simulated LLM responses in the project-local venv (`make setup-lightgbm`), exports
 * it to ONNX, checks ONNX vs LightGBM on the held-out rows (max |diff| ≤ the tolerance, else the run fails
 * naming the max diff) and registers the version (served by the `predictor` kind; `--champion` also
 * deploys it).
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { loadSettings } from '../../../config/settings';
import {
  QUALITY_PREDICTOR_DEFAULTS,
  QUALITY_PREDICTOR_TRAINING_WORKFLOW_TYPE,
  type QualityPredictorTrainingInput,
  type QualityPredictorTrainingResult,
} from '../../../contracts/quality-predictor-training';
import { TASK_QUEUES } from '../../../contracts/shared';
import { CliError } from '../../errors';
import { intOption, startAndFollow } from '../../follow-run';

export interface TrainPredictorOptions {
  model?: string;
  seed?: string;
  trainRows?: string;
  heldoutRows?: string;
  trees?: string;
  leaves?: string;
  learningRate?: string;
  shift?: string;
  parityTolerance?: string;
  champion?: boolean;
  workflowId?: string;
  json?: boolean;
  wait: boolean;
}

function numberOption(flag: string, value: string | undefined, ok: (x: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (value.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new CliError(`${flag} ${JSON.stringify(value)}: expected ${expected}`);
  return x;
}

/** The workflow input the options describe (the worker checks it again). */
export function buildTrainPredictorInput(opts: TrainPredictorOptions): QualityPredictorTrainingInput {
  if (opts.model !== undefined && !/^[a-z0-9][a-z0-9._-]{0,127}$/.test(opts.model)) throw new CliError(`--model ${JSON.stringify(opts.model)}: expected a registry model name (lower-case letters, digits, . _ -)`);
  const entries: [keyof QualityPredictorTrainingInput, unknown][] = [
    ['model', opts.model],
    ['seed', intOption('--seed', opts.seed, 0)],
    ['trainRows', intOption('--train-rows', opts.trainRows, 100)],
    ['heldoutRows', intOption('--heldout-rows', opts.heldoutRows, 10)],
    ['trees', intOption('--trees', opts.trees, 1)],
    ['leaves', intOption('--leaves', opts.leaves, 2)],
    ['learningRate', numberOption('--learning-rate', opts.learningRate, (x) => x > 0 && x <= 1, 'a number in (0, 1]')],
    ['shift', numberOption('--shift', opts.shift, () => true, 'a number')],
    ['parityTolerance', numberOption('--parity-tolerance', opts.parityTolerance, (x) => x > 0 && x < 1, 'a number in (0, 1)')],
    ['champion', opts.champion ? true : undefined],
  ];
  return Object.fromEntries(entries.filter(([, v]) => v !== undefined)) as QualityPredictorTrainingInput;
}

export function describePredictorResult(r: QualityPredictorTrainingResult, url: string): string {
  const m = r.metrics;
  return [
    `registered ${r.model} version ${r.version} (onnx, predictor)${r.champion ? ' — now the champion' : ''}`,
    `  parity        max |ONNX − LightGBM| ${r.parity.maxAbsDiff.toExponential(2)} (onnxruntime-node), ${r.parity.maxAbsDiffPython.toExponential(2)} (Python) on ${r.parity.rows} held-out rows, tolerance ${r.parity.tolerance}`,
    `  held-out      AUC ${m.heldout_auc?.toFixed(3)}  log loss ${m.heldout_log_loss?.toFixed(4)} (base rate ${m.heldout_log_loss_base_rate?.toFixed(4)})  Brier ${m.heldout_brier?.toFixed(4)}`,
    `  artifact      ${r.artifactUri}`,
    `  Temporal UI   ${url}`,
  ].join('\n');
}

export function register(train: Command): void {
  train
    .command('predictor')
    .description('train the quality predictor (LightGBM → ONNX, parity-checked; qualityPredictorTraining workflow) and register it for the predictor kind')
    .option('-m, --model <name>', `registry model name (default ${QUALITY_PREDICTOR_DEFAULTS.model})`)
    .option('--seed <s>', `simulator and LightGBM seed (default ${QUALITY_PREDICTOR_DEFAULTS.seed})`)
    .option('--train-rows <n>', `simulated training rows (default ${QUALITY_PREDICTOR_DEFAULTS.trainRows})`)
    .option('--heldout-rows <n>', `held-out rows for parity and metrics (default ${QUALITY_PREDICTOR_DEFAULTS.heldoutRows})`)
    .option('--trees <n>', `boosting rounds (default ${QUALITY_PREDICTOR_DEFAULTS.trees})`)
    .option('--leaves <n>', `leaves per tree (default ${QUALITY_PREDICTOR_DEFAULTS.leaves})`)
    .option('--learning-rate <r>', `learning rate (default ${QUALITY_PREDICTOR_DEFAULTS.learningRate})`)
    .option('--shift <x>', 'added to the simulator\'s ground-truth logit (default 0)')
    .option('--parity-tolerance <t>', `largest accepted |ONNX − LightGBM| (default ${QUALITY_PREDICTOR_DEFAULTS.parityTolerance})`)
    .option('--champion', 'make the version the predictor deployment\'s champion')
    .option('--workflow-id <id>', 'workflow id (default quality-predictor/<model>/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: TrainPredictorOptions) => {
      const input = buildTrainPredictorInput(opts);
      const model = input.model ?? QUALITY_PREDICTOR_DEFAULTS.model;
      await startAndFollow<QualityPredictorTrainingInput, unknown, QualityPredictorTrainingResult>({
        settings: loadSettings(),
        workflowType: QUALITY_PREDICTOR_TRAINING_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.training,
        workflowId: opts.workflowId ?? `quality-predictor/${model}/${randomUUID().slice(0, 8)}`,
        input,
        model,
        runKind: 'quality-predictor',
        json: opts.json,
        wait: opts.wait,
        printer: () => ({ update: () => undefined, done: () => undefined }),
        describe: describePredictorResult,
      });
    });
}
