/**
 * The routing scenario run in-process: a contextual bandit over the simulator's providers, rewarded with
 * the routing reward, optionally behind per-provider circuit breakers (the same transitions and served
 * distribution as the server: circuit-breaker.ts). One request per `msPerRequest` of simulated time;
 * each reward (and outcome) arrives before the next request.
 */
import { EpsilonGreedy, LinUCB, type BanditPolicy } from '../bandits';
import { Rng } from '../rng';
import { breakerActionDist, CircuitBreaker, type BreakerState, type CircuitBreakerConfig } from './circuit-breaker';
import { routingReward, RoutingSimulator, type Outage } from './simulator';

export interface ScenarioOptions {
  seed: number;
  steps: number;
  outages?: Outage[];
  /** null: no circuit breaking. */
  breaker: CircuitBreakerConfig | null;
  /** Simulated ms between requests (default 10: 100 requests/s). */
  msPerRequest?: number;
  /** The learner (default: LinUCB α 0.5 with ε-greedy 0.05 on [1, eu, tokens_k]). */
  learner?: (nArms: number) => BanditPolicy;
}

export interface ScenarioRun {
  arms: Int32Array;
  failed: Uint8Array;
  propensities: Float64Array;
  /** Cumulative expected-reward regret against the best provider for each context (outages included). */
  regret: number;
  /** Times each provider's breaker opened. */
  opened: number[];
}

export function defaultRoutingLearner(nArms: number): BanditPolicy {
  return new EpsilonGreedy(new LinUCB({ nArms, d: 3, alpha: 0.5 }), { epsilon: 0.05 });
}

export function runRoutingScenario(o: ScenarioOptions): ScenarioRun {
  const sim = new RoutingSimulator(o.seed, undefined, o.outages ?? []);
  const K = sim.providers.length;
  const policy = (o.learner ?? defaultRoutingLearner)(K);
  const rng = new Rng(o.seed + 1);
  const breakers = o.breaker === null ? null : sim.providers.map(() => new CircuitBreaker(o.breaker!));
  const dt = o.msPerRequest ?? 10;
  const out: ScenarioRun = { arms: new Int32Array(o.steps), failed: new Uint8Array(o.steps), propensities: new Float64Array(o.steps), regret: 0, opened: new Array<number>(K).fill(0) };
  for (let t = 0; t < o.steps; t++) {
    const now = t * dt;
    const c = sim.context();
    const x = [1, c.eu, c.tokens_k];
    let dist = policy.actionDist(x, rng).dist;
    if (breakers !== null) {
      const states: BreakerState[] = breakers.map((b) => b.state(now));
      const served = breakerActionDist(dist, states, o.breaker!.probeShare);
      if (served === null) throw new Error(`step ${t}: every provider's circuit is open`);
      dist = served;
    }
    const arm = rng.categorical(dist);
    const outcome = sim.call(arm, c, t);
    policy.update(x, arm, routingReward(outcome));
    breakers?.[arm].record(outcome.failed === 1, now);
    out.arms[t] = arm;
    out.failed[t] = outcome.failed;
    out.propensities[t] = dist[arm];
    let best = -Infinity;
    for (let a = 0; a < K; a++) best = Math.max(best, sim.expectedReward(a, c, t));
    out.regret += best - sim.expectedReward(arm, c, t);
  }
  if (breakers !== null) breakers.forEach((b, a) => { out.opened[a] = b.opened; });
  return out;
}
