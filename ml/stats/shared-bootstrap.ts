/**
 * One bootstrap resample set shared by several statistics of the same rounds (the estimators of one
 * OPE run): every resample's row counts are drawn once and applied to every column, so the
 * estimators' intervals come from the same resamples, and the random draws are paid once.
 *
 * The law is the one of `bootstrap.ts` — a resample is c ~ Multinomial(n; 1/n, …, 1/n) and its mean
 * for column x is Σ c_i x_i / n — drawn in the same two exact stages, here over 1024-row blocks
 * (block draw counts as a chain of conditional binomials, then 10-bit positions inside each block,
 * three per 32-bit word; the last, shorter block by unbiased Lemire draws). What changes is how the
 * work is cut, so that it can run on several threads with identical results:
 *
 * - The resamples are cut into fixed groups of `RESAMPLES_PER_GROUP` (the last one shorter). Group g
 *   draws from its own xorshift128 stream whose state is a hash of (seed, g), so a group's means do
 *   not depend on which thread computes it, in which order, or how many threads there are.
 * - Inside a group, the blocks are the outer loop and the group's resamples the inner one: a block's
 *   values (1024 rows × 8 lanes, 64 KiB) are read once per group and stay in cache while every
 *   resample of the group uses them, instead of every resample streaming all n × k values.
 * - The columns are packed 8 to a row (`packColumns`), so a drawn row costs 8 adjacent loads into 8
 *   register accumulators. Each column's sum is accumulated in draw order in its own accumulator,
 *   block by block, so it is the same number whether 1 or k columns are resampled together.
 *
 * `RESAMPLES_PER_GROUP` and the block size are part of the stream's definition: changing either
 * changes the intervals for a seed (still the same law).
 */
import { Xorshift128 } from './fast-random';
import { percentile, type Interval } from './bootstrap';

const { floor, min } = Math; // module-level aliases: no global lookup in hot loops

/** Resamples per group: the unit of random streams and of work handed to a thread. */
export const RESAMPLES_PER_GROUP = 64;

const BLOCK_BITS = 10;
const BLOCK_MASK = (1 << BLOCK_BITS) - 1;
const BLOCK = 1 << BLOCK_BITS;

/** Number of resample groups for `nBootstrapSamples` resamples. */
export function resampleGroupCount(nBootstrapSamples: number): number {
  return Math.ceil(nBootstrapSamples / RESAMPLES_PER_GROUP);
}

/** murmur3's 32-bit finaliser: a bijective avalanche of one word. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * The generator of resample group `group` for `seed` (any safe integer): its four state words hash
 * the seed's low and high 32 bits, the group index and the word's position.
 */
export function groupStream(seed: number, group: number): Xorshift128 {
  const lo = seed >>> 0;
  const hi = floor(seed / 4294967296) >>> 0;
  const rng = new Xorshift128(0);
  let h = fmix32(lo ^ 0x3c6ef372);
  h = fmix32(h ^ hi ^ 0x5bd1e995);
  h = fmix32(h ^ Math.imul(group + 1, 0x9e3779b9));
  rng.x = h = fmix32(h + 0x6a09e667);
  rng.y = h = fmix32(h + 0x6a09e667);
  rng.z = h = fmix32(h + 0x6a09e667);
  rng.w = fmix32(h + 0x6a09e667);
  if ((rng.x | rng.y | rng.z | rng.w) === 0) rng.w = 1;
  return rng;
}

/** Lanes of the gather kernels: columns are resampled 8 (or, for the last few, 4) at a time. */
export type LaneWidth = 4 | 8;

/**
 * Per-round values laid out for the resampling kernel: the columns in passes of 8 (the last pass 4
 * when at most 4 remain), each pass row-major with `width` interleaved lanes (`data[i * width + j]`
 * is column `first + j` at round i; lanes past the last column are zeros). One drawn row then
 * costs `width` adjacent loads.
 */
export interface PackedColumns {
  nRounds: number;
  nColumns: number;
  passes: { width: LaneWidth; first: number; data: Float64Array }[];
}

/** Packs `columns` (each of length `nRounds`) for `resampleGroupMeans`; `alloc` gives each pass's storage. */
export function packColumns(columns: readonly Float64Array[], alloc: (length: number) => Float64Array = (length) => new Float64Array(length)): PackedColumns {
  const n = columns[0].length;
  // Row offsets are 32-bit integers in the kernels: (row << 3) must stay below 2^31.
  if (n >= 2 ** 28) throw new RangeError(`n_rounds: got ${n}, expected fewer than 2^28 rounds per bootstrap`);
  const passes: PackedColumns['passes'] = [];
  for (let first = 0; first < columns.length; first += 8) {
    const width: LaneWidth = columns.length - first <= 4 ? 4 : 8;
    const data = alloc(n * width);
    for (let j = 0; j < width && first + j < columns.length; j++) {
      const col = columns[first + j];
      for (let i = 0; i < n; i++) data[i * width + j] = col[i];
    }
    passes.push({ width, first, data });
  }
  return { nRounds: n, nColumns: columns.length, passes };
}

/**
 * Scratch space for `resampleGroupMeans`, reusable across groups of the same data (no allocation per
 * group in a worker's loop).
 */
export class ResampleScratch {
  /** Draws per full block, per resample of the group. */
  readonly blockDraws: Int32Array;
  /** Draws left for the shorter last block, per resample. */
  readonly left = new Int32Array(RESAMPLES_PER_GROUP);
  /** Positions drawn inside the current block (a block can in principle receive all n draws). */
  readonly positions: Uint16Array;
  constructor(nRounds: number) {
    this.blockDraws = new Int32Array(RESAMPLES_PER_GROUP * Math.max(1, nRounds >>> BLOCK_BITS));
    this.positions = new Uint16Array(Math.max(nRounds, 4) + 3);
  }
}

/** `c` 10-bit positions into `positions`, three per generator word (the last word's spare bits unused). */
function drawPositions(rng: Xorshift128, positions: Uint16Array, c: number): void {
  let x = rng.x | 0, y = rng.y | 0, z = rng.z | 0, w = rng.w | 0;
  for (let d = 0; d < c; d += 3) {
    const t = x ^ (x << 11);
    x = y; y = z; z = w; w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
    positions[d] = w & BLOCK_MASK;
    positions[d + 1] = (w >>> BLOCK_BITS) & BLOCK_MASK;
    positions[d + 2] = (w >>> (2 * BLOCK_BITS)) & BLOCK_MASK;
  }
  rng.x = x; rng.y = y; rng.z = z; rng.w = w;
}

/**
 * `drawPositions` and `gather8` in one loop, for up to 8 columns (one pass): the same positions in
 * the same order, so the same sums, without the round trip through the positions buffer.
 */
function drawAndGather8(rng: Xorshift128, data: Float64Array, base: number, c: number, means: Float64Array, at: number, stride: number, lanes: number): void {
  let x = rng.x | 0, y = rng.y | 0, z = rng.z | 0, w = rng.w | 0;
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (let d = 0; d < c; d += 3) {
    const t = x ^ (x << 11);
    x = y; y = z; z = w; w = w ^ (w >>> 19) ^ (t ^ (t >>> 8));
    let o = (base + (w & BLOCK_MASK)) << 3;
    s0 += data[o]; s1 += data[o + 1]; s2 += data[o + 2]; s3 += data[o + 3];
    s4 += data[o + 4]; s5 += data[o + 5]; s6 += data[o + 6]; s7 += data[o + 7];
    if (d + 1 >= c) break;
    o = (base + ((w >>> BLOCK_BITS) & BLOCK_MASK)) << 3;
    s0 += data[o]; s1 += data[o + 1]; s2 += data[o + 2]; s3 += data[o + 3];
    s4 += data[o + 4]; s5 += data[o + 5]; s6 += data[o + 6]; s7 += data[o + 7];
    if (d + 2 >= c) break;
    o = (base + ((w >>> (2 * BLOCK_BITS)) & BLOCK_MASK)) << 3;
    s0 += data[o]; s1 += data[o + 1]; s2 += data[o + 2]; s3 += data[o + 3];
    s4 += data[o + 4]; s5 += data[o + 5]; s6 += data[o + 6]; s7 += data[o + 7];
  }
  rng.x = x; rng.y = y; rng.z = z; rng.w = w;
  means[at] += s0;
  if (lanes > 1) means[at + stride] += s1;
  if (lanes > 2) means[at + 2 * stride] += s2;
  if (lanes > 3) means[at + 3 * stride] += s3;
  if (lanes > 4) means[at + 4 * stride] += s4;
  if (lanes > 5) means[at + 5 * stride] += s5;
  if (lanes > 6) means[at + 6 * stride] += s6;
  if (lanes > 7) means[at + 7 * stride] += s7;
}

/** Σ over the drawn positions of each of 8 lanes, added to the means of the real columns. */
function gather8(data: Float64Array, base: number, positions: Uint16Array, c: number, means: Float64Array, at: number, stride: number, lanes: number): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
  for (let d = 0; d < c; d++) {
    const o = (base + positions[d]) << 3;
    s0 += data[o]; s1 += data[o + 1]; s2 += data[o + 2]; s3 += data[o + 3];
    s4 += data[o + 4]; s5 += data[o + 5]; s6 += data[o + 6]; s7 += data[o + 7];
  }
  means[at] += s0;
  if (lanes > 1) means[at + stride] += s1;
  if (lanes > 2) means[at + 2 * stride] += s2;
  if (lanes > 3) means[at + 3 * stride] += s3;
  if (lanes > 4) means[at + 4 * stride] += s4;
  if (lanes > 5) means[at + 5 * stride] += s5;
  if (lanes > 6) means[at + 6 * stride] += s6;
  if (lanes > 7) means[at + 7 * stride] += s7;
}

/** Σ over the drawn positions of each of 4 lanes, added to the means of the real columns. */
function gather4(data: Float64Array, base: number, positions: Uint16Array, c: number, means: Float64Array, at: number, stride: number, lanes: number): void {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  for (let d = 0; d < c; d++) {
    const o = (base + positions[d]) << 2;
    s0 += data[o]; s1 += data[o + 1]; s2 += data[o + 2]; s3 += data[o + 3];
  }
  means[at] += s0;
  if (lanes > 1) means[at + stride] += s1;
  if (lanes > 2) means[at + 2 * stride] += s2;
  if (lanes > 3) means[at + 3 * stride] += s3;
}

/** Adds one block's drawn rows to resample `r`'s sums, pass by pass. */
function gatherAll(packed: PackedColumns, base: number, positions: Uint16Array, c: number, means: Float64Array, nBootstrapSamples: number, r: number): void {
  const passes = packed.passes;
  for (let p = 0; p < passes.length; p++) {
    const { width, first, data } = passes[p];
    const lanes = min(width, packed.nColumns - first);
    const at = first * nBootstrapSamples + r;
    if (width === 8) gather8(data, base, positions, c, means, at, nBootstrapSamples, lanes);
    else gather4(data, base, positions, c, means, at, nBootstrapSamples, lanes);
  }
}

/**
 * The bootstrap means of resample group `group` for every column: writes
 * `means[e * nBootstrapSamples + r]` for the group's resamples r and every column e. `means` is
 * column-major, one row of `nBootstrapSamples` per column, so threads write disjoint ranges of it.
 * Each column's sum for a resample is accumulated block by block, in draw order inside a block, in
 * one accumulator: the same number whatever the other columns are.
 */
export function resampleGroupMeans(
  packed: PackedColumns,
  nBootstrapSamples: number,
  seed: number,
  group: number,
  means: Float64Array,
  scratch: ResampleScratch = new ResampleScratch(packed.nRounds),
): void {
  const n = packed.nRounds;
  const k = packed.nColumns;
  const r0 = group * RESAMPLES_PER_GROUP;
  const nr = min(RESAMPLES_PER_GROUP, nBootstrapSamples - r0);
  if (!Number.isInteger(group) || group < 0 || nr <= 0) {
    throw new RangeError(`group: got ${group}, expected an integer in [0, ${resampleGroupCount(nBootstrapSamples)})`);
  }
  const rng = groupStream(seed, group);
  const nFull = n >>> BLOCK_BITS;
  const rem = n - nFull * BLOCK;
  const remThreshold = rem > 0 ? 4294967296 % rem : 0;
  const { blockDraws: draws, left, positions } = scratch;

  // Stage 1: draws per full block, per resample (conditional binomials); the last block takes what is left.
  for (let r = 0; r < nr; r++) {
    let l = n;
    let sizeLeft = n;
    const row = r * nFull;
    for (let b = 0; b < nFull; b++) {
      const nb = l > 0 ? rng.binomial(l, BLOCK / sizeLeft) : 0;
      draws[row + b] = nb;
      l -= nb;
      sizeLeft -= BLOCK;
    }
    left[r] = l;
  }
  for (let e = 0; e < k; e++) means.fill(0, e * nBootstrapSamples + r0, e * nBootstrapSamples + r0 + nr);

  // Stage 2: block by block (its values stay in cache), every resample of the group: 10-bit positions.
  const single = packed.passes.length === 1 && packed.passes[0].width === 8 ? packed.passes[0].data : null;
  for (let b = 0; b < nFull; b++) {
    const base = b << BLOCK_BITS;
    for (let r = 0; r < nr; r++) {
      const c = draws[r * nFull + b];
      if (single !== null) drawAndGather8(rng, single, base, c, means, r0 + r, nBootstrapSamples, k);
      else {
        drawPositions(rng, positions, c);
        gatherAll(packed, base, positions, c, means, nBootstrapSamples, r0 + r);
      }
    }
  }

  // The shorter last block: unbiased Lemire draws over its `rem` rows; then the means.
  const remBase = nFull * BLOCK;
  for (let r = 0; r < nr; r++) {
    const c = left[r];
    for (let d = 0; d < c; d++) {
      for (;;) {
        const m = rng.nextUint32() * rem;
        const hi = floor(m / 4294967296);
        if (m - hi * 4294967296 >= remThreshold) {
          positions[d] = hi;
          break;
        }
      }
    }
    if (c > 0) gatherAll(packed, remBase, positions, c, means, nBootstrapSamples, r0 + r);
    for (let e = 0; e < k; e++) means[e * nBootstrapSamples + r0 + r] /= n;
  }
}

/** Checks that every column has `nRounds` finite values; names the column and the row otherwise. */
export function checkColumns(columns: readonly Float64Array[], names: readonly string[]): number {
  if (columns.length === 0) throw new RangeError('columns: got none, expected at least one column of per-round values');
  const n = columns[0].length;
  if (n === 0) throw new RangeError(`${names[0]}: got an empty array, expected at least one value`);
  for (let e = 0; e < columns.length; e++) {
    const col = columns[e];
    if (col.length !== n) throw new RangeError(`${names[e]}: got ${col.length} rounds, expected ${n} like ${names[0]}`);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(col[i])) throw new RangeError(`${names[e]}[${i}]: got ${col[i]}, expected a finite number`);
    }
  }
  return n;
}

/**
 * The intervals from the bootstrap means (column-major, as `resampleGroupMeans` writes them): each
 * column's means sorted in place, its α/2 and 1 − α/2 percentiles, and the column's plain mean as
 * the point value.
 */
export function intervalsFromMeans(columns: readonly Float64Array[], means: Float64Array, nBootstrapSamples: number, alpha: number): Interval[] {
  return columns.map((col, e) => {
    const m = means.subarray(e * nBootstrapSamples, (e + 1) * nBootstrapSamples).sort();
    let s = 0;
    for (let i = 0; i < col.length; i++) s += col[i];
    return { value: s / col.length, lower: percentile(m, alpha / 2), upper: percentile(m, 1 - alpha / 2) };
  });
}

/**
 * Percentile-bootstrap intervals of the means of several columns of per-round values from one
 * shared resample set, on the calling thread. `parallel/bootstrap.ts` computes the same numbers
 * on several threads.
 */
export function sharedBootstrap(
  columns: readonly Float64Array[],
  options: { alpha: number; nBootstrapSamples: number; randomState: number },
  names: readonly string[] = columns.map((_, e) => `columns[${e}]`),
): Interval[] {
  const n = checkColumns(columns, names);
  const { alpha, nBootstrapSamples, randomState } = options;
  const packed = packColumns(columns);
  const means = new Float64Array(columns.length * nBootstrapSamples);
  const scratch = new ResampleScratch(n);
  for (let g = 0; g < resampleGroupCount(nBootstrapSamples); g++) {
    resampleGroupMeans(packed, nBootstrapSamples, randomState, g, means, scratch);
  }
  return intervalsFromMeans(columns, means, nBootstrapSamples, alpha);
}
