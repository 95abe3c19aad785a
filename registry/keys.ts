/**
 * API keys of the inference server (R-security: who may decide, reward, read and administer), over the
 * `api_keys` table of migration 010.
 *
 *   const { token, key } = await createKey(db, { name: 'rag-tuner', scopes: ['decide:rag-tuner', 'reward:rag-tuner'], note: 'for the RAG team' });
 *   // token (`apk_<keyId>_<secret>`) is shown to its owner once; only sha256(secret) is stored
 *   await revokeKey(db, key.keyId, { note: 'leaked' });
 *
 * The key id is public and the table's primary key, so a presented token is found by its id without a
 * scan; the secret is 32 random bytes (256 bits): one SHA-256 is enough to store it (no password
 * stretching is needed for a secret nobody chose). Every create and revoke writes one audit row in the
 * same transaction; the table's trigger announces the change on the registry channel (servers reload).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './db';
import { writeAudit } from './audit';
import { NotFoundError, ValidationError } from './errors';

export const KEY_SCOPES = ['decide', 'reward', 'read', 'admin'] as const;
export type KeyScope = (typeof KEY_SCOPES)[number];

/** One grant: a scope on every deployment (`deployment: null`) or on one. */
export interface ScopeGrant {
  scope: KeyScope;
  deployment: string | null;
}

export interface ApiKey {
  keyId: string;
  name: string;
  /** As stored: `decide`, `reward:rag-tuner`, … */
  scopes: string[];
  createdAt: Date;
  /** The database role that created it. */
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
}

/** What a server keeps of a key to check presented tokens (no secret, only its hash). */
export interface ActiveKey {
  keyId: string;
  secretSha256: Buffer;
  grants: ScopeGrant[];
  expiresAt: Date | null;
}

const TOKEN_PREFIX = 'apk_';
const KEY_ID = /^[a-z2-7]{12}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
/** Deployment names are model names (registry/validate.ts MODEL_NAME). */
const SCOPE = /^(decide|reward|read|admin)(?::([A-Za-z0-9][A-Za-z0-9._-]{0,127}))?$/;

/** `decide`, `reward:rag-tuner`, … as a grant; ValidationError naming the value otherwise. */
export function parseScope(s: unknown, field = 'scope'): ScopeGrant {
  const m = typeof s === 'string' ? SCOPE.exec(s) : null;
  if (m === null) {
    throw new ValidationError(field, s, `one of ${KEY_SCOPES.join(', ')}, optionally limited to a deployment as scope:deployment (e.g. "decide:rag-tuner")`);
  }
  return { scope: m[1] as KeyScope, deployment: m[2] ?? null };
}

export function sha256(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** The key id and secret of a presented token, or null when it is not of the token's shape. */
export function splitToken(token: string): { keyId: string; secret: string } | null {
  if (token.length < TOKEN_PREFIX.length + 14 || !token.startsWith(TOKEN_PREFIX) || token[TOKEN_PREFIX.length + 12] !== '_') return null;
  const keyId = token.slice(TOKEN_PREFIX.length, TOKEN_PREFIX.length + 12);
  if (!KEY_ID.test(keyId)) return null;
  return { keyId, secret: token.slice(TOKEN_PREFIX.length + 13) };
}

/** Whether `secret` is the one whose hash is `hash` (constant time). */
export function secretMatches(secret: string, hash: Buffer): boolean {
  const h = sha256(secret);
  return h.length === hash.length && timingSafeEqual(h, hash);
}

function newKeyId(): string {
  const bytes = randomBytes(12);
  let id = '';
  for (const b of bytes) id += BASE32[b & 31];
  return id;
}

export interface CreateKeyInput {
  name: string;
  /** At least one; each as parseScope reads it. */
  scopes: string[];
  expiresAt?: Date | null;
  /** Free text kept in the audit row's `actor` (who the caller says they are); the row's db_role is the truth. */
  note?: string;
}

interface KeyRow {
  key_id: string;
  name: string;
  scopes: string[];
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

function toKey(r: KeyRow): ApiKey {
  return { keyId: r.key_id, name: r.name, scopes: r.scopes, createdAt: r.created_at, createdBy: r.created_by, expiresAt: r.expires_at, revokedAt: r.revoked_at, revokedBy: r.revoked_by };
}

const COLUMNS = 'key_id, name, scopes, created_at, created_by, expires_at, revoked_at, revoked_by';

/** Creates a key; the token is returned here only (the database keeps its hash). */
export async function createKey(db: Db, input: CreateKeyInput): Promise<{ token: string; key: ApiKey }> {
  const name = input.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw new ValidationError('name', name, 'a non-empty name of at most 200 characters');
  if (!Array.isArray(input.scopes) || input.scopes.length === 0) throw new ValidationError('scopes', input.scopes, `at least one scope (${KEY_SCOPES.join(', ')}, optionally scope:deployment)`);
  input.scopes.forEach((s, i) => parseScope(s, `scopes[${i}]`));
  const expiresAt = input.expiresAt ?? null;
  if (expiresAt !== null && !(expiresAt instanceof Date && Number.isFinite(expiresAt.getTime()) && expiresAt.getTime() > Date.now())) {
    throw new ValidationError('expiresAt', expiresAt, 'a time in the future, or none');
  }
  const keyId = newKeyId();
  const secret = randomBytes(32).toString('base64url');
  const scopes = [...new Set(input.scopes)];
  const key = await db.transaction(async (tx) => {
    const { rows } = await tx.query<KeyRow>(
      `INSERT INTO api_keys (key_id, secret_sha256, name, scopes, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
      [keyId, sha256(secret), name, scopes, expiresAt],
    );
    const k = toKey(rows[0]);
    await writeAudit(tx, { actor: auditNote(input.note), action: 'api_key.create', entity: 'api_key', entityKey: keyId, after: { name, scopes, expiresAt: expiresAt?.toISOString() ?? null } });
    return k;
  });
  return { token: `${TOKEN_PREFIX}${keyId}_${secret}`, key };
}

function auditNote(note: string | undefined): string {
  const n = note === undefined || note.trim() === '' ? 'cli' : note;
  return n.length > 200 ? n.slice(0, 200) : n;
}

/** Every key, newest first (revoked and expired ones included: they are history). */
export async function listKeys(db: Db): Promise<ApiKey[]> {
  const { rows } = await db.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, key_id`);
  return rows.map(toKey);
}

/** Revokes a key (servers drop it on the NOTIFY); `changed: false` when it was revoked already. */
export async function revokeKey(db: Db, keyId: string, opts: { note?: string } = {}): Promise<{ key: ApiKey; changed: boolean }> {
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) throw new ValidationError('keyId', keyId, 'a key id as `autopilot keys list` shows it (12 characters a-z, 2-7)');
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<KeyRow>(
      `UPDATE api_keys SET revoked_at = now(), revoked_by = current_user WHERE key_id = $1 AND revoked_at IS NULL RETURNING ${COLUMNS}`,
      [keyId],
    );
    if (rows.length === 0) {
      const { rows: existing } = await tx.query<KeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE key_id = $1`, [keyId]);
      if (existing.length === 0) throw new NotFoundError('API key', keyId, 'autopilot keys list shows the keys');
      return { key: toKey(existing[0]), changed: false };
    }
    await writeAudit(tx, { actor: auditNote(opts.note), action: 'api_key.revoke', entity: 'api_key', entityKey: keyId, after: { reason: opts.note ?? null } });
    return { key: toKey(rows[0]), changed: true };
  });
}

/** The keys a server accepts now: not revoked (expiry is checked per request, so a key expires on time). */
export async function loadActiveKeys(db: Db): Promise<ActiveKey[]> {
  const { rows } = await db.query<{ key_id: string; secret_sha256: Buffer; scopes: string[]; expires_at: Date | null }>(
    'SELECT key_id, secret_sha256, scopes, expires_at FROM api_keys WHERE revoked_at IS NULL',
  );
  return rows.map((r) => ({ keyId: r.key_id, secretSha256: r.secret_sha256, grants: r.scopes.map((s, i) => parseScope(s, `api_keys[${r.key_id}].scopes[${i}]`)), expiresAt: r.expires_at }));
}

/**
 * `30d`, `12h`, `90m` from `now`, or an ISO-8601 date; ValidationError naming the value otherwise (the
 * CLI's `--expires-in`).
 */
export function parseExpiry(text: string, now = new Date()): Date {
  const m = /^(\d{1,6})([mhdw])$/.exec(text);
  if (m !== null) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[m[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() + Number(m[1]) * unit);
  }
  const d = /^\d{4}-\d{2}-\d{2}/.test(text) ? new Date(text) : new Date(NaN);
  if (!Number.isFinite(d.getTime())) throw new ValidationError('expires-in', text, 'a duration such as 30d, 12h, 90m, 2w, or an ISO date such as 2027-01-31');
  return d;
}
