import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Db } from '../../registry/db';
import { revokeKey } from '../../registry/keys';
import { migrate } from '../../registry/migrate';
import { createTestDatabase, type TestDatabase } from '../../test/support/pg';
import { apiKeyFor, devKeyPath, ensureDevKey } from './api-key';

describe('the dev stack API key', () => {
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    await migrate(db.pool);
    dir = mkdtempSync(join(tmpdir(), 'ap-dev-key-'));
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is made once, kept owner-only, reused while active and replaced once revoked', async () => {
    const first = await ensureDevKey(db.pool, dir);
    expect(first.created).toBe(true);
    expect(readFileSync(devKeyPath(dir), 'utf8').trim()).toBe(first.token);
    expect(statSync(devKeyPath(dir)).mode & 0o777).toBe(0o600);
    const { rows } = await db.pool.query('SELECT scopes, revoked_at FROM api_keys WHERE key_id = $1', [first.keyId]);
    expect(rows).toEqual([{ scopes: ['admin'], revoked_at: null }]);
    expect(await ensureDevKey(db.pool, dir)).toEqual({ ...first, created: false });
    await revokeKey(Db.fromPool(db.pool), first.keyId);
    const second = await ensureDevKey(db.pool, dir);
    expect(second.created).toBe(true);
    expect(second.keyId).not.toBe(first.keyId);
    // CLI commands send AUTOPILOT_API_KEY first, else the stack's token, else none.
    expect(apiKeyFor(dir, { AUTOPILOT_API_KEY: 'apk_from_env' })).toBe('apk_from_env');
    expect(apiKeyFor(dir, {})).toBe(second.token);
    expect(apiKeyFor(join(dir, 'nothing-here'), {})).toBeNull();
  });
});
