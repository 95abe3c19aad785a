/**
 * The feature store against real PostgreSQL and Redis: point-in-time reads return the values as they
 * were (never a later one), the batch loader copies the latest values to the online hashes with their
 * timestamp, and never overwrites fresher online values.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../test/support/pg';
import { Db } from '../registry/db';
import { featuresAsOf, latestFeatures, loadOnlineFeatures, putFeatures, UPDATED_AT_FIELD, writeOnlineFeatures } from './index';
import { migrate } from '../registry/migrate';

const t = (iso: string) => new Date(iso);

describe('feature store', () => {
  let tdb: TestDatabase;
  let db: Db;
  let redis: Redis;
  const prefix = `test-features-${randomBytes(4).toString('hex')}:`;

  beforeAll(async () => {
    tdb = await createTestDatabase();
    await migrate(tdb.pool);
    db = Db.fromPool(tdb.pool);
    redis = new Redis('redis://127.0.0.1:6379');
    await putFeatures(db, [
      { entity: 'user:1', features: { complexity: 0.2, length: 10 }, validFrom: t('2026-01-01T00:00:00Z') },
      { entity: 'user:1', features: { complexity: 0.9 }, validFrom: t('2026-01-02T00:00:00Z') },
      { entity: 'user:1', features: { length: 30 }, validFrom: t('2026-01-03T00:00:00Z') },
      { entity: 'user:2', features: { complexity: 0.5, length: 7 }, validFrom: t('2026-01-02T12:00:00Z') },
    ]);
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await tdb.drop();
  });

  it('reads the features as they were at a time, each feature at its own newest valid value', async () => {
    expect(await featuresAsOf(db, 'user:1', t('2025-12-31T23:59:59Z'))).toBeNull();
    expect((await featuresAsOf(db, 'user:1', t('2026-01-01T00:00:00Z')))!.features).toEqual({ complexity: 0.2, length: 10 });
    const mid = await featuresAsOf(db, 'user:1', t('2026-01-02T18:00:00Z'));
    expect(mid).toEqual({ entity: 'user:1', features: { complexity: 0.9, length: 10 }, validFrom: t('2026-01-02T00:00:00Z') });
    expect((await featuresAsOf(db, 'user:1', t('2026-02-01T00:00:00Z')))!.features).toEqual({ complexity: 0.9, length: 30 });
    expect(await featuresAsOf(db, 'user:2', t('2026-01-02T11:59:59Z'))).toBeNull();
  });

  it('refuses bad rows by field', async () => {
    await expect(putFeatures(db, [{ entity: 'user:3', features: { 'bad name': 1 } }])).rejects.toThrow(/rows\.0\.features\.bad name/);
    await expect(putFeatures(db, [{ entity: 'user:3', features: { x: Number.NaN } }])).rejects.toThrow(/finite number/);
    await expect(putFeatures(db, [{ entity: '', features: { x: 1 } }])).rejects.toThrow(/rows\.0\.entity/);
  });

  it('loads the latest values online with their timestamp, and keeps fresher online values', async () => {
    const asOf = t('2026-01-02T18:00:00Z');
    expect((await latestFeatures(db, { asOf })).map((e) => e.entity).sort()).toEqual(['user:1', 'user:2']);
    // A fresher online write for user:2 (after its offline value) must survive the load.
    await writeOnlineFeatures(redis, [{ entity: 'user:2', features: { complexity: 0.99, length: 8 }, validFrom: t('2026-01-05T00:00:00Z') }], prefix);
    const r = await loadOnlineFeatures(db, redis, { prefix });
    expect(r).toEqual({ entities: 2, written: 1, stale: 1 });
    expect(await redis.hgetall(`${prefix}user:1`)).toEqual({ complexity: '0.9', length: '30', [UPDATED_AT_FIELD]: String(t('2026-01-03T00:00:00Z').getTime()) });
    expect((await redis.hgetall(`${prefix}user:2`)).complexity).toBe('0.99');
    // Incremental: nothing changed after the 3rd for user:1 → not selected.
    expect((await loadOnlineFeatures(db, redis, { prefix, since: t('2026-01-03T00:00:00Z') })).entities).toBe(0);
  });
});
