/**
 * POST /v1/decide for a bandit deployment: `{ deployment, features?, unit?, explore? }` → the learner's
 * arm, its propensity and a decision id. The decision's entry goes to Redis (for the reward, on
 * whichever instance it arrives), its row to the decision log like any other.
 */
import type { Redis } from 'ioredis';
import type { BanditSegments } from '../../ml/bandits/config';
import { constrainActionDist, drawArm, type SegmentRule } from '../../ml/bandits/constraints';
import { breakerActionDist } from '../../ml/routing/circuit-breaker';
import type { Decision } from '../../ml/bandits/types';
import type { Rng } from '../../ml/rng';
import type { Json } from '../../registry/types';
import { newDecisionStamp } from '../decisions/id';
import type { DecisionLog } from '../decisions/log';
import { fillFromStore, parseFeatures, type FeatureStore } from '../features';
import { computedForm, fillComputed, type ComputedFeatures } from '../computed-features';
import { badRequest, describeValue, parseKey, ServerFault, unavailable } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import { decisionKey } from './claims';
import type { BreakerView } from './breaker';
import type { BanditDeployment, DecisionEntry } from './deployment';

export interface BanditDecideResponse {
  decisionId: string;
  model: string;
  version: null;
  arm: string;
  armIndex: number;
  action: Json;
  propensity: number;
  armProbability: 1;
  fallback: false;
  /** `seq` of the shared learner state this decision was made with (observations applied). */
  stateSeq: number;
  /** The segment whose constraints the decision met (deployments with `segments`; null: the default rule). */
  segment?: string | null;
}

export interface BanditDecideDeps {
  redis: Redis;
  decisionLog: DecisionLog;
  metrics: InferenceMetrics;
  rng: Rng;
  /** The online feature store `{ entity }` contexts are read from; null: refused. */
  featureStore: FeatureStore | null;
  featurePrefix: string;
  /** Feature sets computed from a raw request (`features: { featureSet, request }`); null: refused. */
  computed?: ComputedFeatures | null;
}

const finiteOrNull = (v: number): number | null => (Number.isFinite(v) ? v : null);

const DECIDE_KEYS = new Set(['deployment', 'features', 'unit', 'explore']);

/** The context vector x (intercept first) and the features to log. */
async function contextOf(deps: BanditDecideDeps, s: BanditDeployment, features: unknown): Promise<{ x: number[] | null; logged: Json }> {
  if (s.binding === null) {
    if (features !== undefined && features !== null && !(Array.isArray(features) && features.length === 0) && !(typeof features === 'object' && Object.keys(features).length === 0)) {
      throw badRequest(`features must be absent for bandit ${s.name}, got ${describeValue(features)}`, 'features', 'nothing (or [] / {})');
    }
    return { x: s.config.d > 0 ? [1] : null, logged: {} };
  }
  if (features === undefined) throw badRequest('features is required', 'features', `an array of ${s.binding.input.size} numbers, an object keyed by ${s.config.features.join(', ')}, or { entity }`);
  const form = computedForm(features, s.binding);
  if (form !== null) {
    const vals = new Float64Array(s.config.features.length);
    const logged = await fillComputed(deps.computed ?? null, form, s.config.features, vals);
    return { x: s.config.intercept ? [1, ...vals] : Array.from(vals), logged };
  }
  const v = new Float32Array(s.binding.input.size);
  const lookup = parseFeatures(features, s.binding, v);
  let logged = features as Json;
  if (lookup !== null) {
    const used = await fillFromStore(deps.featureStore, deps.featurePrefix, lookup.entity, lookup.missing, s.binding, v);
    logged = { ...(features as Record<string, Json>), ...used };
  } else if (Array.isArray(features)) {
    logged = Object.fromEntries(s.config.features.map((n, i) => [n, features[i] as number]));
  }
  // The request's (or the store's) float64 values, not the float32 copy parseFeatures validated.
  const vals = s.config.features.map((n) => (logged as Record<string, number>)[n]);
  const x = s.config.intercept ? [1, ...vals] : vals;
  return { x, logged };
}

/**
 * The segment of a request to a deployment with per-segment constraints: `features.<field>` (a string),
 * taken out of the features the learner sees, and its rule (the default rule where the segment is not
 * listed or not given; a 400 where there is no default).
 */
function segmentOf(seg: BanditSegments, features: unknown): { features: unknown; segment: string | null; rule: SegmentRule } {
  const field = `features.${seg.field}`;
  const listed = () => {
    const names = [...seg.rules.keys()];
    return `one of the segments ${names.slice(0, 10).map((n) => JSON.stringify(n)).join(', ')}${names.length > 10 ? ', …' : ''}`;
  };
  const isObj = features !== null && typeof features === 'object' && !Array.isArray(features);
  if (!isObj || !Object.prototype.hasOwnProperty.call(features, seg.field)) {
    if (seg.default !== null) return { features, segment: null, rule: seg.default };
    throw badRequest(`${field} is required: this deployment constrains its arms per segment`, field, `${listed()} (features as an object)`);
  }
  const { [seg.field]: value, ...rest } = features as Record<string, unknown>;
  if (typeof value !== 'string') throw badRequest(`${field} must be a string, got ${describeValue(value)}`, field, listed());
  const rule = seg.rules.get(value);
  if (rule !== undefined) return { features: rest, segment: value, rule };
  if (seg.default !== null) return { features: rest, segment: value, rule: seg.default };
  throw badRequest(`${field} names no segment of this deployment: ${describeValue(value)}`, field, listed());
}

/** The deployment's circuit breakers now (a 503 when Redis cannot say). */
async function readBreaker(s: BanditDeployment): Promise<BreakerView> {
  try {
    return await s.breaker!.read();
  } catch (err) {
    throw unavailable('cannot read the circuit breakers of the deployment', err, 'Redis');
  }
}

/** POST /v1/decide for the bandit deployment `s` (the body's `deployment` names it). */
export async function decideBandit(deps: BanditDecideDeps, s: BanditDeployment, b: Record<string, unknown>, ctx: RequestContext): Promise<BanditDecideResponse> {
  for (const key in b) if (!DECIDE_KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only deployment, features, unit and explore');
  let unit: string | null = null;
  if (b.unit !== undefined && b.unit !== null) unit = parseKey(b.unit, 'unit', 'a key such as "user:42"');
  const seg = s.config.segments === null ? null : segmentOf(s.config.segments, b.features);
  const context = await contextOf(deps, s, seg === null ? b.features : seg.features);
  const x = context.x;
  let logged = context.logged;
  const learner = s.shared.learner;
  let pick: Decision;
  let served: Float64Array | null = null;
  let breakerMeta: { open: string[]; halfOpen: string[] } | null = null;
  if (seg === null && s.breaker === null) {
    pick = learner.select(x ?? undefined, deps.rng);
  } else {
    // The learner's distribution projected onto the segment's constraints, then onto the arms whose
    // circuit is not open; the propensity is the probability of the distribution drawn from.
    const ad = learner.actionDist(x ?? undefined, deps.rng);
    served = seg === null ? ad.dist : constrainActionDist(ad.dist, seg.rule);
    if (s.breaker !== null) {
      const view = await readBreaker(s);
      const open = view.states.flatMap((st, a) => (st === 'open' ? [s.config.arms[a].name] : []));
      const halfOpen = view.states.flatMap((st, a) => (st === 'half-open' ? [s.config.arms[a].name] : []));
      // Arms a segment rule forbids stay out whatever their circuit.
      const states = view.states.map((st, a) => (served![a] > 0 || seg === null ? st : 'open'));
      const cut = breakerActionDist(served, states, s.breaker.config.probeShare);
      if (cut === null) {
        const pending = view.until.filter((u) => u > view.now);
        const wait = Math.max(1, Math.ceil((pending.length > 0 ? Math.min(...pending) - view.now : s.breaker.config.cooldownMs) / 1000));
        throw new ServerFault(503, `every arm of bandit deployment ${s.name}${seg !== null ? ` allowed for segment ${JSON.stringify(seg.segment)}` : ''} has an open circuit`, null, `a retry after the cool-down (${wait} s)`, wait);
      }
      served = cut;
      if (open.length > 0 || halfOpen.length > 0) breakerMeta = { open, halfOpen };
    }
    const armIndex = drawArm(served, deps.rng);
    pick = { arm: armIndex, propensity: served[armIndex], scores: ad.scores };
    if (seg !== null && seg.segment !== null) logged = { ...(logged as Record<string, Json>), [s.config.segments!.field]: seg.segment };
  }
  const arm = s.config.arms[pick.arm];
  const { decisionId, time } = newDecisionStamp();
  const entry: DecisionEntry = { deployment: s.name, stateKey: s.config.stateKey, arm: pick.arm, x };
  try {
    await deps.redis.set(decisionKey(decisionId), JSON.stringify(entry), 'EX', s.config.decisionTtlSeconds);
  } catch (err) {
    throw unavailable('cannot record the bandit decision for its reward', err, 'Redis');
  }
  const action: Json = { arm: arm.name, index: pick.arm, ...(arm.payload !== null ? { payload: arm.payload } : {}) };
  deps.metrics.decisionCounter(s.name, 'bandit', arm.name).inc();
  deps.decisionLog.enqueue({
    decisionId,
    time,
    deployment: s.name,
    model: s.model,
    version: null,
    generation: s.generation,
    arm: arm.name,
    features: logged,
    action,
    propensity: pick.propensity,
    density: null,
    unit,
    latencyMs: performance.now() - ctx.start,
    metadata: {
      kind: 'bandit',
      learner: learner.kind,
      seq: s.shared.seq,
      scores: pick.scores.map((v) => (Number.isFinite(v) ? v : null)),
      // The learner's expected reward of the arm served (posterior mean, xᵀθ̂): paired with the reward by
      // the calibration monitor (activities/calibration), like every decision that stores `prediction`.
      prediction: finiteOrNull(learner.expectedReward(x ?? undefined, pick.arm)),
      // Under per-segment constraints: the segment and the whole distribution served (OPE's action_dist).
      ...(seg !== null ? { segment: seg.segment } : {}),
      ...(served !== null ? { actionDist: Array.from(served) } : {}),
      ...(breakerMeta !== null ? { breaker: breakerMeta } : {}),
    },
    keyId: ctx.keyId ?? null,
  });
  return { decisionId, model: s.model, version: null, arm: arm.name, armIndex: pick.arm, action, propensity: pick.propensity, armProbability: 1, fallback: false, stateSeq: s.shared.seq, ...(seg !== null ? { segment: seg.segment } : {}) };
}
