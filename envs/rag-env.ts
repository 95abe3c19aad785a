/**
 * The RAG-tuning environment (R-TUNER-MDP): an `Environment` the generic PPO trainer learns in.
 *
 * Episode: `reset(seed)` draws one dataset (uniformly from the configured ones) and starts from the
 * static baseline config with an empty rolling window. Each `step(action)` evaluates one batch of
 * `batchSize` questions of one category (drawn from the dataset's category mix; with
 * `categoryStickiness` s the next batch keeps the same category with probability s, which keeps the
 * mix as the stationary distribution) through the evaluator, and returns the R-TUNER-REWARD reward. After
 * `episodeLength` batches the episode is done.
 *
 * Action (R-TUNER-ACTIONS), five parts in this order: `variant` categorical (A|B), `k` integer [3, 32],
 * `rerank` Bernoulli, `fusion_weight` continuous [0, 1], `prompt_id` categorical. The action SETS the
 * config of the next batch (absolute). The seed phrases actions as adjustments (Δk, toggle re-rank,
 * switch variant/template, Δfusion); absolute actions reach any config in one step from any state and
 * make the best action for a category a constant, which is simpler to learn and to serve. A delta
 * policy is this one wrapped as config_t = clip(config_{t−1} + Δ).
 *
 * Observation (`envs/features.ts`): rolling quality/latency/cost, the current config, the corpus
 * metadata of the episode's dataset, and a question category one-hot. `contextual: true` shows the
 * category of the NEXT batch (the one the action will be evaluated on: validation slices are
 * stratified by category, so the tuner knows it); `contextual: false` shows the category of the batch
 * just evaluated (none after reset), so the policy can only guess the next one.
 *
 * Determinism: the same `reset` seed and the same actions give the same episode (dataset, categories,
 * evaluator seeds), provided the evaluator is deterministic in its seed.
 */
import type { Action, ActionSpace, Environment, StepResult } from '../ml/rl/environment';
import { Rng } from '../ml/rng';
import { defaultPolicyConfig, type EnvironmentSection, type PolicyConfig, type PolicySection } from './config';
import { DATASETS, getDataset, validateCategoryMix, type DatasetSpec } from './datasets';
import { FeatureBuilder, type FeatureReference, type ScaledFeature } from './features';
import { computeReward } from './reward';
import type { Evaluation, Evaluator, RagConfig, Variant } from './types';

export interface RagTuningEnvironmentOptions {
  /** Evaluates each batch: simulator, replay or HTTP. */
  evaluator: Evaluator;
  /** Policy config (bounds, thresholds, reward weights, baseline, environment section); default: the defaults file. */
  config?: Pick<PolicyConfig, 'policy' | 'environment'>;
  /** Datasets to draw episodes from (ids of `DATASETS` or specs); default `config.environment.datasets`. */
  datasets?: Array<string | DatasetSpec>;
  /** Category one-hot order; default: the categories of the datasets' mixes in order of first appearance. */
  categories?: string[];
  /** Overrides of `config.environment`. */
  episodeLength?: number;
  batchSize?: number;
  rollingWindow?: number;
  contextual?: boolean;
  categoryStickiness?: number;
  /** Robust-scaling reference of the features (default `DEFAULT_FEATURE_REFERENCE`). */
  reference?: FeatureReference;
  /** Config before the first action (default `policy.baseline`). */
  initialConfig?: RagConfig;
}

/** The R-TUNER-ACTIONS action space for a policy config. */
export function ragActionSpace(policy: Pick<PolicySection, 'bounds' | 'discrete'>): ActionSpace {
  return [
    { kind: 'categorical', name: 'variant', choices: [...policy.discrete.variant] },
    { kind: 'integer', name: 'k', min: policy.bounds.k.min, max: policy.bounds.k.max },
    { kind: 'bernoulli', name: 'rerank' },
    { kind: 'continuous', name: 'fusion_weight', min: policy.bounds.fusion_weight.min, max: policy.bounds.fusion_weight.max },
    { kind: 'categorical', name: 'prompt_id', choices: [...policy.discrete.prompt_id] },
  ];
}

/**
 * Decodes an action into a config, checking every part. `rerank` may be a boolean or 0/1;
 * `fusion_weight` is clipped into its bounds (a squashed Gaussian sample may touch them); `k` must
 * be an integer within bounds.
 */
export function actionToConfig(action: Action, policy: Pick<PolicySection, 'bounds' | 'discrete'>): RagConfig {
  if (action === null || typeof action !== 'object') throw new Error(`action must be an object with variant, k, rerank, fusion_weight, prompt_id; got ${JSON.stringify(action)}`);
  const { variant, k, rerank, fusion_weight, prompt_id } = action;
  if (typeof variant !== 'string' || !policy.discrete.variant.includes(variant)) {
    throw new Error(`action.variant must be one of ${policy.discrete.variant.join(', ')}, got ${JSON.stringify(variant)}`);
  }
  const kb = policy.bounds.k;
  if (typeof k !== 'number' || !Number.isInteger(k) || k < kb.min || k > kb.max) {
    throw new Error(`action.k must be an integer in [${kb.min}, ${kb.max}], got ${JSON.stringify(k)}`);
  }
  let rr: boolean;
  if (typeof rerank === 'boolean') rr = rerank;
  else if (rerank === 0 || rerank === 1) rr = rerank === 1;
  else throw new Error(`action.rerank must be true/false (or 1/0), got ${JSON.stringify(rerank)}`);
  const fb = policy.bounds.fusion_weight;
  if (typeof fusion_weight !== 'number' || !Number.isFinite(fusion_weight)) {
    throw new Error(`action.fusion_weight must be a number in [${fb.min}, ${fb.max}], got ${JSON.stringify(fusion_weight)}`);
  }
  if (typeof prompt_id !== 'string' || !policy.discrete.prompt_id.includes(prompt_id)) {
    throw new Error(`action.prompt_id must be one of ${policy.discrete.prompt_id.join(', ')}, got ${JSON.stringify(prompt_id)}`);
  }
  return { variant: variant as Variant, k, rerank: rr, fusion_weight: Math.min(fb.max, Math.max(fb.min, fusion_weight)), prompt_id };
}

/** A config as an action (the inverse of `actionToConfig`). */
export function configToAction(config: RagConfig): Action {
  return { variant: config.variant, k: config.k, rerank: config.rerank, fusion_weight: config.fusion_weight, prompt_id: config.prompt_id };
}

export class RagTuningEnvironment implements Environment {
  readonly observationSize: number;
  readonly actionSpace: ActionSpace;
  readonly categories: string[];
  readonly datasets: DatasetSpec[];
  readonly settings: Pick<EnvironmentSection, 'episode_length' | 'batch_size' | 'rolling_window' | 'contextual' | 'category_stickiness'>;
  private readonly policy: PolicySection;
  private readonly features: FeatureBuilder;
  private readonly evaluator: Evaluator;
  private readonly initialConfig: RagConfig;

  private rng: Rng | null = null;
  private dataset: DatasetSpec | null = null;
  private config: RagConfig;
  private history: Evaluation[] = [];
  private t = 0;
  private nextCategory = '';
  private lastCategory: string | null = null;

  constructor(options: RagTuningEnvironmentOptions) {
    const config = options.config ?? defaultPolicyConfig();
    this.policy = config.policy;
    this.evaluator = options.evaluator;
    const env = config.environment;
    this.settings = {
      episode_length: options.episodeLength ?? env.episode_length,
      batch_size: options.batchSize ?? env.batch_size,
      rolling_window: options.rollingWindow ?? env.rolling_window,
      contextual: options.contextual ?? env.contextual,
      category_stickiness: options.categoryStickiness ?? env.category_stickiness,
    };
    const positiveInt = (name: string, v: number) => {
      if (!Number.isInteger(v) || v < 1) throw new Error(`RagTuningEnvironment ${name} must be an integer ≥ 1, got ${v}`);
    };
    positiveInt('episodeLength', this.settings.episode_length);
    positiveInt('batchSize', this.settings.batch_size);
    positiveInt('rollingWindow', this.settings.rolling_window);
    if (!(this.settings.category_stickiness >= 0 && this.settings.category_stickiness <= 1)) {
      throw new Error(`RagTuningEnvironment categoryStickiness must be in [0, 1], got ${this.settings.category_stickiness}`);
    }
    this.datasets = (options.datasets ?? env.datasets).map((d) => (typeof d === 'string' ? getDataset(d) : d));
    if (this.datasets.length === 0) throw new Error(`RagTuningEnvironment needs at least one dataset (known: ${Object.keys(DATASETS).join(', ')})`);
    const seen: string[] = [];
    for (const d of this.datasets) for (const c of Object.keys(d.categoryMix)) if (!seen.includes(c)) seen.push(c);
    this.categories = options.categories ?? seen;
    for (const d of this.datasets) validateCategoryMix(d.id, d.categoryMix, this.categories);
    this.initialConfig = options.initialConfig ?? { ...(this.policy.baseline as RagConfig) };
    this.config = { ...this.initialConfig };
    this.actionSpace = ragActionSpace(this.policy);
    this.features = new FeatureBuilder({
      policy: this.policy,
      categories: this.categories,
      rollingWindow: this.settings.rolling_window,
      maxCorpusAgeDays: env.max_corpus_age_days,
      reference: options.reference,
    });
    this.observationSize = this.features.size;
  }

  /** Feature names in observation order. */
  get featureNames(): string[] {
    return this.features.names;
  }

  /** The dataset of the current episode (after `reset`). */
  get currentDataset(): DatasetSpec | null {
    return this.dataset;
  }

  /** The category the next step will be evaluated on (known to the environment, shown only if contextual). */
  get upcomingCategory(): string {
    return this.nextCategory;
  }

  get currentConfig(): RagConfig {
    return { ...this.config };
  }

  reset(seed: number): Float64Array {
    this.rng = new Rng(seed);
    this.dataset = this.datasets[this.rng.int(this.datasets.length)];
    this.config = { ...this.initialConfig };
    this.history = [];
    this.t = 0;
    this.lastCategory = null;
    this.nextCategory = this.drawCategory(null);
    return this.observe();
  }

  async step(action: Action): Promise<StepResult> {
    if (!this.rng || !this.dataset) throw new Error('RagTuningEnvironment.step called before reset(seed)');
    if (this.t >= this.settings.episode_length) throw new Error(`RagTuningEnvironment.step called after the episode ended (${this.settings.episode_length} steps); call reset(seed)`);
    const config = actionToConfig(action, this.policy);
    const category = this.nextCategory;
    const evalSeed = this.rng.nextUint32();
    const evaluation = await this.evaluator.evaluate(config, category, this.settings.batch_size, evalSeed);
    const result = computeReward(evaluation, this.policy);
    this.config = config;
    this.history.push(evaluation);
    if (this.history.length > this.settings.rolling_window) this.history.shift();
    this.t += 1;
    this.lastCategory = category;
    this.nextCategory = this.drawCategory(category);
    const done = this.t >= this.settings.episode_length;
    return {
      observation: this.observe(),
      reward: result.reward,
      done,
      info: {
        step: this.t,
        dataset: this.dataset.id,
        category,
        config,
        faithfulness: evaluation.faithfulness,
        relevancy: evaluation.relevancy,
        latency_p50_ms: evaluation.latency_ms.p50,
        latency_p95_ms: evaluation.latency_ms.p95,
        cost_usd: evaluation.cost_usd,
        error_rate: evaluation.error_rate,
        latency_hat: result.latencyHat,
        cost_hat: result.costHat,
        penalty: result.penalty,
        penalties: result.penalties,
        gates: result.gates,
      },
    };
  }

  private drawCategory(previous: string | null): string {
    const rng = this.rng!;
    // Always draw both numbers so the stream does not depend on the stickiness branch.
    const stay = rng.uniform() < this.settings.category_stickiness;
    const mix = this.dataset!.categoryMix;
    const drawn = this.categoryIndex(rng.categorical(this.categories.map((c) => mix[c] ?? 0)));
    return previous !== null && stay ? previous : drawn;
  }

  private categoryIndex(i: number): string {
    return this.categories[i];
  }

  /** The unscaled values of the robust-scaled features of the current state (to fit a reference). */
  rawFeatures(): Record<ScaledFeature, number> {
    if (!this.dataset) throw new Error('RagTuningEnvironment.rawFeatures called before reset(seed)');
    return this.features.rawScaled({ history: this.history, config: this.config, corpus: this.dataset.corpus, category: null });
  }

  private observe(): Float64Array {
    return this.features.build({
      history: this.history,
      config: this.config,
      corpus: this.dataset!.corpus,
      category: this.settings.contextual ? this.nextCategory : this.lastCategory,
    });
  }
}
