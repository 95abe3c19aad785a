/**
 * Per-provider circuit breaking for routing bandits (UC9). Each arm (a provider/region) has a breaker:
 *
 *   closed ──(consecutiveFailures in a row, or ≥ minRequests of the last `window` outcomes with an error
 *            rate ≥ errorRate)──► open ──(cooldownMs elapsed)──► half-open
 *   half-open ──(a failure)──► open (cool-down restarts)
 *   half-open ──(successThreshold successes)──► closed (window and counters cleared)
 *
 * While open, the arm leaves the arm set; half-open, it gets a `probeShare` of the traffic (its probes).
 * Outcomes of decisions made before the breaker opened that arrive while it is open are ignored.
 * This is the reference state machine (used by the simulator); the served breaker
 * (inference/bandits/breaker.ts) runs the same transitions in one Redis script so every server shares it.
 */

export interface CircuitBreakerConfig {
  /** The reward component that is 1 when the call failed (0 or absent: it did not). */
  failureComponent: string;
  /** Failures in a row that open the circuit (default 5). */
  consecutiveFailures: number;
  /** Error rate over the window that opens the circuit (default 0.5). */
  errorRate: number;
  /** How many recent outcomes the error rate is computed on (default 20). */
  window: number;
  /** Outcomes the window needs before its error rate can open the circuit (default 10). */
  minRequests: number;
  /** How long an open circuit keeps the arm out before probing (default 30,000 ms). */
  cooldownMs: number;
  /** Share of the traffic a half-open arm gets (default 0.1). */
  probeShare: number;
  /** Successful probes that close the circuit (default 2). */
  successThreshold: number;
}

export const BREAKER_DEFAULTS: Omit<CircuitBreakerConfig, 'failureComponent'> = {
  consecutiveFailures: 5, errorRate: 0.5, window: 20, minRequests: 10, cooldownMs: 30_000, probeShare: 0.1, successThreshold: 2,
};

export type BreakerState = 'closed' | 'open' | 'half-open';

/** The error for a bad setting: `<field>: got <value>, expected <what>`. */
export type ConfigFailure = (field: string, value: unknown, expected: string) => Error;

const configError: ConfigFailure = (field, value, expected) => new Error(`${field}: got ${JSON.stringify(value) ?? 'nothing'}, expected ${expected}`);

/** Checks a breaker config from a deployment's JSON; errors name the field, the value and what was expected. */
export function parseCircuitBreaker(v: unknown, field = 'config.circuitBreaker', fail: ConfigFailure = configError): CircuitBreakerConfig {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw fail(field, v, '{ failureComponent, consecutiveFailures?, errorRate?, window?, minRequests?, cooldownMs?, probeShare?, successThreshold? }');
  const o = v as Record<string, unknown>;
  const known = ['failureComponent', ...Object.keys(BREAKER_DEFAULTS)];
  for (const k of Object.keys(o)) if (!known.includes(k)) throw fail(`${field}.${k}`, o[k], `no such setting (known: ${known.join(', ')})`);
  if (typeof o.failureComponent !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(o.failureComponent)) throw fail(`${field}.failureComponent`, o.failureComponent, 'the snake_case name of the reward component that is 1 on failure');
  const c = { ...BREAKER_DEFAULTS, failureComponent: o.failureComponent } as CircuitBreakerConfig;
  const num = (k: keyof typeof BREAKER_DEFAULTS, ok: (x: number) => boolean, expected: string) => {
    if (o[k] === undefined) return;
    const x = o[k];
    if (typeof x !== 'number' || !Number.isFinite(x) || !ok(x)) throw fail(`${field}.${k}`, x, expected);
    (c as unknown as Record<string, number>)[k] = x;
  };
  const posInt = (x: number) => Number.isInteger(x) && x >= 1;
  num('consecutiveFailures', posInt, 'an integer >= 1');
  num('errorRate', (x) => x > 0 && x <= 1, 'a rate in (0, 1]');
  num('window', (x) => posInt(x) && x <= 1000, 'an integer in 1..1000');
  num('minRequests', posInt, 'an integer >= 1');
  num('cooldownMs', (x) => Number.isInteger(x) && x >= 1 && x <= 86_400_000, 'an integer number of ms in 1..86400000');
  num('probeShare', (x) => x > 0 && x < 1, 'a share in (0, 1)');
  num('successThreshold', posInt, 'an integer >= 1');
  if (c.minRequests > c.window) throw fail(`${field}.minRequests`, c.minRequests, `at most window (${c.window})`);
  return c;
}

/** One arm's breaker (pure: the caller passes the time). */
export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private openUntil = 0;
  private consecutive = 0;
  private probeSuccesses = 0;
  private recent: number[] = [];
  /** How many times it opened. */
  opened = 0;

  constructor(readonly config: CircuitBreakerConfig) {}

  /** The state at time `now` (open turns half-open once the cool-down is over). */
  state(now: number): BreakerState {
    if (this.stateValue === 'open' && now >= this.openUntil) return 'half-open';
    return this.stateValue;
  }

  private open(now: number): void {
    this.stateValue = 'open';
    this.openUntil = now + this.config.cooldownMs;
    this.consecutive = 0;
    this.probeSuccesses = 0;
    this.recent = [];
    this.opened++;
  }

  /** Records one call's outcome at time `now`; returns the state after it. */
  record(failed: boolean, now: number): BreakerState {
    const s = this.state(now);
    if (s === 'open') return s; // an in-flight call made before it opened
    if (s === 'half-open') {
      if (failed) this.open(now);
      else if (++this.probeSuccesses >= this.config.successThreshold) {
        this.stateValue = 'closed';
        this.consecutive = 0;
        this.probeSuccesses = 0;
        this.recent = [];
      } else this.stateValue = 'half-open';
      return this.state(now);
    }
    this.recent.unshift(failed ? 1 : 0);
    if (this.recent.length > this.config.window) this.recent.length = this.config.window;
    this.consecutive = failed ? this.consecutive + 1 : 0;
    const failures = this.recent.reduce((a, b) => a + b, 0);
    if (this.consecutive >= this.config.consecutiveFailures || (this.recent.length >= this.config.minRequests && failures / this.recent.length >= this.config.errorRate)) this.open(now);
    return this.state(now);
  }
}

/**
 * The distribution served over the arms the breakers leave: the learner's `dist` restricted to the
 * closed arms and renormalised (uniform over them when the learner gives them no mass), mixed with
 * `probeShare` spread uniformly over the half-open arms (all of it when no arm is closed). Null when every
 * arm is open. Every probability is the exact one the draw uses, so it is the logged propensity.
 */
export function breakerActionDist(dist: ArrayLike<number>, states: readonly BreakerState[], probeShare: number): Float64Array | null {
  const K = dist.length;
  const closed: number[] = [], probes: number[] = [];
  for (let a = 0; a < K; a++) {
    if (states[a] === 'closed') closed.push(a);
    else if (states[a] === 'half-open') probes.push(a);
  }
  if (closed.length === 0 && probes.length === 0) return null;
  const out = new Float64Array(K);
  const pShare = probes.length === 0 ? 0 : closed.length === 0 ? 1 : probeShare;
  if (closed.length > 0) {
    let mass = 0;
    for (const a of closed) mass += dist[a];
    for (const a of closed) out[a] = (1 - pShare) * (mass > 0 ? dist[a] / mass : 1 / closed.length);
  }
  for (const a of probes) out[a] = pShare / probes.length;
  return out;
}
