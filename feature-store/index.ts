/**
 * The offline feature store (table `feature_values`, migration 006): append-only history of every
 * feature of every entity with the time it became valid, so reads are point-in-time correct.
 *
 *   await putFeatures(db, [{ entity: 'user:42', features: { complexity: 0.7 }, validFrom }]);
 *   await featuresAsOf(db, 'user:42', decision.time);   // { complexity: 0.7 } as it was then
 *   await latestFeatures(db, { since });                // what the batch loader copies to Redis
 */
import type { Db } from '../registry/db';
import { ValidationError } from '../registry/errors';

export interface FeatureRow {
  entity: string;
  features: Record<string, number>;
  /** When these values became true (default: now). */
  validFrom?: Date;
}

export interface EntityFeatures {
  entity: string;
  features: Record<string, number>;
  /** The newest valid_from among the values returned. */
  validFrom: Date;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.]{0,63}$/;

function checkRow(r: FeatureRow, i: number): void {
  if (typeof r.entity !== 'string' || r.entity.length < 1 || r.entity.length > 256) throw new ValidationError(`rows.${i}.entity`, r.entity, 'an entity key of 1 to 256 characters, e.g. "user:42"');
  if (r.features === null || typeof r.features !== 'object' || Array.isArray(r.features) || Object.keys(r.features).length === 0) {
    throw new ValidationError(`rows.${i}.features`, r.features, 'an object of at least one feature name → number');
  }
  for (const [k, v] of Object.entries(r.features)) {
    if (!NAME.test(k)) throw new ValidationError(`rows.${i}.features.${k}`, k, 'a feature name (letters, digits, _ and ., starting with a letter or _)');
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`rows.${i}.features.${k}`, v, 'a finite number');
  }
  if (r.validFrom !== undefined && (!(r.validFrom instanceof Date) || Number.isNaN(r.validFrom.getTime()))) throw new ValidationError(`rows.${i}.validFrom`, r.validFrom, 'a valid Date');
}

/** Appends feature values (one row per entity × name); the same (entity, name, validFrom) again overwrites its value. */
export async function putFeatures(db: Db, rows: readonly FeatureRow[]): Promise<{ written: number }> {
  rows.forEach(checkRow);
  const entities: string[] = [];
  const names: string[] = [];
  const values: number[] = [];
  const times: (string | null)[] = [];
  for (const r of rows) {
    const t = r.validFrom?.toISOString() ?? null;
    for (const [k, v] of Object.entries(r.features)) {
      entities.push(r.entity);
      names.push(k);
      values.push(v);
      times.push(t);
    }
  }
  if (entities.length === 0) return { written: 0 };
  const res = await db.query(
    `INSERT INTO feature_values (entity, name, value, valid_from)
     SELECT e, n, v, COALESCE(t, now()) FROM unnest($1::text[], $2::text[], $3::float8[], $4::timestamptz[]) AS u(e, n, v, t)
     ON CONFLICT (entity, name, valid_from) DO UPDATE SET value = EXCLUDED.value, written_at = now()`,
    [entities, names, values, times],
  );
  return { written: res.rowCount ?? 0 };
}

/** The entity's features as they were at `time` (each feature's newest value valid at or before it); null if none. */
export async function featuresAsOf(db: Db, entity: string, time: Date): Promise<EntityFeatures | null> {
  if (!(time instanceof Date) || Number.isNaN(time.getTime())) throw new ValidationError('time', time, 'a valid Date');
  const { rows } = await db.query(
    `SELECT DISTINCT ON (name) name, value, valid_from FROM feature_values
      WHERE entity = $1 AND valid_from <= $2 ORDER BY name, valid_from DESC`,
    [entity, time.toISOString()],
  );
  if (rows.length === 0) return null;
  const features: Record<string, number> = {};
  let newest = 0;
  for (const r of rows as { name: string; value: number; valid_from: Date }[]) {
    features[r.name] = r.value;
    newest = Math.max(newest, r.valid_from.getTime());
  }
  return { entity, features, validFrom: new Date(newest) };
}

/**
 * The latest features of every entity (as of `asOf`, default now) — what the batch loader writes to
 * the online store. `since`: only entities with a value valid after it (incremental loads).
 */
export async function latestFeatures(db: Db, opts: { asOf?: Date; since?: Date; entities?: string[] } = {}): Promise<EntityFeatures[]> {
  const { rows } = await db.query(
    `SELECT DISTINCT ON (entity, name) entity, name, value, valid_from FROM feature_values
      WHERE valid_from <= COALESCE($1::timestamptz, now())
        AND ($2::timestamptz IS NULL OR entity IN (SELECT entity FROM feature_values WHERE valid_from > $2::timestamptz))
        AND ($3::text[] IS NULL OR entity = ANY($3::text[]))
      ORDER BY entity, name, valid_from DESC`,
    [opts.asOf?.toISOString() ?? null, opts.since?.toISOString() ?? null, opts.entities ?? null],
  );
  const out = new Map<string, EntityFeatures>();
  for (const r of rows as { entity: string; name: string; value: number; valid_from: Date }[]) {
    let e = out.get(r.entity);
    if (e === undefined) out.set(r.entity, (e = { entity: r.entity, features: {}, validFrom: r.valid_from }));
    e.features[r.name] = r.value;
    if (r.valid_from > e.validFrom) e.validFrom = r.valid_from;
  }
  return [...out.values()];
}

/** The part of an ioredis client the online writes use (the registry does not depend on ioredis). */
export interface OnlineFeatureClient {
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Hash field with the time (ms since epoch) the entity's online values became valid: freshness. */
export const UPDATED_AT_FIELD = '_updated_at';

// Writes only when the values are at least as new as what the hash holds, so a batch load of older
// offline rows never overwrites a fresher online write.
const WRITE_IF_NEWER = `
local cur = tonumber(redis.call('HGET', KEYS[1], '${UPDATED_AT_FIELD}') or '0')
if cur > tonumber(ARGV[1]) then return 0 end
for i = 2, #ARGV - 1, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('HSET', KEYS[1], '${UPDATED_AT_FIELD}', ARGV[1])
return 1`;

/** Writes the entities' values to the online store (hash `<prefix><entity>`); returns how many were newer and written. */
export async function writeOnlineFeatures(redis: OnlineFeatureClient, rows: readonly EntityFeatures[], prefix = 'features:'): Promise<{ written: number; stale: number }> {
  let written = 0;
  const results = await Promise.all(
    rows.map((r) => {
      const args: (string | number)[] = [r.validFrom.getTime()];
      for (const [k, v] of Object.entries(r.features)) args.push(k, v);
      return redis.eval(WRITE_IF_NEWER, 1, `${prefix}${r.entity}`, ...args);
    }),
  );
  for (const x of results) if (Number(x) === 1) written++;
  return { written, stale: rows.length - written };
}

/** The batch loader: latest offline values (optionally only entities changed since `since`) → online store. */
export async function loadOnlineFeatures(db: Db, redis: OnlineFeatureClient, opts: { prefix?: string; since?: Date; asOf?: Date; entities?: string[] } = {}): Promise<{ entities: number; written: number; stale: number }> {
  const rows = await latestFeatures(db, opts);
  let written = 0;
  let stale = 0;
  for (let i = 0; i < rows.length; i += 500) {
    const r = await writeOnlineFeatures(redis, rows.slice(i, i + 500), opts.prefix);
    written += r.written;
    stale += r.stale;
  }
  return { entities: rows.length, written, stale };
}
