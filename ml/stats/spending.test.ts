import { Rng } from '../rng';
import { normalQuantile } from './normal';
import { groupSequentialDecision, sequentialBootstrapDecision } from './sequential';
import { alphaSpent, sequentialBoundary } from './spending';

const five = [0.2, 0.4, 0.6, 0.8, 1];

describe('Lan–DeMets spending functions', () => {
  it("O'Brien–Fleming: 2 − 2Φ(z_{1−α/2}/√t); at t = 0.5, α = 0.05 it spends ≈ 0.0056", () => {
    expect(alphaSpent(0.5, 0.05, 'obrien-fleming')).toBeCloseTo(0.0055746, 6);
    expect(alphaSpent(1, 0.05, 'obrien-fleming')).toBe(0.05);
    expect(alphaSpent(0, 0.05, 'obrien-fleming')).toBe(0);
    expect(alphaSpent(1.3, 0.05, 'pocock')).toBe(0.05);
  });

  it('Pocock: α·ln(1 + (e − 1)t)', () => {
    expect(alphaSpent(0.5, 0.05, 'pocock')).toBeCloseTo(0.05 * Math.log(1 + (Math.E - 1) * 0.5), 15);
    expect(alphaSpent(1, 0.05, 'pocock')).toBeCloseTo(0.05, 15);
  });

  it('reproduces the classical boundaries of five equally spaced looks (one-sided α = 0.025)', () => {
    // Jennison & Turnbull (2000) / gsDesign sfLDOF and sfLDPocock.
    const of = sequentialBoundary(five, 0.025, 'obrien-fleming', 1).map((b) => b.z);
    [4.877, 3.357, 2.68, 2.29, 2.031].forEach((z, i) => expect(of[i]).toBeCloseTo(z, 2));
    const pk = sequentialBoundary(five, 0.025, 'pocock', 1).map((b) => b.z);
    [2.438, 2.427, 2.41, 2.397, 2.386].forEach((z, i) => expect(pk[i]).toBeCloseTo(z, 2));
  });

  it('two-sided: the first look is z_{1−α/2}/√t_1 exactly, and boundaries do not change when looks are added', () => {
    const two = sequentialBoundary([0.5, 1], 0.05, 'obrien-fleming', 2);
    expect(two[0].z).toBeCloseTo(normalQuantile(0.975) / Math.sqrt(0.5), 8);
    expect(two[0].nominalAlpha).toBeCloseTo(alphaSpent(0.5, 0.05, 'obrien-fleming'), 10);
    expect(two[1].z).toBeGreaterThan(1.96);
    expect(two[1].z).toBeLessThan(2.0);
    const three = sequentialBoundary([0.3, 0.55, 0.9], 0.05, 'pocock');
    const two2 = sequentialBoundary([0.3, 0.55], 0.05, 'pocock');
    expect(three[1].z).toBeCloseTo(two2[1].z, 10);
    expect(three[2].cumulativeAlphaSpent).toBeCloseTo(alphaSpent(0.9, 0.05, 'pocock'), 12);
  });

  it('names bad looks', () => {
    expect(() => sequentialBoundary([0.5, 0.4], 0.05, 'pocock')).toThrow("informationFractions[1]: got 0.4, expected more than the previous look's 0.5");
    expect(() => sequentialBoundary([], 0.05, 'pocock')).toThrow('informationFractions: got [], expected at least one look');
    expect(() => alphaSpent(0.5, 0.05, 'linear' as never)).toThrow('shape: got "linear", expected one of obrien-fleming, pocock');
  });
});

describe('repeated looks keep the false-positive rate at alpha', () => {
  /** Simulates a null effect observed at the looks; returns the fraction of runs that ever reject. */
  function everRejects(boundaries: number[], reps: number, seed: number): number {
    const rng = new Rng(seed);
    const perLook = 100; // rounds added between looks, per-round sd 1, true mean 0
    let rejected = 0;
    for (let r = 0; r < reps; r++) {
      let sum = 0, n = 0;
      for (let k = 0; k < boundaries.length; k++) {
        // The sum of 100 N(0,1) rounds is N(0, 100): draw it directly.
        sum += Math.sqrt(perLook) * rng.normal();
        n += perLook;
        if (sum / Math.sqrt(n) >= boundaries[k]) { rejected++; break; }
      }
    }
    return rejected / reps;
  }

  const reps = 20000;
  const se = Math.sqrt(0.05 * 0.95 / reps);

  it.each(['obrien-fleming', 'pocock'] as const)('%s, five looks, one-sided α = 0.05', (shape) => {
    const z = sequentialBoundary(five, 0.05, shape, 1).map((b) => b.z);
    const rate = everRejects(z, reps, shape === 'pocock' ? 1 : 2);
    expect(rate).toBeLessThan(0.05 + 3 * se);
    expect(rate).toBeGreaterThan(0.05 - 3 * se); // it spends all of alpha, not less
  });

  it('while peeking at the fixed 1.645 every time inflates it far above alpha', () => {
    expect(everRejects([1.645, 1.645, 1.645, 1.645, 1.645], reps, 3)).toBeGreaterThan(0.1);
  });

  it('the decision helper, used at every look on data, keeps superiority claims under a null at ≤ alpha', () => {
    const rng = new Rng(4);
    let claimed = 0;
    const runs = 2000;
    for (let r = 0; r < runs; r++) {
      const d: number[] = [];
      for (let k = 1; k <= 4; k++) {
        for (let i = 0; i < 50; i++) d.push(rng.normal());
        const m = d.reduce((a, b) => a + b, 0) / d.length;
        const sd = Math.sqrt(d.reduce((a, b) => a + (b - m) ** 2, 0) / (d.length - 1));
        const decision = groupSequentialDecision(m, sd / Math.sqrt(d.length), { informationFractions: [0.25, 0.5, 0.75, 1].slice(0, k), alpha: 0.05 });
        if (decision.superior) { claimed++; break; }
      }
    }
    expect(claimed / runs).toBeLessThan(0.05 + 3 * Math.sqrt(0.05 * 0.95 / runs) + 0.005);
  });
});

describe('group-sequential decisions', () => {
  it('non-inferiority, superiority and harm from the repeated confidence bound', () => {
    const look = { informationFractions: [0.5], alpha: 0.05, tolerance: 0.02 };
    const c = sequentialBoundary([0.5], 0.05, 'obrien-fleming', 1)[0].z;
    const d = groupSequentialDecision(0.01, 0.005, look);
    expect(d.lower).toBeCloseTo(0.01 - c * 0.005, 12);
    expect(d).toMatchObject({ nonInferior: true, superior: false, harmful: false, finalLook: false });
    expect(groupSequentialDecision(0.05, 0.005, look)).toMatchObject({ nonInferior: true, superior: true });
    expect(groupSequentialDecision(-0.08, 0.005, look)).toMatchObject({ nonInferior: false, harmful: true });
    expect(groupSequentialDecision(0, 0.005, { ...look, informationFractions: [0.5, 1] }).finalLook).toBe(true);
  });

  it('the bootstrap version uses the look\'s nominal level on the paired difference', () => {
    const rng = new Rng(6);
    const base = Array.from({ length: 2000 }, () => rng.normal());
    const cand = base.map((b) => b + 0.3 + 0.5 * rng.normal());
    const d = sequentialBootstrapDecision(cand, base, { informationFractions: [0.5, 1], tolerance: 0.05, nBootstrapSamples: 2000 });
    expect(d.estimate).toBeCloseTo(cand.reduce((a, b) => a + b, 0) / 2000 - base.reduce((a, b) => a + b, 0) / 2000, 12);
    expect(d.superior).toBe(true);
    const z = groupSequentialDecision(d.estimate, 0.5 / Math.sqrt(2000), { informationFractions: [0.5, 1] });
    expect(Math.abs(d.lower - z.lower)).toBeLessThan(0.01);
  });
});
