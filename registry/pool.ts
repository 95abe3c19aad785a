/** A PostgreSQL pool for the registry, with a readable error when the server cannot be reached. */
import { Pool, type PoolConfig } from 'pg';

export function createPool(databaseUrl: string, opts: Omit<PoolConfig, 'connectionString'> = {}): Pool {
  const pool = new Pool({ connectionString: databaseUrl, ...opts });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` with a pool on `databaseUrl` and always closes it. */
export async function withPool<T>(databaseUrl: string, fn: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = createPool(databaseUrl, { max: 4 });
  try {
    return await fn(pool);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ECONNREFUSED' || code === '3D000' || code === 'ENOTFOUND') {
      throw new Error(`cannot use the registry database ${redact(databaseUrl)}: ${(err as Error).message} (set AUTOPILOT_DATABASE_URL, or run \`autopilot dev up\`)`, { cause: err });
    }
    throw err;
  } finally {
    await pool.end();
  }
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<unparseable database URL>';
  }
}
