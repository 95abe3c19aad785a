/**
 * `autopilot evaluator serve`: the evaluator service, `POST /tuner/evaluate` (R-TUNER-EVALUATOR),
 * over the RAG simulator or a replay snapshot (a JSONL log of evaluations, or a dataset snapshot
 * directory of `autopilot data export`). Contract: envs/evaluators/README.md.
 *
 *   autopilot evaluator serve [--port 8091] [--host 127.0.0.1] [--snapshot FILE|DIR] [--token-env VAR]
 *
 * With `--token-env VAR`, requests must carry `Authorization: Bearer $VAR` (401 otherwise); the token
 * is read from this process's environment and never printed. One line per request goes to stderr
 * (status, category, milliseconds: no headers, no bodies).
 */
import type { Command } from 'commander';
import { CATEGORIES, SimulatedRagEvaluator } from '../../envs/evaluators/simulator';
import { ReplayEvaluator } from '../../envs/evaluators/replay';
import { loadReplaySource } from '../../envs/evaluators/snapshot';
import { startEvaluatorServer } from '../../envs/evaluators/server';
import type { Evaluator } from '../../envs/types';
import { CliError } from '../errors';

export interface EvaluatorServeOptions {
  port: string;
  host: string;
  snapshot?: string;
  tokenEnv?: string;
  quiet?: boolean;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port ${JSON.stringify(text)}: expected an integer in 0..65535`);
  return n;
}

/** The evaluator behind the service and the categories it knows. */
export function serviceEvaluator(snapshot: string | undefined): { evaluator: Evaluator; categories: string[]; source: string } {
  if (snapshot === undefined) return { evaluator: new SimulatedRagEvaluator(), categories: [...CATEGORIES], source: 'simulator' };
  let loaded;
  try {
    loaded = loadReplaySource(snapshot);
  } catch (err) {
    throw new CliError(`--snapshot ${snapshot}: ${(err as Error).message}`);
  }
  const evaluator = new ReplayEvaluator(loaded.records, { name: `replay:${snapshot}` });
  return { evaluator, categories: evaluator.categories, source: `replay:${snapshot} (${loaded.records.length} logged evaluations, sha256 ${loaded.sha256.slice(0, 12)}…)` };
}

export function register(program: Command): void {
  const evaluator = program.command('evaluator').description('the evaluator service POST /tuner/evaluate (simulator or replay snapshot)');
  evaluator
    .command('serve')
    .description('serve POST /tuner/evaluate: run a batch on a given RAG config → faithfulness, relevancy, latency, cost')
    .option('-p, --port <port>', 'port to listen on (0: a free one)', '8091')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--snapshot <file>', 'answer from a replay log (JSONL) or a dataset snapshot directory/manifest instead of the simulator')
    .option('--token-env <var>', 'require Authorization: Bearer <the value of environment variable VAR>')
    .option('--quiet', 'no per-request log lines')
    .action(async (opts: EvaluatorServeOptions) => {
      const port = parsePort(opts.port);
      let token: string | undefined;
      if (opts.tokenEnv !== undefined) {
        token = process.env[opts.tokenEnv];
        if (token === undefined || token === '') throw new CliError(`--token-env ${opts.tokenEnv}: the environment variable ${opts.tokenEnv} is not set`);
      }
      const { evaluator: backend, categories, source } = serviceEvaluator(opts.snapshot);
      const server = await startEvaluatorServer({
        evaluator: backend,
        categories,
        token,
        port,
        host: opts.host,
        onRequest: opts.quiet ? undefined : (e) => process.stderr.write(`POST /tuner/evaluate ${e.status} ${e.category ?? '-'} ${e.ms} ms\n`),
      });
      process.stdout.write(`evaluator serving on ${server.url}/tuner/evaluate (${source}; categories ${categories.join(', ')}${token ? '; bearer token required' : ''})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stdout.write(`${signal}: stopping\n`);
          server.close().then(resolve, (err) => {
            process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
            process.exitCode = 1;
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
