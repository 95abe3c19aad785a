/**
 * Optimisers bench (R-USE-CASES: Bayesian optimisation, budget LP, forecasting).
 * Run: node -r ./scripts/register-ts.js bench/optimisers.ts [--quick] [--json]
 *
 *  1. Time per BO proposal (`ask(1)`: GP hyperparameter fit with 3 L-BFGS starts + acquisition
 *     search) after 20 / 100 / 300 observations in 4 and 8 dimensions, split into the GP fit and the
 *     acquisition search; the first proposal (cold θ) and the median of the next ones (θ warm-started
 *     from the previous fit). Baseline in the same run: a random-search proposal.
 *  2. Budget LP: 50 segments × 10 models (500 shares), solve time through HiGHS (WebAssembly) for the LP
 *     and the MIP (minShare 0.1, at most 5 models), and the time to write the LP text; baseline in
 *     the same run: a greedy allocation (each segment's best quality per cost until the budget is
 *     spent), with its quality next to the LP optimum.
 *  3. Forecasting: fit time per series for autoArima and autoEts on an hourly series (28 days, m = 24)
 *     and a non-seasonal series (n = 300), and the held-out MAE over the next 24 h; baseline in the
 *     same run: the seasonal naive forecast ŷ_{n+h} = y_{n+h−m} (fit time ~0) and its MAE.
 *  4. BO vs random search: median simple regret vs evaluations over 10 seeds on Branin (50
 *     evaluations) and Hartmann-6 (80 evaluations).
 */
import loadHighs from 'highs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { BayesianOptimizer, BRANIN_MINIMUM, branin, braninSpace, GaussianProcess, HARTMANN6_MINIMUM, hartmann6, hartmann6Space, maximiseAcquisition, ExpectedImprovement, SearchSpace, bestSoFar, randomSearchConfigs, type Config } from '../ml/bo';
import { allocationProgram, solveBudgetAllocation, toCplexLp, type AllocationProblem } from '../ml/lp';
import { autoArima, autoEts, simulateArima } from '../ml/forecast';
import { Rng } from '../ml/rng';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
/** `--only forecast,recovery`: run only these sections (bo, lp, forecast, regret, recovery). */
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg >= 0 ? new Set(process.argv[onlyArg + 1].split(',')) : null;
const runs = (section: string) => only === null || only.has(section);
const out: Record<string, unknown> = {};
const log = (line: string) => { if (!asJson) console.log(line); };
const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const ms = (t0: number) => performance.now() - t0;
const f1 = (v: number) => v.toFixed(1);

log(`optimisers bench — ${new Date().toISOString()} — ${os.cpus()[0]?.model ?? 'cpu'} × ${os.cpus().length}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
out.machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, loadavg: os.loadavg(), node: process.version };

// ---------------------------------------------------------------- 1. BO proposal time
/** A smooth test surface in d dimensions (a sum of bumps), minimised. */
function surface(u: ArrayLike<number>): number {
  let f = 0;
  for (let i = 0; i < u.length; i++) f += Math.sin(3 * u[i] + i) + (u[i] - 0.3) ** 2;
  return f;
}
function boProposalTimes() {
  log('\n1. BO proposal time (ask(1)), ms — GP fit (3 L-BFGS starts) + acquisition search (1024 random + 4 local searches)');
  log('   d    n   cold ask   warm ask (median)   GP fit alone (cold θ)   acquisition search alone   random-search proposal');
  const rows: unknown[] = [];
  for (const d of [4, 8]) {
    const space = new SearchSpace(Array.from({ length: d }, (_, i) => ({ name: `x${i}`, type: 'continuous' as const, low: 0, high: 1 })));
    for (const n of quick ? [20, 100] : [20, 100, 300]) {
      const rng = new Rng(d * 1000 + n);
      const bo = new BayesianOptimizer({ space, seed: 1, direction: 'minimize', initialDesign: 5 });
      const x: Float64Array[] = [];
      const y: number[] = [];
      for (let i = 0; i < n; i++) {
        const u = space.sample(rng);
        x.push(u);
        y.push(surface(u));
        bo.tell(space.decode(u), y[i]);
      }
      const askOnce = () => { const t0 = performance.now(); const [c] = bo.ask(1); const t = ms(t0); bo.tell(c, surface(space.encode(c))); return t; };
      const cold = askOnce();
      const warm = [askOnce(), askOnce(), ...(n < 300 ? [askOnce()] : [])];
      // the two parts, timed separately on the same data
      let t0 = performance.now();
      const gp = new GaussianProcess(d).fit(x, y.map((v) => -v), { rng: new Rng(1), restarts: 3 });
      const fitMs = ms(t0);
      t0 = performance.now();
      const ei = new ExpectedImprovement();
      const best = Math.max(...y.map((v) => -v));
      maximiseAcquisition((u) => { const p = gp.predict(u); return ei.value(p.mean, Math.sqrt(p.variance), best); }, space, new Rng(2));
      const acqMs = ms(t0);
      t0 = performance.now();
      const reps = 1000;
      randomSearchConfigs(space, reps, 3);
      const randomMs = ms(t0) / reps;
      log(`  ${String(d).padStart(2)}  ${String(n).padStart(3)}   ${f1(cold).padStart(8)}   ${f1(median(warm)).padStart(17)}   ${f1(fitMs).padStart(21)}   ${f1(acqMs).padStart(24)}   ${randomMs.toFixed(4).padStart(22)}`);
      rows.push({ d, n, coldMs: cold, warmMedianMs: median(warm), gpFitColdMs: fitMs, acquisitionSearchMs: acqMs, randomProposalMs: randomMs });
    }
  }
  out.boProposal = rows;
}

// ---------------------------------------------------------------- 2. budget LP
function lpInstance(seed: number, S: number, M: number): AllocationProblem {
  const rng = new Rng(seed);
  const models = Array.from({ length: M }, (_, m) => ({ name: `model_${m}` }));
  const q = models.map(() => 0.5 + 0.4 * rng.uniform());
  const c = q.map((v) => 1e-4 * Math.exp(8 * (v - 0.5)) * (0.5 + rng.uniform()));
  const segments = Array.from({ length: S }, (_, s) => ({ name: `segment_${s}`, demand: Math.round(1e3 + 1e5 * rng.uniform()), qualityFloor: undefined as number | undefined }));
  const quality = segments.map(() => q.map((v) => Math.min(1, Math.max(0, v + 0.1 * (rng.uniform() - 0.5)))));
  const costPerRequest = segments.map(() => c.map((v) => v * (0.8 + 0.4 * rng.uniform())));
  let cheapest = 0, dearest = 0;
  segments.forEach((seg, s) => { cheapest += seg.demand * Math.min(...costPerRequest[s]); dearest += seg.demand * Math.max(...costPerRequest[s]); });
  segments.forEach((seg, s) => { if (rng.uniform() < 0.3) seg.qualityFloor = Math.min(...quality[s]) + 0.4 * (Math.max(...quality[s]) - Math.min(...quality[s])); });
  return { segments, models, quality, costPerRequest, budget: cheapest + 0.4 * (dearest - cheapest) };
}
/** Greedy baseline: start every segment on its cheapest model, then upgrade by best quality gain per extra cost while money lasts (floors ignored). */
function greedy(p: AllocationProblem): number {
  const choice = p.segments.map((_, s) => p.costPerRequest[s].indexOf(Math.min(...p.costPerRequest[s])));
  let spent = p.segments.reduce((acc, seg, s) => acc + seg.demand * p.costPerRequest[s][choice[s]], 0);
  for (;;) {
    let bestRatio = 0, bestS = -1, bestM = -1;
    p.segments.forEach((seg, s) => p.models.forEach((_, m) => {
      const dq = seg.demand * (p.quality[s][m] - p.quality[s][choice[s]]);
      const dc = seg.demand * (p.costPerRequest[s][m] - p.costPerRequest[s][choice[s]]);
      if (dq > 0 && dc > 0 && spent + dc <= p.budget && dq / dc > bestRatio) { bestRatio = dq / dc; bestS = s; bestM = m; }
    }));
    if (bestS < 0) break;
    spent += p.segments[bestS].demand * (p.costPerRequest[bestS][bestM] - p.costPerRequest[bestS][choice[bestS]]);
    choice[bestS] = bestM;
  }
  return p.segments.reduce((acc, seg, s) => acc + seg.demand * p.quality[s][choice[s]], 0);
}
async function lpTimes() {
  log('\n2. Budget allocation, 50 segments × 10 models (HiGHS 1.x as WebAssembly, one thread)');
  let t0 = performance.now();
  const highs = await loadHighs();
  const loadMs = ms(t0);
  const p = lpInstance(1, 50, 10);
  const reps = quick ? 5 : 20;
  const time = (f: () => unknown) => { f(); const ts: number[] = []; for (let i = 0; i < reps; i++) { const t = performance.now(); f(); ts.push(ms(t)); } return median(ts); };
  const writeMs = time(() => toCplexLp(allocationProgram(p, false)));
  const lp = solveBudgetAllocation(p, highs);
  const lpMs = time(() => solveBudgetAllocation(p, highs));
  const mipProblem = { ...p, minShare: 0.1, maxActiveModels: 5 };
  t0 = performance.now();
  const mip = solveBudgetAllocation(mipProblem, highs);
  const mipMs = ms(t0);
  const greedyQuality = greedy(p);
  const greedyMs = time(() => greedy(p));
  log(`   HiGHS load (once per process)         ${f1(loadMs)} ms`);
  log(`   LP: write LP text                      ${writeMs.toFixed(2)} ms (median of ${reps})`);
  log(`   LP: build + solve + read (500 vars)    ${f1(lpMs)} ms (median of ${reps}); expected quality ${lp.expectedQuality.toFixed(1)}, budget shadow price ${lp.shadowPrices.budget.toFixed(2)} quality/$`);
  log(`   MIP (minShare 0.1, ≤ 5 models) + pricing LP   ${f1(mipMs)} ms (one solve); expected quality ${mip.expectedQuality.toFixed(1)}, models ${mip.activeModels.join(' ')}`);
  log(`   baseline greedy upgrade (floors ignored)   ${greedyMs.toFixed(2)} ms; expected quality ${greedyQuality.toFixed(1)} (${(100 * (greedyQuality / lp.expectedQuality - 1)).toFixed(2)}% vs LP)`);
  out.lp = { segments: 50, models: 10, highsLoadMs: loadMs, writeLpMs: writeMs, lpSolveMs: lpMs, lpQuality: lp.expectedQuality, budgetShadowPrice: lp.shadowPrices.budget, mipSolveMs: mipMs, mipQuality: mip.expectedQuality, greedyMs, greedyQuality };
}

// ---------------------------------------------------------------- 3. forecasting
function forecastTimes() {
  log('\n3. Forecast fit time per series, and MAE on the next 24 points (held out)');
  const rows: unknown[] = [];
  const series = (seed: number) => {
    const rng = new Rng(seed);
    const noise = simulateArima(rng, 28 * 24 + 24, { phi: [0.5], sigma: 3 });
    return noise.map((e, t) => 100 + 0.02 * t + 30 * Math.sin((2 * Math.PI * t) / 24) + 10 * Math.cos((4 * Math.PI * t) / 24) + e);
  };
  const cases = [
    { name: 'hourly, 28 days, m = 24', m: 24, make: (s: number) => series(s) },
    { name: 'non-seasonal ARMA(1,1), n = 300', m: 1, make: (s: number) => simulateArima(new Rng(s), 324, { phi: [0.7], theta: [0.4], mean: 50 }) },
  ];
  const seeds = quick ? [1, 2] : [1, 2, 3, 4, 5];
  log('   series                           method              fit ms (median)   MAE (mean)   models chosen');
  for (const c of cases) {
    const results: Record<string, { ms: number[]; mae: number[]; names: string[] }> = { autoArima: { ms: [], mae: [], names: [] }, 'autoArima, plain AICc': { ms: [], mae: [], names: [] }, autoEts: { ms: [], mae: [], names: [] }, 'naive (baseline)': { ms: [], mae: [], names: [] } };
    for (const seed of seeds) {
      const y = c.make(seed);
      const train = y.slice(0, -24);
      const test = y.slice(-24);
      const mae = (f: number[]) => f.reduce((acc, v, h) => acc + Math.abs(v - test[h]), 0) / 24;
      let t0 = performance.now();
      const arima = autoArima(train, { m: c.m }).model;
      results.autoArima.ms.push(ms(t0));
      results.autoArima.mae.push(mae(arima.forecast(24).mean));
      results.autoArima.names.push(arima.name);
      t0 = performance.now();
      const plain = autoArima(train, { m: c.m, parsimony: 0 }).model;
      results['autoArima, plain AICc'].ms.push(ms(t0));
      results['autoArima, plain AICc'].mae.push(mae(plain.forecast(24).mean));
      results['autoArima, plain AICc'].names.push(plain.name);
      t0 = performance.now();
      const ets = autoEts(train, { m: c.m }).model;
      results.autoEts.ms.push(ms(t0));
      results.autoEts.mae.push(mae(ets.forecast(24).mean));
      results.autoEts.names.push(ets.name);
      t0 = performance.now();
      const naive = Array.from({ length: 24 }, (_, h) => train[train.length - c.m + (h % c.m)]);
      results['naive (baseline)'].ms.push(ms(t0));
      results['naive (baseline)'].mae.push(mae(naive));
      results['naive (baseline)'].names.push(c.m > 1 ? 'seasonal naive' : 'naive');
    }
    for (const [method, r] of Object.entries(results)) {
      const meanMae = r.mae.reduce((a, b) => a + b, 0) / r.mae.length;
      log(`   ${c.name.padEnd(32)} ${method.padEnd(18)} ${f1(median(r.ms)).padStart(15)}   ${meanMae.toFixed(3).padStart(10)}   ${[...new Set(r.names)].slice(0, 3).join('; ')}`);
      rows.push({ series: c.name, method, fitMsMedian: median(r.ms), maeMean: meanMae, models: r.names });
    }
  }
  out.forecast = rows;
}

// ---------------------------------------------------------------- 4. BO vs random search
function regretCurves() {
  const seeds = Array.from({ length: 10 }, (_, s) => s);
  const problems = [
    { name: 'Branin (2-D)', space: braninSpace, f: (c: Config) => branin(c.x1 as number, c.x2 as number), fstar: BRANIN_MINIMUM, budget: quick ? 30 : 50, checkpoints: [5, 10, 15, 20, 25, 30, 40, 50] },
    { name: 'Hartmann-6', space: hartmann6Space, f: (c: Config) => hartmann6([1, 2, 3, 4, 5, 6].map((j) => c[`x${j}`] as number)), fstar: HARTMANN6_MINIMUM, budget: quick ? 40 : 80, checkpoints: [10, 20, 30, 40, 50, 60, 80] },
  ];
  log('\n4. Median simple regret (best-so-far − f*) vs evaluations over 10 seeds; BO = GP-EI, initial design max(5, d + 1) uniform points');
  const res: unknown[] = [];
  for (const pr of problems) {
    const bo: number[][] = [];
    const rs: number[][] = [];
    const t0 = performance.now();
    for (const seed of seeds) {
      const opt = new BayesianOptimizer({ space: pr.space, seed, direction: 'minimize', budget: { evaluations: pr.budget } });
      const values: number[] = [];
      while (!opt.isDone()) for (const c of opt.ask(1)) { const v = pr.f(c); values.push(v); opt.tell(c, v); }
      bo.push(bestSoFar(values, 'minimize').map((v) => v - pr.fstar));
    }
    const boMs = ms(t0) / seeds.length;
    for (const seed of seeds) rs.push(bestSoFar(randomSearchConfigs(pr.space, pr.budget, seed).map(pr.f), 'minimize').map((v) => v - pr.fstar));
    const cps = pr.checkpoints.filter((c) => c <= pr.budget);
    log(`   ${pr.name} (BO ${f1(boMs / 1000)} s per seed for ${pr.budget} evaluations)`);
    const cell = (v: number) => (v < 0.01 ? v.toExponential(2) : v.toPrecision(3)).padStart(10);
    log(`     evaluations   ${cps.map((c) => String(c).padStart(10)).join('')}`);
    log(`     BO            ${cps.map((c) => cell(median(bo.map((r) => r[c - 1])))).join('')}`);
    log(`     random search ${cps.map((c) => cell(median(rs.map((r) => r[c - 1])))).join('')}`);
    res.push({ problem: pr.name, checkpoints: cps, boMedianRegret: cps.map((c) => median(bo.map((r) => r[c - 1]))), randomMedianRegret: cps.map((c) => median(rs.map((r) => r[c - 1]))), boSecondsPerSeed: boMs / 1000 });
  }
  out.regret = res;
}

// ---------------------------------------------------------------- 5. ARIMA order recovery
/** How often autoArima picks the generating (p, d, q) on 5 processes × 10 seeds, n = 300 (the test's set), per criterion. */
function orderRecovery() {
  log('\n5. ARIMA order recovery, 5 processes × 10 seeds, n = 300');
  const processes: { spec: Parameters<typeof simulateArima>[2]; order: number[] }[] = [
    { spec: { phi: [0.6] }, order: [1, 0, 0] }, { spec: { theta: [0.6] }, order: [0, 0, 1] }, { spec: { phi: [0.7], theta: [0.4] }, order: [1, 0, 1] },
    { spec: { theta: [0.5], d: 1 }, order: [0, 1, 1] }, { spec: { phi: [0.6], d: 1 }, order: [1, 1, 0] },
  ];
  const variants: [string, Parameters<typeof autoArima>[1]][] = [
    ['AICc + step-down (default)', {}], ['AICc, plain (baseline)', { parsimony: 0 }], ['BIC', { criterion: 'bic' }],
    ['AICc + step-down, exhaustive', { search: 'exhaustive' }], ['AICc plain, exhaustive', { search: 'exhaustive', parsimony: 0 }],
  ];
  const rows: unknown[] = [];
  for (const [name, options] of variants) {
    let exact = 0;
    const t0 = performance.now();
    for (const { spec, order } of processes) for (let seed = 0; seed < 10; seed++) {
      const o = autoArima(simulateArima(new Rng(7000 + seed), 300, spec), options).model.order;
      if (o.p === order[0] && o.d === order[1] && o.q === order[2]) exact++;
    }
    const perSeries = ms(t0) / 50;
    log(`   ${name.padEnd(32)} ${String(exact).padStart(2)}/50   ${f1(perSeries)} ms per series`);
    rows.push({ variant: name, exact, of: 50, msPerSeries: perSeries });
  }
  out.recovery = rows;
}

async function main() {
  if (runs('bo')) boProposalTimes();
  if (runs('lp')) await lpTimes();
  if (runs('forecast')) forecastTimes();
  if (runs('regret')) regretCurves();
  if (runs('recovery')) orderRecovery();
  if (asJson) console.log(JSON.stringify(out, null, 2));
}
main().catch((error) => { console.error(error); process.exit(1); });
