/**
 * `autopilot evaluate <model> <version> --from ISO --to ISO [--deployment D] [--estimators ipw,dr,…]
 *  [--gate-estimator E] [--alpha 0.05] [--n-bootstrap 10000] [--seed N] [--chunk-size 5000]
 *  [--tolerance T] [--min-improvement M] [--clip X] [--lambda X] [--keep-chunks] [--json] [--no-wait]`
 *
 * Starts the `offPolicyEvaluation` workflow on the `rollout` queue: the candidate version is scored on
 * the deployment's logged decisions in [from, to) (the deployment defaults to the model's own), and
 * the verdict, the estimates with their intervals and the report's URIs are printed. The input is
 * checked here with the workflow's own rules before anything starts. Exit status: 0 for pass or
 * inconclusive, 1 for fail (so a script can gate on it), 2 for a bad argument.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { OpeConfigError, resolveOpeInput } from '../../activities/ope/config';
import { OFF_POLICY_EVALUATION_WORKFLOW_TYPE, type OffPolicyEvaluationInput, type OffPolicyEvaluationResult } from '../../contracts/off-policy-evaluation';
import { loadSettings } from '../../config/settings';
import type { EstimatorName } from '../../ml/ope/estimators';
import { TASK_QUEUES } from '../../contracts/shared';
import { CliError } from '../errors';
import { emit } from '../output';
import { connectClient, workflowUiUrl } from '../temporal';

export interface EvaluateFlags {
  deployment?: string;
  from?: string;
  to?: string;
  estimators?: string;
  gateEstimator?: string;
  alpha?: string;
  nBootstrap?: string;
  seed?: string;
  chunkSize?: string;
  tolerance?: string;
  minImprovement?: string;
  clip?: string;
  lambda?: string;
  keepChunks?: boolean;
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;

function num(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!NUMBER.test(raw.trim())) throw new CliError(`${flag}: got ${JSON.stringify(raw)}, expected a number`);
  return Number(raw);
}

const FLAG_OF: Record<string, string> = {
  deployment: '--deployment', from: '--from', to: '--to', estimators: '--estimators', gateEstimator: '--gate-estimator', alpha: '--alpha',
  nBootstrap: '--n-bootstrap', seed: '--seed', chunkSize: '--chunk-size', tolerance: '--tolerance', minImprovement: '--min-improvement',
  clip: '--clip', lambda: '--lambda', 'candidate.version': '<version>', 'candidate.model': '<model>',
};

/** The workflow input for these arguments, checked with the workflow's rules (exported for tests). */
export function evaluateInput(model: string, version: string, flags: EvaluateFlags): OffPolicyEvaluationInput {
  if (!/^\d+$/.test(version)) throw new CliError(`<version>: got ${JSON.stringify(version)}, expected a version number such as 3`);
  if (flags.from === undefined) throw new CliError('--from: missing, expected the start of the window (ISO 8601, inclusive)');
  if (flags.to === undefined) throw new CliError('--to: missing, expected the end of the window (ISO 8601, exclusive)');
  const input: OffPolicyEvaluationInput = {
    deployment: flags.deployment ?? model,
    from: flags.from,
    to: flags.to,
    candidate: { model, version: Number(version) },
  };
  if (flags.estimators !== undefined) input.estimators = flags.estimators.split(',').map((s) => s.trim()).filter(Boolean) as EstimatorName[];
  if (flags.gateEstimator !== undefined) input.gateEstimator = flags.gateEstimator as EstimatorName;
  const numeric = ['alpha', 'nBootstrap', 'seed', 'chunkSize', 'tolerance', 'minImprovement', 'clip', 'lambda'] as const;
  for (const k of numeric) {
    const v = num(FLAG_OF[k], flags[k]);
    if (v !== undefined) (input as unknown as Record<string, number>)[k] = v;
  }
  if (flags.keepChunks) input.keepChunks = true;
  try {
    resolveOpeInput(input);
  } catch (err) {
    if (err instanceof OpeConfigError) {
      const flag = FLAG_OF[err.field.replace(/\[\d+\]$/, '')] ?? err.field;
      throw new CliError(`${flag}: ${err.message.replace(/^offPolicyEvaluation input\.[^ ]+ = /, 'got ')}`);
    }
    throw err;
  }
  return input;
}

function fmt(x: number): string {
  return Math.abs(x) >= 1e-3 || x === 0 ? x.toFixed(4) : x.toExponential(2);
}

export function humanResult(r: OffPolicyEvaluationResult, url: string): string {
  const lines = [
    `offPolicyEvaluation ${r.workflowId}: ${r.verdict.toUpperCase()}`,
    `  ${r.reason}`,
    `  rounds: ${r.nRounds} scored of ${r.roundsRead} rewarded decisions read, ${r.chunks} chunk(s), ${r.runs} run(s)` +
      (Object.values(r.skipped).some((v) => v > 0) ? `; skipped ${JSON.stringify(r.skipped)}` : ''),
    `  logging policy: ${fmt(r.logging.value)} [${fmt(r.logging.lower)}, ${fmt(r.logging.upper)}]`,
    '  estimator    value     interval              Δ vs logging  interval    ESS',
  ];
  for (const [name, e] of Object.entries(r.estimates)) {
    if (!e) continue;
    lines.push(`  ${(name + (name === r.gate.estimator ? '*' : '')).padEnd(11)}  ${fmt(e.value).padStart(8)}  [${fmt(e.lower)}, ${fmt(e.upper)}]`.padEnd(46) +
      `${fmt(e.diff.value).padStart(8)}      [${fmt(e.diff.lower)}, ${fmt(e.diff.upper)}]` +
      (e.diagnostics ? `  ${e.diagnostics.effectiveSampleSize.toFixed(1)}` : ''));
  }
  for (const [name, why] of Object.entries(r.skippedEstimators)) lines.push(`  ${name}: not run (${why})`);
  // The assumptions that failed (no support, extreme weights), estimator by estimator.
  for (const w of r.warnings ?? []) lines.push(`  warning: ${w}`);
  lines.push(`  report: ${r.reportUri}`, `          ${r.csvUri}`, `          ${r.svgUri}`, `  evaluation: ${r.evaluationId}`, `  Temporal UI: ${url}`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('evaluate <model> <version>')
    .description('off-policy evaluation of a model version on a deployment\'s logged decisions (the offPolicyEvaluation workflow)')
    .option('--deployment <name>', 'deployment whose decisions are replayed (default: the model\'s)')
    .option('--from <iso>', 'window start, inclusive (ISO 8601)')
    .option('--to <iso>', 'window end, exclusive (ISO 8601)')
    .option('--estimators <list>', 'comma-separated: ipw,snipw,dm,dr,sndr,switch-dr,dr-os (default: all)')
    .option('--gate-estimator <name>', 'estimator whose paired difference decides the verdict (default: dr, else snipw)')
    .option('--alpha <a>', 'significance level of the intervals (default 0.05)')
    .option('--n-bootstrap <n>', 'bootstrap resamples (default 10000)')
    .option('--seed <n>', 'seed of the bootstrap and the reward model folds (default 0)')
    .option('--chunk-size <n>', 'decisions per scoring chunk (default 5000)')
    .option('--tolerance <t>', 'non-inferiority margin (default 0)')
    .option('--min-improvement <m>', 'require the lower bound of Δ to exceed this (superiority)')
    .option('--clip <x>', 'importance-weight clipping of IPW and DR')
    .option('--lambda <x>', 'λ of Switch-DR and DR-os')
    .option('--keep-chunks', 'keep the scored chunks in the artifact store')
    .option('--no-wait', 'return once started')
    .option('--json', 'machine-readable output')
    .action(async (model: string, version: string, opts: EvaluateFlags & { wait: boolean; json?: boolean }) => {
      const input = evaluateInput(model, version, opts);
      const settings = loadSettings();
      const { client, close } = await connectClient(settings);
      try {
        const workflowId = `ope/${model}/${version}/${randomUUID()}`;
        const handle = await client.workflow.start(OFF_POLICY_EVALUATION_WORKFLOW_TYPE, { taskQueue: TASK_QUEUES.rollout, workflowId, args: [input] });
        const url = workflowUiUrl(settings, workflowId, handle.firstExecutionRunId);
        if (!opts.wait) {
          emit(opts.json, { workflowId, runId: handle.firstExecutionRunId, url, input }, () => `started ${workflowId}\n  ${url}\n  follow it: temporal workflow query --workflow-id ${workflowId} --type progress`);
          return;
        }
        const result = (await handle.result()) as OffPolicyEvaluationResult;
        emit(opts.json, { ...result, url }, () => humanResult(result, url));
        if (result.verdict === 'fail') process.exitCode = 1;
      } finally {
        await close();
      }
    });
}
