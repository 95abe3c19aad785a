/**
 * Deployments: what the inference server serves for a model (champion, canary and the canary's share
 * of traffic), one per model and named like it. Every change bumps `generation`, keeps the versions'
 * statuses and the `champion`/`canary` aliases in step, writes one audit row and notifies.
 */
import { writeAlias } from './aliases';
import { checkActor, recordChange } from './audit';
import type { Db } from './db';
import { ConflictError, NotFoundError, ValidationError } from './errors';
import type { Deployment, Exploration, Json, JsonObject, VersionStatus } from './types';
import { checkFinite, checkJson, checkJsonObject, checkModelName, checkOptionalText, checkVersionNumber, isPlainObject, stableJson } from './validate';

const COLUMNS = `model, kind, champion_version, canary_version, canary_weight, generation, exploration, fallback, config, updated_at`;

export function toDeployment(r: Record<string, any>): Deployment {
  return {
    deployment: r.model,
    model: r.model,
    kind: r.kind,
    championVersion: r.champion_version,
    canaryVersion: r.canary_version,
    canaryWeight: r.canary_weight,
    generation: Number(r.generation),
    exploration: r.exploration,
    fallback: r.fallback,
    config: r.config,
    updatedAt: r.updated_at,
  };
}

export async function findDeployment(db: Db, model: string): Promise<Deployment | null> {
  checkModelName(model);
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM deployments WHERE model = $1`, [model]);
  return rows.length ? toDeployment(rows[0]) : null;
}

export async function getDeployment(db: Db, model: string): Promise<Deployment> {
  const d = await findDeployment(db, model);
  if (!d) throw new NotFoundError('deployment', model, `deploy a version first: \`autopilot deploy ${model} --champion V\``);
  return d;
}

export async function listDeployments(db: Db): Promise<Deployment[]> {
  const { rows } = await db.query(`SELECT ${COLUMNS} FROM deployments ORDER BY model`);
  return rows.map(toDeployment);
}

/**
 * The champion before the current one: the `before.championVersion` of the latest audited deployment
 * change that replaced the champion (null if it never changed). What `autopilot rollback` restores.
 */
export async function findPreviousChampion(db: Db, model: string): Promise<number | null> {
  checkModelName(model);
  const { rows } = await db.query(
    `SELECT (before ->> 'championVersion')::int AS previous FROM audit_log
     WHERE model = $1 AND action = 'deployment.set' AND before IS NOT NULL
       AND (before -> 'championVersion') IS DISTINCT FROM (after -> 'championVersion')
     ORDER BY id DESC LIMIT 1`,
    [model],
  );
  return rows.length ? rows[0].previous : null;
}

export interface SetDeploymentInput {
  model: string;
  /** Omitted: keep the current one. Required when the deployment is created. */
  championVersion?: number | null;
  /** Omitted: keep; null: no canary. */
  canaryVersion?: number | null;
  /** Percentage of traffic to the canary, 0..100. Omitted: keep (0 for a new or removed canary). */
  canaryWeight?: number;
  /** Static action served when no model can serve; null removes it. */
  fallback?: Json | null;
  exploration?: Exploration;
  /** e.g. policy (default), bandit, text-policy */
  kind?: string;
  config?: JsonObject;
  /** Optimistic concurrency: fail with ConflictError unless the current generation is this (0: no deployment yet). */
  expectedGeneration?: number;
  /** Status given to versions that leave the deployment (default `registered`; a rollback passes `rejected`). */
  demotedStatus?: 'registered' | 'rejected' | 'archived';
  actor: string;
  reason?: string;
}

export interface SetDeploymentResult {
  deployment: Deployment;
  previous: Deployment | null;
  /** False when the input matched the current state: nothing was written, audited or notified. */
  changed: boolean;
  /** Versions whose status changed as part of this deployment change. */
  statusChanges: { version: number; from: VersionStatus; to: VersionStatus }[];
}

export function checkExploration(value: unknown, field = 'exploration'): Exploration {
  if (!isPlainObject(value)) throw new ValidationError(field, value, '{ mode: "greedy" | "sample", epsilon?, temperature? }');
  if (value.mode !== 'greedy' && value.mode !== 'sample') throw new ValidationError(`${field}.mode`, value.mode, '"greedy" or "sample"');
  if (value.epsilon !== undefined) {
    const e = checkFinite(value.epsilon, `${field}.epsilon`);
    if (e < 0 || e > 1) throw new ValidationError(`${field}.epsilon`, e, 'a probability in [0, 1]');
  }
  if (value.temperature !== undefined) {
    const t = checkFinite(value.temperature, `${field}.temperature`);
    if (t <= 0) throw new ValidationError(`${field}.temperature`, t, 'a number > 0');
  }
  const extra = Object.keys(value).filter((k) => !['mode', 'epsilon', 'temperature'].includes(k));
  if (extra.length) throw new ValidationError(`${field}.${extra[0]}`, value[extra[0]], 'no such setting (known: mode, epsilon, temperature)');
  return value as unknown as Exploration;
}

/**
 * Exploration of a NEW policy deployment when none is given: ε-greedy over the served policy with
 * ε = 0.05 per discrete head, so every action keeps a logged propensity ≥ Π_h ε/K_h > 0 and any
 * candidate policy can be evaluated off-policy on the deployment's logs. Written into the stored
 * deployment when it is created; an existing deployment keeps what it has (`{ mode: "greedy" }`
 * without ε, the old default, stays greedy). Pass `{ mode: "greedy" }` for argmax serving.
 */
export const DEFAULT_POLICY_EXPLORATION: Exploration = { mode: 'greedy', epsilon: 0.05 };

/** Exploration rule a NEW bandit deployment's config gets when its config names none (ml/bandits/exploration.ts). */
export const DEFAULT_BANDIT_EXPLORATION = { kind: 'epsilon-greedy', epsilon: 0.05 } as const;

/**
 * The bandit config to store: `config.exploration` as given; when absent, what the deployment had
 * (explicitly `{ kind: "none" }` when it had no rule, so replacing an existing config never switches
 * exploration on behind the user's back), or the exploring default for a new bandit deployment.
 */
function banditConfigWithExploration(config: JsonObject, current: Deployment | null): JsonObject {
  if (config.exploration !== undefined && config.exploration !== null) return config;
  const had = current !== null && current.kind === 'bandit' ? (current.config.exploration ?? { kind: 'none' }) : DEFAULT_BANDIT_EXPLORATION;
  return { ...config, exploration: had as Json };
}

/**
 * Whether a deployment's logs support off-policy evaluation of other policies: false when the served
 * rule is deterministic (greedy policy serving without ε; a bandit without an exploration rule whose
 * learner is deterministic, LinUCB), with what to do about it. Text policies are approval verdicts:
 * never randomised, by design.
 */
export function explorationSupport(d: Pick<Deployment, 'kind' | 'exploration' | 'config'>): { explores: boolean; rule: string; advice?: string } {
  if (d.kind === 'policy') {
    const e = d.exploration ?? { mode: 'greedy' };
    const eps = e.epsilon ?? 0;
    if (e.mode === 'sample') return { explores: true, rule: `sample${eps > 0 ? ` with ε = ${eps}` : ''}${e.temperature !== undefined ? `, T = ${e.temperature}` : ''}` };
    if (eps > 0) return { explores: true, rule: `ε-greedy, ε = ${eps}` };
    return { explores: false, rule: 'greedy (argmax, propensity 1)', advice: 'give --exploration greedy --epsilon 0.05 (ε-greedy) or --exploration sample' };
  }
  if (d.kind === 'bandit') {
    const e = (d.config?.exploration ?? { kind: 'none' }) as { kind?: string; epsilon?: number; temperature?: number };
    const learner = ((d.config?.learner ?? {}) as { kind?: string }).kind;
    if (e.kind === 'epsilon-greedy') return { explores: true, rule: `ε-greedy, ε = ${e.epsilon}` };
    if (e.kind === 'softmax') return { explores: true, rule: `softmax, T = ${e.temperature}` };
    if (e.kind === 'meta') return { explores: true, rule: 'meta: warm-start priors from past deployments, ε decayed by posterior uncertainty' };
    if (learner === 'linucb') return { explores: false, rule: 'linucb without exploration (argmax, propensity 1)', advice: 'set config.exploration to { kind: epsilon-greedy, epsilon: 0.05 } or { kind: softmax, temperature }' };
    return { explores: true, rule: `${learner ?? 'the learner'}'s own sampling` };
  }
  return { explores: false, rule: `${d.kind}: deterministic by design` };
}

export async function setDeployment(db: Db, input: SetDeploymentInput): Promise<SetDeploymentResult> {
  checkModelName(input.model);
  checkActor(input.actor);
  const reason = checkOptionalText(input.reason, 'reason');
  if (input.championVersion !== undefined && input.championVersion !== null) checkVersionNumber(input.championVersion, 'championVersion');
  if (input.canaryVersion !== undefined && input.canaryVersion !== null) checkVersionNumber(input.canaryVersion, 'canaryVersion');
  if (input.canaryWeight !== undefined) {
    const w = checkFinite(input.canaryWeight, 'canaryWeight');
    if (w < 0 || w > 100) throw new ValidationError('canaryWeight', w, 'a percentage of traffic in [0, 100]');
  }
  if (input.exploration !== undefined) checkExploration(input.exploration);
  if (input.fallback !== undefined && input.fallback !== null) checkJson(input.fallback, 'fallback');
  if (input.config !== undefined) checkJsonObject(input.config, 'config');
  if (input.kind !== undefined && (typeof input.kind !== 'string' || !/^[a-z][a-z0-9-]{0,31}$/.test(input.kind))) {
    throw new ValidationError('kind', input.kind, 'a lower-case kind such as "policy", "bandit" or "text-policy"');
  }
  const demoted = input.demotedStatus ?? 'registered';
  if (!['registered', 'rejected', 'archived'].includes(demoted)) {
    throw new ValidationError('demotedStatus', demoted, 'registered, rejected or archived');
  }

  return db.transaction(async (tx) => {
    const lock = await tx.query('SELECT name FROM models WHERE name = $1 FOR NO KEY UPDATE', [input.model]);
    if (lock.rows.length === 0) throw new NotFoundError('model', input.model, 'see `autopilot models list`');
    const current = await findDeployment(tx, input.model);
    if (input.expectedGeneration !== undefined && (current?.generation ?? 0) !== input.expectedGeneration) {
      throw new ConflictError(
        'deployment',
        input.model,
        `is at generation ${current?.generation ?? 0}, not the expected ${input.expectedGeneration}; re-read it and retry`,
      );
    }
    if (!current && input.championVersion === undefined) {
      throw new ValidationError('championVersion', undefined, `a version number: ${input.model} has no deployment yet, so its champion must be given`);
    }

    const championVersion = input.championVersion !== undefined ? input.championVersion : current!.championVersion;
    const canaryVersion = input.canaryVersion !== undefined ? input.canaryVersion : (current?.canaryVersion ?? null);
    const sameCanary = current !== null && current.canaryVersion === canaryVersion;
    const canaryWeight = input.canaryWeight ?? (sameCanary && canaryVersion !== null ? current!.canaryWeight : 0);
    const kind = input.kind ?? current?.kind ?? 'policy';
    // Defaults are written into the stored deployment when it is created, so what it serves is
    // visible in the registry and never changes under it when a default changes later.
    const next = {
      kind,
      championVersion,
      canaryVersion,
      canaryWeight,
      exploration: input.exploration ?? current?.exploration ?? (kind === 'policy' ? DEFAULT_POLICY_EXPLORATION : ({ mode: 'greedy' } as Exploration)),
      fallback: input.fallback !== undefined ? input.fallback : (current?.fallback ?? null),
      config:
        kind === 'bandit' && (input.config !== undefined || current === null || current.kind !== 'bandit')
          ? banditConfigWithExploration(input.config ?? current?.config ?? {}, current)
          : (input.config ?? current?.config ?? {}),
    };

    if (canaryVersion === null && canaryWeight > 0) {
      throw new ValidationError('canaryWeight', canaryWeight, '0 when there is no canary version (give canaryVersion too)');
    }
    if (championVersion === null && canaryVersion !== null) {
      throw new ValidationError('championVersion', null, 'a version number when a canary is deployed (a canary needs a champion to compare with)');
    }
    if (canaryVersion !== null && canaryVersion === championVersion) {
      throw new ValidationError('canaryVersion', canaryVersion, `a version other than the champion (${championVersion})`);
    }
    for (const [field, v] of [['championVersion', championVersion], ['canaryVersion', canaryVersion]] as const) {
      if (v === null) continue;
      const { rows } = await tx.query('SELECT status FROM model_versions WHERE model = $1 AND version = $2 FOR UPDATE', [input.model, v]);
      if (rows.length === 0) {
        const latest = (await tx.query('SELECT latest_version FROM models WHERE name = $1', [input.model])).rows[0].latest_version;
        throw new NotFoundError('version', `${input.model}/${v}`, `${field}: ${input.model} has ${latest ? `versions 1..${latest}` : 'no versions yet'}`);
      }
      const status = rows[0].status as VersionStatus;
      if (status === 'rejected' || status === 'archived') {
        throw new ValidationError(field, v, `a version that is not rejected or archived (${input.model}/${v} is ${status})`);
      }
    }

    const unchanged =
      current !== null &&
      current.kind === next.kind &&
      current.championVersion === next.championVersion &&
      current.canaryVersion === next.canaryVersion &&
      current.canaryWeight === next.canaryWeight &&
      stableJson(current.exploration) === stableJson(next.exploration) &&
      stableJson(current.fallback) === stableJson(next.fallback) &&
      stableJson(current.config) === stableJson(next.config);
    if (unchanged) return { deployment: current, previous: current, changed: false, statusChanges: [] };

    const generation = (current?.generation ?? 0) + 1;
    const { rows } = await tx.query(
      `INSERT INTO deployments (model, kind, champion_version, canary_version, canary_weight, generation, exploration, fallback, config, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9::jsonb, now())
       ON CONFLICT (model) DO UPDATE SET kind = EXCLUDED.kind, champion_version = EXCLUDED.champion_version,
         canary_version = EXCLUDED.canary_version, canary_weight = EXCLUDED.canary_weight, generation = EXCLUDED.generation,
         exploration = EXCLUDED.exploration, fallback = EXCLUDED.fallback, config = EXCLUDED.config, updated_at = now()
       RETURNING ${COLUMNS}`,
      [
        input.model,
        next.kind,
        next.championVersion,
        next.canaryVersion,
        next.canaryWeight,
        generation,
        JSON.stringify(next.exploration),
        next.fallback === null ? null : JSON.stringify(next.fallback),
        JSON.stringify(next.config),
      ],
    );
    const deployment = toDeployment(rows[0]);

    // Version statuses and the reserved aliases follow the deployment.
    const statusChanges: SetDeploymentResult['statusChanges'] = [];
    const setStatus = async (version: number, to: VersionStatus) => {
      const r = await tx.query('SELECT status FROM model_versions WHERE model = $1 AND version = $2 FOR UPDATE', [input.model, version]);
      const from = r.rows[0].status as VersionStatus;
      if (from === to) return;
      await tx.query('UPDATE model_versions SET status = $3 WHERE model = $1 AND version = $2', [input.model, version, to]);
      statusChanges.push({ version, from, to });
    };
    const leaving = [current?.championVersion, current?.canaryVersion].filter(
      (v): v is number => typeof v === 'number' && v !== championVersion && v !== canaryVersion,
    );
    for (const v of leaving) await setStatus(v, demoted);
    if (championVersion !== null) await setStatus(championVersion, 'champion');
    if (canaryVersion !== null) await setStatus(canaryVersion, 'canary');
    for (const [alias, v] of [['champion', championVersion], ['canary', canaryVersion]] as const) {
      if (v === null) await tx.query('DELETE FROM aliases WHERE model = $1 AND alias = $2', [input.model, alias]);
      else await writeAlias(tx, input.model, alias, v);
    }

    await recordChange(
      tx,
      {
        actor: input.actor,
        action: 'deployment.set',
        entity: 'deployment',
        model: input.model,
        entityKey: input.model,
        before: current ? deploymentState(current) : null,
        after: { ...deploymentState(deployment), statusChanges, ...(reason ? { reason } : {}) },
      },
      {
        entity: 'deployment',
        action: 'deployment.set',
        model: input.model,
        deployment: input.model,
        generation: deployment.generation,
        championVersion: deployment.championVersion,
        canaryVersion: deployment.canaryVersion,
        canaryWeight: deployment.canaryWeight,
      },
    );
    return { deployment, previous: current, changed: true, statusChanges };
  });
}

function deploymentState(d: Deployment) {
  return {
    kind: d.kind,
    championVersion: d.championVersion,
    canaryVersion: d.canaryVersion,
    canaryWeight: d.canaryWeight,
    generation: d.generation,
    exploration: d.exploration,
    fallback: d.fallback,
    config: d.config,
  };
}
