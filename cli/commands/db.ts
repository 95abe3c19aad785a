/** `autopilot db migrate | status`: the registry's schema. */
import type { Command } from 'commander';
import { loadSettings } from '../../config/settings';
import { loadMigrations, migrate } from '../../registry/migrate';
import { redact, withPool } from '../../registry/pool';
import { emit } from '../output';

export function register(program: Command): void {
  const db = program.command('db').description('the registry database (PostgreSQL)');

  db.command('migrate')
    .description('apply pending registry migrations (safe to run concurrently and repeatedly)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings();
      const result = await withPool(settings.databaseUrl, (pool) => migrate(pool));
      emit(opts.json, { database: redact(settings.databaseUrl), ...result }, () =>
        result.applied.length
          ? `applied ${result.applied.join(', ')} to ${redact(settings.databaseUrl)} (schema version ${result.current})`
          : `${redact(settings.databaseUrl)} is up to date (schema version ${result.current})`,
      );
    });

  db.command('status')
    .description('show applied and pending migrations')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const settings = loadSettings();
      const known = loadMigrations();
      const applied = await withPool(settings.databaseUrl, async (pool) => {
        const exists = await pool.query("SELECT to_regclass('public.schema_migrations') AS t");
        if (!exists.rows[0].t) return [] as { version: number; name: string; applied_at: Date }[];
        const { rows } = await pool.query<{ version: number; name: string; applied_at: Date }>(
          'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
        );
        return rows;
      });
      const done = new Set(applied.map((r) => r.version));
      const pending = known.filter((m) => !done.has(m.version)).map((m) => m.file);
      emit(opts.json, { database: redact(settings.databaseUrl), applied, pending }, () =>
        [
          `database ${redact(settings.databaseUrl)}`,
          ...applied.map((r) => `  applied  ${String(r.version).padStart(3, '0')}_${r.name}  ${r.applied_at.toISOString()}`),
          ...pending.map((f) => `  pending  ${f}`),
        ].join('\n'),
      );
    });
}
