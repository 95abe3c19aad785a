import { Rng } from '../rng';
import { percentile } from './bootstrap';
import { Xorshift128 } from './fast-random';
import { RESAMPLES_PER_GROUP, ResampleScratch, packColumns, resampleGroupCount, resampleGroupMeans, sharedBootstrap } from './shared-bootstrap';

function moments(x: Float64Array): { mean: number; variance: number } {
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let s = 0;
  for (const v of x) s += (v - m) ** 2;
  return { mean: m, variance: s / x.length };
}

/** All bootstrap means, column-major, computing the groups in the given order. */
function allMeans(columns: Float64Array[], b: number, seed: number, order: number[]): Float64Array {
  const packed = packColumns(columns);
  const means = new Float64Array(columns.length * b);
  const scratch = new ResampleScratch(columns[0].length);
  for (const g of order) resampleGroupMeans(packed, b, seed, g, means, scratch);
  return means;
}

const column = (n: number, seed: number): Float64Array => {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => (rng.uniform() < 0.2 ? rng.gamma(0.5) * 10 : rng.normal()));
};

describe('shared-resample bootstrap', () => {
  it('has the law of n uniform draws per resample (mean, variance, quantiles vs a naive reference)', () => {
    // n = 2,301: two full 1024-row blocks and a 253-row last block.
    const x = column(2301, 5);
    const { mean, variance } = moments(x);
    const b = 20000;
    const fast = allMeans([x], b, 11, Array.from({ length: resampleGroupCount(b) }, (_, g) => g));
    const g = new Xorshift128(12);
    const slow = Float64Array.from({ length: b }, () => {
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[g.index(x.length)];
      return s / x.length;
    });
    const f = moments(fast);
    const theoryVar = variance / x.length;
    expect(Math.abs(f.mean - mean)).toBeLessThan(4 * Math.sqrt(theoryVar / b));
    expect(f.variance / theoryVar).toBeGreaterThan(0.96);
    expect(f.variance / theoryVar).toBeLessThan(1.04);
    fast.sort(); slow.sort();
    for (const q of [0.025, 0.5, 0.975]) {
      expect(Math.abs(percentile(fast, q) - percentile(slow, q))).toBeLessThan(0.1 * Math.sqrt(theoryVar) + 6 * Math.sqrt(theoryVar / b));
    }
  });

  it.each([[600, 'only the last block'], [2048, 'full blocks only'], [3000, 'full blocks and a last block']])(
    'every row can be drawn (n = %d: %s)',
    (n) => {
      // An indicator of one row in each region: E[mean] = 1/n for each.
      const first = new Float64Array(n), last = new Float64Array(n);
      first[0] = 1;
      last[n - 1] = 1;
      const b = 20000;
      const means = allMeans([first, last], b, 3, Array.from({ length: resampleGroupCount(b) }, (_, g) => g));
      for (const e of [0, 1]) {
        const m = moments(means.subarray(e * b, (e + 1) * b));
        expect(m.mean * n).toBeGreaterThan(0.96);
        expect(m.mean * n).toBeLessThan(1.04);
      }
    },
  );

  it('a group depends only on (data, seed, group): any order of groups gives the same means', () => {
    const cols = [column(5000, 1), column(5000, 2), column(5000, 3)];
    const b = 5 * RESAMPLES_PER_GROUP + 17; // a shorter last group
    const groups = Array.from({ length: resampleGroupCount(b) }, (_, g) => g);
    expect(groups).toHaveLength(6);
    const forward = allMeans(cols, b, 9, groups);
    const shuffled = allMeans(cols, b, 9, [3, 5, 0, 4, 1, 2]);
    expect(shuffled).toEqual(forward);
  });

  it.each([[1], [3], [7], [8], [11]])('a column resampled with %d columns gets the interval it gets alone', (k) => {
    const cols = Array.from({ length: k }, (_, e) => column(3100, 20 + e));
    const opts = { alpha: 0.05, nBootstrapSamples: 700, randomState: 4 };
    const together = sharedBootstrap(cols, opts);
    cols.forEach((c, e) => expect(sharedBootstrap([c], opts)[0]).toEqual(together[e]));
  });

  it('replays with the same seed, changes with another, takes large and negative seeds', () => {
    const x = [column(2000, 7)];
    const run = (randomState: number) => sharedBootstrap(x, { alpha: 0.1, nBootstrapSamples: 300, randomState });
    expect(run(1)).toEqual(run(1));
    expect(run(2)).not.toEqual(run(1));
    expect(run(2 ** 40 + 1)).not.toEqual(run(1));
    expect(run(-1)).not.toEqual(run(1));
    expect(run(-1)).toEqual(run(-1));
  });

  it('the point value is the plain mean, and the interval brackets it on symmetric data', () => {
    const x = column(4000, 8);
    const [iv] = sharedBootstrap([x], { alpha: 0.05, nBootstrapSamples: 2000, randomState: 0 });
    let s = 0;
    for (const v of x) s += v;
    expect(iv.value).toBe(s / x.length);
    expect(iv.lower).toBeLessThan(iv.value);
    expect(iv.upper).toBeGreaterThan(iv.value);
  });

  it('rejects bad columns and groups, naming them', () => {
    const opts = { alpha: 0.05, nBootstrapSamples: 10, randomState: 0 };
    expect(() => sharedBootstrap([], opts)).toThrow('columns: got none, expected at least one column of per-round values');
    expect(() => sharedBootstrap([new Float64Array(0)], opts, ['dr'])).toThrow('dr: got an empty array, expected at least one value');
    expect(() => sharedBootstrap([Float64Array.from([1, 2]), Float64Array.from([1])], opts, ['ipw', 'dm'])).toThrow('dm: got 1 rounds, expected 2 like ipw');
    expect(() => sharedBootstrap([Float64Array.from([1, NaN])], opts, ['ipw'])).toThrow('ipw[1]: got NaN, expected a finite number');
    const packed = packColumns([Float64Array.from([1, 2])]);
    expect(() => resampleGroupMeans(packed, 10, 0, 1, new Float64Array(10))).toThrow('group: got 1, expected an integer in [0, 1)');
  });
});
