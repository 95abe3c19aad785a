/**
 * The decision log's vocabulary: a logged decision, its reward, and what the readers get back.
 * `Json` is the registry's (one JSON type for the whole project).
 */
import type { Json } from '../registry/types';
import type { ConflictError, NotFoundError, ValidationError } from '../registry/errors';

/** One logged decision (a row of `decisions`). */
export interface DecisionInput {
  /** uuid, chosen by the server; the reward refers to it. */
  decisionId: string;
  time: Date;
  deployment: string;
  model: string;
  /** null when the fallback action was served. */
  version: number | null;
  generation?: number | null;
  /** champion | canary | fallback | shadow | a bandit arm */
  arm: string;
  features: Json;
  /**
   * The JSON text of `features` when the caller already holds it (the decide request's own text of
   * them): the decision line carries it as is instead of serializing `features` again, so COPY and
   * INSERT both store this text. Must parse to `features`.
   */
  featuresJson?: string;
  action: Json;
  /**
   * `JSON.stringify(action)`, when the caller made it anyway (decide answers with it): the decision
   * line carries it instead of serializing `action` again. Must be exactly that text.
   */
  actionJson?: string;
  /** Probability of the discrete action under the serving policy, [0, 1] (OBP's pscore). */
  propensity?: number | null;
  /** Density of the continuous parts of the action, >= 0. */
  density?: number | null;
  unit?: string | null;
  latencyMs?: number | null;
  metadata?: Json | null;
  /** The API key that asked for the decision (inference/auth/); null or absent without auth. */
  keyId?: string | null;
}

/** The fields one deployment generation's arm shares across its decisions (see `decisionLineArmFields`). */
export type ArmFields = Pick<DecisionInput, 'deployment' | 'model' | 'version' | 'generation' | 'arm'>;

export interface RewardInput {
  decisionId: string;
  reward: number;
  components?: Record<string, number> | null;
  time?: Date;
}

/** The outcome of one reward of `insertRewards`: recorded now, the same reward already stored, or refused. */
export type RewardInsertOutcome = { inserted: boolean } | { error: ValidationError | ConflictError | NotFoundError };

export interface InsertRewardsOptions {
  /**
   * Records a reward only when its decision is in `decisions` (or a reward of it is stored already: then
   * the same again / a different one as usual); otherwise its outcome is a NotFoundError('decision', id).
   * Default false: rewards may arrive before their decision row (the table has no foreign key).
   */
  requireDecision?: boolean;
}

export interface DecisionWithReward extends Required<Omit<DecisionInput, 'featuresJson' | 'actionJson' | 'keyId'>> {
  reward: number | null;
  rewardComponents: Record<string, number> | null;
  rewardTime: Date | null;
}

export interface DecisionWindowQuery {
  deployment: string;
  /** Inclusive. */
  from: Date;
  /** Exclusive. */
  to: Date;
  /** `nextCursor` of the previous page; omit for the first. */
  cursor?: string | null;
  /** Rows per page, 1..50000 (default 5000). */
  limit?: number;
  arm?: string;
  version?: number;
  /** Only decisions that have a reward. */
  rewardedOnly?: boolean;
}

export interface DecisionPage {
  rows: DecisionWithReward[];
  /** Pass back as `cursor` for the next page; null when this was the last. */
  nextCursor: string | null;
}
