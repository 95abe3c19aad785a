/**
 * A policy (ONNX) deployment as this server serves it at one moment: an immutable snapshot swapped
 * atomically (one Map assignment in the deployment map) whenever the registry changes or a canary is
 * ejected. It is the policy kind's ServedDeployment: decide goes to the kind's decider with this state.
 */
import type { Deployment, Json } from '../../registry/types';
import type { RequestContext } from '../http/server';
import { TrafficRouter } from '../router';
import type { DecideOutcome, ServedDeployment, ScannedDecide } from '../serving/served-deployment';
import type { LoadedModel, VersionInfo } from './loaded-model';

export interface ExplorationSettings {
  mode: 'greedy' | 'sample';
  epsilon: number;
  temperature: number;
}

export interface ServingState {
  readonly name: string;
  readonly model: string;
  readonly generation: number;
  readonly deployment: Deployment;
  readonly champion: LoadedModel | null;
  readonly canary: LoadedModel | null;
  /** Canary share actually served, in [0, 1] (0 when there is no canary or it was ejected). */
  readonly canaryWeight: number;
  /** Why the registry's canary is not served (load failure, run-time error), or null. */
  readonly canaryEjected: string | null;
  readonly router: TrafficRouter;
  /**
   * The shadow version (`config.shadowVersion`): scores a mirror of every champion-served request off
   * the response path (inference/policy/mirror.ts); never serves. Null when none or dropped.
   */
  readonly shadow: LoadedModel | null;
  /** Why the registry's shadow version is not mirrored (load failure, run-time error), or null. */
  readonly shadowEjected: string | null;
  readonly exploration: ExplorationSettings;
  readonly fallback: Json | null;
}

/** What is persisted so the server can start without the registry. */
export interface DeploymentRecord {
  deployment: Deployment;
  champion: VersionInfo | null;
  canary: VersionInfo | null;
  /** The shadow version (absent in records saved before mirroring existed). */
  shadow?: VersionInfo | null;
}

export function explorationOf(d: Deployment): ExplorationSettings {
  const e = d.exploration ?? { mode: 'greedy' };
  return {
    mode: e.mode === 'sample' ? 'sample' : 'greedy',
    epsilon: typeof e.epsilon === 'number' ? e.epsilon : 0,
    temperature: typeof e.temperature === 'number' && e.temperature > 0 ? e.temperature : 1,
  };
}

/** What a policy state hands its requests to and tells when it leaves the map (the policy kind). */
export interface PolicyOwner {
  decide(state: PolicyDeployment, body: Record<string, unknown>, ctx: RequestContext): DecideOutcome;
  decideScanned(state: PolicyDeployment, body: ScannedDecide, values: Float64Array, ctx: RequestContext): DecideOutcome;
  released(state: PolicyDeployment): void;
}

export class PolicyDeployment implements ServingState, ServedDeployment {
  readonly kind = 'policy' as const;
  readonly name: string;
  readonly model: string;
  readonly generation: number;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'policy' };
  readonly canaryWeight: number;
  readonly router: TrafficRouter;
  readonly exploration: ExplorationSettings;
  readonly fallback: Json | null;

  constructor(
    private readonly owner: PolicyOwner,
    readonly deployment: Deployment,
    readonly champion: LoadedModel | null,
    readonly canary: LoadedModel | null,
    readonly canaryEjected: string | null,
    readonly shadow: LoadedModel | null,
    readonly shadowEjected: string | null,
  ) {
    const d = deployment;
    // Without a champion nothing model-based is served (the fallback is): a canary never takes 100% by accident.
    const weight = canary !== null && champion !== null ? Math.min(1, Math.max(0, d.canaryWeight / 100)) : 0;
    this.name = d.deployment;
    this.model = d.model;
    this.generation = d.generation;
    this.metricsLabels = { deployment: d.deployment, kind: 'policy' };
    this.canaryWeight = weight;
    this.router = new TrafficRouter(d.deployment, d.generation, weight);
    this.exploration = explorationOf(d);
    this.fallback = d.fallback ?? null;
    Object.freeze(this);
  }

  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome {
    return this.owner.decide(this, body, ctx);
  }

  decideScanned(body: ScannedDecide, values: Float64Array, ctx: RequestContext): DecideOutcome {
    return this.owner.decideScanned(this, body, values, ctx);
  }

  close(): void {
    this.owner.released(this);
  }
}
