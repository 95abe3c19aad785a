/**
 * `autopilot features put | get | load` — the feature store from the shell.
 *
 *   autopilot features put user:42 complexity=0.7 length=120 [--valid-from 2026-01-01T00:00:00Z]
 *       appends the values to the offline table (PostgreSQL) and writes them to the online store (Redis
 *       hash features:user:42, with _updated_at) unless the online values are newer
 *   autopilot features get user:42 [--as-of TIME] [--online]
 *       the values as they were at TIME (point in time, offline), or the online hash with its age
 *   autopilot features load [--since TIME] [--entity E …]
 *       the batch loader: the latest offline values → the online store
 */
import type { Command } from 'commander';
import { Redis } from 'ioredis';
import { loadSettings } from '../../config/settings';
import { Db } from '../../registry/db';
import { ValidationError } from '../../registry/errors';
import { UPDATED_AT_FIELD, featuresAsOf, loadOnlineFeatures, putFeatures, writeOnlineFeatures } from '../../feature-store';
import { withPool } from '../../registry/pool';
import { CliError } from '../errors';
import { emit } from '../output';

function parseTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const t = new Date(text);
  if (Number.isNaN(t.getTime())) throw new CliError(`${flag} ${JSON.stringify(text)}: expected an ISO time such as 2026-01-01T12:00:00Z`, 2);
  return t;
}

export function parseAssignments(pairs: string[]): Record<string, number> {
  if (pairs.length === 0) throw new CliError('expected at least one name=value', 2);
  const out: Record<string, number> = {};
  for (const p of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_.]{0,63})=(.+)$/.exec(p);
    const v = m ? Number(m[2]) : NaN;
    if (!m || m[2].trim() === '' || !Number.isFinite(v)) throw new CliError(`${JSON.stringify(p)}: expected name=number, e.g. complexity=0.7`, 2);
    out[m[1]] = v;
  }
  return out;
}

async function withStores<T>(fn: (db: Db, redis: Redis, prefix: string) => Promise<T>): Promise<T> {
  const s = loadSettings();
  const redis = new Redis(s.redisUrl, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect().catch((err: Error) => {
      throw new CliError(`cannot reach Redis at ${s.redisUrl}: ${err.message}`);
    });
    return await withPool(s.databaseUrl, (pool) => fn(Db.fromPool(pool), redis, process.env.AUTOPILOT_FEATURE_PREFIX ?? 'features:'));
  } catch (err) {
    if (err instanceof ValidationError) throw new CliError(err.message, 2);
    if ((err as { code?: string }).code === '42P01') throw new CliError('the feature_values table is missing: run `autopilot db migrate`');
    throw err;
  } finally {
    redis.disconnect();
  }
}

export function register(program: Command): void {
  const cmd = program.command('features').description('the feature store: offline history in PostgreSQL, latest values online in Redis');
  cmd
    .command('put <entity> <assignments...>')
    .description('append name=value features of an entity (offline) and write them online')
    .option('--valid-from <time>', 'when the values became true (default now)')
    .option('--json', 'print the result as JSON')
    .action(async (entity: string, assignments: string[], opts: { validFrom?: string; json?: boolean }) => {
      const features = parseAssignments(assignments);
      const validFrom = parseTime(opts.validFrom, '--valid-from') ?? new Date();
      const r = await withStores(async (db, redis, prefix) => {
        const off = await putFeatures(db, [{ entity, features, validFrom }]);
        const on = await writeOnlineFeatures(redis, [{ entity, features, validFrom }], prefix);
        return { entity, features, validFrom: validFrom.toISOString(), offlineRows: off.written, online: on.written === 1 ? 'written' : 'kept (online values are newer)' };
      });
      emit(opts.json, r, () => `${entity}: ${Object.keys(features).length} feature(s) valid from ${r.validFrom}; offline ${r.offlineRows} row(s); online ${r.online}`);
    });
  cmd
    .command('get <entity>')
    .description('the features of an entity as of a time (offline, point in time) or online')
    .option('--as-of <time>', 'point in time (default now)')
    .option('--online', 'read the online hash instead, with its age')
    .option('--json', 'print the result as JSON')
    .action(async (entity: string, opts: { asOf?: string; online?: boolean; json?: boolean }) => {
      const asOf = parseTime(opts.asOf, '--as-of') ?? new Date();
      const r = await withStores(async (db, redis, prefix) => {
        if (opts.online) {
          const h = await redis.hgetall(`${prefix}${entity}`);
          if (Object.keys(h).length === 0) throw new CliError(`entity ${entity} has no online features (key ${prefix}${entity})`, 3);
          const updated = h[UPDATED_AT_FIELD] === undefined ? null : Number(h[UPDATED_AT_FIELD]);
          delete h[UPDATED_AT_FIELD];
          return { entity, features: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, Number(v)])), validFrom: updated === null ? null : new Date(updated).toISOString(), ageSeconds: updated === null ? null : (Date.now() - updated) / 1000 };
        }
        const f = await featuresAsOf(db, entity, asOf);
        if (f === null) throw new CliError(`entity ${entity} has no features valid at ${asOf.toISOString()}`, 3);
        return { entity, features: f.features, validFrom: f.validFrom.toISOString(), asOf: asOf.toISOString() };
      });
      emit(opts.json, r, () => `${entity} (valid from ${r.validFrom ?? 'unknown'}):\n${Object.entries(r.features).map(([k, v]) => `  ${k} = ${v}`).join('\n')}`);
    });
  cmd
    .command('load')
    .description('batch loader: copy the latest offline values to the online store (never over newer online values)')
    .option('--since <time>', 'only entities with values valid after this time')
    .option('--entity <entity...>', 'only these entities')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { since?: string; entity?: string[]; json?: boolean }) => {
      const since = parseTime(opts.since, '--since');
      const r = await withStores((db, redis, prefix) => loadOnlineFeatures(db, redis, { prefix, since, entities: opts.entity }));
      emit(opts.json, r, () => `loaded ${r.entities} entities: ${r.written} written online, ${r.stale} kept (online values newer)`);
    });
}
