/**
 * Errors the server answers with. A `ClientError` is the caller's fault and becomes a 4xx JSON body
 * `{ error, field, expected }` naming the field, the value and what was expected; anything else that
 * escapes a handler is our fault and becomes a 500.
 */
export class ClientError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Dotted path of the offending field in the request (`features.3`, `deployment`), or null. */
    readonly field: string | null = null,
    /** What would have been accepted, in words. */
    readonly expected: string | null = null,
  ) {
    super(message);
    this.name = 'ClientError';
  }

  toJSON(): { error: string; field: string | null; expected: string | null } {
    return { error: this.message, field: this.field, expected: this.expected };
  }
}

export function badRequest(message: string, field: string | null, expected: string | null): ClientError {
  return new ClientError(400, message, field, expected);
}

export function notFound(message: string, field: string | null, expected: string | null): ClientError {
  return new ClientError(404, message, field, expected);
}

/** A short, printable rendering of a caller's value for an error message (never huge, never raw objects). */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

/** NUL, or a surrogate without its pair. */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this refuses
const NOT_STORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A key a client sends that is logged as text (a sticky `unit`, a feature-store `entity`): a non-empty
 * string of at most 256 characters, well-formed UTF-16 (no lone surrogate) and without NUL, which
 * PostgreSQL cannot store; with `integers`, a safe integer is taken as its decimal string.
 */
export function parseKey(value: unknown, field: string, expected: string, integers = true): string {
  if (typeof value === 'string' && value.length > 0 && value.length <= 256) {
    if (NOT_STORABLE.test(value)) {
      throw badRequest(`${field} must not contain NUL or unpaired surrogate characters, got ${describeValue(value)}`, field, expected);
    }
    return value;
  }
  if (integers && typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw badRequest(`${field} must be a non-empty string (at most 256 characters)${integers ? ' or an integer' : ''}, got ${describeValue(value)}`, field, expected);
}
