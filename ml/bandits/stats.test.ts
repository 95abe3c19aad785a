/**
 * The sufficient-statistics contract the shared (Redis) learner state relies on: deltas from any
 * number of instances, applied in any order, give the learner a sequential run would have.
 */
import { Rng } from '../rng';
import { BanditPolicy, BetaThompsonSampling, GaussianThompsonSampling, LinearThompsonSampling, LinUCB, StatsDelta } from '.';

const d = 4;
const makers: [string, () => BanditPolicy][] = [
  ['linucb', () => new LinUCB({ nArms: 3, d, alpha: 0.5, lambda: 2 })],
  ['lints', () => new LinearThompsonSampling({ nArms: 3, d, v: 0.5 })],
  ['beta-ts', () => new BetaThompsonSampling({ nArms: 3 })],
  ['gaussian-ts', () => new GaussianThompsonSampling({ nArms: 3 })],
];

function observations(n: number, seed: number): { x: number[]; arm: number; r: number }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => ({
    x: Array.from({ length: d }, () => rng.normal()),
    arm: rng.int(3),
    r: rng.uniform(),
  }));
}

describe.each(makers)('%s statistics', (_name, make) => {
  it('deltas from three instances, summed in shuffled order, give the sequential learner', () => {
    const obs = observations(300, 1);
    const sequential = make();
    for (const o of obs) sequential.update(o.x, o.arm, o.r);

    // Three "server instances" each see a third of the rewards and publish deltas.
    const instances = [make(), make(), make()];
    const published: StatsDelta[] = [];
    obs.forEach((o, i) => {
      const inst = instances[i % 3];
      published.push(inst.statsDelta(o.x, o.arm, o.r));
      inst.update(o.x, o.arm, o.r);
    });
    const rng = new Rng(2);
    for (let i = published.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [published[i], published[j]] = [published[j], published[i]];
    }
    const merged = make();
    merged.applyStats(published);

    const a = sequential.getStats(), b = merged.getStats();
    expect(b.kind).toBe(a.kind);
    a.arms.forEach((s, arm) => {
      expect(b.arms[arm].n).toBe(s.n);
      expect(b.arms[arm].rSum).toBeCloseTo(s.rSum, 9);
      expect(b.arms[arm].rSqSum).toBeCloseTo(s.rSqSum, 9);
      (s.xx ?? []).forEach((v, i) => expect(b.arms[arm].xx![i]).toBeCloseTo(v, 9));
      (s.xr ?? []).forEach((v, i) => expect(b.arms[arm].xr![i]).toBeCloseTo(v, 9));
    });
    const x = [0.2, -1, 0.5, 1];
    const pa = sequential.pointScores(x), pb = merged.pointScores(x);
    for (let arm = 0; arm < 3; arm++) expect(pb[arm]).toBeCloseTo(pa[arm], 9);

    // Refreshing an instance from the totals (what it does after reading the shared store) also agrees.
    instances[0].setStats(merged.getStats());
    const pc = instances[0].pointScores(x);
    for (let arm = 0; arm < 3; arm++) expect(pc[arm]).toBeCloseTo(pa[arm], 9);
  });

  it('a delta is what one update adds, and statsDelta itself changes nothing', () => {
    const l = make();
    const before = JSON.stringify(l.getStats());
    const dl = l.statsDelta([1, 2, 3, 4], 1, 0.5);
    expect(JSON.stringify(l.getStats())).toBe(before);
    expect(dl.arm).toBe(1);
    expect(dl.stats).toMatchObject({ n: 1, rSum: 0.5, rSqSum: 0.25 });
    if (dl.stats.xx) {
      expect(dl.stats.xx).toEqual([1, 2, 3, 4, 4, 6, 8, 9, 12, 16]);
      expect(dl.stats.xr).toEqual([0.5, 1, 1.5, 2]);
    }
  });

  it('rejects statistics of the wrong shape with the field and the expected value', () => {
    const l = make();
    const s = l.getStats();
    expect(() => l.setStats({ ...s, arms: s.arms.slice(1) })).toThrow('setStats: stats.arms has 2 entries, expected 3');
    expect(() => l.setStats({ ...s, arms: s.arms.map((a, i) => (i === 2 ? { ...a, n: Number.NaN } : a)) })).toThrow('setStats: arms[2].n must be a finite number, got NaN');
    if (s.d > 0) {
      expect(() => l.setStats({ ...s, arms: s.arms.map((a) => ({ ...a, xx: [1] })) })).toThrow('setStats: arms[0].xx must have length 10 (packed d×d), got 1');
    }
  });
});
