/**
 * POST /v1/predict `{ deployment, features }` (or `rows: [features…]`) → `{ prediction }` (a probability for
 * logistic, a value for squared) and POST /v1/labels `{ deployment, features, label }` (or `labels: [{ features,
 * label }…]`, 1..maxBatch) → `{ learnt, seq }`: the online-model deployment named answers. With API keys,
 * predict needs the decide scope and labels the reward scope on the deployment.
 */
import { may } from '../auth/principal';
import { forbidden } from '../auth/store';
import { UNKNOWN_DEPLOYMENT_EXPECTED, badRequest, notFound } from '../http/errors';
import type { RequestContext } from '../http/server';
import type { OnlineModelKind } from './kind';
import type { OnlineModelDeployment } from './deployment';

function served(kind: OnlineModelKind | null, body: unknown, ctx: RequestContext, scope: 'decide' | 'reward'): OnlineModelDeployment {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object', 'body', '{ deployment, … }');
  const name = (body as { deployment?: unknown }).deployment;
  if (typeof name !== 'string' || name === '') throw badRequest('deployment must be a non-empty string', 'deployment', 'the name of an online-model deployment');
  const p = ctx.principal;
  if (p != null && !may(p, scope, name)) throw forbidden(p, scope, name, 'deployment');
  const s = kind?.get(name);
  if (s === undefined) throw notFound(`deployment ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not an online model served here`, 'deployment', UNKNOWN_DEPLOYMENT_EXPECTED);
  return s;
}

export function createOnlineHandlers(kind: OnlineModelKind | null, opts: { maxLabels?: number } = {}) {
  const maxLabels = opts.maxLabels ?? 10_000;
  return {
    predict: (body: unknown, ctx: RequestContext) => served(kind, body, ctx, 'decide').predict(body as Record<string, unknown>),
    labels: (body: unknown, ctx: RequestContext) => served(kind, body, ctx, 'reward').learn(body as Record<string, unknown>, maxLabels),
  };
}
