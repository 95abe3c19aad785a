/**
 * `autopilot ope --input FILE [--format json|ndjson] [--estimators ipw,snipw,dm,dr,sndr,switch-dr,dr-os]
 *  [--alpha 0.05] [--n-bootstrap 10000] [--seed N] [--threads T] [--lambda X] [--clip X] [--n-folds K]
 *  [--ridge-alpha A]`: off-policy evaluation of logged bandit feedback with Open Bandit Pipeline's
 * estimators. FILE is JSON with OBP's names: `reward`, `action`, `pscore`, `action_dist`
 * (n × actions or n × actions × positions), optionally `estimated_rewards_by_reg_model`, `position`,
 * and `context` (n × features: fits the cross-fitted ridge reward model when DM/DR-type estimators
 * have no `estimated_rewards_by_reg_model`) — or NDJSON (`.ndjson`/`.jsonl`, or `--format ndjson`):
 * one round per line with the same names, streamed (see `cli/ope-input.ts`). Prints
 * `{ "n_rounds": …, "estimates": { "ipw": { "value", "lower", "upper" }, … } }`.
 *
 * All estimators share one set of bootstrap resamples, computed on `--threads` threads (default:
 * the available cores); the intervals for a seed are the same whatever the thread count.
 *
 * `--lambda` is Switch-DR's threshold and DR-os's shrinkage (OBP's `lambda_` for those two);
 * `--clip` is the weight-clipping `lambda_` of IPW and DR. Without `--estimators`, all seven run
 * when a reward model (or context) is available, else IPW and SNIPW.
 *
 * `autopilot ope power --delta D (--sd S | --pilot FILE) [--alpha 0.05] [--power 0.8] [--sides 2]
 *  [--design paired|two-sample] [--t]`: rounds needed to detect a difference D.
 */
import type { Command } from 'commander';
import { DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE, ESTIMATOR_NAMES, OpeInputError, parseEstimatorNames, type EstimatorName } from '../../ml/ope';
import { roundsForPower } from '../../ml/stats/power';
import { defaultThreads } from '../../parallel/bootstrap';
import { evaluatePolicyOnThreads } from '../../parallel/ope';
import { CliError } from '../errors';
import { inputFormat, OpeFileError, readJsonFile, readOpeInput, type OpeInputFormat } from '../ope-input';

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$|^[-+]?Infinity$/;

/** Parses a numeric flag; `check` says whether the value is allowed and `expected` describes it. */
function numberFlag(flag: string, raw: string | undefined, fallback: number | undefined, expected: string, check: (v: number) => boolean): number | undefined {
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (!NUMBER.test(raw.trim()) || !check(v)) throw new CliError(`${flag}: got ${JSON.stringify(raw)}, expected ${expected}`);
  return v;
}

function readJson(flag: string, file: string): unknown {
  try {
    return readJsonFile(flag, file);
  } catch (err) {
    if (err instanceof OpeFileError) throw new CliError(err.message);
    throw err;
  }
}

interface OpeFlags {
  input?: string;
  format?: string;
  threads?: string;
  estimators?: string;
  alpha?: string;
  nBootstrap?: string;
  seed?: string;
  lambda?: string;
  clip?: string;
  nFolds?: string;
  ridgeAlpha?: string;
  minEss?: string;
}

/** Runs `autopilot ope` on parsed flags and returns the report object (exported for tests). */
export async function runOpe(flags: OpeFlags): Promise<unknown> {
  if (!flags.input) throw new CliError('--input: got nothing, expected a JSON file of logged bandit feedback (or - for standard input)');
  const alpha = numberFlag('--alpha', flags.alpha, 0.05, 'a number in (0, 1)', (v) => v > 0 && v < 1);
  const nBootstrapSamples = numberFlag('--n-bootstrap', flags.nBootstrap, 10_000, 'an integer ≥ 1', (v) => Number.isInteger(v) && v >= 1);
  const randomState = numberFlag('--seed', flags.seed, 0, 'an integer', (v) => Number.isInteger(v));
  const lambda = numberFlag('--lambda', flags.lambda, undefined, 'a number ≥ 0 (or Infinity)', (v) => v >= 0);
  const clip = numberFlag('--clip', flags.clip, undefined, 'a number ≥ 0 (or Infinity)', (v) => v >= 0);
  const nFolds = numberFlag('--n-folds', flags.nFolds, 5, 'an integer ≥ 1', (v) => Number.isInteger(v) && v >= 1);
  const ridgeAlpha = numberFlag('--ridge-alpha', flags.ridgeAlpha, 1, 'a number ≥ 0', (v) => v >= 0 && Number.isFinite(v));
  const minEffectiveSampleSize = numberFlag('--min-ess', flags.minEss, DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE, 'a number ≥ 0', (v) => v >= 0 && Number.isFinite(v));
  const threads = numberFlag('--threads', flags.threads, defaultThreads(), 'an integer in [1, 256]', (v) => Number.isInteger(v) && v >= 1 && v <= 256);
  let format: OpeInputFormat;
  try {
    format = inputFormat(flags.input, flags.format);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const { inputs, context } = readOpeInput(flags.input, format);
    let estimators: EstimatorName[];
    if (flags.estimators !== undefined) estimators = parseEstimatorNames(flags.estimators);
    else estimators = inputs.estimatedRewardsByRegModel || context ? [...ESTIMATOR_NAMES] : ['ipw', 'snipw'];
    const report = await evaluatePolicyOnThreads(inputs, {
      threads,
      estimators,
      alpha,
      nBootstrapSamples,
      randomState,
      lambda,
      clip,
      context,
      regression: { nFolds, alpha: ridgeAlpha },
      minEffectiveSampleSize,
    });
    return { n_rounds: report.n_rounds, estimates: report.estimates, diagnostics: report.diagnostics, fitted_reward_model: report.fitted_reward_model, alpha, n_bootstrap_samples: nBootstrapSamples, seed: randomState };
  } catch (err) {
    if (err instanceof OpeFileError) throw new CliError(err.message);
    if (err instanceof OpeInputError) throw new CliError(`${flags.input}: ${err.message}`);
    if (err instanceof RangeError || (err instanceof Error && /^(snipw|sndr):/.test(err.message))) throw new CliError(err.message);
    throw err;
  }
}

interface PowerFlags {
  delta?: string;
  sd?: string;
  pilot?: string;
  alpha?: string;
  power?: string;
  sides?: string;
  design?: string;
  t?: boolean;
}

/** Runs `autopilot ope power` on parsed flags and returns the answer (exported for tests). */
export function runPower(flags: PowerFlags): unknown {
  const delta = numberFlag('--delta', flags.delta, undefined, 'a non-zero difference to detect', (v) => v !== 0 && Number.isFinite(v));
  if (delta === undefined) throw new CliError('--delta: got nothing, expected the difference to detect, e.g. 0.03');
  let sd = numberFlag('--sd', flags.sd, undefined, 'a standard deviation > 0', (v) => v > 0 && Number.isFinite(v));
  if (sd !== undefined && flags.pilot !== undefined) throw new CliError('--pilot: got a file as well as --sd, expected only one of them');
  if (flags.pilot !== undefined) {
    const pilot = readJson('--pilot', flags.pilot);
    if (!Array.isArray(pilot) || pilot.length < 2 || !pilot.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new CliError(`--pilot: got ${JSON.stringify(flags.pilot)}, expected a JSON array of at least 2 finite per-round values`);
    }
    const m = pilot.reduce((a: number, b: number) => a + b, 0) / pilot.length;
    sd = Math.sqrt(pilot.reduce((a: number, b: number) => a + (b - m) ** 2, 0) / (pilot.length - 1));
    if (!(sd > 0)) throw new CliError(`--pilot: got ${JSON.stringify(flags.pilot)} whose values are all equal, expected some variation to estimate sd`);
  }
  if (sd === undefined) throw new CliError('--sd: got nothing, expected the per-round standard deviation (or --pilot FILE to estimate it)');
  const alpha = numberFlag('--alpha', flags.alpha, 0.05, 'a number in (0, 1)', (v) => v > 0 && v < 1)!;
  const power = numberFlag('--power', flags.power, 0.8, 'a number in (0, 1)', (v) => v > 0 && v < 1)!;
  const sides = numberFlag('--sides', flags.sides, 2, '1 or 2', (v) => v === 1 || v === 2) as 1 | 2;
  const design = flags.design ?? 'paired';
  if (design !== 'paired' && design !== 'two-sample') throw new CliError(`--design: got ${JSON.stringify(design)}, expected paired or two-sample`);
  const r = roundsForPower({ delta, sd, alpha, power, sides, design, tDistribution: flags.t === true });
  return { rounds: r.rounds, total_rounds: r.totalRounds, achieved_power: r.achievedPower, delta, sd, alpha, power, sides, design, distribution: flags.t ? 't' : 'normal' };
}

export function register(program: Command): void {
  const ope = program
    .command('ope')
    .description('off-policy evaluation of logged bandit feedback (Open Bandit Pipeline estimators, bootstrap intervals)')
    .option('--input <file>', 'JSON with reward, action, pscore, action_dist [, estimated_rewards_by_reg_model, position, context]; - for stdin')
    .option('--format <f>', 'json (one object) or ndjson (one round per line, streamed); default from the extension (.ndjson, .jsonl)')
    .option('--threads <t>', 'threads for the bootstrap (default: the available cores); results do not depend on it')
    .option('--estimators <list>', `comma-separated: ${ESTIMATOR_NAMES.join(',')}`)
    .option('--alpha <a>', 'significance level of the intervals', undefined)
    .option('--n-bootstrap <n>', 'bootstrap resamples (default 10000)')
    .option('--seed <n>', 'bootstrap and cross-fitting seed (default 0)')
    .option('--lambda <x>', "Switch-DR threshold and DR-os shrinkage (OBP's lambda_)")
    .option('--clip <x>', 'importance-weight clipping of IPW and DR')
    .option('--n-folds <k>', 'cross-fitting folds of the ridge reward model (default 5)')
    .option('--ridge-alpha <a>', 'ridge penalty of the reward model (default 1)')
    .option('--min-ess <n>', `warn (stderr and diagnostics) when an estimator's effective sample size is below this (default ${DEFAULT_MIN_EFFECTIVE_SAMPLE_SIZE})`)
    .action(async (flags: OpeFlags) => {
      const report = (await runOpe(flags)) as { diagnostics?: Record<string, { warnings: { message: string }[] }> };
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      // The assumptions that failed, where a person reading the terminal sees them (the JSON has them too).
      for (const d of Object.values(report.diagnostics ?? {})) for (const w of d.warnings) process.stderr.write(`warning: ${w.message}\n`);
    });

  ope
    .command('power')
    .description('rounds needed to detect a difference --delta at --power and --alpha')
    .option('--delta <d>', 'difference to detect, in outcome units (e.g. 0.03)')
    .option('--sd <s>', 'standard deviation of the per-round outcome (of the paired difference for --design paired)')
    .option('--pilot <file>', 'JSON array of per-round pilot values to estimate --sd from')
    .option('--alpha <a>', 'significance level (default 0.05)')
    .option('--power <p>', 'probability of detecting --delta (default 0.8)')
    .option('--sides <1|2>', 'one- or two-sided test (default 2)')
    .option('--design <d>', 'paired (within-subject, default) or two-sample (rounds per group)')
    .option('--t', 'use t quantiles (iterated) instead of the normal approximation')
    .action((flags: PowerFlags) => {
      process.stdout.write(`${JSON.stringify(runPower(flags), null, 2)}\n`);
    });
}
