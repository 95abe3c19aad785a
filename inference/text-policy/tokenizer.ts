/**
 * A byte-level BPE tokenizer (GPT-2 / SmolLM2 family) read from a Hugging Face `tokenizer.json`: what
 * python/build_tiny_model.py trains (`models.BPE` + `pre_tokenizers.ByteLevel(add_prefix_space=False)`).
 * Encoding, as the `tokenizers` library does it without special tokens added:
 *   1. split the text on the added tokens (`<|im_start|>`, …), which map to their ids as they are;
 *   2. split each other piece with the GPT-2 pattern (contractions, letters, digits, other, spaces);
 *   3. map each piece's UTF-8 bytes to the printable characters of GPT-2's byte alphabet;
 *   4. merge adjacent symbols, lowest merge rank first, until no ranked pair is left; look them up.
 * Only what this model family uses is supported: anything else in the file is refused on load.
 */

interface TokenizerJson {
  added_tokens?: { id: number; content: string }[];
  normalizer?: unknown;
  pre_tokenizer?: { type?: string; add_prefix_space?: boolean; use_regex?: boolean } | null;
  model?: {
    type?: string;
    vocab?: Record<string, number>;
    merges?: (string | [string, string])[];
    byte_fallback?: boolean;
    continuing_subword_prefix?: string | null;
    end_of_word_suffix?: string | null;
  };
}

/** GPT-2's pre-tokenizer pattern (the one `ByteLevel(use_regex=True)` applies). */
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** GPT-2's byte → printable character table: printable Latin-1 bytes map to themselves, the rest to 256 + n. */
function byteAlphabet(): string[] {
  const table: string[] = new Array<string>(256);
  const keep = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCodePoint(keep(b) ? b : 256 + n++);
  return table;
}

const BYTE_CHARS = byteAlphabet();
const encoder = new TextEncoder();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class ByteLevelBpeTokenizer {
  private readonly ranks = new Map<string, number>();
  private readonly cache = new Map<string, number[]>();
  private readonly special: RegExp | null;
  private readonly specialIds = new Map<string, number>();

  private constructor(
    private readonly vocab: Map<string, number>,
    merges: [string, string][],
    added: { id: number; content: string }[],
  ) {
    merges.forEach(([a, b], rank) => this.ranks.set(`${a} ${b}`, rank));
    for (const t of added) this.specialIds.set(t.content, t.id);
    // Longest first, so a token that is a prefix of another never wins.
    const alternatives = [...this.specialIds.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.special = alternatives.length > 0 ? new RegExp(`(${alternatives.join('|')})`, 'g') : null;
  }

  /** Parses `tokenizer.json` text; `where` names the file in errors. */
  static fromJson(text: string, where = 'tokenizer.json'): ByteLevelBpeTokenizer {
    let json: TokenizerJson;
    try {
      json = JSON.parse(text) as TokenizerJson;
    } catch (err) {
      throw new Error(`${where}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const model = json.model;
    if (!model || model.type !== 'BPE') throw new Error(`${where}: model.type = ${JSON.stringify(model?.type)}; expected "BPE"`);
    if (!model.vocab || typeof model.vocab !== 'object') throw new Error(`${where}: model.vocab is missing`);
    if (!Array.isArray(model.merges)) throw new Error(`${where}: model.merges is missing`);
    if (model.byte_fallback || model.continuing_subword_prefix || model.end_of_word_suffix) {
      throw new Error(`${where}: byte_fallback, continuing_subword_prefix and end_of_word_suffix are not supported (byte-level BPE only)`);
    }
    const pre = json.pre_tokenizer;
    if (!pre || pre.type !== 'ByteLevel' || pre.add_prefix_space === true || pre.use_regex === false) {
      throw new Error(`${where}: pre_tokenizer = ${JSON.stringify(pre)}; expected ByteLevel with add_prefix_space false and use_regex true`);
    }
    if (json.normalizer !== null && json.normalizer !== undefined) throw new Error(`${where}: a normalizer is not supported (got ${JSON.stringify(json.normalizer)})`);
    const merges = model.merges.map((m, i): [string, string] => {
      const pair = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`${where}: model.merges[${i}] = ${JSON.stringify(m)}; expected "a b" or ["a", "b"]`);
      return pair;
    });
    return new ByteLevelBpeTokenizer(new Map(Object.entries(model.vocab)), merges, json.added_tokens ?? []);
  }

  get vocabSize(): number {
    return this.vocab.size + [...this.specialIds.values()].filter((id) => ![...this.vocab.values()].includes(id)).length;
  }

  /** Token ids of `text` (no special tokens added). */
  encode(text: string): number[] {
    const ids: number[] = [];
    const pieces = this.special === null ? [text] : text.split(this.special);
    for (const piece of pieces) {
      if (piece === '') continue;
      const special = this.specialIds.get(piece);
      if (special !== undefined) {
        ids.push(special);
        continue;
      }
      for (const match of piece.matchAll(GPT2_SPLIT)) ids.push(...this.word(match[0]));
    }
    return ids;
  }

  private word(word: string): number[] {
    const cached = this.cache.get(word);
    if (cached !== undefined) return cached;
    let symbols = Array.from(encoder.encode(word), (b) => BYTE_CHARS[b]);
    while (symbols.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < symbols.length - 1; i++) {
        const rank = this.ranks.get(`${symbols[i]} ${symbols[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = i;
        }
      }
      if (best < 0) break;
      const a = symbols[best];
      const b = symbols[best + 1];
      // Merge every occurrence of the pair, left to right (as the reference implementation does).
      const next: string[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          next.push(a + b);
          i++;
        } else next.push(symbols[i]);
      }
      symbols = next;
    }
    const ids = symbols.map((s) => {
      const id = this.vocab.get(s);
      if (id === undefined) throw new Error(`tokenizer: symbol ${JSON.stringify(s)} of ${JSON.stringify(word)} is not in the vocabulary (not a byte-level vocabulary?)`);
      return id;
    });
    if (this.cache.size < 50_000) this.cache.set(word, ids);
    return ids;
  }
}
