/**
 * The ONNX export of all-MiniLM-L6-v2 (make setup-minilm) run by onnxruntime-node with the JS tokenizer
 * equals PyTorch + transformers' tokenizer (reference.json, written by the export) on the same sentences.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cosine, DEFAULT_MINILM_DIR, SentenceEmbedder } from './minilm';

const ready = existsSync(join(DEFAULT_MINILM_DIR, 'model.onnx'));
if (!ready && process.env.CI === 'true') throw new Error(`${DEFAULT_MINILM_DIR} is missing: run make setup-minilm`);
const maybe = ready ? describe : describe.skip;

maybe('MiniLM sentence embeddings (onnxruntime-node + @huggingface/tokenizers)', () => {
  let e: SentenceEmbedder;
  const ref = ready ? (JSON.parse(readFileSync(join(DEFAULT_MINILM_DIR, 'reference.json'), 'utf8')) as { texts: string[]; ids: number[][]; embeddings: number[][] }) : null;
  beforeAll(async () => {
    e = await SentenceEmbedder.load();
  });
  afterAll(async () => e?.release());

  it('tokenizes exactly as the transformers tokenizer did', () => {
    ref!.texts.forEach((t, i) => expect(e.tokenize(t)).toEqual(ref!.ids[i]));
  });

  it('embeds one at a time and as a padded batch within 1e-5 of PyTorch', async () => {
    const batch = await e.embed(ref!.texts);
    for (let i = 0; i < ref!.texts.length; i++) {
      const [single] = await e.embed([ref!.texts[i]]);
      for (const v of [single, batch[i]]) {
        expect(v.length).toBe(384);
        let max = 0;
        for (let j = 0; j < 384; j++) max = Math.max(max, Math.abs(v[j] - ref!.embeddings[i][j]));
        expect(max).toBeLessThan(1e-5);
      }
    }
  });

  it('puts paraphrases close and unrelated prompts far', async () => {
    const [a, b, c] = await e.embed(['How do I reset my password?', 'how can i reset my password', 'What is the capital of France?']);
    expect(cosine(a, a)).toBeCloseTo(1, 5);
    expect(cosine(a, b)).toBeGreaterThan(0.9);
    expect(cosine(a, c)).toBeLessThan(0.3);
  });

  it('truncates long texts to 256 word pieces and refuses a missing model folder by name', async () => {
    const ids = e.tokenize('word '.repeat(1000));
    expect(ids.length).toBe(256);
    expect(ids[0]).toBe(101);
    expect(ids[255]).toBe(102);
    await expect(SentenceEmbedder.load('/nonexistent/minilm')).rejects.toThrow('/nonexistent/minilm/model.onnx is missing; build it with `make setup-minilm`');
  });
});
