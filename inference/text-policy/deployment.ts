/**
 * A deployment of kind `text-policy` as this server serves it at one moment: champion and canary
 * (folders loaded by ./kind.ts), the traffic split, the fallback. Replaced whole when the registry
 * changes it or a canary is ejected.
 */
import type { Json } from '../../registry/types';
import { PARSE_BODY, type RequestContext } from '../http/server';
import type { TrafficRouter } from '../router';
import type { DecideOutcome, ServedDeployment, ScannedDecide } from '../serving/served-deployment';
import type { TextPolicyModel } from './model';

/** What a text-policy deployment hands its requests to and tells when it leaves the map (the kind). */
export interface TextPolicyOwner {
  decide(s: TextPolicyDeployment, body: Record<string, unknown>, ctx: RequestContext): DecideOutcome;
  released(s: TextPolicyDeployment): void;
}

export class TextPolicyDeployment implements ServedDeployment {
  readonly kind = 'text-policy' as const;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'text-policy' };

  constructor(
    private readonly owner: TextPolicyOwner,
    readonly name: string,
    readonly model: string,
    readonly generation: number,
    readonly champion: TextPolicyModel | null,
    readonly canary: TextPolicyModel | null,
    readonly router: TrafficRouter,
    readonly fallback: Json | null,
  ) {
    this.metricsLabels = { deployment: name, kind: 'text-policy' };
  }

  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome {
    return this.owner.decide(this, body, ctx);
  }

  /** Text-policy bodies carry text, not a features array: never the scanner's shape. */
  decideScanned(_body: ScannedDecide, _values: Float64Array, _ctx: RequestContext): typeof PARSE_BODY {
    return PARSE_BODY;
  }

  close(): void {
    this.owner.released(this);
  }
}
