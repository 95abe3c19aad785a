/** What every streaming drift detector offers (River's `DriftDetector`: `update`, `drift_detected`). */
export interface DriftDetector {
  /** Feeds one value; `driftDetected` is true when this value completes a detected change. */
  update(x: number): { driftDetected: boolean };
  /** Whether the last update detected a drift. */
  readonly driftDetected: boolean;
  /** Number of drifts detected so far. */
  readonly nDetections: number;
  /** Forgets everything (as after construction). */
  reset(): void;
}

/** Throws, naming the parameter, its value and what is expected. */
export function checkParam(where: string, name: string, value: unknown, expected: string, ok: boolean): void {
  if (!ok) throw new Error(`${where}: ${name} must be ${expected}, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
}

/** Checks a streamed value. */
export function checkValue(where: string, x: number): void {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new Error(`${where}.update: x must be a finite number, got ${String(x)}`);
}

/** Indices (0-based) at which `detector` flags drift over `values`. */
export function detectAll(detector: DriftDetector, values: readonly number[]): number[] {
  const out: number[] = [];
  values.forEach((x, i) => {
    if (detector.update(x).driftDetected) out.push(i);
  });
  return out;
}

/** Merges `params` over `defaults`, rejecting unknown names; `undefined` values keep the default. */
export function withDefaults<T extends object>(where: string, defaults: Required<T>, params: T): Required<T> {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(params ?? {})) {
    if (!(k in defaults)) throw new Error(`${where}: unknown parameter '${k}' (expected one of ${Object.keys(defaults).join(', ')})`);
    if (v !== undefined) out[k] = v;
  }
  return out as Required<T>;
}
