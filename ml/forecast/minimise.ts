/**
 * Minimises a smooth function of a few parameters with L-BFGS and central-difference gradients
 * (∂f/∂x_i ≈ (f(x + h e_i) − f(x − h e_i)) / 2h, h = 1e-6·max(1, |x_i|)): the forecasting models
 * have at most a handful of parameters, so 2k extra evaluations per gradient are cheap.
 */
import { lbfgs } from '../bo/lbfgs';

export function minimiseNumerically(f: (x: Float64Array) => number, x0: ArrayLike<number>, maxIterations = 100): { x: Float64Array; f: number } {
  const probe = new Float64Array(x0.length);
  const result = lbfgs((x, grad) => {
    const fx = f(x);
    if (!Number.isFinite(fx)) return fx;
    probe.set(x);
    for (let i = 0; i < x.length; i++) {
      const h = 1e-6 * Math.max(1, Math.abs(x[i]));
      probe[i] = x[i] + h;
      const up = f(probe);
      probe[i] = x[i] - h;
      const down = f(probe);
      probe[i] = x[i];
      grad[i] = Number.isFinite(up) && Number.isFinite(down) ? (up - down) / (2 * h) : 0;
    }
    return fx;
  }, x0, { maxIterations, gradientTolerance: 1e-7, functionTolerance: 1e-12 });
  return { x: result.x, f: result.f };
}
