/**
 * LightGBM → ONNX parity (issue 23, UC10): python/train_lgbm.py trains the quality predictor in the real
 * project-local venv (.venv-lightgbm: `make setup-lightgbm`) and exports it with onnxmltools; here the ONNX
 * file is loaded by the server's own code (inference/predictor/model.ts, onnxruntime-node) and every held-out
 * row — sent as the request's named features, encoded by ml/predictor/signature.ts — must score within
 * 1e-6 of LightGBM's probability. The activity's batch check (onnxNodePredictions) must agree too.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeFeatures, parsePredictorSignature } from '../../ml/predictor/signature';
import { PredictorModel } from '../../inference/predictor/model';
import { describeWithTool } from '../../test/support/tools';
import { maxAbsDiff, onnxNodePredictions, trainLgbm, type HeldOut, type TrainLgbmReport } from './activities';

const root = resolve(__dirname, '..', '..');
const python = join(root, '.venv-lightgbm', 'bin', 'python');
const describeLgbm = describeWithTool('activities/predictor/parity.int.test.ts', existsSync(python), '.venv-lightgbm/bin/python is absent; build it with `make setup-lightgbm` (scripts/lightgbm-venv.sh)');

describeLgbm('quality predictor: ONNX (onnxruntime-node) equals LightGBM on held-out data', () => {
  let dir: string;
  let report: TrainLgbmReport;
  let held: HeldOut & { matrix: number[][] };
  let signatureJson: unknown;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lgbm-parity-'));
    report = await trainLgbm({ seed: 11, trainRows: 20000, heldoutRows: 3000, trees: 150, leaves: 15, learningRate: 0.08, shift: 0 }, dir, { root });
    held = JSON.parse(readFileSync(join(dir, report.heldout), 'utf8')) as HeldOut & { matrix: number[][] };
    signatureJson = JSON.parse(readFileSync(join(dir, report.signature), 'utf8'));
  }, 180_000);
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('learns something: held-out log loss well below the base rate\'s, AUC > 0.7', () => {
    expect(report.trees).toBe(150);
    expect(report.metrics.heldout_log_loss).toBeLessThan(report.metrics.heldout_log_loss_base_rate - 0.05);
    expect(report.metrics.heldout_auc).toBeGreaterThan(0.7);
  });

  it('encodes each held-out request exactly as the trainer encoded it', () => {
    const sig = parsePredictorSignature(signatureJson);
    const row = new Float32Array(sig.features.length);
    held.rows.forEach((r, k) => {
      encodeFeatures(sig, r, row);
      expect(Array.from(row)).toEqual(held.matrix[k]);
    });
  });

  it('serves every held-out row within 1e-6 of LightGBM (the server\'s PredictorModel, one request at a time)', async () => {
    const m = await PredictorModel.load({ model: 'quality', version: 1, sha256: 'x' }, signatureJson, readFileSync(join(dir, report.model)));
    const served = new Float64Array(held.rows.length);
    for (let k = 0; k < held.rows.length; k++) served[k] = await m.predict(held.rows[k]);
    m.retire();
    const d = maxAbsDiff(served, held.lightgbm);
    console.log(`quality predictor parity: max |onnxruntime-node − LightGBM| = ${d.max.toExponential(3)} over ${held.rows.length} held-out rows (Python onnxruntime: ${report.parity.maxAbsDiff.toExponential(3)})`);
    expect(d.max).toBeLessThanOrEqual(1e-6);
    expect(report.parity.maxAbsDiff).toBeLessThanOrEqual(1e-6);
    // The probabilities are not degenerate: the check compares a spread of values.
    expect(Math.min(...held.lightgbm)).toBeLessThan(0.1);
    expect(Math.max(...held.lightgbm)).toBeGreaterThan(0.9);
    // The activity's batch check sees the same numbers.
    const batch = await onnxNodePredictions(join(dir, report.model), parsePredictorSignature(signatureJson), held.rows);
    expect(maxAbsDiff(batch, served).max).toBe(0);
  });
});
