/**
 * Turns the `features` of a decide request into the model's float32 input, validated.
 *
 * Accepted forms:
 *   [0.1, 2, …]                     exactly `size` finite numbers, in input order
 *   { quality_p50: 0.8, … }         every feature name of the version's signature, nothing else
 *   { entity: "user:42", …named }   the named inputs are read from the Redis hash `<prefix>user:42`
 *                                   (the online feature store); names given in the request win
 * Anything else is a ClientError naming the field (`features.3`, `features.latency_p95`,
 * `features.entity`) and what was expected. A missing entity, or a hash lacking some inputs, is a 4xx:
 * the server never fills a zero vector.
 */
import { ClientError, badRequest, describeValue, parseKey, unavailable } from './http/errors';
import type { PolicyBinding } from './policy/binding';

/** Reads one hash from the online feature store (ioredis' `hgetall` shape: {} when absent). */
export interface FeatureStore {
  hgetall(key: string): Promise<Record<string, string>>;
}

const FLOAT32_MAX = 3.4028234663852886e38;

function checkNumber(v: unknown, field: string): number {
  if (typeof v !== 'number') throw badRequest(`${field} must be a number, got ${describeValue(v)}`, field, 'a finite number');
  if (!Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
    throw badRequest(`${field} must be finite, got ${describeValue(v)}`, field, 'a finite number within float32 range');
  }
  return v;
}

function expectedNames(binding: PolicyBinding): string {
  const f = binding.input.features!;
  return f.length <= 20 ? f.join(', ') : `${f.slice(0, 20).join(', ')}, … (${f.length} names)`;
}

/**
 * Fills `out` (length binding.input.size) from an array or a keyed object; returns the entity to look
 * up when the object names one (the named values already written; `missing` lists what Redis must fill).
 */
export function parseFeatures(value: unknown, binding: PolicyBinding, out: Float32Array): { entity: string; missing: number[] } | null {
  const size = binding.input.size;
  if (Array.isArray(value)) {
    if (value.length !== size) {
      throw badRequest(`features has ${value.length} values; this model takes ${size}`, 'features', `an array of ${size} numbers${binding.input.features ? ` or an object keyed by ${expectedNames(binding)}` : ''}`);
    }
    for (let i = 0; i < size; i++) out[i] = checkNumber(value[i], `features.${i}`);
    return null;
  }
  if (value === null || typeof value !== 'object') {
    throw badRequest(`features must be an array or an object, got ${describeValue(value)}`, 'features', `an array of ${size} numbers, an object keyed by feature name, or { entity }`);
  }
  const names = binding.input.features;
  const obj = value as Record<string, unknown>;
  const hasEntity = Object.prototype.hasOwnProperty.call(obj, 'entity') && !(names?.includes('entity') ?? false);
  if (names === null) {
    throw badRequest('features must be an array: this model version has no feature names in its signature', 'features', `an array of ${size} numbers`);
  }
  let entity: string | null = null;
  if (hasEntity) {
    entity = parseKey(obj.entity, 'features.entity', 'an entity key such as "user:42"', false);
  }
  const index = indexOf(binding);
  const seen = new Uint8Array(size);
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    if (key === 'entity' && hasEntity) continue;
    const i = index.get(key);
    if (i === undefined) throw badRequest(`features.${key} is not an input of this model`, `features.${key}`, `one of ${expectedNames(binding)}`);
    out[i] = checkNumber(obj[key], `features.${key}`);
    seen[i] = 1;
  }
  const missing: number[] = [];
  for (let i = 0; i < size; i++) if (seen[i] === 0) missing.push(i);
  if (entity !== null) return { entity, missing };
  if (missing.length > 0) {
    const list = missing.map((i) => names[i]);
    throw badRequest(
      `features is missing ${list.length} input${list.length > 1 ? 's' : ''}: ${list.slice(0, 10).join(', ')}${list.length > 10 ? ', …' : ''}`,
      `features.${list[0]}`,
      `a number for every input (${expectedNames(binding)}), or { entity } to read them from the feature store`,
    );
  }
  return null;
}

const indexCache = new WeakMap<PolicyBinding, Map<string, number>>();
function indexOf(binding: PolicyBinding): Map<string, number> {
  let m = indexCache.get(binding);
  if (m === undefined) {
    m = new Map(binding.input.features!.map((n, i) => [n, i]));
    indexCache.set(binding, m);
  }
  return m;
}

/** Fills the `missing` inputs from the entity's Redis hash, or throws a 4xx naming what is absent. */
export async function fillFromStore(
  store: FeatureStore | null,
  prefix: string,
  entity: string,
  missing: number[],
  binding: PolicyBinding,
  out: Float32Array,
): Promise<Record<string, number>> {
  if (store === null) throw new ClientError(400, 'this server has no feature store configured', 'features.entity', 'features given inline (array or object)');
  let hash: Record<string, string>;
  try {
    hash = await store.hgetall(`${prefix}${entity}`);
  } catch (err) {
    // A 503 with Retry-After: the feature store (Redis) is down, not our bug (issue "Trust" item 6).
    throw unavailable('cannot read the entity\'s features', err, 'the feature store');
  }
  const names = binding.input.features!;
  if (Object.keys(hash).length === 0) {
    throw new ClientError(404, `entity ${JSON.stringify(entity)} has no features in the feature store`, 'features.entity', 'an entity whose features were written to the feature store');
  }
  const absent: string[] = [];
  const used: Record<string, number> = {};
  for (const i of missing) {
    const raw = hash[names[i]];
    if (raw === undefined) {
      absent.push(names[i]);
      continue;
    }
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
      // The stored value is not echoed: it is the store's data, not the caller's (issue "Trust" item 7).
      throw new ClientError(422, `feature ${names[i]} of entity ${JSON.stringify(entity)} is not a finite number in the feature store`, `features.${names[i]}`, 'a finite number stored for this entity');
    }
    out[i] = v;
    used[names[i]] = v;
  }
  if (absent.length > 0) {
    throw new ClientError(
      422,
      `entity ${JSON.stringify(entity)} lacks ${absent.length} input${absent.length > 1 ? 's' : ''} in the feature store: ${absent.slice(0, 10).join(', ')}${absent.length > 10 ? ', …' : ''}`,
      `features.${absent[0]}`,
      'every input of the model stored for the entity, or given in the request',
    );
  }
  return used;
}
