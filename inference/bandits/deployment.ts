/**
 * A deployment of kind `bandit` as this server serves it (config: ml/bandits/config.ts): its parsed
 * configuration and the learner whose statistics are shared in Redis by every instance
 * (./shared-state.ts). Decide: ./decide.ts; reward settlement: ./rewards.ts; loading: ./kind.ts.
 */
import type { BanditConfig } from '../../ml/bandits/config';
import { PARSE_BODY, type RequestContext } from '../http/server';
import type { PolicyBinding } from '../policy/binding';
import type { DecideOutcome, ServedDeployment, ScannedDecide } from '../serving/served-deployment';
import type { SharedLearner } from './shared-state';
import type { RoutingBreaker } from './breaker';

/** What decide writes (`bandit:decision:<id>`, ./claims.ts) for the reward to find, on whichever instance it arrives. */
export interface DecisionEntry {
  deployment: string;
  stateKey: string;
  arm: number;
  x: number[] | null;
}

/** What a bandit deployment hands its requests to and tells when it leaves the map (the bandit kind). */
export interface BanditOwner {
  decide(s: BanditDeployment, body: Record<string, unknown>, ctx: RequestContext): DecideOutcome;
  released(s: BanditDeployment): void;
}

export class BanditDeployment implements ServedDeployment {
  readonly kind = 'bandit' as const;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'bandit' };

  constructor(
    private readonly owner: BanditOwner,
    readonly name: string,
    readonly model: string,
    /** Moves forward when the registry changes something that leaves the config as it is. */
    public generation: number,
    readonly config: BanditConfig,
    /** The config as JSON: a new generation with the same text keeps this deployment (and its learner). */
    readonly configJson: string,
    readonly shared: SharedLearner,
    /** How context features are read (null: a non-contextual learner takes none). */
    readonly binding: PolicyBinding | null,
    /** Per-arm circuit breakers shared in Redis (config.circuitBreaker; null: none). */
    readonly breaker: RoutingBreaker | null = null,
  ) {
    this.metricsLabels = { deployment: name, kind: 'bandit' };
  }

  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome {
    return this.owner.decide(this, body, ctx);
  }

  /** Bandit bodies are parsed (their context is logged as a value). */
  decideScanned(_body: ScannedDecide, _values: Float64Array, _ctx: RequestContext): typeof PARSE_BODY {
    return PARSE_BODY;
  }

  close(): void {
    this.owner.released(this);
  }
}
