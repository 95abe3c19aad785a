/**
 * Seasonal ARIMA(p,d,q)(P,D,Q)_m fitted by conditional sum of squares (Box, Jenkins, Reinsel & Ljung,
 * "Time Series Analysis", 5th ed., §7.1; Hyndman & Athanasopoulos, "Forecasting: Principles and
 * Practice", 3rd ed., ch. 9):
 *
 *   w_t = (1 − B)^d (1 − B^m)^D y_t
 *   φ(B) Φ(B^m) (w_t − μ) = θ(B) Θ(B^m) e_t,   e_t ~ N(0, σ²)
 *
 * CSS: with φ*(B) = φ(B)Φ(B^m) = 1 − Σ φ*_i B^i and θ*(B) = θ(B)Θ(B^m) = 1 + Σ θ*_j B^j,
 *   e_t = (w_t − μ) − Σ_i φ*_i (w_{t−i} − μ) − Σ_j θ*_j e_{t−j},   t > c,  e_t = 0 for t ≤ c,
 *   σ̂² = Σ_{t>c} e_t² / n',   −2 log L = n' (log 2πσ̂² + 1),   n' = (number of w) − c,
 * minimised over (φ, Φ, θ, Θ, μ). The conditioning length c is shared by every candidate in an
 * order search so that their likelihoods are over the same observations and comparable.
 *   AICc = −2 log L + 2k' + 2k'(k' + 1)/(n' − k' − 1),   k' = p + q + P + Q + [μ] + 1 (for σ²),
 *   BIC  = −2 log L + k' log n'.
 * Fits with a non-stationary AR part or a non-invertible MA part are rejected.
 *
 * Forecasts run the recursion on y with the full AR polynomial a(B) = φ*(B)(1 − B)^d(1 − B^m)^D:
 *   ŷ_{n+h} = φ*(1) μ + Σ_i a_i ŷ_{n+h−i} + Σ_j θ*_j ê_{n+h−j}   (future e = 0, known y and e as data)
 * and intervals from the ψ-weights of θ*(B)/a(B):  ψ_0 = 1,  ψ_j = θ*_j + Σ_i a_i ψ_{j−i},
 *   Var(y_{n+h} − ŷ_{n+h}) = σ² Σ_{j<h} ψ_j²,   interval ŷ ± z_{(1+level)/2} · sd.
 */
import { normalQuantile } from '../stats/normal';
import { minimiseNumerically } from './minimise';
import { arPolynomial, differencingPolynomial, isStable, maPolynomial, multiply } from './polynomial';
import type { FittedModel, Forecast } from './types';

export interface ArimaOrder {
  p: number;
  d: number;
  q: number;
  /** Seasonal orders (default 0) and period m (default 1: no seasonal part). */
  P?: number;
  D?: number;
  Q?: number;
  m?: number;
}

export interface ArimaFitOptions {
  /** Estimate a mean μ of the differenced series (with d + D = 1 it is a drift). Default: d + D ≤ 1. */
  includeConstant?: boolean;
  /** Observations of w to condition on (default p + mP, the smallest possible). */
  conditionOn?: number;
}

export class ArimaModel implements FittedModel {
  readonly name: string;
  readonly order: Required<ArimaOrder>;
  readonly phi: number[];
  readonly theta: number[];
  readonly seasonalPhi: number[];
  readonly seasonalTheta: number[];
  /** μ, the mean of the differenced series (0 when not included). */
  readonly mean: number;
  readonly includeConstant: boolean;
  readonly sigma2: number;
  readonly aicc: number;
  /** Bayesian information criterion −2 log L + k' log n' (consistent: picks the true order as n → ∞). */
  readonly bic: number;
  readonly logLikelihood: number;
  /** Observations the likelihood is computed on (n'). */
  readonly nEffective: number;
  private readonly y: number[];
  private readonly residuals: number[];

  constructor(fields: {
    order: Required<ArimaOrder>; phi: number[]; theta: number[]; seasonalPhi: number[]; seasonalTheta: number[];
    mean: number; includeConstant: boolean; sigma2: number; logLikelihood: number; nEffective: number; y: number[]; residuals: number[];
  }) {
    this.order = fields.order;
    this.phi = fields.phi; this.theta = fields.theta; this.seasonalPhi = fields.seasonalPhi; this.seasonalTheta = fields.seasonalTheta;
    this.mean = fields.mean; this.includeConstant = fields.includeConstant; this.sigma2 = fields.sigma2;
    this.logLikelihood = fields.logLikelihood; this.nEffective = fields.nEffective; this.y = fields.y; this.residuals = fields.residuals;
    const { p, d, q, P, D, Q, m } = this.order;
    const k = p + q + P + Q + (this.includeConstant ? 1 : 0) + 1;
    const n = this.nEffective;
    this.aicc = n - k - 1 > 0 ? -2 * this.logLikelihood + 2 * k + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
    this.bic = -2 * this.logLikelihood + k * Math.log(n);
    this.name = `ARIMA(${p},${d},${q})` + (P + D + Q > 0 ? `(${P},${D},${Q})[${m}]` : '') + (this.includeConstant ? (d + D === 0 ? ' with mean' : ' with drift') : '');
  }

  /** In-sample one-step residuals ê_t aligned with y (zeros where conditioned on). */
  get innovations(): readonly number[] {
    return this.residuals;
  }

  forecast(horizon: number, level = 0.95): Forecast {
    checkHorizon(horizon, level);
    const { d, D, m } = this.order;
    const arStar = multiply(arPolynomial(this.phi), arPolynomial(this.seasonalPhi, m));
    const maStar = multiply(maPolynomial(this.theta), maPolynomial(this.seasonalTheta, m));
    const full = multiply(arStar, differencingPolynomial(d, D, m)); // a(B) = 1 − Σ a_i B^i
    const a = full.map((c) => -c); // a[i] for i ≥ 1
    const c0 = arStar.reduce((s, c) => s + c, 0) * this.mean; // φ*(1) μ
    const n = this.y.length;
    const y = [...this.y];
    const e = [...this.residuals];
    for (let h = 1; h <= horizon; h++) {
      const t = n + h - 1;
      let v = c0;
      for (let i = 1; i < a.length; i++) v += a[i] * (t - i >= 0 ? y[t - i] : 0);
      for (let j = 1; j < maStar.length; j++) v += maStar[j] * (t - j >= 0 && t - j < n ? e[t - j] : 0);
      y.push(v);
      e.push(0);
    }
    const psi = psiWeights(full, maStar, horizon);
    return intervals(y.slice(n), psi, this.sigma2, level);
  }
}

/** ψ_0 = 1, ψ_j = θ*_j + Σ_{i=1}^{j} a_i ψ_{j−i}, with a(B) = 1 − Σ a_i B^i given as coefficients. */
export function psiWeights(arFull: readonly number[], ma: readonly number[], count: number): number[] {
  const psi = [1];
  for (let j = 1; j < count; j++) {
    let v = j < ma.length ? ma[j] : 0;
    for (let i = 1; i <= j && i < arFull.length; i++) v += -arFull[i] * psi[j - i];
    psi.push(v);
  }
  return psi;
}

/** ŷ ± z sd with sd_h = σ sqrt(Σ_{j<h} ψ_j²). */
export function intervals(mean: number[], psi: readonly number[], sigma2: number, level: number): Forecast {
  const z = normalQuantile((1 + level) / 2);
  const sd: number[] = [];
  let acc = 0;
  for (let h = 0; h < mean.length; h++) {
    acc += psi[h] * psi[h];
    sd.push(Math.sqrt(sigma2 * acc));
  }
  return { mean, sd, lower: mean.map((v, h) => v - z * sd[h]), upper: mean.map((v, h) => v + z * sd[h]), level };
}

export function checkHorizon(horizon: number, level: number): void {
  if (!(Number.isInteger(horizon) && horizon >= 1)) throw new Error(`forecast: horizon is ${horizon}, expected an integer >= 1`);
  if (!(level > 0 && level < 1)) throw new Error(`forecast: level is ${level}, expected a number in (0, 1)`);
}

/** w = (1 − B)^d (1 − B^m)^D y (shorter by d + mD). */
export function difference(y: readonly number[], d: number, D = 0, m = 1): number[] {
  let w = [...y];
  for (let i = 0; i < D; i++) w = w.slice(m).map((v, t) => v - w[t]);
  for (let i = 0; i < d; i++) w = w.slice(1).map((v, t) => v - w[t]);
  return w;
}

/** Fits ARIMA(p,d,q)(P,D,Q)_m to y by conditional sum of squares. */
export function fitArima(y: readonly number[], order: ArimaOrder, options: ArimaFitOptions = {}): ArimaModel {
  const o: Required<ArimaOrder> = { P: 0, D: 0, Q: 0, m: 1, ...order };
  for (const key of ['p', 'd', 'q', 'P', 'D', 'Q'] as const) if (!(Number.isInteger(o[key]) && o[key] >= 0)) throw new Error(`fitArima: order.${key} is ${o[key]}, expected an integer >= 0`);
  if (!(Number.isInteger(o.m) && o.m >= 1)) throw new Error(`fitArima: order.m is ${o.m}, expected an integer >= 1`);
  if (o.m === 1 && o.P + o.D + o.Q > 0) throw new Error(`fitArima: seasonal orders (${o.P},${o.D},${o.Q}) need a period order.m > 1, got ${o.m}`);
  for (const [i, v] of y.entries()) if (!Number.isFinite(v)) throw new Error(`fitArima: y[${i}] is ${v}, expected a finite number`);
  const w = difference(y, o.d, o.D, o.m);
  const includeConstant = options.includeConstant ?? o.d + o.D <= 1;
  const lagAR = o.p + o.m * o.P;
  const c = options.conditionOn ?? lagAR;
  if (c < lagAR) throw new Error(`fitArima: conditionOn is ${c}, expected at least p + m·P = ${lagAR}`);
  const k = o.p + o.q + o.P + o.Q + (includeConstant ? 1 : 0);
  if (w.length - c < k + 3) throw new Error(`fitArima: ${y.length} observations leave ${w.length - c} after differencing and conditioning, expected at least ${k + 3} for ${k} parameters`);
  const unpack = (x: ArrayLike<number>) => {
    let i = 0;
    const take = (n: number) => Array.from({ length: n }, () => x[i++]);
    return { phi: take(o.p), theta: take(o.q), sPhi: take(o.P), sTheta: take(o.Q), mu: includeConstant ? x[i] : 0 };
  };
  const wMean = w.reduce((s, v) => s + v, 0) / w.length;
  const wScale = Math.sqrt(w.reduce((s, v) => s + (v - wMean) ** 2, 0) / w.length) || 1;
  const css = (x: ArrayLike<number>): number => {
    const { phi, theta, sPhi, sTheta, mu } = unpack(x);
    if (!isStable(phi) || !isStable(sPhi) || !isStable(theta.map((t) => -t)) || !isStable(sTheta.map((t) => -t))) return Infinity;
    const sse = cssResiduals(w, phi, theta, sPhi, sTheta, o.m, mu * wScale + wMean, c).sse;
    return sse / (wScale * wScale * (w.length - c));
  };
  const x0 = new Array<number>(k).fill(0);
  const fit = k > 0 ? minimiseNumerically(css, x0, 200) : { x: new Float64Array(0), f: css([]) };
  const { phi, theta, sPhi, sTheta, mu } = unpack(fit.x);
  const mean = includeConstant ? mu * wScale + wMean : 0;
  const { sse, e } = cssResiduals(w, phi, theta, sPhi, sTheta, o.m, mean, c);
  const nEffective = w.length - c;
  const sigma2 = sse / nEffective;
  const logLikelihood = -0.5 * nEffective * (Math.log(2 * Math.PI * sigma2) + 1);
  const offset = y.length - w.length;
  const residuals = new Array<number>(y.length).fill(0);
  for (let t = 0; t < e.length; t++) residuals[t + offset] = e[t];
  return new ArimaModel({ order: o, phi, theta, seasonalPhi: sPhi, seasonalTheta: sTheta, mean, includeConstant, sigma2, logLikelihood, nEffective, y: [...y], residuals });
}

/** e_t of the CSS recursion (header) for t ≥ c, and Σ e_t². */
export function cssResiduals(w: readonly number[], phi: number[], theta: number[], sPhi: number[], sTheta: number[], m: number, mu: number, c: number): { e: number[]; sse: number } {
  const ar = multiply(arPolynomial(phi), arPolynomial(sPhi, m)); // 1 − Σ φ*_i B^i
  const ma = multiply(maPolynomial(theta), maPolynomial(sTheta, m)); // 1 + Σ θ*_j B^j
  const e = new Array<number>(w.length).fill(0);
  let sse = 0;
  for (let t = c; t < w.length; t++) {
    let v = w[t] - mu;
    for (let i = 1; i < ar.length; i++) v += ar[i] * (w[t - i] - mu);
    for (let j = 1; j < ma.length && j <= t; j++) v -= ma[j] * e[t - j];
    e[t] = v;
    sse += v * v;
  }
  return { e, sse };
}
