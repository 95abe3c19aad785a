import { Rng } from '../ml/rng';
import { TrafficRouter, stickySeed, stickyUniform } from './router';

describe('TrafficRouter', () => {
  it('sends everything to the champion at weight 0 and to the canary at weight 1', () => {
    const r0 = new TrafficRouter('d', 1, 0);
    const r1 = new TrafficRouter('d', 1, 1);
    for (let i = 0; i < 100; i++) {
      expect(r0.pick(`u${i}`)).toEqual({ arm: 'champion', probability: 1 });
      expect(r1.pick(undefined)).toEqual({ arm: 'canary', probability: 1 });
    }
  });

  it('keeps a unit on its arm for a deployment generation, in any router instance', () => {
    const a = new TrafficRouter('ranker', 7, 0.25);
    const b = new TrafficRouter('ranker', 7, 0.25);
    for (let i = 0; i < 1000; i++) expect(b.pick(`user:${i}`)).toEqual(a.pick(`user:${i}`));
  });

  it('only moves units from champion to canary when the weight grows', () => {
    const low = new TrafficRouter('ranker', 3, 0.05);
    const high = new TrafficRouter('ranker', 3, 0.25);
    for (let i = 0; i < 5000; i++) {
      if (low.pick(`u${i}`).arm === 'canary') expect(high.pick(`u${i}`).arm).toBe('canary');
    }
  });

  it('records the probability of the chosen arm', () => {
    const r = new TrafficRouter('d', 1, 0.3);
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = r.pick(`k${i}`);
      seen.add(c.arm);
      expect(c.probability).toBeCloseTo(c.arm === 'canary' ? 0.3 : 0.7, 12);
    }
    expect(seen).toEqual(new Set(['champion', 'canary']));
  });

  it('spreads sequential unit keys uniformly (chi-square over 20 bins)', () => {
    const seed = stickySeed('ranker', 1);
    const bins = new Array(20).fill(0);
    const n = 40000;
    for (let i = 0; i < n; i++) bins[Math.floor(stickyUniform(seed, `user:${i}`) * 20)]++;
    const e = n / 20;
    const chi2 = bins.reduce((s, o) => s + ((o - e) * (o - e)) / e, 0);
    expect(chi2).toBeLessThan(43.8); // χ²(19) 0.999 quantile
  });

  it('reassigns units when the generation changes', () => {
    const g1 = new TrafficRouter('d', 1, 0.5);
    const g2 = new TrafficRouter('d', 2, 0.5);
    let moved = 0;
    for (let i = 0; i < 2000; i++) if (g1.pick(`u${i}`).arm !== g2.pick(`u${i}`).arm) moved++;
    expect(moved).toBeGreaterThan(800);
    expect(moved).toBeLessThan(1200);
  });

  it('draws unit-less requests from the random source', () => {
    const rng = new Rng(5);
    const r = new TrafficRouter('d', 1, 0.25, () => rng.uniform());
    let canary = 0;
    for (let i = 0; i < 10000; i++) if (r.pick(undefined).arm === 'canary') canary++;
    expect(canary).toBeGreaterThan(2300);
    expect(canary).toBeLessThan(2700);
  });

  it('refuses weights outside [0, 1]', () => {
    expect(() => new TrafficRouter('d', 1, 25)).toThrow('canary weight must be in [0, 1], got 25');
    expect(() => new TrafficRouter('d', 1, NaN)).toThrow('got NaN');
  });
});
