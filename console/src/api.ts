/**
 * The console's calls to the control-plane API (same origin). The key entered in the key form lives in
 * sessionStorage (gone when the tab closes); every call sends it as `Authorization: Bearer …`.
 */
const KEY = 'autopilot.apiKey';

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}
export function storeKey(token: string | null): void {
  if (token === null) sessionStorage.removeItem(KEY);
  else sessionStorage.setItem(KEY, token.trim());
}

/** A non-2xx answer: the status and the API's `{ error, field, expected }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field: string | null,
  ) {
    super(message);
  }
}

/** Listeners told when the API refuses the key (401): the app shows the key form. */
const unauthorized = new Set<() => void>();
export function onUnauthorized(fn: () => void): () => void {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
}

export async function api<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const key = storedKey();
  if (key !== null) headers.authorization = key.startsWith('Bearer ') ? key : `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  const json: unknown = text === '' ? null : JSON.parse(text);
  if (!res.ok) {
    const e = (json ?? {}) as { error?: string; field?: string | null };
    if (res.status === 401) for (const fn of unauthorized) fn();
    throw new ApiError(res.status, e.error ?? `${method} ${path}: HTTP ${res.status}`, e.field ?? null);
  }
  return json as T;
}

export const enc = encodeURIComponent;
