/**
 * The common decide body read straight from its bytes, without `JSON.parse`:
 *
 *   {"deployment":"ranker","features":[0.84,-0.75,…],"unit":"user:42","explore":true}
 *
 * members in any order, `unit` and `explore` optional, whitespace anywhere JSON allows it. Parsing the
 * body into objects (an object, an array, a heap number per feature) and validating them field by field
 * is a large part of the server's time per decision, most of it for values the model only needs as
 * float32; the bytes are read once, as bytes (cheaper than a string's characters), and only the few
 * strings kept are made. The tokens and whitespace are ../http/json-lexer.ts's.
 *
 * The scanner takes only what it can read exactly as `JSON.parse` would and answers null for everything
 * else — another shape (features by name, `{ entity }`), an unknown or repeated member, a `null`, an
 * escape sequence, control character or non-ASCII character in a string (UTF-8 decoding stays the generic
 * path's), a number outside JSON's grammar or not finite within float32's range, text after the object,
 * invalid JSON of any kind — so that the caller parses the body
 * the generic way and answers exactly as before (the same decision, or the same 4xx naming the field).
 * When it answers, every value is the one `JSON.parse` gives for the same text (tested against it).
 */

import * as lexer from '../http/json-lexer';

// Module constants, read from the lexer once at load: the scanner's loops then use them exactly as
// constants declared here (compiled to CommonJS, a named import is a property read at every use).
const { BACKSLASH, CLOSE_ARRAY, CLOSE_OBJECT, COLON, COMMA, DOT, LOWER_E, MINUS, NINE, OPEN_ARRAY, OPEN_OBJECT, PLUS, QUOTE, UPPER_E, ZERO, bytesAre, isDigit, skipSpaceBytes } = lexer;

const FLOAT32_MAX = 3.4028234663852886e38;

/** Exact powers of ten as doubles (10^22 is the largest that is exact). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/** A decide body the scanner read; `values[0, count)` (the caller's array) holds the features. */
export interface ScannedDecideBody {
  deployment: string;
  /** The `unit` member as sent (not yet checked as a key), or undefined when absent. */
  unit: string | undefined;
  explore: boolean | undefined;
  /** How many features the array had. */
  count: number;
  /** The features array's own text, `[` to `]`, exactly as sent (what the decision log keeps; ASCII). */
  featuresText: string;
}

/**
 * Reads `text` (a body's UTF-8 bytes) as a decide body with features as an array of numbers, writing
 * the numbers into `values` (at most `values.length` of them); null when the body is anything else (see
 * above).
 */
export function scanDecideBody(text: Buffer, values: Float64Array): ScannedDecideBody | null {
  const n = text.length;
  let i = 0;
  i = skipSpaceBytes(text, i);
  if (text[i] !== OPEN_OBJECT) return null;
  i++;
  let deployment: string | undefined;
  let unit: string | undefined;
  let explore: boolean | undefined;
  let count = -1;
  let featuresStart = -1;
  let featuresEnd = -1;
  for (;;) {
    i = skipSpaceBytes(text, i);
    // A member name: one of the four, written plainly (an escape in a name is the generic path's).
    if (text[i] !== QUOTE) return null;
    const nameEnd = text.indexOf(QUOTE, i + 1);
    if (nameEnd === -1) return null;
    const nameLength = nameEnd - i - 1;
    let member: 0 | 1 | 2 | 3;
    if (nameLength === 10 && bytesAre(text, i + 1, 'deployment')) member = 0;
    else if (nameLength === 8 && bytesAre(text, i + 1, 'features')) member = 1;
    else if (nameLength === 4 && bytesAre(text, i + 1, 'unit')) member = 2;
    else if (nameLength === 7 && bytesAre(text, i + 1, 'explore')) member = 3;
    else return null;
    i = nameEnd + 1;
    i = skipSpaceBytes(text, i);
    if (text[i] !== COLON) return null;
    i++;
    i = skipSpaceBytes(text, i);
    if (member === 1) {
      if (count !== -1 || text[i] !== OPEN_ARRAY) return null;
      featuresStart = i;
      i++;
      count = 0;
      i = skipSpaceBytes(text, i);
      if (text[i] === CLOSE_ARRAY) i++;
      else {
        for (;;) {
          if (count === values.length) return null;
          const end = scanNumber(text, i, values, count);
          if (end === -1) return null;
          count++;
          i = skipSpaceBytes(text, end);
          const c = text[i];
          i++;
          if (c === CLOSE_ARRAY) break;
          if (c !== COMMA) return null;
          i = skipSpaceBytes(text, i);
        }
      }
      featuresEnd = i;
    } else if (member === 3) {
      if (explore !== undefined) return null;
      if (bytesAre(text, i, 'true')) {
        explore = true;
        i += 4;
      } else if (bytesAre(text, i, 'false')) {
        explore = false;
        i += 5;
      } else return null;
    } else {
      // deployment or unit: ASCII without escapes or control characters (as JSON.parse gives it)
      if ((member === 0 ? deployment : unit) !== undefined || text[i] !== QUOTE) return null;
      const end = text.indexOf(QUOTE, i + 1);
      if (end === -1) return null;
      for (let k = i + 1; k < end; k++) {
        const c = text[k];
        if (c < 0x20 || c === BACKSLASH || c >= 0x80) return null;
      }
      const value = text.toString('latin1', i + 1, end);
      if (member === 0) deployment = value;
      else unit = value;
      i = end + 1;
    }
    i = skipSpaceBytes(text, i);
    const c = text[i];
    i++;
    if (c === CLOSE_OBJECT) break;
    if (c !== COMMA) return null;
  }
  i = skipSpaceBytes(text, i);
  if (i !== n || deployment === undefined || deployment.length === 0 || count === -1) return null;
  return { deployment, unit, explore, count, featuresText: text.toString('latin1', featuresStart, featuresEnd) };
}

/**
 * Reads one JSON number at `i` into `out[at]`; returns the index after it, or -1 when the text there is
 * not a JSON number or its value is not finite within float32's range. The value is JSON.parse's: with
 * at most 15 digits and a power of ten up to 22 it is one correctly rounded multiplication or division
 * of two exact doubles (the decimal's nearest double); anything longer is converted by `Number`, which
 * reads JSON's number grammar exactly as JSON.parse does.
 */
export function scanNumber(text: Buffer, i: number, out: Float64Array, at: number): number {
  const start = i;
  let c = text[i];
  const negative = c === MINUS;
  if (negative) c = text[++i];
  let mantissa = 0;
  let digits = 0;
  // integer part: 0, or a digit 1–9 and more digits
  if (c === ZERO) c = text[++i];
  else if (c > ZERO && c <= NINE) {
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      c = text[++i];
    } while (isDigit(c));
  } else return -1;
  let scale = 0;
  if (c === DOT) {
    c = text[++i];
    if (!isDigit(c)) return -1;
    do {
      mantissa = mantissa * 10 + (c - ZERO);
      if (mantissa !== 0) digits++;
      scale--;
      c = text[++i];
    } while (isDigit(c));
  }
  if (c === LOWER_E || c === UPPER_E) {
    c = text[++i];
    let expNegative = false;
    if (c === PLUS || c === MINUS) {
      expNegative = c === MINUS;
      c = text[++i];
    }
    if (!isDigit(c)) return -1;
    let exp = 0;
    do {
      if (exp < 100_000) exp = exp * 10 + (c - ZERO);
      c = text[++i];
    } while (isDigit(c));
    scale += expNegative ? -exp : exp;
  }
  let value: number;
  if (digits <= 15 && scale >= -22 && scale <= 22) value = scale < 0 ? mantissa / POW10[-scale] : mantissa * POW10[scale];
  else value = Math.abs(Number(text.toString('latin1', negative ? start + 1 : start, i)));
  if (!(value <= FLOAT32_MAX)) return -1;
  out[at] = negative ? -value : value;
  return i;
}
