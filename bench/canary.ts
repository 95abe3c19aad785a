/**
 * Canary statistics benchmark. Run: node -r ./scripts/register-ts.js bench/canary.ts [runs, default 2000]
 *
 * False promotions of equal-reward canaries. The last step that still has champion traffic must show
 * improvement (repeated lower bound > 0) to promote; it is a group-sequential test over its decision
 * looks (the end of the bake and maxInconclusive extensions), data accumulating in the step window.
 * Both arms get the same reward law; a run "promotes" when any look passes. Printed per spending
 * shape and reward law, with the Monte Carlo standard error, beside the baseline measured in the same
 * run: peeking at a plain one-sided 95% bound at every look (no spending). Also the time of one gate
 * evaluation (two-sample bootstrap, 10,000 resamples) on a realistic window.
 *
 * The breach → 0%-served latency needs the whole stack and is printed by the end-to-end test
 * (workflows/canaryPromotion.e2e.int.test.ts).
 */
import { rewardDelta } from '../canary/analysis';
import { validateCanaryPlan } from '../activities/canary/plan-config';
import { Rng } from '../ml/rng';

const runs = Number(process.argv[2] ?? 2000);
const LOOKS = 5; // bake (4 checks) + 4 extensions → 5 decision looks
const PER_CHECK = 60; // rewarded decisions per arm per checkInterval

type Law = { name: string; draw: (rng: Rng) => number };
const laws: Law[] = [
  { name: 'Bernoulli(0.6)', draw: (rng) => (rng.uniform() < 0.6 ? 1 : 0) },
  { name: 'Normal(0.6, 0.2)', draw: (rng) => 0.6 + 0.2 * rng.normal() },
];

function simulate(shape: 'obrien-fleming' | 'pocock', law: Law): { spending: number; peeking: number; se: number } {
  const plan = validateCanaryPlan({ interval: '4h', checkInterval: '1h', maxInconclusive: LOOKS - 1, analysis: { spending: shape, nBootstrap: 1000 } });
  const rng = new Rng(shape === 'pocock' ? 7 : 3);
  let spending = 0;
  let peeking = 0;
  for (let run = 0; run < runs; run++) {
    const c: number[] = [];
    const h: number[] = [];
    const draw = (n: number) => {
      for (let i = 0; i < n; i++) {
        c.push(law.draw(rng));
        h.push(law.draw(rng));
      }
    };
    draw(4 * PER_CHECK);
    let s = false;
    let p = false;
    for (let look = 1; look <= LOOKS && !(s && p); look++) {
      if (look > 1) draw(PER_CHECK);
      const cf = Float64Array.from(c);
      const hf = Float64Array.from(h);
      const analysis = { ...plan.analysis, seed: run * 11 + look };
      if (!s) s = rewardDelta(cf, hf, look, { comparison: 'superiority', bakeMs: plan.intervalsMs[0], decisionLook: look }, { ...plan, analysis }).lower > 0;
      if (!p) p = rewardDelta(cf, hf, 1, { comparison: 'superiority', bakeMs: 1, decisionLook: look }, { ...plan, maxInconclusive: 0, analysis }).lower > 0;
    }
    if (s) spending++;
    if (p) peeking++;
  }
  return { spending: spending / runs, peeking: peeking / runs, se: Math.sqrt((0.05 * 0.95) / runs) };
}

function main(): void {
  console.log(`false promotions of equal canaries: ${runs} runs per row, ${LOOKS} decision looks, ${PER_CHECK} rewards per arm per check, alpha 0.05 one-sided`);
  for (const shape of ['obrien-fleming', 'pocock'] as const) {
    for (const law of laws) {
      const t0 = performance.now();
      const r = simulate(shape, law);
      console.log(
        `  ${shape.padEnd(14)} ${law.name.padEnd(17)} spending ${r.spending.toFixed(4)} ± ${r.se.toFixed(4)}   peeking (baseline) ${r.peeking.toFixed(4)}   ratio ${(r.spending / r.peeking).toFixed(2)}   (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }
  }
  const plan = validateCanaryPlan({});
  const rng = new Rng(1);
  const c = Float64Array.from({ length: 20_000 }, () => 0.6 + 0.2 * rng.normal());
  const h = Float64Array.from({ length: 80_000 }, () => 0.6 + 0.2 * rng.normal());
  const times: number[] = [];
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    rewardDelta(c, h, 1, { comparison: 'non-inferiority', bakeMs: plan.intervalsMs[0], decisionLook: 1 }, plan);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`one reward-delta evaluation, 20,000 canary + 80,000 champion rewards, 10,000 resamples: median ${times[3].toFixed(0)} ms`);
}

main();
