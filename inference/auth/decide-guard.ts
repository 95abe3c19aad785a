/**
 * POST /v1/decide names its deployment in the body, so the router can only check that the key holds the
 * decide scope somewhere; this view of the deployment map checks the deployment itself, where the decide
 * route looks it up (both the scanned and the parsed body pass here): what it hands out is the served
 * deployment behind a guard that answers 403 before deciding when the request's key may not decide on it.
 *
 * The guard of a served deployment is made once (a WeakMap by served object), so the hot path adds one
 * WeakMap lookup and one boolean or Set check per decision.
 */
import type { PARSE_BODY, ANSWER_LATER, RequestContext } from '../http/server';
import type { DeploymentMap } from '../serving/deployment-map';
import type { DecideOutcome, ScannedDecide, ServedDeployment } from '../serving/served-deployment';
import { forbidden } from './store';

/** Throws the 403 when the request's key may not decide on `name` (no key: auth is off). */
function demandDecide(ctx: RequestContext, name: string): void {
  const p = ctx.principal;
  if (p != null && !p.decide.all && !p.decide.on.has(name)) throw forbidden(p, 'decide', name, 'deployment');
}

class GuardedDeployment implements ServedDeployment {
  constructor(private readonly inner: ServedDeployment) {}

  get kind() {
    return this.inner.kind;
  }
  get name() {
    return this.inner.name;
  }
  get model() {
    return this.inner.model;
  }
  get generation() {
    return this.inner.generation;
  }
  get metricsLabels() {
    return this.inner.metricsLabels;
  }

  decide(body: Record<string, unknown>, ctx: RequestContext): DecideOutcome {
    demandDecide(ctx, this.inner.name);
    return this.inner.decide(body, ctx);
  }

  decideScanned(body: ScannedDecide, values: Float64Array, ctx: RequestContext): DecideOutcome | typeof PARSE_BODY | typeof ANSWER_LATER {
    demandDecide(ctx, this.inner.name);
    return this.inner.decideScanned(body, values, ctx);
  }

  close(): void {
    this.inner.close();
  }
}

/** What the decide route reads of the deployment map. */
export type DecideDeployments = Pick<DeploymentMap, 'get' | 'names'>;

/** `map` as the decide route sees it with auth on: every deployment behind its decide-scope guard. */
export function guardDecide(map: DeploymentMap): DecideDeployments {
  const guards = new WeakMap<ServedDeployment, GuardedDeployment>();
  return {
    get(name: string): ServedDeployment | undefined {
      const served = map.get(name);
      if (served === undefined) return undefined;
      let g = guards.get(served);
      if (g === undefined) {
        g = new GuardedDeployment(served);
        guards.set(served, g);
      }
      return g;
    },
    names: () => map.names(),
  };
}
