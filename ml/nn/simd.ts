/**
 * WebAssembly SIMD (f64x2) kernels for `Linear`, emitted byte by byte below: the project has no WASM
 * toolchain, and the only maintained WASM BLAS on npm (@tensorflow/tfjs-backend-wasm, XNNPACK) is
 * float32, which the float64 gradient checks and bit-exact checkpoints rule out. Hand-written because
 * measured (see the figures at the top of linear.ts).
 *
 * Each kernel computes 4 × 4 blocks of its output in eight f64x2 accumulators. A lane does exactly
 * what the scalar loop does for its element — one f64 multiply, then one f64 add, in the same order
 * of the reduction index (no fused multiply-add) — so every result is bit-identical to the plain
 * float64 loops, whichever path runs. Operands are copied into the module's memory per call (the
 * forward's weights transposed to [in, out]); the copies are O(size) against O(size × width) work.
 *
 *   forward(wt, b, x, y, n, in, out)              y[i, o] = b[o] + Σₖ x[i, k]·Wᵀ[k, o]   n % 4 = 0, out % 4 = 0
 *   weightGradient(g, x, dy, n, in, out)           g[o, k] += Σᵢ dy[i, o]·x[i, k]        in % 4 = 0, out % 4 = 0
 *   inputGradient(w, dy, dx, n, in, out, acc)      dx[i, k] = (acc ? dx : 0) + Σₒ dy[i, o]·W[o, k]   n % 4 = 0, in % 4 = 0
 * (pointers are byte offsets into the memory; sizes are counts).
 */

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))]; // ASCII names

// the instructions used (WebAssembly core spec 2.0, SIMD proposal)
const I32 = 0x7f, V128 = 0x7b;
const get = (l: number): number[] => [0x20, ...uleb(l)];
const set = (l: number): number[] => [0x21, ...uleb(l)];
const tee = (l: number): number[] => [0x22, ...uleb(l)];
const i32 = (v: number): number[] => [0x41, ...sleb(v)];
const ADD = [0x6a], MUL = [0x6c], LT_S = [0x48];
const f64Load = (offset: number): number[] => [0x2b, 3, ...uleb(offset)];
const vLoad = (offset: number): number[] => [0xfd, 0x00, 4, ...uleb(offset)];
const vStore = (offset: number): number[] => [0xfd, 0x0b, 4, ...uleb(offset)];
const SPLAT = [0xfd, 0x14], F64X2_ADD = [0xfd, 0xf0, 0x01], F64X2_MUL = [0xfd, 0xf2, 0x01];
const F64_ZERO = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
const loop = (...body: number[][]): number[] => [0x03, 0x40, ...body.flat(), 0x0b];
const ifElse = (then: number[], otherwise: number[]): number[] => [0x04, 0x40, ...then, 0x05, ...otherwise, 0x0b];
const BR_IF_0 = [0x0d, 0];
/** local += step (i32) */
const bump = (l: number, step: number[]): number[] => [...get(l), ...step, ...ADD, ...set(l)];
/** do { body } while ((counter += step) < limit) */
const countedLoop = (counter: number, step: number[], limit: number, ...body: number[][]): number[] =>
  loop(...body, [...get(counter), ...step, ...ADD, ...tee(counter), ...get(limit), ...LT_S, ...BR_IF_0]);
/** acc = acc + u·w (two instructions, not fused: the scalar loops' rounding) */
const mulAdd = (acc: number, u: number, w: number): number[] => [...get(acc), ...get(u), ...get(w), ...F64X2_MUL, ...F64X2_ADD, ...set(acc)];

/** A function body: i32 and v128 locals after the params, then the code. */
function body(i32Locals: number, v128Locals: number, code: number[][]): number[] {
  const b = [2, ...uleb(i32Locals), I32, ...uleb(v128Locals), V128, ...code.flat(), 0x0b];
  return [...uleb(b.length), ...b];
}

// forward: params wt0 b1 x2 y3 n4 in5 out6; i32 i7 o8 k9 xp10..13 wp14 rsx15 rsy16 yp17; v128 acc18..25 w26 w27 u28
function forwardBody(): number[] {
  const A = (j: number): number => 18 + j, W0 = 26, W1 = 27, U = 28;
  const rows = [0, 1, 2, 3];
  return body(11, 11, [
    get(5), i32(8), MUL, set(15), get(6), i32(8), MUL, set(16), i32(0), set(7),
    countedLoop(7, i32(4), 4,
      [...i32(0), ...set(8)],
      countedLoop(8, i32(4), 6,
        // accumulators from the bias b[o..o+3]
        [...get(1), ...get(8), ...i32(8), ...MUL, ...ADD, ...tee(14), ...vLoad(0), ...tee(A(0)), ...tee(A(2)), ...tee(A(4)), ...set(A(6))],
        [...get(14), ...vLoad(16), ...tee(A(1)), ...tee(A(3)), ...tee(A(5)), ...set(A(7))],
        // x row pointers of rows i..i+3; Wᵀ pointer at [0, o]
        [...get(2), ...get(7), ...get(15), ...MUL, ...ADD, ...tee(10), ...get(15), ...ADD, ...tee(11), ...get(15), ...ADD, ...tee(12), ...get(15), ...ADD, ...set(13)],
        [...get(0), ...get(8), ...i32(8), ...MUL, ...ADD, ...set(14), ...i32(0), ...set(9)],
        countedLoop(9, i32(1), 5,
          [...get(14), ...vLoad(0), ...set(W0), ...get(14), ...vLoad(16), ...set(W1)],
          ...rows.map((r) => [...get(10 + r), ...f64Load(0), ...SPLAT, ...set(U), ...mulAdd(A(2 * r), U, W0), ...mulAdd(A(2 * r + 1), U, W1), ...bump(10 + r, i32(8))]),
          bump(14, get(16)),
        ),
        [...get(3), ...get(7), ...get(16), ...MUL, ...ADD, ...get(8), ...i32(8), ...MUL, ...ADD, ...set(17)],
        ...rows.map((r) => [...get(17), ...get(A(2 * r)), ...vStore(0), ...get(17), ...get(A(2 * r + 1)), ...vStore(16), ...bump(17, get(16))]),
      ),
    ),
  ]);
}

// weightGradient: params g0 x1 dy2 n3 in4 out5; i32 i6 o7 k8 gp9..12 xp13 dp14 rsx15 rsy16; v128 acc17..24 w25 w26 u27
function weightGradientBody(): number[] {
  const A = (j: number): number => 17 + j, W0 = 25, W1 = 26, U = 27;
  const rows = [0, 1, 2, 3];
  return body(11, 11, [
    get(4), i32(8), MUL, set(15), get(5), i32(8), MUL, set(16), i32(0), set(7),
    countedLoop(7, i32(4), 5,
      [...i32(0), ...set(8)],
      countedLoop(8, i32(4), 4,
        // g rows o..o+3 at column k, loaded into the accumulators
        [...get(0), ...get(7), ...get(15), ...MUL, ...ADD, ...get(8), ...i32(8), ...MUL, ...ADD, ...tee(9), ...get(15), ...ADD, ...tee(10), ...get(15), ...ADD, ...tee(11), ...get(15), ...ADD, ...set(12)],
        ...rows.map((r) => [...get(9 + r), ...vLoad(0), ...set(A(2 * r)), ...get(9 + r), ...vLoad(16), ...set(A(2 * r + 1))]),
        [...get(1), ...get(8), ...i32(8), ...MUL, ...ADD, ...set(13), ...get(2), ...get(7), ...i32(8), ...MUL, ...ADD, ...set(14), ...i32(0), ...set(6)],
        countedLoop(6, i32(1), 3,
          [...get(13), ...vLoad(0), ...set(W0), ...get(13), ...vLoad(16), ...set(W1)],
          ...rows.map((r) => [...get(14), ...f64Load(8 * r), ...SPLAT, ...set(U), ...mulAdd(A(2 * r), U, W0), ...mulAdd(A(2 * r + 1), U, W1)]),
          bump(13, get(15)), bump(14, get(16)),
        ),
        ...rows.map((r) => [...get(9 + r), ...get(A(2 * r)), ...vStore(0), ...get(9 + r), ...get(A(2 * r + 1)), ...vStore(16)]),
      ),
    ),
  ]);
}

// inputGradient: params w0 dy1 dx2 n3 in4 out5 acc6; i32 i7 o8 k9 xp10..13 dp14..17 wp18 rsx19 rsy20; v128 acc21..28 w29 w30 u31
function inputGradientBody(): number[] {
  const A = (j: number): number => 21 + j, W0 = 29, W1 = 30, U = 31;
  const rows = [0, 1, 2, 3];
  return body(14, 11, [
    get(4), i32(8), MUL, set(19), get(5), i32(8), MUL, set(20), i32(0), set(7),
    countedLoop(7, i32(4), 3,
      [...i32(0), ...set(9)],
      countedLoop(9, i32(4), 4,
        // dx rows i..i+3 at column k; dy rows i..i+3 at column 0; W at [0, k]
        [...get(2), ...get(7), ...get(19), ...MUL, ...ADD, ...get(9), ...i32(8), ...MUL, ...ADD, ...tee(10), ...get(19), ...ADD, ...tee(11), ...get(19), ...ADD, ...tee(12), ...get(19), ...ADD, ...set(13)],
        get(6),
        ifElse(
          rows.flatMap((r) => [...get(10 + r), ...vLoad(0), ...set(A(2 * r)), ...get(10 + r), ...vLoad(16), ...set(A(2 * r + 1))]),
          [...F64_ZERO, ...SPLAT, ...tee(A(0)), ...tee(A(1)), ...tee(A(2)), ...tee(A(3)), ...tee(A(4)), ...tee(A(5)), ...tee(A(6)), ...set(A(7))],
        ),
        [...get(1), ...get(7), ...get(20), ...MUL, ...ADD, ...tee(14), ...get(20), ...ADD, ...tee(15), ...get(20), ...ADD, ...tee(16), ...get(20), ...ADD, ...set(17)],
        [...get(0), ...get(9), ...i32(8), ...MUL, ...ADD, ...set(18), ...i32(0), ...set(8)],
        countedLoop(8, i32(1), 5,
          [...get(18), ...vLoad(0), ...set(W0), ...get(18), ...vLoad(16), ...set(W1)],
          ...rows.map((r) => [...get(14 + r), ...f64Load(0), ...SPLAT, ...set(U), ...mulAdd(A(2 * r), U, W0), ...mulAdd(A(2 * r + 1), U, W1), ...bump(14 + r, i32(8))]),
          bump(18, get(19)),
        ),
        ...rows.map((r) => [...get(10 + r), ...get(A(2 * r)), ...vStore(0), ...get(10 + r), ...get(A(2 * r + 1)), ...vStore(16)]),
      ),
    ),
  ]);
}

function moduleBytes(): Uint8Array {
  const fn = (params: number): number[] => [0x60, ...vec(Array.from({ length: params }, () => [I32])), 0];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([fn(7), fn(6)])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 1]])),
    ...section(3, vec([[0], [1], [0]])),
    ...section(7, vec([[...name('forward'), 0x00, 0], [...name('weightGradient'), 0x00, 1], [...name('inputGradient'), 0x00, 2]])),
    ...section(10, vec([forwardBody(), weightGradientBody(), inputGradientBody()])),
  ]);
}

export interface SimdKernels {
  forward(wt: number, b: number, x: number, y: number, n: number, inS: number, outS: number): void;
  weightGradient(g: number, x: number, dy: number, n: number, inS: number, outS: number): void;
  inputGradient(w: number, dy: number, dx: number, n: number, inS: number, outS: number, accumulate: number): void;
  memory: WasmMemory;
  /** The memory as float64, refreshed by `reserve`. */
  f64: Float64Array;
  /** Makes the memory hold at least `doubles` float64 values (grows it; views taken before are stale). */
  reserve(doubles: number): Float64Array;
}

/** The part of the WebAssembly JS API used here (the project's TypeScript lib has no DOM/WebAssembly types). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}

let instance: SimdKernels | null | undefined;
let disabled = false;

/** The kernels, or null where WebAssembly SIMD is not available or `useSimd(false)` (then the scalar loops run: same bits). */
export function simdKernels(): SimdKernels | null {
  if (disabled) return null;
  if (instance !== undefined) return instance;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = moduleBytes();
  if (typeof wasm !== 'object' || !wasm.validate(bytes)) return (instance = null);
  const memory = new wasm.Memory({ initial: 16 });
  const exports = new wasm.Instance(new wasm.Module(bytes), { env: { memory } }).exports as Pick<SimdKernels, 'forward' | 'weightGradient' | 'inputGradient'>;
  const k: SimdKernels = {
    forward: exports.forward,
    weightGradient: exports.weightGradient,
    inputGradient: exports.inputGradient,
    memory,
    f64: new Float64Array(memory.buffer),
    reserve(doubles: number): Float64Array {
      const need = doubles * 8 - memory.buffer.byteLength;
      if (need > 0) memory.grow(Math.ceil(need / 65536));
      if (k.f64.buffer !== memory.buffer) k.f64 = new Float64Array(memory.buffer);
      return k.f64;
    },
  };
  return (instance = k);
}

/** Turns the SIMD path off (false: the scalar loops) or back on; for tests and the kernel bench. */
export function useSimd(on: boolean): void {
  disabled = !on;
}
