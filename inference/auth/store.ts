/**
 * The inference server's API keys, held in memory (R-security): every /v1 and /v2 request is checked
 * here without a database round trip. The table is loaded at start and reloaded whenever the registry
 * channel announces a key change (the `api_keys` trigger of migration 010, delivered by the server's
 * RegistryListener) and after every (re)connect of that listener — so a revoke takes effect within the
 * NOTIFY's latency, without a restart. The deployments that take rewards only from the deciding key
 * (`rewardsFromDecidingKeyOnly`, registry/deployment-config/access.ts) are reloaded the same way on
 * deployment changes.
 *
 * Hot path: a presented `Authorization` header is looked up in a map of headers already verified (one
 * Map.get of the header's text); only the first request with a header costs the SHA-256 of its secret.
 * The map holds only verified headers (so at most a few per key) and is dropped on every reload. Expiry
 * is checked per request against the clock, so a key expires on time without a reload.
 *
 * Like the deployments (models/serving-state.ts), the last key table read is kept in the cache directory
 * (ids, SHA-256 hashes and scopes — no secret), so a server that starts while the database is unreachable
 * accepts the keys it last knew instead of refusing everything; it reloads as soon as the listener connects.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Pool } from 'pg';
import { Db } from '../../registry/db';
import { loadActiveKeys, secretMatches, splitToken, type ActiveKey } from '../../registry/keys';
import { parseAccessConfig } from '../../registry/deployment-config/access';
import { ClientError } from '../http/errors';
import type { RouteLabel } from '../metrics';
import { may, principalOf, type NeededScope, type Principal } from './principal';

type Log = (level: 'info' | 'warn' | 'error', msg: string) => void;

const BEARER = /^bearer +/i;
const EXPECTED_KEY = 'Authorization: Bearer apk_… (an API key from `autopilot keys create`)';

/** The scope each protected route needs. */
const ROUTE_SCOPE: Partial<Record<RouteLabel, NeededScope>> = {
  decide: 'decide',
  rewards: 'reward',
  feedback: 'reward',
  predict: 'decide',
  labels: 'reward',
  cache_lookup: 'decide',
  cache_store: 'decide',
  cache_wrong_hit: 'reward',
  v2_infer: 'decide',
  v2_metadata: 'read',
  health: 'read', // only GET /v2 (server metadata) is checked: /v2/health/{live,ready} stay open
};

export function unauthorized(message: string): ClientError {
  return new ClientError(401, message, 'headers.authorization', EXPECTED_KEY);
}

export function forbidden(p: Principal, scope: NeededScope, deployment: string | null, field: string | null): ClientError {
  return new ClientError(
    403,
    deployment === null ? `API key ${p.keyId} has no ${scope} scope` : `API key ${p.keyId} has no ${scope} scope on deployment ${JSON.stringify(deployment)}`,
    field,
    deployment === null ? `a key with scope ${scope} (or ${scope}:<deployment>)` : `a key with scope ${scope} or ${scope}:${deployment}`,
  );
}

export class AuthStore {
  private keys = new Map<string, { key: ActiveKey; principal: Principal }>();
  /** Authorization header text → its principal, for headers already verified against the current table. */
  private verified = new Map<string, Principal>();
  private strict: ReadonlySet<string> = new Set();
  private readonly db: Db;
  private keyLoads = 0;

  constructor(
    pool: Pool,
    private readonly log: Log,
    /** Where the last key table read is kept (JSON); null: not kept. */
    private readonly cacheFile: string | null = null,
  ) {
    this.db = Db.fromPool(pool);
  }

  /** How many keys are accepted now. */
  get size(): number {
    return this.keys.size;
  }

  /**
   * Loads keys and access settings. When the database cannot be read, the cached key table is used (or
   * none: every request is refused with a 401) until the listener's resync reloads it.
   */
  async start(): Promise<void> {
    try {
      await Promise.all([this.reloadKeys(), this.reloadAccess()]);
    } catch (err) {
      const cached = this.readCache();
      this.install(cached?.keys ?? []);
      this.strict = new Set(cached?.decidingKeyOnly ?? []);
      this.log('warn', `cannot read the API keys from the database (${(err as Error).message}); ${cached === null ? 'no cached key table: every request is refused (401)' : `using the ${cached.keys.length} key(s) cached at ${this.cacheFile}`} until it is reachable`);
    }
  }

  private install(active: ActiveKey[]): void {
    const next = new Map<string, { key: ActiveKey; principal: Principal }>();
    for (const key of active) next.set(key.keyId, { key, principal: principalOf(key) });
    this.keys = next;
    this.verified = new Map();
  }

  private readCache(): { keys: ActiveKey[]; decidingKeyOnly: string[] } | null {
    if (this.cacheFile === null) return null;
    let text: string;
    try {
      text = readFileSync(this.cacheFile, 'utf8');
    } catch {
      return null;
    }
    try {
      const c = JSON.parse(text) as { keys: { keyId: string; secretSha256: string; grants: ActiveKey['grants']; expiresAt: string | null }[]; decidingKeyOnly: string[] };
      return {
        keys: c.keys.map((r) => ({ keyId: r.keyId, secretSha256: Buffer.from(r.secretSha256, 'hex'), grants: r.grants, expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt) })),
        decidingKeyOnly: c.decidingKeyOnly,
      };
    } catch (err) {
      this.log('error', `ignoring the unreadable key cache ${this.cacheFile}: ${(err as Error).message}`);
      return null;
    }
  }

  /** Keeps the current key table and access settings (after a reload of either). */
  private writeCache(): void {
    if (this.cacheFile === null) return;
    const active = [...this.keys.values()].map((e) => e.key);
    try {
      mkdirSync(dirname(this.cacheFile), { recursive: true });
      const tmp = `${this.cacheFile}.tmp`;
      const keys = active.map((k) => ({ keyId: k.keyId, secretSha256: k.secretSha256.toString('hex'), grants: k.grants, expiresAt: k.expiresAt?.toISOString() ?? null }));
      writeFileSync(tmp, JSON.stringify({ keys, decidingKeyOnly: [...this.strict] }), { mode: 0o600 });
      renameSync(tmp, this.cacheFile);
    } catch (err) {
      this.log('warn', `cannot keep the key table in ${this.cacheFile}: ${(err as Error).message}`);
    }
  }

  async reloadKeys(): Promise<void> {
    const load = ++this.keyLoads;
    const active = await loadActiveKeys(this.db);
    if (load !== this.keyLoads) return; // a newer load started meanwhile: its result wins
    this.install(active);
    this.writeCache();
  }

  async reloadAccess(): Promise<void> {
    const { rows } = await this.db.query<{ model: string; config: Record<string, unknown> | null }>('SELECT model, config FROM deployments');
    const strict = new Set<string>();
    for (const r of rows) {
      try {
        if (r.config !== null && parseAccessConfig(r.config).rewardsFromDecidingKeyOnly) strict.add(r.model);
      } catch (err) {
        // A deployment whose setting cannot be read is treated as strict: refusing a reward is recoverable, accepting a stranger's is not.
        strict.add(r.model);
        this.log('warn', `deployment ${r.model}: ${(err as Error).message}; rewards are taken from the deciding key only`);
      }
    }
    this.strict = strict;
    this.writeCache();
  }

  /** Reloads in the background (a NOTIFY or a listener reconnect), logging a failure; the previous table stays in force. */
  refresh(what: 'keys' | 'access' | 'all'): void {
    if (what !== 'access') this.reloadKeys().catch((err) => this.log('error', `reloading API keys failed (the previous keys stay in force): ${(err as Error).message}`));
    if (what !== 'keys') this.reloadAccess().catch((err) => this.log('error', `reloading deployment access settings failed: ${(err as Error).message}`));
  }

  /** The key of an `Authorization` header; a 401 ClientError for none, an unknown, revoked or expired key. */
  authenticate(header: string | undefined): Principal {
    if (header === undefined) throw unauthorized('this endpoint needs an API key');
    let p = this.verified.get(header);
    if (p === undefined) {
      const token = header.replace(BEARER, '');
      const parts = token === header ? null : splitToken(token);
      if (parts === null) throw unauthorized('the Authorization header is not a bearer API key');
      const entry = this.keys.get(parts.keyId);
      if (entry === undefined || !secretMatches(parts.secret, entry.key.secretSha256)) throw unauthorized('unknown or revoked API key');
      p = entry.principal;
      this.verified.set(header, p);
    }
    if (p.expiresAtMs !== Infinity && p.expiresAtMs <= Date.now()) throw unauthorized(`API key ${p.keyId} expired at ${new Date(p.expiresAtMs).toISOString()}`);
    return p;
  }

  /**
   * The router's check (inference/http/server.ts): the key, holding the route's scope on `deployment`
   * (null: on some deployment; decide and rewards name theirs in the body, checked later by
   * `demand` and the reward check). 401/403 as a ClientError.
   */
  authorize(header: string | undefined, route: RouteLabel, deployment: string | null): Principal {
    const p = this.authenticate(header);
    const scope = ROUTE_SCOPE[route];
    if (scope !== undefined && !may(p, scope, deployment)) throw forbidden(p, scope, deployment, deployment === null ? 'headers.authorization' : 'deployment');
    return p;
  }

  /** Whether rewards of `deployment`'s decisions are taken from the deciding key only. */
  decidingKeyOnly(deployment: string): boolean {
    return this.strict.has(deployment);
  }

  /** Whether some deployment takes rewards from the deciding key only. */
  get anyDecidingKeyOnly(): boolean {
    return this.strict.size > 0;
  }
}
