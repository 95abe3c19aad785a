/**
 * `autopilot train text-policy (--data FILE | --generate N) [--sft-config FILE] [--dpo-config FILE]
 *   [--sft-steps N] [--dpo-steps N] [--base-model DIR] [--model NAME] [--start-canary]
 *   [--workflow-id ID] [--json] [--no-wait]`
 *
 * Trains the text policy (the served kind `text-policy`): starts the `textPolicyTraining` workflow
 * (SFT → DPO with the Oumi CLI, task queue `oumi`) with its input
 * checked here as the worker will check it, then follows its `progress` query with a progress bar
 * (stage, trainer step/total, loss, evaluations) until both versions are registered. Paths are sent
 * absolute: the oumi worker reads them from its own disk. `--no-wait` returns once started; `--json`
 * prints one JSON object (progress then goes to stderr when it is a terminal). Ctrl-C stops following,
 * not the run. `train policy` is the command's former name, kept as an alias.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parsePolicyTrainingInput } from '../../../activities/oumi/input';
import { loadSettings } from '../../../config/settings';
import { TASK_QUEUES } from '../../../contracts/shared';
import {
  TEXT_POLICY_DEFAULTS,
  TEXT_POLICY_TRAINING_WORKFLOW_TYPE,
  type EvaluationBrief,
  type TextPolicyProgress,
  type TextPolicyTrainingInput,
  type TextPolicyTrainingResult,
} from '../../../contracts/text-policy-training';
import { CliError } from '../../errors';
import { intOption, startAndFollow } from '../../follow-run';
import { formatElapsed, LinePrinter } from '../../progress-bar';

export interface TrainTextPolicyOptions {
  data?: string;
  generate?: string;
  seed?: string;
  sftConfig?: string;
  dpoConfig?: string;
  sftSteps?: string;
  dpoSteps?: string;
  baseModel?: string;
  model?: string;
  startCanary?: boolean;
  /** LLM-as-judge: `true` (configs/oumi/policy_rl.yaml) or a config file; the endpoint and model override its llm_judge block. */
  judge?: string | boolean;
  judgeEndpoint?: string;
  judgeModel?: string;
  judgePoolSize?: string;
  workflowId?: string;
  json?: boolean;
  wait: boolean;
}

function existing(flag: string, value: string | undefined, cwd: string): string | undefined {
  if (value === undefined) return undefined;
  const file = resolve(cwd, value);
  if (!existsSync(file)) throw new CliError(`${flag} ${value}: no such file or folder`);
  return file;
}

/** The workflow input the options describe, validated as the worker validates it. */
export function buildTrainTextPolicyInput(opts: TrainTextPolicyOptions, cwd = process.cwd()): TextPolicyTrainingInput {
  if (opts.data !== undefined && opts.generate !== undefined) throw new CliError('--data and --generate: give one, not both');
  if (opts.data === undefined && opts.generate === undefined) throw new CliError('--data FILE or --generate N: the labelled decisions to train on');
  const data = opts.data !== undefined
    ? (existing('--data', opts.data, cwd) as string)
    : { generate: { n: intOption('--generate', opts.generate, 10) as number, ...(opts.seed !== undefined ? { seed: intOption('--seed', opts.seed, 0) } : {}) } };
  const sftConfig = existing('--sft-config', opts.sftConfig, cwd);
  const dpoConfig = existing('--dpo-config', opts.dpoConfig, cwd);
  const baseModel = existing('--base-model', opts.baseModel, cwd);
  const judgeConfig = typeof opts.judge === 'string' ? existing('--judge', opts.judge, cwd) : undefined;
  const judge = opts.judge !== undefined && opts.judge !== false || opts.judgeEndpoint !== undefined || opts.judgeModel !== undefined || opts.judgePoolSize !== undefined
    ? {
        ...(judgeConfig ? { config: judgeConfig } : {}),
        ...(opts.judgeEndpoint !== undefined ? { endpoint: opts.judgeEndpoint } : {}),
        ...(opts.judgeModel !== undefined ? { model: opts.judgeModel } : {}),
        ...(opts.judgePoolSize !== undefined ? { poolSize: intOption('--judge-pool-size', opts.judgePoolSize, 0) as number } : {}),
      }
    : undefined;
  const input: TextPolicyTrainingInput = {
    data,
    ...(opts.model !== undefined ? { model: opts.model } : {}),
    ...(sftConfig ? { sftConfig } : {}),
    ...(dpoConfig ? { dpoConfig } : {}),
    ...(opts.sftSteps !== undefined ? { sftSteps: intOption('--sft-steps', opts.sftSteps, 1) } : {}),
    ...(opts.dpoSteps !== undefined ? { dpoSteps: intOption('--dpo-steps', opts.dpoSteps, 1) } : {}),
    ...(baseModel ? { baseModel } : {}),
    ...(opts.startCanary ? { startCanary: true } : {}),
    ...(judge ? { judge } : {}),
  };
  try {
    parsePolicyTrainingInput(input);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  return input;
}

const num = (v: number | null | undefined, digits: number) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

function evaluation(name: string, e: EvaluationBrief | null): string {
  return e ? `${name} acc ${num(e.accuracy, 3)} fpr ${num(e.fpr, 3)} fnr ${num(e.fnr, 3)}` : '';
}

/** `[########------------]  12/30 steps  loss 1.234  sft  sft acc 0.612 …  0:42` */
export function textPolicyProgressLine(p: TextPolicyProgress, barWidth = 20): string {
  const t = p.trainer;
  const total = t?.totalSteps ?? 0;
  const step = t?.step ?? 0;
  const filled = total > 0 ? Math.min(barWidth, Math.round((step / total) * barWidth)) : p.stage === 'done' ? barWidth : 0;
  const parts = [
    `[${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]`,
    t ? `${String(step).padStart(String(total || '?').length)}/${total || '?'} steps` : '',
    t ? `loss ${num(t.loss, 4)}` : '',
    p.stage,
    evaluation('sft', p.evaluations.sft),
    evaluation('dpo', p.evaluations.dpo),
    formatElapsed(p.elapsedMs),
  ];
  return parts.filter((s) => s !== '').join('  ');
}

export function describeTextPolicyResult(r: TextPolicyTrainingResult, url: string): string {
  const m = (e: EvaluationBrief) => `accuracy ${num(e.accuracy, 3)}  FPR ${num(e.fpr, 3)}  FNR ${num(e.fnr, 3)}  override ${num(e.overrideRate, 3)}  gates ${e.passed ? 'passed' : 'not passed'}`;
  return [
    `registered ${r.model} version ${r.hf.version} (hf) and version ${r.onnx.version} (onnx, text-policy)`,
    `  SFT           ${r.sft.steps} steps in ${r.sft.seconds.toFixed(1)} s, loss ${num(r.sft.loss, 4)} — ${m(r.sft.metrics)}`,
    `  DPO           ${r.dpo.steps} steps in ${r.dpo.seconds.toFixed(1)} s, loss ${num(r.dpo.loss, 4)} — ${m(r.dpo.metrics)}`,
    `  artifacts     ${r.hf.artifactUri}`,
    `                ${r.onnx.artifactUri}`,
    ...(r.canary ? [`  canary        ${r.canary.workflowId} ${r.canary.started ? 'started' : `not started: ${r.canary.error ?? ''}`}`] : []),
    `  Temporal UI   ${url}`,
  ].join('\n');
}

export function register(train: Command): void {
  train
    .command('text-policy')
    .alias('policy')
    .description('train the text policy (the action-approval model) with Oumi: SFT then DPO (textPolicyTraining workflow), register HF + ONNX versions')
    .option('-d, --data <file>', 'labeled_decisions.jsonl (one labelled decision per line: { input, output }), as the oumi worker sees it')
    .option('-g, --generate <n>', 'generate N synthetic labelled decisions instead of --data')
    .option('--seed <s>', 'generator seed (with --generate)')
    .option('--sft-config <file>', 'Oumi SFT config (default configs/oumi/policy_sft.yaml)')
    .option('--dpo-config <file>', 'Oumi DPO config (default configs/oumi/policy_dpo.yaml)')
    .option('--sft-steps <n>', 'SFT training.max_steps (default: the config\'s)')
    .option('--dpo-steps <n>', 'DPO training.max_steps (default: the config\'s)')
    .option('--base-model <dir>', 'Hugging Face model folder to start from (default: build the tiny model)')
    .option('-m, --model <name>', 'registry model name (default action-policy)')
    .option('--start-canary', 'start canaryPromotion with the ONNX version')
    .option('--judge [config]', 'LLM-as-judge preference pairs and agreement (llm_judge block; default configs/oumi/policy_rl.yaml)')
    .option('--judge-endpoint <url>', "the judge's OpenAI-compatible chat-completions URL (implies --judge)")
    .option('--judge-model <name>', 'the model the judge endpoint serves (implies --judge)')
    .option('--judge-pool-size <n>', "decisions in the judge's unseen pool (llm_judge.pool.size; 0: no pool; implies --judge)")
    .option('--workflow-id <id>', 'workflow id (default text-policy/<model>/<random>)')
    .option('--no-wait', 'return once the workflow has started')
    .option('--json', 'machine-readable output')
    .action(async (opts: TrainTextPolicyOptions) => {
      const input = buildTrainTextPolicyInput(opts);
      const settings = loadSettings();
      const model = input.model ?? TEXT_POLICY_DEFAULTS.model;
      const workflowId = opts.workflowId ?? `text-policy/${model}/${randomUUID().slice(0, 8)}`;
      await startAndFollow<TextPolicyTrainingInput, TextPolicyProgress, TextPolicyTrainingResult>({
        settings,
        workflowType: TEXT_POLICY_TRAINING_WORKFLOW_TYPE,
        taskQueue: TASK_QUEUES.oumi,
        workflowId,
        input,
        model,
        runKind: 'policy',
        json: opts.json,
        wait: opts.wait,
        printer: (out) => new LinePrinter(out, (p: TextPolicyProgress) => textPolicyProgressLine(p), (p) => `${p.stage}|${p.trainer?.step ?? ''}`),
        describe: describeTextPolicyResult,
      });
    });
}
