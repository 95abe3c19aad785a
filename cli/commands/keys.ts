/**
 * `autopilot keys create | list | revoke`: the inference server's API keys (registry/keys.ts, R-security).
 *
 *   autopilot keys create rag-tuner --scope decide:rag-tuner --scope reward:rag-tuner --scope read --expires-in 90d
 *   autopilot keys list
 *   autopilot keys revoke k3x7…  --reason "leaked in a log"
 *
 * The token is printed once, at creation; the database keeps only its hash. Servers pick up a new or
 * revoked key within about a second (NOTIFY), without a restart. The audit rows record the database role
 * that ran the command (not a name given on the command line); `--reason` is kept as a note.
 */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { Db } from '../../registry/db';
import { createKey, KEY_SCOPES, listKeys, parseExpiry, revokeKey, type ApiKey } from '../../registry/keys';
import { withPool } from '../../registry/pool';
import { RegistryError, ValidationError } from '../../registry/errors';
import { CliError } from '../errors';
import { emit } from '../output';

/** Registry errors as the CLI's (message only): 2 for bad input, 1 for the rest (not found). */
async function cli<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ValidationError) throw new CliError(err.message, 2);
    if (err instanceof RegistryError) throw new CliError(err.message, 1);
    throw err;
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function state(k: ApiKey, now = Date.now()): string {
  if (k.revokedAt !== null) return `revoked ${k.revokedAt.toISOString()} by ${k.revokedBy ?? '?'}`;
  if (k.expiresAt !== null && k.expiresAt.getTime() <= now) return `expired ${k.expiresAt.toISOString()}`;
  return k.expiresAt === null ? 'active' : `active until ${k.expiresAt.toISOString()}`;
}

export function register(program: Command): void {
  const keys = program.command('keys').description('API keys of the inference server (decide, reward, read, admin scopes)');

  keys
    .command('create <name>')
    .description('create an API key and print its token (shown this once)')
    .option('--scope <scope>', `${KEY_SCOPES.join(' | ')}, optionally limited to a deployment as scope:deployment (repeatable)`, collect, [])
    .option('--expires-in <when>', 'a duration (30d, 12h, 90m, 2w) or an ISO date; default: no expiry')
    .option('--reason <text>', 'a note kept in the audit row')
    .option('--json', 'machine-readable output')
    .action(async (name: string, opts: { scope: string[]; expiresIn?: string; reason?: string; json?: boolean }) => {
      if (opts.scope.length === 0) throw new CliError(`give at least one --scope (${KEY_SCOPES.join(', ')}, or e.g. decide:rag-tuner)`);
      const { token, key } = await cli(async () => {
        const expiresAt = opts.expiresIn === undefined ? null : parseExpiry(opts.expiresIn);
        return withPool(loadSettings().databaseUrl, (pool) => createKey(Db.fromPool(pool), { name, scopes: opts.scope, expiresAt, note: opts.reason }));
      });
      emit(opts.json, { token, ...key }, () =>
        [
          `created API key ${key.keyId} (${key.name}): ${key.scopes.join(', ')}; ${state(key)}`,
          `token (shown once; send it as "Authorization: Bearer <token>", or set AUTOPILOT_API_KEY):`,
          token,
        ].join('\n'),
      );
    });

  keys
    .command('list')
    .description('list API keys (ids, scopes, state; never the secrets)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const all = await withPool(loadSettings().databaseUrl, (pool) => listKeys(Db.fromPool(pool)));
      emit(opts.json, all, () =>
        all.length === 0
          ? 'no API keys (create one with: autopilot keys create <name> --scope …)'
          : all.map((k) => `${k.keyId}  ${k.name}  [${k.scopes.join(', ')}]  created ${k.createdAt.toISOString()} by ${k.createdBy}  ${state(k)}`).join('\n'),
      );
    });

  keys
    .command('revoke <keyId>')
    .description('revoke an API key (servers refuse it within about a second)')
    .option('--reason <text>', 'why (kept in the audit row)')
    .option('--json', 'machine-readable output')
    .action(async (keyId: string, opts: { reason?: string; json?: boolean }) => {
      const { key, changed } = await cli(() => withPool(loadSettings().databaseUrl, (pool) => revokeKey(Db.fromPool(pool), keyId, { note: opts.reason })));
      emit(opts.json, { ...key, changed }, () => (changed ? `revoked ${key.keyId} (${key.name})` : `${key.keyId} (${key.name}) was already revoked: ${state(key)}`));
    });
}
