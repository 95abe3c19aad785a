/**
 * POST /v1/predict is one route for every kind that predicts: a `predictor` deployment answers its gated
 * prediction (./kind.ts); any other name goes on to the online-model kind's handler (inference/online/),
 * which answers for its deployments or with a 404. Needs the decide scope on the deployment.
 */
import { may } from '../auth/principal';
import { forbidden } from '../auth/store';
import type { JsonHandler, RequestContext } from '../http/server';
import type { PredictorKind } from './kind';

export function createPredictHandler(predictors: PredictorKind | null, next: JsonHandler): JsonHandler {
  return (body: unknown, ctx: RequestContext, params: void) => {
    const name = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { deployment?: unknown }).deployment : undefined;
    const s = typeof name === 'string' ? predictors?.get(name) : undefined;
    if (s === undefined) return next(body, ctx, params);
    const p = ctx.principal;
    if (p != null && !may(p, 'decide', s.name)) throw forbidden(p, 'decide', s.name, 'deployment');
    ctx.deployment = s.name;
    return s.predict(body as Record<string, unknown>, ctx);
  };
}
