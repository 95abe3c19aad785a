/**
 * One loaded text-policy version: the ONNX causal LM exported by python/export_onnx.py
 * (`input_ids`, `attention_mask` → `logits` [batch, sequence, vocab]), its tokenizer, and the score of
 * activities/oumi/README.md: the next-token logits after the prompt, and
 *   p_approve = softmax(logit[APPROVE₀], logit[FLAG₀])[0] = σ(logit[APPROVE₀] − logit[FLAG₀]),
 * approve when p_approve ≥ threshold. The same number python/evaluate_policy.py computes.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseTextPolicySignature, type TextPolicySignature } from '../../ml/policy-data/signature';
import { ByteLevelBpeTokenizer } from './tokenizer';

export interface TextPolicyScore {
  approve: boolean;
  /** Probability of the verdict given (p_approve, or 1 − p_approve when flagged). */
  confidence: number;
  pApprove: number;
  tokens: number;
}

export interface TextPolicyInfo {
  model: string;
  version: number;
  sha256: string;
}

export class TextPolicyModel {
  private inFlight = 0;
  private retired = false;

  private constructor(
    readonly info: TextPolicyInfo,
    readonly signature: TextPolicySignature,
    private readonly session: ort.InferenceSession,
    readonly tokenizer: ByteLevelBpeTokenizer,
  ) {}

  get key(): string {
    return `${this.info.model}@${this.info.version}`;
  }

  /** Loads from a folder holding the version's files (model.onnx, tokenizer.json, …). */
  static async load(info: TextPolicyInfo, signatureJson: unknown, dir: string): Promise<TextPolicyModel> {
    const signature = parseTextPolicySignature(signatureJson);
    const tokenizer = ByteLevelBpeTokenizer.fromJson(await readFile(join(dir, signature.tokenizer), 'utf8'), `${info.model}@${info.version}/${signature.tokenizer}`);
    const session = await ort.InferenceSession.create(join(dir, signature.onnx), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    for (const name of ['input_ids', 'attention_mask']) {
      if (!session.inputNames.includes(name)) throw new Error(`${info.model}@${info.version}: the ONNX graph has inputs ${session.inputNames.join(', ')}; expected input_ids and attention_mask`);
    }
    if (!session.outputNames.includes(signature.output)) throw new Error(`${info.model}@${info.version}: the ONNX graph has no output ${signature.output}`);
    return new TextPolicyModel(info, signature, session, tokenizer);
  }

  /** Scores a rendered prompt (ChatML, ending with the assistant generation prompt). */
  async score(prompt: string): Promise<TextPolicyScore> {
    const ids = this.tokenizer.encode(prompt);
    if (ids.length === 0) throw new Error('the prompt encodes to no tokens');
    const n = ids.length;
    const inputIds = new ort.Tensor('int64', BigInt64Array.from(ids, (id) => BigInt(id)), [1, n]);
    const mask = new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]);
    this.inFlight++;
    let logits: ort.Tensor;
    try {
      logits = (await this.session.run({ input_ids: inputIds, attention_mask: mask }))[this.signature.output];
    } finally {
      this.inFlight--;
      if (this.retired && this.inFlight === 0) void this.session.release().catch(() => undefined);
    }
    const vocab = logits.dims[logits.dims.length - 1];
    const data = logits.data as Float32Array;
    const last = logits.dims.length === 3 ? (n - 1) * vocab : 0;
    const { APPROVE, FLAG } = this.signature.verdictTokenIds;
    const pApprove = 1 / (1 + Math.exp(data[last + FLAG] - data[last + APPROVE]));
    const approve = pApprove >= this.signature.threshold;
    return { approve, confidence: approve ? pApprove : 1 - pApprove, pApprove, tokens: n };
  }

  /** Releases the session once in-flight requests have finished. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    if (this.inFlight === 0) void this.session.release().catch(() => undefined);
  }
}
