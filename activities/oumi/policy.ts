/**
 * The policy-model steps that run Python: build the tiny base model, evaluate a model on the eval split
 * against the R-APPROVAL-TARGETS targets, and export a model to ONNX for the inference server. Plain functions;
 * activities/oumi/activities.ts wraps them (and `runOumi`) as Temporal activities.
 */
import type { EvaluateRequest, ExportRequest, ExportResult, PolicyMetrics, TinyModelRequest, TinyModelResult } from '../../contracts/text-policy-training';
import { runPythonJson, type RunPythonOptions } from './python';

export async function buildTinyModel(request: TinyModelRequest, options: RunPythonOptions = {}): Promise<TinyModelResult> {
  if (request.corpus.length === 0) throw new Error('buildTinyModel: corpus must name at least one file');
  const args = [...request.corpus.flatMap((c) => ['--corpus', c]), '--out', request.outDir, '--seed', String(request.seed ?? 7)];
  return runPythonJson<TinyModelResult>('build_tiny_model.py', args, options);
}

export async function evaluatePolicyModel(request: EvaluateRequest, options: RunPythonOptions = {}): Promise<PolicyMetrics> {
  if (request.calibratePath !== undefined && request.threshold !== undefined) throw new Error('evaluatePolicyModel: give threshold or calibratePath, not both');
  const args = ['--model', request.modelDir, '--data', request.evalPath, '--out', request.outPath];
  if (request.calibratePath !== undefined) {
    args.push('--calibrate', request.calibratePath);
    if (request.fnrBound !== undefined) args.push('--fnr-bound', String(request.fnrBound));
  } else args.push('--threshold', String(request.threshold ?? 0.5));
  if (request.adjudicatedPath !== undefined) args.push('--adjudicated', request.adjudicatedPath);
  if (request.predictionsPath !== undefined) args.push('--predictions', request.predictionsPath);
  return runPythonJson<PolicyMetrics>('evaluate_policy.py', args, options);
}

export async function exportPolicyOnnx(request: ExportRequest, options: RunPythonOptions = {}): Promise<ExportResult> {
  const args = ['--model', request.modelDir, '--out', request.outDir];
  if (request.checkData) args.push('--check-data', request.checkData, '--check-n', String(request.checkN ?? 4));
  return runPythonJson<ExportResult>('export_onnx.py', args, options);
}
