/**
 * Automatic ARIMA order selection in the spirit of Hyndman & Khandakar ("Automatic Time Series
 * Forecasting: the forecast Package for R", J. Stat. Software 27(3), 2008):
 *
 *   1. D ∈ {0, 1}: seasonal differencing when the seasonal strength of a classical additive
 *      decomposition F_S = max(0, 1 − Var(R)/Var(S + R)) exceeds 0.64 (Wang, Smith & Hyndman 2006);
 *   2. d ∈ {0, …, maxD}: difference while the KPSS test rejects level stationarity at 5%;
 *   3. (p, q, P, Q, constant) by the paper's stepwise search (default): start from the best of
 *      (2,d,2)(1,D,1), (0,d,0)(0,D,0), (1,d,0)(1,D,0), (0,d,1)(0,D,1), then move to any neighbour with
 *      a smaller AICc (one of p, q, P, Q changed by ±1, p and q or P and Q together by ±1, the
 *      constant toggled) until none is better; or an exhaustive search of the grid. Every candidate is
 *      fitted by CSS conditioned on the same c = maxP + m·maxSeasonalP observations. As in the paper, a candidate with an AR or MA root
 *      within 1.01 of the unit circle is rejected (CSS rewards MA roots on the circle: e_t = 0 before
 *      the start is then never forgotten). Roots of P(z) lie outside radius r iff those of P(rz)
 *      lie outside the unit circle, so the step-down test runs on the coefficients c_i rⁱ.
 *   4. (AICc only, `parsimony`) from the minimum, step down to a fitted model nested in it while each
 *      parameter dropped cost less than 2 units of AICc (Arnold 2010): plain AICc keeps a spurious lag
 *      about half the time on n = 300 (bench/optimisers.ts, order recovery).
 */
import { ArimaModel, difference, fitArima } from './arima';
import { arPolynomial, isStable, maPolynomial, multiply } from './polynomial';

export interface AutoArimaOptions {
  /** Seasonal period m (1: non-seasonal). */
  m?: number;
  maxP?: number;
  maxQ?: number;
  maxSeasonalP?: number;
  maxSeasonalQ?: number;
  maxD?: number;
  /**
   * The criterion minimised: 'aicc' (default, as Hyndman & Khandakar: best for forecasting, but it
   * adds a spurious parameter now and then) or 'bic' (consistent: better at recovering the true order).
   */
  criterion?: 'aicc' | 'bic';
  /**
   * Uninformative-parameter margin (Arnold, "Uninformative parameters and model selection using
   * Akaike's Information Criterion", J. Wildlife Management 74(6), 2010): the selected model is
   * replaced by a fitted model nested in it (fewer AR/MA/seasonal terms, no constant it lacks) whose
   * criterion is worse by less than `parsimony` per dropped parameter, repeatedly, smallest first.
   * AIC's penalty of 2 per parameter lets a useless parameter in about one time in six; requiring each
   * to earn 2 more (a likelihood-ratio test near 5 %) keeps them out. Default 2 with AICc, 0 with BIC.
   */
  parsimony?: number;
  /** 'stepwise' (Hyndman & Khandakar, default) or 'exhaustive' over the whole grid. */
  search?: 'stepwise' | 'exhaustive';
  /** Fix d or D instead of testing for them. */
  d?: number;
  D?: number;
}

export interface AutoArimaResult {
  model: ArimaModel;
  /** Every candidate fitted with its criterion value (AICc or BIC; Infinity when rejected), best first. */
  candidates: { name: string; score: number }[];
}

/** KPSS critical value for level stationarity at 5% (Kwiatkowski et al. 1992, Table 1). */
export const KPSS_CRITICAL_5 = 0.463;

/**
 * KPSS statistic for level stationarity (Kwiatkowski, Phillips, Schmidt & Shin, J. Econometrics 1992):
 *   e_t = y_t − ȳ,  S_t = Σ_{i≤t} e_i,  η = Σ_t S_t² / (n² s²(l)),
 *   s²(l) = (1/n) Σ e_t² + (2/n) Σ_{s=1}^{l} (1 − s/(l+1)) Σ_{t>s} e_t e_{t−s},   l = ⌊4 (n/100)^{1/4}⌋.
 */
export function kpssStatistic(y: readonly number[]): number {
  const n = y.length;
  const mean = y.reduce((s, v) => s + v, 0) / n;
  const e = y.map((v) => v - mean);
  let partial = 0;
  let sumS2 = 0;
  for (const v of e) {
    partial += v;
    sumS2 += partial * partial;
  }
  const l = Math.floor(4 * Math.pow(n / 100, 0.25));
  let s2 = e.reduce((s, v) => s + v * v, 0) / n;
  for (let lag = 1; lag <= l; lag++) {
    let acc = 0;
    for (let t = lag; t < n; t++) acc += e[t] * e[t - lag];
    s2 += (2 / n) * (1 - lag / (l + 1)) * acc;
  }
  return s2 > 0 ? sumS2 / (n * n * s2) : 0;
}

/**
 * F_S = max(0, 1 − Var(R)/Var(S + R)) from a classical additive decomposition: trend T by the
 * centred 2×m moving average, seasonal S the mean of y − T per season (centred to sum 0), R = y − T − S.
 */
export function seasonalStrength(y: readonly number[], m: number): number {
  const n = y.length;
  if (m < 2 || n < 2 * m + 1) return 0;
  const half = Math.floor(m / 2);
  const trend = new Array<number>(n).fill(NaN);
  for (let t = half; t < n - half; t++) {
    let s = 0;
    if (m % 2 === 0) {
      for (let j = -half; j <= half; j++) s += (Math.abs(j) === half ? 0.5 : 1) * y[t + j];
    } else {
      for (let j = -half; j <= half; j++) s += y[t + j];
    }
    trend[t] = s / m;
  }
  const sums = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = 0; t < n; t++) if (!Number.isNaN(trend[t])) { sums[t % m] += y[t] - trend[t]; counts[t % m]++; }
  const season = sums.map((s, i) => s / Math.max(counts[i], 1));
  const centre = season.reduce((a, b) => a + b, 0) / m;
  const detrended: number[] = [];
  const remainder: number[] = [];
  for (let t = 0; t < n; t++) {
    if (Number.isNaN(trend[t])) continue;
    detrended.push(y[t] - trend[t]);
    remainder.push(y[t] - trend[t] - (season[t % m] - centre));
  }
  const variance = (v: number[]) => { const mu = v.reduce((a, b) => a + b, 0) / v.length; return v.reduce((a, b) => a + (b - mu) ** 2, 0) / v.length; };
  const vSR = variance(detrended);
  return vSR > 0 ? Math.max(0, 1 - variance(remainder) / vSR) : 0;
}

/** Whether φ*(z) or θ*(z) has a root of modulus below UNIT_ROOT_RADIUS. */
export function hasNearUnitRoot(model: ArimaModel): boolean {
  const m = model.order.m;
  const ar = multiply(arPolynomial(model.phi), arPolynomial(model.seasonalPhi, m));
  const ma = multiply(maPolynomial(model.theta), maPolynomial(model.seasonalTheta, m));
  const scaled = (poly: number[], sign: number) => poly.slice(1).map((c, i) => sign * c * Math.pow(UNIT_ROOT_RADIUS, i + 1));
  return !isStable(scaled(ar, -1), 0) || !isStable(scaled(ma, 1), 0);
}
export const UNIT_ROOT_RADIUS = 1.01;

interface Candidate { p: number; q: number; P: number; Q: number; constant: boolean }

/** The stepwise moves of Hyndman & Khandakar (2008, §3.2). */
function neighbours(o: Candidate): Candidate[] {
  const out: Candidate[] = [];
  for (const [dp, dq] of [[1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1]]) {
    out.push({ ...o, p: o.p + dp, q: o.q + dq });
    out.push({ ...o, P: o.P + dp, Q: o.Q + dq });
  }
  out.push({ ...o, constant: !o.constant });
  return out;
}

export function autoArima(y: readonly number[], options: AutoArimaOptions = {}): AutoArimaResult {
  const m = options.m ?? 1;
  const maxP = options.maxP ?? 3;
  const maxQ = options.maxQ ?? 3;
  const maxSP = m > 1 ? options.maxSeasonalP ?? 1 : 0;
  const maxSQ = m > 1 ? options.maxSeasonalQ ?? 1 : 0;
  const maxD = options.maxD ?? 2;
  if (!(Number.isInteger(m) && m >= 1)) throw new Error(`autoArima: m is ${m}, expected an integer >= 1`);
  const D = options.D ?? (m > 1 && seasonalStrength(y, m) > 0.64 ? 1 : 0);
  let d = options.d ?? 0;
  if (options.d === undefined) {
    while (d < maxD && kpssStatistic(difference(y, d, D, m)) > KPSS_CRITICAL_5) d++;
  }
  const criterion = options.criterion ?? 'aicc';
  if (criterion !== 'aicc' && criterion !== 'bic') throw new Error(`autoArima: criterion is ${JSON.stringify(criterion)}, expected "aicc" or "bic"`);
  const c = maxP + m * maxSP;
  const candidates: { name: string; score: number; model?: ArimaModel }[] = [];
  const seen = new Map<string, number>();
  const tryOrder = (o: Candidate): number => {
    const key = `${o.p},${o.q},${o.P},${o.Q},${o.constant}`;
    const known = seen.get(key);
    if (known !== undefined) return known;
    let score = Infinity;
    if (o.p >= 0 && o.q >= 0 && o.P >= 0 && o.Q >= 0 && o.p <= maxP && o.q <= maxQ && o.P <= maxSP && o.Q <= maxSQ && (!o.constant || d + D <= 1)) {
      try {
        const model = fitArima(y, { p: o.p, d, q: o.q, P: o.P, D, Q: o.Q, m }, { includeConstant: o.constant, conditionOn: c });
        score = hasNearUnitRoot(model) ? Infinity : criterion === 'bic' ? model.bic : model.aicc;
        candidates.push({ name: model.name, score, model });
      } catch (error) {
        if (!(error instanceof Error) || !error.message.includes('observations leave')) throw error;
      }
    }
    seen.set(key, score);
    return score;
  };
  const constants = d + D <= 1 ? [true, false] : [false];
  if ((options.search ?? 'stepwise') === 'exhaustive') {
    for (let p = 0; p <= maxP; p++) for (let q = 0; q <= maxQ; q++) for (let P = 0; P <= maxSP; P++) for (let Q = 0; Q <= maxSQ; Q++) for (const constant of constants) tryOrder({ p, q, P, Q, constant });
  } else {
    const seasonal = m > 1 ? 1 : 0;
    const constant = d + D <= 1;
    const starts: Candidate[] = [
      { p: Math.min(2, maxP), q: Math.min(2, maxQ), P: Math.min(seasonal, maxSP), Q: Math.min(seasonal, maxSQ), constant },
      { p: 0, q: 0, P: 0, Q: 0, constant },
      { p: Math.min(1, maxP), q: 0, P: Math.min(seasonal, maxSP), Q: 0, constant },
      { p: 0, q: Math.min(1, maxQ), P: 0, Q: Math.min(seasonal, maxSQ), constant },
    ];
    if (constant) starts.push({ p: 0, q: 0, P: 0, Q: 0, constant: false });
    let best = starts[0];
    let bestAicc = Infinity;
    for (const o of starts) { const a = tryOrder(o); if (a < bestAicc) { best = o; bestAicc = a; } }
    for (let step = 0; step < 100; step++) {
      let moved = false;
      for (const o of neighbours(best)) {
        const a = tryOrder(o);
        if (a < bestAicc) { best = o; bestAicc = a; moved = true; break; }
      }
      if (!moved) break;
    }
  }
  candidates.sort((a, b) => a.score - b.score);
  let best = candidates[0];
  if (!best || !best.model || !Number.isFinite(best.score)) throw new Error(`autoArima: no candidate order could be fitted to ${y.length} observations (d = ${d}, D = ${D}, m = ${m}); expected a longer series`);
  const parsimony = options.parsimony ?? (criterion === 'aicc' ? 2 : 0);
  if (!(Number.isFinite(parsimony) && parsimony >= 0)) throw new Error(`autoArima: parsimony is ${parsimony}, expected a number >= 0`);
  // Uninformative parameters (Arnold 2010): step down to a fitted model nested in the best one while
  // each parameter it drops improved the criterion by less than `parsimony`.
  for (let moved = parsimony > 0; moved;) {
    moved = false;
    const b = best.model!;
    const size = (x: ArimaModel) => x.phi.length + x.theta.length + x.seasonalPhi.length + x.seasonalTheta.length + (x.includeConstant ? 1 : 0);
    // The stepwise search may not have fitted every smaller neighbour of the best: fit them now.
    const here: Candidate = { p: b.phi.length, q: b.theta.length, P: b.seasonalPhi.length, Q: b.seasonalTheta.length, constant: b.includeConstant };
    for (const o of neighbours(here)) if (o.p + o.q + o.P + o.Q + (o.constant ? 1 : 0) < size(b)) tryOrder(o);
    let simpler: (typeof candidates)[number] | undefined;
    for (const c of candidates) {
      const x = c.model;
      if (!x || !Number.isFinite(c.score) || x === b) continue;
      const nested = x.phi.length <= b.phi.length && x.theta.length <= b.theta.length && x.seasonalPhi.length <= b.seasonalPhi.length
        && x.seasonalTheta.length <= b.seasonalTheta.length && (!x.includeConstant || b.includeConstant);
      const dropped = size(b) - size(x);
      if (!nested || dropped < 1 || c.score - best.score >= parsimony * dropped) continue;
      if (!simpler || size(x) < size(simpler.model!) || (size(x) === size(simpler.model!) && c.score < simpler.score)) simpler = c;
    }
    if (simpler) { best = simpler; moved = true; }
  }
  candidates.sort((a, b) => a.score - b.score);
  return { model: best.model!, candidates: candidates.map(({ name, score }) => ({ name, score })) };
}
