import { AdaGrad } from './adagrad';
import { FtrlProximal, ftrlWeight } from './ftrl';
import { sparseBatch } from './learner';

const I = (xs: number[]) => Int32Array.from(xs);
const F = (xs: number[]) => Float64Array.from(xs);

describe('FTRL-Proximal, per-coordinate update (McMahan et al. 2013, Algorithm 1), by hand', () => {
  it('squared loss, α = 0.5, β = 1, λ1 = 0.1, λ2 = 1: three rows', () => {
    const f = new FtrlProximal('squared', 4, { alpha: 0.5, beta: 1, l1: 0.1, l2: 1 });
    // Row 1: x = {0: 1, 1: 2}, y = 1. z = n = 0 ⇒ w = 0, p = 0, p − y = −1.
    //   g0 = −1: σ0 = (√1 − √0)/0.5 = 2,  z0 = −1 − 2·0 = −1, n0 = 1
    //   g1 = −2: σ1 = (√4 − √0)/0.5 = 4,  z1 = −2 − 4·0 = −2, n1 = 4
    expect(f.update(I([0, 1]), F([1, 2]), 0, 2, 1)).toBe(0);
    expect([f.z[0], f.n[0], f.z[1], f.n[1]]).toEqual([-1, 1, -2, 4]);
    // Row 2: x = {0: 1}, y = −0.57. |z0| = 1 > λ1 ⇒ w0 = −(−1 + 0.1)/((1 + √1)/0.5 + 1) = 0.9/5 = 0.18 = p.
    //   p − y = 0.75, g0 = 0.75: n0 = 1 + 0.5625 = 1.5625 (√ = 1.25), σ0 = (1.25 − 1)/0.5 = 0.5,
    //   z0 = −1 + 0.75 − 0.5·0.18 = −0.34
    expect(f.update(I([0]), F([1]), 0, 1, -0.57)).toBeCloseTo(0.18, 15);
    expect(f.z[0]).toBeCloseTo(-0.34, 15);
    expect(f.n[0]).toBe(1.5625);
    // Row 3: x = {0: 2, 1: 1, 2: 3}, y = 0.
    //   w0 = −(−0.34 + 0.1)/((1 + 1.25)/0.5 + 1) = 0.24/5.5;  w1 = −(−2 + 0.1)/((1 + 2)/0.5 + 1) = 1.9/7;  w2 = 0 (z2 = 0)
    //   p = 2·0.24/5.5 + 1.9/7 = 0.0872727… + 0.2714285… = 0.3587012987…
    const w0 = 0.24 / 5.5;
    const w1 = 1.9 / 7;
    const p = 2 * w0 + w1;
    expect(f.weight(0)).toBeCloseTo(w0, 15);
    expect(f.weight(1)).toBeCloseTo(w1, 15);
    expect(f.update(I([0, 1, 2]), F([2, 1, 3]), 0, 3, 0)).toBeCloseTo(0.35870129870129874, 14);
    //   g0 = 2p, g1 = p, g2 = 3p; z_i += g_i − (√(n_i + g_i²) − √n_i)/α · w_i; n_i += g_i²
    expect(f.n[0]).toBeCloseTo(1.5625 + 4 * p * p, 14);
    expect(f.z[0]).toBeCloseTo(-0.34 + 2 * p - ((Math.sqrt(1.5625 + 4 * p * p) - 1.25) / 0.5) * w0, 14);
    expect(f.z[1]).toBeCloseTo(-2 + p - ((Math.sqrt(4 + p * p) - 2) / 0.5) * w1, 14);
    expect(f.z[2]).toBeCloseTo(3 * p, 14); // w2 was 0: σ2·w2 = 0
    expect(f.n[2]).toBeCloseTo(9 * p * p, 14);
    // L1: a coordinate with |z| ≤ λ1 has weight exactly 0.
    expect(ftrlWeight(0.1, 5, f.params)).toBe(0);
    expect(ftrlWeight(-0.05, 5, f.params)).toBe(0);
  });

  it('logistic loss, α = 1, β = 1, λ1 = λ2 = 0: p = σ(x·w), g = (p − y)·x', () => {
    const f = new FtrlProximal('logistic', 3, { alpha: 1, beta: 1, l1: 0, l2: 0 });
    // Row 1: x = {5: 1}, y = 1: p = σ(0) = 0.5, g = −0.5, σ = (0.5 − 0)/1, z = −0.5 − 0.5·0 = −0.5, n = 0.25.
    expect(f.update(I([5]), F([1]), 0, 1, 1)).toBe(0.5);
    expect([f.z[5], f.n[5]]).toEqual([-0.5, 0.25]);
    // Row 2: x = {5: 1}, y = 0: w = 0.5/((1 + 0.5)/1) = 1/3, p = σ(1/3) = 1/(1 + e^(−1/3)) = 1/1.7165313105737893 = 0.58257020646…
    const p = 1 / (1 + Math.exp(-1 / 3));
    expect(f.weight(5)).toBeCloseTo(1 / 3, 15);
    expect(f.update(I([5]), F([1]), 0, 1, 0)).toBeCloseTo(0.5825702064623147, 15);
    // g = p, n = 0.25 + p², σ = √(0.25 + p²) − 0.5, z = −0.5 + p − σ/3
    expect(f.n[5]).toBeCloseTo(0.25 + p * p, 15);
    expect(f.z[5]).toBeCloseTo(-0.5 + p - (Math.sqrt(0.25 + p * p) - 0.5) / 3, 15);
  });

  it('a mini-batch step sums the rows’ gradients at fixed weights, then one update per coordinate', () => {
    const f = new FtrlProximal('squared', 4, { alpha: 0.5, beta: 1, l1: 0, l2: 0 });
    // Both rows at w = 0 (p = 0): coordinate 0 gets g = (0 − 1)·1 + (0 − 3)·1 = −4, coordinate 1 gets (0 − 3)·2 = −6.
    f.updateMiniBatch(sparseBatch([{ idx: [0], val: [1], y: 1 }, { idx: [0, 1], val: [1, 2], y: 3 }]));
    expect([f.z[0], f.n[0], f.z[1], f.n[1]]).toEqual([-4, 16, -6, 36]);
    // The scratch is clean after a step: the same batch again gives the same increments' shape (no leftovers).
    const g = new FtrlProximal('squared', 4, { alpha: 0.5, beta: 1, l1: 0, l2: 0 });
    g.updateMiniBatch(sparseBatch([{ idx: [1], val: [1], y: 1 }]));
    g.updateMiniBatch(sparseBatch([{ idx: [2], val: [1], y: 1 }]));
    expect([g.z[1], g.z[2]]).toEqual([-1, -1]);
  });

  it('updateEach of a batch equals the rows one by one', () => {
    const rows = [{ idx: [1, 3], val: [0.5, -1], y: 1 }, { idx: [3, 7], val: [2, 1], y: 0 }, { idx: [1], val: [1], y: 1 }];
    const a = new FtrlProximal('logistic', 3, { l1: 0.01, l2: 0.1 });
    const b = new FtrlProximal('logistic', 3, { l1: 0.01, l2: 0.1 });
    a.updateEach(sparseBatch(rows));
    for (const r of rows) b.update(I(r.idx), F(r.val), 0, r.idx.length, r.y);
    expect([...a.z]).toEqual([...b.z]);
    expect([...a.n]).toEqual([...b.n]);
  });
});

describe('AdaGrad (VW --adaptive), by hand', () => {
  it('squared loss, η = 0.5: w_i −= η g_i/√G_i', () => {
    const a = new AdaGrad('squared', 3, { eta: 0.5 });
    // Row 1: x = {0: 1, 1: 2}, y = 1, p = 0: g0 = −1, G0 = 1, w0 = 0.5; g1 = −2, G1 = 4, w1 = 0.5·2/2 = 0.5.
    expect(a.update(I([0, 1]), F([1, 2]), 0, 2, 1)).toBe(0);
    expect([a.w[0], a.g2[0], a.w[1], a.g2[1]]).toEqual([0.5, 1, 0.5, 4]);
    // Row 2: x = {0: 1}, y = 0.5, p = 0.5 ⇒ g = 0: nothing moves.
    expect(a.update(I([0]), F([1]), 0, 1, 0.5)).toBe(0.5);
    expect([a.w[0], a.g2[0]]).toEqual([0.5, 1]);
    // Row 3: x = {1: 1}, y = −0.25, p = 0.5 ⇒ g1 = 0.75, G1 = 4.5625, w1 = 0.5 − 0.5·0.75/√4.5625.
    a.update(I([1]), F([1]), 0, 1, -0.25);
    expect(a.g2[1]).toBe(4.5625);
    expect(a.w[1]).toBeCloseTo(0.5 - 0.375 / Math.sqrt(4.5625), 15);
  });
});

describe('mini-batch gradient sums (open addressing) equal a dense sum', () => {
  it('FTRL and AdaGrad, 300 rows over 2^10 coordinates with repeats', () => {
    const rows = Array.from({ length: 300 }, (_, r) => ({ idx: Array.from({ length: 7 }, (_, j) => (r * 131 + j * 977) % 1024), val: Array.from({ length: 7 }, (_, j) => ((r + j) % 5) - 2), y: r % 2 }));
    for (const l of [new FtrlProximal('logistic', 10, { l1: 0.1 }), new AdaGrad('logistic', 10)]) {
      // Dense reference at w = 0 (p = 0.5 for every row): g_i = Σ_rows (0.5 − y)·x_i.
      const g = new Float64Array(1024);
      for (const r of rows) r.idx.forEach((i, j) => (g[i] += (0.5 - r.y) * r.val[j]));
      l.updateMiniBatch(sparseBatch(rows));
      for (let i = 0; i < 1024; i++) {
        if (l instanceof FtrlProximal) {
          expect(l.n[i]).toBeCloseTo(g[i] * g[i], 12);
          expect(l.z[i]).toBeCloseTo(g[i], 12); // σ·w = 0 at w = 0
        } else {
          expect(l.g2[i]).toBeCloseTo(g[i] * g[i], 12);
        }
      }
    }
  });
});
