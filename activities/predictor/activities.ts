/**
 * The quality predictor's training activity (UC10), on the training queue:
 *   1. python/train_lgbm.py in the project-local LightGBM venv (.venv-lightgbm, `make setup-lightgbm`):
 *      simulated responses → LightGBM → ONNX (onnxmltools, zipmap off) + held-out rows and LightGBM's
 *      probabilities;
 *   2. parity: the ONNX model in onnxruntime-node (the server's runtime) on the held-out rows, each encoded
 *      from its request features by ml/predictor/signature.ts exactly as the server encodes a request;
 *      max |p_onnx − p_lightgbm| > tolerance fails the activity (non-retryable `PredictorParityFailed`,
 *      naming the max diff and the row) and nothing is registered;
 *   3. the ONNX file uploaded to the artifact store and registered as a version (signature `predictor`,
 *      held-out metrics, parity figures), idempotent per workflow; optionally the `predictor`
 *      deployment's champion, in the same transaction.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Pool } from 'pg';
import { projectRoot } from '../../config/settings';
import type { QualityPredictorActivities, QualityPredictorTrainingResult, ResolvedQualityPredictorInput } from '../../contracts/quality-predictor-training';
import { encodeFeatures, parsePredictorSignature, type PredictorSignature } from '../../ml/predictor/signature';
import type { ArtifactStore } from '../../registry/artifacts/store';
import { Registry } from '../../registry/index';
import { registrationKey } from '../../registry/register';
import type { Json } from '../../registry/types';
import { codeCommit } from '../code-commit';
import { runPythonJson } from '../oumi/python';

export interface PredictorActivityDeps {
  pool: Pool;
  store: ArtifactStore;
  /** Repository root (python/ and .venv-lightgbm/). Default: the project root. */
  root?: string;
  /** The interpreter. Default `<root>/.venv-lightgbm/bin/python`. */
  python?: string;
}

export interface TrainLgbmReport {
  model: string;
  signature: string;
  heldout: string;
  rows: { train: number; heldout: number };
  trees: number;
  lightgbm: string;
  onnxmltools: string;
  onnxruntime: string;
  parity: { maxAbsDiff: number; rows: number };
  metrics: Record<string, number>;
}

export interface HeldOut {
  rows: Record<string, unknown>[];
  labels: number[];
  lightgbm: number[];
  onnxruntime: number[];
}

/** The input's fields, checked (errors name the field, the value and what was expected). */
export function checkQualityPredictorInput(i: ResolvedQualityPredictorInput): void {
  const fail = (field: string, v: unknown, expected: string): never => {
    throw ApplicationFailure.nonRetryable(`qualityPredictorTraining: ${field}: got ${JSON.stringify(v) ?? 'nothing'}, expected ${expected}`, 'InvalidQualityPredictorInput');
  };
  if (typeof i.model !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,127}$/.test(i.model)) fail('model', i.model, 'a registry model name (lower-case letters, digits, . _ -)');
  const int = (f: 'seed' | 'trainRows' | 'heldoutRows' | 'trees' | 'leaves', lo: number, hi: number) => {
    const v = i[f];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) fail(f, v, `an integer in [${lo}, ${hi}]`);
  };
  int('seed', 0, 2 ** 31 - 1);
  int('trainRows', 100, 5_000_000);
  int('heldoutRows', 10, 1_000_000);
  int('trees', 1, 10_000);
  int('leaves', 2, 4096);
  if (typeof i.learningRate !== 'number' || !(i.learningRate > 0 && i.learningRate <= 1)) fail('learningRate', i.learningRate, 'a number in (0, 1]');
  if (typeof i.shift !== 'number' || !Number.isFinite(i.shift)) fail('shift', i.shift, 'a finite number');
  if (typeof i.parityTolerance !== 'number' || !(i.parityTolerance > 0 && i.parityTolerance < 1)) fail('parityTolerance', i.parityTolerance, 'a number in (0, 1)');
  if (typeof i.champion !== 'boolean') fail('champion', i.champion, 'true or false');
}

/** python/train_lgbm.py into `out`; its report. */
export function trainLgbm(i: Omit<ResolvedQualityPredictorInput, 'actor' | 'model' | 'champion' | 'parityTolerance'>, out: string, opts: { root?: string; python?: string; signal?: AbortSignal } = {}): Promise<TrainLgbmReport> {
  const root = opts.root ?? projectRoot;
  const python = opts.python ?? path.join(root, '.venv-lightgbm', 'bin', 'python');
  if (!existsSync(python)) throw ApplicationFailure.nonRetryable(`${python} is absent: build the LightGBM venv with \`make setup-lightgbm\` (scripts/lightgbm-venv.sh)`, 'LightGbmVenvMissing');
  const args = ['--out', out, '--seed', String(i.seed), '--train', String(i.trainRows), '--heldout', String(i.heldoutRows), '--trees', String(i.trees), '--leaves', String(i.leaves), '--learning-rate', String(i.learningRate), '--shift', String(i.shift)];
  return runPythonJson<TrainLgbmReport>('train_lgbm.py', args, { root, python, signal: opts.signal });
}

/** onnxruntime-node's P(low quality) for every held-out row, each encoded from its request features. */
export async function onnxNodePredictions(modelPath: string, signature: PredictorSignature, rows: readonly Record<string, unknown>[]): Promise<Float64Array> {
  const width = signature.features.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, k) => encodeFeatures(signature, r, x.subarray(k * width, (k + 1) * width), `heldout[${k}]`));
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const out = (await session.run({ [signature.input]: new ort.Tensor('float32', x, [rows.length, width]) }, [signature.output]))[signature.output];
    const data = out.data as Float32Array;
    const k = out.dims[out.dims.length - 1];
    return Float64Array.from({ length: rows.length }, (_, r) => data[r * k + signature.positiveClass]);
  } finally {
    await session.release();
  }
}

/** The largest |a − b| and where. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; row: number } {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: ${a.length} values against ${b.length}`);
  let max = 0;
  let row = -1;
  for (let r = 0; r < a.length; r++) {
    const d = Math.abs(a[r] - b[r]);
    if (!(d <= max)) {
      max = d;
      row = r;
    }
  }
  return { max, row };
}

export function createPredictorActivities(deps: PredictorActivityDeps): QualityPredictorActivities {
  const registry = new Registry({ pool: deps.pool, store: deps.store });
  return {
    async trainQualityPredictor(input): Promise<QualityPredictorTrainingResult> {
      checkQualityPredictorInput(input);
      const dir = await mkdtemp(path.join(tmpdir(), 'autopilot-lgbm-'));
      try {
        // Heartbeats carry a cancellation to the activity; a cancelled run kills the trainer's process group.
        const ctx = Context.current();
        const beat = setInterval(() => ctx.heartbeat({ stage: 'train' }), 5000);
        let report: TrainLgbmReport;
        try {
          report = await trainLgbm(input, dir, { root: deps.root, python: deps.python, signal: ctx.cancellationSignal });
        } finally {
          clearInterval(beat);
        }
        const signatureJson = JSON.parse(await readFile(path.join(dir, report.signature), 'utf8')) as Record<string, Json>;
        const signature = parsePredictorSignature(signatureJson, 'predictor.json');
        const held = JSON.parse(await readFile(path.join(dir, report.heldout), 'utf8')) as HeldOut;
        const modelPath = path.join(dir, report.model);
        const node = await onnxNodePredictions(modelPath, signature, held.rows);
        const d = maxAbsDiff(node, held.lightgbm);
        const parity = { maxAbsDiff: d.max, maxAbsDiffPython: report.parity.maxAbsDiff, rows: held.rows.length, tolerance: input.parityTolerance };
        if (!(d.max <= input.parityTolerance) || !(report.parity.maxAbsDiff <= input.parityTolerance)) {
          const worst = d.max >= report.parity.maxAbsDiff ? `onnxruntime-node max |diff| ${d.max} at held-out row ${d.row} (ONNX ${node[d.row]}, LightGBM ${held.lightgbm[d.row]})` : `Python onnxruntime max |diff| ${report.parity.maxAbsDiff}`;
          throw ApplicationFailure.nonRetryable(`ONNX and LightGBM disagree on the held-out rows: ${worst}, expected ≤ ${input.parityTolerance}; nothing registered`, 'PredictorParityFailed', parity);
        }
        const metrics: Record<string, number> = { ...report.metrics, parity_max_abs_diff: d.max, parity_max_abs_diff_python: report.parity.maxAbsDiff, parity_rows: held.rows.length, trees: report.trees };
        const v = await registry.registerVersion({
          model: input.model,
          artifact: { path: modelPath },
          fileName: 'model.onnx',
          format: 'onnx',
          signature: signatureJson,
          metrics,
          tags: { run_kind: 'quality-predictor', trainer: `lightgbm ${report.lightgbm}`, converter: `onnxmltools ${report.onnxmltools}`, seed: String(input.seed), shift: String(input.shift) },
          lineage: {
            workflowId: input.workflowId,
            datasetManifest: { simulator: 'python/train_lgbm.py simulate', seed: input.seed, train: input.trainRows, heldout: input.heldoutRows, shift: input.shift },
            configHash: `trees=${input.trees},leaves=${input.leaves},lr=${input.learningRate}`,
            codeCommit: codeCommit(deps.root ?? projectRoot),
          },
          description: `LightGBM quality predictor (P(low quality)), ${report.trees} trees; held-out AUC ${report.metrics.heldout_auc.toFixed(3)}, log loss ${report.metrics.heldout_log_loss.toFixed(4)} (base rate ${report.metrics.heldout_log_loss_base_rate.toFixed(4)}); ONNX parity ${d.max.toExponential(2)} on ${held.rows.length} rows`,
          createModel: true,
          idempotencyKey: registrationKey(input.workflowId, 'trainQualityPredictor'),
          actor: input.actor,
        });
        if (input.champion) {
          await registry.setDeployment({ model: input.model, kind: 'predictor', championVersion: v.version, actor: input.actor, reason: `qualityPredictorTraining ${input.workflowId}` });
        }
        return { model: v.model, version: v.version, sha256: v.sha256, artifactUri: v.artifactUri, parity, metrics, champion: input.champion };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
