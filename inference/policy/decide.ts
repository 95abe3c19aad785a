/**
 * POST /v1/decide for a deployment of kind `policy` (an ONNX policy): `{ deployment, features, unit?,
 * explore? }` → `{ decisionId, model, version, arm, action, propensity, armProbability, fallback }`.
 *
 * Steps: validate the body; pick the arm (sticky with `unit`); build the input (inline, or from the
 * feature store for `{ entity }`); run the arm's ONNX session in this turn's micro-batch; decode the
 * action from the version's signature; hand the decision row to the decision log (off the hot path);
 * answer.
 *
 * Propensities, precisely (what the row records):
 * - `propensity` = π_arm(a | x): the probability that the serving arm's policy, with this request's
 *   exploration settings, returns the discrete parts of `a` for context x (1 in greedy mode with ε = 0).
 *   Because the arm is chosen independently of x (a coin or a hash of the unit) and recorded, this is
 *   the logging probability OPE needs for each row: E[r · π_e(a|x) / π_arm(a|x)] is unbiased for the
 *   value of a target policy π_e whichever arm logged the row, so estimators pool rows from both arms
 *   with this pscore.
 * - `metadata.armProbability` = P(arm) (the canary weight or 1 − weight): the traffic split, a separate
 *   factor, kept for split checks (sample-ratio mismatch) and for anyone who wants the joint
 *   P(arm) · π_arm(a|x) (e.g. to treat (arm, action) as the logged action).
 * - `density`: the density of the continuous parts when they were sampled (null otherwise).
 * - `metadata.policyProbability`: the model's own softmax probability of the discrete parts (T = 1,
 *   no ε), even in greedy mode.
 * - `metadata.headPropensities`: `{ head: probability }` of each discrete head's chosen value under
 *   the serving rule (heads are drawn independently given x, so their product is `propensity`); OPE
 *   uses them for factored weights and to find heads logged deterministically (no support).
 * Fallback decisions are logged with arm `fallback`, version null and propensity 1 (a fixed action).
 */
import { newDecisionStamp } from '../decisions/id';
import type { Rng } from '../../ml/rng';
import { decisionLineArmFields, encodeServedDecisionLine, type DecisionInput } from '../../decision-log';
import type { Json } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { fillFromStore, parseFeatures, type FeatureStore } from '../features';
import { computedForm, fillComputed, type ComputedFeatures } from '../computed-features';
import type { ShadowMirror } from './mirror';
import { expectObject } from '../http/body';
import { jsonMemberText } from '../http/json-member';
import { ClientError, badRequest, describeValue, parseKey } from '../http/errors';
import { ANSWER_LATER, JsonText, type RequestContext } from '../http/server';
import type { Incrementer, InferenceMetrics, Observer } from '../metrics';
import type { InferTarget, LoadedModel } from '../models/loaded-model';
import type { SyncOutputs } from '../models/sync-session';
import type { ServingState } from '../models/serving-state';
import type { Arm } from '../router';
import type { ScannedDecide } from '../serving/served-deployment';
import { answerMiddle, decideAnswerText, decisionMetadataJson, headPropensitiesObject, type DecideResponse } from './answer';

export interface PolicyDecideDeps {
  log: DecisionLog;
  metrics: InferenceMetrics;
  rng: Rng;
  featureStore: FeatureStore | null;
  featurePrefix: string;
  /** Feature sets computed from a raw request (`features: { featureSet, request }`); null: refused. */
  computed?: ComputedFeatures | null;
  onError?: (level: 'warn' | 'error', msg: string) => void;
  /** Mirrors champion-served requests to the deployment's shadow version, off the response path (set once the mirror exists). */
  mirror?: { current: ShadowMirror | null };
  /** Takes a canary that failed at run time out of rotation (the policy kind); the state that serves now. */
  ejectCanary(state: ServingState, model: LoadedModel, reason: string): ServingState | undefined;
}

export interface PolicyDecider {
  /** A parsed body for `state`. */
  decide(state: ServingState, body: Record<string, unknown>, ctx: RequestContext): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER>;
  /** A scanned body for `state`; `values[0, body.count)` are read before this returns, never after. */
  decideScanned(state: ServingState, body: ScannedDecide, values: Float64Array, ctx: RequestContext): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER>;
}

const BODY_KEYS = new Set(['deployment', 'features', 'unit', 'explore']);
const UNIT_EXPECTED = 'a sticky routing key such as "user:42"';

interface RequestCommon {
  readonly unit: string | undefined;
  readonly explore: boolean | undefined;
}

/**
 * A validated decide request. `source` says where its features are, in exactly one form:
 * - `scanned`: `count` numbers the scanner (handlers/decide-body.ts) wrote into `values`, the handler's
 *   scratch array, which the next scanned request overwrites. They are copied out at ONE point,
 *   `takeScanned` (called by the first `inputFor`, synchronously inside `decideScanned`, before anything
 *   awaits); `text` is the features' JSON text as sent. handlers/decide.test.ts fails if the copy moves after an
 *   await. A later input of the same request (the champion's, after a canary failed) uses `text`.
 * - `text`: the features' JSON text as sent (a scanned request whose values were taken), parsed when needed;
 * - `parsed`: the parsed body's value; `bodyText`, the body, to cut the features' text from when they are
 *   logged as sent (null: none).
 */
export type DecideRequest =
  | (RequestCommon & { readonly source: 'scanned'; readonly count: number; readonly text: string; readonly values: Float64Array })
  | (RequestCommon & { readonly source: 'text'; readonly text: string })
  | (RequestCommon & { readonly source: 'parsed'; readonly value: unknown; readonly bodyText: string | null });

/** The request's features as a value (parsed from their text when they came as text). */
function featuresOf(req: DecideRequest): unknown {
  return req.source === 'parsed' ? req.value : JSON.parse(req.text);
}

/** The same request with its features as text: what a second input of a scanned request is made from. */
function afterTaken(req: DecideRequest): DecideRequest {
  return req.source === 'scanned' ? { source: 'text', text: req.text, unit: req.unit, explore: req.explore } : req;
}

/**
 * THE read of a scanned request's values: copies them into `x` (numbers the scanner checked as
 * parseFeatures checks them: finite, within float32's range). Synchronous, before any await.
 */
function takeScanned(values: Float64Array, count: number, x: Float32Array): void {
  for (let i = 0; i < count; i++) x[i] = values[i];
}

/** A request's input vector, the features to log, and their JSON text when it is the client's own. */
interface LoggedInput {
  x: Float32Array;
  /** The features to log; undefined when only their text is at hand (`loggedJson`: parse it when needed). */
  logged: Json | undefined;
  loggedJson: string | undefined;
}

/** The features an input logs, as a value. */
function loggedValue(input: LoggedInput): Json {
  return input.logged ?? (JSON.parse(input.loggedJson!) as Json);
}

interface ArmSeries {
  latency: Observer;
  decisions: Incrementer;
  /** The answer's text between the decision id and the action: `","model":…,"version":…,"arm":…,"action":`. */
  answerMiddle: string;
  /** `decisionLineArmFields` for `lineState` (null: not made yet, or refused by its checks). */
  lineFields: string | null;
  /** The serving state (one per deployment generation and swap) `lineFields` was made for. */
  lineState: ServingState | null;
}

/**
 * A parsed decide body checked as the common decide shape: only deployment, features, unit and explore.
 * Also what the route answers for a deployment it does not serve (the 400 first, then the 404).
 */
export function checkDecideBody(body: unknown, bodyText: string | null): DecideRequest & { readonly source: 'parsed' } {
  const b = expectObject(body);
  for (const key in b) {
    if (!BODY_KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only deployment, features, unit and explore');
  }
  const name = b.deployment;
  if (typeof name !== 'string' || name.length === 0) {
    throw badRequest(`deployment must be a non-empty string, got ${describeValue(name)}`, 'deployment', 'the name of a deployed model');
  }
  if (b.features === undefined) throw badRequest('features is required', 'features', 'an array of numbers, an object keyed by feature name, or { entity }');
  let unit: string | undefined;
  if (b.unit !== undefined && b.unit !== null) unit = parseKey(b.unit, 'unit', UNIT_EXPECTED);
  let explore: boolean | undefined;
  if (b.explore !== undefined && b.explore !== null) {
    if (typeof b.explore !== 'boolean') throw badRequest(`explore must be true or false, got ${describeValue(b.explore)}`, 'explore', 'a boolean');
    explore = b.explore;
  }
  return { source: 'parsed', value: b.features, bodyText, unit, explore };
}

export function createPolicyDecider(deps: PolicyDecideDeps): PolicyDecider {
  const { log, metrics } = deps;
  const series = new WeakMap<LoadedModel, Partial<Record<Arm, ArmSeries>>>();
  const seriesOf = (state: ServingState, model: LoadedModel, arm: Arm): ArmSeries => {
    let byArm = series.get(model);
    if (byArm === undefined) series.set(model, (byArm = {}));
    let s = byArm[arm];
    if (s === undefined) {
      const v = String(model.info.version);
      s = byArm[arm] = {
        latency: metrics.latency('decide', model.info.model, v, arm),
        decisions: metrics.decisionCounter(state.name, v, arm),
        answerMiddle: answerMiddle(model.info.model, model.info.version, arm),
        lineFields: null,
        lineState: null,
      };
    }
    return s;
  };
  /** The series' `decisionLineArmFields` for `state`; null when they fail their checks. */
  const lineFieldsOf = (s: ArmSeries, state: ServingState, model: LoadedModel, arm: Arm): string | null => {
    if (s.lineState !== state) {
      s.lineState = state;
      try {
        s.lineFields = decisionLineArmFields({ deployment: state.name, model: model.info.model, version: model.info.version, generation: state.generation, arm });
      } catch {
        s.lineFields = null;
      }
    }
    return s.lineFields;
  };

  /**
   * Features → input vector for `model`; the JSON to log as the features the policy saw. A promise only
   * when the feature store is read: inline features cost no extra turn of the microtask queue.
   */
  function inputFor(model: LoadedModel, req: DecideRequest): LoggedInput | Promise<LoggedInput> {
    const size = model.binding.input.size;
    const x = new Float32Array(size);
    if (req.source === 'scanned' && req.count === size) {
      takeScanned(req.values, size, x);
      return { x, logged: undefined, loggedJson: req.text };
    }
    // Any other count: parseFeatures below says what was expected.
    const features = featuresOf(req);
    const form = computedForm(features, model.binding);
    if (form !== null) {
      return fillComputed(deps.computed ?? null, form, model.binding.input.features ?? [], x).then((logged) => ({ x, logged, loggedJson: undefined }));
    }
    const lookup = parseFeatures(features, model.binding, x);
    if (lookup === null) {
      // Features used as sent: the log keeps the client's own text of them (not serialized again).
      const text = req.source !== 'parsed' ? req.text : req.bodyText === null ? null : jsonMemberText(req.bodyText, 'features');
      return { x, logged: features as Json, loggedJson: text ?? undefined };
    }
    return fillFromStore(deps.featureStore, deps.featurePrefix, lookup.entity, lookup.missing, model.binding, x).then((used) => ({
      x,
      logged: { ...(features as Record<string, Json>), ...used },
      loggedJson: undefined,
    }));
  }

  /** Features for a shadow version (the mirror's own input, from the features the champion logged). */
  function mirrorInput(model: LoadedModel, features: unknown): LoggedInput | Promise<LoggedInput> {
    return inputFor(model, { source: 'parsed', value: features, bodyText: null, unit: undefined, explore: undefined });
  }

  function fallbackDecision(state: ServingState, reason: string, features: unknown, unit: string | undefined, ctx: RequestContext): DecideResponse {
    if (state.fallback === null) {
      throw new ClientError(503, `deployment ${state.name} has no model that can serve (${reason}) and no fallback action configured`, 'deployment', 'a deployment with a loadable champion or a fallback action');
    }
    metrics.fallbacks.labels(state.name, reason).inc();
    metrics.decisionCounter(state.name, 'fallback', 'fallback').inc();
    const { decisionId, time } = newDecisionStamp();
    log.enqueue({
      decisionId,
      time,
      deployment: state.name,
      model: state.model,
      version: null,
      generation: state.generation,
      arm: 'fallback',
      features: (features ?? null) as Json,
      action: state.fallback,
      propensity: 1,
      density: null,
      unit: unit ?? null,
      latencyMs: performance.now() - ctx.start,
      metadata: { armProbability: 1, reason },
      keyId: ctx.keyId ?? null,
    });
    return { decisionId, model: state.model, version: null, arm: 'fallback', action: state.fallback, propensity: 1, armProbability: 1, fallback: true };
  }

  /**
   * A policy deployment's decision for a validated request: the arm's model runs the input in this
   * turn's micro-batch, and the decision answers through `ctx` (ANSWER_LATER) when the batch has run.
   */
  function decidePolicy(state: ServingState, req: DecideRequest, ctx: RequestContext): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER> {
    const choice = state.router.pick(req.unit);
    const arm: Arm = choice.arm;
    const model = arm === 'canary' ? state.canary : state.champion;
    if (model === null) return fallbackDecision(state, 'no_model', featuresOf(req), req.unit, ctx);
    if (model.decoder === null) {
      throw new ClientError(409, `deployment ${state.name} serves ${model.key}, whose signature has no policy heads: call POST /v2/models/${state.name}/infer for raw outputs`, 'deployment', 'a deployment of a policy model');
    }
    return runModel(state, model, arm, choice.probability, req, ctx);
  }

  /** Runs `model` (not yet acquired) for the request and answers through `ctx` once the batch has run. */
  function runModel(state: ServingState, model: LoadedModel, arm: Arm, armProbability: number, req: DecideRequest, ctx: RequestContext): typeof ANSWER_LATER | Promise<typeof ANSWER_LATER> {
    model.acquire();
    let pending: LoggedInput | Promise<LoggedInput>;
    try {
      pending = inputFor(model, req);
    } catch (err) {
      model.release();
      throw err;
    }
    if (!(pending instanceof Promise)) {
      model.inferInto(pending.x, new Decision(state, model, arm, armProbability, req, pending, ctx));
      return ANSWER_LATER;
    }
    return pending.then(
      (input) => {
        model.inferInto(input.x, new Decision(state, model, arm, armProbability, req, input, ctx));
        return ANSWER_LATER;
      },
      (err: unknown) => {
        model.release();
        throw err;
      },
    );
  }

  /** One request waiting for its micro-batch (`model` acquired until the batch has run). */
  class Decision implements InferTarget {
    constructor(
      private readonly state: ServingState,
      private readonly model: LoadedModel,
      private readonly arm: Arm,
      private readonly armProbability: number,
      private readonly req: DecideRequest,
      private readonly input: LoggedInput,
      private readonly ctx: RequestContext,
    ) {}

    inferred(outputs: SyncOutputs, row: number): void {
      this.model.release();
      let answer: JsonText;
      try {
        answer = finishDecision(this.state, this.model, this.arm, this.armProbability, this.req, this.input, outputs, row, this.ctx);
      } catch (err) {
        this.ctx.fail(err);
        return;
      }
      this.ctx.answer(answer);
    }

    failed(err: unknown): void {
      let out: DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER>;
      try {
        out = recover(this.state, this.model, this.arm, this.req, this.ctx, err);
      } catch (e) {
        this.ctx.fail(e);
        return;
      }
      if (out === ANSWER_LATER) return;
      if (out instanceof Promise) out.catch((e: unknown) => this.ctx.fail(e));
      else this.ctx.answer(out);
    }
  }

  /**
   * After `model` (still acquired) failed at run time: a champion's failure is answered with the
   * fallback action; a failing canary leaves rotation and the request is answered by the champion.
   * The request's scanned values were taken by its first input: from here on it is its text.
   */
  function recover(state: ServingState, model: LoadedModel, arm: Arm, scannedOrNot: DecideRequest, ctx: RequestContext, err: unknown): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER> {
    const req = afterTaken(scannedOrNot);
    if (arm !== 'canary') {
      model.release();
      deps.onError?.('error', `deployment ${state.name}: champion ${model.key} failed: ${(err as Error).message}`);
      return fallbackDecision(state, 'champion_error', featuresOf(req), req.unit, ctx);
    }
    const next = deps.ejectCanary(state, model, `run-time error: ${(err as Error).message}`) ?? state;
    model.release();
    const champion = next.champion;
    if (champion === null || champion.decoder === null) return fallbackDecision(next, 'canary_error', featuresOf(req), req.unit, ctx);
    // If the champion fails too, its own recovery answers with the fallback action.
    return runModel(next, champion, 'champion', 1, req, ctx);
  }

  /** The decision from the batch's outputs: decoded, logged (off the hot path), mirrored; its answer's text. */
  function finishDecision(state: ServingState, model: LoadedModel, arm: Arm, armProbability: number, req: DecideRequest, input: LoggedInput, outputs: SyncOutputs, row: number, ctx: RequestContext): JsonText {
    const ex = state.exploration;
    const sample = req.explore ?? ex.mode === 'sample';
    const decoded = model.decoder!.decode(outputs, { mode: sample ? 'sample' : 'greedy', epsilon: ex.epsilon, temperature: ex.temperature, rng: deps.rng, row });
    const { decisionId, time } = newDecisionStamp();
    const version = model.info.version;
    const s = seriesOf(state, model, arm);
    // Serialized once: the answer and the log line both carry this text.
    const actionJson = JSON.stringify(decoded.action);
    s.decisions.inc();
    ctx.latency = s.latency;
    const mode = sample ? 'sample' : 'greedy';
    const temperature = sample ? ex.temperature : 1;
    const latencyMs = performance.now() - ctx.start;
    const unit = req.unit ?? null;
    // The row as its log line, made from the texts at hand; a row that fails a check (say a NaN
    // propensity from a broken model) goes the generic way below, which sets it aside with the error.
    const fields = lineFieldsOf(s, state, model, arm);
    const line =
      fields === null || input.loggedJson === undefined
        ? null
        : encodeServedDecisionLine(decisionId, time, fields, input.loggedJson, actionJson, decoded.propensity, decoded.density, unit, latencyMs, decisionMetadataJson(armProbability, decoded.policyProbability, mode, ex.epsilon, temperature, { keysJson: model.decoder!.headKeysJson, propensities: decoded.headPropensities }), ctx.keyId ?? null);
    if (line !== null) {
      log.enqueueLine(line);
    } else {
      const generic: DecisionInput = {
        decisionId,
        time,
        deployment: state.name,
        model: model.info.model,
        version,
        generation: state.generation,
        arm,
        features: loggedValue(input),
        featuresJson: input.loggedJson,
        action: decoded.action,
        actionJson,
        propensity: decoded.propensity,
        density: decoded.density,
        unit,
        latencyMs,
        metadata: { armProbability, policyProbability: decoded.policyProbability, mode, epsilon: ex.epsilon, temperature, headPropensities: headPropensitiesObject(model.decoder!.discreteHeadNames, decoded.headPropensities) },
        keyId: ctx.keyId ?? null,
      };
      log.enqueue(generic);
    }
    const mirror = deps.mirror?.current;
    if (arm === 'champion' && state.shadow !== null && mirror) {
      mirror.enqueue({
        state,
        shadow: state.shadow,
        mirrorOf: decisionId,
        features: loggedValue(input),
        input: async (m, f) => (await mirrorInput(m, f)).x,
        sample,
        unit,
      });
    }
    return new JsonText(decideAnswerText(decisionId, s.answerMiddle, actionJson, decoded.propensity, armProbability, decoded.density));
  }

  return {
    decide(state, body, ctx) {
      return decidePolicy(state, checkDecideBody(body, ctx.bodyText), ctx);
    },
    decideScanned(state, s, values, ctx) {
      const unit = s.unit === undefined ? undefined : parseKey(s.unit, 'unit', UNIT_EXPECTED);
      return decidePolicy(state, { source: 'scanned', count: s.count, text: s.featuresText, values, unit, explore: s.explore }, ctx);
    },
  };
}
