/**
 * Activities of the `offPolicyEvaluation` workflow (task queue `rollout`; names prefixed `ope` so they
 * never clash with other features' activities on that queue):
 *
 *   opePrepare         checks the input, reads the candidate version and its policy signature, decides
 *                      the action space and which estimators can run, names the run's artifact prefix
 *   opeScoreChunk      one registry page of rewarded decisions → the candidate's probabilities with
 *                      onnxruntime → one binary chunk in the artifact store (returns its URI + counts)
 *   opeWriteManifest   the chunk list of one workflow run, as an artifact (carried across continueAsNew)
 *   opeEstimate        streams the chunks back into compact per-round arrays, runs the estimators and
 *                      the paired bootstrap against the logging policy, writes the report (JSON, CSV,
 *                      SVG), records the evaluation on the version, returns the verdict
 *   opeCleanupChunks   deletes the scored chunks and manifests once the report is stored
 *
 * Payloads are references and counts only: no table and no per-round array crosses Temporal.
 */
import { heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import { ActionFeatureRewardModel } from '../../ml/ope/action-features';
import { checkOpeInputs } from '../../ml/ope/check';
import { factoredImportanceWeights, loggedVersusRest, marginalizedImportanceWeights, unsupportedMass, weightDiagnostics, effectiveSampleSize } from '../../ml/ope/diagnostics';
import { makeEstimator, type EstimatorName } from '../../ml/ope/estimators';
import { RegressionModel } from '../../ml/ope/regression-model';
import type { ActionArray, Matrix, OpeInputs } from '../../ml/ope/types';
import { parsePolicySignature } from '../../ml/onnx/signature';
import { pairedBootstrap, percentileBootstrap } from '../../ml/stats/bootstrap';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { NotFoundError } from '../../registry/errors';
import { DecisionStore } from '../../decision-log';
import { Registry } from '../../registry/index';
import type { JsonObject } from '../../registry/types';
import type {
  ChunkRef,
  EstimateRow,
  OffPolicyEvaluationInput,
  OpeActivities,
  OpeConfig,
  OpeOutcome,
  PreparedEvaluation,
  ScoreChunkResult,
} from '../../contracts/off-policy-evaluation';
import { opeActionSpace, type OpeActionSpace } from './action-space';
import { decodeChunk, encodeChunk } from './chunk';
import { OpeConfigError, resolveOpeInput } from './config';
import { reportCsv, reportSvg, REPORT_FORMAT, type OpeReport } from './report';
import { CandidateCache, scoreRows } from './scorer';
import { opeVerdict } from './verdict';

export interface OpeActivityDeps {
  pool: Pool;
  store: ArtifactStore;
  /** The candidate-session cache; one per worker process by default. */
  cache?: CandidateCache;
}

/** The estimators that need the candidate's full distribution and a reward model. */
const NEEDS_Q: ReadonlySet<EstimatorName> = new Set(['dm', 'dr', 'sndr', 'switch-dr', 'dr-os']);
const GATE_PREFERENCE: readonly EstimatorName[] = ['dr', 'snipw', 'ipw', 'sndr', 'switch-dr', 'dr-os', 'dm'];
/** Ridge penalty of the reward model (RegressionModel's default, scikit-learn's Ridge). */
const RIDGE_ALPHA = 1;

/** Heartbeat when running inside an activity; a no-op when called directly (unit tests, scripts). */
function beat(details: unknown): void {
  try {
    heartbeat(details);
  } catch {
    // not in an activity context
  }
}

function nonRetryable(err: unknown, type: string): never {
  throw ApplicationFailure.nonRetryable((err as Error).message, type);
}

const safeSegment = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || '_';

/** The reward model DM and the DR family get, or null when the one asked for cannot run here. */
function chooseRewardModel(asked: 'auto' | 'per-joint-action' | 'action-features', enumerated: boolean): 'per-joint-action' | 'action-features' | null {
  if (asked === 'action-features') return asked;
  if (asked === 'per-joint-action') return enumerated ? asked : null;
  return enumerated ? 'per-joint-action' : 'action-features';
}

function meanOf(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i];
  return x.length > 0 ? s / x.length : 0;
}

/** Reads an artifact URI of this store into a Buffer, checksum-verified when `sha256` is given. */
async function readUri(store: ArtifactStore, uri: string, sha256?: string): Promise<Buffer> {
  return store.getBuffer(store.keyFromUri(uri), sha256 ? { expectedSha256: sha256 } : {});
}

export function createOpeActivities(deps: OpeActivityDeps): OpeActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  const decisions = new DecisionStore({ pool: deps.pool });
  const cache = deps.cache ?? new CandidateCache();

  async function loadCandidate(config: OpeConfig, sha256: string) {
    const { model, version } = config.candidate;
    return cache.get(`${model}/${version}@${sha256}`, async () => {
      const { version: v, stream } = await registry.openVersionArtifact(model, version);
      const parts: Buffer[] = [];
      for await (const part of stream) parts.push(part as Buffer);
      return { bytes: Buffer.concat(parts), sha256: v.sha256, signature: v.signature, maxJointActions: config.maxJointActions };
    });
  }

  return {
    async opePrepare(args: { input: OffPolicyEvaluationInput; workflowId: string; firstRunId: string }): Promise<PreparedEvaluation> {
      let config: OpeConfig;
      try {
        config = resolveOpeInput(args.input);
      } catch (err) {
        if (err instanceof OpeConfigError) nonRetryable(err, 'OpeInputError');
        throw err;
      }
      const { model, version } = config.candidate;
      const v = await registry.getVersion(model, version).catch((err: unknown) => {
        if (err instanceof NotFoundError) nonRetryable(new Error(`offPolicyEvaluation input.candidate = ${model}/${version}: no such version in the registry (${(err as Error).message})`), 'OpeInputError');
        throw err;
      });
      if (v.format !== 'onnx' || v.artifactLayout !== 'file') {
        nonRetryable(new Error(`candidate ${model}/${version} is a ${v.format} ${v.artifactLayout} artifact; off-policy evaluation needs an ONNX policy file`), 'OpeInputError');
      }
      let space: OpeActionSpace;
      try {
        space = opeActionSpace(parsePolicySignature(v.signature), config.maxJointActions);
      } catch (err) {
        nonRetryable(new Error(`candidate ${model}/${version}: ${(err as Error).message}`), 'OpeInputError');
      }
      // The reward model of DM and the DR family: one ridge per joint action where the joint space is
      // small enough to enumerate, else (or when asked) one ridge over context ⊗ action features.
      const rewardModel = chooseRewardModel(config.rewardModel ?? 'auto', space.enumerated);
      const skippedEstimators: Partial<Record<EstimatorName, string>> = {};
      const estimators = config.estimators.filter((e) => {
        if (!NEEDS_Q.has(e) || rewardModel !== null) return true;
        skippedEstimators[e] = `rewardModel = per-joint-action needs a joint discrete action space of at most maxJointActions = ${config.maxJointActions} actions, this one has ${space.jointSize}: ` +
          'use rewardModel auto or action-features (IPW and SNIPW stay exact)';
        return false;
      });
      if (estimators.length === 0) {
        nonRetryable(new Error(`offPolicyEvaluation input.estimators = ${JSON.stringify(config.estimators)}: none can run on a joint action space of ${space.jointSize} actions with rewardModel = per-joint-action (> maxJointActions = ${config.maxJointActions}); add ipw or snipw, or use rewardModel auto`), 'OpeInputError');
      }
      let gateEstimator: EstimatorName;
      if (config.gateEstimator !== null) {
        if (!estimators.includes(config.gateEstimator)) {
          nonRetryable(new Error(`offPolicyEvaluation input.gateEstimator = "${config.gateEstimator}": it cannot run here (${skippedEstimators[config.gateEstimator]}); choose one of ${estimators.join(', ')}`), 'OpeInputError');
        }
        gateEstimator = config.gateEstimator;
      } else {
        gateEstimator = GATE_PREFERENCE.find((e) => estimators.includes(e)) ?? estimators[0];
      }
      return {
        config,
        runPrefix: `ope/${safeSegment(model)}/v${version}/${safeSegment(args.workflowId)}-${safeSegment(args.firstRunId)}`,
        candidate: { model, version, sha256: v.sha256 },
        actionSpace: {
          discreteHeads: space.discrete.map((h) => ({ name: h.name, kind: h.kind, size: h.size })),
          excludedContinuousHeads: space.continuous,
          jointSize: space.jointSize,
          enumerated: space.enumerated,
          ...(rewardModel !== null ? { rewardModel } : {}),
        },
        observationSize: space.observationSize,
        estimators,
        skippedEstimators,
        gateEstimator,
      };
    },

    async opeScoreChunk(args: { config: OpeConfig; candidateSha256: string; runPrefix: string; seq: number; cursor: string | null }): Promise<ScoreChunkResult> {
      const { config } = args;
      beat({ seq: args.seq, phase: 'read' });
      const page = await decisions.readDecisionsWithRewards({
        deployment: config.deployment,
        from: new Date(config.from),
        to: new Date(config.to),
        cursor: args.cursor,
        limit: config.chunkSize,
        rewardedOnly: true,
      });
      const model = await loadCandidate(config, args.candidateSha256);
      if (model.sha256 !== args.candidateSha256) {
        nonRetryable(new Error(`candidate ${config.candidate.model}/${config.candidate.version} now has sha256 ${model.sha256}, the evaluation started with ${args.candidateSha256}`), 'CandidateChanged');
      }
      const { chunk, skipped } = await scoreRows(model, page.rows, (done) => beat({ seq: args.seq, phase: 'score', done }));
      const put = await deps.store.put(`${args.runPrefix}/chunks/${String(args.seq).padStart(6, '0')}.bin`, encodeChunk(chunk), { contentType: 'application/octet-stream' });
      return { chunk: { uri: put.uri, sha256: put.sha256, rounds: chunk.nRounds }, read: page.rows.length, skipped, nextCursor: page.nextCursor };
    },

    async opeWriteManifest(args: { runPrefix: string; segment: number; chunks: ChunkRef[] }): Promise<string> {
      const body = JSON.stringify({ format: 'autopilot.ope-chunks/v1', segment: args.segment, chunks: args.chunks });
      const put = await deps.store.put(`${args.runPrefix}/manifests/${String(args.segment).padStart(4, '0')}.json`, body, { contentType: 'application/json' });
      return put.uri;
    },

    async opeEstimate(args: {
      prepared: PreparedEvaluation;
      workflowId: string;
      manifests: string[];
      chunks: ChunkRef[];
      totals: { read: number; skipped: Record<string, number> };
    }): Promise<OpeOutcome> {
      const started = Date.now();
      let peakRss = 0, peakHeap = 0;
      const sample = (): void => {
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed + m.arrayBuffers);
      };
      sample();
      const { prepared } = args;
      const { config } = prepared;

      // 1. The chunk list: every earlier run's manifest, then this run's chunks.
      const refs: ChunkRef[] = [];
      for (const m of args.manifests) {
        const json = JSON.parse((await readUri(deps.store, m)).toString('utf8')) as { chunks: ChunkRef[] };
        refs.push(...json.chunks);
      }
      refs.push(...args.chunks);
      let n = 0;
      for (const r of refs) n += r.rounds;
      if (n === 0) {
        nonRetryable(new Error(`no usable rounds: deployment ${config.deployment} has ${args.totals.read} rewarded decisions in [${config.from}, ${config.to}) ` +
          `and none could be scored (skipped: ${JSON.stringify(args.totals.skipped)})`), 'NoRounds');
      }

      // 2. Stream the chunks into compact per-round arrays (one chunk in memory at a time).
      const d = prepared.observationSize;
      const K = prepared.actionSpace.enumerated ? prepared.actionSpace.jointSize : 0;
      const reward = new Float64Array(n), pscore = new Float64Array(n), pe = new Float64Array(n);
      const action = new Int32Array(n);
      const context = new Float64Array(n * d);
      const dist = new Float64Array(K > 0 ? n * K : n * 2);
      const H = prepared.actionSpace.discreteHeads.length;
      const S = prepared.actionSpace.discreteHeads.reduce((sum, h) => sum + h.size, 0);
      const byFeatures = prepared.actionSpace.rewardModel === 'action-features' && prepared.estimators.some((e) => NEEDS_Q.has(e));
      const heads = new Int32Array(n * H), headPe = new Float64Array(n * H), headPscore = new Float64Array(n * H).fill(NaN);
      const headProbs = new Float64Array(byFeatures ? n * S : 0);
      let withHeads = true;
      let at = 0;
      for (let c = 0; c < refs.length; c++) {
        if (refs[c].rounds === 0) continue;
        const ch = decodeChunk(await readUri(deps.store, refs[c].uri, refs[c].sha256), refs[c].uri);
        if (ch.nFeatures !== d || ch.nActions !== K) throw new Error(`${refs[c].uri}: ${ch.nFeatures} features × ${ch.nActions} actions, expected ${d} × ${K} (the candidate's)`);
        if (ch.nRounds !== refs[c].rounds) throw new Error(`${refs[c].uri}: ${ch.nRounds} rounds, its reference says ${refs[c].rounds}`);
        if (ch.nHeads === H && ch.nHeadValues === S) {
          heads.set(ch.heads, at * H);
          headPe.set(ch.headPe, at * H);
          headPscore.set(ch.headPscore, at * H);
          if (byFeatures) headProbs.set(ch.headProbs, at * S);
        } else {
          withHeads = false; // a chunk written before per-head fields existed
        }
        reward.set(ch.reward, at);
        pscore.set(ch.pscore, at);
        pe.set(ch.pe, at);
        for (let j = 0; j < ch.context.length; j++) context[at * d + j] = ch.context[j];
        if (K > 0) {
          action.set(ch.action, at);
          dist.set(ch.actionDist, at * K);
        } else {
          // Not enumerated: a two-action encoding {the logged action, anything else} carries π_e(a_i|x_i) exactly for IPW/SNIPW.
          for (let i = 0; i < ch.nRounds; i++) {
            dist[(at + i) * 2] = ch.pe[i];
            dist[(at + i) * 2 + 1] = Math.max(0, 1 - ch.pe[i]);
          }
        }
        at += ch.nRounds;
        if (c % 16 === 0) {
          sample();
          beat({ phase: 'load', chunk: c, of: refs.length });
        }
      }
      sample();

      let inputs: OpeInputs;
      if (byFeatures || K === 0) {
        // Not enumerated: the "logged action vs the rest" encoding carries everything the estimators read exactly.
        const enc = loggedVersusRest(pe, null, null);
        inputs = { reward, action: enc.action, pscore, actionDist: enc.actionDist };
      } else {
        const actionDist: ActionArray = { data: dist, nRounds: n, nActions: K, lenList: 1 };
        inputs = { reward, action, pscore, actionDist };
      }
      const boot = { alpha: config.alpha, nBootstrapSamples: config.nBootstrap, randomState: config.seed };

      // 3. The reward model, cross-fitted, when DM or the DR family runs.
      let rewardModel: OpeReport['rewardModel'] = null;
      if (byFeatures) {
        if (!withHeads) nonRetryable(new Error('the scored chunks carry no per-head values (written by an older worker): rerun the evaluation'), 'OpeChunkFormat');
        beat({ phase: 'reward-model' });
        const matrix: Matrix = { data: context, rows: n, cols: d };
        const nFolds = Math.min(config.nFolds, n);
        const model = new ActionFeatureRewardModel({
          heads: prepared.actionSpace.discreteHeads.map((h) => ({ name: h.name, size: h.size, ordinal: h.kind === 'integer' })),
          alpha: RIDGE_ALPHA,
        });
        const q = model.fitPredict(matrix, heads, reward, headProbs, { nFolds, randomState: config.seed });
        inputs.estimatedRewardsByRegModel = loggedVersusRest(pe, q.atLogged, q.underPolicy).estimatedRewardsByRegModel;
        rewardModel = { kind: 'ridge-action-features', nFolds, alpha: RIDGE_ALPHA, features: q.nFeatures };
        sample();
      } else if (prepared.estimators.some((e) => NEEDS_Q.has(e))) {
        beat({ phase: 'reward-model' });
        const matrix: Matrix = { data: context, rows: n, cols: d };
        const nFolds = Math.min(config.nFolds, n);
        inputs.estimatedRewardsByRegModel = new RegressionModel({ nActions: K, alpha: RIDGE_ALPHA }).fitPredict(matrix, action, reward, undefined, { nFolds, randomState: config.seed });
        rewardModel = { kind: 'ridge-per-joint-action', nFolds, alpha: RIDGE_ALPHA };
        sample();
      }

      // 4. Each estimator's value and interval, and the paired difference with the logging policy.
      const logging = percentileBootstrap(reward, boot);
      const estimates: Partial<Record<EstimatorName, EstimateRow>> = {};
      const skippedEstimators = { ...prepared.skippedEstimators };
      // Support: per-head logged propensities where every round has them, else the joint propensity.
      let perHead = withHeads && H > 0;
      for (let j = 0; perHead && j < headPscore.length; j++) if (!(headPscore[j] > 0)) perHead = false;
      const unsupported = perHead ? unsupportedMass(pscore, pe, headPscore, headPe, H) : unsupportedMass(pscore, pe);
      const warnings: string[] = [];
      for (const name of prepared.estimators) {
        beat({ phase: 'estimate', estimator: name });
        try {
          const est = makeEstimator(name, { clip: config.clip ?? undefined, lambda: config.lambda ?? undefined });
          const values = est.roundRewards(inputs);
          sample();
          const iv = percentileBootstrap(values, boot);
          const diff = pairedBootstrap(values, reward, boot);
          const used = est.weightsUsed(checkOpeInputs(inputs, est.requires, name));
          const diagnostics = used === null ? undefined : weightDiagnostics(used, {
            unsupported, estimator: name, directMethod: name === 'dm', minEffectiveSampleSize: config.minEffectiveSampleSize ?? 100,
          });
          for (const w of diagnostics?.warnings ?? []) warnings.push(w.message);
          estimates[name] = { ...iv, diff, ...(diagnostics ? { diagnostics } : {}) };
        } catch (err) {
          if (name === prepared.gateEstimator) nonRetryable(new Error(`gate estimator ${name} failed: ${(err as Error).message}`), 'OpeEstimatorFailed');
          skippedEstimators[name] = (err as Error).message;
        }
        sample();
      }

      // 5. Weight diagnostics and the verdict.
      let sw = 0, sw2 = 0, maxW = 0;
      for (let i = 0; i < n; i++) {
        const w = pe[i] / pscore[i];
        sw += w; sw2 += w * w;
        if (w > maxW) maxW = w;
      }
      // Factored weights Π_h π_e,h/π_b,h (equal to the joint weights when the logging rule factorises,
      // as the policy server's does) and the marginal weight of each head: which head makes them extreme.
      let factored: OpeReport['weights']['factored'] = null;
      if (perHead) {
        const wf = factoredImportanceWeights(headPe, headPscore, H);
        let maxRel = 0;
        for (let i = 0; i < n; i++) {
          const wj = pe[i] / pscore[i];
          maxRel = Math.max(maxRel, Math.abs(wf[i] - wj) / Math.max(wj, 1e-300));
        }
        const byHead: Record<string, { effectiveSampleSize: number; max: number }> = {};
        for (let h = 0; h < H; h++) {
          const wh = marginalizedImportanceWeights(headPe, headPscore, H, [h]);
          let m = 0;
          for (let i = 0; i < n; i++) m = Math.max(m, wh[i]);
          byHead[prepared.actionSpace.discreteHeads[h].name] = { effectiveSampleSize: effectiveSampleSize(wh), max: m };
        }
        factored = { effectiveSampleSize: effectiveSampleSize(wf), maxRelativeDifferenceFromJoint: maxRel, byHead };
        if (maxRel > 1e-6) warnings.push(`the logged per-head propensities do not multiply to the logged propensity (max relative difference ${maxRel.toPrecision(3)}): the logging rule did not factorise over the heads as logged`);
      }
      const gateRow = estimates[prepared.gateEstimator]!;
      const { verdict, reason } = opeVerdict(gateRow.diff, { tolerance: config.tolerance, minImprovement: config.minImprovement });
      const gate: OpeReport['gate'] = {
        estimator: prepared.gateEstimator, diff: gateRow.diff, tolerance: config.tolerance, minImprovement: config.minImprovement, verdict, reason,
      };
      const skipped: Record<string, number> = args.totals.skipped;
      const report: OpeReport = {
        format: REPORT_FORMAT,
        workflowId: args.workflowId,
        candidate: prepared.candidate,
        deployment: config.deployment,
        window: { from: config.from, to: config.to },
        config,
        rounds: { read: args.totals.read, used: n, skipped, chunks: refs.length },
        actionSpace: prepared.actionSpace,
        rewardModel,
        logging,
        estimates,
        skippedEstimators,
        gate,
        weights: { mean: sw / n, max: maxW, effectiveSampleSize: (sw * sw) / sw2, unsupportedMass: meanOf(unsupported), factored },
        warnings,
        timing: { estimateSeconds: (Date.now() - started) / 1000 },
        memory: { peakRssBytes: peakRss, peakHeapBytes: peakHeap, perRoundBytes: Math.round((reward.byteLength + pscore.byteLength + pe.byteLength + action.byteLength + context.byteLength + dist.byteLength + (inputs.estimatedRewardsByRegModel?.data.byteLength ?? 0)) / n) },
        createdAt: new Date().toISOString(),
      };

      // 6. The report, then the evaluation row that points at it (once, even if this activity is retried).
      const base = `${prepared.runPrefix}/report`;
      const json = await deps.store.put(`${base}/report.json`, `${JSON.stringify(report, null, 2)}\n`, { contentType: 'application/json' });
      const csv = await deps.store.put(`${base}/estimates.csv`, reportCsv(report), { contentType: 'text/csv' });
      const svg = await deps.store.put(`${base}/estimates.svg`, reportSvg(report), { contentType: 'image/svg+xml' });
      const { model, version } = prepared.candidate;
      const existing = (await registry.listEvaluations(model, version)).find((e) => e.kind === 'ope' && e.reportUri === json.uri);
      const summary: JsonObject = {
        workflowId: args.workflowId,
        deployment: config.deployment,
        window: { from: config.from, to: config.to },
        nRounds: n,
        gate: { estimator: gate.estimator, value: gate.diff.value, lower: gate.diff.lower, upper: gate.diff.upper, tolerance: gate.tolerance, minImprovement: gate.minImprovement },
        reason,
        logging: { ...logging },
        estimates: Object.fromEntries(Object.entries(estimates).map(([k, e]) => [k, {
          value: e.value, lower: e.lower, upper: e.upper,
          ...(e.diagnostics ? { effectiveSampleSize: e.diagnostics.effectiveSampleSize, warnings: e.diagnostics.warnings.map((w) => w.code) } : {}),
        }])),
        warnings,
        csvUri: csv.uri,
        svgUri: svg.uri,
      };
      const evaluation = existing ?? (await registry.recordEvaluation({ model, version, kind: 'ope', verdict, summary, reportUri: json.uri, actor: config.actor }));
      return {
        verdict, reason, gate, nRounds: n, logging, estimates, skippedEstimators,
        reportUri: json.uri, csvUri: csv.uri, svgUri: svg.uri, evaluationId: evaluation.id, warnings,
      };
    },

    async opeCleanupChunks(args: { runPrefix: string }): Promise<{ deleted: number }> {
      let deleted = 0;
      for (const sub of ['chunks/', 'manifests/']) {
        for (const o of await deps.store.list(`${args.runPrefix}/${sub}`)) {
          await deps.store.delete(o.key);
          deleted++;
        }
      }
      return { deleted };
    },
  };
}
