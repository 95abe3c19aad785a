/**
 * The policy-model steps that run Python: build the tiny base model, evaluate a model on the eval split
 * against the R-APPROVAL-TARGETS targets, and export a model to ONNX for the inference server. Plain functions;
 * activities/oumi/activities.ts wraps them (and `runOumi`) as Temporal activities.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvaluateRequest, ExportRequest, ExportResult, PolicyMetrics, TinyModelRequest, TinyModelResult } from '../../contracts/text-policy-training';
import type { LabeledDecision } from '../../ml/policy-data/decision';
import { promptMessages } from '../../ml/policy-data/prompt';
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

/**
 * The model's p_approve on decisions without a label (python/evaluate_policy.py --score), in order. Writes
 * `<name>_prompts.jsonl` and `<name>_scores.jsonl` in `dir`; no decisions, no Python.
 */
export async function scorePolicyPrompts(modelDir: string, records: readonly Pick<LabeledDecision, 'input' | 'output'>[], dir: string, name: string, options: RunPythonOptions = {}): Promise<number[]> {
  if (records.length === 0) return [];
  const prompts = path.join(dir, `${name}_prompts.jsonl`);
  const scores = path.join(dir, `${name}_scores.jsonl`);
  await mkdir(dir, { recursive: true });
  await writeFile(prompts, records.map((r) => JSON.stringify({ messages: promptMessages(r.input, r.output.actions) }) + '\n').join(''));
  await runPythonJson('evaluate_policy.py', ['--model', modelDir, '--score', prompts, '--predictions', scores], options);
  const p = (await readFile(scores, 'utf8')).split('\n').filter((l) => l.trim() !== '').map((l) => (JSON.parse(l) as { p_approve: number }).p_approve);
  if (p.length !== records.length) throw new Error(`python/evaluate_policy.py scored ${p.length} of ${records.length} prompts in ${prompts}`);
  return p;
}

export async function exportPolicyOnnx(request: ExportRequest, options: RunPythonOptions = {}): Promise<ExportResult> {
  const args = ['--model', request.modelDir, '--out', request.outDir];
  if (request.checkData) args.push('--check-data', request.checkData, '--check-n', String(request.checkN ?? 4));
  return runPythonJson<ExportResult>('export_onnx.py', args, options);
}
