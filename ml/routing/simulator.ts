/**
 * A routing simulator (UC9): requests from two regions go to LLM providers deployed in regions; each
 * call has a quality, a latency and may fail. Pure and seeded (`Rng`), for tests, benches and demos.
 *
 *   context x = { eu: 1 if the caller is in Europe else 0, tokens_k: prompt length in thousands of tokens ∈ [0.1, 4] }
 *   latency (ms) = base_p + 90·[caller region ≠ provider region] + perToken_p·tokens_k·1000, × LogNormal(0, 0.2)
 *   quality ~ clip(N(q_p, 0.1), 0, 1)
 *   failure with probability failRate_p (during an outage of p: outageFailRate, default 1); a failed
 *   call has quality 0 and takes the timeout (4,000 ms)
 *
 * The reward is the routing reward spec (`ROUTING_REWARD_SPEC`, the one configs/routing/routing.yaml
 * deploys): quality − 0.5·latency_s − 1·failed, so a provider is worth 0.05 of quality per 100 ms.
 *
 * Default providers (the best one depends on the caller's region):
 *
 *   arm                  region  base ms  ms/1k tokens  quality  failRate
 *   openai/us-east       us        350        120         0.86     0.005
 *   openai/eu-west       eu        380        120         0.86     0.005
 *   anthropic/us-east    us        420        100         0.90     0.005
 *   selfhosted/eu-west   eu        250         60         0.70     0.01
 */
import { compositeReward, parseRewardSpec, type RewardSpec } from '../rewards';
import { Rng } from '../rng';

export interface Provider {
  name: string;
  region: 'us' | 'eu';
  baseMs: number;
  msPerKTokens: number;
  quality: number;
  failRate: number;
}

export const DEFAULT_PROVIDERS: readonly Provider[] = [
  { name: 'openai/us-east', region: 'us', baseMs: 350, msPerKTokens: 120, quality: 0.86, failRate: 0.005 },
  { name: 'openai/eu-west', region: 'eu', baseMs: 380, msPerKTokens: 120, quality: 0.86, failRate: 0.005 },
  { name: 'anthropic/us-east', region: 'us', baseMs: 420, msPerKTokens: 100, quality: 0.9, failRate: 0.005 },
  { name: 'selfhosted/eu-west', region: 'eu', baseMs: 250, msPerKTokens: 60, quality: 0.7, failRate: 0.01 },
];

/** The reward of a routed call: quality − 0.5 per second of latency − 1 per failure. */
export const ROUTING_REWARD_SPEC: RewardSpec = parseRewardSpec({
  version: 1,
  components: {
    quality: { source: 'quality', weight: 1, range: { min: 0, max: 1 } },
    latency_ms: { source: 'latency', weight: 0.5, direction: 'penalty', transform: { kind: 'linear', scale: 0.001 }, range: { min: 0, max: 600_000 } },
    failed: { source: 'quality', weight: 1, direction: 'penalty', range: { min: 0, max: 1 } },
  },
});

export const TIMEOUT_MS = 4000;

export interface RoutingContext {
  eu: number;
  tokens_k: number;
}

export interface CallOutcome {
  quality: number;
  latency_ms: number;
  failed: number;
}

/** An outage: `provider` fails with probability `failRate` (default 1) from step `from` (inclusive) to `to` (exclusive). */
export interface Outage {
  provider: string;
  from: number;
  to: number;
  failRate?: number;
}

export class RoutingSimulator {
  private readonly rng: Rng;

  constructor(seed: number, readonly providers: readonly Provider[] = DEFAULT_PROVIDERS, readonly outages: readonly Outage[] = []) {
    this.rng = new Rng(seed);
    for (const o of outages) if (!providers.some((p) => p.name === o.provider)) throw new Error(`outages: provider ${JSON.stringify(o.provider)} is not one of ${providers.map((p) => p.name).join(', ')}`);
  }

  /** The next request's context. */
  context(): RoutingContext {
    return { eu: this.rng.uniform() < 0.5 ? 1 : 0, tokens_k: 0.1 + 3.9 * this.rng.uniform() ** 2 };
  }

  /** The failure probability of provider `arm` at `step`. */
  failRate(arm: number, step: number): number {
    const p = this.providers[arm];
    const o = this.outages.find((x) => x.provider === p.name && step >= x.from && step < x.to);
    return o ? (o.failRate ?? 1) : p.failRate;
  }

  /** Expected latency (ms) of a successful call. */
  meanLatency(arm: number, x: RoutingContext): number {
    const p = this.providers[arm];
    return (p.baseMs + (p.region === (x.eu ? 'eu' : 'us') ? 0 : 90) + p.msPerKTokens * x.tokens_k) * Math.exp(0.02);
  }

  /** Expected reward of routing a request with context x to `arm` at `step`. */
  expectedReward(arm: number, x: RoutingContext, step: number): number {
    const f = this.failRate(arm, step);
    const ok = this.providers[arm].quality - 0.5 * this.meanLatency(arm, x) / 1000;
    return (1 - f) * ok + f * (-0.5 * TIMEOUT_MS / 1000 - 1);
  }

  /** One call's outcome. */
  call(arm: number, x: RoutingContext, step: number): CallOutcome {
    const p = this.providers[arm];
    if (this.rng.uniform() < this.failRate(arm, step)) return { quality: 0, latency_ms: TIMEOUT_MS, failed: 1 };
    const latency = (p.baseMs + (p.region === (x.eu ? 'eu' : 'us') ? 0 : 90) + p.msPerKTokens * x.tokens_k) * Math.exp(0.2 * this.rng.normal());
    const quality = Math.min(1, Math.max(0, p.quality + 0.1 * this.rng.normal()));
    return { quality, latency_ms: latency, failed: 0 };
  }
}

/** The routing reward of a call's outcome. */
export function routingReward(o: CallOutcome): number {
  return compositeReward(ROUTING_REWARD_SPEC, { quality: o.quality, latency_ms: o.latency_ms, failed: o.failed }).reward;
}
