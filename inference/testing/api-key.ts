/**
 * The API key of the integration tests: one token per test process (random), installed by
 * `installTestKey` into every database a fixture makes, with the `admin` scope (every scope on every
 * deployment). The test clients (postJson, getJson, JsonClient) send it by default, so the existing
 * suites run against servers with auth on — the production configuration — without knowing about keys;
 * the auth tests make their own, narrower keys with `autopilot keys` / registry/keys.ts.
 *
 * Written with its own INSERT (not createKey, which draws the secret itself) because the same token must
 * be valid in every fixture database of the process, including servers a test spawns as processes.
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import { sha256 } from '../../registry/keys';

export const TEST_KEY_ID = 'fixtureadmin';
const TEST_SECRET = randomBytes(32).toString('base64url');
/** `apk_fixtureadmin_<secret>`. */
export const TEST_API_KEY = `apk_${TEST_KEY_ID}_${TEST_SECRET}`;
/** The header the test clients send. */
export const TEST_AUTHORIZATION = `Bearer ${TEST_API_KEY}`;

export async function installTestKey(pool: Pool): Promise<void> {
  await pool.query(
    `INSERT INTO api_keys (key_id, secret_sha256, name, scopes) VALUES ($1, $2, 'integration tests (inference/testing/api-key.ts)', ARRAY['admin'])
     ON CONFLICT (key_id) DO NOTHING`,
    [TEST_KEY_ID, sha256(TEST_SECRET)],
  );
}
