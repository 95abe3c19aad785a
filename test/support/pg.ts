/**
 * A throw-away PostgreSQL database per integration test file, so parallel Jest workers never share
 * rows: `createTestDatabase()` creates `ap_test_<random>` on the local server and `drop()` removes it.
 *
 *   const db = await createTestDatabase();
 *   afterAll(() => db.drop());
 *
 * The server is AUTOPILOT_TEST_PG_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres,
 * trust auth); the new database's URL has the same host, port and user.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';

export interface TestDatabase {
  /** Connection string of the fresh database. */
  url: string;
  /** Database name, `ap_test_<hex>`. */
  name: string;
  /** A pool on the fresh database (closed by `drop()`). */
  pool: Pool;
  /** Closes the pool, terminates any other connection to the database and drops it. Idempotent. */
  drop(): Promise<void>;
}

const adminUrl = process.env.AUTOPILOT_TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `cannot reach PostgreSQL at ${adminUrl} for the integration tests (${(err as Error).message}); ` +
        'start it (make test does) or set AUTOPILOT_TEST_PG_ADMIN_URL',
      { cause: err },
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(opts: { poolSize?: number } = {}): Promise<TestDatabase> {
  const name = `ap_test_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(adminUrl, name);
  const pool = new Pool({ connectionString: url, max: opts.poolSize ?? 10 });
  // A test that loses a connection (e.g. terminated by drop) must not crash the Jest worker.
  pool.on('error', () => undefined);
  let dropped = false;
  return {
    url,
    name,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => undefined);
      await admin(async (c) => {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [name]);
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
      });
    },
  };
}
