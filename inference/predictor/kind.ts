/**
 * The served kind `predictor` (UC10 quality prediction): a LightGBM model of P(low quality | request,
 * model) exported to ONNX (python/train_lgbm.py, activities/predictor/) and served with onnxruntime-node.
 *
 * `POST /v1/predict` (shared with the online-model kind: ./handlers.ts) and `POST /v1/decide` take
 * `{ deployment, features: { prompt_tokens, task, … }, unit? }` and answer
 * `{ decisionId, model, version, arm, armProbability, probability, quality, threshold, passed, action }`:
 * `probability` = P(low quality), `quality` = 1 − probability, and — when the deployment's gate
 * (config `{ gate: { threshold, action, to } }`, ml/predictor/gate.ts) finds quality < threshold —
 * `action: { type: "reroute" | "escalate", to }`, else null.
 *
 * Like any deployment: champion/canary split by the canary weight (sticky with `unit`), a canary that fails
 * to load or errors is taken out of rotation, a new champion is swapped in whole (requests in flight finish
 * on their version), and every answer is a row of the decision log (action `{ probability, quality,
 * passed, gate }`, propensity 1: the verdict is a deterministic function of the features).
 *
 * Versions are single-file ONNX artifacts (content-addressed cache, sha256 checked on every read) whose
 * registry signature carries `predictor` (ml/predictor/signature.ts).
 */
import { applyGate } from '../../ml/predictor/gate';
import { PredictorFieldError } from '../../ml/predictor/signature';
import { parseDeploymentConfig } from '../../registry/deployment-config';
import type { Deployment, ModelVersion } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { newDecisionStamp } from '../decisions/id';
import { ClientError, badRequest, parseKey } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import type { ArtifactCache } from '../models/artifact-cache';
import { TrafficRouter, type Arm } from '../router';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { VersionPool } from '../serving/version-pool';
import { PredictorDeployment, type PredictorOwner } from './deployment';
import { PredictorModel } from './model';

export interface PredictorAnswer {
  decisionId: string;
  model: string;
  version: number;
  arm: Arm;
  armProbability: number;
  /** P(low quality). */
  probability: number;
  /** 1 − probability. */
  quality: number;
  /** The gate's threshold on quality, or null without a gate. */
  threshold: number | null;
  passed: boolean;
  action: { type: 'reroute' | 'escalate'; to: string } | null;
}

export interface PredictorKindOptions {
  map: DeploymentMap;
  registry: { getVersion(model: string, version: number): Promise<ModelVersion> };
  artifacts: ArtifactCache;
  decisionLog: DecisionLog;
  metrics: InferenceMetrics;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const BODY_KEYS = new Set(['deployment', 'features', 'unit']);

export class PredictorKind implements ServedKind, PredictorOwner {
  private readonly versions: VersionPool<PredictorModel, PredictorDeployment>;
  /** Deployment generations whose config was refused (kept for tests and logs). */
  configRefusals = 0;

  constructor(private readonly opts: PredictorKindOptions) {
    this.versions = new VersionPool({
      map: opts.map,
      owns: (s): s is PredictorDeployment => s instanceof PredictorDeployment,
      uses: (s) => [s.champion, s.canary],
    });
  }

  /** The predictor deployment serving `name`, or undefined (not served here, or of another kind). */
  get(name: string): PredictorDeployment | undefined {
    const s = this.opts.map.get(name);
    return s instanceof PredictorDeployment ? s : undefined;
  }

  private async loadVersion(model: string, version: number): Promise<PredictorModel> {
    const v = await this.opts.registry.getVersion(model, version);
    const key = `${model}@${version}#${v.sha256}`;
    const have = this.versions.get(key);
    if (have) return have;
    if (v.format !== 'onnx') throw new Error(`${model}@${version} has format ${v.format}; a predictor deployment serves onnx`);
    const { bytes } = await this.opts.artifacts.fetch(v.artifactUri, v.sha256);
    const m = await PredictorModel.load({ model, version, sha256: v.sha256 }, v.signature, bytes);
    this.versions.add(key, m);
    return m;
  }

  /** Serves (or updates) a predictor deployment; a bad config or a champion that fails to load keeps the previous state. */
  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof PredictorDeployment ? current : undefined;
    if (cur !== undefined && cur.generation === d.generation) return cur;
    let gate;
    try {
      gate = parseDeploymentConfig('predictor', d.config ?? {}, d.deployment).gate;
    } catch (err) {
      this.configRefusals++;
      this.opts.log?.('error', `predictor deployment ${d.deployment} generation ${d.generation}: ${(err as Error).message}${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
      return cur ?? null;
    }
    let champion: PredictorModel | null = null;
    if (d.championVersion !== null) {
      try {
        champion = await this.loadVersion(d.model, d.championVersion);
      } catch (err) {
        this.opts.log?.('error', `predictor deployment ${d.deployment}: champion ${d.model}@${d.championVersion} failed to load (${(err as Error).message})${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
        if (cur !== undefined) {
          this.versions.retireUnused();
          return cur;
        }
      }
    }
    let canary: PredictorModel | null = null;
    if (d.canaryVersion !== null) {
      try {
        canary = await this.loadVersion(d.model, d.canaryVersion);
      } catch (err) {
        this.opts.metrics.canaryEjections.labels(d.deployment, 'load_failed').inc();
        this.opts.log?.('error', `predictor deployment ${d.deployment}: canary ${d.model}@${d.canaryVersion} failed to load (${(err as Error).message}); all traffic to the champion`);
      }
    }
    const gateText = gate === null ? 'no gate' : `gate: ${gate.action} to ${gate.to} when quality < ${gate.threshold}`;
    this.opts.log?.('info', `predictor deployment ${d.deployment}: champion ${champion?.key ?? 'none'}${canary ? `, canary ${canary.key} at ${d.canaryWeight}%` : ''}; ${gateText}`);
    const weight = champion !== null && canary !== null ? Math.min(1, Math.max(0, d.canaryWeight / 100)) : 0;
    const next = new PredictorDeployment(this, d.deployment, d.model, d.generation, champion, canary, new TrafficRouter(d.deployment, d.generation, weight), gate, JSON.stringify(d.config ?? {}));
    this.versions.built(next);
    return next;
  }

  released(s: PredictorDeployment): void {
    this.versions.released(s);
  }

  async close(): Promise<void> {
    // Versions are retired as their deployments leave the map.
  }

  private async score(m: PredictorModel, features: unknown): Promise<number> {
    try {
      return await m.predict(features, 'features');
    } catch (err) {
      if (err instanceof PredictorFieldError) throw badRequest(err.message, err.field, err.expected);
      throw err;
    }
  }

  /** POST /v1/predict (and /v1/decide) for the predictor deployment `s`. */
  async predict(s: PredictorDeployment, b: Record<string, unknown>, ctx: RequestContext): Promise<PredictorAnswer> {
    for (const key in b) if (!BODY_KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only deployment, features and unit');
    let unit: string | null = null;
    if (b.unit !== undefined && b.unit !== null) unit = parseKey(b.unit, 'unit', 'a sticky routing key such as "request:42"');
    const choice = s.router.pick(unit ?? undefined);
    let arm: Arm = choice.arm;
    let armProbability = choice.probability;
    let model = arm === 'canary' ? s.canary : s.champion;
    if (model === null) {
      throw new ClientError(503, `predictor deployment ${s.name} has no model that can serve`, 'deployment', 'a predictor deployment whose champion loads');
    }
    let probability: number;
    try {
      probability = await this.score(model, b.features);
    } catch (err) {
      if (err instanceof ClientError || arm !== 'canary' || s.champion === null) throw err;
      // A failing canary leaves rotation; this request is answered by the champion.
      this.opts.metrics.canaryEjections.labels(s.name, 'runtime_error').inc();
      this.opts.log?.('error', `predictor deployment ${s.name}: canary ${model.key} ejected: ${(err as Error).message}`);
      if (this.get(s.name) === s) {
        const next = new PredictorDeployment(this, s.name, s.model, s.generation, s.champion, null, new TrafficRouter(s.name, s.generation, 0), s.gate, s.configJson);
        this.versions.built(next);
        this.opts.map.update(next);
      }
      model = s.champion;
      arm = 'champion';
      armProbability = 1;
      probability = await this.score(model, b.features);
    }
    const verdict = applyGate(s.gate, probability);
    const { decisionId, time } = newDecisionStamp();
    const version = model.info.version;
    this.opts.metrics.decisionCounter(s.name, String(version), arm).inc();
    this.opts.decisionLog.enqueue({
      decisionId,
      time,
      deployment: s.name,
      model: model.info.model,
      version,
      generation: s.generation,
      arm,
      features: b.features as Record<string, never>,
      action: { probability, quality: verdict.quality, passed: verdict.passed, gate: verdict.action },
      propensity: 1,
      density: null,
      unit,
      latencyMs: performance.now() - ctx.start,
      metadata: { kind: 'predictor', armProbability, target: model.signature.target, threshold: s.gate?.threshold ?? null },
      keyId: ctx.keyId ?? null,
    });
    return { decisionId, model: model.info.model, version, arm, armProbability, probability, quality: verdict.quality, threshold: s.gate?.threshold ?? null, passed: verdict.passed, action: verdict.action };
  }
}
