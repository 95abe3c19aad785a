/**
 * A simulated RAG stack: a documented response surface per question category, seeded noise and an
 * optional drift, for demos and tests (R-TUNER-MODES "synthetic workloads"). Pure: no I/O, randomness
 * only from `Rng(seed)`.
 *
 * ## Quality surface (expected F and R of a batch)
 * With the dense share d of the fused ranking (`denseShare`, 0 = BM25 … 1 = dense) and top-k:
 *
 *   m_d = 1 − exp(−(d − d*)² / (2·0.25²))        retrieval mismatch ∈ [0, 1)
 *   m_k = (log2 k − log2 k*)²                     context-size mismatch
 *   F = F* − aF_d·m_d − aF_k·m_k + rerank·ρF + πF[prompt]
 *   R = R* − aR_d·m_d − aR_k·m_k + rerank·ρR + πR[prompt]
 *
 * R is hurt most by the wrong retriever, F by the wrong amount of context (too few passages miss the
 * evidence, too many add distractors). Per-category parameters (`CATEGORY_SURFACES`):
 *
 *   category    d*    k*   re-rank ρ          best prompt        story
 *   policy      1.0   20   +0.04 / +0.05      cite-sources       paraphrased clauses: dense + re-rank + many passages
 *   howto       0.6    8   +0.01 / +0.01      step-by-step       mixed vocabulary: hybrid (B, w≈0.8), numbered steps
 *   definition  0.0    3   −0.02 / −0.01      default            exact terms: BM25, few passages; re-rank drops exact hits
 *
 * (prompt ids: default / cite-sources / step-by-step.) With latency and cost in the reward the
 * reward-optimal configs are: policy B k 9 re-rank w 0 cite-sources; howto B k 5 w 0.8 step-by-step;
 * definition A k 3 w 0 default. So the three categories have different optima and no single static
 * config serves all of them: on every dataset the per-category oracle beats the best static config by
 * ≥ 10% and the default by ≥ 15% (expected reward).
 * The default static config (A, k 8, no re-rank, w 0, default prompt) passes every gate but is only
 * right for `definition` (`simulator.test.ts` checks both numerically, by grid search).
 *
 * ## Latency and cost (per request)
 *   p50 = 200 (generation) + 15 (if BM25 runs) + 35 (if dense runs)
 *         + 2·k (context) + re-rank·(10 + 3·k) + prompt extra (0 / 20 / 40 ms)
 *   per-query latency is log-normal around p50 with σ = 0.15 (p95 ≈ 1.28 × p50);
 *   a query slower than `timeoutMs` (1,000 ms) fails, as does any query with `baseErrorRate`.
 *   cost = $0.5/M input tokens × (250 + 160·k + prompt extra 0/80/40)
 *        + $1.5/M output tokens × (120 / 160 / 240 by prompt) + $0.00002 if dense + re-rank·k·$0.000004
 * so latency and cost grow with k and re-rank, and fusing both retrievers pays for both. The variant's
 * retriever always runs; the other one runs when fusion_weight ≥ 0.02 (`FUSION_OFF_BELOW`: a policy
 * with a squashed-Gaussian head never outputs exactly 0).
 *
 * ## Noise (per batch of n queries, seeded)
 * Per-query scores have std s = 0.10 + 0.5·(quality lost to mismatch); the batch mean is drawn as
 * N(μ, s/√n) clipped to [0, 1] and the reported per-query std as s·(1 + N(0,1)/√(2(n−1))). p50/p95 are
 * drawn from the asymptotic distributions of the sample quantiles of the log-normal. Errors and
 * policy violations are binomial counts. Policy violations: `policy` documents hold personal data;
 * without re-rank, top-k ≥ 24 leaks it with probability 0.001·(k − 23) per answer.
 *
 * ## Drift (optional)
 * `drift: { period, amplitude }` moves every category's optimum with the simulator's clock t (the
 * number of evaluations so far, or `setClock`): d* += amplitude·sin(2πt/period) (clamped to [0, 1]) and
 * log2 k* += 2·amplitude·sin(2πt/period).
 */
import { Rng } from '../../ml/rng';
import { denseShare, type Evaluation, type Evaluator, type RagConfig } from '../types';

export interface CategorySurface {
  /** Optimal dense share d* and top-k k*. */
  dStar: number;
  kStar: number;
  /** Peak F* and R* (before re-rank and prompt effects). */
  fPeak: number;
  rPeak: number;
  /** Loss weights of the retrieval mismatch m_d and of the context mismatch m_k. */
  aFd: number;
  aRd: number;
  aFk: number;
  aRk: number;
  /** Effect of re-ranking on F and R. */
  rerankF: number;
  rerankR: number;
  /** Prompt effects on F and R (missing id: 0). */
  promptF: Record<string, number>;
  promptR: Record<string, number>;
}

export const CATEGORY_SURFACES: Record<string, CategorySurface> = {
  policy: {
    dStar: 1.0, kStar: 20, fPeak: 0.91, rPeak: 0.92,
    aFd: 0.06, aRd: 0.1, aFk: 0.035, aRk: 0.02,
    rerankF: 0.04, rerankR: 0.05,
    promptF: { default: 0, 'cite-sources': 0.04, 'step-by-step': -0.01 },
    promptR: { default: 0, 'cite-sources': 0.02, 'step-by-step': -0.02 },
  },
  howto: {
    dStar: 0.6, kStar: 8, fPeak: 0.88, rPeak: 0.89,
    aFd: 0.06, aRd: 0.1, aFk: 0.03, aRk: 0.015,
    rerankF: 0.01, rerankR: 0.01,
    promptF: { default: 0, 'cite-sources': 0.0, 'step-by-step': 0.08 },
    promptR: { default: 0, 'cite-sources': -0.01, 'step-by-step': 0.06 },
  },
  definition: {
    dStar: 0.0, kStar: 3, fPeak: 0.94, rPeak: 0.93,
    aFd: 0.06, aRd: 0.1, aFk: 0.03, aRk: 0.015,
    rerankF: -0.02, rerankR: -0.01,
    promptF: { default: 0, 'cite-sources': -0.02, 'step-by-step': -0.05 },
    promptR: { default: 0, 'cite-sources': -0.02, 'step-by-step': -0.06 },
  },
};

export const CATEGORIES = Object.keys(CATEGORY_SURFACES);

/** Prompt template effects on latency and tokens (unknown ids cost like `default`). */
const PROMPT_COST: Record<string, { latencyMs: number; inputTokens: number; outputTokens: number }> = {
  default: { latencyMs: 0, inputTokens: 0, outputTokens: 120 },
  'cite-sources': { latencyMs: 20, inputTokens: 80, outputTokens: 160 },
  'step-by-step': { latencyMs: 40, inputTokens: 40, outputTokens: 240 },
};

const D_WIDTH = 0.25;
/** A fusion weight below this skips the other retriever (no latency or cost for it). */
export const FUSION_OFF_BELOW = 0.02;
const LATENCY_SIGMA = 0.15;
const Z95 = 1.6448536269514722;
/** Standard normal density at the 95th percentile: the sample p95's asymptotic sd is √(0.95·0.05)/(φ(z95)·√n) in z units. */
const P95_SD_UNITS = Math.sqrt(0.95 * 0.05) / (Math.exp(-0.5 * Z95 * Z95) / Math.sqrt(2 * Math.PI));

export interface DriftOptions {
  /** Evaluations per full cycle of the optimum. */
  period: number;
  /** Shift of d* (dense-share units) at the peak; log2 k* shifts by twice this. */
  amplitude: number;
}

export interface SimulatorOptions {
  surfaces?: Record<string, CategorySurface>;
  drift?: DriftOptions;
  /** A query slower than this fails (default 1,000 ms). */
  timeoutMs?: number;
  /** Failure probability of any query (default 0.0001). */
  baseErrorRate?: number;
}

/** The noise-free expectation of a batch (what `evaluate` is centred on). */
export interface ExpectedEvaluation extends Evaluation {
  faithfulness_std: number;
  relevancy_std: number;
  policy_violation_rate: number;
}

/**
 * Sampling distributions of one batch's statistics around `expected` (n queries):
 *   F̂ ~ N(F, (s_F · meanSdFactor)²) clipped to [0, 1] (R̂ alike); ŝ = s·(1 + stdRelSd·N(0,1));
 *   log p̂50 ~ N(log p50, logP50Sd²); log p̂95 ~ N(log p95, logP95Sd²); ĉ = c·(1 + costRelSd·N(0,1));
 *   errors ~ Binomial(n, error_rate); violations ~ Binomial(n, policy_violation_rate).
 */
export interface BatchNoise {
  meanSdFactor: number;
  stdRelSd: number;
  logP50Sd: number;
  logP95Sd: number;
  costRelSd: number;
}

export class SimulatedRagEvaluator implements Evaluator {
  readonly name = 'simulator';
  private readonly surfaces: Record<string, CategorySurface>;
  private readonly drift: DriftOptions | undefined;
  private readonly timeoutMs: number;
  private readonly baseErrorRate: number;
  private clock = 0;

  constructor(options: SimulatorOptions = {}) {
    this.surfaces = options.surfaces ?? CATEGORY_SURFACES;
    this.drift = options.drift;
    if (this.drift && !(this.drift.period > 0)) throw new Error(`simulator drift.period must be > 0 evaluations, got ${this.drift.period}`);
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.baseErrorRate = options.baseErrorRate ?? 0.0001;
  }

  get categories(): string[] {
    return Object.keys(this.surfaces);
  }

  /** Evaluations so far (the drift clock). */
  get time(): number {
    return this.clock;
  }

  setClock(t: number): void {
    this.clock = t;
  }

  /** The category's surface at time t (drift applied). */
  surfaceAt(category: string, t: number = this.clock): CategorySurface {
    const s = this.surfaces[category];
    if (!s) throw new Error(`simulator: unknown category ${JSON.stringify(category)} (expected one of ${this.categories.join(', ')})`);
    if (!this.drift) return s;
    const phase = Math.sin((2 * Math.PI * t) / this.drift.period);
    return {
      ...s,
      dStar: Math.min(1, Math.max(0, s.dStar + this.drift.amplitude * phase)),
      kStar: s.kStar * Math.pow(2, 2 * this.drift.amplitude * phase),
    };
  }

  /** The noise-free batch statistics of `config` on `category` at time t. */
  expected(config: RagConfig, category: string, t: number = this.clock): ExpectedEvaluation {
    const s = this.surfaceAt(category, t);
    const d = denseShare(config);
    const k = config.k;
    const md = 1 - Math.exp(-((d - s.dStar) ** 2) / (2 * D_WIDTH * D_WIDTH));
    const mk = (Math.log2(k) - Math.log2(s.kStar)) ** 2;
    const lossF = s.aFd * md + s.aFk * mk;
    const lossR = s.aRd * md + s.aRk * mk;
    const rr = config.rerank ? 1 : 0;
    const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
    const faithfulness = clamp01(s.fPeak - lossF + rr * s.rerankF + (s.promptF[config.prompt_id] ?? 0));
    const relevancy = clamp01(s.rPeak - lossR + rr * s.rerankR + (s.promptR[config.prompt_id] ?? 0));

    const prompt = PROMPT_COST[config.prompt_id] ?? PROMPT_COST.default;
    // The other retriever is queried only when its fusion weight is at least FUSION_OFF_BELOW.
    const fused = config.fusion_weight >= FUSION_OFF_BELOW;
    const usesLexical = config.variant === 'A' || fused;
    const usesDense = config.variant === 'B' || fused;
    const p50 = 200 + (usesLexical ? 15 : 0) + (usesDense ? 35 : 0) + 2 * k + rr * (10 + 3 * k) + prompt.latencyMs;
    const p95 = p50 * Math.exp(LATENCY_SIGMA * Z95);
    const inputTokens = 250 + 160 * k + prompt.inputTokens;
    const cost = 0.5e-6 * inputTokens + 1.5e-6 * prompt.outputTokens + (usesDense ? 0.00002 : 0) + rr * k * 0.000004;
    const pTimeout = 1 - normalCdf(Math.log(this.timeoutMs / p50) / LATENCY_SIGMA);
    const errorRate = Math.min(1, this.baseErrorRate + pTimeout);
    const leak = category === 'policy' && !config.rerank && k >= 24 ? 0.001 * (k - 23) : 0;
    return {
      faithfulness,
      relevancy,
      latency_ms: { p50, p95 },
      cost_usd: cost,
      error_rate: errorRate,
      faithfulness_std: 0.1 + 0.5 * lossF,
      relevancy_std: 0.1 + 0.5 * lossR,
      policy_violation_rate: leak,
    };
  }

  /** One noisy batch; advances the drift clock by one. */
  async evaluate(config: RagConfig, category: string, batchSize: number, seed: number): Promise<Evaluation> {
    return this.evaluateSync(config, category, batchSize, seed);
  }

  /** The batch-level noise model for batches of n queries (what `evaluateSync` draws from). */
  static noise(n: number): BatchNoise {
    return {
      meanSdFactor: 1 / Math.sqrt(n),
      stdRelSd: 1 / Math.sqrt(2 * (n - 1)),
      logP50Sd: LATENCY_SIGMA * Math.sqrt(Math.PI / (2 * n)),
      logP95Sd: (LATENCY_SIGMA * P95_SD_UNITS) / Math.sqrt(n),
      costRelSd: 0.05 / Math.sqrt(n),
    };
  }

  evaluateSync(config: RagConfig, category: string, batchSize: number, seed: number): Evaluation {
    if (!Number.isInteger(batchSize) || batchSize < 2) throw new Error(`simulator batchSize must be an integer ≥ 2, got ${batchSize}`);
    const e = this.expected(config, category, this.clock);
    this.clock += 1;
    const rng = new Rng(seed);
    const n = batchSize;
    const nz = SimulatedRagEvaluator.noise(n);
    const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
    const faithfulness = clamp01(e.faithfulness + e.faithfulness_std * nz.meanSdFactor * rng.normal());
    const relevancy = clamp01(e.relevancy + e.relevancy_std * nz.meanSdFactor * rng.normal());
    const fStd = Math.max(0, e.faithfulness_std * (1 + nz.stdRelSd * rng.normal()));
    const rStd = Math.max(0, e.relevancy_std * (1 + nz.stdRelSd * rng.normal()));
    const p50 = e.latency_ms.p50 * Math.exp(nz.logP50Sd * rng.normal());
    const p95 = e.latency_ms.p95 * Math.exp(nz.logP95Sd * rng.normal());
    const cost = e.cost_usd * (1 + nz.costRelSd * rng.normal());
    const errors = binomial(rng, n, e.error_rate);
    const violations = binomial(rng, n, e.policy_violation_rate);
    return {
      faithfulness,
      relevancy,
      latency_ms: { p50, p95: Math.max(p50, p95) },
      cost_usd: Math.max(0, cost),
      error_rate: errors / n,
      faithfulness_std: fStd,
      relevancy_std: rStd,
      policy_violation_rate: violations / n,
    };
  }
}

/** Exact binomial draw by CDF inversion (fast for the small p used here). */
export function binomial(rng: Rng, n: number, p: number): number {
  if (p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const q = 1 - p;
  let prob = Math.pow(q, n);
  let cdf = prob;
  const u = rng.uniform();
  let k = 0;
  while (u > cdf && k < n) {
    prob *= ((n - k) / (k + 1)) * (p / q);
    k += 1;
    cdf += prob;
  }
  return k;
}

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 on erf, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}
