/**
 * The JSON lexer pieces the hot path's two hand-written readers share: the decide body's byte scanner
 * (../handlers/decide-body.ts) and the member finder over text JSON.parse accepted (./json-member.ts).
 *
 * Character codes are named once here; the helpers are small functions V8 inlines into their callers.
 * Two kinds of input, never mixed in one function (a function that sees both a string and a byte array
 * would be polymorphic and slower for both): request bytes (`Uint8Array`, a Buffer) and text
 * (`string`). The text helpers do no validation: they must only see text JSON.parse accepted.
 */

export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const COMMA = 0x2c;
export const COLON = 0x3a;
export const OPEN_OBJECT = 0x7b;
export const CLOSE_OBJECT = 0x7d;
export const OPEN_ARRAY = 0x5b;
export const CLOSE_ARRAY = 0x5d;
export const MINUS = 0x2d;
export const PLUS = 0x2b;
export const DOT = 0x2e;
export const ZERO = 0x30;
export const NINE = 0x39;
export const LOWER_E = 0x65;
export const UPPER_E = 0x45;

/** JSON's four whitespace characters: space, line feed, carriage return, tab. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Whether `c` is an ASCII digit. */
export function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

// ---- bytes ----

/** The index of the first byte at or after `i` that is not JSON whitespace (the length at the end). */
export function skipSpaceBytes(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

/** Whether the bytes at `at` are the ASCII characters of `word`. */
export function bytesAre(bytes: Uint8Array, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

// ---- text JSON.parse accepted ----

/** The index of the first character at or after `i` that is not JSON whitespace (the length at the end). */
export function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** `i` at an opening quote; returns the index after the closing quote. */
export function skipString(text: string, i: number): number {
  let q = text.indexOf('"', i + 1);
  for (;;) {
    if (q === -1) throw new Error('json-lexer: unterminated string (the text was not valid JSON)');
    // A quote preceded by an odd number of backslashes is escaped.
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
}

/** `i` at `[` or `{`; returns the index after its matching bracket. */
export function skipNested(text: string, i: number): number {
  // Fast path (an array of numbers, a flat object without strings): the first closing bracket of the
  // same kind closes it when no string or other bracket opens before it. indexOf scans natively.
  const close = text.indexOf(text.charCodeAt(i) === OPEN_ARRAY ? ']' : '}', i + 1);
  if (close !== -1 && !opensBefore(text, '"', i + 1, close) && !opensBefore(text, '[', i + 1, close) && !opensBefore(text, '{', i + 1, close)) {
    return close + 1;
  }
  let depth = 0;
  for (;;) {
    const d = text.charCodeAt(i);
    if (d === QUOTE) {
      i = skipString(text, i);
      continue;
    }
    if (d === OPEN_OBJECT || d === OPEN_ARRAY) depth++;
    else if (d === CLOSE_OBJECT || d === CLOSE_ARRAY) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (Number.isNaN(d)) throw new Error('json-lexer: unbalanced brackets (the text was not valid JSON)');
    i++;
  }
}

function opensBefore(text: string, c: string, from: number, end: number): boolean {
  const at = text.indexOf(c, from);
  return at !== -1 && at < end;
}

/** `i` at the first character of a value; returns the index after it. */
export function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c === OPEN_OBJECT || c === OPEN_ARRAY) return skipNested(text, i);
  // number, true, false, null: up to the next delimiter
  while (i < text.length) {
    const d = text.charCodeAt(i);
    if (d === COMMA || d === CLOSE_OBJECT || d === CLOSE_ARRAY || isSpace(d)) break;
    i++;
  }
  return i;
}
