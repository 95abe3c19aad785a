/**
 * Versioned SQL migrations: `registry/migrations/NNN_name.sql`, applied in order, each in its own
 * transaction, recorded in `schema_migrations(version, name, checksum, applied_at)`.
 *
 * - Safe to run from several processes at once: the whole run holds a Postgres advisory lock, so a
 *   second migrator waits and then finds nothing left to do.
 * - Idempotent: applied versions are skipped.
 * - An applied file that changed since (checksum differs) is an error naming the file: write a new
 *   migration instead of editing an old one.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Pool } from 'pg';

/** Arbitrary constant identifying "the registry migrator" among advisory locks. */
const MIGRATION_LOCK_KEY = '8242730117';

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Files applied by this call, in order (empty when the schema was already current). */
  applied: string[];
  /** Highest version now applied. */
  current: number;
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

/** The migrations folder (beside this file; `dist/` builds fall back to the source tree). */
export function defaultMigrationsDir(): string {
  const here = resolve(__dirname, 'migrations');
  if (existsSync(here)) return here;
  return resolve(__dirname, '..', '..', 'registry', 'migrations');
}

export function loadMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const migrations: Migration[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.sql')) continue;
    const m = /^(\d{3,})_([a-z0-9_]+)\.sql$/.exec(file);
    if (!m) throw new MigrationError(`migration file ${join(dir, file)}: name must look like NNN_snake_case.sql`);
    const sql = readFileSync(join(dir, file), 'utf8');
    migrations.push({
      version: Number(m[1]),
      name: m[2],
      file,
      sql,
      checksum: createHash('sha256').update(sql).digest('hex'),
    });
  }
  migrations.sort((a, b) => a.version - b.version);
  for (let i = 1; i < migrations.length; i++) {
    if (migrations[i].version === migrations[i - 1].version) {
      throw new MigrationError(
        `migrations ${migrations[i - 1].file} and ${migrations[i].file} share version ${migrations[i].version}; each version must be unique`,
      );
    }
  }
  return migrations;
}

export async function migrate(
  pool: Pool,
  opts: { dir?: string; log?: (line: string) => void } = {},
): Promise<MigrateResult> {
  const migrations = loadMigrations(opts.dir);
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version     integer PRIMARY KEY,
        name        text NOT NULL,
        checksum    char(64) NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      )`);
      const { rows } = await client.query<{ version: number; name: string; checksum: string }>(
        'SELECT version, name, checksum FROM schema_migrations ORDER BY version',
      );
      const applied = new Map(rows.map((r) => [r.version, r]));
      for (const m of migrations) {
        const done = applied.get(m.version);
        if (done && done.checksum !== m.checksum) {
          throw new MigrationError(
            `migration ${m.file} was changed after it was applied (checksum ${m.checksum.slice(0, 12)}…, ` +
              `applied ${done.checksum.slice(0, 12)}…); never edit an applied migration, add a new one instead`,
          );
        }
      }
      const result: MigrateResult = { applied: [], current: rows.length ? rows[rows.length - 1].version : 0 };
      for (const m of migrations) {
        if (applied.has(m.version)) continue;
        await client.query('BEGIN');
        try {
          await client.query(m.sql);
          await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [
            m.version,
            m.name,
            m.checksum,
          ]);
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationError(`migration ${m.file} failed and was rolled back: ${(err as Error).message}`);
        }
        opts.log?.(`applied ${m.file}`);
        result.applied.push(m.file);
        result.current = Math.max(result.current, m.version);
      }
      return result;
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}
