/**
 * `autopilot feedback summary --deployment NAME [--from ISO] [--to ISO] [--json]`: seed 003's human
 * override rate measured on a text-policy deployment's real served decisions — of the reviewed decisions
 * the policy approved, the share a reviewer flagged (POST /v1/feedback) — with the agreement rate, in
 * total and per model version. The target is an override rate < 10%.
 */
import type { Command } from 'commander';
import { parseInstant } from '../../activities/data-export/activities';
import { DecisionStore, type FeedbackCounts } from '../../decision-log';
import { CliError } from '../errors';
import { withRegistry } from './models';

/** Seed 003: a human override rate below 10%. */
export const OVERRIDE_RATE_TARGET = 0.1;

const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

function line(label: string, c: FeedbackCounts): string {
  return `${label.padEnd(24)} reviewed ${String(c.reviewed).padStart(6)}  approved ${String(c.servedApprove).padStart(6)}  overridden ${String(c.approveOverridden).padStart(5)}  override rate ${pct(c.overrideRate).padStart(6)}  flags reversed ${String(c.flagOverridden).padStart(5)}  agreement ${pct(c.agreement).padStart(6)}`;
}

export function register(program: Command): void {
  const feedback = program.command('feedback').description('human feedback on served text-policy decisions (POST /v1/feedback)');
  feedback
    .command('summary')
    .description('the human override rate (approved decisions a reviewer flagged) and agreement on a deployment\'s reviewed decisions')
    .requiredOption('--deployment <name>', 'the text-policy deployment')
    .option('--from <iso>', 'decisions made at or after (ISO 8601)')
    .option('--to <iso>', 'decisions made before (ISO 8601)')
    .option('--json', 'print the summary as JSON')
    .action(async (opts: { deployment: string; from?: string; to?: string; json?: boolean }) => {
      let from: Date | undefined, to: Date | undefined;
      try {
        from = opts.from === undefined ? undefined : parseInstant(opts.from, '--from');
        to = opts.to === undefined ? undefined : parseInstant(opts.to, '--to');
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (from !== undefined && to !== undefined && !(from < to)) throw new CliError(`--from must be before --to, got ${opts.from} and ${opts.to}`);
      const s = await withRegistry((registry) => new DecisionStore({ db: registry.db }).feedbackSummary({ deployment: opts.deployment, from, to }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ ...s, target: { overrideRate: OVERRIDE_RATE_TARGET } }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`${line(opts.deployment, s.total)}\n`);
      for (const v of s.byVersion) process.stdout.write(`${line(`  ${v.model}@${v.version ?? 'fallback'}`, v)}\n`);
      const rate = s.total.overrideRate;
      process.stdout.write(rate === null ? 'no reviewed approvals yet: the override rate is not measured\n' : `override rate ${pct(rate)} ${rate < OVERRIDE_RATE_TARGET ? 'meets' : 'misses'} seed 003's target (< ${pct(OVERRIDE_RATE_TARGET)})\n`);
    });
}
