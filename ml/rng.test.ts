import { Rng } from './rng';

describe('Rng', () => {
  it('replays the same stream for the same seed and differs across seeds', () => {
    const a = new Rng(42), b = new Rng(42), c = new Rng(43);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
  });

  it('has uniform and normal moments close to theory', () => {
    const rng = new Rng(7);
    const n = 200_000;
    let su = 0, sn = 0, sn2 = 0;
    for (let i = 0; i < n; i++) {
      su += rng.uniform();
      const z = rng.normal();
      sn += z;
      sn2 += z * z;
    }
    expect(su / n).toBeCloseTo(0.5, 2);
    expect(sn / n).toBeCloseTo(0, 1);
    expect(sn2 / n).toBeCloseTo(1, 1);
  });

  it('draws categorical indices in proportion to weights', () => {
    const rng = new Rng(1);
    const counts = [0, 0, 0];
    for (let i = 0; i < 60_000; i++) counts[rng.categorical([1, 2, 3])]++;
    expect(counts[0] / 60_000).toBeCloseTo(1 / 6, 2);
    expect(counts[2] / 60_000).toBeCloseTo(3 / 6, 2);
  });

  it('rejects bad arguments with the value in the message', () => {
    expect(() => new Rng(NaN)).toThrow('Rng seed must be a finite number, got NaN');
    expect(() => new Rng(1).int(0)).toThrow('Rng.int expects a positive integer, got 0');
    expect(() => new Rng(1).gamma(-1)).toThrow('Rng.gamma expects shape > 0, got -1');
  });
});
