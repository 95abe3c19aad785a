/**
 * The source text of one top-level member of a JSON object, for text JSON.parse has already accepted.
 *
 * The decision log keeps the request's features as JSON; writing back the client's own text of them
 * saves serializing every number again (16 doubles: 1.2–2 µs per decision, the largest part of the
 * COPY line). The scanner only skips over strings and nested brackets: it does no validation, so it
 * must only see text JSON.parse accepted.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** `i` at an opening quote; returns the index after the closing quote. */
function skipString(text: string, i: number): number {
  let q = text.indexOf('"', i + 1);
  for (;;) {
    if (q === -1) throw new Error('json-member: unterminated string (the text was not valid JSON)');
    // A quote preceded by an odd number of backslashes is escaped.
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q + 1;
    q = text.indexOf('"', q + 1);
  }
}

/** `i` at `[` or `{`; returns the index after its matching bracket. */
function skipNested(text: string, i: number): number {
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
    } else if (Number.isNaN(d)) throw new Error('json-member: unbalanced brackets (the text was not valid JSON)');
    i++;
  }
}

function opensBefore(text: string, c: string, from: number, end: number): boolean {
  const at = text.indexOf(c, from);
  return at !== -1 && at < end;
}

/** `i` at the first character of a value; returns the index after it. */
function skipValue(text: string, i: number): number {
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

/** Whether the key whose text (without quotes) is text[start, end) is `key`, escapes decoded. */
function keyIs(text: string, start: number, end: number, key: string): boolean {
  if (end - start === key.length && text.startsWith(key, start)) return true;
  const escape = text.indexOf('\\', start);
  if (escape === -1 || escape >= end) return false;
  return (JSON.parse(text.slice(start - 1, end + 1)) as string) === key;
}

/**
 * The text of member `key` of the object `text` (the last one when the key repeats, as JSON.parse
 * keeps the last), or null when `text` is not an object or has no such member.
 */
export function jsonMemberText(text: string, key: string): string | null {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== OPEN_OBJECT) return null;
  i = skipSpace(text, i + 1);
  if (text.charCodeAt(i) === CLOSE_OBJECT) return null;
  let found: string | null = null;
  for (;;) {
    if (text.charCodeAt(i) !== QUOTE) throw new Error('json-member: expected a member name (the text was not valid JSON)');
    const keyEnd = skipString(text, i);
    const matches = keyIs(text, i + 1, keyEnd - 1, key);
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== COLON) throw new Error('json-member: expected a colon (the text was not valid JSON)');
    i = skipSpace(text, i + 1);
    const valueEnd = skipValue(text, i);
    if (matches) found = text.slice(i, valueEnd);
    i = skipSpace(text, valueEnd);
    const c = text.charCodeAt(i);
    if (c === COMMA) i = skipSpace(text, i + 1);
    else if (c === CLOSE_OBJECT) return found;
    else throw new Error('json-member: expected a comma or the end of the object (the text was not valid JSON)');
  }
}
