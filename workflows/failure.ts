/** Failure helpers shared by the workflows (pure, deterministic). */

/**
 * The innermost message of a failure chain (ActivityFailure → ApplicationFailure → …): the
 * activity's own words, for run records and results.
 */
export function rootMessage(err: unknown): string {
  let e = err as { message?: string; cause?: unknown } | undefined;
  while (e && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
