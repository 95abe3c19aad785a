/**
 * POST /v1/decide: `{ deployment, features, unit?, explore? }` →
 * `{ decisionId, model, version, arm, action, propensity, armProbability, fallback }`.
 *
 * Steps: validate the body; pick the arm (sticky with `unit`); build the input (inline, or from the
 * feature store for `{ entity }`); run the arm's ONNX session; decode the action from the version's
 * signature; hand the decision row to the decision log (off the hot path); answer.
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
 * Fallback decisions are logged with arm `fallback`, version null and propensity 1 (a fixed action).
 */
import { newDecisionStamp } from '../decisions/id';
import type { Rng } from '../../ml/rng';
import { decisionLineArmFields, encodeServedDecisionLine, type DecisionInput } from '../../decision-log';
import type { Json } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { fillFromStore, parseFeatures, type FeatureStore } from '../features';
import { expectObject } from '../http/body';
import { jsonMemberText } from '../http/json-member';
import { ClientError, badRequest, describeValue, notFound, parseKey } from '../http/errors';
import { ANSWER_LATER, JsonText, PARSE_BODY, type BytesHandler, type RequestContext } from '../http/server';
import type { Incrementer, InferenceMetrics, Observer } from '../metrics';
import type { InferTarget, LoadedModel } from '../models/loaded-model';
import type { SyncOutputs } from '../models/sync-session';
import type { DeploymentManager } from '../models/manager';
import type { ServingState } from '../models/serving-state';
import type { Arm } from '../router';
import type { ShadowMirror } from './mirror';
import { scanDecideBody } from './decide-body';
import type { BanditDecideResponse, BanditDeployments } from '../bandits/serving';
import type { TextPolicyDecideResponse, TextPolicyDeployments } from '../text-policy/serving';

export interface DecideDeps {
  manager: DeploymentManager;
  log: DecisionLog;
  metrics: InferenceMetrics;
  rng: Rng;
  featureStore: FeatureStore | null;
  featurePrefix: string;
  onError?: (level: 'warn' | 'error', msg: string) => void;
  /** Deployments of kind `bandit` (inference/bandits). */
  bandits?: BanditDeployments | null;
  /** Deployments of kind `text-policy` (inference/text-policy). */
  textPolicies?: TextPolicyDeployments | null;
  /** Mirrors champion-served requests to the deployment's shadow version, off the response path. */
  mirror?: ShadowMirror | null;
}

export interface DecideResponse {
  decisionId: string;
  model: string;
  version: number | null;
  arm: Arm | 'fallback';
  action: Json;
  propensity: number;
  armProbability: number;
  density?: number;
  fallback: boolean;
}

const BODY_KEYS = new Set(['deployment', 'features', 'unit', 'explore']);
const UNIT_EXPECTED = 'a sticky routing key such as "user:42"';

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

/** A validated decide body. */
interface DecideRequest {
  name: string;
  /** The features as parsed; undefined when the body was scanned (`featuresText` holds them then). */
  features: unknown;
  unit: string | undefined;
  explore: boolean | undefined;
  /** The features' text as sent, when known (a scanned body). */
  featuresText: string | null;
  /** The body's text, for the features' text as sent (a parsed body). */
  bodyText: string | null;
  /**
   * How many features a scanned body (./decide-body.ts) left in the handler's scratch array, read once,
   * synchronously, by the first `inputFor` (then -1: a later input, e.g. the champion's after a canary
   * failed, is made from `featuresText`); -1 for a parsed body.
   */
  scannedCount: number;
}

/** The request's features as a value (parsed from their text for a scanned body). */
function featuresOf(req: DecideRequest): unknown {
  if (req.features === undefined && req.featuresText !== null) req.features = JSON.parse(req.featuresText);
  return req.features;
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

/** A number as JSON.stringify writes it (non-finite numbers become null, as there). */
function jsonNumber(x: number): string {
  return Number.isFinite(x) ? String(x) : 'null';
}

/**
 * `JSON.stringify` of a served decision's metadata `{ armProbability, policyProbability, mode, epsilon,
 * temperature }`, written directly (the log line carries it).
 */
export function decisionMetadataJson(armProbability: number, policyProbability: number, mode: 'sample' | 'greedy', epsilon: number, temperature: number): string {
  return `{"armProbability":${jsonNumber(armProbability)},"policyProbability":${jsonNumber(policyProbability)},"mode":"${mode}","epsilon":${jsonNumber(epsilon)},"temperature":${jsonNumber(temperature)}}`;
}

/** The part of a served decision's answer that is the same for every request of one model version and arm. */
export function answerMiddle(model: string, version: number, arm: Arm): string {
  return `","model":${JSON.stringify(model)},"version":${jsonNumber(version)},"arm":${JSON.stringify(arm)},"action":`;
}

/**
 * A served decision's DecideResponse as the exact text JSON.stringify would write for it (keys in the
 * interface's order, `density` last and only when there is one), built around the action's JSON text.
 * `decisionId` is a uuid (newDecisionStamp), which needs no escaping.
 */
export function decideAnswerText(decisionId: string, middle: string, actionJson: string, propensity: number, armProbability: number, density: number | null): string {
  const d = density === null ? '' : `,"density":${jsonNumber(density)}`;
  return `{"decisionId":"${decisionId}${middle}${actionJson},"propensity":${jsonNumber(propensity)},"armProbability":${jsonNumber(armProbability)},"fallback":false${d}}`;
}

export function createDecideHandler(deps: DecideDeps) {
  const { manager, log, metrics } = deps;
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

  function validate(body: unknown, bodyText: string | null): DecideRequest {
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
    return { name, features: b.features, unit, explore, featuresText: null, bodyText, scannedCount: -1 };
  }

  /** Where scanned bodies' features are read into (one request at a time: see DecideRequest.scannedCount). */
  const scratch = new Float64Array(1024);

  /** A body of the common shape, read without JSON.parse; null: parse it (the generic path decides). */
  function scan(body: Buffer): DecideRequest | null {
    const s = scanDecideBody(body, scratch);
    if (s === null || deps.bandits?.get(s.deployment) !== undefined || deps.textPolicies?.get(s.deployment) !== undefined) return null;
    const unit = s.unit === undefined ? undefined : parseKey(s.unit, 'unit', UNIT_EXPECTED);
    return { name: s.deployment, features: undefined, unit, explore: s.explore, featuresText: s.featuresText, bodyText: null, scannedCount: s.count };
  }

  function unknownDeployment(name: string): ClientError {
    const names = manager.names();
    const shown = names.length === 0 ? 'none is deployed' : `one of ${names.slice(0, 20).join(', ')}${names.length > 20 ? ', …' : ''}`;
    return notFound(`deployment ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not served here`, 'deployment', shown);
  }

  /**
   * Features → input vector for `model`; the JSON to log as the features the policy saw. A promise only
   * when the feature store is read: inline features cost no extra turn of the microtask queue.
   */
  function inputFor(model: LoadedModel, req: DecideRequest): LoggedInput | Promise<LoggedInput> {
    const size = model.binding.input.size;
    const x = new Float32Array(size);
    const scanned = req.scannedCount;
    if (scanned !== -1) {
      req.scannedCount = -1;
      if (scanned === size) {
        // Numbers the scanner checked as parseFeatures checks them (finite, within float32's range).
        for (let i = 0; i < size; i++) x[i] = scratch[i];
        return { x, logged: undefined, loggedJson: req.featuresText! };
      }
      // Any other count: parseFeatures below says what was expected.
    }
    const features = featuresOf(req);
    const lookup = parseFeatures(features, model.binding, x);
    if (lookup === null) {
      // Features used as sent: the log keeps the client's own text of them (not serialized again).
      const text = req.featuresText ?? (req.bodyText === null ? null : jsonMemberText(req.bodyText, 'features'));
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
    return inputFor(model, { name: '', features, unit: undefined, explore: undefined, featuresText: null, bodyText: null, scannedCount: -1 });
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
    });
    return { decisionId, model: state.model, version: null, arm: 'fallback', action: state.fallback, propensity: 1, armProbability: 1, fallback: true };
  }

  async function decide(body: unknown, ctx: RequestContext): Promise<DecideResponse | typeof ANSWER_LATER | BanditDecideResponse | TextPolicyDecideResponse> {
    const named = deps.bandits && body !== null && typeof body === 'object' ? (body as { deployment?: unknown }).deployment : undefined;
    if (typeof named === 'string' && deps.bandits!.get(named) !== undefined) return deps.bandits!.decide(body, ctx);
    const textNamed = deps.textPolicies && body !== null && typeof body === 'object' ? (body as { deployment?: unknown }).deployment : undefined;
    if (typeof textNamed === 'string' && deps.textPolicies!.get(textNamed) !== undefined) return deps.textPolicies!.decide(body, ctx);
    return decidePolicy(validate(body, ctx.bodyText), ctx);
  }

  /** A body of the common shape, decided without parsing it into objects; PARSE_BODY for any other. */
  const fromBytes: BytesHandler = (body, ctx) => {
    const req = scan(body);
    return req === null ? PARSE_BODY : decidePolicy(req, ctx);
  };

  /**
   * A policy deployment's decision for a validated request: the arm's model runs the input in this
   * turn's micro-batch, and the decision answers through `ctx` (ANSWER_LATER) when the batch has run.
   */
  function decidePolicy(req: DecideRequest, ctx: RequestContext): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER> {
    const state = manager.get(req.name);
    if (state === undefined) throw unknownDeployment(req.name);
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
   */
  function recover(state: ServingState, model: LoadedModel, arm: Arm, req: DecideRequest, ctx: RequestContext, err: unknown): DecideResponse | typeof ANSWER_LATER | Promise<typeof ANSWER_LATER> {
    if (arm !== 'canary') {
      model.release();
      deps.onError?.('error', `deployment ${state.name}: champion ${model.key} failed: ${(err as Error).message}`);
      return fallbackDecision(state, 'champion_error', featuresOf(req), req.unit, ctx);
    }
    const next = manager.ejectCanary(state.name, model, `run-time error: ${(err as Error).message}`) ?? state;
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
        : encodeServedDecisionLine(decisionId, time, fields, input.loggedJson, actionJson, decoded.propensity, decoded.density, unit, latencyMs, decisionMetadataJson(armProbability, decoded.policyProbability, mode, ex.epsilon, temperature));
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
        metadata: { armProbability, policyProbability: decoded.policyProbability, mode, epsilon: ex.epsilon, temperature },
      };
      log.enqueue(generic);
    }
    if (arm === 'champion' && state.shadow !== null && deps.mirror) {
      deps.mirror.enqueue({
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

  return Object.assign(decide, { fromBytes });
}
