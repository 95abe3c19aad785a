/**
 * Rewards bound to their tenant (R-security): with auth on, POST /v1/rewards is accepted only for
 * decisions of deployments the request's key holds the `reward` scope on, and — for a deployment with
 * `rewardsFromDecidingKeyOnly: true` (registry/deployment-config/access.ts) — only from the key that asked
 * for the decision (`decisions.key_id`). Anything else is a 403 naming the decision. A batch is checked
 * as a whole: one refused item refuses the request (a key sending another tenant's decisions is a
 * request fault, not an item fault). A decision that cannot be found (in `decisions`, in this server's
 * decision log, nor — for an id that may be one another process has not written yet — after waiting
 * about a second) is not a request fault: its id is handed to the rewards handler in
 * `ctx.unknownDecisions`, which answers that item 404 after the body's checks (./existence.ts).
 *
 * The decision's deployment and key are read from `decisions` (one query per event-loop turn for all the
 * rewards that arrived in it), then from this server's decision log for those not written yet. A key
 * that may reward every deployment, when no deployment takes rewards from the deciding key only, needs
 * no look-up here: the rewards handler's existence check is enough.
 *
 * Kept apart from the reward validation (../handlers/rewards.ts, ./body.ts): it wraps the handler.
 */
import type { Pool } from 'pg';
import { ClientError } from '../http/errors';
import type { JsonHandler, RequestContext } from '../http/server';
import type { Principal } from '../auth/principal';
import { forbidden } from '../auth/store';
import { DEFAULT_RETRY_DELAYS_MS, mayStillBeLogged, sleep, type DecisionOwner, type PendingDecisions } from './existence';

export type { DecisionOwner };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface TenantDeps {
  /** Whether a deployment takes rewards from the deciding key only (AuthStore.decidingKeyOnly). */
  decidingKeyOnly(deployment: string): boolean;
  /** Whether any deployment does. */
  readonly anyDecidingKeyOnly: boolean;
  /** The owners of these decision ids (lower-case), those found in `decisions`. */
  owners(ids: string[]): Promise<Map<string, DecisionOwner>>;
  /** This server's decision log: decisions not written yet. */
  pending?: PendingDecisions;
  /** Waits before each new look-up of decisions not found yet (another process may not have written them). Default DEFAULT_RETRY_DELAYS_MS. */
  retryDelaysMs?: readonly number[];
}

/** `owners` over the decisions table, micro-batched: the ids asked for in one event-loop turn share one query. */
export function decisionOwners(pool: Pool): (ids: string[]) => Promise<Map<string, DecisionOwner>> {
  let waiting: { ids: string[]; resolve: (m: Map<string, DecisionOwner>) => void; reject: (e: unknown) => void }[] = [];
  return (ids) =>
    new Promise((resolve, reject) => {
      if (waiting.length === 0) {
        setImmediate(() => {
          const group = waiting;
          waiting = [];
          const all = [...new Set(group.flatMap((w) => w.ids))];
          pool.query<{ id: string; deployment: string; key_id: string | null }>('SELECT decision_id::text AS id, deployment, key_id FROM decisions WHERE decision_id = ANY($1::uuid[])', [all]).then(
            ({ rows }) => {
              const found = new Map<string, DecisionOwner>();
              for (const r of rows) found.set(r.id, { deployment: r.deployment, keyId: r.key_id });
              for (const w of group) w.resolve(found);
            },
            (err) => group.forEach((w) => w.reject(err)),
          );
        });
      }
      waiting.push({ ids, resolve, reject });
    });
}

/** The decision ids of a single or batch reward body with their fields; ids that are not uuids are left to the handler's 400. */
function decisionIds(body: unknown): { id: string; field: string }[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [];
  const b = body as Record<string, unknown>;
  const out: { id: string; field: string }[] = [];
  if (Array.isArray(b.rewards)) {
    b.rewards.forEach((item: unknown, i) => {
      const id = item !== null && typeof item === 'object' ? (item as Record<string, unknown>).decisionId : undefined;
      if (typeof id === 'string' && UUID.test(id)) out.push({ id: id.toLowerCase(), field: `rewards.${i}.decisionId` });
    });
  } else if (typeof b.decisionId === 'string' && UUID.test(b.decisionId)) out.push({ id: b.decisionId.toLowerCase(), field: 'decisionId' });
  return out;
}

/** The owners of `ids`: from `decisions`, then this server's decision log, then `decisions` again (rows written meanwhile). */
async function lookUp(ids: string[], deps: TenantDeps): Promise<Map<string, DecisionOwner>> {
  const owners = await deps.owners(ids);
  let missing = ids.filter((id) => !owners.has(id));
  if (missing.length === 0 || deps.pending === undefined) return owners;
  for (const [id, o] of await deps.pending.pending(missing)) owners.set(id, o);
  missing = missing.filter((id) => !owners.has(id));
  if (missing.length > 0) for (const [id, o] of await deps.owners(missing)) owners.set(id, o);
  return owners;
}

/**
 * Throws the 403 when `p` may not reward these decisions; resolves with the decision ids (lower-case)
 * not found, which the rewards handler answers 404 (per item).
 */
export async function checkRewardTenant(p: Principal, body: unknown, deps: TenantDeps): Promise<Set<string>> {
  const unknown = new Set<string>();
  if (p.reward.all && !deps.anyDecidingKeyOnly) return unknown;
  const wanted = decisionIds(body);
  if (wanted.length === 0) return unknown;
  const owners = await lookUp([...new Set(wanted.map((w) => w.id))], deps);
  for (const delay of deps.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS) {
    const now = Date.now();
    const missing = [...new Set(wanted.filter((w) => !owners.has(w.id) && mayStillBeLogged(w.id, now)).map((w) => w.id))];
    if (missing.length === 0) break;
    await sleep(delay);
    // Only the table can gain them now (a decision of this server was in its log at the first look).
    for (const [id, o] of await deps.owners(missing)) owners.set(id, o);
  }
  for (const w of wanted) {
    const o = owners.get(w.id);
    if (o === undefined) {
      unknown.add(w.id);
      continue;
    }
    if (!p.reward.all && !p.reward.on.has(o.deployment)) throw forbidden(p, 'reward', o.deployment, w.field);
    if (deps.decidingKeyOnly(o.deployment) && o.keyId !== p.keyId) {
      throw new ClientError(403, `decision ${w.id} of deployment ${JSON.stringify(o.deployment)} was asked for by another API key; this deployment takes rewards only from the deciding key`, w.field, `the API key that asked for decision ${w.id}`);
    }
  }
  return unknown;
}

/** The rewards handler behind the tenant check (requests without a principal — auth off — pass as before). */
export function guardRewardTenants(handler: JsonHandler, deps: TenantDeps): JsonHandler {
  return async (body: unknown, ctx: RequestContext) => {
    const p = ctx.principal;
    if (p != null) {
      try {
        const unknown = await checkRewardTenant(p, body, deps);
        if (unknown.size > 0) ctx.unknownDecisions = unknown;
      } catch (err) {
        if (err instanceof ClientError) throw err;
        throw new ClientError(503, `cannot check who may reward these decisions now: ${(err as Error).message}`, null, 'a retry later (the registry database is unavailable)');
      }
    }
    return handler(body, ctx, undefined);
  };
}
