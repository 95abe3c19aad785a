/**
 * Group-sequential decisions for a canary: at each look, is the candidate no worse than the
 * baseline by more than a tolerance (non-inferiority), or better (superiority), with the type-I
 * error over all looks held at alpha by Lan–DeMets spending (`spending.ts`)?
 *
 * At look k with information fraction t_k the one-sided boundary c_k (from `sequentialBoundary`
 * with sides = 1) gives a repeated confidence bound: lower_k = estimate − c_k·se (Jennison &
 * Turnbull 1989, "Interim analyses: the repeated confidence interval approach"). Then
 *   nonInferior  ⇔ lower_k > −tolerance   (P(ever true | difference = −tolerance) ≤ alpha)
 *   superior     ⇔ lower_k > 0            (P(ever true | difference = 0) ≤ alpha)
 *   harmful      ⇔ upper_k < −tolerance   (the candidate is worse by more than the tolerance)
 * `sequentialBootstrapDecision` does the same with a paired percentile bootstrap at the nominal
 * level of the look instead of the normal approximation.
 */
import { pairedBootstrap, type BootstrapOptions } from './bootstrap';
import { sequentialBoundary, type Boundary, type SpendingShape } from './spending';

export interface SequentialOptions {
  /** Information fractions of the looks so far (rounds so far / rounds planned), current last. */
  informationFractions: readonly number[];
  /** One-sided type-I error over all looks. Default 0.05. */
  alpha?: number;
  /** Spending shape. Default 'obrien-fleming'. */
  shape?: SpendingShape;
  /** Non-inferiority margin ≥ 0 in outcome units. Default 0. */
  tolerance?: number;
}

export interface SequentialDecision {
  /** This look's boundary (critical value, nominal alpha, alpha spent). */
  boundary: Boundary;
  /** The estimated difference candidate − baseline. */
  estimate: number;
  /** Repeated confidence bounds at this look. */
  lower: number;
  upper: number;
  nonInferior: boolean;
  superior: boolean;
  harmful: boolean;
  /** True when t ≥ 1: the planned information is reached and no more looks are allowed. */
  finalLook: boolean;
}

function currentBoundary(o: SequentialOptions): { boundary: Boundary; tolerance: number } {
  const { informationFractions, alpha = 0.05, shape = 'obrien-fleming', tolerance = 0 } = o;
  if (!(tolerance >= 0)) throw new RangeError(`tolerance: got ${tolerance}, expected a margin ≥ 0`);
  const bounds = sequentialBoundary(informationFractions, alpha, shape, 1);
  return { boundary: bounds[bounds.length - 1], tolerance };
}

function decide(boundary: Boundary, estimate: number, lower: number, upper: number, tolerance: number): SequentialDecision {
  return {
    boundary,
    estimate,
    lower,
    upper,
    nonInferior: lower > -tolerance,
    superior: lower > 0,
    harmful: upper < -tolerance,
    finalLook: boundary.informationFraction >= 1,
  };
}

/** Decision from an estimate of the difference and its standard error (normal approximation). */
export function groupSequentialDecision(estimate: number, standardError: number, options: SequentialOptions): SequentialDecision {
  if (!Number.isFinite(estimate)) throw new RangeError(`estimate: got ${estimate}, expected a finite number`);
  if (!(standardError >= 0) || !Number.isFinite(standardError)) throw new RangeError(`standardError: got ${standardError}, expected a finite number ≥ 0`);
  const { boundary, tolerance } = currentBoundary(options);
  const half = Number.isFinite(boundary.z) ? boundary.z * standardError : Infinity;
  return decide(boundary, estimate, estimate - half, estimate + half, tolerance);
}

/**
 * Decision from per-round values of candidate and baseline on the same rounds, by a paired
 * percentile bootstrap whose one-sided level is this look's nominal alpha.
 */
export function sequentialBootstrapDecision(
  candidate: ArrayLike<number>,
  baseline: ArrayLike<number>,
  options: SequentialOptions & Omit<BootstrapOptions, 'alpha'>,
): SequentialDecision {
  const { boundary, tolerance } = currentBoundary(options);
  if (!(boundary.nominalAlpha > 0)) {
    let d = 0;
    for (let i = 0; i < candidate.length; i++) d += candidate[i] - baseline[i];
    return decide(boundary, d / candidate.length, -Infinity, Infinity, tolerance);
  }
  const ci = pairedBootstrap(candidate, baseline, {
    alpha: Math.min(0.999, 2 * boundary.nominalAlpha),
    nBootstrapSamples: options.nBootstrapSamples,
    randomState: options.randomState,
  });
  return decide(boundary, ci.value, ci.lower, ci.upper, tolerance);
}
