import { Rng } from '../rng';
import {
  cholesky, identity, invertGaussJordan, invertSpd, packedAddOuter, packedIndex, packedLength, shermanMorrisonUpdate, unpackSymmetric,
} from './linalg';

function randomSpd(d: number, rng: Rng): Float64Array {
  // A = λI + Σ x xᵀ over 3d random x: symmetric positive definite.
  const packed = new Float64Array(packedLength(d));
  for (let n = 0; n < 3 * d; n++) packedAddOuter(packed, Array.from({ length: d }, () => rng.normal()), d);
  return unpackSymmetric(packed, d, 0.5);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('dense linear algebra', () => {
  it('inverts a 2×2 matrix to the hand-computed inverse', () => {
    // [[3, 1], [1, 2]]⁻¹ = (1/5)·[[2, −1], [−1, 3]]
    const m = Float64Array.from([3, 1, 1, 2]);
    const expected = [0.4, -0.2, -0.2, 0.6];
    expect(maxAbsDiff(invertGaussJordan(m, 2), expected)).toBeLessThan(1e-15);
    expect(maxAbsDiff(invertSpd(m, 2), expected)).toBeLessThan(1e-15);
  });

  it('Sherman–Morrison equals the direct inverse after every rank-one update', () => {
    const rng = new Rng(1);
    const d = 8;
    const a = identity(d, 1.0);
    const ainv = identity(d, 1.0);
    for (let t = 0; t < 200; t++) {
      const x = Array.from({ length: d }, () => rng.normal());
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] += x[i] * x[j];
      shermanMorrisonUpdate(ainv, x, d);
      if (t % 20 === 19) {
        expect(maxAbsDiff(ainv, invertGaussJordan(a, d))).toBeLessThan(1e-10);
      }
    }
  });

  it('Cholesky factor reconstructs the matrix and is lower triangular', () => {
    const rng = new Rng(2);
    const d = 6;
    const m = randomSpd(d, rng);
    const l = cholesky(m, d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        if (j > i) expect(l[i * d + j]).toBe(0);
        let s = 0;
        for (let k = 0; k < d; k++) s += l[i * d + k] * l[j * d + k];
        expect(Math.abs(s - m[i * d + j])).toBeLessThan(1e-10);
      }
    }
  });

  it('Cholesky rejects a matrix that is not positive definite, naming the pivot', () => {
    expect(() => cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toThrow(/not positive definite \(pivot 1 is -3/);
  });

  it('invertSpd agrees with Gauss–Jordan on random SPD matrices', () => {
    const rng = new Rng(3);
    for (const d of [1, 3, 16]) {
      const m = randomSpd(d, rng);
      expect(maxAbsDiff(invertSpd(m, d), invertGaussJordan(m, d))).toBeLessThan(1e-10);
    }
  });

  it('packs the upper triangle row by row', () => {
    expect(packedLength(3)).toBe(6);
    expect([packedIndex(3, 0, 0), packedIndex(3, 0, 2), packedIndex(3, 1, 1), packedIndex(3, 1, 2), packedIndex(3, 2, 2)]).toEqual([0, 2, 3, 4, 5]);
    const p = new Float64Array(6);
    packedAddOuter(p, [1, 2, 3], 3);
    expect(Array.from(p)).toEqual([1, 2, 3, 4, 6, 9]);
    expect(Array.from(unpackSymmetric(p, 3, 1))).toEqual([2, 2, 3, 2, 5, 6, 3, 6, 10]);
  });
});
