/**
 * Standard test functions for global optimisation (Dixon & Szegő 1978; the forms and optima of
 * Surjanovic & Bingham's "Virtual Library of Simulation Experiments"). Both are minimised.
 */
import { SearchSpace } from './space';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { cos, exp } = Math;

/**
 * Branin–Hoo on x₁ ∈ [−5, 10], x₂ ∈ [0, 15]:
 *   f(x) = a (x₂ − b x₁² + c x₁ − r)² + s (1 − t) cos x₁ + s,
 *   a = 1, b = 5.1/(4π²), c = 5/π, r = 6, s = 10, t = 1/(8π).
 * Global minimum f* = 0.397887 at (−π, 12.275), (π, 2.275) and (9.42478, 2.475).
 */
export function branin(x1: number, x2: number): number {
  const b = 5.1 / (4 * Math.PI * Math.PI);
  const c = 5 / Math.PI;
  const t = 1 / (8 * Math.PI);
  return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * cos(x1) + 10;
}
export const BRANIN_MINIMUM = 0.397887;
export const braninSpace = new SearchSpace([
  { name: 'x1', type: 'continuous', low: -5, high: 10 },
  { name: 'x2', type: 'continuous', low: 0, high: 15 },
]);

const H_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H_A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const H_P = [
  [1312, 1696, 5569, 124, 8283, 5886],
  [2329, 4135, 8307, 3736, 1004, 9991],
  [2348, 1451, 3522, 2883, 3047, 6650],
  [4047, 8828, 8732, 5743, 1091, 381],
].map((row) => row.map((v) => v * 1e-4));

/**
 * Hartmann-6 on [0, 1]⁶:  f(x) = −Σ_{i=1}^{4} α_i exp(−Σ_{j=1}^{6} A_ij (x_j − P_ij)²).
 * Global minimum f* = −3.32237 at (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).
 */
export function hartmann6(x: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < 4; i++) {
    let inner = 0;
    for (let j = 0; j < 6; j++) inner += H_A[i][j] * (x[j] - H_P[i][j]) ** 2;
    f -= H_ALPHA[i] * exp(-inner);
  }
  return f;
}
export const HARTMANN6_MINIMUM = -3.32237;
export const hartmann6Space = new SearchSpace(
  Array.from({ length: 6 }, (_, j) => ({ name: `x${j + 1}`, type: 'continuous' as const, low: 0, high: 1 })),
);
