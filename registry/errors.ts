/**
 * Typed registry errors. Each names the field, the value and what was expected, so the message can be
 * shown to a person as is (the CLI prints it without a stack trace).
 */

export class RegistryError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An input is malformed or not allowed in the current state. */
export class ValidationError extends RegistryError {
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly expected: string,
  ) {
    super(`${field}: got ${show(value)}; expected ${expected}`);
  }
}

/** A model, version, alias, deployment, run or decision that does not exist. */
export class NotFoundError extends RegistryError {
  constructor(
    readonly entity: string,
    readonly key: string,
    hint?: string,
  ) {
    super(`${entity} ${key} not found${hint ? ` (${hint})` : ''}`);
  }
}

/** The write collides with what is stored (duplicate, conflicting reward, stale generation, …). */
export class ConflictError extends RegistryError {
  constructor(
    readonly entity: string,
    readonly key: string,
    readonly detail: string,
  ) {
    super(`${entity} ${key}: ${detail}`);
  }
}

export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}
