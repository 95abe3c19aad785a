/**
 * A deployment of kind `predictor` as this server serves it at one moment: champion and canary versions
 * (./model.ts), the traffic split, the quality gate of its config. Replaced whole when the registry
 * changes it (a new champion is a hot swap: requests in flight finish on the version they started on).
 */
import type { QualityGate } from '../../ml/predictor/gate';
import { PARSE_BODY, type RequestContext } from '../http/server';
import type { TrafficRouter } from '../router';
import type { DecideOutcome, ScannedDecide, ServedDeployment } from '../serving/served-deployment';
import type { PredictorModel } from './model';

/** What a predictor deployment hands its requests to and tells when it leaves the map (the kind). */
export interface PredictorOwner {
  predict(s: PredictorDeployment, body: Record<string, unknown>, ctx: RequestContext): Promise<unknown>;
  released(s: PredictorDeployment): void;
}

export class PredictorDeployment implements ServedDeployment {
  readonly kind = 'predictor' as const;
  readonly metricsLabels: { readonly deployment: string; readonly kind: 'predictor' };

  constructor(
    private readonly owner: PredictorOwner,
    readonly name: string,
    readonly model: string,
    readonly generation: number,
    readonly champion: PredictorModel | null,
    readonly canary: PredictorModel | null,
    readonly router: TrafficRouter,
    readonly gate: QualityGate | null,
    readonly configJson: string,
  ) {
    this.metricsLabels = { deployment: name, kind: 'predictor' };
  }

  /** POST /v1/predict `{ deployment, features, unit? }`. */
  predict(body: Record<string, unknown>, ctx: RequestContext): Promise<unknown> {
    return this.owner.predict(this, body, ctx);
  }

  /** POST /v1/decide answers as /v1/predict does (a gated prediction is a decision too). */
  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome {
    return this.owner.predict(this, body, ctx);
  }

  /** Named features, not an array: never the scanner's shape. */
  decideScanned(_body: ScannedDecide, _values: Float64Array, _ctx: RequestContext): typeof PARSE_BODY {
    return PARSE_BODY;
  }

  close(): void {
    this.owner.released(this);
  }
}
