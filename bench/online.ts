/**
 * Online learning throughput, learners in isolation (seed 001 component 3: "1,000+ updates/s,
 * < 1 s per 1,000-sample batch"). Run: node -r ./scripts/register-ts.js bench/online.ts [--json]
 *
 * d = 16 features, 5 arms. For every learner: updates/s, selects/s and the time for a 1,000-sample
 * batch (one update per sample, and as one applyStats of 1,000 deltas — what a server does after
 * reading shared statistics). The baseline, measured in the same run, is LinUCB that inverts
 * A = λI + Σ x xᵀ from scratch (Gauss–Jordan, O(d³)) on every update instead of Sherman–Morrison
 * (O(d²)). Also: ADWIN and Page–Hinkley updates/s.
 * (Serving end to end — POST /v1/rewards through Redis, decide p50/p99 — comes with the inference server.)
 */
import { ADWIN, PageHinkley } from '../ml/drift';
import {
  BanditPolicy, BetaThompsonSampling, EpsilonGreedy, GaussianThompsonSampling, LinearThompsonSampling, LinUCB, Softmax, StatsDelta,
} from '../ml/bandits';
import { invertGaussJordan, matVec, quadForm, dot } from '../ml/bandits/linalg';
import { Rng } from '../ml/rng';

const d = 16;
const K = 5;

/** LinUCB with a full inversion of A per update: the naive reference. */
class NaiveLinUCB {
  private readonly a: Float64Array[] = [];
  private readonly ainv: Float64Array[] = [];
  private readonly b: Float64Array[] = [];
  constructor(private readonly alpha = 1) {
    for (let k = 0; k < K; k++) {
      const m = new Float64Array(d * d);
      for (let i = 0; i < d; i++) m[i * d + i] = 1;
      this.a.push(m);
      this.ainv.push(Float64Array.from(m));
      this.b.push(new Float64Array(d));
    }
  }
  update(x: ArrayLike<number>, arm: number, r: number): void {
    const a = this.a[arm];
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) a[i * d + j] += x[i] * x[j];
      this.b[arm][i] += r * x[i];
    }
    this.ainv[arm] = invertGaussJordan(a, d);
  }
  select(x: ArrayLike<number>): number {
    let best = 0, bestP = -Infinity;
    for (let k = 0; k < K; k++) {
      const theta = matVec(this.ainv[k], this.b[k], d);
      const p = dot(x, theta, d) + this.alpha * Math.sqrt(quadForm(this.ainv[k], x, d));
      if (p > bestP) { bestP = p; best = k; }
    }
    return best;
  }
}

interface Sample { x: number[]; arm: number; r: number }

function samples(n: number, seed: number): Sample[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    x: [1, ...Array.from({ length: d - 1 }, () => rng.uniform())],
    arm: rng.int(K),
    r: rng.uniform(),
  }));
}

/** Runs `fn` over `n` items repeatedly for at least `minMs`; returns operations per second. */
function opsPerSecond(n: number, fn: (i: number) => void, minMs = 400): number {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i); // warm-up
  let ops = 0;
  const t0 = process.hrtime.bigint();
  let elapsed: number;
  do {
    for (let i = 0; i < n; i++) fn(i);
    ops += n;
    elapsed = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (elapsed < minMs);
  return (ops / elapsed) * 1000;
}

function timeMs(fn: () => void, repeats = 5): number {
  let best = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return best;
}

interface Row {
  learner: string;
  updatesPerSec: number;
  selectsPerSec: number;
  batch1000UpdateMs: number;
  batch1000ApplyStatsMs: number;
}

function benchLearner(name: string, make: () => BanditPolicy, data: Sample[]): Row {
  const rng = new Rng(1);
  const learner = make();
  const updatesPerSec = opsPerSecond(data.length, (i) => learner.update(data[i].x, data[i].arm, data[i].r));
  const selectsPerSec = opsPerSecond(Math.min(data.length, 5000), (i) => { learner.select(data[i].x, rng); }, 300);
  const batch = data.slice(0, 1000);
  const batch1000UpdateMs = timeMs(() => {
    const l = make();
    for (const s of batch) l.update(s.x, s.arm, s.r);
  });
  const deltas: StatsDelta[] = batch.map((s) => learner.statsDelta(s.x, s.arm, s.r));
  const batch1000ApplyStatsMs = timeMs(() => make().applyStats(deltas));
  return { learner: name, updatesPerSec, selectsPerSec, batch1000UpdateMs, batch1000ApplyStatsMs };
}

function main(): void {
  const json = process.argv.includes('--json');
  const data = samples(20000, 7);
  const rows: Row[] = [];

  // Baseline first: LinUCB inverting A on every update.
  const naive = new NaiveLinUCB();
  const naiveUpdates = opsPerSecond(data.length, (i) => naive.update(data[i].x, data[i].arm, data[i].r));
  const naiveSelects = opsPerSecond(5000, (i) => { naive.select(data[i].x); }, 300);
  const naiveBatch = timeMs(() => {
    const l = new NaiveLinUCB();
    for (const s of data.slice(0, 1000)) l.update(s.x, s.arm, s.r);
  });
  rows.push({ learner: 'baseline: LinUCB, full inverse per update', updatesPerSec: naiveUpdates, selectsPerSec: naiveSelects, batch1000UpdateMs: naiveBatch, batch1000ApplyStatsMs: Number.NaN });

  const learners: [string, () => BanditPolicy][] = [
    ['LinUCB (Sherman–Morrison)', () => new LinUCB({ nArms: K, d })],
    ['ε-greedy(LinUCB), ε=0.05', () => new EpsilonGreedy(new LinUCB({ nArms: K, d }))],
    ['softmax(LinUCB), τ=0.1', () => new Softmax(new LinUCB({ nArms: K, d }))],
    ['LinTS, propensityDraws=1', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3, propensityDraws: 1 })],
    ['LinTS, propensityDraws=100', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3 })],
    ['LinTS cholesky, propensityDraws=1', () => new LinearThompsonSampling({ nArms: K, d, v: 0.3, propensityDraws: 1, sampler: 'cholesky' })],
    ['Beta TS, propensityDraws=1', () => new BetaThompsonSampling({ nArms: K, propensityDraws: 1 })],
    ['Beta TS, propensityDraws=100', () => new BetaThompsonSampling({ nArms: K })],
    ['Gaussian TS, propensityDraws=100', () => new GaussianThompsonSampling({ nArms: K })],
  ];
  for (const [name, make] of learners) rows.push(benchLearner(name, make, data));

  const rng = new Rng(3);
  const stream = Array.from({ length: 100000 }, () => rng.normal());
  const adwin = new ADWIN();
  const adwinPerSec = opsPerSecond(stream.length, (i) => adwin.update(stream[i]));
  const ph = new PageHinkley();
  const phPerSec = opsPerSecond(stream.length, (i) => ph.update(stream[i]));

  const lin = rows.find((r) => r.learner.startsWith('LinUCB (Sherman'))!;
  const ratio = lin.updatesPerSec / naiveUpdates;
  if (json) {
    process.stdout.write(`${JSON.stringify({ d, arms: K, rows, drift: { adwinUpdatesPerSec: adwinPerSec, pageHinkleyUpdatesPerSec: phPerSec }, shermanMorrisonSpeedup: ratio }, null, 2)}\n`);
    return;
  }
  const fmt = (v: number, digits = 0) => (Number.isNaN(v) ? '—' : v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  console.log(`online learners in isolation, d = ${d}, ${K} arms (node ${process.version})`);
  console.log(`${'learner'.padEnd(44)}${'updates/s'.padStart(12)}${'selects/s'.padStart(12)}${'1k batch ms'.padStart(13)}${'1k applyStats ms'.padStart(18)}`);
  for (const r of rows) {
    console.log(`${r.learner.padEnd(44)}${fmt(r.updatesPerSec).padStart(12)}${fmt(r.selectsPerSec).padStart(12)}${fmt(r.batch1000UpdateMs, 2).padStart(13)}${fmt(r.batch1000ApplyStatsMs, 2).padStart(18)}`);
  }
  console.log(`ADWIN updates/s ${fmt(adwinPerSec)}; Page–Hinkley updates/s ${fmt(phPerSec)}`);
  console.log(`LinUCB Sherman–Morrison vs full inverse per update: ${ratio.toFixed(1)}× the updates/s`);
}

main();
