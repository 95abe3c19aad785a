/**
 * ml/online against Vowpal Wabbit (PyPI `vowpalwabbit`, in the project-local .venv-vw: `make setup-vw`) on
 * labelled data sets that ship inside scikit-learn: breast_cancer (569 rows, 30 features; logistic) and
 * diabetes (442 rows, 10 features; squared). python/vw_compare.py standardises and splits them 80/20 with
 * a fixed seed and trains VW with 10 passes in the same order; we train on the very same rows (feature j at
 * coordinate j, VW's constant at coordinate 30) and compare the held-out loss:
 *  - FTRL-Proximal (α 0.05, β 1, λ1 0.5, λ2 1) vs `vw --ftrl` with the same settings: log loss within 2%;
 *  - AdaGrad (η 0.1) vs `vw --adaptive -l 0.1` (VW's AdaGrad without normalized/invariant updates): log loss
 *    within 2%, and squared loss on diabetes: MSE within 2%.
 * VW's default update (adaptive + normalized + invariant) is a different algorithm; its figure is printed only.
 * Also: our MurmurHash3 equals scikit-learn's murmurhash3_32 on a few strings.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describeWithTool } from '../../test/support/tools';
import { buildOnlineLearner } from './snapshot';
import { parseOnlineModelConfig } from './config';
import { hashString } from './hash';

const root = resolve(__dirname, '..', '..');
const python = join(root, '.venv-vw', 'bin', 'python');
const describeVw = describeWithTool('ml/online/vw-compare.test.ts', existsSync(python), '.venv-vw/bin/python is absent; build it with `make setup-vw` (scripts/vw-venv.sh)');

interface Run { dataset: string; ours: Record<string, unknown> | null; metric: 'logLoss' | 'mse'; vw: number; predictions: number[] }
interface Compare { passes: number; datasets: Record<string, { train: { x: number[][]; y: number[] }; test: { x: number[][]; y: number[] } }>; runs: Record<string, Run>; murmur3: Record<string, number> }

/** Trains our learner like python/vw_compare.py trains VW; the held-out metric. */
function ours(c: Compare, run: Run): number {
  const config = parseOnlineModelConfig({ ...run.ours, bits: 6, snapshotEverySeconds: 0 }, 'vw-compare');
  const l = buildOnlineLearner(config);
  const d = c.datasets[run.dataset];
  const width = d.train.x[0].length;
  const idx = new Int32Array(width + 1);
  const val = new Float64Array(width + 1);
  const load = (row: number[]): number => {
    let k = 0;
    for (let j = 0; j < width; j++) {
      if (row[j] === 0) continue;
      idx[k] = j;
      val[k++] = row[j];
    }
    idx[k] = 30; // VW's constant feature
    val[k++] = 1;
    return k;
  };
  for (let p = 0; p < c.passes; p++) d.train.x.forEach((row, r) => l.update(idx, val, 0, load(row), d.train.y[r]));
  let total = 0;
  d.test.x.forEach((row, r) => {
    const p = l.predict(idx, val, 0, load(row));
    const y = d.test.y[r];
    total += run.metric === 'mse' ? (p - y) ** 2 : -Math.log(y > 0.5 ? Math.max(p, 1e-15) : Math.max(1 - p, 1e-15));
  });
  return total / d.test.x.length;
}

describeVw('online learners vs Vowpal Wabbit on scikit-learn’s bundled data sets', () => {
  let c: Compare;
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-compare-'));
    try {
      execFileSync(python, [join(root, 'python', 'vw_compare.py'), join(dir, 'out.json'), '--passes', '10'], { stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
      c = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as Compare;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['ftrl', 'FTRL-Proximal vs vw --ftrl (breast_cancer log loss)'],
    ['adagrad', 'AdaGrad vs vw --adaptive (breast_cancer log loss)'],
    ['adagrad-squared', 'AdaGrad vs vw --adaptive (diabetes MSE, squared loss)'],
  ])('%s: %s within 2%%', (key) => {
    const run = c.runs[key];
    const mine = ours(c, run);
    const ratio = mine / run.vw;
    console.log(`${key}: ${run.metric} ours ${mine.toPrecision(6)}, VW ${run.vw.toPrecision(6)} (ratio ${ratio.toFixed(4)}; VW default update: ${c.runs['vw-default'].vw.toPrecision(6)})`);
    expect(Math.abs(ratio - 1)).toBeLessThanOrEqual(0.02);
    // And it learnt something: better than the constant prediction.
    expect(mine).toBeLessThan(run.metric === 'logLoss' ? 0.3 : 0.8);
  });

  it('MurmurHash3 equals scikit-learn’s murmurhash3_32', () => {
    for (const [s, h] of Object.entries(c.murmur3)) expect(hashString(s, 0)).toBe(h);
  });
});
