/**
 * The policy-model steps that run Python: build the tiny base model, evaluate a model on the eval split
 * against the seed-003 targets, and export a model to ONNX for the inference server. Plain functions;
 * activities/oumi/activities.ts wraps them (and `runOumi`) as Temporal activities.
 */
import { runPythonJson, type RunPythonOptions } from './python';

export interface TinyModelRequest {
  /** Tokenizer training text: SFT conversations (`sft_train.jsonl`) and/or plain text files. */
  corpus: string[];
  outDir: string;
  seed?: number;
}

export interface TinyModelResult {
  out: string;
  parameters: number;
  vocab_size: number;
  verdict_token_ids: { APPROVE: number; FLAG: number };
}

export async function buildTinyModel(request: TinyModelRequest, options: RunPythonOptions = {}): Promise<TinyModelResult> {
  if (request.corpus.length === 0) throw new Error('buildTinyModel: corpus must name at least one file');
  const args = [...request.corpus.flatMap((c) => ['--corpus', c]), '--out', request.outDir, '--seed', String(request.seed ?? 7)];
  return runPythonJson<TinyModelResult>('build_tiny_model.py', args, options);
}

export interface Gate {
  value: number | null;
  target: string;
  passed: boolean;
}

/** What python/evaluate_policy.py computes; positive class = APPROVE. */
export interface PolicyMetrics {
  n: number;
  accuracy: number;
  /** Bad decisions approved / bad decisions. */
  fpr: number | null;
  /** Good decisions flagged / good decisions. */
  fnr: number | null;
  /** Approved items whose human label is bad / approved items. */
  override_rate: number;
  approve_rate: number;
  mean_p_approve: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
  gates: Record<'accuracy' | 'fpr' | 'fnr' | 'override_rate', Gate>;
  passed: boolean;
  threshold: number;
  seconds: number;
}

export interface EvaluateRequest {
  modelDir: string;
  /** SFT conversations of the eval split (`sft_eval.jsonl`): the label is the assistant's verdict. */
  evalPath: string;
  /** Where the metrics JSON is written. */
  outPath: string;
  threshold?: number;
}

export async function evaluatePolicyModel(request: EvaluateRequest, options: RunPythonOptions = {}): Promise<PolicyMetrics> {
  const args = ['--model', request.modelDir, '--data', request.evalPath, '--out', request.outPath, '--threshold', String(request.threshold ?? 0.5)];
  return runPythonJson<PolicyMetrics>('evaluate_policy.py', args, options);
}

export interface ExportRequest {
  modelDir: string;
  outDir: string;
  /** Conversations from which reference logits are computed (`reference.json`) for the parity check. */
  checkData?: string;
  checkN?: number;
}

export interface ExportResult {
  out: string;
  onnx_bytes: number;
  verdict_token_ids: { APPROVE: number; FLAG: number };
  reference_cases?: number;
  seconds: number;
}

export async function exportPolicyOnnx(request: ExportRequest, options: RunPythonOptions = {}): Promise<ExportResult> {
  const args = ['--model', request.modelDir, '--out', request.outDir];
  if (request.checkData) args.push('--check-data', request.checkData, '--check-n', String(request.checkN ?? 4));
  return runPythonJson<ExportResult>('export_onnx.py', args, options);
}
