/**
 * The convolution engine behind QNetwork and Trainer, for one network
 * architecture on one grid shape.
 *
 * The Q-network (paper, Methods "Neural network architecture", Extended Data
 * Fig. 1) is fully convolutional: input one-hot grid with S species channels,
 * hidden convolutions with leaky ReLU, an output convolution to S channels with
 * tanh. Convolutions are cross-correlations (TensorFlow/PyTorch convention)
 *   z[o](x) = b[o] + sum_c sum_d W[o][c][d + p] a[c](x + d),   |d_i| <= p_i,
 * with circular indices along periodic axes and zeros outside the grid along
 * the others ("same" output size).
 *
 * How the work is done (each choice measured to matter):
 *  - Layer 0's input is one-hot (about 24 ones among ~1500 cells): its kernels
 *    are scattered directly at the atoms instead of transforming the input.
 *  - Hidden layers are products in the frequency domain of 2-D DFTs. Periodic
 *    axes use their own length; a non-periodic axis of n points is zero-padded
 *    to a fast length M >= n + p, which is enough because only outputs inside
 *    the grid are kept and the padding is re-zeroed after every layer.
 *  - Two real channels are packed as re + i*im into one complex 2-D transform
 *    and separated by Hermitian symmetry; products use half spectra.
 *  - The kernels' transforms are computed once per parameter set (once per
 *    training step) and reused for every sample.
 *  - Training: the loss touches a few output cells per sample (action plus
 *    spillover), so the output layer is evaluated and differentiated only at
 *    those cells, and back-propagated signals are non-zero only within a band
 *    of grid rows around them; transforms skip the rows outside the band.
 *  - Weight gradients of hidden layers are accumulated in the frequency domain
 *    over the batch (conj(DZ) * A) and transformed back once per step.
 *  - A forward pass can be split over two threads (forwardPart, driven by
 *    ForwardThreads): rows for the work in space, negation-closed sets of
 *    frequencies for the spectral products, two barriers per layer.
 *  - With the native kernels (native.ts, native/), the 2-D transforms and the
 *    spectral products run in C, the same operations in the same order (the
 *    same numbers bit for bit); kernel spectra and gradient accumulators are
 *    then channel-major [o][c][f] instead of [f][o][c].
 * Arithmetic is float64; parameters and the kernels' spectra are stored as float32.
 */
import { planFFT, paddedLength, primeFactors, RaderFFT, StockhamFFT, type VectorFFT } from './fft.js';
import { productKernel } from './products.js';
import { nativeKernels, type NativeKernels } from './native.js';

export interface QNetworkSpec {
  species: number;
  filters: number[];
  kernel: [number, number];
  bias: boolean;
  leakySlope: number;
}

export interface GridShape {
  n0: number;
  n1: number;
  periodic: [boolean, boolean];
}

export interface LayerGeom {
  cin: number;
  cout: number;
  wOff: number; // weights [cout][cin][k0][k1] start in params
  bOff: number; // bias start in params, -1 without bias
}

/** Parameter layout: layer by layer, weights [cout][cin][k0][k1], then bias [cout]. */
export function layerLayout(spec: QNetworkSpec): { layers: LayerGeom[]; size: number } {
  const widths = [spec.species, ...spec.filters, spec.species];
  const K = spec.kernel[0] * spec.kernel[1];
  const layers: LayerGeom[] = [];
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const cin = widths[l], cout = widths[l + 1];
    const wOff = off;
    off += cout * cin * K;
    const bOff = spec.bias ? off : -1;
    if (spec.bias) off += cout;
    layers.push({ cin, cout, wOff, bOff });
  }
  return { layers, size: off };
}

/** One training sample with its one-hot input given by the non-zero entries. */
export interface SparseSample {
  idx: Int32Array; // input indices c*n0*n1 + i0*n1 + i1 of non-zero entries
  val: Float32Array; // their values
  cells: Int32Array; // output indices, action first, then spillover cells
  weights: Float32Array;
  target: number;
}

/**
 * 'eq2': Methods eq. 2 as written, the square of the summed residuals;
 * 'sum-of-squares': each cell's residual squared;
 * 'cross-entropy': each cell's binary cross-entropy between (1+Q)/2 and (1+T)/2,
 * less its minimum, times 2: ℓ = (1+T)ln((1+T)/(1+Q)) + (1−T)ln((1−T)/(1−Q)).
 * Its gradient with respect to the tanh's pre-activation z is 2(Q − T), with no
 * (1 − Q²) factor, so a saturated output (|Q| → 1 on the wrong side) still learns.
 */
export const LOSS_FORMS = ['eq2', 'sum-of-squares', 'cross-entropy'] as const;
export type LossForm = (typeof LOSS_FORMS)[number];

/** One thread's share of a threaded forward pass (see ConvEngine.partition). */
export interface ForwardPart {
  ib0: number; // rows [ib0, ib1) of internal axis b
  ib1: number;
  ibRuns: Int32Array;
  tEnd: number; // rows [ib1, tEnd) of the shared T buffer are zero padding written by this part
  kaRuns: Int32Array; // frequencies along internal axis a, closed under negation
}

/**
 * Buffers shared by the threads of a forward pass (views of SharedArrayBuffers):
 * T holds the first forward pass of every channel pair, layout [pair][ib][ka];
 * U the first inverse pass, layout [pair][ka][ib]; out the Q-values (API layout).
 */
export interface ForwardShared {
  Tr: Float64Array;
  Ti: Float64Array;
  Ur: Float64Array;
  Ui: Float64Array;
  // per-pair views of T and U (made once: no allocation per pass)
  TrP: Float64Array[];
  TiP: Float64Array[];
  UrP: Float64Array[];
  UiP: Float64Array[];
  out: Float32Array;
}

/** Rough per-element cost of a transform of length n (to pick the axis done first). */
function transformCost(n: number): number {
  const f = primeFactors(n);
  if (f.length === 0) return 0;
  const big = f[f.length - 1];
  if (big > 23) return f.length === 1 ? 2 * transformCost(n - 1) + 3 : 6 * Math.log2(n) + 6;
  let c = 0;
  for (const p of f) c += p === 2 ? 1.3 : p === 3 ? 2.7 : p === 5 ? 4 : 0.9 * p;
  return c;
}

/** A set of rows (indices along internal axis b) as runs [start, end) and a mask. */
class Band {
  constructor(readonly runs: Int32Array, readonly mask: Uint8Array) {}
  static fromRange(i0: number, i1: number, M: number): Band {
    const mask = new Uint8Array(M);
    mask.fill(1, i0, i1);
    return new Band(Int32Array.of(i0, i1), mask);
  }
  static full(n: number, M: number): Band {
    const mask = new Uint8Array(M);
    mask.fill(1, 0, n);
    return new Band(Int32Array.of(0, n), mask);
  }
  static fromMask(mask: Uint8Array, n: number): Band {
    const r: number[] = [];
    for (let i = 0; i < n; ) {
      if (!mask[i]) {
        i++;
        continue;
      }
      let j = i;
      while (j < n && mask[j]) j++;
      r.push(i, j);
      i = j;
    }
    return new Band(Int32Array.from(r), mask);
  }
}

export class ConvEngine {
  readonly layers: LayerGeom[];
  readonly K: number;
  readonly N: number; // n0*n1
  // internal axes: a is transformed first (the costlier axis), b second; the
  // internal spatial layout is [ia][ib] (na x nb), padded [ia][ib] (Ma x Mb)
  readonly aIsAxis1: boolean;
  readonly na: number;
  readonly nb: number;
  readonly Ma: number;
  readonly Mb: number;
  readonly Hb: number; // half spectrum along b
  readonly F: number; // Hb * Ma: half-spectrum size per channel, layout [kb][ka]
  readonly s0: number; // internal stride of API axis 0 (unpadded)
  readonly s1: number;
  readonly S0: number; // padded strides
  readonly S1: number;
  readonly pB: number; // kernel half width along internal axis b
  readonly periodicB: boolean;
  private planA: VectorFFT;
  private planB: VectorFFT;
  private negA: Int32Array;
  // rows in the plans' own order (FFT runRows: Rader without permutation
  // passes): element t of a transform along a sits in row rinA[t] of its
  // input and row routA[t] of its output; identity for other plans
  private rinA: Int32Array;
  private routA: Int32Array;
  private rinB: Int32Array;
  private routB: Int32Array;
  private buf: Float64Array[];
  private fullBand: Band;
  private fullPadBand: Band;
  // native product kernels (native.ts), chosen once per engine: with them the
  // kernel spectra and weight-gradient accumulators are channel-major [o][c][f]
  // (their loops run over contiguous frequencies), without them [f][o][c]
  readonly native: NativeKernels | null = nativeKernels();
  // kernel spectra per layer (index l; l=0 unused), [f][o][c] or [o][c][f] (above), scaled by 1/(Ma Mb);
  // float32: they are read for every sample, and fit the caches better (rounding
  // 6e-8 relative, far below the 1e-5 required of outputs and gradients)
  private kRe: Float32Array[] = [];
  private kIm: Float32Array[] = [];
  private params: Float32Array = new Float32Array(0);
  private slope: number;

  constructor(readonly spec: QNetworkSpec, readonly shape: GridShape) {
    this.layers = layerLayout(spec).layers;
    this.K = spec.kernel[0] * spec.kernel[1];
    const { n0, n1, periodic } = shape;
    this.N = n0 * n1;
    this.slope = spec.leakySlope;
    const p0 = (spec.kernel[0] - 1) / 2, p1 = (spec.kernel[1] - 1) / 2;
    const M0 = periodic[0] ? n0 : paddedLength(n0 + p0);
    const M1 = periodic[1] ? n1 : paddedLength(n1 + p1);
    this.aIsAxis1 = transformCost(M1) > transformCost(M0);
    if (this.aIsAxis1) {
      [this.na, this.nb, this.Ma, this.Mb] = [n1, n0, M1, M0];
      this.s0 = 1;
      this.s1 = n0;
      this.S0 = 1;
      this.S1 = M0;
      this.pB = p0;
      this.periodicB = periodic[0];
    } else {
      [this.na, this.nb, this.Ma, this.Mb] = [n0, n1, M0, M1];
      this.s0 = n1;
      this.s1 = 1;
      this.S0 = M1;
      this.S1 = 1;
      this.pB = p1;
      this.periodicB = periodic[1];
    }
    this.Hb = (this.Mb >> 1) + 1;
    this.F = this.Hb * this.Ma;
    this.planA = planFFT(this.Ma);
    this.planB = planFFT(this.Mb);
    const ident = (M: number) => Int32Array.from({ length: M }, (_, i) => i);
    this.rinA = this.planA.rowIn ?? ident(this.Ma);
    this.routA = this.planA.rowOut ?? ident(this.Ma);
    this.rinB = this.planB.rowIn ?? ident(this.Mb);
    this.routB = this.planB.rowOut ?? ident(this.Mb);
    this.negA = new Int32Array(this.Ma);
    for (let k = 0; k < this.Ma; k++) this.negA[k] = (this.Ma - k) % this.Ma;
    const sz = this.Ma * this.Mb;
    this.buf = [new Float64Array(sz), new Float64Array(sz), new Float64Array(sz), new Float64Array(sz)];
    this.fullBand = Band.full(this.nb, this.Mb);
    this.fullPadBand = Band.full(this.Mb, this.Mb);
    // the 2-D transforms in C when both axis plans are Stockham or Rader (not
    // Bluestein); they work in this.buf
    const nativePlan = (p: VectorFFT) => (p instanceof StockhamFFT || p instanceof RaderFFT ? p.nativePlan : null);
    const pa = nativePlan(this.planA), pb = nativePlan(this.planB);
    if (this.native && pa && pb) this.spectraContext = this.native.spectraContext(pa, pb, this.Ma, this.Mb, this.buf[0], this.buf[1], this.buf[2], this.buf[3]);
  }
  private spectraContext: object | null = null;
  /** Whether the 2-D transforms run in C (native kernels built, no Bluestein axis). */
  get nativeTransforms(): boolean {
    return this.spectraContext !== null;
  }

  /** Internal (unpadded) spatial index of API grid point (x0, x1). */
  internalIndex(x0: number, x1: number): number {
    return x0 * this.s0 + x1 * this.s1;
  }

  /**
   * Takes a parameter vector: computes the kernels' transforms of every layer
   * that is applied by FFT (hidden layers, and the output layer for full
   * forward passes). The kernel W[o][c] is placed at -d (mod M) so that the
   * product of spectra is the cross-correlation; 1/(Ma Mb) is folded in.
   */
  setParams(params: Float32Array, withOutput = true): void {
    this.params = params;
    this.buildLayer0Kernels(params);
    const { n0, n1 } = this.shape;
    void n0;
    void n1;
    const [k0, k1] = this.spec.kernel;
    const p0 = (k0 - 1) / 2, p1 = (k1 - 1) / 2;
    const M0 = this.aIsAxis1 ? this.Mb : this.Ma, M1 = this.aIsAxis1 ? this.Ma : this.Mb;
    const sz = this.Ma * this.Mb;
    const scale = 1 / sz;
    const last = this.layers.length - 1;
    const tapPos = new Int32Array(this.K);
    for (let t0 = 0; t0 < k0; t0++)
      for (let t1 = 0; t1 < k1; t1++) {
        const x0 = (((p0 - t0) % M0) + M0) % M0, x1 = (((p1 - t1) % M1) + M1) % M1;
        tapPos[t0 * k1 + t1] = x0 * this.S0 + x1 * this.S1;
      }
    for (let l = 1; l <= last; l++) {
      if (l === last && !withOutput) continue;
      const g = this.layers[l];
      const pairs = g.cout * g.cin;
      if (!this.kRe[l] || this.kRe[l].length !== pairs * this.F) {
        this.kRe[l] = new Float32Array(pairs * this.F);
        this.kIm[l] = new Float32Array(pairs * this.F);
      }
      const spatial = new Float64Array(pairs * sz);
      for (let q = 0; q < pairs; q++) {
        const w = g.wOff + q * this.K, o = q * sz;
        for (let t = 0; t < this.K; t++) spatial[o + tapPos[t]] += params[w + t] * scale;
      }
      const tRe = this.scratchArr('kT', pairs * this.F), tIm = this.scratchArr('kTi', pairs * this.F);
      this.forwardSpectra(spatial, pairs, tRe, tIm, this.fullPadBand, true);
      if (this.native) {
        this.kRe[l].set(tRe.subarray(0, pairs * this.F));
        this.kIm[l].set(tIm.subarray(0, pairs * this.F));
      } else toFreqMajor(tRe, tIm, pairs, this.F, this.kRe[l], this.kIm[l]);
    }
  }

  // ---------------------------------------------------------------- transforms

  /**
   * Half spectra of C real channels x (internal layout; padded Ma x Mb when
   * `padded`, else na x nb with zero padding implied). Only rows (ib) in the
   * band are read; the rest are taken as zero.
   */
  forwardSpectra(x: Float64Array, C: number, outRe: Float64Array, outIm: Float64Array, band: Band, padded = false): void {
    const { Ma, Mb, Hb, F, negA } = this;
    const rows = padded ? Ma : this.na, cols = padded ? Mb : this.nb, cs = rows * cols;
    if (this.spectraContext) return this.native!.forwardSpectra(this.spectraContext, x, C, outRe, outIm, rows, cols, band.runs, band.mask);
    const [b0r, b0i, b1r, b1i] = this.buf;
    const { rinA, routA, rinB, routB } = this;
    const runs = band.runs, mask = band.mask, nr = runs.length;
    for (let c = 0; c < C; c += 2) {
      const two = c + 1 < C;
      const xa = c * cs, xb = (c + 1) * cs;
      for (let ia = 0; ia < Ma; ia++) {
        const o = rinA[ia] * Mb, s = ia * cols;
        if (ia < rows) {
          for (let r = 0; r < nr; r += 2)
            for (let ib = runs[r], e = runs[r + 1]; ib < e; ib++) {
              b0r[o + ib] = x[xa + s + ib];
              b0i[o + ib] = two ? x[xb + s + ib] : 0;
            }
        } else {
          for (let r = 0; r < nr; r += 2)
            for (let ib = runs[r], e = runs[r + 1]; ib < e; ib++) {
              b0r[o + ib] = 0;
              b0i[o + ib] = 0;
            }
        }
      }
      const inB = this.planA.runRows(b0r, b0i, b1r, b1i, Mb, runs, -1);
      const sr = inB ? b1r : b0r, si = inB ? b1i : b0i;
      const tr = inB ? b0r : b1r, ti = inB ? b0i : b1i;
      // transpose [ka][ib] -> [ib][ka]; rows outside the band are zero
      for (let ib = 0; ib < Mb; ib++) {
        const o = rinB[ib] * Ma;
        if (mask[ib]) {
          for (let ka = 0; ka < Ma; ka++) {
            const s = routA[ka] * Mb + ib;
            tr[o + ka] = sr[s];
            ti[o + ka] = si[s];
          }
        } else {
          tr.fill(0, o, o + Ma);
          ti.fill(0, o, o + Ma);
        }
      }
      const inB2 = this.planB.runRows(tr, ti, sr, si, Ma, this.fullRunsA(), -1);
      const zr = inB2 ? sr : tr, zi = inB2 ? si : ti;
      // separate the packed pair by Hermitian symmetry
      const oa = c * F, ob = (c + 1) * F;
      for (let kb = 0; kb < Hb; kb++) {
        const kbn = kb === 0 ? 0 : Mb - kb;
        const row = routB[kb] * Ma, rown = routB[kbn] * Ma, orow = kb * Ma;
        for (let ka = 0; ka < Ma; ka++) {
          const i1 = row + ka, i2 = rown + negA[ka];
          const ar = zr[i1], ai = zi[i1], br = zr[i2], bi = zi[i2];
          outRe[oa + orow + ka] = 0.5 * (ar + br);
          outIm[oa + orow + ka] = 0.5 * (ai - bi);
          if (two) {
            outRe[ob + orow + ka] = 0.5 * (ai + bi);
            outIm[ob + orow + ka] = -0.5 * (ar - br);
          }
        }
      }
    }
  }

  private runsA: Int32Array | null = null;
  private fullRunsA(): Int32Array {
    if (!this.runsA) this.runsA = Int32Array.of(0, this.Ma);
    return this.runsA;
  }

  /**
   * Real channels from half spectra (unnormalised inverse). Writes rows (ib)
   * in the band and zeros elsewhere; `padded` gives the whole Ma x Mb domain.
   */
  inverseSpectra(inRe: Float64Array, inIm: Float64Array, C: number, y: Float64Array, band: Band, padded = false): void {
    const { Ma, Mb, Hb, F, negA } = this;
    const rows = padded ? Ma : this.na, cols = padded ? Mb : this.nb, cs = rows * cols;
    if (this.spectraContext) return this.native!.inverseSpectra(this.spectraContext, inRe, inIm, C, y, rows, cols, band.runs, band.mask);
    const [b0r, b0i, b1r, b1i] = this.buf;
    const { rinA, routA, rinB, routB } = this;
    const runs = band.runs, nr = runs.length, mask = band.mask;
    for (let c = 0; c < C; c += 2) {
      const two = c + 1 < C;
      const xa = c * F, xb = (c + 1) * F;
      // full packed spectrum Z = X_c + i X_{c+1}, layout [kb][ka] (rows kb in planB's order)
      for (let kb = 0; kb < Hb; kb++) {
        const o = rinB[kb] * Ma, h = kb * Ma;
        if (two) {
          for (let ka = 0; ka < Ma; ka++) {
            b0r[o + ka] = inRe[xa + h + ka] - inIm[xb + h + ka];
            b0i[o + ka] = inIm[xa + h + ka] + inRe[xb + h + ka];
          }
        } else {
          for (let ka = 0; ka < Ma; ka++) {
            b0r[o + ka] = inRe[xa + h + ka];
            b0i[o + ka] = inIm[xa + h + ka];
          }
        }
      }
      for (let kb = Hb; kb < Mb; kb++) {
        const o = rinB[kb] * Ma, s = (Mb - kb) * Ma;
        for (let ka = 0; ka < Ma; ka++) {
          const j = s + negA[ka];
          if (two) {
            b0r[o + ka] = inRe[xa + j] + inIm[xb + j];
            b0i[o + ka] = -inIm[xa + j] + inRe[xb + j];
          } else {
            b0r[o + ka] = inRe[xa + j];
            b0i[o + ka] = -inIm[xa + j];
          }
        }
      }
      const inB = this.planB.runRows(b0r, b0i, b1r, b1i, Ma, this.fullRunsA(), 1);
      const sr = inB ? b1r : b0r, si = inB ? b1i : b0i;
      const tr = inB ? b0r : b1r, ti = inB ? b0i : b1i;
      // transpose [ib][ka] -> [ka][ib], band rows only
      for (let r = 0; r < nr; r += 2)
        for (let ib = runs[r], e = runs[r + 1]; ib < e; ib++) {
          for (let ka = 0, s = routB[ib] * Ma; ka < Ma; ka++) {
            tr[rinA[ka] * Mb + ib] = sr[s + ka];
            ti[rinA[ka] * Mb + ib] = si[s + ka];
          }
        }
      const inB2 = this.planA.runRows(tr, ti, sr, si, Mb, runs, 1);
      const zr = inB2 ? sr : tr, zi = inB2 ? si : ti;
      const ya = c * cs, yb = (c + 1) * cs;
      for (let ia = 0; ia < rows; ia++) {
        const o = routA[ia] * Mb, d = ia * cols;
        for (let ib = 0; ib < cols; ib++) {
          if (mask[ib]) {
            y[ya + d + ib] = zr[o + ib];
            if (two) y[yb + d + ib] = zi[o + ib];
          } else {
            y[ya + d + ib] = 0;
            if (two) y[yb + d + ib] = 0;
          }
        }
      }
    }
  }

  // ------------------------------------------------------------ spectral products

  /** Z[o] = sum_c K[o][c] S[c] (forward convolution). */
  private productForward(l: number, sRe: Float64Array, sIm: Float64Array, zRe: Float64Array, zIm: Float64Array): void {
    const { cin, cout } = this.layers[l];
    if (this.native) this.native.forward(this.kRe[l], this.kIm[l], sRe, sIm, zRe, zIm, this.F, cin, cout, 0, this.F);
    else productKernel('forward', cin, cout)(this.kRe[l], this.kIm[l], sRe, sIm, zRe, zIm, this.F);
  }

  /** dS[c] = sum_o conj(K[o][c]) DZ[o] (transposed convolution). */
  private productBackward(l: number, dzRe: Float64Array, dzIm: Float64Array, dRe: Float64Array, dIm: Float64Array): void {
    const { cin, cout } = this.layers[l];
    if (this.native) this.native.backward(this.kRe[l], this.kIm[l], dzRe, dzIm, dRe, dIm, this.F, cin, cout, 0, this.F);
    else productKernel('backward', cin, cout)(this.kRe[l], this.kIm[l], dzRe, dzIm, dRe, dIm, this.F);
  }

  /** G[o][c] += conj(DZ[o]) S[c] (weight gradient, cross-correlation), G in the kernel spectra's layout. */
  private productGrad(l: number, dzRe: Float64Array, dzIm: Float64Array, sRe: Float64Array, sIm: Float64Array, gRe: Float64Array, gIm: Float64Array): void {
    const { cin, cout } = this.layers[l];
    if (this.native) this.native.grad(gRe, gIm, dzRe, dzIm, sRe, sIm, this.F, cin, cout, 0, this.F);
    else productKernel('grad', cin, cout)(gRe, gIm, dzRe, dzIm, sRe, sIm, this.F);
  }

  // ------------------------------------------------------------ direct layers

  /** Wrapped coordinate along an API axis, or -1 outside a non-periodic grid. */
  private wrap(x: number, n: number, periodic: boolean): number {
    if (x >= 0 && x < n) return x;
    if (!periodic) return -1;
    return ((x % n) + n) % n;
  }

  /**
   * Layer 0 kernels in internal axis order and flipped, K0[o][c][i][j] =
   * W[o][c][t0][t1] with (ta, tb) = (ka-1-i, kb-1-j): an input atom at internal
   * (ua, ub) adds K0[o][c][i][j] to output (ua - pa + i, ub - pb + j), so the
   * innermost loop runs over contiguous memory in both arrays. k0Map[i*kb + j]
   * is the tap t0*k1 + t1 (to send layer-0 weight gradients back).
   */
  private k0f = new Float64Array(0);
  private k0Map = new Int32Array(0);
  private g0f = new Float64Array(0);
  private segJ = new Int32Array(0);
  private segX = new Int32Array(0);
  private segN = new Int32Array(0);
  private rowA = new Int32Array(0);

  private get kA(): number {
    return this.aIsAxis1 ? this.spec.kernel[1] : this.spec.kernel[0];
  }
  private get kB(): number {
    return this.aIsAxis1 ? this.spec.kernel[0] : this.spec.kernel[1];
  }

  private buildLayer0Kernels(params: Float32Array): void {
    const g = this.layers[0], K = this.K, k1 = this.spec.kernel[1];
    const kA = this.kA, kB = this.kB;
    if (this.k0Map.length !== K) {
      this.k0Map = new Int32Array(K);
      for (let i = 0; i < kA; i++)
        for (let j = 0; j < kB; j++) {
          const ta = kA - 1 - i, tb = kB - 1 - j;
          const [t0, t1] = this.aIsAxis1 ? [tb, ta] : [ta, tb];
          this.k0Map[i * kB + j] = t0 * k1 + t1;
        }
      this.segJ = new Int32Array(kB);
      this.segX = new Int32Array(kB);
      this.segN = new Int32Array(kB);
      this.rowA = new Int32Array(kA);
    }
    const pairs = g.cout * g.cin;
    if (this.k0f.length !== pairs * K) this.k0f = new Float64Array(pairs * K);
    const map = this.k0Map, kf = this.k0f;
    for (let q = 0; q < pairs; q++) {
      const w = g.wOff + q * K, o = q * K;
      for (let t = 0; t < K; t++) kf[o + t] = params[w + map[t]];
    }
  }

  /**
   * Rows along internal axis a and contiguous segments along axis b touched by
   * the kernel of an atom at API (u0, u1); b restricted to [ib0, ib1).
   * Returns (number of segments, ua) packed: the rows are in rowA (-1 = off
   * a non-periodic edge), segments in segJ (first j), segX (first ib), segN.
   */
  private atomFootprint(u0: number, u1: number, ib0: number, ib1: number): number {
    const { n0, n1, periodic } = this.shape;
    const kA = this.kA, kB = this.kB, pA = (kA - 1) / 2, pB = (kB - 1) / 2;
    const ua = this.aIsAxis1 ? u1 : u0, ub = this.aIsAxis1 ? u0 : u1;
    const nA = this.aIsAxis1 ? n1 : n0, nB = this.aIsAxis1 ? n0 : n1;
    const perA = this.aIsAxis1 ? periodic[1] : periodic[0], perB = this.aIsAxis1 ? periodic[0] : periodic[1];
    const rowA = this.rowA, segJ = this.segJ, segX = this.segX, segN = this.segN;
    for (let i = 0; i < kA; i++) rowA[i] = this.wrap(ua - pA + i, nA, perA);
    let ns = 0, last = -2;
    for (let j = 0; j < kB; j++) {
      const x = this.wrap(ub - pB + j, nB, perB);
      if (x < ib0 || x >= ib1) {
        last = -2;
        continue;
      }
      if (x === last + 1 && ns > 0) segN[ns - 1]++;
      else {
        segJ[ns] = j;
        segX[ns] = x;
        segN[ns] = 1;
        ns++;
      }
      last = x;
    }
    return ns;
  }

  /**
   * Layer 0 on the rows ib in [ib0, ib1) (all of them by default): the input is
   * one-hot (a few atoms among the grid points), so the kernels are scattered
   * at the atoms instead of convolving; adds the bias, applies leaky ReLU.
   */
  layer0(idx: Int32Array, val: Float32Array, nnz: number, a0: Float64Array, ib0 = 0, ib1 = this.nb): void {
    const g = this.layers[0], P = this.params, N = this.N, nb = this.nb, na = this.na;
    const { n1 } = this.shape;
    const kA = this.kA, kB = this.kB, K = this.K, kf = this.k0f;
    const rowA = this.rowA, segJ = this.segJ, segX = this.segX, segN = this.segN;
    const full = ib0 === 0 && ib1 === nb;
    for (let o = 0; o < g.cout; o++) {
      const b = g.bOff >= 0 ? P[g.bOff + o] : 0;
      if (full) a0.fill(b, o * N, o * N + N);
      else for (let ia = 0; ia < na; ia++) a0.fill(b, o * N + ia * nb + ib0, o * N + ia * nb + ib1);
    }
    for (let e = 0; e < nnz; e++) {
      const id = idx[e], v = val[e];
      const c = (id / N) | 0, rem = id - c * N;
      const u0 = (rem / n1) | 0, u1 = rem - u0 * n1;
      const ns = this.atomFootprint(u0, u1, ib0, ib1);
      if (ns === 0) continue;
      for (let o = 0; o < g.cout; o++) {
        const kq = (o * g.cin + c) * K, zo = o * N;
        for (let i = 0; i < kA; i++) {
          const xa = rowA[i];
          if (xa < 0) continue;
          const kr = kq + i * kB, dr = zo + xa * nb;
          for (let s = 0; s < ns; s++) {
            const ks = kr + segJ[s], ds = dr + segX[s];
            for (let t = 0, m = segN[s]; t < m; t++) a0[ds + t] += v * kf[ks + t];
          }
        }
      }
    }
    if (full) leaky(a0, 0, g.cout * N, this.slope);
    else
      for (let o = 0; o < g.cout; o++)
        for (let ia = 0; ia < na; ia++) leaky(a0, o * N + ia * nb + ib0, o * N + ia * nb + ib1, this.slope);
  }

  /** Layer-0 weight gradient dW[o][c][d+p] += v * dz0[o](u - d), accumulated in g0f (internal tap order). */
  private layer0Grad(idx: Int32Array, val: Float32Array, nnz: number, dz0: Float64Array): void {
    const g = this.layers[0], N = this.N, nb = this.nb;
    const { n1 } = this.shape;
    const kA = this.kA, kB = this.kB, K = this.K, gf = this.g0f;
    const rowA = this.rowA, segJ = this.segJ, segX = this.segX, segN = this.segN;
    for (let e = 0; e < nnz; e++) {
      const id = idx[e], v = val[e];
      const c = (id / N) | 0, rem = id - c * N;
      const u0 = (rem / n1) | 0, u1 = rem - u0 * n1;
      const ns = this.atomFootprint(u0, u1, 0, nb);
      for (let o = 0; o < g.cout; o++) {
        const kq = (o * g.cin + c) * K, zo = o * N;
        for (let i = 0; i < kA; i++) {
          const xa = rowA[i];
          if (xa < 0) continue;
          const kr = kq + i * kB, dr = zo + xa * nb;
          for (let s = 0; s < ns; s++) {
            const ks = kr + segJ[s], ds = dr + segX[s];
            for (let t = 0, m = segN[s]; t < m; t++) gf[ks + t] += v * dz0[ds + t];
          }
        }
      }
    }
  }

  /** Adds the accumulated layer-0 weight gradient (g0f) to grad in the params layout. */
  private flushLayer0Grad(grad: Float64Array): void {
    const g = this.layers[0], K = this.K, gf = this.g0f, map = this.k0Map;
    for (let q = 0; q < g.cout * g.cin; q++) {
      const w = g.wOff + q * K, o = q * K;
      for (let t = 0; t < K; t++) grad[w + map[t]] += gf[o + t];
    }
  }

  // ------------------------------------------------------------ forward

  /**
   * Full forward pass. input: API layout (S*n0*n1). Returns every layer's
   * post-activation output in the internal layout (last = Q-values), in
   * buffers owned by the engine (valid until the next call).
   */
  private inIdx = new Int32Array(0); // non-zero input entries of forwardInternal
  private inVal = new Float32Array(0);
  forwardInternal(input: Float32Array): Float64Array[] {
    const N = this.N;
    if (this.inIdx.length < input.length) {
      this.inIdx = new Int32Array(input.length);
      this.inVal = new Float32Array(input.length);
    }
    const idx = this.inIdx, val = this.inVal;
    const nnz = gatherNonzeros(input, idx, val);
    const L = this.layers.length;
    const acts: Float64Array[] = [];
    const a0 = this.scratchArr('fact0', this.layers[0].cout * N).subarray(0, this.layers[0].cout * N);
    this.layer0(idx, val, nnz, a0);
    acts.push(a0);
    let prev = a0;
    for (let l = 1; l < L; l++) {
      const g = this.layers[l];
      const sRe = this.scratchArr('sRe', g.cin * this.F), sIm = this.scratchArr('sIm', g.cin * this.F);
      this.forwardSpectra(prev, g.cin, sRe, sIm, this.fullBand);
      const zRe = this.scratchArr('zRe', g.cout * this.F), zIm = this.scratchArr('zIm', g.cout * this.F);
      this.productForward(l, sRe, sIm, zRe, zIm);
      const a = this.scratchArr(`fact${l}`, g.cout * N).subarray(0, g.cout * N);
      this.inverseSpectra(zRe, zIm, g.cout, a, this.fullBand);
      const P = this.params;
      if (l < L - 1) {
        for (let o = 0; o < g.cout; o++) biasLeakyRows(a, o * N, g.bOff >= 0 ? P[g.bOff + o] : 0, this.slope, this.fullBand, this.na, this.nb);
      } else {
        for (let o = 0; o < g.cout; o++) {
          const b = g.bOff >= 0 ? P[g.bOff + o] : 0;
          for (let i = o * N, e = i + N; i < e; i++) a[i] = Math.tanh(a[i] + b);
        }
      }
      acts.push(a);
      prev = a;
    }
    return acts;
  }

  /** Internal layout (C x na x nb) -> API layout (C x n0 x n1), as float32. */
  toApi(x: Float64Array, C: number, out: Float32Array): Float32Array {
    const { n0, n1 } = this.shape, N = this.N, s0 = this.s0, s1 = this.s1;
    for (let c = 0; c < C; c++) {
      const o = c * N;
      for (let x0 = 0; x0 < n0; x0++)
        for (let x1 = 0; x1 < n1; x1++) out[o + x0 * n1 + x1] = x[o + x0 * s0 + x1 * s1];
    }
    return out;
  }

  private scratch = new Map<string, Float64Array>();
  private scratchArr(name: string, size: number): Float64Array {
    let a = this.scratch.get(name);
    if (!a || a.length < size) {
      a = new Float64Array(size);
      this.scratch.set(name, a);
    }
    return a;
  }

  // ------------------------------------------------------------ threaded forward

  /**
   * How a forward pass is split between `parts` threads: rows ib (internal
   * axis b) for the layer-wise work in space, and frequencies ka (axis a) for
   * the work in frequency space. A thread's set of ka is closed under
   * ka -> -ka mod Ma, because separating two real channels packed into one
   * complex transform reads X[kb][ka] and X[-kb][-ka] together; so the second
   * transform pass, the spectral product and the first inverse pass of a
   * layer run without exchanging data. Two barriers per layer remain (after
   * the first forward pass, after the first inverse pass).
   */
  partition(part: number, parts: number): ForwardPart {
    const { nb, Mb, Ma } = this;
    const ib0 = Math.round((part * nb) / parts), ib1 = Math.round(((part + 1) * nb) / parts);
    const classes = (Ma >> 1) + 1;
    const mask = new Uint8Array(Ma);
    for (let ka = 0; ka < Ma; ka++) {
      const cls = Math.min(ka, Ma - ka);
      if (Math.floor((cls * parts) / classes) === part) mask[ka] = 1;
    }
    // the zero padding rows [nb, Mb) of the shared transposed buffer are written (as zeros) by the last part
    return { ib0, ib1, ibRuns: Int32Array.of(ib0, ib1), tEnd: part === parts - 1 ? Mb : ib1, kaRuns: Band.fromMask(mask, Ma).runs };
  }

  /** Sizes of the buffers shared by the threads of a forward pass (float64 counts per re/im array). */
  sharedSizes(): { pairs: number; perPair: number } {
    let maxC = 0;
    for (const g of this.layers) maxC = Math.max(maxC, g.cin, g.cout);
    return { pairs: (maxC + 1) >> 1, perPair: this.Ma * this.Mb };
  }

  /**
   * This thread's part of a forward pass (same result as forwardInternal).
   * `sync` is the barrier between the threads. Writes the Q-values of its
   * rows to sh.out (API layout).
   */
  forwardPart(idx: Int32Array, val: Float32Array, nnz: number, part: ForwardPart, sh: ForwardShared, sync: () => void): void {
    const L = this.layers.length, N = this.N, P = this.params;
    const a0 = this.scratchArr('pact0', this.layers[0].cout * N);
    this.layer0(idx, val, nnz, a0, part.ib0, part.ib1);
    let prev = a0;
    const band = Band.fromRange(part.ib0, part.ib1, this.Mb);
    for (let l = 1; l < L; l++) {
      const g = this.layers[l];
      this.partForwardRows(prev, g.cin, part, sh);
      sync();
      this.partSpectral(l, part, sh);
      sync();
      const a = this.scratchArr(`pact${l}`, g.cout * N);
      this.partInverseRows(g.cout, a, part, sh);
      if (l < L - 1) {
        for (let o = 0; o < g.cout; o++) biasLeakyRows(a, o * N, g.bOff >= 0 ? P[g.bOff + o] : 0, this.slope, band, this.na, this.nb);
      } else {
        const { n1 } = this.shape, out = sh.out;
        for (let o = 0; o < g.cout; o++) {
          const b = g.bOff >= 0 ? P[g.bOff + o] : 0;
          for (let ia = 0; ia < this.na; ia++)
            for (let ib = part.ib0, i = o * N + ia * this.nb + ib; ib < part.ib1; ib++, i++) {
              const x0 = this.aIsAxis1 ? ib : ia, x1 = this.aIsAxis1 ? ia : ib;
              out[o * N + x0 * n1 + x1] = Math.tanh(a[i] + b);
            }
        }
      }
      prev = a;
    }
  }

  /** Forward pass along a over this thread's rows ib, all channel pairs, transposed into sh.T ([pair][ib][ka]). */
  private partForwardRows(x: Float64Array, C: number, part: ForwardPart, sh: ForwardShared): void {
    const { Ma, Mb, na, nb } = this;
    const [b0r, b0i, b1r, b1i] = this.buf;
    const { ib0, ib1, ibRuns, tEnd } = part;
    const N = this.N, PP = Ma * Mb, Tr = sh.Tr, Ti = sh.Ti;
    const { rinA, routA, rinB } = this;
    for (let c = 0; c < C; c += 2) {
      const two = c + 1 < C, xa = c * N, xb = xa + N;
      for (let ia = 0; ia < Ma; ia++) {
        const o = rinA[ia] * Mb;
        if (ia < na) {
          const s = ia * nb;
          for (let ib = ib0; ib < ib1; ib++) {
            b0r[o + ib] = x[xa + s + ib];
            b0i[o + ib] = two ? x[xb + s + ib] : 0;
          }
        } else {
          b0r.fill(0, o + ib0, o + ib1);
          b0i.fill(0, o + ib0, o + ib1);
        }
      }
      const inB = this.planA.runRows(b0r, b0i, b1r, b1i, Mb, ibRuns, -1);
      const sr = inB ? b1r : b0r, si = inB ? b1i : b0i;
      const t = (c >> 1) * PP;
      for (let ib = ib0; ib < ib1; ib++)
        for (let ka = 0, d = t + rinB[ib] * Ma; ka < Ma; ka++, d++) {
          const s = routA[ka] * Mb + ib;
          Tr[d] = sr[s];
          Ti[d] = si[s];
        }
      for (let ib = ib1; ib < tEnd; ib++) {
        const d = t + rinB[ib] * Ma;
        Tr.fill(0, d, d + Ma);
        Ti.fill(0, d, d + Ma);
      }
    }
  }

  /**
   * On this thread's frequencies ka: the forward pass along b, separation of
   * the packed channels, the spectral product with the kernels of layer l,
   * and the first inverse pass (along b), transposed into sh.U ([pair][ka][ib]).
   */
  private partSpectral(l: number, part: ForwardPart, sh: ForwardShared): void {
    const { Ma, Mb, Hb, F, negA, nb } = this;
    const g = this.layers[l];
    const [b0r, b0i, b1r, b1i] = this.buf;
    const runs = part.kaRuns, nr = runs.length, PP = Ma * Mb;
    const { rinA, rinB, routB } = this;
    const sRe = this.scratchArr('psRe', g.cin * F), sIm = this.scratchArr('psIm', g.cin * F);
    const zRe = this.scratchArr('pzRe', g.cout * F), zIm = this.scratchArr('pzIm', g.cout * F);
    for (let c = 0; c < g.cin; c += 2) {
      const two = c + 1 < g.cin;
      const Tr = sh.TrP[c >> 1], Ti = sh.TiP[c >> 1];
      const inB = this.planB.runRows(Tr, Ti, b1r, b1i, Ma, runs, -1);
      const zr = inB ? b1r : Tr, zi = inB ? b1i : Ti;
      const oa = c * F, ob = oa + F;
      for (let kb = 0; kb < Hb; kb++) {
        const row = routB[kb] * Ma, rown = routB[kb === 0 ? 0 : Mb - kb] * Ma, h = kb * Ma;
        for (let r = 0; r < nr; r += 2)
          for (let ka = runs[r], e = runs[r + 1]; ka < e; ka++) {
            const i1 = row + ka, i2 = rown + negA[ka];
            const ar = zr[i1], ai = zi[i1], br = zr[i2], bi = zi[i2];
            sRe[oa + h + ka] = 0.5 * (ar + br);
            sIm[oa + h + ka] = 0.5 * (ai - bi);
            if (two) {
              sRe[ob + h + ka] = 0.5 * (ai + bi);
              sIm[ob + h + ka] = -0.5 * (ar - br);
            }
          }
      }
    }
    const kr = this.kRe[l], ki = this.kIm[l], nat = this.native;
    if (nat) {
      for (let kb = 0; kb < Hb; kb++) for (let r = 0; r < nr; r += 2) nat.forward(kr, ki, sRe, sIm, zRe, zIm, F, g.cin, g.cout, kb * Ma + runs[r], kb * Ma + runs[r + 1]);
    } else {
      const fn = productKernel('forward', g.cin, g.cout);
      for (let kb = 0; kb < Hb; kb++) for (let r = 0; r < nr; r += 2) fn(kr, ki, sRe, sIm, zRe, zIm, F, kb * Ma + runs[r], kb * Ma + runs[r + 1]);
    }
    for (let c = 0; c < g.cout; c += 2) {
      const two = c + 1 < g.cout, xa = c * F, xb = xa + F;
      for (let kb = 0; kb < Hb; kb++) {
        const o = rinB[kb] * Ma, h = kb * Ma;
        for (let r = 0; r < nr; r += 2)
          for (let ka = runs[r], e = runs[r + 1]; ka < e; ka++) {
            b0r[o + ka] = two ? zRe[xa + h + ka] - zIm[xb + h + ka] : zRe[xa + h + ka];
            b0i[o + ka] = two ? zIm[xa + h + ka] + zRe[xb + h + ka] : zIm[xa + h + ka];
          }
      }
      for (let kb = Hb; kb < Mb; kb++) {
        const o = rinB[kb] * Ma, s = (Mb - kb) * Ma;
        for (let r = 0; r < nr; r += 2)
          for (let ka = runs[r], e = runs[r + 1]; ka < e; ka++) {
            const j = s + negA[ka];
            b0r[o + ka] = two ? zRe[xa + j] + zIm[xb + j] : zRe[xa + j];
            b0i[o + ka] = two ? -zIm[xa + j] + zRe[xb + j] : -zIm[xa + j];
          }
      }
      const inB = this.planB.runRows(b0r, b0i, b1r, b1i, Ma, runs, 1);
      const sr = inB ? b1r : b0r, si = inB ? b1i : b0i;
      const t = (c >> 1) * PP, Ur = sh.Ur, Ui = sh.Ui;
      for (let r = 0; r < nr; r += 2)
        for (let ka = runs[r], e = runs[r + 1]; ka < e; ka++)
          for (let ib = 0, d = t + rinA[ka] * Mb; ib < nb; ib++, d++) {
            const s = routB[ib] * Ma + ka;
            Ur[d] = sr[s];
            Ui[d] = si[s];
          }
    }
  }

  /** Second inverse pass (along a) over this thread's rows ib, into the activations (internal layout, own rows). */
  private partInverseRows(C: number, y: Float64Array, part: ForwardPart, sh: ForwardShared): void {
    const { Ma, Mb, na, nb } = this;
    const [, , b1r, b1i] = this.buf;
    const { ib0, ib1, ibRuns } = part;
    const N = this.N, PP = Ma * Mb;
    for (let c = 0; c < C; c += 2) {
      const two = c + 1 < C;
      const Ur = sh.UrP[c >> 1], Ui = sh.UiP[c >> 1];
      const inB = this.planA.runRows(Ur, Ui, b1r, b1i, Mb, ibRuns, 1);
      const zr = inB ? b1r : Ur, zi = inB ? b1i : Ui;
      const ya = c * N, yb = ya + N;
      for (let ia = 0; ia < na; ia++) {
        const o = this.routA[ia] * Mb, d = ia * nb;
        for (let ib = ib0; ib < ib1; ib++) {
          y[ya + d + ib] = zr[o + ib];
          if (two) y[yb + d + ib] = zi[o + ib];
        }
      }
    }
  }

  // ------------------------------------------------------------ training

  /**
   * Loss and gradient (summed, not averaged: the caller divides by the total
   * sample count m through `scale` = 1/m) over samples[from, to).
   * grad: float64 in the params layout, accumulated into.
   */
  lossAndGradient(samples: SparseSample[], from: number, to: number, lossForm: LossForm, scale: number, grad: Float64Array): number {
    const L = this.layers.length, H = L - 2; // hidden FFT layers 1..H
    const N = this.N, F = this.F, P = this.params;
    const { n0, n1, periodic } = this.shape;
    const [k0, k1] = this.spec.kernel;
    const p0 = (k0 - 1) / 2, p1 = (k1 - 1) / 2;
    const out = this.layers[L - 1];
    // per-layer buffers
    const acts: Float64Array[] = [];
    const dacts: Float64Array[] = [];
    const specRe: Float64Array[] = [], specIm: Float64Array[] = [];
    for (let l = 0; l < L - 1; l++) {
      const C = this.layers[l].cout;
      acts.push(this.scratchArr(`act${l}`, C * N).subarray(0, C * N));
      dacts.push(this.scratchArr(`dact${l}`, C * N).subarray(0, C * N));
      if (l < L - 2) {
        specRe.push(this.scratchArr(`specRe${l}`, C * F));
        specIm.push(this.scratchArr(`specIm${l}`, C * F));
      }
    }
    const g0n = this.layers[0].cout * this.layers[0].cin * this.K;
    if (this.g0f.length !== g0n) this.g0f = new Float64Array(g0n);
    else this.g0f.fill(0);
    const gRe: Float64Array[] = [], gIm: Float64Array[] = [];
    for (let l = 1; l <= H; l++) {
      const g = this.layers[l];
      const a = this.scratchArr(`gRe${l}`, g.cout * g.cin * F), b = this.scratchArr(`gIm${l}`, g.cout * g.cin * F);
      a.fill(0);
      b.fill(0);
      gRe[l] = a;
      gIm[l] = b;
    }
    let maxC = 0;
    for (const g of this.layers) maxC = Math.max(maxC, g.cout, g.cin);
    const zRe = this.scratchArr('tzRe', maxC * F), zIm = this.scratchArr('tzIm', maxC * F);
    const dsRe = this.scratchArr('tdRe', maxC * F), dsIm = this.scratchArr('tdIm', maxC * F);
    const nb = this.nb, Mb = this.Mb, pB = this.pB, perB = this.periodicB;
    const bandMask = new Uint8Array(Mb);
    const cellIdx = new Int32Array(64), cellQ = new Float64Array(64), cellZ = new Float64Array(64), cellG = new Float64Array(64);
    const r0 = new Int32Array(k0), r1 = new Int32Array(k1);
    let lossSum = 0;
    // cross-entropy's cellG is already dJ/dz: no tanh' factor in the backward pass
    const gradientIsDz = lossForm === 'cross-entropy';

    for (let s = from; s < to; s++) {
      const smp = samples[s];
      const nc = smp.cells.length;
      // ---- forward through the hidden layers
      this.layer0(smp.idx, smp.val, smp.idx.length, acts[0]);
      // band of rows (internal axis b) within pB of an output cell
      bandMask.fill(0);
      for (let k = 0; k < nc; k++) {
        const rem = smp.cells[k] % N;
        const x0 = (rem / n1) | 0, x1 = rem - x0 * n1;
        const xb = this.aIsAxis1 ? x0 : x1;
        for (let d = -pB; d <= pB; d++) {
          const y = this.wrap(xb + d, nb, perB);
          if (y >= 0) bandMask[y] = 1;
        }
      }
      const bands: Band[] = [];
      bands[H] = Band.fromMask(bandMask.slice(), nb);
      for (let l = H - 1; l >= 0; l--) bands[l] = dilate(bands[l + 1], nb, Mb, pB, perB);
      for (let l = 1; l <= H; l++) {
        const g = this.layers[l];
        this.forwardSpectra(acts[l - 1], g.cin, specRe[l - 1], specIm[l - 1], this.fullBand);
        this.productForward(l, specRe[l - 1], specIm[l - 1], zRe, zIm);
        const band = l === H ? bands[H] : this.fullBand;
        const a = acts[l];
        this.inverseSpectra(zRe, zIm, g.cout, a, band);
        const b = g.bOff >= 0;
        for (let o = 0; o < g.cout; o++) biasLeakyRows(a, o * N, b ? P[g.bOff + o] : 0, this.slope, band, this.na, this.nb);
      }
      // ---- output layer at the loss cells only
      const aL = acts[L - 2];
      const dL = dacts[L - 2];
      dL.fill(0);
      if (cellIdx.length < nc) throw new Error('too many loss cells in one sample');
      for (let k = 0; k < nc; k++) {
        const cell = smp.cells[k];
        const o = (cell / N) | 0, rem = cell - o * N;
        const x0 = (rem / n1) | 0, x1 = rem - x0 * n1;
        for (let t0 = 0; t0 < k0; t0++) {
          const y = this.wrap(x0 + t0 - p0, n0, periodic[0]);
          r0[t0] = y < 0 ? -1 : y * this.s0;
        }
        for (let t1 = 0; t1 < k1; t1++) {
          const y = this.wrap(x1 + t1 - p1, n1, periodic[1]);
          r1[t1] = y < 0 ? -1 : y * this.s1;
        }
        let z = out.bOff >= 0 ? P[out.bOff + o] : 0;
        for (let c = 0; c < out.cin; c++) {
          const w = out.wOff + (o * out.cin + c) * this.K, ao = c * N;
          for (let t0 = 0; t0 < k0; t0++) {
            const b0 = r0[t0];
            if (b0 < 0) continue;
            const wr = w + t0 * k1, ar = ao + b0;
            for (let t1 = 0; t1 < k1; t1++) {
              const b1 = r1[t1];
              if (b1 >= 0) z += P[wr + t1] * aL[ar + b1];
            }
          }
        }
        cellIdx[k] = cell;
        cellZ[k] = z;
        cellQ[k] = Math.tanh(z);
      }
      // ---- loss (paper Methods eq. 2) and dJ/dQ
      const T = smp.target, wts = smp.weights;
      if (lossForm === 'eq2') {
        let r = 0;
        for (let k = 0; k < nc; k++) r += wts[k] * (cellQ[k] - T);
        lossSum += r * r;
        for (let k = 0; k < nc; k++) cellG[k] = 2 * scale * r * wts[k];
      } else if (lossForm === 'cross-entropy') {
        // ln((1±Q)/2) = −softplus(∓2z), exact even where tanh(z) rounds to ±1; cellG is dJ/dz here
        for (let k = 0; k < nc; k++) {
          const z = cellZ[k];
          const lp = T > -1 ? (1 + T) * (Math.log((1 + T) / 2) + softplus(-2 * z)) : 0;
          const lm = T < 1 ? (1 - T) * (Math.log((1 - T) / 2) + softplus(2 * z)) : 0;
          lossSum += wts[k] * (lp + lm);
          cellG[k] = 2 * scale * wts[k] * (cellQ[k] - T);
        }
      } else {
        for (let k = 0; k < nc; k++) {
          const e = cellQ[k] - T;
          lossSum += wts[k] * e * e;
          cellG[k] = 2 * scale * wts[k] * e;
        }
      }
      // ---- output layer backward (tanh' = 1 - Q^2)
      for (let k = 0; k < nc; k++) {
        const g = gradientIsDz ? cellG[k] : cellG[k] * (1 - cellQ[k] * cellQ[k]);
        if (g === 0) continue;
        const cell = cellIdx[k];
        const o = (cell / N) | 0, rem = cell - o * N;
        const x0 = (rem / n1) | 0, x1 = rem - x0 * n1;
        for (let t0 = 0; t0 < k0; t0++) {
          const y = this.wrap(x0 + t0 - p0, n0, periodic[0]);
          r0[t0] = y < 0 ? -1 : y * this.s0;
        }
        for (let t1 = 0; t1 < k1; t1++) {
          const y = this.wrap(x1 + t1 - p1, n1, periodic[1]);
          r1[t1] = y < 0 ? -1 : y * this.s1;
        }
        if (out.bOff >= 0) grad[out.bOff + o] += g;
        for (let c = 0; c < out.cin; c++) {
          const w = out.wOff + (o * out.cin + c) * this.K, ao = c * N;
          for (let t0 = 0; t0 < k0; t0++) {
            const b0 = r0[t0];
            if (b0 < 0) continue;
            const wr = w + t0 * k1, ar = ao + b0;
            for (let t1 = 0; t1 < k1; t1++) {
              const b1 = r1[t1];
              if (b1 >= 0) {
                grad[wr + t1] += g * aL[ar + b1];
                dL[ar + b1] += g * P[wr + t1];
              }
            }
          }
        }
      }
      // ---- hidden layers backward
      for (let l = H; l >= 1; l--) {
        const g = this.layers[l];
        const band = bands[l];
        const a = acts[l], da = dacts[l];
        // dz = da * leaky'(z); leaky'(z) read from the sign of a = leaky(z)
        const slope = this.slope;
        for (let o = 0; o < g.cout; o++) {
          const bsum = leakyGradRows(a, da, o * N, slope, band, this.na, this.nb);
          if (g.bOff >= 0) grad[g.bOff + o] += bsum;
        }
        this.forwardSpectra(da, g.cout, zRe, zIm, band);
        this.productGrad(l, zRe, zIm, specRe[l - 1], specIm[l - 1], gRe[l], gIm[l]);
        this.productBackward(l, zRe, zIm, dsRe, dsIm);
        this.inverseSpectra(dsRe, dsIm, g.cin, dacts[l - 1], bands[l - 1]);
      }
      // ---- layer 0 backward
      {
        const g = this.layers[0];
        const a = acts[0], da = dacts[0], band = bands[0];
        const slope = this.slope;
        for (let o = 0; o < g.cout; o++) {
          const bsum = leakyGradRows(a, da, o * N, slope, band, this.na, this.nb);
          if (g.bOff >= 0) grad[g.bOff + o] += bsum;
        }
        this.layer0Grad(smp.idx, smp.val, smp.idx.length, da);
      }
    }
    this.flushLayer0Grad(grad);
    // ---- hidden weight gradients back to space: dW[o][c][d+p] = R[d mod M] / (Ma Mb)
    const M0 = this.aIsAxis1 ? this.Mb : this.Ma, M1 = this.aIsAxis1 ? this.Ma : this.Mb;
    const sz = this.Ma * this.Mb, inv = 1 / sz;
    for (let l = 1; l <= H; l++) {
      const g = this.layers[l];
      const pairs = g.cout * g.cin;
      const R = this.scratchArr('R', pairs * sz);
      if (this.native) this.inverseSpectra(gRe[l], gIm[l], pairs, R, this.fullPadBand, true);
      else {
        const tRe = this.scratchArr('kT', pairs * F), tIm = this.scratchArr('kTi', pairs * F);
        fromFreqMajor(gRe[l], gIm[l], pairs, F, tRe, tIm);
        this.inverseSpectra(tRe, tIm, pairs, R, this.fullPadBand, true);
      }
      for (let q = 0; q < pairs; q++) {
        const w = g.wOff + q * this.K, ro = q * sz;
        for (let t0 = 0; t0 < k0; t0++) {
          const y0 = ((((t0 - p0) % M0) + M0) % M0) * this.S0;
          for (let t1 = 0; t1 < k1; t1++) {
            const y1 = ((((t1 - p1) % M1) + M1) % M1) * this.S1;
            grad[w + t0 * k1 + t1] += R[ro + y0 + y1] * inv;
          }
        }
      }
    }
    return lossSum * scale;
  }
}

/** [q][f] -> [f][q] for q channel pairs. */
function toFreqMajor(aRe: Float64Array, aIm: Float64Array, Q: number, F: number, oRe: Float64Array | Float32Array, oIm: Float64Array | Float32Array): void {
  for (let q = 0; q < Q; q++)
    for (let f = 0, s = q * F, d = q; f < F; f++, s++, d += Q) {
      oRe[d] = aRe[s];
      oIm[d] = aIm[s];
    }
}

/** [f][q] -> [q][f]. */
function fromFreqMajor(aRe: Float64Array, aIm: Float64Array, Q: number, F: number, oRe: Float64Array, oIm: Float64Array): void {
  for (let q = 0; q < Q; q++)
    for (let f = 0, d = q * F, s = q; f < F; f++, d++, s += Q) {
      oRe[d] = aRe[s];
      oIm[d] = aIm[s];
    }
}

/**
 * The leaky ReLU's factors [slope, 1], indexed by +(z > 0). The loops below
 * multiply by a looked-up factor instead of branching on the sign: the signs
 * of activations are random, so a branch is mispredicted half the time, and
 * the lookup measured 3–4× faster in V8. The results are the same numbers
 * (z × 1 = z, and z × slope = slope × z).
 */
let factorsSlope = NaN;
let factors = new Float64Array(2);
function leakyFactors(slope: number): Float64Array {
  if (slope !== factorsSlope) {
    factors = Float64Array.of(slope, 1);
    factorsSlope = slope;
  }
  return factors;
}

/** In-place leaky ReLU (TensorFlow tf.nn.leaky_relu: max(z, slope*z) for slope < 1). */
function leaky(a: Float64Array, from: number, to: number, slope: number): void {
  const f = leakyFactors(slope);
  for (let i = from; i < to; i++) {
    const z = a[i];
    a[i] = z * f[+(z > 0)];
  }
}

/** a = leaky(a + bias) on the rows (ib) of the band, channel offset base. */
function biasLeakyRows(a: Float64Array, base: number, bias: number, slope: number, band: Band, na: number, nb: number): void {
  const runs = band.runs, nr = runs.length, f = leakyFactors(slope);
  for (let ia = 0; ia < na; ia++) {
    const o = base + ia * nb;
    for (let r = 0; r < nr; r += 2)
      for (let i = o + runs[r], e = o + runs[r + 1]; i < e; i++) {
        const z = a[i] + bias;
        a[i] = z * f[+(z > 0)];
      }
  }
}

/**
 * dz = da * leaky'(z) in place on the band rows, with leaky'(z) read from the
 * sign of a = leaky(z) (same sign for slope > 0; a = 0 gives slope, as TF does
 * at z = 0). Returns the sum of dz (the bias gradient).
 */
function leakyGradRows(a: Float64Array, da: Float64Array, base: number, slope: number, band: Band, na: number, nb: number): number {
  const runs = band.runs, nr = runs.length, f = leakyFactors(slope);
  let sum = 0;
  for (let ia = 0; ia < na; ia++) {
    const o = base + ia * nb;
    for (let r = 0; r < nr; r += 2)
      for (let i = o + runs[r], e = o + runs[r + 1]; i < e; i++) {
        const d = da[i] * f[+(a[i] > 0)];
        da[i] = d;
        sum += d;
      }
  }
  return sum;
}

function dilate(band: Band, nb: number, Mb: number, p: number, periodic: boolean): Band {
  const mask = new Uint8Array(Mb);
  const src = band.mask;
  for (let i = 0; i < nb; i++) {
    if (!src[i]) continue;
    for (let d = -p; d <= p; d++) {
      let y = i + d;
      if (periodic) y = ((y % nb) + nb) % nb;
      else if (y < 0 || y >= nb) continue;
      mask[y] = 1;
    }
  }
  return Band.fromMask(mask, nb);
}

/** The non-zero entries of a (one-hot, sparse) input as index/value lists; returns their count. */
export function gatherNonzeros(input: Float32Array, idx: Int32Array, val: Float32Array): number {
  let nnz = 0;
  for (let i = 0; i < input.length; i++)
    if (input[i] !== 0) {
      idx[nnz] = i;
      val[nnz++] = input[i];
    }
  return nnz;
}

/** ln(1 + eˣ) without overflow. */
function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}
