/**
 * What a training workflow's failed offline gates leave in the registry (canary/offline-gates.ts for PPO, seed
 * 003's targets for the text policy): not forced, the versions become `rejected` with the reasons; forced,
 * they stay deployable (a rejected version cannot be a canary) and one `canary.forced` audit row names the
 * actor, the served version and the reasons. Idempotent under activity retries: a status already `rejected`
 * is a no-op, and the forced row is written once per version.
 */
import type { Registry } from '../registry/index';

export interface FailedGates {
  model: string;
  /** The versions the run registered (all rejected when not forced). */
  versions: number[];
  /** The version the canary serves (the forced audit row's key). */
  servedVersion: number;
  /** What the status reason says failed, e.g. `offline gates failed`. */
  what: string;
  reasons: string[];
  /** Extra detail for the forced audit row (e.g. the gate checks). */
  detail?: Record<string, unknown>;
  forced: boolean;
  actor: string;
  runId: string;
}

export async function recordFailedGates(registry: Registry, f: FailedGates): Promise<void> {
  if (!f.forced) {
    const reason = `${f.what} (run ${f.runId}): ${f.reasons.join('; ')}`;
    for (const version of f.versions) await registry.setVersionStatus({ model: f.model, version, status: 'rejected', actor: f.actor, reason });
    return;
  }
  const key = `${f.model}/${f.servedVersion}`;
  const already = (await registry.listAudit({ model: f.model, action: 'canary.forced', limit: 1000 })).some((a) => a.entityKey === key);
  if (!already) {
    await registry.appendAudit({ actor: f.actor, action: 'canary.forced', entity: 'version', model: f.model, entityKey: key, after: { runId: f.runId, reasons: f.reasons, ...f.detail } });
  }
}
