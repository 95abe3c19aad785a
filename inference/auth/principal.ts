/**
 * What a request's API key may do, made once per key when the key table is loaded so the per-request
 * check is a boolean and at most one Set lookup (no parsing, no allocation).
 *
 * `admin` includes every other scope (on the deployments it is limited to, or on all).
 */
import type { ActiveKey, KeyScope } from '../../registry/keys';

/** The scopes a request can need (admin is never needed by a route of its own: it includes them). */
export type NeededScope = Exclude<KeyScope, 'admin'>;

/** Deployments a key holds one scope on. */
export interface ScopeReach {
  /** On every deployment. */
  readonly all: boolean;
  /** On these (when not `all`). */
  readonly on: ReadonlySet<string>;
}

export interface Principal {
  readonly keyId: string;
  /** Epoch ms after which the key is refused; Infinity: no expiry. */
  readonly expiresAtMs: number;
  readonly decide: ScopeReach;
  readonly reward: ScopeReach;
  readonly read: ScopeReach;
  /** Where the key may change state (the control-plane API's mutations, api/). */
  readonly admin: ScopeReach;
}

function reach(key: ActiveKey, scope: KeyScope): ScopeReach {
  let all = false;
  const on = new Set<string>();
  for (const g of key.grants) {
    if (g.scope !== scope && g.scope !== 'admin') continue;
    if (g.deployment === null) all = true;
    else on.add(g.deployment);
  }
  return { all, on };
}

export function principalOf(key: ActiveKey): Principal {
  return {
    keyId: key.keyId,
    expiresAtMs: key.expiresAt === null ? Infinity : key.expiresAt.getTime(),
    decide: reach(key, 'decide'),
    reward: reach(key, 'reward'),
    read: reach(key, 'read'),
    admin: reach(key, 'admin'),
  };
}

/** Whether `p` holds `scope` on `deployment` (null: on at least one deployment). */
export function may(p: Principal, scope: NeededScope, deployment: string | null): boolean {
  const r = p[scope];
  return r.all || (deployment === null ? r.on.size > 0 : r.on.has(deployment));
}
