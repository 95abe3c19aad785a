import { mkdtempSync, readdirSync, copyFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { defaultMigrationsDir, loadMigrations, migrate } from './migrate';

describe('migrate', () => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    await db.drop();
  });

  it('applies every migration on an empty database, and a second run is a no-op', async () => {
    const all = loadMigrations().map((m) => m.file);
    expect(all.length).toBeGreaterThanOrEqual(4);
    const first = await migrate(db.pool);
    expect(first.applied).toEqual(all);
    const tablesAfterFirst = await tables(db.pool);
    const second = await migrate(db.pool);
    expect(second.applied).toEqual([]);
    expect(second.current).toBe(first.current);
    expect(await tables(db.pool)).toEqual(tablesAfterFirst);
    const { rows } = await db.pool.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(loadMigrations().map((m) => m.version));
    expect(tablesAfterFirst).toEqual(
      expect.arrayContaining([
        'models', 'model_versions', 'aliases', 'deployments', 'audit_log', 'runs', 'run_metrics',
        'decisions', 'rewards', 'evaluations', 'schema_migrations',
      ]),
    );
    // The decision log's table is written once per decision served: only the indexes its readers use.
    const idx = await db.pool.query("SELECT indexname FROM pg_indexes WHERE tablename = 'decisions' ORDER BY indexname");
    expect(idx.rows.map((r) => r.indexname)).toEqual(['decisions_deployment_time_idx', 'decisions_pkey']);
  });

  it('is safe when two processes (two pools) migrate the same database at once', async () => {
    const other = new Pool({ connectionString: db.url, max: 2 });
    try {
      const [a, b] = await Promise.all([migrate(db.pool), migrate(other)]);
      const all = loadMigrations().map((m) => m.file);
      // Exactly one of them did the work; the other waited on the lock and found nothing to do.
      expect([...a.applied, ...b.applied].sort()).toEqual(all);
      expect([a.applied.length, b.applied.length].sort()).toEqual([0, all.length]);
      const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(rows[0].n).toBe(all.length);
    } finally {
      await other.end();
    }
  });

  it('refuses an applied migration whose file changed, naming the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-migrations-'));
    try {
      for (const f of readdirSync(defaultMigrationsDir())) copyFileSync(join(defaultMigrationsDir(), f), join(dir, f));
      await migrate(db.pool, { dir });
      appendFileSync(join(dir, '002_runs.sql'), '\n-- edited\n');
      await expect(migrate(db.pool, { dir })).rejects.toThrow(/migration 002_runs\.sql was changed after it was applied/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rolls a failing migration back whole and records nothing for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ap-migrations-'));
    try {
      copyFileSync(join(defaultMigrationsDir(), '001_models.sql'), join(dir, '001_models.sql'));
      appendFileSync(join(dir, '002_broken.sql'), 'CREATE TABLE half_done (x int);\nSELECT * FROM no_such_table;\n');
      await expect(migrate(db.pool, { dir })).rejects.toThrow(/migration 002_broken\.sql failed and was rolled back: .*no_such_table/);
      expect(await tables(db.pool)).not.toContain('half_done');
      const { rows } = await db.pool.query('SELECT version FROM schema_migrations');
      expect(rows.map((r) => r.version)).toEqual([1]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

async function tables(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((r) => r.table_name as string);
}
