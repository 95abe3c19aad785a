/**
 * The audit trail and change notifications. Every registry state change calls `recordChange` inside
 * its transaction: one append-only `audit_log` row and one `pg_notify('autopilot_registry', …)`, both
 * committed (or discarded) with the change itself.
 */
import type { Db } from './db';
import { ValidationError } from './errors';
import { REGISTRY_CHANNEL, type AuditEntry, type Json, type RegistryNotification } from './types';

export interface AuditInput {
  /**
   * Who the caller says made the change (free text, kept as a note): not proof. The row's `db_role` (the
   * session's database role, set by a trigger of migration 010) and `key_id` are what the server derives.
   */
  actor: string;
  /** The API key on whose behalf the inference server made the change (server side only). */
  keyId?: string | null;
  /** e.g. `deployment.set`, `canary.evicted` */
  action: string;
  /** model | version | alias | deployment | evaluation | … */
  entity: string;
  model?: string | null;
  /** e.g. `ppo/3` for a version, `ppo:staging` for an alias */
  entityKey?: string | null;
  before?: unknown;
  after?: unknown;
}

export function checkActor(actor: unknown): string {
  if (typeof actor !== 'string' || actor.trim() === '' || actor.length > 200) {
    throw new ValidationError('actor', actor, 'a non-empty string of at most 200 characters naming who made the change (e.g. "cli:alice", "workflow:canary/ppo")');
  }
  return actor;
}

export async function writeAudit(db: Db, entry: AuditInput): Promise<number> {
  checkActor(entry.actor);
  for (const field of ['action', 'entity'] as const) {
    const v = entry[field];
    if (typeof v !== 'string' || !/^[a-z][a-z0-9_.:-]{0,99}$/.test(v)) {
      throw new ValidationError(field, v, 'a short lower-case name such as "deployment.set"');
    }
  }
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO audit_log (actor, action, entity, model, entity_key, before, after, key_id)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8) RETURNING id`,
    [entry.actor, entry.action, entry.entity, entry.model ?? null, entry.entityKey ?? null, toJson(entry.before), toJson(entry.after), entry.keyId ?? null],
  );
  return Number(rows[0].id);
}

export async function notify(db: Db, payload: RegistryNotification): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [REGISTRY_CHANNEL, JSON.stringify(payload)]);
}

/** One audit row and one notification, in the caller's transaction. */
export async function recordChange(db: Db, entry: AuditInput, payload: RegistryNotification): Promise<void> {
  await writeAudit(db, entry);
  await notify(db, payload);
}

/** Parses a NOTIFY payload from the registry channel. */
export function parseRegistryNotification(payload: string): RegistryNotification {
  const value = JSON.parse(payload) as RegistryNotification;
  if (!value || typeof value !== 'object' || typeof value.entity !== 'string' || typeof value.action !== 'string') {
    throw new ValidationError('notification', payload, `a JSON object with "entity" and "action" from channel ${REGISTRY_CHANNEL}`);
  }
  return value;
}

/** An audit row with what the server derived: the database role of the session and the API key, if any (null in rows from before migration 010). */
export type AuditRow = AuditEntry & { dbRole: string | null; keyId: string | null };

export async function listAudit(
  db: Db,
  filter: { model?: string; entity?: string; action?: string; limit?: number; afterId?: number } = {},
): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.model !== undefined) where.push(`model = $${params.push(filter.model)}`);
  if (filter.entity !== undefined) where.push(`entity = $${params.push(filter.entity)}`);
  if (filter.action !== undefined) where.push(`action = $${params.push(filter.action)}`);
  if (filter.afterId !== undefined) where.push(`id > $${params.push(filter.afterId)}`);
  const limit = filter.limit ?? 1000;
  const { rows } = await db.query(
    `SELECT id, time, actor, action, entity, model, entity_key, before, after, db_role, key_id FROM audit_log
     ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ${Math.max(1, Math.min(limit, 100000)) | 0}`,
    params,
  );
  return rows.map((r) => ({
    id: Number(r.id),
    time: r.time,
    actor: r.actor,
    action: r.action,
    entity: r.entity,
    model: r.model,
    entityKey: r.entity_key,
    before: r.before as Json | null,
    after: r.after as Json | null,
    dbRole: r.db_role as string | null,
    keyId: r.key_id as string | null,
  }));
}

function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}
