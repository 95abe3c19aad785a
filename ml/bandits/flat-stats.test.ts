import { Rng } from '../rng';
import { deltaToFields, fieldsToStats, LinUCB, statsToFields, sumDeltas, BetaThompsonSampling, StatsDelta } from '.';

describe('flat (hash-field) statistics', () => {
  it('summing delta fields like HINCRBYFLOAT would, then reading them back, gives the sequential learner', () => {
    const rng = new Rng(1);
    const d = 3;
    const seq = new LinUCB({ nArms: 2, d });
    const hash: Record<string, string> = {}; // what Redis would hold: strings
    for (let t = 0; t < 200; t++) {
      const x = [1, rng.normal(), rng.normal()];
      const arm = rng.int(2), r = rng.uniform();
      seq.update(x, arm, r);
      for (const [k, v] of Object.entries(deltaToFields(seq.statsDelta(x, arm, r)))) hash[k] = String(Number(hash[k] ?? 0) + v);
    }
    const rebuilt = new LinUCB({ nArms: 2, d });
    rebuilt.setStats(fieldsToStats('linucb', 2, d, hash));
    const x = [1, 0.5, -0.5];
    const a = seq.pointScores(x), b = rebuilt.pointScores(x);
    expect(b[0]).toBeCloseTo(a[0], 10);
    expect(b[1]).toBeCloseTo(a[1], 10);
    expect(fieldsToStats('linucb', 2, d, statsToFields(seq.getStats()))).toEqual(seq.getStats());
  });

  it('names one delta\'s fields (zeros omitted) and reads an empty hash as a fresh learner', () => {
    const l = new LinUCB({ nArms: 2, d: 2 });
    expect(deltaToFields(l.statsDelta([1, 0], 1, 2))).toEqual({ '1:n': 1, '1:rs': 2, '1:rss': 4, '1:xx:0': 1, '1:xr:0': 2 });
    expect(fieldsToStats('linucb', 2, 2, {})).toEqual(new LinUCB({ nArms: 2, d: 2 }).getStats());
  });

  it('pre-aggregates deltas per arm exactly', () => {
    const l = new BetaThompsonSampling({ nArms: 3 });
    const deltas: StatsDelta[] = [l.statsDelta(undefined, 2, 1), l.statsDelta(undefined, 0, 0), l.statsDelta(undefined, 2, 0.5)];
    expect(sumDeltas(deltas)).toEqual([
      { arm: 0, stats: { n: 1, rSum: 0, rSqSum: 0 } },
      { arm: 2, stats: { n: 2, rSum: 1.5, rSqSum: 1.25 } },
    ]);
  });

  it('refuses fields it does not know, by name', () => {
    expect(() => fieldsToStats('linucb', 2, 2, { '0:xx:3': 1 })).toThrow('fieldsToStats: field 0:xx:3 is out of range (expected xx:0 … xx:2 for d = 2)');
    expect(() => fieldsToStats('linucb', 2, 2, { '2:n': 1 })).toThrow('fieldsToStats: field 2:n names arm 2, expected an arm in [0, 1]');
    expect(() => fieldsToStats('beta-ts', 2, 0, { 'hello': 1 })).toThrow('fieldsToStats: unknown field "hello"');
    expect(() => fieldsToStats('beta-ts', 2, 0, { '0:n': 'x' })).toThrow('fieldsToStats: field 0:n must hold a finite number, got "x"');
  });
});
