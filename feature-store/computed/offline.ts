/**
 * Training sets from the decision log, point-in-time correct (ml/features/offline.ts does the math):
 *
 *   const rows = await buildTrainingSet(db, set, { deployment: 'model-router', from, to });
 *   // [{ decisionId, asOf, values (recomputed), logged (what the server used), arm, action, reward, components }]
 *
 * The events replayed are the ones the online windows counted: every decision logged with the set (any
 * deployment: the windows are the set's), counted at its `asOf`, and the rewards in `feature_events`
 * (migration 026) at the time they were counted. Only events before each decision's asOf enter its
 * features; rewards that arrived later (even of earlier decisions) do not.
 */
import type { Db } from '../../registry/db';
import { BUCKETS_PER_WINDOW, pointInTimeFeatures, type FeatureEvent, type FeatureSet, type LoggedFeatureDecision } from '../../ml/features';

export interface TrainingRow {
  decisionId: string;
  deployment: string;
  /** When the features were computed (ms). */
  asOf: number;
  /** The set's values recomputed offline, in `set.names` order. */
  values: Float64Array;
  /** The values the server logged (and its model saw). */
  logged: Record<string, number>;
  arm: string;
  action: unknown;
  reward: number | null;
  components: Record<string, number> | null;
}

export interface TrainingSetQuery {
  /** Only decisions of this deployment (default: every decision logged with the set). */
  deployment?: string;
  from?: Date;
  to?: Date;
}

interface DecisionRow {
  decision_id: string;
  deployment: string;
  arm: string;
  action: unknown;
  features: { featureSet: string; asOf: number; request: Record<string, unknown>; values: Record<string, number> };
  reward: number | null;
  components: Record<string, number> | null;
}

/** The longest window of the set (ms): how far back events matter. */
function longestWindow(set: FeatureSet): number {
  let w = 0;
  for (const sizes of set.bucketSizes.values()) for (const b of sizes) w = Math.max(w, b * BUCKETS_PER_WINDOW);
  return w;
}

/** Every decision logged with `set` between the times (by decision time, a little after asOf), with its reward. */
async function loggedDecisions(db: Db, set: FeatureSet, from: Date, to: Date, deployment: string | null): Promise<DecisionRow[]> {
  const { rows } = await db.query<DecisionRow>(
    `SELECT d.decision_id, d.deployment, d.arm, d.action, d.features, r.reward, r.components
       FROM decisions d LEFT JOIN rewards r ON r.decision_id = d.decision_id AND r.decision_time = d.time
      WHERE d.features->>'featureSet' = $1 AND d.time >= $2 AND d.time <= $3 AND ($4::text IS NULL OR d.deployment = $4)
      ORDER BY d.time, d.decision_id`,
    [set.name, from.toISOString(), to.toISOString(), deployment],
  );
  return rows;
}

function asLogged(r: DecisionRow): LoggedFeatureDecision {
  return { decisionId: r.decision_id, asOf: r.features.asOf, request: r.features.request };
}

/** The training rows of the query, each with its features recomputed as of its decision's asOf. */
export async function buildTrainingSet(db: Db, set: FeatureSet, q: TrainingSetQuery = {}): Promise<TrainingRow[]> {
  const from = q.from ?? new Date(0);
  const to = q.to ?? new Date(Date.now() + 60_000);
  const targets = await loggedDecisions(db, set, from, to, q.deployment ?? null);
  if (targets.length === 0) return [];
  const decisions = targets.map(asLogged);
  let minAsOf = Infinity;
  let maxAsOf = -Infinity;
  for (const d of decisions) {
    minAsOf = Math.min(minAsOf, d.asOf);
    maxAsOf = Math.max(maxAsOf, d.asOf);
  }
  // Events that can fall in any target's windows: from the longest window before the first asOf.
  const since = new Date(minAsOf - longestWindow(set) - 60_000);
  const until = new Date(maxAsOf + 60_000);
  const all = await loggedDecisions(db, set, since, until, null);
  const events: FeatureEvent[] = all.map((r) => set.decisionEvent(r.features.request, r.features.asOf));
  const { rows } = await db.query<{ time_us: string; entities: Record<string, string>; model: string | null; reward: number | null; components: Record<string, number> | null }>(
    `SELECT (extract(epoch FROM time) * 1000000)::bigint AS time_us, entities, model, reward, components FROM feature_events WHERE feature_set = $1 AND time >= $2 AND time <= $3`,
    [set.name, since.toISOString(), until.toISOString()],
  );
  for (const e of rows) events.push({ type: 'reward', time: Number(e.time_us) / 1000, entities: e.entities, model: e.model, reward: e.reward, components: e.components });
  const computed = pointInTimeFeatures(set, decisions, events);
  return targets.map((r, i) => ({
    decisionId: r.decision_id,
    deployment: r.deployment,
    asOf: decisions[i].asOf,
    values: computed[i].values,
    logged: r.features.values,
    arm: r.arm,
    action: r.action,
    reward: r.reward,
    components: r.components,
  }));
}
