/**
 * ASLA's Q-network (paper, Methods "Neural network architecture" and Extended
 * Data Fig. 1): a fully convolutional network mapping the one-hot grid of a
 * partial structure (S species channels) to one Q-value per grid point and
 * species. Hidden convolutions use leaky ReLU, the output convolution tanh so
 * that Q lies in [-1, 1] like the rewards. There are no dense layers, so the
 * weights do not depend on the grid and a trained network runs on any cell
 * (transfer learning). Bias terms are optional: layer-wise relevance
 * propagation (Methods eq. 3) needs a bias-free network.
 *
 * Tensor layout everywhere: channel-major, index = c*n0*n1 + i0*n1 + i1.
 * Kernel layout (kernelView, params): [cout][cin][k0][k1], tap (t0, t1) acting
 * on the input at offset (t0 - (k0-1)/2, t1 - (k1-1)/2) from the output point
 * (cross-correlation, as in TensorFlow and PyTorch); then bias[cout].
 */
import { InputError } from '../util/errors.js';
import type { Rng } from '../util/rng.js';
import { ConvEngine, layerLayout, type GridShape, type LayerGeom, type QNetworkSpec } from './engine.js';
import { ForwardThreads } from './forward-threads.js';

export type { GridShape, QNetworkSpec } from './engine.js';

export const DEFAULT_LEAKY_SLOPE = 0.2;

/** Throws InputError naming the field when the architecture is not usable. */
export function validateSpec(spec: unknown, where = 'network spec'): QNetworkSpec {
  const s = spec as Partial<QNetworkSpec> | null;
  if (!s || typeof s !== 'object') throw new InputError('expected an object', where);
  const posInt = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 1;
  if (!posInt(s.species)) throw new InputError(`field 'species' must be a positive integer, got ${JSON.stringify(s.species)}`, where);
  if (!Array.isArray(s.filters) || s.filters.length < 1 || !s.filters.every(posInt))
    throw new InputError(`field 'filters' must be a non-empty list of positive integers, got ${JSON.stringify(s.filters)}`, where);
  if (!Array.isArray(s.kernel) || s.kernel.length !== 2 || !s.kernel.every((k) => posInt(k) && k % 2 === 1))
    throw new InputError(`field 'kernel' must be two odd positive integers, got ${JSON.stringify(s.kernel)}`, where);
  if (typeof s.bias !== 'boolean') throw new InputError(`field 'bias' must be true or false, got ${JSON.stringify(s.bias)}`, where);
  const slope = s.leakySlope ?? DEFAULT_LEAKY_SLOPE;
  if (typeof slope !== 'number' || !Number.isFinite(slope) || slope < 0 || slope >= 1)
    throw new InputError(`field 'leakySlope' must be a number in [0, 1), got ${JSON.stringify(s.leakySlope)}`, where);
  return { species: s.species!, filters: [...s.filters], kernel: [s.kernel[0], s.kernel[1]], bias: s.bias, leakySlope: slope };
}

export function validateShape(shape: GridShape): void {
  const ok = (n: number) => Number.isInteger(n) && n >= 1;
  if (!shape || !ok(shape.n0) || !ok(shape.n1) || !Array.isArray(shape.periodic) || shape.periodic.length !== 2)
    throw new InputError(`grid shape must have positive integer n0, n1 and periodic [bool, bool], got ${JSON.stringify(shape)}`, 'grid shape');
}

export function shapeKey(shape: GridShape): string {
  return `${shape.n0}x${shape.n1}:${shape.periodic[0] ? 'p' : 'n'}${shape.periodic[1] ? 'p' : 'n'}`;
}

export class QNetwork {
  params: Float32Array;
  private readonly geom: LayerGeom[];
  private engines = new Map<string, { engine: ConvEngine; snapshot: Float32Array; version: number }>();
  private versions = 0;
  private threads: ForwardThreads | null = null;
  private threadMinPoints = 0;
  private adaptive: ModeChooser | null = null;

  private constructor(readonly spec: QNetworkSpec, params: Float32Array) {
    const { layers, size } = layerLayout(spec);
    if (params.length !== size) throw new InputError(`expected ${size} parameters for this architecture, got ${params.length}`, 'network params');
    this.geom = layers;
    this.params = params;
  }

  /**
   * TensorFlow/Keras default initialisation: Glorot-uniform kernels in
   * [-lim, lim], lim = sqrt(6 / (fan_in + fan_out)), fan = k0*k1*channels; zero biases.
   */
  static create(spec: QNetworkSpec, rng: Rng): QNetwork {
    const s = validateSpec(spec);
    const { layers, size } = layerLayout(s);
    const p = new Float32Array(size);
    const K = s.kernel[0] * s.kernel[1];
    for (const g of layers) {
      const lim = Math.sqrt(6 / (K * g.cin + K * g.cout));
      for (let i = 0; i < g.cout * g.cin * K; i++) p[g.wOff + i] = (2 * rng.next() - 1) * lim;
    }
    return new QNetwork(s, p);
  }

  /** Number of layers (hidden layers + output layer). */
  get depth(): number {
    return this.geom.length;
  }

  /** Weights [cout][cin][k0][k1] and bias [cout] of one layer, as views into params. */
  kernelView(layer: number): { weights: Float32Array; bias: Float32Array | null; cin: number; cout: number } {
    const g = this.geom[layer];
    if (!g) throw new RangeError(`layer ${layer} out of range 0..${this.geom.length - 1}`);
    const K = this.spec.kernel[0] * this.spec.kernel[1];
    return {
      weights: this.params.subarray(g.wOff, g.wOff + g.cout * g.cin * K),
      bias: g.bOff >= 0 ? this.params.subarray(g.bOff, g.bOff + g.cout) : null,
      cin: g.cin,
      cout: g.cout,
    };
  }

  /** The engine for this grid, with kernel transforms up to date with params. */
  private engine(shape: GridShape): ConvEngine {
    return this.engineEntry(shape).engine;
  }

  private engineEntry(shape: GridShape): { engine: ConvEngine; snapshot: Float32Array; version: number } {
    validateShape(shape);
    const key = shapeKey(shape);
    let e = this.engines.get(key);
    if (!e) {
      if (this.engines.size >= 8) this.engines.clear();
      e = { engine: new ConvEngine(this.spec, { n0: shape.n0, n1: shape.n1, periodic: [!!shape.periodic[0], !!shape.periodic[1]] }), snapshot: new Float32Array(0), version: -1 };
      this.engines.set(key, e);
    }
    // params may have been changed in place (Adam) or replaced: compare
    if (!equalArrays(e.snapshot, this.params)) {
      e.snapshot = this.params.slice();
      e.engine.setParams(e.snapshot, true);
      e.version = ++this.versions;
    }
    return e;
  }

  /**
   * Runs forward() on two threads (this one and a persistent worker) when
   * threads >= 2, on this thread alone when threads = 1. More than two
   * threads are not used: a pass of one state is too short to share further.
   * Grids of fewer than minGridPoints points stay single-threaded (the
   * barriers would cost more than they save). forward() stays synchronous;
   * call close() when done (the worker does not keep the process alive).
   * With `adaptive` (default) the pass is timed and every few dozen calls the
   * other mode is tried: on a machine whose cores are busy with other work,
   * barriers wait for a descheduled partner and one thread is faster. Both
   * modes do the same arithmetic in the same order (the same Q-values).
   */
  setForwardThreads(threads: number, opts: { minGridPoints?: number; adaptive?: boolean } = {}): void {
    if (!Number.isInteger(threads) || threads < 1) throw new InputError(`field 'threads' must be a positive integer, got ${threads}`, 'network options');
    this.threadMinPoints = opts.minGridPoints ?? 400;
    this.adaptive = threads >= 2 && (opts.adaptive ?? true) ? new ModeChooser() : null;
    if (threads >= 2 && !this.threads) this.threads = new ForwardThreads(this.spec);
    if (threads < 2 && this.threads) {
      void this.threads.close();
      this.threads = null;
    }
  }

  /** Number of threads forward() runs on (1 or 2). */
  get forwardThreads(): number {
    return this.threads ? 2 : 1;
  }

  /** Stops the forward worker thread, if any (forward() then runs on this thread). */
  async close(): Promise<void> {
    const t = this.threads;
    this.threads = null;
    await t?.close();
  }

  private checkInput(input: Float32Array, shape: GridShape): void {
    const n = this.spec.species * shape.n0 * shape.n1;
    if (input.length !== n) throw new InputError(`input has ${input.length} values, expected species*n0*n1 = ${n}`, 'network input');
  }

  /** Q-values (S*n0*n1, each in [-1, 1]) for one state. */
  forward(input: Float32Array, shape: GridShape, out?: Float32Array): Float32Array {
    const entry = this.engineEntry(shape);
    const e = entry.engine;
    this.checkInput(input, shape);
    if (this.threads?.usable && shape.n0 * shape.n1 >= this.threadMinPoints) {
      const o = out ?? new Float32Array(input.length);
      const a = this.adaptive;
      if (!a) return this.threads.forward(e, shapeKey(shape), entry.snapshot, entry.version, input, o);
      const threaded = a.choose();
      const t0 = performance.now();
      if (threaded) this.threads.forward(e, shapeKey(shape), entry.snapshot, entry.version, input, o);
      else e.toApi(e.forwardInternal(input)[this.geom.length - 1], this.spec.species, o);
      a.record(threaded, performance.now() - t0);
      return o;
    }
    const acts = e.forwardInternal(input);
    const S = this.spec.species;
    const o = out ?? new Float32Array(S * shape.n0 * shape.n1);
    return e.toApi(acts[acts.length - 1], S, o);
  }

  /** Every layer's post-activation output (API layout), the last being Q; for relevance propagation. */
  activations(input: Float32Array, shape: GridShape): { input: Float32Array; layers: Float32Array[] } {
    const e = this.engine(shape);
    this.checkInput(input, shape);
    const acts = e.forwardInternal(input);
    const layers = acts.map((a, l) => e.toApi(a, this.geom[l].cout, new Float32Array(a.length)));
    return { input: input.slice(), layers };
  }

  serialize(): { format: 'asla-qnetwork'; version: 1; spec: QNetworkSpec; params: string } {
    const b = Buffer.from(this.params.buffer, this.params.byteOffset, this.params.byteLength);
    return { format: 'asla-qnetwork', version: 1, spec: { ...this.spec, filters: [...this.spec.filters], kernel: [...this.spec.kernel] }, params: b.toString('base64') };
  }

  static deserialize(obj: unknown): QNetwork {
    const o = obj as { format?: unknown; version?: unknown; spec?: unknown; params?: unknown } | null;
    if (!o || typeof o !== 'object') throw new InputError('expected an object', 'network file');
    if (o.format !== 'asla-qnetwork') throw new InputError(`field 'format' must be 'asla-qnetwork', got ${JSON.stringify(o.format)}`, 'network file');
    if (o.version !== 1) throw new InputError(`field 'version' ${JSON.stringify(o.version)} is not supported (this asla reads version 1)`, 'network file');
    const spec = validateSpec(o.spec, "network file: field 'spec'");
    if (typeof o.params !== 'string') throw new InputError("field 'params' must be a base64 string", 'network file');
    const bytes = Buffer.from(o.params, 'base64');
    const { size } = layerLayout(spec);
    if (bytes.length !== size * 4)
      throw new InputError(`field 'params' holds ${bytes.length / 4} float32 values but the spec needs ${size}`, 'network file');
    const p = new Float32Array(size);
    new Uint8Array(p.buffer).set(bytes);
    for (let i = 0; i < size; i++) if (!Number.isFinite(p[i])) throw new InputError(`field 'params' has a non-finite value at index ${i}`, 'network file');
    return new QNetwork(spec, p);
  }

  clone(): QNetwork {
    return new QNetwork({ ...this.spec, filters: [...this.spec.filters], kernel: [...this.spec.kernel] }, this.params.slice());
  }
}

/**
 * Picks the faster of the two-thread and one-thread forward pass from running
 * means of their measured times; the slower mode is re-tried for a few calls
 * every PERIOD calls (load from other processes comes and goes).
 */
class ModeChooser {
  static readonly PERIOD = 48;
  static readonly PROBE = 3;
  private mean = [NaN, NaN]; // [one thread, two threads], ms
  private calls = 0;
  private skip = false;
  choose(): boolean {
    const k = this.calls++ % ModeChooser.PERIOD;
    const [m1, m2] = this.mean;
    const best = Number.isNaN(m2) || !(m2 > m1); // two threads unless measured slower
    // probe the other mode; its first call is not recorded (cold caches)
    this.skip = k === ModeChooser.PERIOD - ModeChooser.PROBE;
    return k >= ModeChooser.PERIOD - ModeChooser.PROBE ? !best : best;
  }
  record(threaded: boolean, ms: number): void {
    if (this.skip) return;
    const i = threaded ? 1 : 0;
    this.mean[i] = Number.isNaN(this.mean[i]) ? ms : 0.8 * this.mean[i] + 0.2 * ms;
  }
}

function equalArrays(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  // compare as 32-bit words: exact, and NaN-safe
  const x = new Int32Array(a.buffer, a.byteOffset, a.length), y = new Int32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
