/**
 * The optional native kernels (native/asla_kernels.c, built by
 * scripts/build-native.mjs at install into build/asla_kernels.node): the
 * frequency-domain products of the hidden layers (products.ts has the
 * TypeScript ones, which stay the fallback) with the channel-major layout
 * [o][c][f], vectorised over frequencies; the Stockham FFT stages (fft.ts) and
 * the engine's 2-D real transforms (engine.ts forwardSpectra, inverseSpectra),
 * the same loops in C, bit for bit the same results (no fused multiply-adds,
 * the same order of operations). ConvEngine decides once, when it is made, which product
 * kernels it uses; StockhamFFT decides per transform. ASLA_NATIVE=0 in the
 * environment, or useNativeKernels(false), gives the TypeScript ones.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Arguments: (kRe|gRe, kIm|gIm, aRe, aIm, bRe, bIm, F, cin, cout, f0, f1); see products.ts. */
type NativeProduct = (
  kr: Float32Array | Float64Array,
  ki: Float32Array | Float64Array,
  aRe: Float64Array,
  aIm: Float64Array,
  bRe: Float64Array,
  bIm: Float64Array,
  F: number,
  cin: number,
  cout: number,
  f0: number,
  f1: number,
) => void;

/**
 * A plan for the native code. Stockham: stage list (p, l1, m, twiddle offset,
 * table offset) ×5, twiddles (re, im), odd-radix tables (cos, sin). Rader: the
 * same for its inner transform of n − 1, then its kernel spectra (forward re,
 * im, inverse re, im) and rowIn, rowOut.
 */
export type StockhamPlan = [Int32Array, Float64Array, Float64Array, Float64Array, Float64Array];
export type NativePlan = StockhamPlan | [...StockhamPlan, Float64Array, Float64Array, Float64Array, Float64Array, Int32Array, Int32Array];

export interface NativeKernels {
  forward: NativeProduct;
  backward: NativeProduct;
  grad: NativeProduct;
  /**
   * A whole Stockham transform (fft.ts StockhamFFT.run): stage list (p, l1, m,
   * twiddle offset, table offset) ×5, twiddles, odd-radix tables, a, b, V, runs,
   * sign; true when the result is in b.
   */
  fft(
    info: Int32Array,
    twRe: Float64Array,
    twIm: Float64Array,
    cosTab: Float64Array,
    sinTab: Float64Array,
    aRe: Float64Array,
    aIm: Float64Array,
    bRe: Float64Array,
    bIm: Float64Array,
    V: number,
    runs: Int32Array,
    sign: number,
  ): boolean;
  /**
   * The 2-D transforms of one engine (engine.ts forwardSpectra/inverseSpectra)
   * for axis plans that are Stockham or Rader (fft.ts nativePlan), padded sizes
   * Ma, Mb, and four work buffers of Ma*Mb that the engine keeps.
   */
  spectraContext(planA: NativePlan, planB: NativePlan, Ma: number, Mb: number, b0r: Float64Array, b0i: Float64Array, b1r: Float64Array, b1i: Float64Array): object;
  forwardSpectra(ctx: object, x: Float64Array, C: number, outRe: Float64Array, outIm: Float64Array, rows: number, cols: number, runs: Int32Array, mask: Uint8Array): void;
  inverseSpectra(ctx: object, inRe: Float64Array, inIm: Float64Array, C: number, y: Float64Array, rows: number, cols: number, runs: Int32Array, mask: Uint8Array): void;
  /** 'avx2' or 'generic': the variant the module chose for this CPU. */
  variant: string;
  /** sha256 of the native/ sources it was built from (scripts/build-native.mjs). */
  sourceHash: string;
}

let module: NativeKernels | null | undefined;
let reason = '';
let enabled = process.env.ASLA_NATIVE !== '0';

/** sha256 of the native/ sources, as scripts/build-native.mjs computes it; null without them. */
function sourceHash(): string | null {
  const dir = fileURLToPath(new URL('../../../native/', import.meta.url));
  if (!existsSync(dir)) return null;
  const hash = createHash('sha256');
  for (const name of readdirSync(dir).sort()) hash.update(name + '\0').update(readFileSync(dir + name));
  return hash.digest('hex');
}

function load(): NativeKernels | null {
  if (module !== undefined) return module;
  try {
    // dist/src/nn/native.js -> build/asla_kernels.node at the package root
    const m = createRequire(import.meta.url)('../../../build/asla_kernels.node') as NativeKernels;
    const want = sourceHash();
    if (want !== null && m.sourceHash !== want) {
      reason = 'build/asla_kernels.node was built from other sources than native/ (rebuild: npm run build:native)';
      module = null;
    } else module = m;
  } catch (e) {
    reason = `build/asla_kernels.node not loaded (${(e as Error).message.split('\n')[0]}); run npm run build:native`;
    module = null;
  }
  return module;
}

/** The native kernels when built and enabled, else null. */
export function nativeKernels(): NativeKernels | null {
  if (!enabled) return null;
  return load();
}

/** Switches the native kernels on or off for engines made from now on (tests, comparisons). */
export function useNativeKernels(on: boolean): void {
  enabled = on;
}

/** Which product kernels new engines use, in words (for logs and benchmarks). */
export function kernelsInUse(): string {
  if (!enabled) return process.env.ASLA_NATIVE === '0' ? 'typescript (ASLA_NATIVE=0)' : 'typescript (switched off)';
  const m = load();
  return m ? `native ${m.variant}` : `typescript (${reason})`;
}
