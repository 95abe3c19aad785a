/**
 * Instant rollback of a champion: the previous champion serves again, in one audited transaction.
 * What `autopilot rollback <model>` runs, and what a canary aborted after its promotion uses.
 */
import { writeAudit } from './audit';
import type { Db } from './db';
import { ConflictError, NotFoundError } from './errors';
import { findPreviousChampion, getDeployment, setDeployment, type SetDeploymentResult } from './deployments';
import { checkModelName } from './validate';

export interface RollbackChampionInput {
  model: string;
  actor: string;
  reason?: string;
  /** The version to restore; default the champion before the current one (`findPreviousChampion`). */
  toVersion?: number;
  /** Status of the champion being replaced. Default `rejected` (it was rolled back for a reason). */
  demotedStatus?: 'registered' | 'rejected';
}

export interface RollbackChampionResult extends SetDeploymentResult {
  from: number;
  to: number;
}

export async function rollbackChampion(db: Db, input: RollbackChampionInput): Promise<RollbackChampionResult> {
  checkModelName(input.model);
  return db.transaction(async (tx) => {
    const current = await getDeployment(tx, input.model);
    const to = input.toVersion ?? (await findPreviousChampion(tx, input.model));
    if (to === null) {
      throw new NotFoundError('previous champion of', input.model, 'its champion never changed, so there is nothing to roll back to');
    }
    if (current.championVersion === to) {
      throw new ConflictError('deployment', input.model, `v${to} is already the champion; nothing to roll back`);
    }
    const from = current.championVersion!;
    const reason = input.reason ?? `rollback to the previous champion v${to}`;
    const res = await setDeployment(tx, {
      model: input.model,
      championVersion: to,
      canaryVersion: null,
      canaryWeight: 0,
      demotedStatus: input.demotedStatus ?? 'rejected',
      actor: input.actor,
      reason,
    });
    await writeAudit(tx, {
      actor: input.actor,
      action: 'deployment.rollback',
      entity: 'deployment',
      model: input.model,
      entityKey: input.model,
      before: { championVersion: from, generation: current.generation },
      after: { championVersion: to, generation: res.deployment.generation, reason },
    });
    return { ...res, from, to };
  });
}
