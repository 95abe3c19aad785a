/**
 * `autopilot serve`: the inference server (POST /v1/decide, /v1/rewards, KServe v2, /metrics) as its
 * own process. Registry, Redis and the artifact store come from config/settings.ts; SIGTERM or SIGINT
 * stops accepting requests, finishes those in flight, flushes the decision log and exits 0.
 */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { DURABILITIES, optionsFromSettings, startInferenceServer, withDbRole, type Durability } from '../../inference/server';
import { CliError } from '../errors';

function parseSize(text: string, flag = '--max-body', max = 64 * 1024 * 1024): number {
  const m = /^(\d+)\s*(b|kb|kib|k|mb|mib|m)?$/i.exec(text.trim());
  if (!m) throw new CliError(`${flag} ${JSON.stringify(text)}: expected a size such as 65536, 64kb or 1mb`);
  const unit = (m[2] ?? 'b').toLowerCase();
  const mult = unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 * 1024 : 1;
  const n = Number(m[1]) * mult;
  if (n < 256 || n > max) throw new CliError(`${flag} ${text}: expected between 256 bytes and ${max / 1024 / 1024}mb`);
  return n;
}

/** `--journal-max-bytes`: bytes, or with kb/mb/gb; at least 64 KiB (a segment's header and a few rows). */
function parseJournalSize(text: string): number {
  const m = /^(\d+)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?$/i.exec(text.trim());
  const unit = (m?.[2] ?? 'b').toLowerCase();
  const n = m === null ? NaN : Number(m[1]) * (unit.startsWith('k') ? 1024 : unit.startsWith('m') ? 1024 ** 2 : unit.startsWith('g') ? 1024 ** 3 : 1);
  if (!(n >= 64 * 1024 && Number.isSafeInteger(n))) throw new CliError(`--journal-max-bytes ${JSON.stringify(text)}: expected a size of at least 64kb, such as 512mb or 4gb`);
  return n;
}

function parsePort(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new CliError(`--port ${JSON.stringify(text)}: expected an integer in 0..65535`);
  return n;
}

/** --header-timeout, --body-timeout (seconds, fractions allowed) and --max-connections, checked. */
export function overloadFlags(opts: { headerTimeout: string; bodyTimeout: string; maxConnections: string }): { headersTimeoutMs: number; bodyTimeoutMs: number; maxConnections: number } {
  const seconds = (flag: string, text: string): number => {
    const n = Number(text);
    if (!(n >= 0.1 && n <= 3600)) throw new CliError(`${flag} ${JSON.stringify(text)}: expected seconds in 0.1..3600`);
    return Math.round(n * 1000);
  };
  const maxConnections = Number(opts.maxConnections);
  if (!Number.isInteger(maxConnections) || maxConnections < 1 || maxConnections > 1_000_000) throw new CliError(`--max-connections ${JSON.stringify(opts.maxConnections)}: expected an integer in 1..1000000`);
  return { headersTimeoutMs: seconds('--header-timeout', opts.headerTimeout), bodyTimeoutMs: seconds('--body-timeout', opts.bodyTimeout), maxConnections };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the inference server: /v1/decide, /v1/rewards, KServe v2 (/v2/...) and /metrics')
    .option('-p, --port <port>', 'port to listen on', '8080')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--cache-dir <dir>', 'last-known-good artifacts, deployment records and the decision journal (default <data dir>/inference)')
    .option('--max-body <size>', 'request body limit of decide and rewards (413 above)', '64kb')
    .option('--max-infer-body <size>', 'request body limit of KServe v2 infer (413 above)', '8mb')
    .option('--max-reward-batch <n>', 'most rewards in one batch POST /v1/rewards { rewards: [...] } (413 above)', '500')
    .option('--reconcile <seconds>', 'periodic re-read of every deployment (NOTIFY applies changes at once)', '15')
    .option('--decision-batch <rows>', 'decision log: rows per COPY batch', '512')
    .option('--decision-flush <ms>', 'decision log: longest a row waits for a batch to fill', '25')
    // Durability of the decision and reward logs (issue 19 item 4; inference/decisions/log.ts).
    .option('--decision-durability <mode>', 'async: answer before the row is durable (rows at risk bounded, exported as autopilot_decision_log_rows_at_risk); journal: answer once the row is fsynced in the local journal (group commit)', 'async')
    .option('--journal-max-bytes <size>', 'cap of each local journal (decisions, rewards), e.g. 512mb; at the cap rows are refused (journal: 503) or counted lost (async)')
    .option('--no-redis', 'no feature store: { entity } features are refused')
    .option('--no-fast-path', 'read every request with node:http (no HTTP fast path; slower, for comparison or a client the fast path mishandles)')
    // Slow clients and floods (inference/http/overload.ts)
    .option('--header-timeout <seconds>', "absolute deadline for a request's headers, from its first byte (408 and close after it)", '10')
    .option('--body-timeout <seconds>', "absolute deadline for a request's body, from the end of its headers (408 and close after it)", '30')
    .option('--max-connections <n>', 'most open client connections; one more is answered 503 with Retry-After and closed', '10000')
    .option('--auth <on|off>', 'require an API key (Authorization: Bearer …) on /v1 and /v2; off is for local development only', 'on')
    .option('--db-role <role>', 'run every database connection as this role (SET ROLE at connect), e.g. autopilot_inference (migration 011)')
    .action(async (opts: { port: string; host: string; cacheDir?: string; maxBody: string; maxInferBody: string; maxRewardBatch: string; reconcile: string; decisionBatch: string; decisionFlush: string; redis: boolean; fastPath: boolean; headerTimeout: string; bodyTimeout: string; maxConnections: string; decisionDurability: string; journalMaxBytes?: string; auth: string; dbRole?: string }) => {
      if (opts.auth !== 'on' && opts.auth !== 'off') throw new CliError(`--auth ${JSON.stringify(opts.auth)}: expected on or off`);
      const settings = loadSettings();
      const base = optionsFromSettings(settings);
      const reconcile = Number(opts.reconcile);
      if (!(reconcile >= 1 && reconcile <= 3600)) throw new CliError(`--reconcile ${opts.reconcile}: expected seconds in 1..3600`);
      const maxRewardBatch = Number(opts.maxRewardBatch);
      if (!Number.isInteger(maxRewardBatch) || maxRewardBatch < 1 || maxRewardBatch > 100_000) throw new CliError(`--max-reward-batch ${opts.maxRewardBatch}: expected an integer in 1..100000`);
      const batchSize = Number(opts.decisionBatch);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new CliError(`--decision-batch ${opts.decisionBatch}: expected an integer in 1..10000`);
      const flushIntervalMs = Number(opts.decisionFlush);
      if (!(flushIntervalMs >= 1 && flushIntervalMs <= 10_000)) throw new CliError(`--decision-flush ${opts.decisionFlush}: expected milliseconds in 1..10000`);
      if (!DURABILITIES.includes(opts.decisionDurability as Durability)) throw new CliError(`--decision-durability ${JSON.stringify(opts.decisionDurability)}: expected one of ${DURABILITIES.join(', ')}`);
      const decisionDurability = opts.decisionDurability as Durability;
      const journalMaxBytes = opts.journalMaxBytes === undefined ? undefined : parseJournalSize(opts.journalMaxBytes);
      let databaseUrl = base.databaseUrl;
      if (opts.dbRole !== undefined) {
        try {
          databaseUrl = withDbRole(databaseUrl, opts.dbRole);
        } catch (err) {
          throw new CliError((err as Error).message);
        }
      }
      if (opts.auth === 'off') process.stderr.write('WARNING: --auth off: anyone who can reach this server may decide, post rewards and read models, without an API key. For local development only.\n');
      const server = await startInferenceServer({
        ...base,
        databaseUrl,
        auth: opts.auth === 'on',
        redisUrl: opts.redis ? base.redisUrl : null,
        cacheDir: opts.cacheDir ?? base.cacheDir,
        port: parsePort(opts.port),
        host: opts.host,
        maxBodyBytes: parseSize(opts.maxBody),
        maxInferBodyBytes: parseSize(opts.maxInferBody, '--max-infer-body', 256 * 1024 * 1024),
        httpFastPath: opts.fastPath,
        reconcileIntervalMs: reconcile * 1000,
        maxRewardBatch,
        decisionLog: { batchSize, flushIntervalMs },
        overload: overloadFlags(opts),
        decisionDurability,
        journalMaxBytes,
      });
      process.stdout.write(`serving on ${server.url} (deployments: ${server.manager.names().join(', ') || 'none yet'})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.stdout.write(`${signal}: draining\n`);
          server.close().then(
            (stats) => {
              process.stdout.write(`stopped: ${stats.written} decisions written, ${stats.journalPending} left in the journal, ${stats.lost} lost\n`);
              resolve();
            },
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
