/**
 * Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, "Numerical
 * Optimization", 2nd ed., Algorithm 7.4 two-loop recursion and Algorithm 7.5).
 *
 *   d_k = −H_k ∇f(x_k),   H_k from the last m pairs s_i = x_{i+1} − x_i, y_i = ∇f_{i+1} − ∇f_i,
 *   H_k⁰ = (s_{k−1}ᵀ y_{k−1} / y_{k−1}ᵀ y_{k−1}) I,
 *   x_{k+1} = x_k + t d_k with t from a backtracking line search on the Armijo condition
 *   f(x + t d) ≤ f(x) + c₁ t ∇fᵀd; a pair is kept only when s ᵀy > 0 (curvature condition).
 *
 * Used to fit the GP's hyperparameters (ml/bo/gp.ts) and the forecasting models (ml/forecast/).
 */

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { sqrt, abs, max } = Math;

/** Returns f(x) and writes ∇f(x) into `grad`. */
export type Objective = (x: Float64Array, grad: Float64Array) => number;

export interface LbfgsOptions {
  /** Number of (s, y) pairs kept (m). */
  memory?: number;
  /** Most iterations (outer steps). */
  maxIterations?: number;
  /** Stop when ‖∇f‖_∞ falls below this. */
  gradientTolerance?: number;
  /** Stop when the relative decrease of f in one step falls below this. */
  functionTolerance?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  iterations: number;
  converged: boolean;
}

export const LBFGS_DEFAULTS: Required<LbfgsOptions> = { memory: 8, maxIterations: 200, gradientTolerance: 1e-6, functionTolerance: 1e-10 };

const ARMIJO_C1 = 1e-4;

export function lbfgs(objective: Objective, x0: ArrayLike<number>, options: LbfgsOptions = {}): LbfgsResult {
  const { memory, maxIterations, gradientTolerance, functionTolerance } = { ...LBFGS_DEFAULTS, ...options };
  const n = x0.length;
  let x = Float64Array.from(x0);
  let g = new Float64Array(n);
  let f = objective(x, g);
  if (!Number.isFinite(f)) throw new Error(`lbfgs: objective at the start point is ${f}, expected a finite number`);
  const s: Float64Array[] = [];
  const y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  const d = new Float64Array(n);
  let xNew = new Float64Array(n);
  let gNew = new Float64Array(n);
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    if (infNorm(g) < gradientTolerance) { converged = true; break; }
    // Two-loop recursion: d = −H g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let k = s.length - 1; k >= 0; k--) {
      alpha[k] = rho[k] * dot(s[k], d);
      axpy(-alpha[k], y[k], d);
    }
    if (s.length > 0) {
      const last = s.length - 1;
      const gamma = dot(s[last], y[last]) / dot(y[last], y[last]);
      for (let i = 0; i < n; i++) d[i] *= gamma;
    } else {
      // First step: a unit-length move along −g keeps the scale sane.
      const norm = sqrt(dot(g, g));
      for (let i = 0; i < n; i++) d[i] /= max(norm, 1);
    }
    for (let k = 0; k < s.length; k++) {
      const beta = rho[k] * dot(y[k], d);
      axpy(alpha[k] - beta, s[k], d);
    }
    let slope = dot(g, d);
    if (!(slope < 0)) {
      // Not a descent direction (numerical trouble): restart from steepest descent.
      s.length = 0; y.length = 0; rho.length = 0;
      for (let i = 0; i < n; i++) d[i] = -g[i];
      slope = dot(g, d);
    }
    // Backtracking line search on the Armijo condition.
    let t = 1;
    let fNew = NaN;
    for (let tries = 0; tries < 40; tries++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + t * d[i];
      fNew = objective(xNew, gNew);
      if (Number.isFinite(fNew) && fNew <= f + ARMIJO_C1 * t * slope) break;
      t *= 0.5;
    }
    if (!(Number.isFinite(fNew) && fNew <= f + ARMIJO_C1 * t * slope)) break; // no progress possible
    const sk = new Float64Array(n);
    const yk = new Float64Array(n);
    for (let i = 0; i < n; i++) { sk[i] = xNew[i] - x[i]; yk[i] = gNew[i] - g[i]; }
    const sy = dot(sk, yk);
    if (sy > 1e-12 * sqrt(dot(sk, sk) * dot(yk, yk))) {
      if (s.length === memory) { s.shift(); y.shift(); rho.shift(); }
      s.push(sk); y.push(yk); rho.push(1 / sy);
    }
    const decrease = f - fNew;
    [x, xNew] = [xNew, x];
    [g, gNew] = [gNew, g];
    f = fNew;
    if (decrease <= functionTolerance * max(1, abs(f))) { converged = true; iterations++; break; }
  }
  return { x, f, iterations, converged };
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * b[i];
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < x.length; i++) y[i] += a * x[i];
}

function infNorm(a: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = max(m, abs(a[i]));
  return m;
}
