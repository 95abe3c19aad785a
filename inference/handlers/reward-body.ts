/**
 * The checks every POST /v1/rewards body gets, whoever records it (the registry sink in rewards.ts
 * or a bandit deployment in bandits/serving.ts): only `decisionId`, `reward` and `components`; a
 * uuid decision id; components as at most 64 named finite numbers.
 */
import { expectObject } from '../http/body';
import { badRequest, describeValue } from '../http/errors';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const KEYS = new Set(['decisionId', 'reward', 'components']);

export function finite(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`${field} must be a finite number, got ${describeValue(v)}`, field, 'a finite number');
  return v;
}

/** The body as an object with only the known keys, and its decision id (as sent). */
export function rewardBody(body: unknown): { b: Record<string, unknown>; id: string } {
  const b = expectObject(body);
  for (const key in b) if (!KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only decisionId, reward and components');
  const id = b.decisionId;
  if (typeof id !== 'string' || !UUID.test(id)) {
    throw badRequest(`decisionId must be the uuid a decide call returned, got ${describeValue(id)}`, 'decisionId', 'a uuid such as 3f2b1c9e-…');
  }
  return { b, id };
}

/** `components`, checked; null when absent. */
export function rewardComponents(b: Record<string, unknown>): Record<string, number> | null {
  if (b.components === undefined || b.components === null) return null;
  const c = expectObject(b.components, 'components');
  const keys = Object.keys(c);
  if (keys.length > 64) throw badRequest(`components has ${keys.length} entries`, 'components', 'at most 64 named numbers');
  for (const k of keys) finite(c[k], `components.${k}`);
  return c as Record<string, number>;
}
