/**
 * OPE bench: all seven estimators plus one 10,000-resample percentile bootstrap on 1,000,000 logged
 * rounds with 10 actions, and peak memory. Baselines measured in the same run:
 *   - estimators: a straightforward reference (nested number[][] arrays, one estimator per loop);
 *   - bootstrap: the OBP-style resample (draw n indices per resample into a fresh array with the
 *     project Rng, then average), and the same with one fast xorshift index per draw and no
 *     allocation; both timed on a few resamples and reported per resample.
 *
 *   node -r ./scripts/register-ts.js bench/ope.ts [--rounds 1000000] [--actions 10] [--resamples 10000]
 */
import { checkOpeInputs, evaluatePolicy, makeEstimator, meanOf, ESTIMATOR_NAMES, type OpeInputs } from '../ml/ope';
import { bootstrapMeans, percentileBootstrap } from '../ml/stats/bootstrap';
import { Xorshift128 } from '../ml/stats/fast-random';
import { Rng } from '../ml/rng';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const N = arg('rounds', 1_000_000);
const A = arg('actions', 10);
const B = arg('resamples', 10_000);

let peakRss = 0;
const sampleRss = () => { peakRss = Math.max(peakRss, process.memoryUsage().rss); };
const timer = setInterval(sampleRss, 20);
timer.unref();

function time<T>(f: () => T): { ms: number; result: T } {
  const t0 = process.hrtime.bigint();
  const result = f();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  sampleRss();
  return { ms, result };
}

/** Synthetic logged data: softmax logging and evaluation policies, Bernoulli rewards, a noisy q̂. */
function makeData(): OpeInputs {
  const g = new Xorshift128(7);
  const reward = new Float64Array(N), pscore = new Float64Array(N), action = new Int32Array(N);
  const dist = new Float64Array(N * A), q = new Float64Array(N * A);
  const piB = new Float64Array(A);
  for (let i = 0; i < N; i++) {
    let zb = 0, ze = 0;
    for (let a = 0; a < A; a++) {
      piB[a] = Math.exp(g.uniform());
      zb += piB[a];
      const e = Math.exp(3 * g.uniform());
      dist[i * A + a] = e;
      ze += e;
      q[i * A + a] = g.uniform();
    }
    let u = g.uniform() * zb, a = 0;
    while (a < A - 1 && (u -= piB[a]) >= 0) a++;
    for (let b = 0; b < A; b++) dist[i * A + b] /= ze;
    action[i] = a;
    pscore[i] = piB[a] / zb;
    reward[i] = g.uniform() < q[i * A + a] ? 1 : 0;
    for (let b = 0; b < A; b++) q[i * A + b] = Math.min(1, Math.max(0, q[i * A + b] + 0.1 * (g.uniform() - 0.5)));
  }
  return { reward, action, pscore, actionDist: { data: dist, nRounds: N, nActions: A, lenList: 1 }, estimatedRewardsByRegModel: { data: q, nRounds: N, nActions: A, lenList: 1 } };
}

/** The reference: nested arrays, as a first implementation would hold JSON input. */
function naiveEstimators(x: { reward: number[]; action: number[]; pscore: number[]; dist: number[][]; q: number[][] }): Record<string, number> {
  const n = x.reward.length;
  const w = x.reward.map((_, i) => x.dist[i][x.action[i]] / x.pscore[i]);
  const qPi = x.dist.map((row, i) => row.reduce((s, p, a) => s + p * x.q[i][a], 0));
  const res = x.reward.map((r, i) => r - x.q[i][x.action[i]]);
  const meanW = w.reduce((s, v) => s + v, 0) / n;
  const mean = (f: (i: number) => number) => { let s = 0; for (let i = 0; i < n; i++) s += f(i); return s / n; };
  return {
    ipw: mean((i) => x.reward[i] * w[i]),
    snipw: mean((i) => (x.reward[i] * w[i]) / meanW),
    dm: mean((i) => qPi[i]),
    dr: mean((i) => qPi[i] + w[i] * res[i]),
    sndr: mean((i) => qPi[i] + (w[i] * res[i]) / meanW),
    'switch-dr': mean((i) => qPi[i] + w[i] * res[i]),
    'dr-os': mean((i) => qPi[i]),
  };
}

function main(): void {
  console.log(`OPE bench: ${N.toLocaleString()} rounds × ${A} actions, ${B.toLocaleString()} bootstrap resamples (node ${process.version})`);
  const gen = time(makeData);
  const data = gen.result;
  console.log(`  data generation                 ${gen.ms.toFixed(0).padStart(8)} ms`);

  let estimatorsMs = 0;
  const values: Record<string, number> = {};
  for (const name of ESTIMATOR_NAMES) {
    const est = makeEstimator(name);
    const t = time(() => est.estimatePolicyValue(data));
    values[name] = t.result;
    estimatorsMs += t.ms;
    console.log(`  ${name.padEnd(10)} V̂ = ${t.result.toFixed(6)}  ${t.ms.toFixed(0).padStart(8)} ms (incl. input checks)`);
  }
  console.log(`  all seven estimators            ${estimatorsMs.toFixed(0).padStart(8)} ms (each validating its inputs)`);
  const check = time(() => checkOpeInputs(data, ['reward', 'action', 'pscore', 'estimatedRewardsByRegModel'], 'bench'));
  let computeMs = 0;
  for (const name of ESTIMATOR_NAMES) computeMs += time(() => meanOf(makeEstimator(name).roundRewardsFromChecked(check.result))).ms;
  console.log(`  one checkOpeInputs pass ${check.ms.toFixed(0).padStart(6)} ms + seven estimators on checked inputs ${computeMs.toFixed(0)} ms`);

  const dr = makeEstimator('dr').roundRewards(data);
  const boot = time(() => percentileBootstrap(dr, { nBootstrapSamples: B, randomState: 1 }));
  console.log(`  bootstrap DR, ${B} resamples    ${boot.ms.toFixed(0).padStart(8)} ms  (${(boot.ms / B).toFixed(3)} ms/resample) → [${boot.result.lower.toFixed(6)}, ${boot.result.upper.toFixed(6)}]`);

  const ev = time(() => evaluatePolicy(data, { estimators: ['ipw'], nBootstrapSamples: 1000 }));
  console.log(`  evaluatePolicy(ipw, 1,000 resamples) ${ev.ms.toFixed(0).padStart(6)} ms`);
  sampleRss();
  const oursMaxRss = process.resourceUsage().maxRSS * 1024;
  console.log(`  peak memory of the above (before any baseline): maxRSS ${(oursMaxRss / 2 ** 20).toFixed(0)} MiB, heap used ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, array buffers ${(process.memoryUsage().arrayBuffers / 2 ** 20).toFixed(0)} MiB`);

  const nestT0 = process.hrtime.bigint();
  const nested = {
    reward: Array.from(data.reward!), action: Array.from(data.action!), pscore: Array.from(data.pscore!),
    dist: Array.from({ length: N }, (_, i) => Array.from(data.actionDist.data.subarray(i * A, i * A + A))),
    q: Array.from({ length: N }, (_, i) => Array.from(data.estimatedRewardsByRegModel!.data.subarray(i * A, i * A + A))),
  };
  const nestMs = Number(process.hrtime.bigint() - nestT0) / 1e6;
  const naive = time(() => naiveEstimators(nested));
  for (const name of ['ipw', 'snipw', 'dm', 'dr', 'sndr'] as const) {
    if (Math.abs(naive.result[name] - values[name]) > 1e-9 * Math.max(1, Math.abs(values[name]))) throw new Error(`reference ${name} disagrees: ${naive.result[name]} vs ${values[name]}`);
  }
  console.log(`  reference (nested arrays, no checks) ${naive.ms.toFixed(0).padStart(3)} ms  → ratio reference/ours-without-checks ${(naive.ms / computeMs).toFixed(2)}× (the reference also needed ${nestMs.toFixed(0)} ms to build its nested arrays)`);

  // Baselines per resample, on a few resamples.
  const few = 10;
  const obpStyle = time(() => {
    const rng = new Rng(1);
    const means = new Float64Array(few);
    for (let r = 0; r < few; r++) {
      const resample = new Float64Array(N);
      for (let i = 0; i < N; i++) resample[i] = dr[rng.int(N)];
      let s = 0;
      for (let i = 0; i < N; i++) s += resample[i];
      means[r] = s / N;
    }
    return means;
  });
  const oneIndex = time(() => {
    // The strongest simple baseline: one unbiased Lemire index per draw from an inlined xorshift128.
    const g = new Xorshift128(1);
    let x = g.x | 0, y = g.y | 0, z = g.z | 0, w = g.w | 0;
    const threshold = 4294967296 % N;
    const means = new Float64Array(few * 4);
    for (let r = 0; r < few * 4; r++) {
      let s = 0;
      for (let i = 0; i < N; i++) {
        for (;;) {
          const t = x ^ (x << 11);
          x = y; y = z; z = w; w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
          const m = (w >>> 0) * N;
          const hi = Math.floor(m / 4294967296);
          if (m - hi * 4294967296 >= threshold) { s += dr[hi]; break; }
        }
      }
      means[r] = s / N;
    }
    return means;
  });
  const fastFew = time(() => bootstrapMeans(dr, few * 4, 2));
  const perObp = obpStyle.ms / few, perOne = oneIndex.ms / (few * 4), perFast = boot.ms / B;
  console.log(`  baseline OBP-style resample (Rng, fresh array) ${perObp.toFixed(2)} ms/resample → ratio ${(perObp / perFast).toFixed(1)}×`);
  console.log(`  baseline one inlined xorshift index per draw     ${perOne.toFixed(2)} ms/resample → ratio ${(perOne / perFast).toFixed(1)}×  (ours on the same ${few * 4}: ${(fastFew.ms / (few * 4)).toFixed(2)} ms/resample)`);

  sampleRss();
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(`  peak memory including the baselines: maxRSS ${(maxRss / 2 ** 20).toFixed(0)} MiB (sampled rss peak ${(peakRss / 2 ** 20).toFixed(0)} MiB; the nested-array reference holds boxed copies of the data)`);
}

main();
