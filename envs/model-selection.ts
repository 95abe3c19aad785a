/**
 * Seed 001's headline use case as a simulator: choose the LLM per request (cheap, mid, premium) so that
 * cost falls while quality holds. Each simulated request has a task category, a prompt whose words
 * give the category away (so features computed from the raw text can see it: the server's feature set
 * configs/features/model-selection.yaml), a hidden difficulty and
 * a token count; each model answers well with a probability that falls with difficulty, steeply for the
 * cheap one, barely for the premium one, and costs its price per token. On easy requests (chat,
 * extraction) the cheap model is about as good as the premium one at a small fraction of its cost; on
 * hard ones (code, maths) only the premium model is good enough.
 *
 * Everything is seeded; the counterfactual of every request (each model's expected quality and cost)
 * is known, which is what lets the demo say how much was saved and how much quality was kept against
 * always using the premium model.
 */
import { Rng } from '../ml/rng';

export const MODEL_SELECTION_ARMS = ['cheap', 'mid', 'premium'] as const;
export type ModelArm = (typeof MODEL_SELECTION_ARMS)[number];

export const TASK_CATEGORIES = ['chat', 'extract', 'summarise', 'code', 'math'] as const;
export type TaskCategory = (typeof TASK_CATEGORIES)[number];

interface ModelProfile {
  /** USD per 1M tokens (input and output together, for simplicity). */
  usdPerMillionTokens: number;
  /** Expected quality q(d) = top − slope · d^power for difficulty d ∈ [0, 1]. */
  top: number;
  slope: number;
  power: number;
}

/** The three arms: prices in the ratio of today's small/medium/large hosted models. */
export const MODEL_PROFILES: Readonly<Record<ModelArm, ModelProfile>> = {
  cheap: { usdPerMillionTokens: 0.4, top: 0.95, slope: 0.8, power: 3 },
  mid: { usdPerMillionTokens: 2, top: 0.95, slope: 0.2, power: 2 },
  premium: { usdPerMillionTokens: 10, top: 0.955, slope: 0.05, power: 2 },
};

interface CategoryProfile {
  share: number;
  /** Mean difficulty and its spread. */
  difficulty: number;
  /** Mean tokens of prompt + answer. */
  tokens: number;
  /** Words that prompts of this category use. */
  words: readonly string[];
}

const CATEGORIES: Readonly<Record<TaskCategory, CategoryProfile>> = {
  chat: { share: 0.3, difficulty: 0.12, tokens: 500, words: ['hi', 'thanks', 'please', 'tell', 'me', 'about', 'your', 'day', 'recommend', 'a', 'good'] },
  extract: { share: 0.12, difficulty: 0.18, tokens: 900, words: ['extract', 'the', 'fields', 'from', 'invoice', 'json', 'name', 'date', 'total', 'list'] },
  summarise: { share: 0.2, difficulty: 0.4, tokens: 1600, words: ['summarise', 'summarize', 'this', 'article', 'report', 'in', 'three', 'bullet', 'points', 'tl;dr'] },
  code: { share: 0.23, difficulty: 0.72, tokens: 1400, words: ['write', 'function', 'python', 'typescript', 'bug', 'fix', 'refactor', 'class', 'def', 'compile', '{', '}'] },
  math: { share: 0.15, difficulty: 0.8, tokens: 1000, words: ['prove', 'solve', 'equation', 'integral', 'derivative', 'probability', 'x', '=', '+', 'theorem'] },
};

export interface ModelSelectionRequest {
  id: number;
  tenant: string;
  category: TaskCategory;
  prompt: string;
  /** Hidden from the policy: what the answer's quality depends on. */
  difficulty: number;
  tokens: number;
}

export interface ArmOutcome {
  expectedQuality: number;
  costUsd: number;
}

export interface ModelSelectionOutcome extends ArmOutcome {
  /**
   * The answer's quality score in [0, 1] as a grader (an LLM judge, a rubric) reports it: the expected
   * quality plus the grader's noise (sd 0.05), clipped.
   */
  quality: number;
}

/** The grader's noise (standard deviation of a quality score around the answer's expected quality). */
export const QUALITY_NOISE_SD = 0.05;

const TENANTS = ['acme', 'globex', 'initech', 'umbrella'];

export class ModelSelectionSimulator {
  private readonly rng: Rng;
  private readonly shares: number[];
  private n = 0;

  constructor(seed: number) {
    this.rng = new Rng(seed);
    this.shares = TASK_CATEGORIES.map((c) => CATEGORIES[c].share);
  }

  /** The next request of the stream. */
  next(): ModelSelectionRequest {
    const category = TASK_CATEGORIES[this.rng.categorical(this.shares)];
    const p = CATEGORIES[category];
    const difficulty = Math.min(1, Math.max(0, p.difficulty + 0.1 * this.rng.normal()));
    const tokens = Math.max(50, Math.round(p.tokens * Math.exp(0.35 * this.rng.normal())));
    const nWords = 6 + this.rng.int(20);
    const words = Array.from({ length: nWords }, () => p.words[this.rng.int(p.words.length)]);
    return { id: this.n++, tenant: TENANTS[this.rng.int(TENANTS.length)], category, prompt: words.join(' '), difficulty, tokens };
  }

  /** What arm `arm` gives on `req`: the quality draw uses this simulator's stream. */
  answer(req: ModelSelectionRequest, arm: ModelArm): ModelSelectionOutcome {
    const o = armOutcome(req, arm);
    return { ...o, quality: Math.min(1, Math.max(0, o.expectedQuality + QUALITY_NOISE_SD * this.rng.normal())) };
  }
}

/** The expected quality and the cost of `arm` on `req` (no randomness: the counterfactual). */
export function armOutcome(req: ModelSelectionRequest, arm: ModelArm): ArmOutcome {
  const m = MODEL_PROFILES[arm];
  if (m === undefined) throw new Error(`arm: got ${JSON.stringify(arm)}, expected one of ${MODEL_SELECTION_ARMS.join(', ')}`);
  return { expectedQuality: m.top - m.slope * req.difficulty ** m.power, costUsd: (req.tokens * m.usdPerMillionTokens) / 1e6 };
}

export interface LedgerSnapshot {
  requests: number;
  costUsd: number;
  premiumCostUsd: number;
  costSaved: number;
  meanQuality: number;
  premiumMeanQuality: number;
  qualityKept: number;
  /** Mean of the graded scores (realised quality). */
  meanScore: number;
  byArm: Record<ModelArm, number>;
}

/** Running totals of a policy against "always premium" on the same requests. */
export class SavingsLedger {
  requests = 0;
  costUsd = 0;
  premiumCostUsd = 0;
  expectedQuality = 0;
  premiumExpectedQuality = 0;
  qualitySum = 0;
  readonly byArm: Record<ModelArm, number> = { cheap: 0, mid: 0, premium: 0 };

  add(req: ModelSelectionRequest, arm: ModelArm, outcome: ModelSelectionOutcome): void {
    const premium = armOutcome(req, 'premium');
    this.requests++;
    this.byArm[arm]++;
    this.costUsd += outcome.costUsd;
    this.premiumCostUsd += premium.costUsd;
    this.expectedQuality += outcome.expectedQuality;
    this.premiumExpectedQuality += premium.expectedQuality;
    this.qualitySum += outcome.quality;
  }

  /** 1 − cost / cost of always premium. */
  get costSaved(): number {
    return this.premiumCostUsd > 0 ? 1 - this.costUsd / this.premiumCostUsd : 0;
  }

  /** Expected quality of the choices / expected quality of always premium. */
  get qualityKept(): number {
    return this.premiumExpectedQuality > 0 ? this.expectedQuality / this.premiumExpectedQuality : 0;
  }

  toJSON(): LedgerSnapshot {
    return {
      requests: this.requests, costUsd: this.costUsd, premiumCostUsd: this.premiumCostUsd, costSaved: this.costSaved,
      meanQuality: this.requests ? this.expectedQuality / this.requests : 0,
      premiumMeanQuality: this.requests ? this.premiumExpectedQuality / this.requests : 0,
      qualityKept: this.qualityKept, meanScore: this.requests ? this.qualitySum / this.requests : 0, byArm: { ...this.byArm },
    };
  }
}

/** The best arm for `req` under reward = quality − costWeight · cost (what a perfect router picks). */
export function oracleArm(req: ModelSelectionRequest, costWeight: number): ModelArm {
  let best: ModelArm = 'premium';
  let bestValue = -Infinity;
  for (const arm of MODEL_SELECTION_ARMS) {
    const o = armOutcome(req, arm);
    const v = o.expectedQuality - costWeight * o.costUsd;
    if (v > bestValue) [best, bestValue] = [arm, v];
  }
  return best;
}
