/**
 * Artifact keys: relative, '/'-separated paths that mean the same thing on a filesystem and in S3.
 * Refused: empty keys, absolute paths (`/x`, `C:\x`), empty segments (`a//b`, `a/`), `.` and `..`
 * segments, backslashes, control characters, keys over 1024 bytes (S3's limit), and segments starting
 * with `.autopilot` (reserved for the stores' temporary objects and metadata).
 */
import { InvalidArtifactKeyError } from './errors';

/** Segment prefix reserved for the stores' own bookkeeping (temporary uploads, checksum records). */
export const RESERVED_SEGMENT_PREFIX = '.autopilot';

const MAX_KEY_BYTES = 1024;

/** Returns the key unchanged, or throws InvalidArtifactKeyError naming the key and the rule it breaks. */
export function validateKey(key: string): string {
  if (typeof key !== 'string') throw new InvalidArtifactKeyError(String(key), `it is a ${typeof key}, not a string`);
  if (key.length === 0) throw new InvalidArtifactKeyError(key, 'it is empty');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw new InvalidArtifactKeyError(key, 'it contains a control character');
  if (key.includes('\\')) throw new InvalidArtifactKeyError(key, 'it contains a backslash');
  if (key.startsWith('/') || /^[A-Za-z]:/.test(key)) throw new InvalidArtifactKeyError(key, 'it is an absolute path');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new InvalidArtifactKeyError(key, `it is longer than ${MAX_KEY_BYTES} bytes`);
  }
  for (const segment of key.split('/')) {
    if (segment === '') throw new InvalidArtifactKeyError(key, 'it has an empty segment');
    if (segment === '..') throw new InvalidArtifactKeyError(key, "it has a '..' segment");
    if (segment === '.') throw new InvalidArtifactKeyError(key, "it has a '.' segment");
    if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
      throw new InvalidArtifactKeyError(key, `its segment ${JSON.stringify(segment)} starts with the reserved prefix "${RESERVED_SEGMENT_PREFIX}"`);
    }
  }
  return key;
}

/**
 * A listing prefix: '' (everything), a key, a key followed by '/', or a partial last segment
 * (`models/pp`). Validated like a key so a prefix can never reach outside the store.
 */
export function validatePrefix(prefix: string): string {
  if (prefix === '') return prefix;
  validateKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
