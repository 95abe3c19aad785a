/** Input checks shared by the registry functions; each failure is a ValidationError naming the field. */
import { ValidationError } from './errors';
import { ARTIFACT_FORMATS, VERSION_STATUSES, type ArtifactFormat, type Json, type JsonObject, type VersionStatus } from './types';

const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ALIAS_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,63}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkModelName(value: unknown, field = 'model'): string {
  if (typeof value !== 'string' || !MODEL_NAME.test(value) || value.includes('..')) {
    throw new ValidationError(field, value, 'a model name of 1-128 letters, digits, ".", "_" or "-", starting with a letter or digit');
  }
  return value;
}

export function checkAliasName(value: unknown, field = 'alias'): string {
  if (typeof value !== 'string' || !ALIAS_NAME.test(value)) {
    throw new ValidationError(field, value, 'an alias of 1-64 letters, digits, ".", "_" or "-", starting with a letter');
  }
  return value;
}

export function checkVersionNumber(value: unknown, field = 'version'): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 2_147_483_647) {
    throw new ValidationError(field, value, 'a version number, an integer >= 1');
  }
  return value;
}

export function checkFormat(value: unknown, field = 'format'): ArtifactFormat {
  if (!ARTIFACT_FORMATS.includes(value as ArtifactFormat)) {
    throw new ValidationError(field, value, `one of ${ARTIFACT_FORMATS.join(', ')}`);
  }
  return value as ArtifactFormat;
}

export function checkStatus(value: unknown, field = 'status'): VersionStatus {
  if (!VERSION_STATUSES.includes(value as VersionStatus)) {
    throw new ValidationError(field, value, `one of ${VERSION_STATUSES.join(', ')}`);
  }
  return value as VersionStatus;
}

export function checkUuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !UUID.test(value)) throw new ValidationError(field, value, 'a UUID such as "3f2b…-…"');
  return value.toLowerCase();
}

export function checkFinite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(field, value, 'a finite number');
  return value;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date) && !Buffer.isBuffer(value);
}

/** `{ name: finite number }` */
export function checkMetrics(value: unknown, field = 'metrics'): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError(field, value, 'an object of metric name to number, e.g. {"reward_mean": 0.71}');
  for (const [k, v] of Object.entries(value)) {
    if (k === '' || k.length > 200) throw new ValidationError(`${field} name`, k, 'a non-empty name of at most 200 characters');
    checkFinite(v, `${field}.${k}`);
  }
  return value as Record<string, number>;
}

/** `{ key: "string value" }` */
export function checkTags(value: unknown, field = 'tags'): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isPlainObject(value)) throw new ValidationError(field, value, 'an object of tag key to string value, e.g. {"env": "prod"}');
  for (const [k, v] of Object.entries(value)) {
    if (k === '' || k.length > 200) throw new ValidationError(`${field} key`, k, 'a non-empty key of at most 200 characters');
    if (typeof v !== 'string') throw new ValidationError(`${field}.${k}`, v, 'a string value');
  }
  return value as Record<string, string>;
}

/** Anything JSON can carry without loss (no undefined, NaN, functions, cycles). */
export function checkJson(value: unknown, field: string): Json {
  const seen = new Set<unknown>();
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw new ValidationError(path, v, 'a finite number (JSON has no NaN or Infinity)');
      return;
    }
    if (Array.isArray(v)) {
      if (seen.has(v)) throw new ValidationError(path, '[cycle]', 'JSON without cycles');
      seen.add(v);
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      seen.delete(v);
      return;
    }
    if (isPlainObject(v)) {
      if (seen.has(v)) throw new ValidationError(path, '[cycle]', 'JSON without cycles');
      seen.add(v);
      for (const [k, x] of Object.entries(v)) if (x !== undefined) walk(x, `${path}.${k}`);
      seen.delete(v);
      return;
    }
    throw new ValidationError(path, typeof v === 'undefined' ? 'undefined' : String(v), 'a JSON value (object, array, string, number, boolean or null)');
  };
  walk(value, field);
  return value as Json;
}

export function checkJsonObject(value: unknown, field: string): JsonObject {
  if (!isPlainObject(value)) throw new ValidationError(field, value, 'a JSON object');
  return checkJson(value, field) as JsonObject;
}

export function checkOptionalText(value: unknown, field: string, max = 1000): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length > max) throw new ValidationError(field, value, `a string of at most ${max} characters`);
  return value;
}

/** JSON with object keys sorted, so two values compare equal however their keys were ordered (jsonb reorders them). */
export function stableJson(value: unknown): string {
  if (value === null || value === undefined || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  return `{${Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(obj[k])}`)
    .join(',')}}`;
}
