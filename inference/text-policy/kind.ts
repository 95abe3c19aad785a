/**
 * The served kind `text-policy`: the Oumi-trained action-approval policy served from its
 * ONNX export. `POST /v1/decide` takes `{ deployment, text }` (a rendered prompt) or
 * `{ deployment, snapshot: { input, output: { actions } } }` (the decision record without its
 * label, rendered with ml/policy-data/prompt.ts exactly as in training), scores APPROVE vs FLAG (./model.ts)
 * and answers `{ approve, confidence, pApprove, decisionId, model, version, arm, propensity,
 * armProbability, fallback }`.
 *
 * Like any deployment: champion/canary split by the deployment's canary weight (sticky with `unit`,
 * inference/router.ts), a canary that fails to load or errors is taken out of rotation, every decision
 * is a row of the decision log (action `{ approve, verdict, pApprove }`, propensity 1: the verdict is a
 * deterministic function of the input), and `POST /v1/rewards` records rewards against its id. With
 * nothing loadable, the deployment's `fallback` (e.g. `{ "approve": false }`) is served with
 * `fallback: true`.
 *
 * Versions are directory artifacts (model.onnx, tokenizer.json, policy.json): downloaded once into
 * `<cacheDir>/<sha256>/`, every file checked against the version's manifest.
 */
import { newDecisionStamp } from '../decisions/id';
import { lstat, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { actionSchema, labeledDecisionSchema } from '../../ml/policy-data/decision';
import { promptMessages, renderChatML } from '../../ml/policy-data/prompt';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { downloadDirectory } from '../../registry/directory-artifact';
import type { Deployment, Json, ModelVersion } from '../../registry/types';
import type { DecisionLog } from '../decisions/log';
import { ClientError, badRequest, describeValue, parseKey } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { InferenceMetrics } from '../metrics';
import { TrafficRouter, type Arm } from '../router';
import type { DeploymentMap } from '../serving/deployment-map';
import type { ServedDeployment, ServedKind } from '../serving/served-deployment';
import { VersionPool } from '../serving/version-pool';
import { TextPolicyDeployment, type TextPolicyOwner } from './deployment';
import { TextPolicyModel, type TextPolicyScore } from './model';

export interface TextPolicyDecideResponse {
  decisionId: string;
  model: string;
  version: number | null;
  arm: Arm | 'fallback';
  approve: boolean;
  confidence: number;
  pApprove: number | null;
  propensity: number;
  armProbability: number;
  fallback: boolean;
}

type Served = TextPolicyDeployment;

export interface TextPolicyKindOptions {
  map: DeploymentMap;
  registry: { getVersion(model: string, version: number): Promise<ModelVersion> };
  store: ArtifactStore | null;
  decisionLog: DecisionLog;
  metrics: InferenceMetrics;
  /** Where version folders are kept. */
  cacheDir: string;
  log?: (level: 'info' | 'warn' | 'error', msg: string) => void;
}

const BODY_KEYS = new Set(['deployment', 'text', 'snapshot', 'unit']);
const snapshotSchema = z.strictObject({ input: labeledDecisionSchema.shape.input, output: z.strictObject({ actions: z.array(actionSchema).min(1) }) });
const MAX_TEXT = 32_768;

/** `{ input, output: { actions } }` → the training prompt; errors name the field. */
export function renderSnapshot(snapshot: unknown): string {
  const parsed = snapshotSchema.safeParse(snapshot);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = ['snapshot', ...issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p)))].join('.').replace(/\.\[/g, '[');
    throw badRequest(`${field}: ${issue.message}`, field, 'a labelled decision record without its label: { input: { snapshot_id, service, environment, anomalies, analysis }, output: { actions } }');
  }
  return renderChatML(promptMessages(parsed.data.input, parsed.data.output.actions), true);
}

export class TextPolicyKind implements ServedKind, TextPolicyOwner {
  /** Loaded versions, retired when no deployment serves with them (those `load` made count until swapped in). */
  private readonly versions: VersionPool<TextPolicyModel, TextPolicyDeployment>;

  constructor(private readonly opts: TextPolicyKindOptions) {
    this.versions = new VersionPool({
      map: opts.map,
      owns: (s): s is TextPolicyDeployment => s instanceof TextPolicyDeployment,
      uses: (s) => [s.champion, s.canary],
    });
  }

  /** The text-policy deployment serving `name`, or undefined (not served here, or of another kind). */
  get(name: string): Served | undefined {
    const s = this.opts.map.get(name);
    return s instanceof TextPolicyDeployment ? s : undefined;
  }

  private async folderOf(v: ModelVersion): Promise<string> {
    const dir = join(this.opts.cacheDir, v.sha256);
    if (await lstat(dir).catch(() => null)) return dir; // renamed into place only once every file was verified
    if (this.opts.store === null) throw new Error(`${v.model}@${v.version} is not in the local cache and this server has no artifact store`);
    if (v.artifactLayout !== 'directory') throw new Error(`${v.model}@${v.version} is a single file; a text-policy version is a folder (model.onnx, tokenizer.json)`);
    await mkdir(this.opts.cacheDir, { recursive: true });
    await downloadDirectory(this.opts.store, v.artifactUri, v.sha256, dir).catch(async (err: unknown) => {
      if (await lstat(dir).catch(() => null)) return 0; // another load of the same version won the race
      throw err;
    });
    return dir;
  }

  private async loadVersion(model: string, version: number): Promise<TextPolicyModel> {
    const v = await this.opts.registry.getVersion(model, version);
    const key = `${model}@${version}#${v.sha256}`;
    const have = this.versions.get(key);
    if (have) return have;
    if (v.format !== 'onnx') throw new Error(`${model}@${version} has format ${v.format}; a text-policy deployment serves onnx`);
    const m = await TextPolicyModel.load({ model, version, sha256: v.sha256 }, v.signature, await this.folderOf(v));
    this.versions.add(key, m);
    return m;
  }

  /** Serves (or updates) a text-policy deployment; a champion that fails to load keeps the previous state. */
  async load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null> {
    const cur = current instanceof TextPolicyDeployment ? current : undefined;
    if (cur !== undefined && cur.generation === d.generation) return cur;
    let champion: TextPolicyModel | null = null;
    if (d.championVersion !== null) {
      try {
        champion = await this.loadVersion(d.model, d.championVersion);
      } catch (err) {
        this.opts.log?.('error', `text-policy deployment ${d.deployment}: champion ${d.model}@${d.championVersion} failed to load (${(err as Error).message})${cur ? `; generation ${cur.generation} keeps serving` : ''}`);
        if (cur !== undefined) {
          this.versions.retireUnused();
          return cur;
        }
      }
    }
    let canary: TextPolicyModel | null = null;
    if (d.canaryVersion !== null) {
      try {
        canary = await this.loadVersion(d.model, d.canaryVersion);
      } catch (err) {
        this.opts.metrics.canaryEjections.labels(d.deployment, 'load_failed').inc();
        this.opts.log?.('error', `text-policy deployment ${d.deployment}: canary ${d.model}@${d.canaryVersion} failed to load (${(err as Error).message}); all traffic to the champion`);
      }
    }
    this.opts.log?.('info', `text-policy deployment ${d.deployment}: champion ${champion?.key ?? 'none'}${canary ? `, canary ${canary.key} at ${d.canaryWeight}%` : ''}`);
    const next = this.build(d.deployment, d.model, d.generation, champion, canary, d.canaryWeight, d.fallback ?? null);
    this.versions.built(next);
    return next;
  }

  private build(name: string, model: string, generation: number, champion: TextPolicyModel | null, canary: TextPolicyModel | null, canaryWeight: number, fallback: Json | null): TextPolicyDeployment {
    const weight = champion !== null && canary !== null ? Math.min(1, Math.max(0, canaryWeight / 100)) : 0;
    return new TextPolicyDeployment(this, name, model, generation, champion, canary, new TrafficRouter(name, generation, weight), fallback);
  }

  /** A deployment left the map: versions nobody serves now are retired. */
  released(s: TextPolicyDeployment): void {
    this.versions.released(s);
  }

  /** Versions are retired as their deployments leave the map (the manager clears it at close). */
  async close(): Promise<void> {
    // Nothing of its own to wait for.
  }

  private fallbackDecision(s: Served, reason: string, features: Json, unit: string | null, ctx: RequestContext): TextPolicyDecideResponse {
    const approve = typeof s.fallback === 'object' && s.fallback !== null && !Array.isArray(s.fallback) && typeof s.fallback.approve === 'boolean' ? s.fallback.approve : null;
    if (approve === null) {
      throw new ClientError(503, `text-policy deployment ${s.name} has no model that can serve (${reason}) and no fallback { approve } configured`, 'deployment', 'a deployment with a loadable champion or a fallback such as { "approve": false }');
    }
    this.opts.metrics.fallbacks.labels(s.name, reason).inc();
    const { decisionId, time } = newDecisionStamp();
    this.opts.decisionLog.enqueue({
      decisionId, time, deployment: s.name, model: s.model, version: null, generation: s.generation, arm: 'fallback',
      features, action: { approve, verdict: approve ? 'APPROVE' : 'FLAG' }, propensity: 1, density: null, unit,
      latencyMs: performance.now() - ctx.start, metadata: { kind: 'text-policy', armProbability: 1, reason }, keyId: ctx.keyId ?? null,
    });
    return { decisionId, model: s.model, version: null, arm: 'fallback', approve, confidence: 1, pApprove: null, propensity: 1, armProbability: 1, fallback: true };
  }

  /** POST /v1/decide for the text-policy deployment `s` (the body's `deployment` names it). */
  async decide(s: Served, b: Record<string, unknown>, ctx: RequestContext): Promise<TextPolicyDecideResponse> {
    for (const key in b) if (!BODY_KEYS.has(key)) throw badRequest(`unknown field ${key}`, key, 'only deployment, text, snapshot and unit');
    let unit: string | null = null;
    if (b.unit !== undefined && b.unit !== null) unit = parseKey(b.unit, 'unit', 'a sticky routing key such as "incident:42"');
    if ((b.text === undefined) === (b.snapshot === undefined)) {
      throw badRequest('give text or snapshot (exactly one)', b.text === undefined ? 'text' : 'snapshot', 'a rendered prompt, or { input, output: { actions } }');
    }
    let prompt: string;
    let features: Json;
    if (b.text !== undefined) {
      if (typeof b.text !== 'string' || b.text.length === 0 || b.text.length > MAX_TEXT) {
        throw badRequest(`text must be a non-empty string of at most ${MAX_TEXT} characters, got ${describeValue(b.text)}`, 'text', 'the rendered ChatML prompt');
      }
      prompt = b.text;
      features = { text: prompt };
    } else {
      prompt = renderSnapshot(b.snapshot);
      features = { snapshot: b.snapshot as Json };
    }
    const choice = s.router.pick(unit ?? undefined);
    let arm: Arm = choice.arm;
    let armProbability = choice.probability;
    let model = arm === 'canary' ? s.canary : s.champion;
    if (model === null) return this.fallbackDecision(s, 'no_model', features, unit, ctx);
    let score: TextPolicyScore;
    try {
      score = await model.score(prompt);
    } catch (err) {
      if (arm !== 'canary') {
        this.opts.log?.('error', `text-policy deployment ${s.name}: champion ${model.key} failed: ${(err as Error).message}`);
        return this.fallbackDecision(s, 'champion_error', features, unit, ctx);
      }
      // A failing canary leaves rotation; this request is answered by the champion.
      this.opts.metrics.canaryEjections.labels(s.name, 'runtime_error').inc();
      this.opts.log?.('error', `text-policy deployment ${s.name}: canary ${model.key} ejected: ${(err as Error).message}`);
      if (this.get(s.name) === s) this.opts.map.update(this.build(s.name, s.model, s.generation, s.champion, null, 0, s.fallback));
      model = s.champion;
      arm = 'champion';
      armProbability = 1;
      if (model === null) return this.fallbackDecision(s, 'canary_error', features, unit, ctx);
      try {
        score = await model.score(prompt);
      } catch (err2) {
        this.opts.log?.('error', `text-policy deployment ${s.name}: champion ${model.key} failed: ${(err2 as Error).message}`);
        return this.fallbackDecision(s, 'champion_error', features, unit, ctx);
      }
    }
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
      features,
      action: { approve: score.approve, verdict: score.approve ? 'APPROVE' : 'FLAG', pApprove: score.pApprove },
      propensity: 1,
      density: null,
      unit,
      latencyMs: performance.now() - ctx.start,
      metadata: { kind: 'text-policy', armProbability, confidence: score.confidence, threshold: model.signature.threshold, tokens: score.tokens, promptVersion: model.signature.promptVersion },
      keyId: ctx.keyId ?? null,
    });
    return { decisionId, model: model.info.model, version, arm, approve: score.approve, confidence: score.confidence, pApprove: score.pApprove, propensity: 1, armProbability, fallback: false };
  }
}
