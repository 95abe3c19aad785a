/**
 * A small, fast 32-bit generator for the bootstrap's inner loop, and the binomial draws that the
 * blocked multinomial resampling needs.
 *
 * The generator is Marsaglia's xorshift128 ("Xorshift RNGs", J. Stat. Software 8(14), 2003): period
 * 2^128 − 1, only shifts and xors, which V8 compiles to plain 32-bit register operations (generators
 * with 32-bit additions, like SFC32 or xoshiro, measured several times slower because of overflow
 * checks; see bench/RESULTS.md). Its known weakness — linearity over GF(2), visible only to matrix-rank tests — does not
 * matter for choosing resample rows. Seeded from `ml/rng.ts`, so every stream replays from the
 * user's seed. The state is four public 32-bit integers so hot loops can copy them into locals and
 * write them back, which keeps them in registers.
 */
import { Rng } from '../rng';
import { logGamma } from './special';

// Module-level aliases: hot paths avoid a global `Math` lookup per call (slow inside Jest's vm context).
const { exp, log, log1p, floor } = Math;

export class Xorshift128 {
  x: number;
  y: number;
  z: number;
  w: number;
  private lastN = 0;
  private threshold = 0;

  constructor(seed: number) {
    const rng = new Rng(seed);
    this.x = rng.nextUint32() | 0;
    this.y = rng.nextUint32() | 0;
    this.z = rng.nextUint32() | 0;
    this.w = rng.nextUint32() | 0;
    if ((this.x | this.y | this.z | this.w) === 0) this.w = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8));
    return this.w >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * Uniform integer in [0, n) for 1 ≤ n ≤ 2^21, without modulo bias: Lemire's multiply-shift with
   * rejection of the (n − 2^32 mod n)-sized sliver ("Fast random integer generation in an
   * interval", ACM TOMACS 2019). The 32×21-bit product is exact in a double.
   */
  index(n: number): number {
    if (n !== this.lastN) {
      this.lastN = n;
      this.threshold = 4294967296 % n; // a float modulo is slow: computed once per n
    }
    const threshold = this.threshold;
    for (;;) {
      const m = this.nextUint32() * n;
      const hi = floor(m / 4294967296);
      if (m - hi * 4294967296 >= threshold) return hi;
    }
  }

  /**
   * Binomial(trials, p): exact inversion, searching outward from the mode so the expected number of
   * steps is O(√(trials·p·(1−p))) (Kemp's "modal" inversion); from zero when the mean is small.
   */
  binomial(trials: number, p: number): number {
    if (trials <= 0 || p <= 0) return 0;
    if (p >= 1) return trials;
    if (p > 0.5) return trials - this.binomial(trials, 1 - p);
    const q = 1 - p;
    const ratio = p / q;
    let u = this.uniform();
    if (trials * p < 30) {
      let pmf = exp(trials * log1p(-p));
      for (let k = 0; k < trials; k++) {
        if (u < pmf) return k;
        u -= pmf;
        pmf *= ((trials - k) / (k + 1)) * ratio;
      }
      return trials;
    }
    const mode = floor((trials + 1) * p);
    const pmfMode = exp(
      logGamma(trials + 1) - logGamma(mode + 1) - logGamma(trials - mode + 1) + mode * log(p) + (trials - mode) * log1p(-p),
    );
    u -= pmfMode;
    if (u < 0) return mode;
    let lo = mode, hi = mode, pLo = pmfMode, pHi = pmfMode;
    for (;;) {
      if (hi < trials) {
        pHi *= ((trials - hi) / (hi + 1)) * ratio;
        hi++;
        u -= pHi;
        if (u < 0) return hi;
      }
      if (lo > 0) {
        pLo *= lo / ((trials - lo + 1) * ratio);
        lo--;
        u -= pLo;
        if (u < 0) return lo;
      }
      if (lo === 0 && hi === trials) return mode; // only floating-point leftovers remain
    }
  }
}
