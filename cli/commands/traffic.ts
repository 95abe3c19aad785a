import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadSettings, projectRoot } from '../../config/settings';
import { apiKeyFor } from '../dev/api-key';
import { CliError } from '../errors';
import { emit } from '../output';
import { generateTraffic, type TrafficSummary } from '../traffic/generate';

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: got ${JSON.stringify(v)}, expected a positive integer`);
    return n;
  };
}

function line(s: TrafficSummary): string {
  const arms = Object.entries(s.byArm)
    .map(([arm, a]) => `${arm}: ${a.decisions} (mean reward ${a.meanReward.toFixed(3)}, versions ${Object.entries(a.versions).map(([v, n]) => `v${v}×${n}`).join(' ')})`)
    .join('; ');
  return `${s.decisions} decisions, ${s.rewards} rewards, ${s.errors} errors, ${(s.decisions / Math.max(s.elapsedMs / 1000, 1e-3)).toFixed(0)}/s — ${arms}`;
}

export function register(program: Command): void {
  program
    .command('traffic')
    .description('send simulated RAG traffic with rewards to an inference server (decide → simulate the batch → reward)')
    .requiredOption('-d, --deployment <name>', 'deployment (model) to ask')
    .option('-s, --server <url>', 'inference server', process.env.AUTOPILOT_SERVER_URL ?? 'http://127.0.0.1:8080')
    .option('-n, --requests <n>', 'decisions to make', positiveInt('--requests'), 1000)
    .option('-c, --concurrency <n>', 'sessions at once', positiveInt('--concurrency'), 8)
    .option('--duration <seconds>', 'stop after this many seconds', (v) => Number(v))
    .option('--config <file>', 'policy config of the simulated sessions', 'configs/rl/rag-tuner.yaml')
    .option('--seed <n>', 'seed of the simulated sessions', (v) => Number(v), 1)
    .option('--json', 'machine-readable output')
    .action(async (opts: { deployment: string; server: string; requests: number; concurrency: number; duration?: number; config: string; seed: number; json?: boolean }) => {
      const tty = process.stdout.isTTY && !opts.json;
      const summary = await generateTraffic({
        server: opts.server,
        deployment: opts.deployment,
        requests: opts.requests,
        concurrency: opts.concurrency,
        durationMs: opts.duration ? opts.duration * 1000 : 0,
        configFile: resolve(projectRoot, opts.config),
        seed: opts.seed,
        // AUTOPILOT_API_KEY, else the dev stack's key (autopilot dev up); none: the server must run with --auth off.
        apiKey: apiKeyFor(loadSettings().dataDir),
        onProgress: tty ? (s) => process.stdout.write(`\r${line(s)}`.slice(0, process.stdout.columns ?? 200)) : undefined,
      });
      if (tty) process.stdout.write('\n');
      emit(opts.json, summary, () => `traffic: ${line(summary)}${summary.lastError ? `\n  last error: ${summary.lastError}` : ''}`);
      if (summary.decisions === 0) throw new CliError(`no decision succeeded: ${summary.lastError ?? 'unknown error'}`, 1);
    });
}
