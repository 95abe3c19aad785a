import { Rng } from '../rng';
import { adamStep, createAdamState } from './adam';
import { clipGradNorm } from './clip';
import { maxRelativeError, numericalGradient } from './gradcheck';
import { orthogonalInit } from './init';
import { Linear } from './linear';
import { Mlp } from './mlp';
import { Parameters, decodeFloat64, encodeFloat64 } from './parameters';
import { simdKernels, useSimd } from './simd';

function randomize(a: Float64Array, rng: Rng, scale = 1): void {
  for (let i = 0; i < a.length; i++) a[i] = scale * rng.normal();
}

describe('gradient check (central differences, float64): layers', () => {
  it('Linear: parameters and input, relative error < 1e-5', () => {
    const rng = new Rng(3);
    const p = new Parameters();
    const lin = new Linear(p, 'l', 5, 4);
    p.seal();
    randomize(p.data, rng);
    const n = 3;
    const x = new Float64Array(n * 5), c = new Float64Array(n * 4), y = new Float64Array(n * 4), dx = new Float64Array(n * 5);
    randomize(x, rng);
    randomize(c, rng);
    const loss = (): number => {
      lin.forward(x, n, y);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += c[i] * y[i] + 0.5 * y[i] * y[i] * c[i];
      return s;
    };
    loss();
    const dy = y.map((v, i) => c[i] + v * c[i]);
    p.zeroGrad();
    lin.backward(x, dy, n, dx);
    expect(maxRelativeError(p.grad, numericalGradient(loss, p.data)).error).toBeLessThan(1e-5);
    expect(maxRelativeError(dx, numericalGradient(loss, x)).error).toBeLessThan(1e-5);
  });

  it.each(['tanh', 'identity'] as const)('Mlp [6, 8, 7, 3] with %s output: parameters and input, relative error < 1e-5', (act) => {
    const rng = new Rng(act === 'tanh' ? 5 : 6);
    const p = new Parameters();
    const mlp = new Mlp(p, 'm', [6, 8, 7, 3], act);
    p.seal();
    randomize(p.data, rng, 0.6);
    const n = 4;
    const x = new Float64Array(n * 6), c = new Float64Array(n * 3);
    randomize(x, rng);
    randomize(c, rng);
    const loss = (): number => {
      const y = mlp.forward(x, n);
      let s = 0;
      for (let i = 0; i < y.length; i++) s += c[i] * Math.sin(y[i]);
      return s;
    };
    const y = mlp.forward(x, n);
    const dy = y.map((v, i) => c[i] * Math.cos(v));
    p.zeroGrad();
    const dx = Float64Array.from(mlp.backward(dy, n));
    const gp = Float64Array.from(p.grad);
    expect(maxRelativeError(gp, numericalGradient(loss, p.data)).error).toBeLessThan(1e-5);
    expect(maxRelativeError(dx, numericalGradient(loss, x)).error).toBeLessThan(1e-5);
  });
});

describe('Linear kernels (register-blocked)', () => {
  // the plain triple loops the blocked kernels replace: every sum in the same order
  function reference(w: Float64Array, inS: number, outS: number, x: Float64Array, dy: Float64Array, dx0: Float64Array, n: number) {
    const wo = 0, bo = inS * outS;
    const y = new Float64Array(n * outS), g = new Float64Array(w.length), dx = Float64Array.from(dx0);
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < outS; o++) {
        let s = w[bo + o];
        for (let k = 0; k < inS; k++) s += x[i * inS + k] * w[wo + o * inS + k];
        y[i * outS + o] = s;
      }
    }
    for (let i = 0; i < n; i++) {
      for (let o = 0; o < outS; o++) {
        const d = dy[i * outS + o];
        g[bo + o] += d;
        for (let k = 0; k < inS; k++) {
          g[wo + o * inS + k] += d * x[i * inS + k];
          dx[i * inS + k] += d * w[wo + o * inS + k];
        }
      }
    }
    return { y, g, dx };
  }
  const bits = (a: Float64Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('hex');

  afterEach(() => useSimd(true));

  it('WebAssembly SIMD is available here, so the tests below reach the WASM kernels', () => {
    expect(simdKernels()).not.toBeNull();
  });

  it.each([['WASM SIMD (f64x2) where the shape allows, scalar elsewhere', true], ['scalar only', false]])('%s: forward, weight and input gradients equal the plain loops bit for bit, for every remainder of the blocks', (_name, simd) => {
    useSimd(simd);
    const rng = new Rng(11);
    for (const n of [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 33]) {
      for (const inS of [1, 3, 4, 5, 8, 12]) {
        for (const outS of [1, 2, 3, 4, 5, 8]) {
          const p = new Parameters();
          const lin = new Linear(p, 'l', inS, outS);
          p.seal();
          randomize(p.data, rng);
          const x = new Float64Array(n * inS), dy = new Float64Array(n * outS), dx0 = new Float64Array(n * inS);
          randomize(x, rng);
          randomize(dy, rng);
          randomize(dx0, rng);
          const ref = reference(p.data, inS, outS, x, dy, dx0, n);
          const y = new Float64Array(n * outS);
          lin.forward(x, n, y);
          expect({ n, inS, outS, y: bits(y) }).toEqual({ n, inS, outS, y: bits(ref.y) });
          const yt = new Float64Array(n * outS);
          lin.forward(x, n, yt, true);
          expect(Array.from(yt)).toEqual(Array.from(ref.y, Math.tanh));
          p.zeroGrad();
          const dx = Float64Array.from(dx0);
          lin.backward(x, dy, n, dx, true);
          expect({ n, inS, outS, g: bits(p.grad), dx: bits(dx) }).toEqual({ n, inS, outS, g: bits(ref.g), dx: bits(ref.dx) });
          const dxFresh = new Float64Array(n * inS).fill(7);
          lin.backward(x, dy, n, dxFresh, false);
          const refFresh = reference(p.data, inS, outS, x, dy, new Float64Array(n * inS), n);
          expect(bits(dxFresh)).toBe(bits(refFresh.dx));
        }
      }
    }
  });

  it('a row of a batch equals that row alone (the batched rollouts rely on it)', () => {
    const rng = new Rng(12);
    const p = new Parameters();
    // 13 rows: 12 through the WASM kernels, the 13th and every single row through the scalar ones
    const mlp = new Mlp(p, 'm', [5, 12, 8], 'tanh');
    p.seal();
    randomize(p.data, rng, 0.5);
    const n = 13, x = new Float64Array(n * 5);
    randomize(x, rng);
    const batch = Float64Array.from(mlp.forward(x, n));
    for (let i = 0; i < n; i++) expect(bits(Float64Array.from(mlp.forward(x.subarray(i * 5, (i + 1) * 5), 1)))).toBe(bits(batch.subarray(i * 8, (i + 1) * 8)));
  });
});

describe('orthogonal init', () => {
  it.each([[4, 7], [7, 4], [5, 5]])('a %i×%i matrix has orthonormal rows/columns scaled by the gain', (rows, cols) => {
    const w = new Float64Array(rows * cols);
    orthogonalInit(w, rows, cols, Math.SQRT2, new Rng(1));
    // W Wᵀ = gain² I (wide) or Wᵀ W = gain² I (tall)
    const k = Math.min(rows, cols);
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        let s = 0;
        if (rows <= cols) for (let j = 0; j < cols; j++) s += w[a * cols + j] * w[b * cols + j];
        else for (let i = 0; i < rows; i++) s += w[i * cols + a] * w[i * cols + b];
        expect(s).toBeCloseTo(a === b ? 2 : 0, 10);
      }
    }
  });

  it('is seeded', () => {
    const a = new Float64Array(12), b = new Float64Array(12), c = new Float64Array(12);
    orthogonalInit(a, 3, 4, 1, new Rng(9));
    orthogonalInit(b, 3, 4, 1, new Rng(9));
    orthogonalInit(c, 3, 4, 1, new Rng(10));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });
});

describe('Adam and clipping', () => {
  it('matches torch.optim.Adam (eps 1e-5) on a hand-computed first and second step', () => {
    const p = Float64Array.from([1, -2]);
    const s = createAdamState(2);
    adamStep(p, Float64Array.from([0.5, -1]), s, 0.1);
    // step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + eps)
    expect(p[0]).toBeCloseTo(1 - 0.1 * 0.5 / (0.5 + 1e-5), 14);
    expect(p[1]).toBeCloseTo(-2 + 0.1 * 1 / (1 + 1e-5), 14);
    const p0 = p[0];
    adamStep(p, Float64Array.from([0.25, 0]), s, 0.1);
    const m = 0.9 * 0.05 + 0.1 * 0.25, v = 0.999 * 0.00025 + 0.001 * 0.0625;
    expect(p[0]).toBeCloseTo(p0 - (0.1 / (1 - 0.81)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** 2) + 1e-5), 14);
    expect(s.t).toBe(2);
  });

  it('minimises a quadratic', () => {
    const p = Float64Array.from([3, -4]);
    const s = createAdamState(2);
    for (let i = 0; i < 2000; i++) adamStep(p, Float64Array.from([2 * (p[0] - 1), 2 * (p[1] + 1)]), s, 0.05);
    expect(p[0]).toBeCloseTo(1, 3);
    expect(p[1]).toBeCloseTo(-1, 3);
  });

  it('clips the global norm like clip_grad_norm_ and leaves small gradients alone', () => {
    const g = Float64Array.from([3, 4]);
    expect(clipGradNorm(g, 1)).toBe(5);
    expect(Math.hypot(g[0], g[1])).toBeCloseTo(1, 6);
    expect(g[0] / g[1]).toBeCloseTo(0.75, 12);
    const h = Float64Array.from([0.3, 0.4]);
    clipGradNorm(h, 1);
    expect(Array.from(h)).toEqual([0.3, 0.4]);
  });
});

describe('Parameters', () => {
  it('round-trips through base64 bit for bit, including awkward values', () => {
    const v = Float64Array.from([0.1, -0, 1e-310, Number.MAX_VALUE, -Math.PI, 2 ** -1074]);
    const back = decodeFloat64(encodeFloat64(v));
    expect(Array.from(new Uint8Array(back.buffer))).toEqual(Array.from(new Uint8Array(v.buffer)));
  });

  it('rejects a load of the wrong size with the layout in the message', () => {
    const p = new Parameters();
    p.add('w', [2, 3]);
    p.seal();
    expect(() => p.load([1, 2])).toThrow('Parameters.load: expected 6 values for layout [w:2x3], got 2');
  });
});
