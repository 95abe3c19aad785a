/**
 * A small handle over a pg Pool or a client inside a transaction, so every registry function can run
 * on its own or as part of a bigger transaction (`registry.transaction(async (tx) => …)`).
 */
import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

export class Db {
  private constructor(
    private readonly pool: Pool | null,
    private readonly client: PoolClient | null,
  ) {}

  static fromPool(pool: Pool): Db {
    return new Db(pool, null);
  }

  /** True inside `transaction(...)`. */
  get inTransaction(): boolean {
    return this.client !== null;
  }

  query<R extends QueryResultRow = QueryResultRow>(text: string, params: unknown[] = []): Promise<QueryResult<R>> {
    if (this.client) return this.client.query<R>(text, params);
    return this.pool!.query<R>(text, params);
  }

  /** Runs `fn` on one connection (the transaction's, inside `transaction(...)`): for COPY and other streams. */
  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.client) return fn(this.client);
    const client = await this.pool!.connect();
    // A checked-out client has no 'error' listener of the pool's: a connection cut mid-COPY (EPIPE,
    // ECONNRESET) would be an uncaught error. The statement's own promise fails with it; the client is
    // then destroyed rather than returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      broken ??= (err as { code?: unknown }).code === undefined ? (err as Error) : undefined;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  /**
   * Runs `fn` in one transaction: committed if it resolves, rolled back if it throws. Nested calls
   * join the outer transaction (an error anywhere rolls back all of it).
   */
  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.client) return fn(this);
    const client = await this.pool!.connect();
    // As in withClient: a connection cut mid-transaction (or while COMMIT's reply is on its way) must
    // fail the statement's promise, not crash the process with an unhandled 'error' event; the broken
    // client is destroyed rather than returned to the pool.
    let broken: Error | undefined;
    const onError = (err: Error): void => {
      broken = err;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await fn(new Db(null, client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }
}
