/**
 * The source text of one top-level member of a JSON object, for text JSON.parse has already accepted.
 *
 * The decision log keeps the request's features as JSON; writing back the client's own text of them
 * saves serializing every number again (the largest part of a decision's COPY line). The scanner only
 * skips over strings and nested brackets (./json-lexer.ts): it does no validation, so it must only see
 * text JSON.parse accepted.
 */
import { CLOSE_OBJECT, COLON, COMMA, OPEN_OBJECT, QUOTE, skipSpace, skipString, skipValue } from './json-lexer';

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
