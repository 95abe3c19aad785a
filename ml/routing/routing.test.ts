/**
 * UC9 routing: the circuit breaker tick by tick, the distribution served over the arms it leaves (exact
 * propensities), the example config, and the simulator scenario with a provider outage — behind breakers
 * traffic leaves the failing provider after `consecutiveFailures` requests, probes it once per cool-down,
 * and returns after recovery; without them the learner keeps sending it traffic and then abandons it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseBanditConfig } from '../bandits/config';
import { Rng } from '../rng';
import { BREAKER_DEFAULTS, breakerActionDist, CircuitBreaker, parseCircuitBreaker, type CircuitBreakerConfig } from './circuit-breaker';
import { runRoutingScenario } from './scenario';
import { DEFAULT_PROVIDERS, ROUTING_REWARD_SPEC, routingReward, RoutingSimulator } from './simulator';

const cfg: CircuitBreakerConfig = { ...BREAKER_DEFAULTS, failureComponent: 'failed', consecutiveFailures: 3, window: 10, minRequests: 6, errorRate: 0.5, cooldownMs: 1000, successThreshold: 2 };

describe('CircuitBreaker', () => {
  it('opens after consecutiveFailures failures in a row, and a success resets the count', () => {
    const b = new CircuitBreaker(cfg);
    expect(b.record(true, 0)).toBe('closed');
    expect(b.record(true, 1)).toBe('closed');
    expect(b.record(false, 2)).toBe('closed');
    expect(b.record(true, 3)).toBe('closed');
    expect(b.record(true, 4)).toBe('closed');
    expect(b.record(true, 5)).toBe('open');
    expect(b.opened).toBe(1);
  });

  it('opens on the window\'s error rate once it has minRequests outcomes', () => {
    const b = new CircuitBreaker(cfg);
    const seq = [true, false, true, false, true]; // 3/5 failed (never 3 in a row), but only 5 < minRequests outcomes
    seq.forEach((f, i) => expect(b.record(f, i)).toBe('closed'));
    expect(b.record(false, 5)).toBe('open'); // a success, yet 3/6 = 0.5 ≥ errorRate with minRequests outcomes
    const c = new CircuitBreaker(cfg);
    [true, false, false, true, false, false, true, false].forEach((f, i) => expect(c.record(f, i)).toBe('closed')); // 3/8 < 0.5
  });

  it('half-opens after the cool-down; a failed probe re-opens it, successThreshold successes close it', () => {
    const b = new CircuitBreaker(cfg);
    for (let i = 0; i < 3; i++) b.record(true, 100);
    expect(b.state(100)).toBe('open');
    expect(b.record(false, 500)).toBe('open'); // an in-flight call made before it opened: ignored
    expect(b.state(1099)).toBe('open');
    expect(b.state(1100)).toBe('half-open');
    expect(b.record(true, 1100)).toBe('open'); // the probe failed: cool-down restarts
    expect(b.state(2099)).toBe('open');
    expect(b.record(false, 2100)).toBe('half-open');
    expect(b.record(false, 2101)).toBe('closed');
    expect(b.opened).toBe(2);
    // Closed again with a clean window: two failures do not re-open it.
    b.record(true, 2102);
    expect(b.record(true, 2103)).toBe('closed');
  });

  it.each([
    [{}, 'config.circuitBreaker.failureComponent: got nothing'],
    [{ failureComponent: 'failed', cooldownMs: 0 }, 'config.circuitBreaker.cooldownMs: got 0, expected an integer number of ms in 1..86400000'],
    [{ failureComponent: 'failed', probeShare: 1 }, 'config.circuitBreaker.probeShare: got 1, expected a share in (0, 1)'],
    [{ failureComponent: 'failed', window: 5, minRequests: 6 }, 'config.circuitBreaker.minRequests: got 6, expected at most window (5)'],
    [{ failureComponent: 'failed', cooldown: 5 }, 'config.circuitBreaker.cooldown: got 5, expected no such setting'],
  ])('refuses a bad config by field (%#)', (v, message) => {
    expect(() => parseCircuitBreaker(v)).toThrow(message);
  });
});

describe('breakerActionDist', () => {
  it('renormalises over the closed arms and gives the half-open ones probeShare', () => {
    const d = breakerActionDist([0.5, 0.3, 0.2, 0], ['closed', 'open', 'closed', 'half-open'], 0.1)!;
    expect(Array.from(d)).toEqual([0.9 * 0.5 / 0.7, 0, 0.9 * 0.2 / 0.7, 0.1]);
    expect(d.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // Closed arms the learner gives no mass: uniform over them.
    expect(Array.from(breakerActionDist([0, 1, 0], ['closed', 'open', 'closed'], 0.1)!)).toEqual([0.5, 0, 0.5]);
    // Only half-open arms: all the traffic probes.
    expect(Array.from(breakerActionDist([1, 0], ['open', 'half-open'], 0.1)!)).toEqual([0, 1]);
    expect(breakerActionDist([0.5, 0.5], ['open', 'open'], 0.1)).toBeNull();
  });

  it('is the distribution the draw follows (frequencies within 6 sd, failure probability < 1e-8)', () => {
    const d = breakerActionDist([0.6, 0.3, 0.1], ['closed', 'half-open', 'closed'], 0.2)!;
    const rng = new Rng(4), n = 50_000, counts = [0, 0, 0];
    for (let i = 0; i < n; i++) counts[rng.categorical(d)]++;
    for (let a = 0; a < 3; a++) expect(Math.abs(counts[a] / n - d[a])).toBeLessThan(6 * Math.sqrt((d[a] * (1 - d[a])) / n));
  });
});

describe('the example config configs/routing/routing.yaml', () => {
  const yaml = parse(readFileSync(join(__dirname, '../../configs/routing/routing.yaml'), 'utf8')) as Record<string, unknown>;

  it('parses as a bandit config with a circuit breaker over the simulator\'s providers and its reward', () => {
    const c = parseBanditConfig(yaml, 'route');
    expect(c.arms.map((a) => a.name)).toEqual(DEFAULT_PROVIDERS.map((p) => p.name));
    expect(c.features).toEqual(['eu', 'tokens_k']);
    expect(c.circuitBreaker?.failureComponent).toBe('failed');
    expect(c.rewardSpec).toEqual(ROUTING_REWARD_SPEC);
  });

  it('refuses a breaker whose failure component is not in the reward spec', () => {
    expect(() => parseBanditConfig({ ...yaml, circuitBreaker: { failureComponent: 'error' } }, 'route')).toThrow('config.circuitBreaker.failureComponent: got "error", expected a component of config.rewardSpec (quality, latency_ms, failed)');
  });
});

describe('routing simulator with a provider outage (10 ms per request, cool-down 5 s)', () => {
  const breaker: CircuitBreakerConfig = { ...BREAKER_DEFAULTS, failureComponent: 'failed', consecutiveFailures: 5, cooldownMs: 5000 };
  const X = 2; // anthropic/us-east: the most used provider before the outage
  const outage = { provider: DEFAULT_PROVIDERS[X].name, from: 3000, to: 6000 };
  const steps = 10_000;
  const count = (arms: Int32Array, from: number, to: number) => { let n = 0; for (let t = from; t < to; t++) if (arms[t] === X) n++; return n; };

  it('reward: quality − 0.5·latency_s − failed', () => {
    expect(routingReward({ quality: 0.9, latency_ms: 400, failed: 0 })).toBeCloseTo(0.7, 12);
    expect(routingReward({ quality: 0, latency_ms: 4000, failed: 1 })).toBeCloseTo(-3, 12);
    const sim = new RoutingSimulator(1);
    expect(sim.expectedReward(X, { eu: 0, tokens_k: 1 }, 0)).toBeGreaterThan(sim.expectedReward(X, { eu: 1, tokens_k: 1 }, 0));
  });

  it('takes the failing provider out after consecutiveFailures requests, probes it once per cool-down, and routes to it again after recovery', () => {
    const on = runRoutingScenario({ seed: 1, steps, outages: [outage], breaker });
    const off = runRoutingScenario({ seed: 1, steps, outages: [outage], breaker: null });
    const line = (name: string, r: typeof on) => `${name}: share of ${outage.provider} before ${(count(r.arms, 2000, 3000) / 1000).toFixed(3)}, requests to it during the outage ${count(r.arms, 3000, 6000)}, failed requests ${r.failed.slice(3000, 6000).reduce((a, b) => a + b, 0)}, share after recovery (steps 8000–10000) ${(count(r.arms, 8000, 10_000) / 2000).toFixed(3)}, regret ${r.regret.toFixed(1)}`;
    process.stdout.write(`${line('breakers', on)}\n${line('no breakers', off)}\n`);
    expect(count(on.arms, 2000, 3000)).toBeGreaterThan(300); // it was carrying traffic
    // Every request to X during the outage fails; the breaker opens on the 5th; then one probe per cool-down (500 requests).
    const firstFive: number[] = [];
    for (let t = outage.from; t < outage.to && firstFive.length < 6; t++) if (on.arms[t] === X) firstFive.push(t);
    const probes = Math.ceil((outage.to - outage.from) / (breaker.cooldownMs / 10));
    expect(count(on.arms, outage.from, outage.to)).toBeLessThanOrEqual(breaker.consecutiveFailures + probes);
    expect(firstFive[5] - outage.from).toBeGreaterThanOrEqual(breaker.cooldownMs / 10); // the 6th only after a cool-down
    expect(on.opened[X]).toBeGreaterThanOrEqual(2);
    // After recovery X carries traffic again (ε alone would give it 0.05/4 = 1.25%).
    expect(count(on.arms, 8000, 10_000) / 2000).toBeGreaterThan(0.1);
    // Without breakers it keeps taking failing traffic, then the learner abandons it.
    expect(count(off.arms, outage.from, outage.to)).toBeGreaterThan(3 * count(on.arms, outage.from, outage.to));
    expect(count(off.arms, 8000, 10_000) / 2000).toBeLessThan(0.05);
    expect(on.regret).toBeLessThan(0.6 * off.regret);
    expect(Math.min(...on.propensities)).toBeGreaterThan(0);
  });
});
