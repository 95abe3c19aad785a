/**
 * Errors the server answers with. A `ClientError` is the caller's fault and becomes a 4xx JSON body
 * `{ error, field, expected }` naming the field, the value and what was expected; anything else that
 * escapes a handler is our fault and becomes a 5xx: a `ServerFault`, whose body carries an error id and a
 * fixed message while the real cause is logged under that id (a plain Error thrown is a 500 fault).
 */
import { randomBytes } from 'node:crypto';

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

/**
 * A fault on our side (5xx) as the client sees it: a fixed public message, an error id, and for a 503
 * the seconds after which a retry may succeed (`Retry-After`). The real cause (`cause`, a message of
 * Redis, PostgreSQL or our own code) is logged under the id by whoever answers, never sent: it may
 * name hosts, tables, keys or values (R-… "errors that leak nothing", issue "Trust" item 7).
 */
export class ServerFault extends ClientError {
  readonly errorId: string;

  constructor(
    status: number,
    /** What the client may know: which dependency or which part failed, never its message. */
    publicMessage: string,
    override readonly cause: unknown,
    expected: string | null = null,
    /** Seconds for `Retry-After` (503 only); null: none. */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(status, publicMessage, null, expected);
    this.name = 'ServerFault';
    this.errorId = newErrorId();
  }

  /** The line to log: the id, the public message and the real cause. */
  logLine(): string {
    const c = this.cause;
    return `error ${this.errorId}: ${this.message}: ${c instanceof Error ? (c.stack ?? c.message) : String(c)}`;
  }

  override toJSON(): { error: string; field: string | null; expected: string | null; errorId: string } {
    return { error: `${this.message} (error id ${this.errorId})`, field: null, expected: this.expected, errorId: this.errorId };
  }
}

/** An id to quote to the operator: 12 hex characters (48 random bits), unique enough within a log's retention. */
export function newErrorId(): string {
  return randomBytes(6).toString('hex');
}

/** Seconds a client is told to wait after a 503 for a dependency that is down (Redis, PostgreSQL). */
export const RETRY_AFTER_SECONDS = 1;

/** A 503: `dependency` (Redis, the registry database, …) did not answer; `cause` is logged, not sent. */
export function unavailable(what: string, cause: unknown, dependency: string): ServerFault {
  return new ServerFault(503, `${what}: ${dependency} is unavailable`, cause, `a retry later (${dependency} is unavailable)`, RETRY_AFTER_SECONDS);
}

/** A 500: our own fault, `cause` logged under the error id. */
export function internalError(cause: unknown): ServerFault {
  return new ServerFault(500, 'internal error', cause);
}

/** The fault a 5xx answer is sent as: `err` itself when it already is one, else a 500 carrying it. */
export function asServerFault(err: unknown): ServerFault {
  return err instanceof ServerFault ? err : internalError(err);
}

export function badRequest(message: string, field: string | null, expected: string | null): ClientError {
  return new ClientError(400, message, field, expected);
}

/** What a 404 for an unknown deployment or model expects: the same text whatever is deployed (names are not listed). */
export const UNKNOWN_DEPLOYMENT_EXPECTED = 'the name of a deployment served here (deployed names are not listed)';

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
