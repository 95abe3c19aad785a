/**
 * The semantic-cache endpoints (./deployment.ts says what each answers):
 *   POST /v1/cache/lookup    { deployment, prompt, context?, costUsd?, unit? }  → hit or miss, with a decisionId
 *   POST /v1/cache/store     { deployment, decisionId, response, costUsd? }     → { stored, propensity, … }
 *   POST /v1/cache/wrong-hit { deployment, decisionId, mismatchUsd? }           → { dropped }
 * With API keys, lookup and store need the decide scope on the deployment (they make decisions) and
 * wrong-hit the reward scope (it is an outcome of a decision, like /v1/rewards and /v1/labels).
 */
import { may } from '../auth/principal';
import { forbidden } from '../auth/store';
import { UNKNOWN_DEPLOYMENT_EXPECTED, badRequest, notFound } from '../http/errors';
import type { JsonHandler, RequestContext } from '../http/server';
import type { SemanticCacheDeployment } from './deployment';
import type { SemanticCacheKind } from './kind';

function served(kind: SemanticCacheKind | null, body: unknown, ctx: RequestContext, scope: 'decide' | 'reward'): SemanticCacheDeployment {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object', 'body', '{ deployment, … }');
  const name = (body as { deployment?: unknown }).deployment;
  if (typeof name !== 'string' || name === '') throw badRequest('deployment must be a non-empty string', 'deployment', 'the name of a semantic-cache deployment');
  const p = ctx.principal;
  if (p != null && !may(p, scope, name)) throw forbidden(p, scope, name, 'deployment');
  const s = kind?.get(name);
  if (s === undefined) throw notFound(`deployment ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not a semantic cache served here`, 'deployment', UNKNOWN_DEPLOYMENT_EXPECTED);
  ctx.deployment = s.name;
  return s;
}

export function createCacheHandlers(kind: SemanticCacheKind | null): { cacheLookup: JsonHandler; cacheStore: JsonHandler; cacheWrongHit: JsonHandler } {
  return {
    cacheLookup: (body, ctx) => served(kind, body, ctx, 'decide').lookup(body as Record<string, unknown>, ctx),
    cacheStore: (body, ctx) => served(kind, body, ctx, 'decide').store(body as Record<string, unknown>, ctx),
    cacheWrongHit: (body, ctx) => served(kind, body, ctx, 'reward').wrongHit(body as Record<string, unknown>),
  };
}
