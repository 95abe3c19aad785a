import { Parameters } from './parameters';
import { simdKernels } from './simd';

/**
 * A fully connected layer y = x·Wᵀ + b on row-major batches. W is [out, in], b is [out]; both are
 * slices of a shared `Parameters` vector. No allocation: callers pass the buffers.
 *
 * The kernels are hand-written because measured (no library: the one maintained WASM BLAS on npm,
 * @tensorflow/tfjs-backend-wasm, is float32 only). From 8 rows up, and where the widths are multiples
 * of 4, they run as WebAssembly SIMD f64x2 (`simd.ts`); otherwise as register-blocked float64 loops
 * (4 rows × 2 outputs, 2 outputs × 4 inputs, 2 rows × 4 inputs per block: one load feeds several
 * multiply-adds, the sums do not wait on one another). Both keep every sum in the order of the plain
 * triple loop — y[i,o] from b[o] then k = 0, 1, …; dx[i,k] over o = 0, 1, …; dW[o,k] over rows
 * i = 0, 1, … — so results are bit-identical to it whichever path runs (tests in nn.test.ts; a row
 * of a batch equals that row alone, which the batched rollouts need; trained weights keep their hashes).
 *
 * Measured 2026-12-06 (node 20, 2 × AMD EPYC shared by other jobs, load ~19; per CPU second):
 *   n = 128 rows, 64 → 64          forward      weight grad   weight + input grad   (GMAC/s)
 *     plain i-o-k loops (before)   1.1          0.9           0.9
 *     register-blocked float64     2.7          2.5           2.7
 *     WASM SIMD f64x2              9.1–10.5     8.0–9.3       9.5–10.2
 *   whole PPO runs, 20,480 steps, CleanRL's settings, two 64-64 trunks (same weights bit for bit):
 *     CartPole-v1  3.26–3.32 → 1.02–1.09 CPU s (3.1×);  Pendulum-v1  6.77–6.93 → 2.35–2.38 CPU s (2.9×)
 *   against SB3: bench/ppo-peers.ts, bench/RESULTS.md. What is left in a CartPole run is mostly
 *   Math.tanh (~1 in 3 CPU seconds; a faster tanh would change the bits).
 */
export class Linear {
  readonly weightOffset: number;
  readonly biasOffset: number;

  constructor(
    readonly params: Parameters,
    readonly name: string,
    readonly inSize: number,
    readonly outSize: number,
  ) {
    this.weightOffset = params.add(`${name}.weight`, [outSize, inSize]);
    this.biasOffset = params.add(`${name}.bias`, [outSize]);
  }

  /** y[n, out] = x[n, in] · Wᵀ + b, then tanh of every element when `tanh` (fused: one pass over y). */
  forward(x: Float64Array, n: number, y: Float64Array, tanh = false): void {
    const w = this.params.data, inS = this.inSize, outS = this.outSize, wo = this.weightOffset, bo = this.biasOffset;
    const k = n >= SIMD_MIN_ROWS && outS % 4 === 0 ? simdKernels() : null;
    if (!k) return linearForward(w, wo, bo, x, n, inS, outS, y, tanh);
    // rows in blocks of 4 in WASM: Wᵀ [in, out] | b | x | y in its memory
    const n4 = n - (n % 4);
    const pW = 0, pB = even(inS * outS), pX = pB + even(outS), pY = pX + even(n4 * inS);
    const m = k.reserve(pY + n4 * outS);
    for (let o = 0; o < outS; o++) {
      const wr = wo + o * inS;
      for (let j = 0; j < inS; j++) m[pW + j * outS + o] = w[wr + j];
    }
    m.set(w.subarray(bo, bo + outS), pB);
    m.set(x.subarray(0, n4 * inS), pX);
    k.forward(pW * 8, pB * 8, pX * 8, pY * 8, n4, inS, outS);
    const len = n4 * outS;
    if (tanh) for (let j = 0; j < len; j++) y[j] = Math.tanh(m[pY + j]);
    else y.set(m.subarray(pY, pY + len));
    if (n4 < n) linearForward(w, wo, bo, x.subarray(n4 * inS), n - n4, inS, outS, y.subarray(n4 * outS), tanh);
  }

  /**
   * Accumulates dL/dW += dyᵀ·x and dL/db += Σᵢ dy, and writes dL/dx = dy·W into `dx` (skipped when
   * null; added to what `dx` holds when `accumulate`).
   */
  backward(x: Float64Array, dy: Float64Array, n: number, dx: Float64Array | null, accumulate = false): void {
    const w = this.params.data, g = this.params.grad;
    const inS = this.inSize, outS = this.outSize, wo = this.weightOffset, bo = this.biasOffset;
    // bias: Σᵢ dy[i, o], rows in order
    for (let o = 0; o < outS; o++) {
      let s = g[bo + o];
      for (let i = 0; i < n; i++) s += dy[i * outS + o];
      g[bo + o] = s;
    }
    const k = n >= SIMD_MIN_ROWS && inS % 4 === 0 ? simdKernels() : null;
    if (k && outS % 4 === 0) {
      // g [out, in] | x | dy in the WASM memory; g copied back
      const pG = 0, pX = even(outS * inS), pD = pX + even(n * inS), size = outS * inS;
      const m = k.reserve(pD + n * outS);
      m.set(g.subarray(wo, wo + size), pG);
      m.set(x.subarray(0, n * inS), pX);
      m.set(dy.subarray(0, n * outS), pD);
      k.weightGradient(pG * 8, pX * 8, pD * 8, n, inS, outS);
      g.set(m.subarray(pG, pG + size), wo);
    } else {
      weightGradient(g, wo, x, dy, n, inS, outS);
    }
    if (!dx) return;
    if (!k) return inputGradient(w, wo, dy, n, inS, outS, dx, accumulate);
    // rows in blocks of 4: W [out, in] | dy | dx in the WASM memory
    const n4 = n - (n % 4);
    const pW = 0, pD = even(outS * inS), pX = pD + even(n4 * outS);
    const m = k.reserve(pX + n4 * inS);
    m.set(w.subarray(wo, wo + outS * inS), pW);
    m.set(dy.subarray(0, n4 * outS), pD);
    if (accumulate) m.set(dx.subarray(0, n4 * inS), pX);
    k.inputGradient(pW * 8, pD * 8, pX * 8, n4, inS, outS, accumulate ? 1 : 0);
    dx.set(m.subarray(pX, pX + n4 * inS));
    if (n4 < n) inputGradient(w, wo, dy.subarray(n4 * outS), n - n4, inS, outS, dx.subarray(n4 * inS), accumulate);
  }
}

/** Below this many rows the scalar kernels run (the copies into the WASM memory would not pay). */
const SIMD_MIN_ROWS = 8;
/** Rounds a float64 count up to a whole number of 16-byte vectors. */
const even = (k: number): number => k + (k & 1);

/** y[i, o] = b[o] + Σₖ x[i, k]·W[o, k] (k ascending); 4 rows × 2 outputs per block. */
function linearForward(w: Float64Array, wo: number, bo: number, x: Float64Array, n: number, inS: number, outS: number, y: Float64Array, tanh: boolean): void {
  const n4 = n - (n % 4), out2 = outS - (outS % 2);
  for (let i = 0; i < n4; i += 4) {
    const x0 = i * inS, x1 = x0 + inS, x2 = x1 + inS, x3 = x2 + inS;
    const y0 = i * outS, y1 = y0 + outS, y2 = y1 + outS, y3 = y2 + outS;
    for (let o = 0; o < out2; o += 2) {
      const w0 = wo + o * inS, w1 = w0 + inS;
      const b0 = w[bo + o], b1 = w[bo + o + 1];
      let a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1, a30 = b0, a31 = b1;
      for (let k = 0; k < inS; k++) {
        const p = w[w0 + k], q = w[w1 + k];
        const u0 = x[x0 + k], u1 = x[x1 + k], u2 = x[x2 + k], u3 = x[x3 + k];
        a00 += u0 * p; a01 += u0 * q;
        a10 += u1 * p; a11 += u1 * q;
        a20 += u2 * p; a21 += u2 * q;
        a30 += u3 * p; a31 += u3 * q;
      }
      if (tanh) {
        a00 = Math.tanh(a00); a01 = Math.tanh(a01); a10 = Math.tanh(a10); a11 = Math.tanh(a11);
        a20 = Math.tanh(a20); a21 = Math.tanh(a21); a30 = Math.tanh(a30); a31 = Math.tanh(a31);
      }
      y[y0 + o] = a00; y[y0 + o + 1] = a01;
      y[y1 + o] = a10; y[y1 + o + 1] = a11;
      y[y2 + o] = a20; y[y2 + o + 1] = a21;
      y[y3 + o] = a30; y[y3 + o + 1] = a31;
    }
    if (out2 < outS) {
      const o = out2, w0 = wo + o * inS, b0 = w[bo + o];
      let a0 = b0, a1 = b0, a2 = b0, a3 = b0;
      for (let k = 0; k < inS; k++) {
        const p = w[w0 + k];
        a0 += x[x0 + k] * p; a1 += x[x1 + k] * p; a2 += x[x2 + k] * p; a3 += x[x3 + k] * p;
      }
      if (tanh) { a0 = Math.tanh(a0); a1 = Math.tanh(a1); a2 = Math.tanh(a2); a3 = Math.tanh(a3); }
      y[y0 + o] = a0; y[y1 + o] = a1; y[y2 + o] = a2; y[y3 + o] = a3;
    }
  }
  for (let i = n4; i < n; i++) {
    const x0 = i * inS, y0 = i * outS;
    for (let o = 0; o < out2; o += 2) {
      const w0 = wo + o * inS, w1 = w0 + inS;
      let a0 = w[bo + o], a1 = w[bo + o + 1];
      for (let k = 0; k < inS; k++) {
        const u = x[x0 + k];
        a0 += u * w[w0 + k]; a1 += u * w[w1 + k];
      }
      y[y0 + o] = tanh ? Math.tanh(a0) : a0;
      y[y0 + o + 1] = tanh ? Math.tanh(a1) : a1;
    }
    if (out2 < outS) {
      const o = out2, w0 = wo + o * inS;
      let a = w[bo + o];
      for (let k = 0; k < inS; k++) a += x[x0 + k] * w[w0 + k];
      y[y0 + o] = tanh ? Math.tanh(a) : a;
    }
  }
}

/** g[o, k] += Σᵢ dy[i, o]·x[i, k] (i ascending); 2 outputs × 4 inputs per block. */
function weightGradient(g: Float64Array, wo: number, x: Float64Array, dy: Float64Array, n: number, inS: number, outS: number): void {
  const out2 = outS - (outS % 2), in4 = inS - (inS % 4);
  for (let o = 0; o < out2; o += 2) {
    const g0 = wo + o * inS, g1 = g0 + inS;
    for (let k = 0; k < in4; k += 4) {
      let a0 = g[g0 + k], a1 = g[g0 + k + 1], a2 = g[g0 + k + 2], a3 = g[g0 + k + 3];
      let c0 = g[g1 + k], c1 = g[g1 + k + 1], c2 = g[g1 + k + 2], c3 = g[g1 + k + 3];
      for (let i = 0; i < n; i++) {
        const d0 = dy[i * outS + o], d1 = dy[i * outS + o + 1], xi = i * inS + k;
        const u0 = x[xi], u1 = x[xi + 1], u2 = x[xi + 2], u3 = x[xi + 3];
        a0 += d0 * u0; a1 += d0 * u1; a2 += d0 * u2; a3 += d0 * u3;
        c0 += d1 * u0; c1 += d1 * u1; c2 += d1 * u2; c3 += d1 * u3;
      }
      g[g0 + k] = a0; g[g0 + k + 1] = a1; g[g0 + k + 2] = a2; g[g0 + k + 3] = a3;
      g[g1 + k] = c0; g[g1 + k + 1] = c1; g[g1 + k + 2] = c2; g[g1 + k + 3] = c3;
    }
    for (let k = in4; k < inS; k++) {
      let a = g[g0 + k], c = g[g1 + k];
      for (let i = 0; i < n; i++) {
        const u = x[i * inS + k];
        a += dy[i * outS + o] * u; c += dy[i * outS + o + 1] * u;
      }
      g[g0 + k] = a; g[g1 + k] = c;
    }
  }
  if (out2 < outS) {
    const o = out2, g0 = wo + o * inS;
    for (let k = 0; k < in4; k += 4) {
      let a0 = g[g0 + k], a1 = g[g0 + k + 1], a2 = g[g0 + k + 2], a3 = g[g0 + k + 3];
      for (let i = 0; i < n; i++) {
        const d = dy[i * outS + o], xi = i * inS + k;
        a0 += d * x[xi]; a1 += d * x[xi + 1]; a2 += d * x[xi + 2]; a3 += d * x[xi + 3];
      }
      g[g0 + k] = a0; g[g0 + k + 1] = a1; g[g0 + k + 2] = a2; g[g0 + k + 3] = a3;
    }
    for (let k = in4; k < inS; k++) {
      let a = g[g0 + k];
      for (let i = 0; i < n; i++) a += dy[i * outS + o] * x[i * inS + k];
      g[g0 + k] = a;
    }
  }
}

/** dx[i, k] (= 0 or the value held when `accumulate`) += Σₒ dy[i, o]·W[o, k] (o ascending); 2 rows × 4 inputs per block. */
function inputGradient(w: Float64Array, wo: number, dy: Float64Array, n: number, inS: number, outS: number, dx: Float64Array, accumulate: boolean): void {
  const n2 = n - (n % 2), in4 = inS - (inS % 4);
  for (let i = 0; i < n2; i += 2) {
    const d0 = i * outS, d1 = d0 + outS, x0 = i * inS, x1 = x0 + inS;
    for (let k = 0; k < in4; k += 4) {
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      if (accumulate) {
        a0 = dx[x0 + k]; a1 = dx[x0 + k + 1]; a2 = dx[x0 + k + 2]; a3 = dx[x0 + k + 3];
        c0 = dx[x1 + k]; c1 = dx[x1 + k + 1]; c2 = dx[x1 + k + 2]; c3 = dx[x1 + k + 3];
      }
      for (let o = 0; o < outS; o++) {
        const p = dy[d0 + o], q = dy[d1 + o], wr = wo + o * inS + k;
        const w0 = w[wr], w1 = w[wr + 1], w2 = w[wr + 2], w3 = w[wr + 3];
        a0 += p * w0; a1 += p * w1; a2 += p * w2; a3 += p * w3;
        c0 += q * w0; c1 += q * w1; c2 += q * w2; c3 += q * w3;
      }
      dx[x0 + k] = a0; dx[x0 + k + 1] = a1; dx[x0 + k + 2] = a2; dx[x0 + k + 3] = a3;
      dx[x1 + k] = c0; dx[x1 + k + 1] = c1; dx[x1 + k + 2] = c2; dx[x1 + k + 3] = c3;
    }
    for (let k = in4; k < inS; k++) {
      let a = accumulate ? dx[x0 + k] : 0, c = accumulate ? dx[x1 + k] : 0;
      for (let o = 0; o < outS; o++) {
        const wv = w[wo + o * inS + k];
        a += dy[d0 + o] * wv; c += dy[d1 + o] * wv;
      }
      dx[x0 + k] = a; dx[x1 + k] = c;
    }
  }
  for (let i = n2; i < n; i++) {
    const d0 = i * outS, x0 = i * inS;
    for (let k = 0; k < inS; k++) {
      let a = accumulate ? dx[x0 + k] : 0;
      for (let o = 0; o < outS; o++) a += dy[d0 + o] * w[wo + o * inS + k];
      dx[x0 + k] = a;
    }
  }
}
