/**
 * The dev stack's API key: `autopilot dev up` makes one key with the `admin` scope (every scope on every
 * deployment) and keeps its token in `<data dir>/api-key` (mode 600), reusing it while it is still active;
 * CLI commands that talk to the inference server (`autopilot traffic`) send `AUTOPILOT_API_KEY` or, when
 * that is not set, this file's token.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Pool } from 'pg';
import { Db } from '../../registry/db';
import { createKey, secretMatches, splitToken } from '../../registry/keys';

export const DEV_KEY_FILE = 'api-key';

export function devKeyPath(dataDir: string): string {
  return join(dataDir, DEV_KEY_FILE);
}

/** The stack's token, made now or reused (when the stored one is still an active key of this database). */
export async function ensureDevKey(pool: Pool, dataDir: string): Promise<{ token: string; keyId: string; created: boolean }> {
  const file = devKeyPath(dataDir);
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    const parts = splitToken(token);
    if (parts !== null) {
      const { rows } = await pool.query<{ secret_sha256: Buffer }>(
        'SELECT secret_sha256 FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())',
        [parts.keyId],
      );
      if (rows.length === 1 && secretMatches(parts.secret, rows[0].secret_sha256)) return { token, keyId: parts.keyId, created: false };
    }
  }
  const { token, key } = await createKey(Db.fromPool(pool), { name: 'dev stack (autopilot dev up)', scopes: ['admin'], note: 'autopilot dev up' });
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, keyId: key.keyId, created: true };
}

/** The token CLI commands send to the inference server: AUTOPILOT_API_KEY, else the dev stack's, else null. */
export function apiKeyFor(dataDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env.AUTOPILOT_API_KEY?.trim();
  if (fromEnv) return fromEnv;
  const file = devKeyPath(dataDir);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}
