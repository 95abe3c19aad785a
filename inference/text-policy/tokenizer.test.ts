/**
 * The Node byte-level BPE against the Hugging Face `tokenizers` library: `testing/tokenizer.json` is
 * a tokenizer trained by python/build_tiny_model.py, and `testing/tokenizer-cases.json` holds the ids
 * `tokenizers` gave (`Tokenizer.encode(text, add_special_tokens=False)`) for random strings (letters,
 * digits, punctuation, whitespace runs, contractions, accents, CJK, emoji, the ChatML tokens) and for
 * whole policy prompts. Regenerate both from any exported model folder with .venv-oumi's `tokenizers`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSampleDecision } from './testing/sample';
import { ByteLevelBpeTokenizer } from './tokenizer';

const dir = join(__dirname, 'testing');
const json = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
const cases = JSON.parse(readFileSync(join(dir, 'tokenizer-cases.json'), 'utf8')) as { text: string; ids: number[] }[];

describe('ByteLevelBpeTokenizer', () => {
  const tokenizer = ByteLevelBpeTokenizer.fromJson(json);

  it('gives the ids of the Hugging Face tokenizers library on every recorded case', () => {
    expect(cases.length).toBeGreaterThan(100);
    const mismatches = cases.filter((c) => JSON.stringify(tokenizer.encode(c.text)) !== JSON.stringify(c.ids));
    expect(mismatches.map((c) => c.text)).toEqual([]);
  });

  it('maps the ChatML tokens to their added-token ids and encodes the empty string as nothing', () => {
    expect(tokenizer.encode('<|im_start|><|im_end|>')).toEqual([1, 2]);
    expect(tokenizer.encode('')).toEqual([]);
  });

  it('encodes a rendered snapshot prompt to ids of the vocabulary', () => {
    const ids = tokenizer.encode(buildSampleDecision());
    expect(ids.length).toBeGreaterThan(20);
    expect(ids.every((id) => Number.isInteger(id) && id >= 0 && id < 1024)).toBe(true);
  });

  it('refuses a tokenizer it does not implement, naming the field', () => {
    const wordLevel = JSON.stringify({ ...JSON.parse(json), model: { type: 'WordLevel', vocab: {} } });
    expect(() => ByteLevelBpeTokenizer.fromJson(wordLevel, 'x/tokenizer.json')).toThrow('x/tokenizer.json: model.type = "WordLevel"; expected "BPE"');
    const prefix = JSON.stringify({ ...JSON.parse(json), pre_tokenizer: { type: 'ByteLevel', add_prefix_space: true } });
    expect(() => ByteLevelBpeTokenizer.fromJson(prefix)).toThrow(/pre_tokenizer/);
    expect(() => ByteLevelBpeTokenizer.fromJson('{')).toThrow(/not JSON/);
  });
});
