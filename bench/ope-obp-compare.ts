/**
 * Compares ml/ope with Open Bandit Pipeline on the same synthetic data: writes a fixture (OBP's
 * JSON names), runs bench/ope-obp-compare.py with OBP, runs our estimators, prints both. Point
 * estimates must agree to rounding; intervals agree up to bootstrap Monte Carlo error (different
 * random streams). Not part of the test suite.
 *
 *   scripts/obp-venv.sh && node -r ./scripts/register-ts.js bench/ope-obp-compare.ts [--rounds 5000]
 *
 * (or OBP_PYTHON=/path/to/python PYTHONPATH=/path/to/zr-obp). bench/ope-peers.ts times OBP against
 * `autopilot ope` on 100k and 1M rounds.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluatePolicy, ESTIMATOR_NAMES } from '../ml/ope';
import { makeSyntheticBandit, sampleLoggedData } from '../ml/ope/synthetic';

const i = process.argv.indexOf('--rounds');
const n = i >= 0 ? Number(process.argv[i + 1]) : 5000;
const lambda = 1.5;
const nBoot = 2000;
const bandit = makeSyntheticBandit(7, 5, 3);
const { inputs, trueQ } = sampleLoggedData(bandit, n, 8);
// A deliberately imperfect reward model: the truth shrunk towards 0.5.
const q = { ...trueQ, data: trueQ.data.map((v) => 0.5 + 0.8 * (v - 0.5)) };
const rows = (data: Float64Array, a: number) => Array.from({ length: n }, (_, r) => Array.from(data.subarray(r * a, r * a + a)));
const file = join(mkdtempSync(join(tmpdir(), 'ope-obp-')), 'fixture.json');
writeFileSync(file, JSON.stringify({
  reward: Array.from(inputs.reward!), action: Array.from(inputs.action!), pscore: Array.from(inputs.pscore!),
  action_dist: rows(inputs.actionDist.data, 5), estimated_rewards_by_reg_model: rows(q.data, 5),
}));
// OBP's project-local environment (scripts/obp-venv.sh, which `make bench` runs first) unless OBP_PYTHON names another.
const python = process.env.OBP_PYTHON ?? join(__dirname, '..', '.venv-obp', 'bin', 'python');
const obp = JSON.parse(execFileSync(python, [join(__dirname, 'ope-obp-compare.py'), file, String(lambda), String(nBoot)], { encoding: 'utf8' }));
const ours = evaluatePolicy({ ...inputs, estimatedRewardsByRegModel: q }, { lambda, nBootstrapSamples: nBoot, randomState: 0 }).estimates;
console.log(`${n} rounds, 5 actions, λ = ${lambda} for switch-dr and dr-os, ${nBoot} bootstrap resamples`);
console.log('estimator   ours value          OBP value           |diff|     ours [lower, upper]      OBP [lower, upper]');
for (const name of ESTIMATOR_NAMES) {
  const a = ours[name]!, b = obp[name];
  console.log(`${name.padEnd(10)}  ${a.value.toFixed(15)}  ${b.value.toFixed(15)}  ${Math.abs(a.value - b.value).toExponential(1)}   [${a.lower.toFixed(4)}, ${a.upper.toFixed(4)}]   [${b.lower.toFixed(4)}, ${b.upper.toFixed(4)}]`);
}
