/**
 * Lan–DeMets alpha spending for group-sequential tests: looking at accumulating data several times
 * without inflating the false-positive rate.
 *
 * A spending function α(t) says how much of the total type-I error α may have been used by
 * information fraction t ∈ [0, 1] (t = rounds so far / rounds planned). Shapes (Lan & DeMets 1983):
 *
 *   O'Brien–Fleming-like  α(t) = 2 − 2·Φ( Φ⁻¹(1 − α/2) / √t )   (spends almost nothing early)
 *   Pocock-like           α(t) = α · ln(1 + (e − 1)·t)           (spends evenly)
 *
 * `alpha` is the total error of the test as it will be run: for a two-sided test the sum over both
 * sides (so O'Brien–Fleming at t = 0.5, α = 0.05 spends 0.00557); for a one-sided test the error
 * on its one side (α = 0.025 one-sided reproduces the classical boundaries 4.877, 3.357, 2.680,
 * 2.290, 2.031 of five equally spaced looks).
 *
 * Boundaries: at look k the critical value c_k solves
 *   P(no crossing at looks 1..k−1, crossing at look k | H0) = α(t_k) − α(t_{k−1}),
 * computed exactly (up to quadrature) by the recursive numerical integration of Armitage,
 * McPherson & Rowe (1969) on the score process S_k = Z_k·√t_k, a Brownian motion with independent
 * N(0, t_k − t_{k−1}) increments (Jennison & Turnbull, "Group Sequential Methods", 2000, ch. 19).
 *
 * References: K. K. G. Lan and D. L. DeMets, "Discrete sequential boundaries for clinical trials",
 * Biometrika 70(3), 1983. D. L. DeMets and K. K. G. Lan, "Interim analysis: the alpha spending
 * function approach", Statistics in Medicine 13, 1994.
 */
import { normalCdf, normalPdf, normalQuantile, normalSf } from './normal';

// Module-level aliases: no global `Math` lookup per call (slow inside Jest's vm context).
const { sqrt, min, max, ceil, log, E } = Math;

export type SpendingShape = 'obrien-fleming' | 'pocock';
export const SPENDING_SHAPES: readonly SpendingShape[] = ['obrien-fleming', 'pocock'];

/** 1: reject for large Z only (H1: effect > 0); 2: reject for large |Z|, α split evenly. */
export type Sides = 1 | 2;

function checkAlpha(alpha: number): void {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`alpha: got ${alpha}, expected a number in (0, 1)`);
}

function checkShape(shape: string): asserts shape is SpendingShape {
  if (!SPENDING_SHAPES.includes(shape as SpendingShape)) {
    throw new Error(`shape: got ${JSON.stringify(shape)}, expected one of ${SPENDING_SHAPES.join(', ')}`);
  }
}

/**
 * α(t): cumulative type-I error allowed by information fraction `t` (clamped to [0, 1]: looks
 * past the planned information spend the whole α).
 */
export function alphaSpent(t: number, alpha: number, shape: SpendingShape): number {
  checkAlpha(alpha);
  checkShape(shape);
  if (Number.isNaN(t)) throw new Error(`information fraction: got NaN, expected a number in (0, 1]`);
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  if (shape === 'pocock') return alpha * log(1 + (E - 1) * t);
  return 2 * normalSf(normalQuantile(1 - alpha / 2) / sqrt(t));
}

/** The boundary of one look. */
export interface Boundary {
  /** 1-based look number. */
  look: number;
  /** Information fraction t_k of this look. */
  informationFraction: number;
  /** Critical value c_k: reject H0 at this look when Z_k ≥ c_k (or |Z_k| ≥ c_k two-sided). */
  z: number;
  /** The nominal (per-look) significance level: 1 − Φ(c_k) one-sided, 2·(1 − Φ(c_k)) two-sided. */
  nominalAlpha: number;
  /** α(t_k) − α(t_{k−1}): error spent at this look. */
  alphaToSpend: number;
  /** α(t_k): error spent by the end of this look. */
  cumulativeAlphaSpent: number;
}

/** Grid spacing relative to the smallest increment's standard deviation, and the minimum grid. */
const GRID_PER_SD = 12;
const MIN_GRID = 301;
/** Lower truncation of the one-sided continuation region, in standard deviations of S_k. */
const TAIL_SD = 9;

/**
 * Critical values for every look so far. `informationFractions` are the fractions t_1 < t_2 < … of
 * the looks taken, ending with the current one (last entry of the result). Boundaries at earlier
 * looks do not depend on later ones, so calling this again with one more fraction extends the
 * sequence without changing what was already used. Fractions above 1 are clamped to 1.
 */
export function sequentialBoundary(
  informationFractions: readonly number[],
  alpha: number,
  shape: SpendingShape,
  sides: Sides = 2,
): Boundary[] {
  const key = `${alpha}|${shape}|${sides}|${informationFractions.join(',')}`;
  const cached = cache.get(key);
  if (cached) return cached.map((b) => ({ ...b }));
  const result = computeBoundaries(informationFractions, alpha, shape, sides);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(key, result);
  return result.map((b) => ({ ...b }));
}

/** Boundaries are pure functions of their arguments; a canary asks for the same ones repeatedly. */
const CACHE_SIZE = 256;
const cache = new Map<string, Boundary[]>();

function computeBoundaries(informationFractions: readonly number[], alpha: number, shape: SpendingShape, sides: Sides): Boundary[] {
  checkAlpha(alpha);
  checkShape(shape);
  if (sides !== 1 && sides !== 2) throw new Error(`sides: got ${String(sides)}, expected 1 or 2`);
  if (informationFractions.length === 0) throw new Error('informationFractions: got [], expected at least one look');
  const ts = informationFractions.map((t, i) => {
    if (!(t > 0)) throw new Error(`informationFractions[${i}]: got ${t}, expected a number > 0`);
    if (i > 0 && !(t > informationFractions[i - 1])) {
      throw new Error(`informationFractions[${i}]: got ${t}, expected more than the previous look's ${informationFractions[i - 1]}`);
    }
    return min(t, 1);
  });

  const out: Boundary[] = [];
  // Density of S_{k-1} on the continuation region, on a uniform grid `s` with Simpson weights `w`.
  let grid: Float64Array | null = null;
  let density: Float64Array | null = null;
  let weights: Float64Array | null = null;
  let prevT = 0;
  let prevSpent = 0;
  for (let k = 0; k < ts.length; k++) {
    const t = ts[k];
    const spent = alphaSpent(t, alpha, shape);
    const toSpend = max(0, spent - prevSpent);
    const sdT = sqrt(t);
    let c: number;
    if (k === 0) {
      c = toSpend > 0 ? -normalQuantile(toSpend / sides) : Infinity;
    } else if (!(toSpend > 0) || t === prevT) {
      c = Infinity;
    } else {
      const sdInc = sqrt(t - prevT);
      const g = grid!, f = density!, w = weights!;
      const crossing = (cz: number): number => {
        const b = cz * sdT;
        let p = 0;
        for (let j = 0; j < g.length; j++) {
          let tail = normalSf((b - g[j]) / sdInc);
          if (sides === 2) tail += normalCdf((-b - g[j]) / sdInc);
          p += w[j] * f[j] * tail;
        }
        return p;
      };
      // crossing(c) falls from (mass still in play) towards 0 as c grows: bisect on it.
      let lo = 0, hi = 40;
      if (crossing(lo) <= toSpend) c = 0;
      else {
        for (let i = 0; i < 100 && hi - lo > 1e-10; i++) {
          const mid = 0.5 * (lo + hi);
          if (crossing(mid) > toSpend) lo = mid; else hi = mid;
        }
        c = 0.5 * (lo + hi);
      }
    }
    out.push({
      look: k + 1,
      informationFraction: t,
      z: c,
      nominalAlpha: Number.isFinite(c) ? sides * normalSf(c) : 0,
      alphaToSpend: toSpend,
      cumulativeAlphaSpent: spent,
    });
    if (k === ts.length - 1) break;

    // Propagate the density of S_k restricted to the continuation region of look k.
    const upper = Number.isFinite(c) ? c * sdT : TAIL_SD * sdT;
    const lower = sides === 2 ? -upper : -TAIL_SD * sdT;
    const nextSdInc = sqrt(ts[k + 1] - t);
    const h = min(nextSdInc, sdT) / GRID_PER_SD;
    let m = max(MIN_GRID, ceil((upper - lower) / h) + 1);
    if (m % 2 === 0) m++;
    const step = (upper - lower) / (m - 1);
    const newGrid = new Float64Array(m);
    const newWeights = new Float64Array(m);
    for (let j = 0; j < m; j++) {
      newGrid[j] = lower + j * step;
      newWeights[j] = (step / 3) * (j === 0 || j === m - 1 ? 1 : j % 2 === 1 ? 4 : 2);
    }
    const newDensity = new Float64Array(m);
    if (k === 0) {
      for (let j = 0; j < m; j++) newDensity[j] = normalPdf(newGrid[j] / sdT) / sdT;
    } else {
      const sdInc = sqrt(t - prevT);
      const g = grid!, f = density!, w = weights!;
      for (let j = 0; j < m; j++) {
        let acc = 0;
        for (let i = 0; i < g.length; i++) acc += w[i] * f[i] * normalPdf((newGrid[j] - g[i]) / sdInc);
        newDensity[j] = acc / sdInc;
      }
    }
    grid = newGrid;
    density = newDensity;
    weights = newWeights;
    prevT = t;
    prevSpent = spent;
  }
  return out;
}
