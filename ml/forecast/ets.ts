/**
 * Exponential smoothing in innovations state-space form with additive errors (Hyndman, Koehler,
 * Ord & Snyder, "Forecasting with Exponential Smoothing: The State Space Approach", 2008; the
 * taxonomy ETS(Error, Trend, Seasonal)). For ETS(A, T, S) with T ∈ {N, A, Ad}, S ∈ {N, A}:
 *
 *   ŷ_{t|t−1} = ℓ_{t−1} + φ b_{t−1} + s_{t−m},   ε_t = y_t − ŷ_{t|t−1}
 *   ℓ_t = ℓ_{t−1} + φ b_{t−1} + α ε_t
 *   b_t = φ b_{t−1} + β ε_t
 *   s_t = s_{t−m} + γ ε_t
 *
 * (no trend: b ≡ 0; additive trend: φ = 1; no season: s ≡ 0). Forecasts and their variance
 * (class 1 of Hyndman et al. 2008, Table 6.1):
 *   ŷ_{n+h|n} = ℓ_n + φ_h b_n + s_{n+h−m(k+1)},   φ_h = φ + φ² + … + φ^h,  k = ⌊(h−1)/m⌋
 *   v_h = σ² [1 + Σ_{j=1}^{h−1} c_j²],   c_j = α + β φ_j + γ·[j mod m = 0]
 *
 * Fitting: α, β, γ, φ and the initial level and slope (ℓ_0, b_0) maximise the Gaussian likelihood,
 * i.e. minimise n log(SSE/n), under 0 < α < 1, 0 < β < α, 0 < γ < 1 − α, 0.8 ≤ φ ≤ 0.98; the initial
 * seasonal states come from a classical decomposition of the whole fitting window (§2.6.1 uses the
 * first few seasons; the whole window gives steadier indices) and are not re-optimised.
 *   AICc = −2 log L + 2k + 2k(k+1)/(n − k − 1),  k = parameters + initial states + 1 (σ²).
 */
import { intervals, checkHorizon } from './arima';
import { minimiseNumerically } from './minimise';
import type { FittedModel, Forecast } from './types';

export type EtsTrend = 'N' | 'A' | 'Ad';
export type EtsSeason = 'N' | 'A';

export interface EtsSpec {
  trend: EtsTrend;
  season: EtsSeason;
  /** Seasonal period (required when season is 'A'). */
  m?: number;
}

export interface EtsParameters {
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
}

export class EtsModel implements FittedModel {
  readonly name: string;
  readonly spec: Required<EtsSpec>;
  readonly parameters: EtsParameters;
  readonly sigma2: number;
  readonly aicc: number;
  readonly logLikelihood: number;
  /** Final states: level ℓ_n, slope b_n, and the last m seasonal states s_{n−m+1..n}. */
  readonly level: number;
  readonly slope: number;
  readonly seasonals: number[];
  readonly fitted: number[];

  constructor(spec: Required<EtsSpec>, parameters: EtsParameters, run: EtsRun, k: number) {
    this.spec = spec;
    this.parameters = parameters;
    const n = run.fitted.length;
    this.sigma2 = run.sse / n;
    this.logLikelihood = -0.5 * n * (Math.log(2 * Math.PI * this.sigma2) + 1);
    this.aicc = n - k - 1 > 0 ? -2 * this.logLikelihood + 2 * k + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
    this.level = run.level;
    this.slope = run.slope;
    this.seasonals = run.seasonals;
    this.fitted = run.fitted;
    this.name = `ETS(A,${spec.trend},${spec.season})` + (spec.season === 'A' ? `[${spec.m}]` : '');
  }

  forecast(horizon: number, level = 0.95): Forecast {
    checkHorizon(horizon, level);
    const { alpha, beta, gamma, phi } = this.parameters;
    const { m, season, trend } = this.spec;
    const mean: number[] = [];
    const c: number[] = [1]; // ψ_0 = 1, ψ_j = c_j
    let phiH = 0;
    for (let h = 1; h <= horizon; h++) {
      phiH += trend === 'N' ? 0 : Math.pow(phi, h);
      const s = season === 'A' ? this.seasonals[(h - 1) % m] : 0;
      mean.push(this.level + phiH * this.slope + s);
      if (h < horizon) {
        const phiJ = trend === 'N' ? 0 : phiSum(phi, h);
        c.push(alpha + (trend === 'N' ? 0 : beta * phiJ) + (season === 'A' && h % m === 0 ? gamma : 0));
      }
    }
    return intervals(mean, c, this.sigma2, level);
  }
}

function phiSum(phi: number, j: number): number {
  let s = 0;
  for (let i = 1; i <= j; i++) s += Math.pow(phi, i);
  return s;
}

interface EtsRun {
  sse: number;
  fitted: number[];
  level: number;
  slope: number;
  /** s_{n−m+1}, …, s_n in the order they recur (index 0 is used at h = 1). */
  seasonals: number[];
}

/** The recursions of the header from initial states (ℓ_0, b_0, s_{1−m..0}). */
export function etsFilter(y: readonly number[], spec: Required<EtsSpec>, p: EtsParameters, l0: number, b0: number, s0: readonly number[]): EtsRun {
  const { alpha, beta, gamma } = p;
  const phi = spec.trend === 'Ad' ? p.phi : 1;
  const hasTrend = spec.trend !== 'N';
  const hasSeason = spec.season === 'A';
  const m = spec.m;
  const season = hasSeason ? [...s0] : []; // ring: season[t % m] holds s_{t−m} when read at time t
  let l = l0;
  let b = hasTrend ? b0 : 0;
  let sse = 0;
  const fitted: number[] = [];
  for (let t = 0; t < y.length; t++) {
    const s = hasSeason ? season[t % m] : 0;
    const yhat = l + phi * b + s;
    const eps = y[t] - yhat;
    fitted.push(yhat);
    sse += eps * eps;
    const lNew = l + phi * b + alpha * eps;
    b = hasTrend ? phi * b + beta * eps : 0;
    l = lNew;
    if (hasSeason) season[t % m] = s + gamma * eps;
  }
  const n = y.length;
  const seasonals = hasSeason ? Array.from({ length: m }, (_, h) => season[(n + h) % m]) : [];
  return { sse, fitted, level: l, slope: b, seasonals };
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const logit = (p: number) => Math.log(p / (1 - p));

/** Fits one ETS(A, trend, season) model. */
export function fitEts(y: readonly number[], spec: EtsSpec): EtsModel {
  const s: Required<EtsSpec> = { m: 1, ...spec };
  if (!['N', 'A', 'Ad'].includes(s.trend)) throw new Error(`fitEts: trend is ${JSON.stringify(s.trend)}, expected "N", "A" or "Ad"`);
  if (!['N', 'A'].includes(s.season)) throw new Error(`fitEts: season is ${JSON.stringify(s.season)}, expected "N" or "A"`);
  if (s.season === 'A' && !(Number.isInteger(s.m) && s.m >= 2)) throw new Error(`fitEts: a seasonal model needs m, an integer >= 2; got ${s.m}`);
  for (const [i, v] of y.entries()) if (!Number.isFinite(v)) throw new Error(`fitEts: y[${i}] is ${v}, expected a finite number`);
  const minLength = s.season === 'A' ? 2 * s.m + 2 : 6;
  if (y.length < minLength) throw new Error(`fitEts: y has ${y.length} observations, expected at least ${minLength} for ${s.season === 'A' ? `a seasonal model with m = ${s.m}` : 'a non-seasonal model'}`);
  const { l0, b0, s0 } = initialStates(y, s);
  const scale = Math.max(Math.sqrt(y.reduce((acc, v) => acc + (v - l0) ** 2, 0) / y.length), 1e-8);
  const hasTrend = s.trend !== 'N';
  const hasSeason = s.season === 'A';
  const decode = (x: ArrayLike<number>): { p: EtsParameters; l: number; b: number } => {
    const alpha = 1e-4 + (1 - 2e-4) * sigmoid(x[0]);
    const beta = hasTrend ? alpha * sigmoid(x[1]) : 0;
    const gamma = hasSeason ? (1 - alpha) * sigmoid(x[2]) : 0;
    const phi = s.trend === 'Ad' ? 0.8 + 0.18 * sigmoid(x[3]) : 1;
    return { p: { alpha, beta, gamma, phi }, l: l0 + scale * x[4], b: b0 + (scale / y.length) * x[5] };
  };
  const objective = (x: ArrayLike<number>) => {
    const { p, l, b } = decode(x);
    const run = etsFilter(y, s, p, l, b, s0);
    return Math.log(run.sse / y.length + 1e-12 * scale * scale); // the floor keeps an exact fit finite
  };
  const x0 = [logit(0.3), logit(0.1), logit(0.1), 0, 0, 0];
  // Parameters the model does not have stay at their start (their gradient is exactly 0).
  const best = minimiseNumerically(objective, x0, 200).x;
  const { p, l, b } = decode(best);
  const run = etsFilter(y, s, p, l, b, s0);
  const k = 1 + (hasTrend ? 1 : 0) + (hasSeason ? 1 : 0) + (s.trend === 'Ad' ? 1 : 0) + 1 + (hasTrend ? 1 : 0) + (hasSeason ? s.m - 1 : 0) + 1;
  return new EtsModel(s, p, run, k);
}

/** ℓ_0, b_0 from a line through the first seasonally adjusted points; s_0 from a classical decomposition. */
function initialStates(y: readonly number[], spec: Required<EtsSpec>): { l0: number; b0: number; s0: number[] } {
  const m = spec.m;
  let s0: number[] = [];
  let adjusted = [...y];
  if (spec.season === 'A') {
    const span = y.length;
    const half = Math.floor(m / 2);
    const sums = new Array<number>(m).fill(0);
    const counts = new Array<number>(m).fill(0);
    for (let t = half; t < span - half; t++) {
      let trend = 0;
      for (let j = -half; j <= half; j++) trend += (m % 2 === 0 && Math.abs(j) === half ? 0.5 : 1) * y[t + j];
      trend /= m;
      sums[t % m] += y[t] - trend;
      counts[t % m]++;
    }
    const idx = sums.map((v, i) => v / Math.max(counts[i], 1));
    const centre = idx.reduce((a, b) => a + b, 0) / m;
    s0 = idx.map((v) => v - centre); // s0[t % m] is the state read at time t (t = 0..m−1)
    adjusted = y.map((v, t) => v - s0[t % m]);
  }
  const k = Math.min(adjusted.length, Math.max(10, spec.season === 'A' ? 2 * m : 10));
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let t = 0; t < k; t++) { sx += t; sy += adjusted[t]; sxx += t * t; sxy += t * adjusted[t]; }
  const slope = (k * sxy - sx * sy) / (k * sxx - sx * sx);
  const intercept = (sy - slope * sx) / k;
  // ℓ_0 is the level one step before the first observation.
  return spec.trend === 'N' ? { l0: sy / k, b0: 0, s0 } : { l0: intercept - slope, b0: slope, s0 };
}

/** Fits every applicable additive ETS model and keeps the smallest AICc. */
export function autoEts(y: readonly number[], options: { m?: number } = {}): { model: EtsModel; candidates: { name: string; aicc: number }[] } {
  const m = options.m ?? 1;
  const seasons: EtsSeason[] = m > 1 && y.length >= 2 * m + 2 ? ['N', 'A'] : ['N'];
  const models: EtsModel[] = [];
  for (const trend of ['N', 'A', 'Ad'] as const) for (const season of seasons) models.push(fitEts(y, { trend, season, m }));
  models.sort((a, b) => a.aicc - b.aicc);
  return { model: models[0], candidates: models.map((mod) => ({ name: mod.name, aicc: mod.aicc })) };
}
