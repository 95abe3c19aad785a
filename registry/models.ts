/** Models: a named family of versions. */
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { ConflictError, NotFoundError } from './errors';
import type { Model, ModelSummary } from './types';
import { checkModelName, checkOptionalText } from './validate';

export interface CreateModelInput {
  name: string;
  description?: string;
  actor: string;
}

const COLUMNS = 'name, description, latest_version, created_by, created_at';

export function toModel(r: Record<string, any>): Model {
  return {
    name: r.name,
    description: r.description,
    latestVersion: r.latest_version,
    createdBy: r.created_by,
    createdAt: r.created_at,
  };
}

/** Creates a model; a ConflictError if the name is taken. */
export async function createModel(db: Db, input: CreateModelInput): Promise<Model> {
  const created = await insertModel(db, input);
  if (!created) throw new ConflictError('model', input.name, 'already exists; pick another name or register a version of it');
  return created;
}

/** Creates the model if it does not exist (audited only when created). */
export async function ensureModel(db: Db, input: CreateModelInput): Promise<{ model: Model; created: boolean }> {
  const created = await insertModel(db, input);
  if (created) return { model: created, created: true };
  return { model: await getModel(db, input.name), created: false };
}

async function insertModel(db: Db, input: CreateModelInput): Promise<Model | null> {
  checkModelName(input.name, 'name');
  checkActor(input.actor);
  const description = checkOptionalText(input.description, 'description') ?? '';
  return db.transaction(async (tx) => {
    const { rows } = await tx.query(
      `INSERT INTO models (name, description, created_by) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO NOTHING RETURNING ${COLUMNS}`,
      [input.name, description, input.actor],
    );
    if (rows.length === 0) return null;
    const model = toModel(rows[0]);
    await recordChange(
      tx,
      { actor: input.actor, action: 'model.create', entity: 'model', model: model.name, entityKey: model.name, after: model },
      { entity: 'model', action: 'model.create', model: model.name },
    );
    return model;
  });
}

export async function getModel(db: Db, name: string): Promise<Model> {
  checkModelName(name);
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM models WHERE name = $1`, [name]);
  if (rows.length === 0) throw new NotFoundError('model', name, 'see `autopilot models list`');
  return toModel(rows[0]);
}

export async function listModels(db: Db): Promise<ModelSummary[]> {
  const { rows } = await db.query(
    `SELECT m.name, m.description, m.latest_version, m.created_by, m.created_at,
            d.champion_version, d.canary_version, d.canary_weight, d.generation
     FROM models m LEFT JOIN deployments d ON d.model = m.name ORDER BY m.name`,
  );
  return rows.map((r) => ({
    ...toModel(r),
    championVersion: r.champion_version ?? null,
    canaryVersion: r.canary_version ?? null,
    canaryWeight: r.canary_weight ?? 0,
    generation: r.generation === null || r.generation === undefined ? null : Number(r.generation),
  }));
}
