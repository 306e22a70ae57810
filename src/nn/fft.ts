/**
 * Complex FFTs of any length, in "vector" form: a transform of length n acts on
 * n elements, each element a vector of V contiguous numbers (element e occupies
 * offsets e*V .. e*V+V-1), and every vector position is transformed at once.
 * This is how the 2-D grid transforms of the Q-network are done: the transform
 * along one grid axis treats the other axis as the vector, so the innermost
 * loops always run over contiguous memory and twiddle factors are hoisted out.
 *
 * Only vector positions listed in `runs` (pairs [start, end)) are computed; the
 * convolution engine uses this to skip grid rows that are known to be zero
 * (the loss touches a few output cells, so back-propagated signals are sparse).
 *
 * Algorithms:
 *  - lengths whose prime factors are all <= 23: Stockham autosort mixed radix
 *    (specialised radix 2, 3, 4, 5, 6, 7, 8, 9 butterflies, a generic symmetric odd-prime
 *    butterfly for 7..23), no bit reversal pass;
 *  - prime lengths > 23 (e.g. a periodic axis of 37 grid points): Rader's
 *    algorithm, a cyclic convolution of length n-1 done with a smaller FFT;
 *  - other lengths with a large prime factor: Bluestein's chirp-z algorithm
 *    with a 5-smooth convolution length.
 * DFT convention: X[k] = sum_t x[t] exp(sign * 2 pi i t k / n), sign = -1 for
 * the forward transform, +1 for the (unnormalised) inverse.
 */

import { nativeKernels, type NativePlan, type StockhamPlan } from './native.js';

export interface VectorFFT {
  readonly n: number;
  /**
   * Transforms the data in (aRe, aIm). (bRe, bIm) is scratch of the same size
   * (n*V). Returns false when the result is in a, true when it is in b.
   */
  run(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean;
  /**
   * The same transform with rows in the plan's own order: input element t is
   * read from row rowIn[t], output element k is left in row rowOut[k] (null:
   * natural order, runRows = run). Rader's algorithm permutes its input and
   * output; a caller that copies data in and out anyway (the 2-D transforms of
   * the convolution engine) can place and pick the rows itself and save both
   * permutation passes.
   */
  readonly rowIn: Int32Array | null;
  readonly rowOut: Int32Array | null;
  runRows(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean;
}

const MAX_DIRECT_RADIX = 23;

/** Prime factors in ascending order. */
export function primeFactors(n: number): number[] {
  const f: number[] = [];
  let m = n;
  for (let p = 2; p * p <= m; p++) {
    while (m % p === 0) {
      f.push(p);
      m /= p;
    }
  }
  if (m > 1) f.push(m);
  return f;
}

export function isPrime(n: number): boolean {
  return n >= 2 && primeFactors(n).length === 1;
}

const planCache = new Map<number, VectorFFT>();

/** A (cached) transform plan for length n. */
export function planFFT(n: number): VectorFFT {
  if (!Number.isInteger(n) || n < 1) throw new Error(`FFT length must be a positive integer, got ${n}`);
  let p = planCache.get(n);
  if (!p) {
    const f = primeFactors(n);
    const largest = f.length ? f[f.length - 1] : 1;
    if (largest <= MAX_DIRECT_RADIX) p = new StockhamFFT(n);
    else if (f.length === 1) p = new RaderFFT(n);
    else p = new BluesteinFFT(n);
    planCache.set(n, p);
  }
  return p;
}

/** Full run list [0, V). */
export function fullRuns(V: number): Int32Array {
  return Int32Array.of(0, V);
}

interface Stage {
  p: number;
  l1: number; // product of the radices of earlier stages
  m: number; // n / (l1 * p)
  twRe: Float64Array; // twiddle exp(-2 pi i * i*q / (p*m)), index i*(p-1) + q-1
  twIm: Float64Array;
  cosTab?: Float64Array; // generic odd radix only
  sinTab?: Float64Array;
}

/**
 * Stockham autosort, decimation in frequency. State before a stage: l1
 * interleaved sub-sequences of length N' = n/l1, seq_q'[t] stored at element
 * t*l1 + q'. A radix-p stage splits t = i + m*j and writes
 *   y_{q',q}[i] = w_{N'}^{iq} sum_j seq_q'[i + m j] w_p^{jq}
 * to element (i*p + q)*l1 + q', so the final element k holds X[k].
 */
export class StockhamFFT implements VectorFFT {
  readonly stages: Stage[] = [];
  readonly rowIn = null;
  readonly rowOut = null;
  private tmp: Float64Array[] = [];
  // the stages packed for the native kernels (native.ts): 5 numbers per stage
  // (p, l1, m, twiddle offset, table offset or -1) and the tables concatenated
  private nativeInfo: Int32Array;
  private nativeTw: Float64Array[];
  private nativeTab: Float64Array[];
  /** The plan as the native code reads it (native.ts NativePlan); null for an empty plan (n = 1). */
  get nativePlan(): StockhamPlan | null {
    if (!this.stages.length) return null;
    return [this.nativeInfo, this.nativeTw[0], this.nativeTw[1], this.nativeTab[0], this.nativeTab[1]];
  }
  constructor(readonly n: number) {
    const f = primeFactors(n);
    // factors of 2 into radix-4 stages, and a radix-8 stage for an odd count
    // of them (8 = 2 x 4 in one memory pass instead of a radix-2 stage)
    const radices: number[] = [];
    let twos = f.filter((x) => x === 2).length;
    if (twos >= 3 && twos % 2 === 1) {
      radices.push(8);
      twos -= 3;
    }
    while (twos >= 2) {
      radices.push(4);
      twos -= 2;
    }
    // pair up factors of 3 into radix-9 stages (one memory pass instead of two),
    // and a lone 2 with a lone 3 into radix 6
    let threes = f.filter((x) => x === 3).length;
    while (threes >= 2) {
      radices.push(9);
      threes -= 2;
    }
    if (twos && threes) {
      radices.push(6);
      twos = threes = 0;
    }
    if (twos) radices.push(2);
    if (threes) radices.push(3);
    for (const x of f) if (x !== 2 && x !== 3) radices.push(x);
    let l1 = 1;
    for (const p of radices) {
      const m = n / (l1 * p);
      const twRe = new Float64Array(m * (p - 1));
      const twIm = new Float64Array(m * (p - 1));
      for (let i = 0; i < m; i++)
        for (let q = 1; q < p; q++) {
          const a = (-2 * Math.PI * ((i * q) % (p * m))) / (p * m);
          twRe[i * (p - 1) + q - 1] = Math.cos(a);
          twIm[i * (p - 1) + q - 1] = Math.sin(a);
        }
      const st: Stage = { p, l1, m, twRe, twIm };
      if (p === 7 || p > 9) {
        const h = (p - 1) >> 1;
        st.cosTab = new Float64Array(h * h);
        st.sinTab = new Float64Array(h * h);
        for (let q = 1; q <= h; q++)
          for (let j = 1; j <= h; j++) {
            st.cosTab[(q - 1) * h + j - 1] = Math.cos((2 * Math.PI * ((j * q) % p)) / p);
            st.sinTab[(q - 1) * h + j - 1] = -Math.sin((2 * Math.PI * ((j * q) % p)) / p);
          }
      }
      this.stages.push(st);
      l1 *= p;
    }
    this.nativeInfo = new Int32Array(5 * this.stages.length);
    let tw = 0, tab = 0;
    for (const [k, st] of this.stages.entries()) {
      this.nativeInfo.set([st.p, st.l1, st.m, tw, st.cosTab ? tab : -1], 5 * k);
      tw += st.twRe.length;
      tab += st.cosTab?.length ?? 0;
    }
    this.nativeTw = [new Float64Array(tw), new Float64Array(tw)];
    this.nativeTab = [new Float64Array(tab), new Float64Array(tab)];
    for (const [k, st] of this.stages.entries()) {
      const t = this.nativeInfo[5 * k + 3], c = this.nativeInfo[5 * k + 4];
      this.nativeTw[0].set(st.twRe, t);
      this.nativeTw[1].set(st.twIm, t);
      if (st.cosTab) {
        this.nativeTab[0].set(st.cosTab, c);
        this.nativeTab[1].set(st.sinTab!, c);
      }
    }
  }

  private scratch(size: number): Float64Array[] {
    if (this.tmp.length === 0 || this.tmp[0].length < size) {
      this.tmp = [new Float64Array(size), new Float64Array(size), new Float64Array(size), new Float64Array(size)];
    }
    return this.tmp;
  }

  runRows(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    return this.run(aRe, aIm, bRe, bIm, V, runs, sign);
  }

  run(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    // the same stages in C when the native kernels are built (native/fft.inc)
    const nat = nativeKernels();
    if (nat && this.stages.length) return nat.fft(this.nativeInfo, this.nativeTw[0], this.nativeTw[1], this.nativeTab[0], this.nativeTab[1], aRe, aIm, bRe, bIm, V, runs, sign);
    let inB = false;
    for (const st of this.stages) {
      const sRe = inB ? bRe : aRe, sIm = inB ? bIm : aIm;
      const dRe = inB ? aRe : bRe, dIm = inB ? aIm : bIm;
      switch (st.p) {
        case 2: radix2(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 3: radix3(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 4: radix4(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 5: radix5(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 7: radix7(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 6: radix6(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 8: radix8(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        case 9: radix9(sRe, sIm, dRe, dIm, st, V, runs, sign); break;
        default: radixOdd(sRe, sIm, dRe, dIm, st, V, runs, sign, this.scratch(((st.p - 1) / 2) * V));
      }
      inB = !inB;
    }
    return inB;
  }
}

function radix2(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V; // input stride between j and j+1
  const qs = l1 * V; // output stride between q and q+1
  const nr = runs.length;
  for (let i = 0; i < m; i++) {
    const w1r = twRe[i], w1i = sign < 0 ? twIm[i] : -twIm[i];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 2 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v, i1 = i0 + js;
          const x0r = sRe[i0], x0i = sIm[i0], x1r = sRe[i1], x1i = sIm[i1];
          const o0 = ob + v, o1 = o0 + qs;
          dRe[o0] = x0r + x1r;
          dIm[o0] = x0i + x1i;
          const yr = x0r - x1r, yi = x0i - x1i;
          dRe[o1] = yr * w1r - yi * w1i;
          dIm[o1] = yr * w1i + yi * w1r;
        }
      }
    }
  }
}

function radix3(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const s3 = sign * Math.sqrt(3) * 0.5; // sign * sin(60 deg)
  for (let i = 0; i < m; i++) {
    const w1r = twRe[2 * i], w2r = twRe[2 * i + 1];
    const w1i = sign < 0 ? twIm[2 * i] : -twIm[2 * i];
    const w2i = sign < 0 ? twIm[2 * i + 1] : -twIm[2 * i + 1];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 3 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v, i1 = i0 + js, i2 = i1 + js;
          const x0r = sRe[i0], x0i = sIm[i0];
          const tr = sRe[i1] + sRe[i2], ti = sIm[i1] + sIm[i2];
          const ur = (sRe[i1] - sRe[i2]) * s3, ui = (sIm[i1] - sIm[i2]) * s3;
          const cr = x0r - 0.5 * tr, ci = x0i - 0.5 * ti;
          const o0 = ob + v, o1 = o0 + qs, o2 = o1 + qs;
          dRe[o0] = x0r + tr;
          dIm[o0] = x0i + ti;
          // y1 = c + i*u, y2 = c - i*u   (u already carries the sign)
          const y1r = cr - ui, y1i = ci + ur;
          const y2r = cr + ui, y2i = ci - ur;
          dRe[o1] = y1r * w1r - y1i * w1i;
          dIm[o1] = y1r * w1i + y1i * w1r;
          dRe[o2] = y2r * w2r - y2i * w2i;
          dIm[o2] = y2r * w2i + y2i * w2r;
        }
      }
    }
  }
}

function radix4(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  for (let i = 0; i < m; i++) {
    const w1r = twRe[3 * i], w2r = twRe[3 * i + 1], w3r = twRe[3 * i + 2];
    const f = sign < 0 ? 1 : -1;
    const w1i = f * twIm[3 * i], w2i = f * twIm[3 * i + 1], w3i = f * twIm[3 * i + 2];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 4 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v, i1 = i0 + js, i2 = i1 + js, i3 = i2 + js;
          const x0r = sRe[i0], x0i = sIm[i0], x1r = sRe[i1], x1i = sIm[i1];
          const x2r = sRe[i2], x2i = sIm[i2], x3r = sRe[i3], x3i = sIm[i3];
          const ar = x0r + x2r, ai = x0i + x2i, br = x0r - x2r, bi = x0i - x2i;
          const cr = x1r + x3r, ci = x1i + x3i;
          // sign * i * (x1 - x3)
          const dr = -sign * (x1i - x3i), di = sign * (x1r - x3r);
          const o0 = ob + v, o1 = o0 + qs, o2 = o1 + qs, o3 = o2 + qs;
          dRe[o0] = ar + cr;
          dIm[o0] = ai + ci;
          const y1r = br + dr, y1i = bi + di;
          const y2r = ar - cr, y2i = ai - ci;
          const y3r = br - dr, y3i = bi - di;
          dRe[o1] = y1r * w1r - y1i * w1i;
          dIm[o1] = y1r * w1i + y1i * w1r;
          dRe[o2] = y2r * w2r - y2i * w2i;
          dIm[o2] = y2r * w2i + y2i * w2r;
          dRe[o3] = y3r * w3r - y3i * w3i;
          dIm[o3] = y3r * w3i + y3i * w3r;
        }
      }
    }
  }
}

const C5_1 = Math.cos((2 * Math.PI) / 5), C5_2 = Math.cos((4 * Math.PI) / 5);
const S5_1 = Math.sin((2 * Math.PI) / 5), S5_2 = Math.sin((4 * Math.PI) / 5);

function radix5(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const sn1 = sign * S5_1, sn2 = sign * S5_2;
  for (let i = 0; i < m; i++) {
    const f = sign < 0 ? 1 : -1;
    const w1r = twRe[4 * i], w2r = twRe[4 * i + 1], w3r = twRe[4 * i + 2], w4r = twRe[4 * i + 3];
    const w1i = f * twIm[4 * i], w2i = f * twIm[4 * i + 1], w3i = f * twIm[4 * i + 2], w4i = f * twIm[4 * i + 3];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 5 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v, i1 = i0 + js, i2 = i1 + js, i3 = i2 + js, i4 = i3 + js;
          const x0r = sRe[i0], x0i = sIm[i0];
          const s1r = sRe[i1] + sRe[i4], s1i = sIm[i1] + sIm[i4];
          const d1r = sRe[i1] - sRe[i4], d1i = sIm[i1] - sIm[i4];
          const s2r = sRe[i2] + sRe[i3], s2i = sIm[i2] + sIm[i3];
          const d2r = sRe[i2] - sRe[i3], d2i = sIm[i2] - sIm[i3];
          const a1r = x0r + C5_1 * s1r + C5_2 * s2r, a1i = x0i + C5_1 * s1i + C5_2 * s2i;
          const a2r = x0r + C5_2 * s1r + C5_1 * s2r, a2i = x0i + C5_2 * s1i + C5_1 * s2i;
          // b carries the sign: y_q = a_q + i*b_q, y_{5-q} = a_q - i*b_q
          const b1r = sn1 * d1r + sn2 * d2r, b1i = sn1 * d1i + sn2 * d2i;
          const b2r = sn2 * d1r - sn1 * d2r, b2i = sn2 * d1i - sn1 * d2i;
          const o0 = ob + v, o1 = o0 + qs, o2 = o1 + qs, o3 = o2 + qs, o4 = o3 + qs;
          dRe[o0] = x0r + s1r + s2r;
          dIm[o0] = x0i + s1i + s2i;
          let yr = a1r - b1i, yi = a1i + b1r;
          dRe[o1] = yr * w1r - yi * w1i;
          dIm[o1] = yr * w1i + yi * w1r;
          yr = a1r + b1i;
          yi = a1i - b1r;
          dRe[o4] = yr * w4r - yi * w4i;
          dIm[o4] = yr * w4i + yi * w4r;
          yr = a2r - b2i;
          yi = a2i + b2r;
          dRe[o2] = yr * w2r - yi * w2i;
          dIm[o2] = yr * w2i + yi * w2r;
          yr = a2r + b2i;
          yi = a2i - b2r;
          dRe[o3] = yr * w3r - yi * w3i;
          dIm[o3] = yr * w3i + yi * w3r;
        }
      }
    }
  }
}

/**
 * Radix 6 as 2 x 3 (one memory pass instead of radix-2 and radix-3 stages):
 * with j = j1 + 2 j2 and q = r + 3 s, A_j1 = DFT3(x_j1, x_j1+2, x_j1+4),
 *   y_r = A_0[r] + w6^r A_1[r],  y_(r+3) = A_0[r] - w6^r A_1[r].
 */
function radix6(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const f = sign < 0 ? 1 : -1;
  const s3 = sign * Math.sqrt(3) * 0.5; // also Im(w6) = Im(w6^2)
  for (let i = 0; i < m; i++) {
    const t = 5 * i;
    const w1r = twRe[t], w2r = twRe[t + 1], w3r = twRe[t + 2], w4r = twRe[t + 3], w5r = twRe[t + 4];
    const w1i = f * twIm[t], w2i = f * twIm[t + 1], w3i = f * twIm[t + 2], w4i = f * twIm[t + 3], w5i = f * twIm[t + 4];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 6 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v;
          // A_0 = DFT3(x0, x2, x4)
          let ar = sRe[i0], ai = sIm[i0], br = sRe[i0 + 2 * js], bi = sIm[i0 + 2 * js], cr = sRe[i0 + 4 * js], ci = sIm[i0 + 4 * js];
          let tr = br + cr, ti = bi + ci, ur = (br - cr) * s3, ui = (bi - ci) * s3, mr = ar - 0.5 * tr, mi = ai - 0.5 * ti;
          const a0r = ar + tr, a0i = ai + ti, a1r = mr - ui, a1i = mi + ur, a2r = mr + ui, a2i = mi - ur;
          // A_1 = DFT3(x1, x3, x5), times w6^r: w6 = 1/2 + s3 i, w6^2 = -1/2 + s3 i
          ar = sRe[i0 + js]; ai = sIm[i0 + js]; br = sRe[i0 + 3 * js]; bi = sIm[i0 + 3 * js]; cr = sRe[i0 + 5 * js]; ci = sIm[i0 + 5 * js];
          tr = br + cr; ti = bi + ci; ur = (br - cr) * s3; ui = (bi - ci) * s3; mr = ar - 0.5 * tr; mi = ai - 0.5 * ti;
          const b0r = ar + tr, b0i = ai + ti;
          let xr = mr - ui, xi = mi + ur;
          const b1r = 0.5 * xr - s3 * xi, b1i = 0.5 * xi + s3 * xr;
          xr = mr + ui;
          xi = mi - ur;
          const b2r = -0.5 * xr - s3 * xi, b2i = -0.5 * xi + s3 * xr;
          const o0 = ob + v;
          dRe[o0] = a0r + b0r;
          dIm[o0] = a0i + b0i;
          let yr = a0r - b0r, yi = a0i - b0i;
          dRe[o0 + 3 * qs] = yr * w3r - yi * w3i; dIm[o0 + 3 * qs] = yr * w3i + yi * w3r;
          yr = a1r + b1r; yi = a1i + b1i;
          dRe[o0 + qs] = yr * w1r - yi * w1i; dIm[o0 + qs] = yr * w1i + yi * w1r;
          yr = a1r - b1r; yi = a1i - b1i;
          dRe[o0 + 4 * qs] = yr * w4r - yi * w4i; dIm[o0 + 4 * qs] = yr * w4i + yi * w4r;
          yr = a2r + b2r; yi = a2i + b2i;
          dRe[o0 + 2 * qs] = yr * w2r - yi * w2i; dIm[o0 + 2 * qs] = yr * w2i + yi * w2r;
          yr = a2r - b2r; yi = a2i - b2i;
          dRe[o0 + 5 * qs] = yr * w5r - yi * w5i; dIm[o0 + 5 * qs] = yr * w5i + yi * w5r;
        }
      }
    }
  }
}

/**
 * Radix 8 as 2 x 4 (one memory pass instead of radix-4 and radix-2 stages):
 * with j = j1 + 2 j2 and q = r + 4 s, A_j1 = DFT4(x_j1, x_j1+2, x_j1+4, x_j1+6),
 *   y_r = A_0[r] + w8^r A_1[r],  y_(r+4) = A_0[r] - w8^r A_1[r].
 */
function radix8(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const f = sign < 0 ? 1 : -1;
  const h = Math.SQRT1_2;
  for (let i = 0; i < m; i++) {
    const t = 7 * i;
    const w1r = twRe[t], w2r = twRe[t + 1], w3r = twRe[t + 2], w4r = twRe[t + 3], w5r = twRe[t + 4], w6r = twRe[t + 5], w7r = twRe[t + 6];
    const w1i = f * twIm[t], w2i = f * twIm[t + 1], w3i = f * twIm[t + 2], w4i = f * twIm[t + 3], w5i = f * twIm[t + 4], w6i = f * twIm[t + 5], w7i = f * twIm[t + 6];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 8 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v;
          // A_0 = DFT4(x0, x2, x4, x6)
          let x0r = sRe[i0], x0i = sIm[i0], x1r = sRe[i0 + 2 * js], x1i = sIm[i0 + 2 * js];
          let x2r = sRe[i0 + 4 * js], x2i = sIm[i0 + 4 * js], x3r = sRe[i0 + 6 * js], x3i = sIm[i0 + 6 * js];
          let ar = x0r + x2r, ai = x0i + x2i, br = x0r - x2r, bi = x0i - x2i, cr = x1r + x3r, ci = x1i + x3i;
          let dr = -sign * (x1i - x3i), di = sign * (x1r - x3r);
          const a0r = ar + cr, a0i = ai + ci, a1r = br + dr, a1i = bi + di, a2r = ar - cr, a2i = ai - ci, a3r = br - dr, a3i = bi - di;
          // A_1 = DFT4(x1, x3, x5, x7)
          x0r = sRe[i0 + js]; x0i = sIm[i0 + js]; x1r = sRe[i0 + 3 * js]; x1i = sIm[i0 + 3 * js];
          x2r = sRe[i0 + 5 * js]; x2i = sIm[i0 + 5 * js]; x3r = sRe[i0 + 7 * js]; x3i = sIm[i0 + 7 * js];
          ar = x0r + x2r; ai = x0i + x2i; br = x0r - x2r; bi = x0i - x2i; cr = x1r + x3r; ci = x1i + x3i;
          dr = -sign * (x1i - x3i); di = sign * (x1r - x3r);
          // B_1[r] = w8^r A_1[r], w8 = sqrt(1/2) (1 + sign i), w8^2 = sign i, w8^3 = sqrt(1/2) (-1 + sign i)
          const b0r = ar + cr, b0i = ai + ci;
          let yr = br + dr, yi = bi + di;
          const b1r = h * (yr - sign * yi), b1i = h * (yi + sign * yr);
          yr = ar - cr;
          yi = ai - ci;
          const b2r = -sign * yi, b2i = sign * yr;
          yr = br - dr;
          yi = bi - di;
          const b3r = h * (-yr - sign * yi), b3i = h * (-yi + sign * yr);
          const o0 = ob + v;
          dRe[o0] = a0r + b0r;
          dIm[o0] = a0i + b0i;
          yr = a0r - b0r; yi = a0i - b0i;
          dRe[o0 + 4 * qs] = yr * w4r - yi * w4i; dIm[o0 + 4 * qs] = yr * w4i + yi * w4r;
          yr = a1r + b1r; yi = a1i + b1i;
          dRe[o0 + qs] = yr * w1r - yi * w1i; dIm[o0 + qs] = yr * w1i + yi * w1r;
          yr = a1r - b1r; yi = a1i - b1i;
          dRe[o0 + 5 * qs] = yr * w5r - yi * w5i; dIm[o0 + 5 * qs] = yr * w5i + yi * w5r;
          yr = a2r + b2r; yi = a2i + b2i;
          dRe[o0 + 2 * qs] = yr * w2r - yi * w2i; dIm[o0 + 2 * qs] = yr * w2i + yi * w2r;
          yr = a2r - b2r; yi = a2i - b2i;
          dRe[o0 + 6 * qs] = yr * w6r - yi * w6i; dIm[o0 + 6 * qs] = yr * w6i + yi * w6r;
          yr = a3r + b3r; yi = a3i + b3i;
          dRe[o0 + 3 * qs] = yr * w3r - yi * w3i; dIm[o0 + 3 * qs] = yr * w3i + yi * w3r;
          yr = a3r - b3r; yi = a3i - b3i;
          dRe[o0 + 7 * qs] = yr * w7r - yi * w7i; dIm[o0 + 7 * qs] = yr * w7i + yi * w7r;
        }
      }
    }
  }
}

const C9_1 = Math.cos((2 * Math.PI) / 9), S9_1 = Math.sin((2 * Math.PI) / 9);
const C9_2 = Math.cos((4 * Math.PI) / 9), S9_2 = Math.sin((4 * Math.PI) / 9);
const C9_4 = Math.cos((8 * Math.PI) / 9), S9_4 = Math.sin((8 * Math.PI) / 9);

/**
 * Radix 9 as 3 x 3 (one pass over memory instead of two radix-3 stages):
 * with j = j1 + 3 j2 and q = r + 3 s,
 *   y_q = sum_j1 w3^(j1 s) [w9^(j1 r) A_j1[r]],  A_j1 = DFT3(x_j1, x_j1+3, x_j1+6).
 */
function radix9(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const s3 = sign * Math.sqrt(3) * 0.5;
  const f = sign < 0 ? 1 : -1;
  // inner twiddles w9^(j1 r) = exp(sign 2 pi i j1 r / 9) for (j1, r) = (1,1), (1,2)=(2,1), (2,2)
  const e1r = C9_1, e1i = sign * S9_1, e2r = C9_2, e2i = sign * S9_2, e4r = C9_4, e4i = sign * S9_4;
  for (let i = 0; i < m; i++) {
    const t = 8 * i;
    const w1r = twRe[t], w2r = twRe[t + 1], w3r = twRe[t + 2], w4r = twRe[t + 3];
    const w5r = twRe[t + 4], w6r = twRe[t + 5], w7r = twRe[t + 6], w8r = twRe[t + 7];
    const w1i = f * twIm[t], w2i = f * twIm[t + 1], w3i = f * twIm[t + 2], w4i = f * twIm[t + 3];
    const w5i = f * twIm[t + 4], w6i = f * twIm[t + 5], w7i = f * twIm[t + 6], w8i = f * twIm[t + 7];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 9 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v;
          // A_0 = DFT3(x0, x3, x6)
          let ar = sRe[i0], ai = sIm[i0], br = sRe[i0 + 3 * js], bi = sIm[i0 + 3 * js], cr = sRe[i0 + 6 * js], ci = sIm[i0 + 6 * js];
          let tr = br + cr, ti = bi + ci, ur = (br - cr) * s3, ui = (bi - ci) * s3, mr = ar - 0.5 * tr, mi = ai - 0.5 * ti;
          const a00r = ar + tr, a00i = ai + ti, a01r = mr - ui, a01i = mi + ur, a02r = mr + ui, a02i = mi - ur;
          // A_1 = DFT3(x1, x4, x7), then B_1[r] = w9^r A_1[r]
          ar = sRe[i0 + js]; ai = sIm[i0 + js]; br = sRe[i0 + 4 * js]; bi = sIm[i0 + 4 * js]; cr = sRe[i0 + 7 * js]; ci = sIm[i0 + 7 * js];
          tr = br + cr; ti = bi + ci; ur = (br - cr) * s3; ui = (bi - ci) * s3; mr = ar - 0.5 * tr; mi = ai - 0.5 * ti;
          const a10r = ar + tr, a10i = ai + ti;
          let xr = mr - ui, xi = mi + ur;
          const a11r = xr * e1r - xi * e1i, a11i = xr * e1i + xi * e1r;
          xr = mr + ui;
          xi = mi - ur;
          const a12r = xr * e2r - xi * e2i, a12i = xr * e2i + xi * e2r;
          // A_2 = DFT3(x2, x5, x8), then B_2[r] = w9^(2r) A_2[r]
          ar = sRe[i0 + 2 * js]; ai = sIm[i0 + 2 * js]; br = sRe[i0 + 5 * js]; bi = sIm[i0 + 5 * js]; cr = sRe[i0 + 8 * js]; ci = sIm[i0 + 8 * js];
          tr = br + cr; ti = bi + ci; ur = (br - cr) * s3; ui = (bi - ci) * s3; mr = ar - 0.5 * tr; mi = ai - 0.5 * ti;
          const a20r = ar + tr, a20i = ai + ti;
          xr = mr - ui;
          xi = mi + ur;
          const a21r = xr * e2r - xi * e2i, a21i = xr * e2i + xi * e2r;
          xr = mr + ui;
          xi = mi - ur;
          const a22r = xr * e4r - xi * e4i, a22i = xr * e4i + xi * e4r;
          const o0 = ob + v;
          // r = 0: y0, y3, y6
          tr = a10r + a20r; ti = a10i + a20i; ur = (a10r - a20r) * s3; ui = (a10i - a20i) * s3; mr = a00r - 0.5 * tr; mi = a00i - 0.5 * ti;
          dRe[o0] = a00r + tr;
          dIm[o0] = a00i + ti;
          xr = mr - ui; xi = mi + ur;
          dRe[o0 + 3 * qs] = xr * w3r - xi * w3i; dIm[o0 + 3 * qs] = xr * w3i + xi * w3r;
          xr = mr + ui; xi = mi - ur;
          dRe[o0 + 6 * qs] = xr * w6r - xi * w6i; dIm[o0 + 6 * qs] = xr * w6i + xi * w6r;
          // r = 1: y1, y4, y7
          tr = a11r + a21r; ti = a11i + a21i; ur = (a11r - a21r) * s3; ui = (a11i - a21i) * s3; mr = a01r - 0.5 * tr; mi = a01i - 0.5 * ti;
          xr = a01r + tr; xi = a01i + ti;
          dRe[o0 + qs] = xr * w1r - xi * w1i; dIm[o0 + qs] = xr * w1i + xi * w1r;
          xr = mr - ui; xi = mi + ur;
          dRe[o0 + 4 * qs] = xr * w4r - xi * w4i; dIm[o0 + 4 * qs] = xr * w4i + xi * w4r;
          xr = mr + ui; xi = mi - ur;
          dRe[o0 + 7 * qs] = xr * w7r - xi * w7i; dIm[o0 + 7 * qs] = xr * w7i + xi * w7r;
          // r = 2: y2, y5, y8
          tr = a12r + a22r; ti = a12i + a22i; ur = (a12r - a22r) * s3; ui = (a12i - a22i) * s3; mr = a02r - 0.5 * tr; mi = a02i - 0.5 * ti;
          xr = a02r + tr; xi = a02i + ti;
          dRe[o0 + 2 * qs] = xr * w2r - xi * w2i; dIm[o0 + 2 * qs] = xr * w2i + xi * w2r;
          xr = mr - ui; xi = mi + ur;
          dRe[o0 + 5 * qs] = xr * w5r - xi * w5i; dIm[o0 + 5 * qs] = xr * w5i + xi * w5r;
          xr = mr + ui; xi = mi - ur;
          dRe[o0 + 8 * qs] = xr * w8r - xi * w8i; dIm[o0 + 8 * qs] = xr * w8i + xi * w8r;
        }
      }
    }
  }
}

const C7 = [1, 2, 3].map((j) => Math.cos((2 * Math.PI * j) / 7));
const S7 = [1, 2, 3].map((j) => Math.sin((2 * Math.PI * j) / 7));

/** Radix 7, unrolled form of radixOdd (sin(2 pi 4/7) = -sin(2 pi 3/7), sin(2 pi 6/7) = -sin(2 pi/7)). */
function radix7(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number): void {
  const { l1, m, twRe, twIm } = st;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const c1 = C7[0], c2 = C7[1], c3 = C7[2];
  const n1 = sign * S7[0], n2 = sign * S7[1], n3 = sign * S7[2];
  const f = sign < 0 ? 1 : -1;
  for (let i = 0; i < m; i++) {
    const t = 6 * i;
    const w1r = twRe[t], w2r = twRe[t + 1], w3r = twRe[t + 2], w4r = twRe[t + 3], w5r = twRe[t + 4], w6r = twRe[t + 5];
    const w1i = f * twIm[t], w2i = f * twIm[t + 1], w3i = f * twIm[t + 2], w4i = f * twIm[t + 3], w5i = f * twIm[t + 4], w6i = f * twIm[t + 5];
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * 7 * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const e = runs[r + 1];
        for (let v = runs[r]; v < e; v++) {
          const i0 = ib + v, i1 = i0 + js, i2 = i1 + js, i3 = i2 + js, i4 = i3 + js, i5 = i4 + js, i6 = i5 + js;
          const x0r = sRe[i0], x0i = sIm[i0];
          const s1r = sRe[i1] + sRe[i6], s1i = sIm[i1] + sIm[i6], d1r = sRe[i1] - sRe[i6], d1i = sIm[i1] - sIm[i6];
          const s2r = sRe[i2] + sRe[i5], s2i = sIm[i2] + sIm[i5], d2r = sRe[i2] - sRe[i5], d2i = sIm[i2] - sIm[i5];
          const s3r = sRe[i3] + sRe[i4], s3i = sIm[i3] + sIm[i4], d3r = sRe[i3] - sRe[i4], d3i = sIm[i3] - sIm[i4];
          const a1r = x0r + c1 * s1r + c2 * s2r + c3 * s3r, a1i = x0i + c1 * s1i + c2 * s2i + c3 * s3i;
          const a2r = x0r + c2 * s1r + c3 * s2r + c1 * s3r, a2i = x0i + c2 * s1i + c3 * s2i + c1 * s3i;
          const a3r = x0r + c3 * s1r + c1 * s2r + c2 * s3r, a3i = x0i + c3 * s1i + c1 * s2i + c2 * s3i;
          const b1r = n1 * d1r + n2 * d2r + n3 * d3r, b1i = n1 * d1i + n2 * d2i + n3 * d3i;
          const b2r = n2 * d1r - n3 * d2r - n1 * d3r, b2i = n2 * d1i - n3 * d2i - n1 * d3i;
          const b3r = n3 * d1r - n1 * d2r + n2 * d3r, b3i = n3 * d1i - n1 * d2i + n2 * d3i;
          const o0 = ob + v, o1 = o0 + qs, o2 = o1 + qs, o3 = o2 + qs, o4 = o3 + qs, o5 = o4 + qs, o6 = o5 + qs;
          dRe[o0] = x0r + s1r + s2r + s3r;
          dIm[o0] = x0i + s1i + s2i + s3i;
          let yr = a1r - b1i, yi = a1i + b1r;
          dRe[o1] = yr * w1r - yi * w1i;
          dIm[o1] = yr * w1i + yi * w1r;
          yr = a1r + b1i;
          yi = a1i - b1r;
          dRe[o6] = yr * w6r - yi * w6i;
          dIm[o6] = yr * w6i + yi * w6r;
          yr = a2r - b2i;
          yi = a2i + b2r;
          dRe[o2] = yr * w2r - yi * w2i;
          dIm[o2] = yr * w2i + yi * w2r;
          yr = a2r + b2i;
          yi = a2i - b2r;
          dRe[o5] = yr * w5r - yi * w5i;
          dIm[o5] = yr * w5i + yi * w5r;
          yr = a3r - b3i;
          yi = a3i + b3r;
          dRe[o3] = yr * w3r - yi * w3i;
          dIm[o3] = yr * w3i + yi * w3r;
          yr = a3r + b3i;
          yi = a3i - b3r;
          dRe[o4] = yr * w4r - yi * w4i;
          dIm[o4] = yr * w4i + yi * w4r;
        }
      }
    }
  }
}

/**
 * Generic odd prime radix p (11..23) with the symmetric pairing
 * s_j = x_j + x_{p-j}, d_j = x_j - x_{p-j}: y_0 = x_0 + sum s_j,
 * y_q = A_q + i B_q, y_{p-q} = A_q - i B_q with A_q = x_0 + sum_j s_j cos(2 pi jq/p),
 * B_q = sign * sum_j d_j sin(2 pi jq/p).
 */
function radixOdd(sRe: Float64Array, sIm: Float64Array, dRe: Float64Array, dIm: Float64Array, st: Stage, V: number, runs: Int32Array, sign: number, tmp: Float64Array[]): void {
  const { p, l1, m, twRe, twIm } = st;
  const h = (p - 1) >> 1;
  const js = m * l1 * V;
  const qs = l1 * V;
  const nr = runs.length;
  const [sr, si, dr, di] = tmp; // h vectors each of V
  const cs = st.cosTab!, sn = st.sinTab!; // cos/sin(2 pi jq/p) at (q-1)*h + j-1
  const sg = sign < 0 ? 1 : -1; // sinTab holds the forward (sign -1) values
  const f = sign < 0 ? 1 : -1;
  for (let i = 0; i < m; i++) {
    const tb = i * (p - 1);
    for (let qq = 0; qq < l1; qq++) {
      const ib = (i * l1 + qq) * V;
      const ob = (i * p * l1 + qq) * V;
      for (let r = 0; r < nr; r += 2) {
        const v0 = runs[r], v1 = runs[r + 1];
        // pair sums and differences, and y_0
        for (let v = v0; v < v1; v++) {
          dRe[ob + v] = sRe[ib + v];
          dIm[ob + v] = sIm[ib + v];
        }
        for (let j = 1; j <= h; j++) {
          const a = ib + j * js, b = ib + (p - j) * js, t = (j - 1) * V;
          for (let v = v0; v < v1; v++) {
            const s1 = sRe[a + v] + sRe[b + v], s2 = sIm[a + v] + sIm[b + v];
            sr[t + v] = s1;
            si[t + v] = s2;
            dr[t + v] = sRe[a + v] - sRe[b + v];
            di[t + v] = sIm[a + v] - sIm[b + v];
            dRe[ob + v] += s1;
            dIm[ob + v] += s2;
          }
        }
        for (let q = 1; q <= h; q++) {
          const oq = ob + q * qs, oc = ob + (p - q) * qs;
          const wqr = twRe[tb + q - 1], wqi = f * twIm[tb + q - 1];
          const wcr = twRe[tb + p - q - 1], wci = f * twIm[tb + p - q - 1];
          const cb = (q - 1) * h;
          for (let v = v0; v < v1; v++) {
            let ar = sRe[ib + v], ai = sIm[ib + v], br = 0, bi = 0;
            for (let j = 0, t = v; j < h; j++, t += V) {
              const c = cs[cb + j], s = sn[cb + j];
              ar += c * sr[t];
              ai += c * si[t];
              br += s * dr[t];
              bi += s * di[t];
            }
            br *= sg;
            bi *= sg;
            let yr = ar - bi, yi = ai + br;
            dRe[oq + v] = yr * wqr - yi * wqi;
            dIm[oq + v] = yr * wqi + yi * wqr;
            yr = ar + bi;
            yi = ai - br;
            dRe[oc + v] = yr * wcr - yi * wci;
            dIm[oc + v] = yr * wci + yi * wcr;
          }
        }
      }
    }
  }
}

function modPow(b: number, e: number, m: number): number {
  let r = 1, x = b % m, k = e;
  while (k > 0) {
    if (k & 1) r = (r * x) % m;
    x = (x * x) % m;
    k = Math.floor(k / 2);
  }
  return r;
}

function primitiveRoot(p: number): number {
  const f = [...new Set(primeFactors(p - 1))];
  for (let g = 2; g < p; g++) if (f.every((q) => modPow(g, (p - 1) / q, p) !== 1)) return g;
  throw new Error(`no primitive root for ${p}`);
}

/**
 * Rader's algorithm for prime n: with a primitive root g, k = g^q and
 * t = g^-p turn X[k] - x[0] into the cyclic convolution of a_p = x[g^-p] with
 * b_m = exp(sign 2 pi i g^m / n), length n-1, done by a smooth-length FFT.
 */
export class RaderFFT implements VectorFFT {
  private inner: VectorFFT;
  private permIn: Int32Array; // a_p = x[permIn[p]]
  private permOut: Int32Array; // X[permOut[q]] = x0 + c_q
  private bRe: Float64Array[] = []; // [forward, inverse] DFT_{n-1}(b) / (n-1)
  private bIm: Float64Array[] = [];
  private buf: Float64Array[] = [];
  /** The plan as the native code reads it (native.ts NativePlan): null unless the inner plan is Stockham. */
  get nativePlan(): NativePlan | null {
    const inner = this.inner instanceof StockhamFFT ? this.inner.nativePlan : null;
    return inner && [...inner, this.bRe[0], this.bIm[0], this.bRe[1], this.bIm[1], this.rowIn, this.rowOut];
  }
  readonly rowIn: Int32Array; // x[t] in row rowIn[t]: a_p in rows 0..n-2, x[0] in row n-1
  readonly rowOut: Int32Array; // X[k] in row rowOut[k]: x0 + c_q in rows 0..n-2, X[0] in row n-1
  constructor(readonly n: number) {
    const L = n - 1;
    this.inner = planFFT(L);
    const g = primitiveRoot(n);
    const ginv = modPow(g, n - 2, n);
    this.permIn = new Int32Array(L);
    this.permOut = new Int32Array(L);
    this.rowIn = new Int32Array(n);
    this.rowOut = new Int32Array(n);
    this.rowIn[0] = L;
    this.rowOut[0] = L;
    for (let q = 0; q < L; q++) {
      this.permIn[q] = modPow(ginv, q, n);
      this.permOut[q] = modPow(g, q, n);
      this.rowIn[this.permIn[q]] = q;
      this.rowOut[this.permOut[q]] = q;
    }
    for (const sign of [-1, 1]) {
      const re = new Float64Array(L), im = new Float64Array(L);
      for (let q = 0; q < L; q++) {
        const a = (sign * 2 * Math.PI * this.permOut[q]) / n;
        re[q] = Math.cos(a) / L;
        im[q] = Math.sin(a) / L;
      }
      const sr = new Float64Array(L), si = new Float64Array(L);
      const inB = this.inner.run(re, im, sr, si, 1, fullRuns(1), -1);
      this.bRe.push(inB ? sr : re);
      this.bIm.push(inB ? si : im);
    }
  }

  /**
   * Rows in Rader order (rowIn/rowOut): the inner transform works in place on
   * rows 0..n-2; X[0] = x[0] + DFT(a)[0] is kept in row n-1, and adding x[0]
   * to every output is folded into the DC term before the inverse.
   */
  runRows(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    const L = this.n - 1, nr = runs.length, xo = L * V;
    const inB = this.inner.run(aRe, aIm, bRe, bIm, V, runs, -1);
    const cr = inB ? bRe : aRe, ci = inB ? bIm : aIm;
    const Br = this.bRe[sign < 0 ? 0 : 1], Bi = this.bIm[sign < 0 ? 0 : 1];
    for (let r = 0; r < nr; r += 2)
      for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
        const x0r = aRe[xo + v], x0i = aIm[xo + v], yr = cr[v], yi = ci[v];
        cr[xo + v] = x0r + yr; // X[0]
        ci[xo + v] = x0i + yi;
        cr[v] = yr * Br[0] - yi * Bi[0] + x0r;
        ci[v] = yr * Bi[0] + yi * Br[0] + x0i;
      }
    for (let q = 1; q < L; q++) {
      const wr = Br[q], wi = Bi[q], o = q * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          const xr = cr[o + v], xi = ci[o + v];
          cr[o + v] = xr * wr - xi * wi;
          ci[o + v] = xr * wi + xi * wr;
        }
    }
    const dr = inB ? aRe : bRe, di = inB ? aIm : bIm;
    const inB2 = this.inner.run(cr, ci, dr, di, V, runs, 1);
    if (inB2)
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          dr[xo + v] = cr[xo + v];
          di[xo + v] = ci[xo + v];
        }
    // result in c's buffer unless the inverse moved it to d's
    return inB !== inB2;
  }

  run(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    const n = this.n, L = n - 1;
    if (this.buf.length === 0 || this.buf[0].length < L * V) {
      this.buf = [new Float64Array(L * V), new Float64Array(L * V), new Float64Array(L * V), new Float64Array(L * V)];
    }
    const [t0r, t0i, t1r, t1i] = this.buf;
    const nr = runs.length;
    const permIn = this.permIn, permOut = this.permOut;
    // gather a_p = x[g^-p]
    for (let q = 0; q < L; q++) {
      const src = permIn[q] * V, dst = q * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          t0r[dst + v] = aRe[src + v];
          t0i[dst + v] = aIm[src + v];
        }
    }
    let inB = this.inner.run(t0r, t0i, t1r, t1i, V, runs, -1);
    let cr = inB ? t1r : t0r, ci = inB ? t1i : t0i;
    // X[0] = x[0] + sum of the other elements = x[0] + DFT(a)[0]
    for (let r = 0; r < nr; r += 2)
      for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
        bRe[v] = aRe[v] + cr[v];
        bIm[v] = aIm[v] + ci[v];
      }
    const Br = this.bRe[sign < 0 ? 0 : 1], Bi = this.bIm[sign < 0 ? 0 : 1];
    for (let q = 0; q < L; q++) {
      const wr = Br[q], wi = Bi[q], o = q * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          const xr = cr[o + v], xi = ci[o + v];
          cr[o + v] = xr * wr - xi * wi;
          ci[o + v] = xr * wi + xi * wr;
        }
    }
    inB = inB ? !this.inner.run(t1r, t1i, t0r, t0i, V, runs, 1) : this.inner.run(t0r, t0i, t1r, t1i, V, runs, 1);
    cr = inB ? t1r : t0r;
    ci = inB ? t1i : t0i;
    for (let q = 0; q < L; q++) {
      const dst = permOut[q] * V, src = q * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          bRe[dst + v] = aRe[v] + cr[src + v];
          bIm[dst + v] = aIm[v] + ci[src + v];
        }
    }
    return true;
  }
}

/** Smallest 5-smooth integer >= n. */
function smooth5(n: number): number {
  for (let m = n; ; m++) {
    let x = m;
    for (const p of [2, 3, 5]) while (x % p === 0) x /= p;
    if (x === 1) return m;
  }
}

/**
 * Bluestein: t k = (t^2 + k^2 - (k-t)^2)/2 turns the DFT into a convolution
 * with the chirp h_t = exp(sign i pi t^2 / n), done with a 5-smooth FFT of
 * length M >= 2n-1.
 */
export class BluesteinFFT implements VectorFFT {
  readonly rowIn = null;
  readonly rowOut = null;
  private M: number;
  private inner: VectorFFT;
  private hRe: Float64Array[] = []; // chirp per direction
  private hIm: Float64Array[] = [];
  private bRe: Float64Array[] = []; // DFT_M of conj chirp / M per direction
  private bIm: Float64Array[] = [];
  private buf: Float64Array[] = [];
  constructor(readonly n: number) {
    this.M = smooth5(2 * n - 1);
    this.inner = planFFT(this.M);
    const M = this.M;
    for (const sign of [-1, 1]) {
      const hr = new Float64Array(n), hi = new Float64Array(n);
      for (let t = 0; t < n; t++) {
        const a = (sign * Math.PI * ((t * t) % (2 * n))) / n;
        hr[t] = Math.cos(a);
        hi[t] = Math.sin(a);
      }
      const br = new Float64Array(M), bi = new Float64Array(M);
      for (let t = 0; t < n; t++) {
        br[t] = hr[t] / M;
        bi[t] = -hi[t] / M;
        if (t > 0) {
          br[M - t] = hr[t] / M;
          bi[M - t] = -hi[t] / M;
        }
      }
      const sr = new Float64Array(M), si = new Float64Array(M);
      const inB = this.inner.run(br, bi, sr, si, 1, fullRuns(1), -1);
      this.hRe.push(hr);
      this.hIm.push(hi);
      this.bRe.push(inB ? sr : br);
      this.bIm.push(inB ? si : bi);
    }
  }

  runRows(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    return this.run(aRe, aIm, bRe, bIm, V, runs, sign);
  }

  run(aRe: Float64Array, aIm: Float64Array, bRe: Float64Array, bIm: Float64Array, V: number, runs: Int32Array, sign: number): boolean {
    const n = this.n, M = this.M, d = sign < 0 ? 0 : 1;
    if (this.buf.length === 0 || this.buf[0].length < M * V) {
      this.buf = [new Float64Array(M * V), new Float64Array(M * V), new Float64Array(M * V), new Float64Array(M * V)];
    }
    const [t0r, t0i, t1r, t1i] = this.buf;
    const hr = this.hRe[d], hi = this.hIm[d], Br = this.bRe[d], Bi = this.bIm[d];
    const nr = runs.length;
    for (let t = 0; t < M; t++) {
      const o = t * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          if (t < n) {
            const xr = aRe[o + v], xi = aIm[o + v];
            t0r[o + v] = xr * hr[t] - xi * hi[t];
            t0i[o + v] = xr * hi[t] + xi * hr[t];
          } else {
            t0r[o + v] = 0;
            t0i[o + v] = 0;
          }
        }
    }
    let inB = this.inner.run(t0r, t0i, t1r, t1i, V, runs, -1);
    let cr = inB ? t1r : t0r, ci = inB ? t1i : t0i;
    for (let q = 0; q < M; q++) {
      const wr = Br[q], wi = Bi[q], o = q * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          const xr = cr[o + v], xi = ci[o + v];
          cr[o + v] = xr * wr - xi * wi;
          ci[o + v] = xr * wi + xi * wr;
        }
    }
    inB = inB ? !this.inner.run(t1r, t1i, t0r, t0i, V, runs, 1) : this.inner.run(t0r, t0i, t1r, t1i, V, runs, 1);
    cr = inB ? t1r : t0r;
    ci = inB ? t1i : t0i;
    for (let k = 0; k < n; k++) {
      const o = k * V;
      for (let r = 0; r < nr; r += 2)
        for (let v = runs[r], e = runs[r + 1]; v < e; v++) {
          const xr = cr[o + v], xi = ci[o + v];
          aRe[o + v] = xr * hr[k] - xi * hi[k];
          aIm[o + v] = xr * hi[k] + xi * hr[k];
        }
    }
    return false;
  }
}

/**
 * A fast transform length >= n for a zero-padded (non-periodic) axis: the
 * cheapest 7-smooth length by a rough cost model (length times per-element
 * butterfly work, plus the per-element cost of the spectral products).
 */
export function paddedLength(n: number): number {
  let best = n, bestCost = Infinity;
  for (let m = n; m <= 2 * n + 8; m++) {
    const f = primeFactors(m);
    if (f.length && f[f.length - 1] > 7) continue;
    let w = 10;
    let twos = 0;
    for (const p of f) {
      if (p === 2) twos++;
      else w += p === 3 ? 2.7 : p === 5 ? 4 : 6;
    }
    w += 2.2 * Math.floor(twos / 2) + 1.6 * (twos % 2);
    const cost = m * w;
    if (cost < bestCost) {
      bestCost = cost;
      best = m;
    }
  }
  return best;
}
