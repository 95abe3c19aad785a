/**
 * `autopilot api`: the control-plane API (api/server.ts) as its own process, default port 8090: models,
 * versions, deployments, canaries, runs, evaluations, drift and the audit log, with the OpenAPI document
 * at /openapi.json. Reads need a `read` key, changes an `admin` key (`autopilot keys create`).
 * SIGTERM or SIGINT closes it.
 */
import type { Command } from 'commander';
import { DEFAULT_API_PORT, DEFAULT_CONSOLE_DIR, startApiServer } from '../../api/server';
import { loadSettings } from '../../config/settings';
import { withDbRole } from '../../inference/server';
import { createPool } from '../../registry/pool';
import { CliError } from '../errors';
import { connectClient } from '../temporal';

function parsePort(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new CliError(`--port ${JSON.stringify(text)}: expected an integer in 0..65535`);
  return n;
}

export function register(program: Command): void {
  program
    .command('api')
    .description('run the control-plane API (models, deployments, canaries, runs, audit; OpenAPI at /openapi.json)')
    .option('-p, --port <port>', 'port to listen on', String(DEFAULT_API_PORT))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--auth <on|off>', 'require an API key (read scope for reads, admin for changes); off is for local use only', 'on')
    .option('--console-dir <dir>', 'the built web console, served under /console/', DEFAULT_CONSOLE_DIR)
    .option('--temporal-ui <url>', "the Temporal UI of the namespace, e.g. http://127.0.0.1:8233/namespaces/default: the console links each workflow there (default: $AUTOPILOT_TEMPORAL_UI, else no links)")
    .option('--db-role <role>', 'run every database connection as this role (SET ROLE at connect), e.g. autopilot_admin (key management needs it)')
    .action(async (opts: { port: string; host: string; auth: string; consoleDir: string; temporalUi?: string; dbRole?: string }) => {
      if (opts.auth !== 'on' && opts.auth !== 'off') throw new CliError(`--auth ${JSON.stringify(opts.auth)}: expected on or off`);
      const port = parsePort(opts.port);
      const temporalUi = opts.temporalUi ?? process.env.AUTOPILOT_TEMPORAL_UI ?? null;
      if (temporalUi !== null && !/^https?:\/\/\S+$/.test(temporalUi)) throw new CliError(`--temporal-ui ${JSON.stringify(temporalUi)}: expected an http(s) URL such as http://127.0.0.1:8233/namespaces/default`);
      const settings = loadSettings();
      let databaseUrl = settings.databaseUrl;
      if (opts.dbRole !== undefined) {
        try {
          databaseUrl = withDbRole(databaseUrl, opts.dbRole);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      }
      const { client, close: closeTemporal } = await connectClient(settings);
      const pool = createPool(databaseUrl, { max: 8 });
      if (opts.auth === 'off') process.stderr.write('WARNING: --auth off: anyone who can reach this port may read and change deployments, canaries and keys. For local use only.\n');
      const server = await startApiServer({ pool, databaseUrl, temporal: client, port, host: opts.host, auth: opts.auth === 'on', consoleDir: opts.consoleDir, temporalUi: temporalUi?.replace(/\/+$/, '') ?? null });
      process.stdout.write(`control-plane API on ${server.url} (OpenAPI: ${server.url}/openapi.json)\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stdout.write(`${signal}: stopping\n`);
          server
            .close()
            .then(() => Promise.all([pool.end(), closeTemporal()]))
            .then(
              () => resolve(),
              (err) => {
                process.stderr.write(`error while stopping: ${(err as Error).message}\n`);
                process.exitCode = 1;
                resolve();
              },
            );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
    });
}
