/**
 * API keys against a real server and PostgreSQL (R-security): the auth matrix — every endpoint × {no
 * key, wrong scope, other deployment, revoked, expired, right key} on both HTTP paths (the fast path and
 * node:http) —, rewards bound to the deciding tenant, keys surviving a restart, a revoke and a new key
 * taking effect without one, the CLI, and the least-privilege inference role.
 */
import { Client } from 'pg';
import { Db } from '../../registry/db';
import { createKey, listAudit, revokeKey } from '../../registry';
import { runCliInProcess } from '../../cli/testing/in-process';
import { createServingFixture, getJson, postJson, waitFor, type ServingFixture } from '../testing/fixture';
import { TEST_API_KEY } from '../testing/api-key';
import type { InferenceServer } from '../server';
import { withDbRole } from './db-role';

const FEATURES = Array.from({ length: 16 }, (_, i) => (i % 5) / 5 - 0.3);

describe('API keys on the inference server', () => {
  let fx: ServingFixture;
  let db: Db;
  let fast: InferenceServer;
  let slow: InferenceServer;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};

  const make = async (name: string, scopes: string[]) => {
    const { token, key } = await createKey(db, { name, scopes, note: `test ${name}` });
    tokens[name] = token;
    ids[name] = key.keyId;
  };

  beforeAll(async () => {
    fx = await createServingFixture();
    db = Db.fromPool(fx.db.pool);
    for (const model of ['alpha', 'beta']) {
      const v = await fx.register(model, model === 'alpha' ? 1 : 2);
      await fx.deploy(model, { champion: v.version });
    }
    // alpha takes rewards only from the key that asked for the decision; beta from any key that may reward it.
    await fx.registry.setDeployment({ model: 'alpha', config: { rewardsFromDecidingKeyOnly: true }, actor: 'test' });
    await make('right', ['decide:alpha', 'reward:alpha', 'read:alpha']);
    await make('readOnly', ['read']);
    await make('decideOnly', ['decide', 'reward']);
    await make('other', ['decide:beta', 'reward:beta', 'read:beta']);
    await make('revoked', ['admin']);
    await make('expired', ['admin']);
    await make('tenantB', ['decide:alpha', 'reward:alpha']);
    await make('betaC', ['decide:beta', 'reward:beta']);
    await make('betaD', ['reward:beta']);
    await revokeKey(db, ids.revoked, { note: 'test' });
    await fx.db.pool.query("UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE key_id = $1", [ids.expired]);
    [fast, slow] = await Promise.all([fx.start(), fx.start({ httpFastPath: false })]);
  });
  afterAll(async () => {
    await fx?.close();
  });

  const decide = async (url: string, deployment: string, apiKey: string) => {
    const r = await postJson(`${url}/v1/decide`, { deployment, features: FEATURES }, { apiKey });
    expect(r.status).toBe(200);
    return r.body.decisionId as string;
  };

  type Endpoint = { name: string; call: (url: string, apiKey: string | null) => Promise<{ status: number; body: any }> };
  const endpoints = (decisionFor: () => Promise<string>): Endpoint[] => [
    { name: 'POST /v1/decide', call: (u, k) => postJson(`${u}/v1/decide`, { deployment: 'alpha', features: FEATURES }, { apiKey: k }) },
    { name: 'POST /v1/rewards', call: async (u, k) => postJson(`${u}/v1/rewards`, { decisionId: await decisionFor(), reward: 0.5 }, { apiKey: k }) },
    { name: 'POST /v1/rewards (batch)', call: async (u, k) => postJson(`${u}/v1/rewards`, { rewards: [{ decisionId: await decisionFor(), reward: 0.25 }] }, { apiKey: k }) },
    { name: 'POST /v2/models/alpha/infer', call: (u, k) => postJson(`${u}/v2/models/alpha/infer`, { inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data: FEATURES }] }, { apiKey: k }) },
    { name: 'GET /v2/models/alpha', call: (u, k) => getJson(`${u}/v2/models/alpha`, { apiKey: k }) },
    { name: 'GET /v2/models/alpha/ready', call: (u, k) => getJson(`${u}/v2/models/alpha/ready`, { apiKey: k }) },
    { name: 'GET /v2', call: (u, k) => getJson(`${u}/v2`, { apiKey: k }) },
  ];
  /** The key that lacks the endpoint's scope (holding the others). */
  const wrongScope = (endpoint: string) => (endpoint.startsWith('GET') ? 'decideOnly' : 'readOnly');
  const expected: Record<string, Record<string, number>> = {
    'POST /v1/decide': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 200 },
    'POST /v1/rewards': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 201 },
    'POST /v1/rewards (batch)': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 200 },
    'POST /v2/models/alpha/infer': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 200 },
    'GET /v2/models/alpha': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 200 },
    'GET /v2/models/alpha/ready': { none: 401, wrong: 403, other: 403, revoked: 401, expired: 401, right: 200 },
    // server metadata names no deployment: a key that may read some deployment may read it
    'GET /v2': { none: 401, wrong: 403, other: 200, revoked: 401, expired: 401, right: 200 },
  };

  it.each([
    ['fast path', () => fast],
    ['node:http', () => slow],
  ])('answers every endpoint × key as expected (%s)', async (_, server) => {
    const url = server().url;
    // Each reward call gets a fresh decision of the right key (a reward is recorded once).
    const got: Record<string, Record<string, number>> = {};
    for (const e of endpoints(() => decide(url, 'alpha', tokens.right))) {
      got[e.name] = {};
      for (const [label, key] of [
        ['none', null],
        ['wrong', tokens[wrongScope(e.name)]],
        ['other', tokens.other],
        ['revoked', tokens.revoked],
        ['expired', tokens.expired],
        ['right', tokens.right],
      ] as const) {
        const r = await e.call(url, key);
        got[e.name][label] = r.status;
        if (r.status === 401) expect(r.body).toMatchObject({ field: 'headers.authorization', expected: expect.stringContaining('Bearer') });
        if (r.status === 403) expect(r.body.error).toMatch(/has no (decide|reward|read) scope/);
      }
    }
    expect(got).toEqual(expected);
    // The 403 names the scope and the deployment; the expired key says so.
    expect((await postJson(`${url}/v1/decide`, { deployment: 'alpha', features: FEATURES }, { apiKey: tokens.other })).body).toMatchObject({
      error: `API key ${ids.other} has no decide scope on deployment "alpha"`,
      field: 'deployment',
    });
    expect((await getJson(`${url}/v2/models/alpha`, { apiKey: tokens.expired })).body.error).toMatch(new RegExp(`API key ${ids.expired} expired at`));
    // Malformed headers are 401s too, never 500s.
    for (const h of ['Basic abc', 'Bearer', 'Bearer apk_nope', `Bearer ${tokens.right}x`]) {
      const res = await fetch(`${url}/v2/models/alpha`, { headers: { authorization: h } });
      expect(res.status).toBe(401);
    }
  });

  it('leaves health and /metrics open', async () => {
    for (const path of ['/v2/health/live', '/v2/health/ready', '/metrics']) {
      expect((await fetch(`${fast.url}${path}`)).status).toBe(200);
    }
  });

  it('records the asking key with each decision', async () => {
    const id = await decide(fast.url, 'alpha', tokens.right);
    const fromTest = await decide(fast.url, 'beta', TEST_API_KEY);
    await waitFor(async () => (await fx.db.pool.query('SELECT 1 FROM decisions WHERE decision_id = ANY($1::uuid[])', [[id, fromTest]])).rowCount === 2, 5000, 'the decisions written');
    const { rows } = await fx.db.pool.query<{ id: string; key_id: string }>('SELECT decision_id::text AS id, key_id FROM decisions WHERE decision_id = ANY($1::uuid[])', [[id, fromTest]]);
    expect(Object.fromEntries(rows.map((r) => [r.id, r.key_id]))).toEqual({ [id]: ids.right, [fromTest]: 'fixtureadmin' });
  });

  it('refuses a reward from another tenant on a deployment that takes rewards from the deciding key only', async () => {
    const id = await decide(fast.url, 'alpha', tokens.right);
    // tenantB holds reward:alpha, but did not ask for this decision
    const stranger = await postJson(`${fast.url}/v1/rewards`, { decisionId: id, reward: 1e3 }, { apiKey: tokens.tenantB });
    expect(stranger.status).toBe(403);
    expect(stranger.body).toMatchObject({ field: 'decisionId', error: expect.stringContaining('was asked for by another API key') });
    const batch = await postJson(`${fast.url}/v1/rewards`, { rewards: [{ decisionId: id, reward: 1e3 }] }, { apiKey: tokens.tenantB });
    expect(batch.status).toBe(403);
    expect(batch.body.field).toBe('rewards.0.decisionId');
    // nothing was recorded: the owner's reward is the first
    expect((await postJson(`${fast.url}/v1/rewards`, { decisionId: id, reward: 0.5 }, { apiKey: tokens.right })).status).toBe(201);
    const { rows } = await fx.db.pool.query('SELECT reward FROM rewards WHERE decision_id = $1', [id]);
    expect(rows).toEqual([{ reward: 0.5 }]);
    // On beta (no such setting) another key with reward:beta may reward it.
    const b = await decide(fast.url, 'beta', tokens.betaC);
    expect((await postJson(`${fast.url}/v1/rewards`, { decisionId: b, reward: 1 }, { apiKey: tokens.betaD })).status).toBe(201);
    // A decision that does not exist cannot be rewarded by a key limited to deployments.
    const unknown = await postJson(`${fast.url}/v1/rewards`, { decisionId: '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b', reward: 1 }, { apiKey: tokens.betaD });
    expect(unknown.status).toBe(404);
  });

  it('takes a revoke and a new key into account without a restart, within a second', async () => {
    const { token, key } = await createKey(db, { name: 'short-lived', scopes: ['read'] });
    const seen = await waitFor(async () => (await getJson(`${fast.url}/v2/models/alpha`, { apiKey: token })).status === 200, 2000, 'the new key accepted');
    await revokeKey(db, key.keyId, { note: 'leaked' });
    const t0 = Date.now();
    await waitFor(async () => (await getJson(`${fast.url}/v2/models/alpha`, { apiKey: token })).status === 401, 2000, 'the revoked key refused');
    const revokedAfter = Date.now() - t0;
    expect(revokedAfter).toBeLessThan(1000);
    process.stderr.write(`new key accepted after ${seen} ms; revoke effective after ${revokedAfter} ms\n`);
  });

  it('keeps its keys across a restart (and in the cache when the database is unreachable at start)', async () => {
    const cacheDir = `${fx.dir}/restart`;
    const first = await fx.start({ cacheDir });
    expect((await getJson(`${first.url}/v2/models/alpha`, { apiKey: tokens.right })).status).toBe(200);
    await first.close();
    const second = await fx.start({ cacheDir });
    expect((await getJson(`${second.url}/v2/models/alpha`, { apiKey: tokens.right })).status).toBe(200);
    expect((await getJson(`${second.url}/v2/models/alpha`, { apiKey: tokens.revoked })).status).toBe(401);
    await second.close();
    // No database: the cached key table (hashes, never secrets) is used.
    const offline = await fx.start({ cacheDir, databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
    expect((await getJson(`${offline.url}/v2/models/alpha`, { apiKey: tokens.right })).status).toBe(200);
    expect((await getJson(`${offline.url}/v2/models/alpha`, { apiKey: tokens.revoked })).status).toBe(401);
    expect((await getJson(`${offline.url}/v2/models/alpha`, { apiKey: null })).status).toBe(401);
    // …and so are the deployments that take rewards from the deciding key only: a stranger's reward cannot be checked without the database, so it is not accepted.
    const stranger = await postJson(`${offline.url}/v1/rewards`, { decisionId: '0190a0b1-2c3d-7e4f-8a9b-0c1d2e3f4a5b', reward: 1 }, { apiKey: TEST_API_KEY });
    // (5xx bodies carry only an error id since "errors that leak nothing"; the cause is in the server's log under it)
    expect(stranger).toMatchObject({ status: 503, body: { error: expect.stringMatching(/^service unavailable \(error id [0-9a-f]+\)$/), errorId: expect.any(String) } });
    await offline.close();
  });

  it('audits key changes with the database role, not a claimed name', async () => {
    const rows = (await listAudit(db, { entity: 'api_key' })).filter((r) => r.entityKey === ids.revoked);
    expect(rows.map((r) => [r.action, r.actor, r.dbRole])).toEqual([
      ['api_key.create', 'test revoked', 'postgres'],
      ['api_key.revoke', 'test', 'postgres'],
    ]);
    // A claimed db_role is overwritten by the trigger.
    await fx.db.pool.query("INSERT INTO audit_log (actor, action, entity, db_role) VALUES ('x', 'test.claim', 'test', 'autopilot_admin')");
    const { rows: claimed } = await fx.db.pool.query("SELECT db_role FROM audit_log WHERE action = 'test.claim'");
    expect(claimed).toEqual([{ db_role: 'postgres' }]);
  });

  it('manages keys from the CLI: the token once, list without secrets, revoke', async () => {
    process.env.AUTOPILOT_DATABASE_URL = fx.db.url;
    try {
      const created = await runCliInProcess('keys', 'create', 'cli-key', '--scope', 'decide:alpha', '--scope', 'read', '--expires-in', '30d', '--json');
      expect(created.code).toBe(0);
      const k = JSON.parse(created.stdout) as { token: string; keyId: string; scopes: string[]; expiresAt: string };
      expect(k.token).toMatch(new RegExp(`^apk_${k.keyId}_[A-Za-z0-9_-]{43}$`));
      expect(k.scopes).toEqual(['decide:alpha', 'read']);
      expect(new Date(k.expiresAt).getTime() - Date.now()).toBeGreaterThan(29.9 * 86_400_000);
      await waitFor(async () => (await postJson(`${fast.url}/v1/decide`, { deployment: 'alpha', features: FEATURES }, { apiKey: k.token })).status === 200, 2000, 'the CLI key accepted');
      const list = await runCliInProcess('keys', 'list', '--json');
      expect(list.stdout).not.toContain(k.token.slice(18));
      expect(JSON.parse(list.stdout).find((x: { keyId: string }) => x.keyId === k.keyId)).toMatchObject({ name: 'cli-key', revokedAt: null });
      expect((await runCliInProcess('keys', 'revoke', k.keyId, '--reason', 'done')).code).toBe(0);
      await waitFor(async () => (await postJson(`${fast.url}/v1/decide`, { deployment: 'alpha', features: FEATURES }, { apiKey: k.token })).status === 401, 2000, 'the CLI-revoked key refused');
      const bad = await runCliInProcess('keys', 'create', 'x', '--scope', 'deploy');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/scopes\[0\]: got "deploy"; expected one of decide, reward, read, admin/);
    } finally {
      delete process.env.AUTOPILOT_DATABASE_URL;
    }
  });

  it('serves as the least-privilege inference role, which cannot change a deployment', async () => {
    const asInference = withDbRole(fx.db.url, 'autopilot_inference');
    const c = new Client({ connectionString: asInference });
    await c.connect();
    try {
      expect((await c.query('SELECT current_user AS u')).rows).toEqual([{ u: 'autopilot_inference' }]);
      await expect(c.query("UPDATE deployments SET canary_weight = 0 WHERE model = 'alpha'")).rejects.toMatchObject({ code: '42501', message: expect.stringContaining('permission denied') });
      await expect(c.query("UPDATE api_keys SET revoked_at = NULL")).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('DELETE FROM decisions')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await c.end();
    }
    // The workers' role changes the registry but never sees the keys.
    const w = new Client({ connectionString: withDbRole(fx.db.url, 'autopilot_worker') });
    await w.connect();
    try {
      expect((await w.query("UPDATE deployments SET config = config WHERE model = 'alpha'")).rowCount).toBe(1);
      await expect(w.query('SELECT key_id FROM api_keys')).rejects.toMatchObject({ code: '42501' });
      await expect(w.query('DELETE FROM decisions')).rejects.toMatchObject({ code: '42501' });
    } finally {
      await w.end();
    }
    // …and a server running as it decides, takes rewards and records both.
    const server = await fx.start({ databaseUrl: asInference });
    const id = await decide(server.url, 'alpha', tokens.right);
    expect((await postJson(`${server.url}/v1/rewards`, { decisionId: id, reward: 0.75 }, { apiKey: tokens.right })).status).toBe(201);
    await server.close();
    const { rows } = await fx.db.pool.query('SELECT d.key_id, r.reward FROM decisions d JOIN rewards r USING (decision_id) WHERE decision_id = $1', [id]);
    expect(rows).toEqual([{ key_id: ids.right, reward: 0.75 }]);
  });
});
