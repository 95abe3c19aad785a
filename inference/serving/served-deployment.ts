/**
 * The one contract every served kind implements (KServe's model repository is the model: the server
 * looks a deployment up by name once and calls its methods; it never branches on the kind after that).
 *
 * - a `ServedDeployment` is what one deployment name serves at one moment: it decides, labels its
 *   metric series, and releases what only it holds when it leaves the map;
 * - a `ServedKind` is one row of the kind table (./kinds.ts): it loads a registry `Deployment` of its
 *   kind into a ServedDeployment (keeping the current one when nothing changed or the new one cannot
 *   load), and, optionally, settles the rewards of its decisions itself.
 */
import type { Deployment, DeploymentKind } from '../../registry/types';
import type { ANSWER_LATER, PARSE_BODY, RequestContext } from '../http/server';
import type { RewardItem, RewardItemResult } from '../rewards/body';

/**
 * A decide body the scanner read without JSON.parse (handlers/decide-body.ts writes it; its
 * ScannedDecideBody has this shape): the features are `count` numbers in the route's scratch array.
 */
export interface ScannedDecide {
  readonly deployment: string;
  /** The `unit` member as sent (not yet checked as a key), or undefined when absent. */
  readonly unit: string | undefined;
  readonly explore: boolean | undefined;
  readonly count: number;
  /** The features array's own text, exactly as sent. */
  readonly featuresText: string;
}

/** What decide answers: a response value, ANSWER_LATER (it answers through `ctx` itself), or a promise of either. */
export type DecideOutcome = unknown;

export interface ServedDeployment {
  readonly kind: DeploymentKind;
  /** The deployment's name (the key of the map). */
  readonly name: string;
  readonly model: string;
  readonly generation: number;
  /** The label values every metric series of this deployment starts with. */
  readonly metricsLabels: { readonly deployment: string; readonly kind: DeploymentKind };
  /** POST /v1/decide, the body parsed; the kind checks its own fields (errors name them). */
  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome;
  /**
   * POST /v1/decide for a body the scanner read without JSON.parse (`{ deployment, features: [numbers],
   * unit?, explore? }`, the numbers in `values`, valid only until this returns: copy what is kept before
   * any await); PARSE_BODY when this kind wants the body parsed (then `decide` is called).
   */
  decideScanned(body: ScannedDecide, values: Float64Array, ctx: RequestContext): DecideOutcome | typeof PARSE_BODY | typeof ANSWER_LATER;
  /** Releases what only this deployment holds; called once, after it left the map (replaced or removed). */
  close(): void;
}

/** A kind that records the rewards of its decisions itself (bandit: the learner learns from them). */
export interface RewardSettler {
  /**
   * POST /v1/rewards with one reward: the response when the decision is one of this kind's, null when it
   * is not (the registry records it like any other).
   */
  reward(body: unknown, ctx: RequestContext): Promise<unknown | null>;
  /** The items of a batch (checked): per item its outcome, or null when its decision is not one of this kind's. */
  rewardBatch(items: readonly RewardItem[]): Promise<(RewardItemResult | null)[]>;
}

export interface ServedKind {
  /**
   * Serves `d`: a new ServedDeployment, `current` to keep serving it (nothing changed, or the new state
   * cannot load and the current one keeps serving), or null when there is nothing to serve. `current` is
   * what serves the name now when it is of this kind.
   */
  load(d: Deployment, current: ServedDeployment | undefined): Promise<ServedDeployment | null>;
  /** Deployments saved by this kind at its last change, served when the registry is unreachable at start. */
  restore?(): Promise<ServedDeployment[]>;
  /** Rewards this kind settles itself. */
  readonly rewards?: RewardSettler;
  /** Waits for what is in flight; releases everything. */
  close(): Promise<void>;
}
