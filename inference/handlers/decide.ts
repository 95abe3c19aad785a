/**
 * POST /v1/decide: the route. The body names a deployment; the deployment map is read ONCE and the
 * deployment that serves the name decides (its kind checks its own fields and answers: policy,
 * inference/policy/decide.ts; bandit, inference/bandits/decide.ts; text-policy, inference/text-policy/).
 *
 * A body of the common shape `{ deployment, features: [numbers], unit?, explore? }` is first offered to
 * the scanner (./decide-body.ts), which reads it without JSON.parse into this route's scratch array;
 * the deployment's `decideScanned` copies what it keeps before it returns (the scratch is the next
 * request's), or answers PARSE_BODY to have the body parsed. Any other body is parsed and handed to
 * the deployment's `decide`.
 *
 * A name no deployment has: the body is checked as the common decide shape first (its 400s), then 404.
 */
import { UNKNOWN_DEPLOYMENT_EXPECTED, notFound, type ClientError } from '../http/errors';
import { PARSE_BODY, type BytesHandler, type RequestContext } from '../http/server';
import { checkDecideBody } from '../policy/decide';
import type { DeploymentMap } from '../serving/deployment-map';
import { scanDecideBody } from './decide-body';

export interface DecideRouteDeps {
  deployments: Pick<DeploymentMap, 'get' | 'names'>;
}

export function createDecideHandler(deps: DecideRouteDeps) {
  const { deployments } = deps;

  /** Where scanned bodies' features are read into: valid only during the `decideScanned` call that follows the scan. */
  const scratch = new Float64Array(1024);

  /** The 404 names what was asked for, never what is deployed (a caller must not learn the other deployments' names). */
  function unknownDeployment(name: string): ClientError {
    return notFound(`deployment ${JSON.stringify(name.length > 100 ? `${name.slice(0, 97)}...` : name)} is not served here`, 'deployment', UNKNOWN_DEPLOYMENT_EXPECTED);
  }

  function decide(body: unknown, ctx: RequestContext): unknown {
    const named = body !== null && typeof body === 'object' && !Array.isArray(body) ? (body as { deployment?: unknown }).deployment : undefined;
    const served = typeof named === 'string' ? deployments.get(named) : undefined;
    if (served === undefined) {
      // Not ours: the body's own faults first (400), as for any deployment, then the 404.
      checkDecideBody(body, ctx.bodyText);
      throw unknownDeployment((body as { deployment: string }).deployment);
    }
    ctx.deployment = named as string;
    return served.decide(body as Record<string, unknown>, ctx);
  }

  /** A body of the common shape, decided without parsing it into objects; PARSE_BODY for any other. */
  const fromBytes: BytesHandler = (body, ctx) => {
    const s = scanDecideBody(body, scratch);
    if (s === null) return PARSE_BODY;
    const served = deployments.get(s.deployment);
    // Not served here: the generic path names what is wrong (a 400, or the 404).
    if (served === undefined) return PARSE_BODY;
    ctx.deployment = s.deployment;
    return served.decideScanned(s, scratch, ctx);
  };

  return Object.assign(decide, { fromBytes });
}
