/**
 * Adam (Kingma & Ba 2015) exactly as torch.optim.Adam computes it, with CleanRL's eps = 1e-5:
 *   m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²
 *   θ ← θ − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε)
 * The state is plain data (JSON-serialisable through `adamToJSON`) for checkpoints.
 */
export interface AdamState {
  m: Float64Array;
  v: Float64Array;
  /** Number of steps taken. */
  t: number;
}

export interface AdamOptions {
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: AdamOptions = { beta1: 0.9, beta2: 0.999, eps: 1e-5 };

export function createAdamState(size: number): AdamState {
  return { m: new Float64Array(size), v: new Float64Array(size), t: 0 };
}

export function adamStep(params: Float64Array, grad: Float64Array, state: AdamState, lr: number, opts: AdamOptions = ADAM_DEFAULTS): void {
  if (state.m.length !== params.length) throw new Error(`adamStep: optimizer state has ${state.m.length} entries, parameters have ${params.length}`);
  const { beta1, beta2, eps } = opts;
  state.t += 1;
  const bc1 = 1 - Math.pow(beta1, state.t);
  const bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, state.t));
  const stepSize = lr / bc1;
  const m = state.m, v = state.v;
  for (let i = 0; i < params.length; i++) {
    const g = grad[i];
    m[i] = beta1 * m[i] + (1 - beta1) * g;
    v[i] = beta2 * v[i] + (1 - beta2) * g * g;
    params[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) / bc2Sqrt + eps);
  }
}
