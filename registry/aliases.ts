/**
 * Aliases: named pointers to versions, unique per model. `champion` and `canary` are maintained by
 * setDeployment (they always agree with the deployment); other names are free-form.
 */
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { NotFoundError, ValidationError } from './errors';
import { RESERVED_ALIASES, type Alias } from './types';
import { checkAliasName, checkModelName, checkVersionNumber } from './validate';
import { getVersion } from './versions';

function toAlias(r: Record<string, any>): Alias {
  return { model: r.model, alias: r.alias, version: r.version, updatedAt: r.updated_at };
}

function checkFreeAlias(alias: string): void {
  checkAliasName(alias);
  if ((RESERVED_ALIASES as readonly string[]).includes(alias)) {
    throw new ValidationError('alias', alias, `a name other than ${RESERVED_ALIASES.join(' or ')}, which follow the deployment (use setDeployment / \`autopilot deploy\`)`);
  }
}

export interface SetAliasInput {
  model: string;
  alias: string;
  version: number;
  actor: string;
}

/** Points `alias` at `version` (creating or moving it); a no-op when it already points there. */
export async function setAlias(db: Db, input: SetAliasInput): Promise<{ alias: Alias; changed: boolean }> {
  checkModelName(input.model);
  checkFreeAlias(input.alias);
  checkVersionNumber(input.version);
  checkActor(input.actor);
  return db.transaction(async (tx) => {
    const v = await getVersion(tx, input.model, input.version);
    if (v.status === 'rejected') {
      throw new ValidationError('version', input.version, `a version that is not rejected (${input.model}/${input.version} was rejected)`);
    }
    const r = await writeAlias(tx, input.model, input.alias, input.version);
    if (r.changed) {
      await recordChange(
        tx,
        {
          actor: input.actor,
          action: 'alias.set',
          entity: 'alias',
          model: input.model,
          entityKey: `${input.model}:${input.alias}`,
          before: r.before === null ? null : { version: r.before },
          after: { version: input.version },
        },
        { entity: 'alias', action: 'alias.set', model: input.model, alias: input.alias, version: input.version },
      );
    }
    return { alias: r.alias, changed: r.changed };
  });
}

/** Removes a free-form alias; NotFoundError if it does not exist. */
export async function removeAlias(db: Db, input: { model: string; alias: string; actor: string }): Promise<void> {
  checkModelName(input.model);
  checkFreeAlias(input.alias);
  checkActor(input.actor);
  await db.transaction(async (tx) => {
    const { rows } = await tx.query('DELETE FROM aliases WHERE model = $1 AND alias = $2 RETURNING version', [input.model, input.alias]);
    if (rows.length === 0) throw new NotFoundError('alias', `${input.model}:${input.alias}`);
    await recordChange(
      tx,
      {
        actor: input.actor,
        action: 'alias.remove',
        entity: 'alias',
        model: input.model,
        entityKey: `${input.model}:${input.alias}`,
        before: { version: rows[0].version },
        after: null,
      },
      { entity: 'alias', action: 'alias.remove', model: input.model, alias: input.alias, version: null },
    );
  });
}

/** The version an alias points to. */
export async function resolveAlias(db: Db, model: string, alias: string): Promise<number> {
  checkModelName(model);
  checkAliasName(alias);
  const { rows } = await db.query('SELECT version FROM aliases WHERE model = $1 AND alias = $2', [model, alias]);
  if (rows.length === 0) throw new NotFoundError('alias', `${model}:${alias}`, `see \`autopilot models show ${model}\``);
  return rows[0].version;
}

export async function listAliases(db: Db, model: string): Promise<Alias[]> {
  checkModelName(model);
  const { rows } = await db.query('SELECT model, alias, version, updated_at FROM aliases WHERE model = $1 ORDER BY alias', [model]);
  return rows.map(toAlias);
}

/**
 * A version reference as people type it: `3`, `v3`, `latest`, or an alias (`champion`, `staging`).
 */
export async function resolveVersionRef(db: Db, model: string, ref: string | number): Promise<number> {
  checkModelName(model);
  if (typeof ref === 'number') return checkVersionNumber(ref);
  const m = /^v?(\d+)$/.exec(ref);
  if (m) return checkVersionNumber(Number(m[1]));
  if (ref === 'latest') {
    const { rows } = await db.query('SELECT latest_version FROM models WHERE name = $1', [model]);
    if (rows.length === 0) throw new NotFoundError('model', model);
    if (rows[0].latest_version === 0) throw new NotFoundError('version', `${model}/latest`, `${model} has no versions yet`);
    return rows[0].latest_version;
  }
  return resolveAlias(db, model, ref);
}

/** Upserts an alias row without auditing (setDeployment audits its reserved aliases as part of its own change). */
export async function writeAlias(
  db: Db,
  model: string,
  alias: string,
  version: number,
): Promise<{ alias: Alias; before: number | null; changed: boolean }> {
  const prev = await db.query('SELECT version FROM aliases WHERE model = $1 AND alias = $2 FOR UPDATE', [model, alias]);
  const before: number | null = prev.rows[0]?.version ?? null;
  const { rows } = await db.query(
    `INSERT INTO aliases (model, alias, version) VALUES ($1, $2, $3)
     ON CONFLICT (model, alias) DO UPDATE SET version = EXCLUDED.version,
       updated_at = CASE WHEN aliases.version = EXCLUDED.version THEN aliases.updated_at ELSE now() END
     RETURNING model, alias, version, updated_at`,
    [model, alias, version],
  );
  return { alias: toAlias(rows[0]), before, changed: before !== version };
}
