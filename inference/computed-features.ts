/**
 * Computed features on the decide path, for any kind that reads its input by name (policy, bandit):
 *
 *   features: { featureSet: "llm-routing", request: { prompt: "…", tenant: "acme", timestamp?: "…" } }
 *
 * The server computes the set (configs/features/<set>.yaml) from the raw request and the rolling
 * aggregates in Redis (feature-store/computed/online.ts: one script that reads the windows and counts the
 * request for its entities), fills the model's inputs by name from the set's values, and logs
 *
 *   { featureSet, asOf, request, values: { name: value, … } }
 *
 * (`asOf`: ms since the epoch with a microsecond fraction, on Redis' clock: the windows' own order.)
 *
 * — everything the offline builder (feature-store/computed/offline.ts) needs to compute the same values
 * point-in-time. That logged form, sent back (a shadow mirror, a replay), is taken as is: its `values`
 * fill the inputs, nothing is recomputed or counted again.
 *
 * Errors: an unknown set or a malformed request is a 400 naming `features.featureSet` /
 * `features.request.<field>`; a model input the set does not compute, or a feature with no value under
 * a missing policy of `error`, a 422; Redis down, a 503.
 */
import { FeatureInputError, type FeatureSet } from '../ml/features';
import { checkFeatureRequest, FeatureRequestError, type OnlineFeatures } from '../feature-store/computed/online';
import type { RewardFeatureObserver, ObservedReward } from '../feature-store/computed/rewards';
import type { Json } from '../registry/types';
import { ClientError, badRequest, describeValue, unavailable } from './http/errors';
import type { PolicyBinding } from './policy/binding';

export interface ComputedFeatures {
  sets: ReadonlyMap<string, FeatureSet>;
  online: OnlineFeatures;
}

/** A decide `features` value naming a feature set (computed, or its logged form replayed). */
export type ComputedForm = { set: string; request: unknown; values: Record<string, unknown> | null; asOf: unknown };

const KEYS = new Set(['featureSet', 'request', 'values', 'asOf']);

/** `features` when it names a feature set (`featureSet` is a member and the model has no input of that name), else null. */
export function computedForm(features: unknown, binding: PolicyBinding | null): ComputedForm | null {
  if (features === null || typeof features !== 'object' || Array.isArray(features)) return null;
  const f = features as Record<string, unknown>;
  if (!Object.prototype.hasOwnProperty.call(f, 'featureSet')) return null;
  if (binding?.input.features?.includes('featureSet') === true) return null;
  for (const k in f) if (!KEYS.has(k)) throw badRequest(`unknown field features.${k} next to featureSet`, `features.${k}`, 'only featureSet and request (or the logged form: featureSet, asOf, request, values)');
  if (typeof f.featureSet !== 'string' || f.featureSet.length === 0) throw badRequest(`features.featureSet must be a set name, got ${describeValue(f.featureSet)}`, 'features.featureSet', 'the name of a feature set served here');
  const values = f.values;
  if (values !== undefined && (values === null || typeof values !== 'object' || Array.isArray(values))) throw badRequest(`features.values must be an object, got ${describeValue(values)}`, 'features.values', 'feature name → number (the logged form)');
  return { set: f.featureSet, request: f.request, values: (values as Record<string, unknown> | undefined) ?? null, asOf: f.asOf };
}

function setOf(cf: ComputedFeatures | null, name: string): FeatureSet {
  if (cf === null) throw new ClientError(400, 'this server computes no feature sets (it has no Redis)', 'features.featureSet', 'features given inline (array or object)');
  const set = cf.sets.get(name);
  if (set === undefined) {
    const names = [...cf.sets.keys()];
    throw badRequest(`features.featureSet names no feature set served here: ${describeValue(name)}`, 'features.featureSet', names.length === 0 ? 'no feature set is loaded' : `one of ${names.slice(0, 10).join(', ')}`);
  }
  return set;
}

/**
 * Computes (or takes from the logged form) the set's values and fills the model's named inputs into
 * `out`; returns the features to log. `names`: the model's inputs in order.
 */
export async function fillComputed(cf: ComputedFeatures | null, form: ComputedForm, names: readonly string[], out: Float32Array | Float64Array): Promise<Json> {
  const set = setOf(cf, form.set);
  let request;
  try {
    request = checkFeatureRequest(set, form.request, 'features.request');
  } catch (err) {
    if (err instanceof FeatureRequestError) throw badRequest(err.message, err.field, err.expected);
    throw err;
  }
  const absent = names.filter((n) => set.indexOf(n) === undefined);
  if (absent.length > 0) {
    throw new ClientError(422, `feature set ${set.name} does not compute ${absent.length} input${absent.length > 1 ? 's' : ''} of this model: ${absent.slice(0, 10).join(', ')}`, 'features.featureSet', `a set that computes every input (${names.slice(0, 10).join(', ')}${names.length > 10 ? ', …' : ''})`);
  }
  let values: Record<string, number>;
  let asOf: number;
  if (form.values !== null) {
    // The logged form: its values as they were computed.
    values = {};
    for (const n of names) {
      const v = form.values[n];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badRequest(`features.values.${n} must be a finite number, got ${describeValue(v)}`, `features.values.${n}`, 'a finite number');
      values[n] = v;
    }
    if (typeof form.asOf !== 'number' || !Number.isFinite(form.asOf)) throw badRequest(`features.asOf must be a time in ms, got ${describeValue(form.asOf)}`, 'features.asOf', 'the logged form\'s asOf (ms since the epoch)');
    asOf = form.asOf;
    values = { ...(form.values as Record<string, number>), ...values };
  } else {
    if (form.asOf !== undefined) throw badRequest('features.asOf is only part of the logged form (with values)', 'features.asOf', 'nothing: the server computes as of now');
    let computed: { values: Float64Array; asOf: number };
    try {
      computed = await cf!.online.compute(set, request, { record: true });
    } catch (err) {
      if (err instanceof FeatureInputError) throw new ClientError(422, err.message, `features.${err.field.startsWith('request.') ? err.field : `featureSet.${err.feature}`}`, err.expected);
      throw unavailable('cannot read the computed features\' aggregates', err, 'Redis');
    }
    values = set.toRecord(computed.values);
    asOf = computed.asOf;
  }
  for (let i = 0; i < names.length; i++) out[i] = values[names[i]];
  return { featureSet: set.name, asOf, request: request as Json, values };
}

/** What the rewards route answers (one reward, or a batch's results). */
interface RewardAnswer {
  accepted?: boolean;
  duplicate?: boolean;
  reward?: number;
  results?: { accepted: boolean; duplicate: boolean; reward?: number }[];
}

function componentsOf(b: unknown): Record<string, number> | null {
  const c = (b as { components?: unknown } | null)?.components;
  return c !== null && typeof c === 'object' && !Array.isArray(c) ? (c as Record<string, number>) : null;
}

/**
 * The rewards route, with every accepted reward that is not a duplicate handed to `observer` (the
 * feature sets' windows; off the response path, after the answer is made). The answer is unchanged.
 */
export function observeRewards<C>(route: (body: unknown, ctx: C) => Promise<unknown>, observer: RewardFeatureObserver): (body: unknown, ctx: C) => Promise<unknown> {
  return async (body, ctx) => {
    const out = (await route(body, ctx)) as RewardAnswer;
    const seen: ObservedReward[] = [];
    const items = (body as { rewards?: unknown } | null)?.rewards;
    if (Array.isArray(out?.results) && Array.isArray(items)) {
      out.results.forEach((r, i) => {
        const b = items[i] as { decisionId?: unknown; reward?: unknown } | undefined;
        if (!r.accepted || r.duplicate || typeof b?.decisionId !== 'string') return;
        const reward = r.reward ?? (typeof b.reward === 'number' ? b.reward : null);
        seen.push({ decisionId: b.decisionId, reward, components: componentsOf(b) });
      });
    } else if (out?.accepted === true && out.duplicate === false) {
      const b = body as { decisionId?: unknown; reward?: unknown };
      if (typeof b.decisionId === 'string') seen.push({ decisionId: b.decisionId, reward: out.reward ?? (typeof b.reward === 'number' ? b.reward : null), components: componentsOf(b) });
    }
    if (seen.length > 0) observer.observe(seen);
    return out;
  };
}
