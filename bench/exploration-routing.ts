/**
 * Meta-learned exploration (UC5) and routing with circuit breaking (UC9).
 * Run: node -r ./scripts/register-ts.js bench/exploration-routing.ts [--quick] [--no-redis]
 *
 *  1. Meta exploration on seeded task families (ml/bandits/meta-family.ts; 40 past deployments of 50 pulls
 *     per arm as snapshots; 30 new tasks per family, 10,000 steps): steps until the family-mean regret
 *     ratio (cumulative regret / a uniform policy's on the same contexts) stays ≤ 0.2 and ≤ 0.1, for
 *     `exploration: { kind: meta }` (priors + α from the 5 nearest snapshots, ε₀ 0.2 decayed by posterior
 *     uncertainty) and, as baselines in the same run, greedy LinUCB with fixed ε ∈ {0.02, 0.05, 0.1, 0.2};
 *     ablations: the meta priors and α with fixed ε 0.05 ("warm start only"), and the decay without
 *     priors ("decay only").
 *  2. Routing outage (ml/routing/scenario.ts, 10,000 requests at 10 ms, the busiest provider down for
 *     requests 3,000–6,000, cool-down 5 s): with and without circuit breakers, per seed: requests sent
 *     to the failing provider during the outage, failed requests, its share after recovery (requests
 *     8,000–10,000), cumulative regret.
 *  3. (with Redis on 127.0.0.1:6379, unless --no-redis) the breaker read a routing decide adds: median
 *     and p99 of `RoutingBreaker.read()` (one Lua script) over 5,000 sequential calls; baseline in the
 *     same run: a plain GET.
 */
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { buildLearner, parseBanditConfig } from '../ml/bandits/config';
import { EpsilonGreedy, LinUCB, metaWarmStart, UncertaintyEpsilon, type BanditPolicy } from '../ml/bandits';
import { drawFamilyTask, familySnapshots, playFamilyTask, type FamilyTask } from '../ml/bandits/meta-family';
import { BREAKER_DEFAULTS } from '../ml/routing/circuit-breaker';
import { runRoutingScenario } from '../ml/routing/scenario';
import { DEFAULT_PROVIDERS } from '../ml/routing/simulator';
import { Rng } from '../ml/rng';
import { RoutingBreaker } from '../inference/bandits/breaker';

const quick = process.argv.includes('--quick');
const noRedis = process.argv.includes('--no-redis');
const T = 10_000, N = 30;
const snapshots = familySnapshots(1, 40, 50);

function metaLearner(t: FamilyTask): BanditPolicy {
  return buildLearner(parseBanditConfig({
    learner: { kind: 'linucb' },
    arms: t.theta.map((_, a) => `${t.name}/arm-${a}`),
    features: Array.from({ length: t.task.contextDim - 1 }, (_, j) => `u${j}`),
    exploration: { kind: 'meta', task: { rewardScale: t.task.rewardScale }, snapshots },
  }, t.name));
}

const policies: [string, (t: FamilyTask) => BanditPolicy][] = [
  ['meta', metaLearner],
  ...[0.02, 0.05, 0.1, 0.2].map((epsilon): [string, (t: FamilyTask) => BanditPolicy] => [`fixed ε ${epsilon}`, (t) => new EpsilonGreedy(new LinUCB({ nArms: t.task.nArms, d: t.task.contextDim, alpha: 0 }), { epsilon })]),
  ['warm start only (ε 0.05)', (t) => {
    const w = metaWarmStart(t.task, t.theta.map((_, a) => `${a}`), snapshots);
    return new EpsilonGreedy(new LinUCB({ nArms: t.task.nArms, d: t.task.contextDim, alpha: t.task.rewardScale * Math.sqrt(w.noiseVar), priors: w.priors }), { epsilon: 0.05 });
  }],
  ['decay only (no priors)', (t) => new UncertaintyEpsilon(new LinUCB({ nArms: t.task.nArms, d: t.task.contextDim, alpha: 0 }), { epsilon0: 0.2 })],
];

function steps(c: Float64Array, target: number): string {
  if (c[T - 1] > target) return `>${T}`;
  for (let s = T - 1; s >= 0; s--) if (c[s] > target) return String(s + 2);
  return '1';
}

function metaSection(): void {
  process.stdout.write(`\n## 1. meta exploration (families of ${N} tasks, ${T} steps)\n| family seed | policy | steps to 0.2 | steps to 0.1 | ratio at ${T} |\n|---|---|---|---|---|\n`);
  for (const seed of quick ? [7] : [7, 8, 9]) {
    for (const [name, make] of policies) {
      const rng = new Rng(seed);
      const curve = new Float64Array(T);
      for (let i = 0; i < N; i++) {
        const t = drawFamilyTask(rng, `new-${i}`);
        const run = playFamilyTask(t, make(t), T, 100 + i);
        for (let s = 0; s < T; s++) curve[s] += run.regret[s] / run.uniformRegret[s] / N;
      }
      process.stdout.write(`| ${seed} | ${name} | ${steps(curve, 0.2)} | ${steps(curve, 0.1)} | ${curve[T - 1].toFixed(3)} |\n`);
    }
  }
}

function routingSection(): void {
  const X = 2;
  const outage = { provider: DEFAULT_PROVIDERS[X].name, from: 3000, to: 6000 };
  const breaker = { ...BREAKER_DEFAULTS, failureComponent: 'failed', cooldownMs: 5000 };
  process.stdout.write(`\n## 2. routing outage (${outage.provider} down for requests 3000–6000)\n| seed | breakers | requests to it during the outage | failed requests | its share after recovery | regret |\n|---|---|---|---|---|---|\n`);
  for (const seed of quick ? [1] : [1, 2, 3]) {
    for (const b of [breaker, null]) {
      const r = runRoutingScenario({ seed, steps: 10_000, outages: [outage], breaker: b });
      let during = 0, after = 0, failed = 0;
      for (let t = 3000; t < 6000; t++) { if (r.arms[t] === X) during++; failed += r.failed[t]; }
      for (let t = 8000; t < 10_000; t++) if (r.arms[t] === X) after++;
      process.stdout.write(`| ${seed} | ${b ? 'on' : 'off'} | ${during} | ${failed} | ${(after / 2000).toFixed(3)} | ${r.regret.toFixed(1)} |\n`);
    }
  }
}

async function redisSection(): Promise<void> {
  const redis = new Redis('redis://127.0.0.1:6379');
  const key = `bench-route-${process.pid}`;
  const b = new RoutingBreaker(redis, key, { ...BREAKER_DEFAULTS, failureComponent: 'failed' }, DEFAULT_PROVIDERS.map((p) => p.name));
  await b.record([{ arm: 0, failed: true }]);
  const time = async (f: () => Promise<unknown>) => {
    const xs: number[] = [];
    for (let i = 0; i < 5000; i++) { const t0 = performance.now(); await f(); xs.push(performance.now() - t0); }
    xs.sort((a, c) => a - c);
    return { p50: xs[2500] * 1000, p99: xs[4950] * 1000 };
  };
  const get = await time(() => redis.get(key));
  const read = await time(() => b.read());
  process.stdout.write(`\n## 3. breaker read per decide (4 arms)\n| call | p50 µs | p99 µs |\n|---|---|---|\n| GET (baseline) | ${get.p50.toFixed(0)} | ${get.p99.toFixed(0)} |\n| RoutingBreaker.read() | ${read.p50.toFixed(0)} | ${read.p99.toFixed(0)} |\n`);
  await redis.del(b.key);
  redis.disconnect();
}

async function main(): Promise<void> {
  process.stdout.write(`# exploration-routing bench, ${new Date().toISOString()}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
  metaSection();
  routingSection();
  if (!noRedis) await redisSection();
}

void main();
