/**
 * Features of the raw request text, one function per transformation (`fn` of a request feature). Each
 * takes the field's string and returns a number; categorical ones return the index of their level.
 * All are single passes over the text (no regex backtracking on user input).
 */
import type { RequestFeature, Script } from './definitions';

/** Code points (what a person counts as characters; an emoji is one). */
export function chars(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) continue; // low half of a pair: counted with its high half
    }
    n++;
  }
  return n;
}

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029;
}

/** Runs of non-whitespace. */
export function words(s: string): number {
  let n = 0;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const sp = isSpace(s.charCodeAt(i));
    if (!sp && !inWord) n++;
    inWord = !sp;
  }
  return n;
}

/** Lines (0 for the empty string; a trailing newline does not start a line). */
export function lines(s: string): number {
  if (s.length === 0) return 0;
  let n = 1;
  for (let i = 0; i < s.length - 1; i++) if (s.charCodeAt(i) === 10) n++;
  return n;
}

function isCjk(c: number): boolean {
  return (c >= 0x3040 && c <= 0x30ff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af) || (c >= 0xf900 && c <= 0xfaff);
}

/**
 * Tokens a BPE tokenizer (cl100k-like) would make, estimated without one: ¼ token per ASCII letter or
 * digit (≈ 4 characters a token in English), one per ASCII punctuation mark, one per CJK character,
 * ½ per other non-ASCII code unit; rounded up. Good to ±20% on English prose and code.
 */
export function estimatedTokens(s: string): number {
  let t = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) {
      if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122)) t += 0.25;
      else if (c > 32 && c !== 127) t += 1;
    } else if (isCjk(c)) t += 1;
    else if (!(c >= 0xdc00 && c <= 0xdfff)) t += 0.5;
  }
  return Math.ceil(t);
}

function ratio(s: string, test: (c: number) => boolean): number {
  let n = 0;
  let hit = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isSpace(c)) continue;
    n++;
    if (test(c)) hit++;
  }
  return n === 0 ? 0 : hit / n;
}

/** Share of non-whitespace code units outside ASCII. */
export const nonAsciiRatio = (s: string): number => ratio(s, (c) => c >= 128);
/** Share of non-whitespace characters that are ASCII digits. */
export const digitRatio = (s: string): number => ratio(s, (c) => c >= 48 && c <= 57);
/** Share of ASCII letters that are upper case. */
export function uppercaseRatio(s: string): number {
  let letters = 0;
  let upper = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      letters++;
      upper++;
    } else if (c >= 97 && c <= 122) letters++;
  }
  return letters === 0 ? 0 : upper / letters;
}

export function countChar(s: string, ch: string): number {
  const code = ch.charCodeAt(0);
  let n = 0;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === code) n++;
  return n;
}

const CODE_MARKERS = ['```', 'def ', 'function ', 'function(', '=>', 'return ', 'import ', '#include', 'public static', 'console.log', 'printf(', 'SELECT ', '</', '();', '){', ') {'];

/** 1 when the text carries code: a fence, or a marker of a common language's syntax. */
export function hasCode(s: string): number {
  for (const m of CODE_MARKERS) if (s.includes(m)) return 1;
  return 0;
}

export function hasUrl(s: string): number {
  return s.includes('http://') || s.includes('https://') || s.includes('www.') ? 1 : 0;
}

function scriptOf(c: number): Script | null {
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 0xc0 && c <= 0x24f)) return 'latin';
  if (isCjk(c)) return 'cjk';
  if (c >= 0x400 && c <= 0x4ff) return 'cyrillic';
  if (c >= 0x600 && c <= 0x6ff) return 'arabic';
  if (c >= 0x370 && c <= 0x3ff) return 'greek';
  if (c >= 0x900 && c <= 0x97f) return 'devanagari';
  if (c < 128 || (c >= 0xd800 && c <= 0xdfff) || (c >= 0x2000 && c <= 0x2bff) || (c >= 0x3000 && c <= 0x303f) || (c >= 0xff00 && c <= 0xffef)) return null; // punctuation, digits, symbols
  return 'other';
}

/** The script most of the text's letters are written in (`none`: no letters); ties go to the earlier script in SCRIPTS. */
export function dominantScript(s: string): Script {
  const counts = new Map<Script, number>();
  for (let i = 0; i < s.length; i++) {
    const k = scriptOf(s.charCodeAt(i));
    if (k !== null) counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  let best: Script = 'none';
  let n = 0;
  for (const k of ['latin', 'cjk', 'cyrillic', 'arabic', 'greek', 'devanagari', 'other'] as const) {
    const c = counts.get(k) ?? 0;
    if (c > n) {
      best = k;
      n = c;
    }
  }
  return best;
}

/** Lower-case words of the text (ASCII letters, digits, +, #), for keyword matching. */
function wordSet(s: string): Set<string> {
  const out = new Set<string>();
  let cur = '';
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 32;
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 35) cur += String.fromCharCode(c);
    else if (c >= 65 && c <= 90) cur += String.fromCharCode(c + 32);
    else if (cur.length > 0) {
      out.add(cur);
      cur = '';
    }
  }
  return out;
}

/** A keyword that is not one word (a space, or a character other than ASCII letters, digits, + and #). */
function isPhrase(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 35)) return true;
  }
  return false;
}

/**
 * The first category (in the definition's order) one of whose keywords is a word of the text; a
 * keyword that is not one word (`"write a poem"`, `"tl;dr"`, `"{"`) matches as a lower-case substring.
 */
export function keywordCategory(s: string, categories: Record<string, string[]>, otherwise: string): string {
  const ws = wordSet(s);
  let lower: string | null = null;
  for (const [cat, keywords] of Object.entries(categories)) {
    for (const k of keywords) {
      const key = k.toLowerCase();
      if (isPhrase(key)) {
        lower ??= s.toLowerCase();
        if (lower.includes(key)) return cat;
      } else if (ws.has(key)) return cat;
    }
  }
  return otherwise;
}

/** Thrown when a categorical value has no level: the definition and the code disagree (our bug or a bad config). */
function levelIndex(levels: readonly string[], value: string, name: string): number {
  const i = levels.indexOf(value);
  if (i < 0) throw new Error(`feature ${name}: value ${JSON.stringify(value)} is not one of its levels ${levels.join(', ')}`);
  return i;
}

/** The value of a request feature from the field's text (numbers for `fn: number`), divided by `divideBy` when given. */
export function requestFeature(def: RequestFeature, value: string | number): number {
  const v = rawRequestFeature(def, value);
  const t = def.transformation;
  if (t.equals !== undefined) return v === t.levels!.indexOf(t.equals) ? 1 : 0;
  return t.divideBy === undefined ? v : v / t.divideBy;
}

function rawRequestFeature(def: RequestFeature, value: string | number): number {
  const t = def.transformation;
  if (t.fn === 'number') return Number(value);
  const s = String(value);
  switch (t.fn) {
    case 'chars':
      return chars(s);
    case 'words':
      return words(s);
    case 'lines':
      return lines(s);
    case 'estimated_tokens':
      return estimatedTokens(s);
    case 'non_ascii_ratio':
      return nonAsciiRatio(s);
    case 'digit_ratio':
      return digitRatio(s);
    case 'uppercase_ratio':
      return uppercaseRatio(s);
    case 'count_char':
      return countChar(s, t.char!);
    case 'has_code':
      return hasCode(s);
    case 'has_url':
      return hasUrl(s);
    case 'script': {
      const script = dominantScript(s);
      return levelIndex(t.levels!, t.levels!.includes(script) ? script : t.otherwise!, def.name);
    }
    case 'keyword_category':
      return levelIndex(t.levels!, keywordCategory(s, t.categories!, t.otherwise!), def.name);
  }
}
