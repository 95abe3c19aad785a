import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { stackDown, stackStatus, stackUp } from '../dev/stack';
import { emit } from '../output';

export function register(program: Command): void {
  const dev = program.command('dev').description('the local dev stack: Temporal, SeaweedFS S3, registry migrations, workers');
  dev
    .command('up')
    .description('start (or keep) the dev stack and print its URLs')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings({ ...process.env, AUTOPILOT_IGNORE_STACK: '1' });
      const res = await stackUp(settings, (l) => (opts.json ? undefined : process.stdout.write(`${l}\n`)));
      emit(opts.json, res, () =>
        [
          '',
          'Autopilot dev stack is up:',
          `  Temporal UI     ${res.temporal.ui}`,
          `  Temporal        ${res.temporal.address}`,
          `  S3 (SeaweedFS)  ${res.s3.endpoint}  bucket ${res.s3.bucket}`,
          `  Registry        ${res.databaseUrl}`,
          `  Inference       ${res.inference}  (/v1/decide, /v1/rewards, /v2/..., /metrics)`,
          `  Workers         ${res.workers.join(', ')}`,
          `  Prometheus      ${res.prometheus}  (scrapes the inference server and the workers)`,
          'Stop it with `autopilot dev down`.',
        ].join('\n'),
      );
    });
  dev
    .command('down')
    .description('stop exactly what `dev up` started')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings();
      const stopped = await stackDown(settings, (l) => (opts.json ? undefined : process.stdout.write(`${l}\n`)));
      emit(opts.json, { stopped }, () => (stopped.length ? `stopped ${stopped.length} process(es)` : 'nothing was running'));
    });
  dev
    .command('status')
    .description('what runs where')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) => {
      const settings = loadSettings();
      const procs = stackStatus(settings);
      emit(opts.json, procs, () =>
        procs.length === 0
          ? 'dev stack: not started (run `autopilot dev up`)'
          : procs
              .map((p) => `${p.name.padEnd(16)} ${p.running ? 'running' : 'STOPPED'}  pid ${String(p.pid).padEnd(7)} ${Object.entries(p.urls).map(([k, v]) => `${k}=${v}`).join(' ')}  log ${p.log}`)
              .join('\n'),
      );
      if (procs.some((p) => !p.running)) process.exitCode = 1;
    });
}
