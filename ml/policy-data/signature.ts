/**
 * The registry signature of an exported text policy (`kind: 'text-policy'`): which files of the
 * version's directory artifact hold the ONNX graph and the tokenizer, the verdict token ids the score
 * reads, and the prompt the model was trained on (so the server renders a snapshot the same way).
 * Written by the policyTraining workflow's registration, read by inference/text-policy. Pure.
 */
import { SYSTEM_PROMPT } from './prompt';

/** Bump when renderUserPrompt / renderChatML change what the model sees. */
export const PROMPT_VERSION = 'chatml-verdict/v2';

export interface TextPolicySignature {
  kind: 'text-policy';
  /** python/export_onnx.py's policy.json `format`. */
  format: string;
  /** File names inside the version's directory artifact. */
  onnx: string;
  tokenizer: string;
  promptVersion: string;
  systemPrompt: string;
  verdictTokenIds: { APPROVE: number; FLAG: number };
  padTokenId: number | null;
  inputs: string[];
  output: string;
  /** p(APPROVE) at or above this approves. */
  threshold: number;
}

export function textPolicySignature(policy: {
  format: string;
  verdict_token_ids: { APPROVE: number; FLAG: number };
  pad_token_id?: number | null;
  inputs?: string[];
  output?: string;
}, threshold = 0.5): TextPolicySignature {
  return {
    kind: 'text-policy',
    format: policy.format,
    onnx: 'model.onnx',
    tokenizer: 'tokenizer.json',
    promptVersion: PROMPT_VERSION,
    systemPrompt: SYSTEM_PROMPT,
    verdictTokenIds: { APPROVE: policy.verdict_token_ids.APPROVE, FLAG: policy.verdict_token_ids.FLAG },
    padTokenId: policy.pad_token_id ?? null,
    inputs: policy.inputs ?? ['input_ids', 'attention_mask'],
    output: policy.output ?? 'logits',
    threshold,
  };
}

/** Checks a stored signature; the error names the field and what was expected. */
export function parseTextPolicySignature(raw: unknown): TextPolicySignature {
  const s = raw as Partial<TextPolicySignature> | null;
  const bad = (field: string, expected: string): never => {
    throw new Error(`text-policy signature: ${field} = ${JSON.stringify((s as Record<string, unknown> | null)?.[field])}; expected ${expected}`);
  };
  if (typeof s !== 'object' || s === null) throw new Error(`text-policy signature: ${JSON.stringify(raw)}; expected an object`);
  if (s.kind !== 'text-policy') bad('kind', '"text-policy"');
  if (typeof s.onnx !== 'string' || s.onnx === '') bad('onnx', 'the ONNX file name');
  if (typeof s.tokenizer !== 'string' || s.tokenizer === '') bad('tokenizer', 'the tokenizer.json file name');
  if (s.promptVersion !== PROMPT_VERSION) bad('promptVersion', `"${PROMPT_VERSION}" (the prompt this server renders)`);
  const ids = s.verdictTokenIds;
  if (!ids || !Number.isInteger(ids.APPROVE) || !Number.isInteger(ids.FLAG) || ids.APPROVE === ids.FLAG) {
    bad('verdictTokenIds', '{ APPROVE, FLAG }: two different token ids');
  }
  if (typeof s.threshold !== 'number' || !(s.threshold > 0 && s.threshold < 1)) bad('threshold', 'a number in (0, 1)');
  return s as TextPolicySignature;
}
