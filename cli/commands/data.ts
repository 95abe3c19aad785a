/**
 * `autopilot data export`: a dataset snapshot of a deployment's logged decisions + rewards over a
 * window (activities/data-export/export.ts; format in envs/evaluators/snapshot.ts), written to a new
 * folder and, with `--register`, registered as a `json` version of model `dataset-<deployment>`.
 * The window is [--from, --to): from inclusive, to exclusive.
 *
 *   autopilot data export --deployment rag-prod --from 2026-12-01T00:00:00Z --to 2026-12-02T00:00:00Z --out data/snap [--register]
 *
 * Without --out (and with --register) the snapshot goes to <data dir>/datasets/<deployment>/<from>_<to>.
 * The snapshot feeds training as `autopilot train ppo --env replay:DIR` or `autopilot evaluator serve --snapshot DIR`.
 *
 * With --feedback, the export is of a text-policy deployment's REVIEWED decisions (POST /v1/feedback):
 * labeled_decisions.jsonl (for `autopilot train policy --data FILE`), sft.jsonl, dpo.jsonl and a manifest
 * (activities/data-export/feedback.ts); --register makes it a json version of model feedback-<deployment>.
 *
 * `autopilot data warm-start` folds a snapshot's rewarded (context, arm, reward) rows into a bandit
 * deployment's learner state (activities/bandits/warm-start.ts: sha256 checked, each row the learner's
 * own update, at most once per snapshot):
 *
 *   autopilot data warm-start --deployment router-v2 --snapshot dataset-router@3   (or --snapshot DIR)
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportSnapshot, registerSnapshot } from '../../activities/data-export/export';
import { exportFeedback, type FeedbackExportManifest } from '../../activities/data-export/feedback';
import type { Registry } from '../../registry';
import { parseInstant } from '../../activities/data-export/activities';
import { loadSettings } from '../../config/settings';
import { DecisionStore } from '../../decision-log';
import { Redis } from 'ioredis';
import { warmStartBandit, WarmStartError, type WarmStartResult } from '../../activities/bandits/warm-start';
import { CliError } from '../errors';
import { withRegistry } from './models';

export interface DataExportOptions {
  deployment: string;
  from: string;
  to: string;
  out?: string;
  register?: boolean;
  feedback?: boolean;
  json?: boolean;
}

async function registerFeedback(registry: Registry, dir: string, m: FeedbackExportManifest) {
  return registry.registerVersion({
    model: `feedback-${m.deployment}`,
    artifact: { path: dir },
    format: 'json',
    createModel: true,
    signature: { kind: 'feedback-export', format: m.format, files: Object.keys(m.files) },
    metrics: { reviewed: m.reviewed, overridden: m.overridden, textOnly: m.textOnly },
    tags: { deployment: m.deployment, from: m.window.from, to: m.window.to },
    description: `reviewed decisions of deployment ${m.deployment} in [${m.window.from}, ${m.window.to}): ${m.reviewed} reviewed, ${m.overridden} overridden`,
    actor: `cli:${process.env.USER ?? 'unknown'}`,
  });
}

export function register(program: Command): void {
  const data = program.command('data').description('logged data back into training: dataset snapshots of decisions + rewards');
  data
    .command('export')
    .description('write a dataset snapshot (predictions.jsonl, contexts.jsonl, summary.csv, manifest.json with sha256) of a deployment over [from, to)')
    .requiredOption('--deployment <name>', 'the deployment whose decisions are exported')
    .requiredOption('--from <iso>', 'window start, inclusive (ISO 8601)')
    .requiredOption('--to <iso>', 'window end, exclusive (ISO 8601)')
    .option('--out <dir>', 'a new folder for the snapshot (default with --register: <data dir>/datasets/<deployment>/<from>_<to>)')
    .option('--register', 'register the snapshot as a json version of model dataset-<deployment> (feedback-<deployment> with --feedback)')
    .option('--feedback', 'export the reviewed decisions (POST /v1/feedback) as labeled_decisions.jsonl, sft.jsonl and dpo.jsonl for the next policyTraining run')
    .option('--json', 'print the manifest (and version) as JSON')
    .action(async (opts: DataExportOptions) => {
      let from: Date, to: Date;
      try {
        from = parseInstant(opts.from, '--from');
        to = parseInstant(opts.to, '--to');
      } catch (err) {
        throw new CliError((err as Error).message);
      }
      if (!(from < to)) throw new CliError(`--from must be before --to, got ${opts.from} and ${opts.to}`);
      if (opts.out === undefined && !opts.register) throw new CliError('give --out DIR, or --register (then the snapshot goes under the data directory)');
      const stamp = (d: Date) => d.toISOString().replace(/[:.]/g, '-');
      const out = opts.out ?? join(loadSettings().dataDir, opts.feedback ? 'feedback' : 'datasets', opts.deployment, `${stamp(from)}_${stamp(to)}`);
      if (opts.feedback) {
        const r = await withRegistry(async (registry) => {
          let exported;
          try {
            exported = await exportFeedback(new DecisionStore({ db: registry.db }), { deployment: opts.deployment, from, to, out });
          } catch (err) {
            if (/already exists|must be|must have|not a decision record/.test((err as Error).message)) throw new CliError((err as Error).message);
            throw err;
          }
          const version = opts.register ? await registerFeedback(registry, exported.dir, exported.manifest) : null;
          return { exported, version };
        });
        const m = r.exported.manifest;
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ dir: r.exported.dir, manifest: m, version: r.version ? { model: r.version.model, version: r.version.version } : null }, null, 2)}\n`);
          return;
        }
        process.stdout.write(`feedback ${r.exported.dir}: ${m.reviewed} reviewed decisions (${m.overridden} overridden, ${m.textOnly} from rendered text: pairs only) of ${m.deployment} in [${m.window.from}, ${m.window.to})\n`);
        for (const [name, f] of Object.entries(m.files)) process.stdout.write(`  ${name.padEnd(24)} ${String(f.rows).padStart(8)} rows  ${String(f.bytes).padStart(10)} bytes  sha256 ${f.sha256}\n`);
        if (r.version) process.stdout.write(`registered ${r.version.model} v${r.version.version} (json)\n`);
        process.stdout.write(`train on it: autopilot train policy --data ${join(r.exported.dir, 'labeled_decisions.jsonl')}\n`);
        return;
      }
      const result = await withRegistry(async (registry) => {
        let snapshot;
        try {
          snapshot = await exportSnapshot(new DecisionStore({ db: registry.db }), { deployment: opts.deployment, from, to, out });
        } catch (err) {
          if (/already exists|must be|must have/.test((err as Error).message)) throw new CliError((err as Error).message);
          throw err;
        }
        const version = opts.register ? await registerSnapshot(registry, snapshot, { actor: `cli:${process.env.USER ?? 'unknown'}` }) : null;
        return { snapshot, version };
      });
      const m = result.snapshot.manifest;
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ dir: result.snapshot.dir, manifest: m, version: result.version ? { model: result.version.model, version: result.version.version } : null }, null, 2)}\n`);
        return;
      }
      process.stdout.write(`snapshot ${result.snapshot.dir}: ${m.rows} decisions (${m.rewarded} rewarded) of ${m.deployment} in [${m.window.from}, ${m.window.to})\n`);
      for (const [name, f] of Object.entries(m.files)) process.stdout.write(`  ${name.padEnd(18)} ${String(f.rows).padStart(8)} rows  ${String(f.bytes).padStart(10)} bytes  sha256 ${f.sha256}\n`);
      if (result.version) process.stdout.write(`registered ${result.version.model} v${result.version.version} (json)\n`);
    });
  data
    .command('warm-start')
    .description("fold a dataset snapshot's rewarded (context, arm, reward) rows into a bandit deployment's learner state (each snapshot once)")
    .requiredOption('--deployment <name>', 'the bandit deployment whose learner starts from the data')
    .requiredOption('--snapshot <dir|dataset@version>', 'a snapshot folder (autopilot data export --out) or a registered one, e.g. dataset-router@3')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { deployment: string; snapshot: string; json?: boolean }) => {
      const redis = new Redis(loadSettings().redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
      let r: WarmStartResult;
      try {
        r = await withRegistry((registry) => warmStartBandit({ registry, redis }, { deployment: opts.deployment, snapshot: opts.snapshot, actor: `cli:${process.env.USER ?? 'unknown'}` }));
      } catch (err) {
        if (err instanceof WarmStartError || /^dataset snapshot /.test((err as Error).message)) throw new CliError((err as Error).message);
        throw err;
      } finally {
        redis.disconnect();
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        return;
      }
      process.stdout.write(`warm start of ${r.deployment} (${r.stateKey}): ${r.rows} rewarded rows of ${r.snapshot.deployment} in [${r.snapshot.window.from}, ${r.snapshot.window.to}), observations ${r.seqBefore} → ${r.seqAfter}\n`);
      for (const a of r.arms) process.stdout.write(`  ${a.arm.padEnd(20)} ${String(a.rows).padStart(8)} rows  mean reward ${a.meanReward === null ? '-' : a.meanReward.toFixed(4)}  min propensity ${a.minPropensity === null ? '-' : a.minPropensity.toFixed(4)}\n`);
      const unknown = Object.entries(r.skipped.unknownArms);
      if (unknown.length > 0) process.stdout.write(`  skipped rows of arms this deployment does not have: ${unknown.map(([a, n]) => `${a} ×${n}`).join(', ')}\n`);
      if (r.skipped.unrewarded > 0) process.stdout.write(`  skipped ${r.skipped.unrewarded} unrewarded decisions\n`);
    });
}
