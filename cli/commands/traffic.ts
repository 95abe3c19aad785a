import type { Command } from 'commander';
import { resolve } from 'node:path';
import { loadSettings, projectRoot } from '../../config/settings';
import { apiKeyFor } from '../dev/api-key';
import { CliError } from '../errors';
import { emit } from '../output';
import { generateTraffic, type TrafficSummary } from '../traffic/generate';
import { generateModelSelectionTraffic, modelSelectionLine } from '../traffic/model-selection';

const SCENARIOS = ['rag', 'model-selection'] as const;

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
    .description('send simulated traffic with rewards to an inference server: RAG sessions (decide → simulate the batch → reward) or LLM requests to a model-selection bandit (configs/bandits/model-selection.yaml)')
    .requiredOption('-d, --deployment <name>', 'deployment (model) to ask')
    .option('-s, --server <url>', 'inference server', process.env.AUTOPILOT_SERVER_URL ?? 'http://127.0.0.1:8080')
    .option('-n, --requests <n>', 'decisions to make', positiveInt('--requests'), 1000)
    .option('-c, --concurrency <n>', 'sessions at once', positiveInt('--concurrency'), 8)
    .option('--duration <seconds>', 'stop after this many seconds', (v) => Number(v))
    .option('--config <file>', 'policy config of the simulated sessions', 'configs/rl/rag-tuner.yaml')
    .option('--seed <n>', 'seed of the simulated sessions', (v) => Number(v), 1)
    .option('--scenario <name>', `what to simulate: ${SCENARIOS.join(' or ')}`, 'rag')
    .option('--json', 'machine-readable output')
    .action(async (opts: { deployment: string; server: string; requests: number; concurrency: number; duration?: number; config: string; seed: number; scenario: string; json?: boolean }) => {
      const tty = process.stdout.isTTY && !opts.json;
      if (!(SCENARIOS as readonly string[]).includes(opts.scenario)) throw new CliError(`--scenario: got ${JSON.stringify(opts.scenario)}, expected one of ${SCENARIOS.join(', ')}`);
      if (opts.scenario === 'model-selection') {
        const s = await generateModelSelectionTraffic({
          server: opts.server, deployment: opts.deployment, requests: Math.max(2, opts.requests), concurrency: opts.concurrency,
          durationMs: opts.duration ? opts.duration * 1000 : 0, seed: opts.seed, apiKey: apiKeyFor(loadSettings().dataDir),
          onProgress: tty ? (p) => process.stdout.write(`\r${p.decisions} decisions, ${p.rewards} rewards, ${p.errors} errors`) : undefined,
        });
        if (tty) process.stdout.write('\n');
        emit(opts.json, s, () => `${modelSelectionLine(s)}${s.errors ? `\n  ${s.errors} errors; last: ${s.lastError}` : ''}`);
        if (s.decisions === 0) throw new CliError(`no decision succeeded: ${s.lastError ?? 'unknown error'}`, 1);
        return;
      }
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
