/**
 * Fixtures for the registry's integration tests: a fresh migrated database, a filesystem artifact
 * store in a temp dir, and stores that fail on purpose (to prove nothing half-written is left).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from 'pg';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { FsArtifactStore } from './artifacts/fs';
import type { ArtifactStore, ObjectInfo, PutResult } from './artifacts/store';
import { Registry } from './index';
import { migrate } from './migrate';
import { REGISTRY_CHANNEL, type RegistryNotification } from './types';

export interface RegistryFixture {
  db: TestDatabase;
  registry: Registry;
  store: FsArtifactStore;
  artifactDir: string;
  close(): Promise<void>;
}

export async function createRegistryFixture(): Promise<RegistryFixture> {
  const db = await createTestDatabase({ poolSize: 12 });
  await migrate(db.pool);
  const artifactDir = mkdtempSync(join(tmpdir(), 'ap-registry-artifacts-'));
  const store = new FsArtifactStore(artifactDir);
  return {
    db,
    store,
    artifactDir,
    registry: new Registry({ pool: db.pool, store }),
    async close() {
      await db.drop();
      rmSync(artifactDir, { recursive: true, force: true });
    },
  };
}

/** Delegates to a real store; `put` can be made to fail (before or after the bytes are written). */
export class FaultyStore implements ArtifactStore {
  failPut: 'before' | 'after-write' | null = null;
  /** Fail only the n-th put (1-based) when set; earlier puts succeed. */
  failAtPut: number | null = null;
  puts = 0;
  readonly scheme: string;
  constructor(private readonly inner: ArtifactStore) {
    this.scheme = inner.scheme;
  }
  async put(key: string, body: Readable | Buffer | Uint8Array | string, opts?: { contentType?: string }): Promise<PutResult> {
    this.puts++;
    if (this.failAtPut !== null && this.puts !== this.failAtPut) return this.inner.put(key, body, opts);
    if (this.failPut === 'before') {
      if (typeof (body as Readable).destroy === 'function') (body as Readable).destroy();
      throw new Error('injected upload failure (connection reset)');
    }
    const result = await this.inner.put(key, body, opts);
    if (this.failPut === 'after-write') throw new Error('injected failure after the bytes were written (lost response)');
    return result;
  }
  getStream(key: string, opts?: { expectedSha256?: string }) { return this.inner.getStream(key, opts); }
  getBuffer(key: string, opts?: { expectedSha256?: string }) { return this.inner.getBuffer(key, opts); }
  head(key: string): Promise<ObjectInfo | null> { return this.inner.head(key); }
  delete(key: string) { return this.inner.delete(key); }
  list(prefix: string) { return this.inner.list(prefix); }
  keyFromUri(uri: string) { return this.inner.keyFromUri(uri); }
}

/** A LISTEN client on the registry channel that collects every notification it receives. */
export async function listenRegistry(url: string): Promise<{
  received: RegistryNotification[];
  waitFor(pred: (n: RegistryNotification) => boolean, timeoutMs?: number): Promise<RegistryNotification>;
  close(): Promise<void>;
}> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const received: RegistryNotification[] = [];
  const waiters: (() => void)[] = [];
  client.on('notification', (msg) => {
    if (msg.channel !== REGISTRY_CHANNEL || !msg.payload) return;
    received.push(JSON.parse(msg.payload) as RegistryNotification);
    for (const w of waiters.splice(0)) w();
  });
  await client.query(`LISTEN ${REGISTRY_CHANNEL}`);
  return {
    received,
    async waitFor(pred, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find(pred);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no matching notification within ${timeoutMs} ms; received ${JSON.stringify(received)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    async close() {
      await client.end();
    },
  };
}

/** Count of audit rows, optionally of one action. */
export async function auditCount(registry: Registry, action?: string): Promise<number> {
  const { rows } = await registry.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM audit_log ${action ? 'WHERE action = $1' : ''}`,
    action ? [action] : [],
  );
  return rows[0].n;
}

export const ACTOR = 'test:registry';
