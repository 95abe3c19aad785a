/**
 * Acquisition functions, written for maximising f (the optimiser negates a minimised objective):
 *
 * Expected Improvement (Jones, Schonlau & Welch, J. Global Optimization 1998; Mockus 1978):
 *   z = (μ(x) − f⁺ − ξ) / σ(x)
 *   EI(x) = (μ(x) − f⁺ − ξ) Φ(z) + σ(x) φ(z),   and max(μ(x) − f⁺ − ξ, 0) when σ(x) = 0
 *
 * Upper Confidence Bound (Srinivas, Krause, Kakade & Seeger, "Gaussian Process Optimization in the
 * Bandit Setting", ICML 2010):
 *   UCB(x) = μ(x) + √β σ(x)
 *
 * f⁺ is the incumbent: with noisy observations, the largest posterior mean at an observed point
 * rather than the largest (noisy) observation.
 */
import { normalCdf, normalPdf } from '../stats/normal';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { sqrt, max } = Math;

export interface AcquisitionFunction {
  readonly name: string;
  /** The acquisition value at a point with posterior mean μ and standard deviation σ, given f⁺. */
  value(mean: number, sd: number, incumbent: number): number;
}

/** EI(x) = (μ − f⁺ − ξ) Φ(z) + σ φ(z), z = (μ − f⁺ − ξ)/σ. */
export function expectedImprovement(mean: number, sd: number, incumbent: number, xi = 0): number {
  const improvement = mean - incumbent - xi;
  if (!(sd > 0)) return max(improvement, 0);
  const z = improvement / sd;
  return improvement * normalCdf(z) + sd * normalPdf(z);
}

/** UCB(x) = μ + √β σ. */
export function upperConfidenceBound(mean: number, sd: number, beta: number): number {
  return mean + sqrt(beta) * sd;
}

export class ExpectedImprovement implements AcquisitionFunction {
  readonly name = 'ei';
  /** ξ ≥ 0, the improvement demanded beyond f⁺ (more exploration when larger). */
  readonly xi: number;

  constructor(options: { xi?: number } = {}) {
    this.xi = options.xi ?? 0;
    if (!(this.xi >= 0 && Number.isFinite(this.xi))) throw new Error(`ExpectedImprovement: xi is ${this.xi}, expected a finite number >= 0`);
  }

  value(mean: number, sd: number, incumbent: number): number {
    return expectedImprovement(mean, sd, incumbent, this.xi);
  }
}

export class UpperConfidenceBound implements AcquisitionFunction {
  readonly name = 'ucb';
  /** β > 0: the width of the optimistic bound in posterior variances. */
  readonly beta: number;

  constructor(options: { beta?: number } = {}) {
    this.beta = options.beta ?? 4;
    if (!(this.beta > 0 && Number.isFinite(this.beta))) throw new Error(`UpperConfidenceBound: beta is ${this.beta}, expected a finite number > 0`);
  }

  value(mean: number, sd: number): number {
    return upperConfidenceBound(mean, sd, this.beta);
  }
}
