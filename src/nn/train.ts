/**
 * Training of the Q-network: the loss of paper Methods eq. 2 over a batch of
 * (state, action, reward) samples, its gradient by back-propagation through
 * the convolution engine, and one Adam step (TensorFlow/Keras defaults).
 *
 * The batch can be split over worker threads (node:worker_threads): the main
 * thread takes the first share, each worker one more; parameters travel in a
 * SharedArrayBuffer, the samples as compact sparse arrays, and the partial
 * gradients are summed in worker order, so results are deterministic for a
 * given thread count and equal to the single-threaded ones to rounding.
 */
import { Worker } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { ConvEngine, LOSS_FORMS, type GridShape, type LossForm, type SparseSample } from './engine.js';
import { QNetwork, shapeKey, validateShape } from './network.js';

export { LOSS_FORMS, type LossForm } from './engine.js';

export interface TrainSample {
  input: Float32Array; // S*n0*n1 one-hot state
  cells: Int32Array; // output indices: the action first, then spillover cells
  weights: Float32Array; // 1 for the action, eta for spillover cells
  target: number; // Q_target = reward in [-1, 1]
}

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Samples packed into flat arrays (what is sent to a worker). */
export interface PackedSamples {
  inOff: Int32Array;
  idx: Int32Array;
  val: Float32Array;
  cellOff: Int32Array;
  cells: Int32Array;
  weights: Float32Array;
  targets: Float64Array;
}

export function packSamples(samples: TrainSample[], S: number, shape: GridShape): PackedSamples {
  const n = S * shape.n0 * shape.n1;
  const m = samples.length;
  const inOff = new Int32Array(m + 1), cellOff = new Int32Array(m + 1);
  let nnz = 0, nc = 0;
  for (let s = 0; s < m; s++) {
    const smp = samples[s];
    if (!(smp.input instanceof Float32Array) || smp.input.length !== n)
      throw new InputError(`sample ${s}: input must be a Float32Array of species*n0*n1 = ${n} values`, 'training batch');
    if (smp.cells.length !== smp.weights.length || smp.cells.length === 0)
      throw new InputError(`sample ${s}: cells and weights must be non-empty and of equal length`, 'training batch');
    for (let k = 0; k < smp.cells.length; k++)
      if (!(smp.cells[k] >= 0 && smp.cells[k] < n)) throw new InputError(`sample ${s}: cell index ${smp.cells[k]} outside 0..${n - 1}`, 'training batch');
    if (!Number.isFinite(smp.target)) throw new InputError(`sample ${s}: target must be finite`, 'training batch');
    const x = smp.input;
    for (let i = 0; i < n; i++) if (x[i] !== 0) nnz++;
    nc += smp.cells.length;
    inOff[s + 1] = nnz;
    cellOff[s + 1] = nc;
  }
  const idx = new Int32Array(nnz), val = new Float32Array(nnz);
  const cells = new Int32Array(nc), weights = new Float32Array(nc), targets = new Float64Array(m);
  for (let s = 0, e = 0; s < m; s++) {
    const x = samples[s].input;
    for (let i = 0; i < n; i++)
      if (x[i] !== 0) {
        idx[e] = i;
        val[e++] = x[i];
      }
    cells.set(samples[s].cells, cellOff[s]);
    weights.set(samples[s].weights, cellOff[s]);
    targets[s] = samples[s].target;
  }
  return { inOff, idx, val, cellOff, cells, weights, targets };
}

export function unpackSamples(p: PackedSamples): SparseSample[] {
  const out: SparseSample[] = [];
  for (let s = 0; s + 1 < p.inOff.length; s++) {
    out.push({
      idx: p.idx.subarray(p.inOff[s], p.inOff[s + 1]),
      val: p.val.subarray(p.inOff[s], p.inOff[s + 1]),
      cells: p.cells.subarray(p.cellOff[s], p.cellOff[s + 1]),
      weights: p.weights.subarray(p.cellOff[s], p.cellOff[s + 1]),
      target: p.targets[s],
    });
  }
  return out;
}

/** Samples [from, to) of a packed batch, re-based (sent to one worker). */
function slicePacked(p: PackedSamples, from: number, to: number): PackedSamples {
  const a = p.inOff[from], b = p.inOff[to], c = p.cellOff[from], d = p.cellOff[to];
  return {
    inOff: p.inOff.slice(from, to + 1).map((x) => x - a),
    idx: p.idx.slice(a, b),
    val: p.val.slice(a, b),
    cellOff: p.cellOff.slice(from, to + 1).map((x) => x - c),
    cells: p.cells.slice(c, d),
    weights: p.weights.slice(c, d),
    targets: p.targets.slice(from, to),
  };
}

/** Engines are cached per grid shape (plans, buffers and kernel transforms). */
export class EngineCache {
  private map = new Map<string, ConvEngine>();
  get(net: { spec: QNetwork['spec'] }, shape: GridShape): ConvEngine {
    const key = shapeKey(shape);
    let e = this.map.get(key);
    if (!e) {
      if (this.map.size >= 8) this.map.clear();
      e = new ConvEngine(net.spec, { n0: shape.n0, n1: shape.n1, periodic: [!!shape.periodic[0], !!shape.periodic[1]] });
      this.map.set(key, e);
    }
    return e;
  }
}

interface WorkerReply {
  id: number;
  loss: number;
  grad: Float64Array;
  error?: string;
}

export class Trainer {
  readonly lossForm: LossForm;
  readonly threads: number;
  private lr: number;
  private beta1: number;
  private beta2: number;
  private epsilon: number;
  private m: Float32Array;
  private v: Float32Array;
  private t = 0;
  private engines = new EngineCache();
  private workers: Worker[] = [];
  private shared: Float32Array | null = null;
  private nextId = 1;
  private pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();

  constructor(readonly net: QNetwork, opts: AdamOptions & { threads?: number; lossForm?: LossForm }) {
    if (!(opts.learningRate > 0)) throw new InputError(`field 'learningRate' must be positive, got ${opts.learningRate}`, 'trainer options');
    this.lr = opts.learningRate;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-7;
    for (const [k, x] of [['beta1', this.beta1], ['beta2', this.beta2]] as const)
      if (!(x >= 0 && x < 1)) throw new InputError(`field '${k}' must be in [0, 1), got ${x}`, 'trainer options');
    if (!(this.epsilon > 0)) throw new InputError(`field 'epsilon' must be positive, got ${this.epsilon}`, 'trainer options');
    this.lossForm = opts.lossForm ?? 'eq2';
    if (!LOSS_FORMS.includes(this.lossForm))
      throw new InputError(`field 'lossForm' must be one of ${LOSS_FORMS.join(', ')}, got ${JSON.stringify(opts.lossForm)}`, 'trainer options');
    const th = opts.threads ?? 1;
    if (!Number.isInteger(th) || th < 1) throw new InputError(`field 'threads' must be a positive integer, got ${th}`, 'trainer options');
    this.threads = th;
    this.m = new Float32Array(net.params.length);
    this.v = new Float32Array(net.params.length);
  }

  /**
   * Mean loss over the batch (eq2: J = (1/m) sum_i [sum_k w_k (Q_k - T_i)]^2,
   * sum-of-squares: J = (1/m) sum_i sum_k w_k (Q_k - T_i)^2, cross-entropy:
   * J = (1/m) sum_i sum_k w_k ℓ(Q_k, T_i), see LossForm) and its gradient,
   * on this thread.
   */
  lossAndGradient(samples: TrainSample[], shape: GridShape): { loss: number; grad: Float32Array } {
    const r = this.compute(samples, shape, false);
    return { loss: r.loss, grad: Float32Array.from(r.grad) };
  }

  private compute(samples: TrainSample[], shape: GridShape, _async: false): { loss: number; grad: Float64Array } {
    validateShape(shape);
    if (samples.length === 0) throw new InputError('batch is empty', 'training batch');
    const packed = packSamples(samples, this.net.spec.species, shape);
    const e = this.engines.get(this.net, shape);
    e.setParams(this.net.params.slice(), false);
    const grad = new Float64Array(this.net.params.length);
    const loss = e.lossAndGradient(unpackSamples(packed), 0, samples.length, this.lossForm, 1 / samples.length, grad);
    return { loss, grad };
  }

  /** One Adam step on the mean loss; returns the loss before the update. */
  async step(samples: TrainSample[], shape: GridShape): Promise<number> {
    validateShape(shape);
    const m = samples.length;
    if (m === 0) throw new InputError('batch is empty', 'training batch');
    const P = this.net.params.length;
    const T = Math.min(this.threads, m);
    let loss: number;
    let grad: Float64Array;
    if (T === 1) {
      ({ loss, grad } = this.compute(samples, shape, false));
    } else {
      this.ensureWorkers(T - 1);
      const shared = this.shared!;
      shared.set(this.net.params);
      const packed = packSamples(samples, this.net.spec.species, shape);
      const bounds = Array.from({ length: T + 1 }, (_, i) => Math.round((i * m) / T));
      const replies: Promise<WorkerReply>[] = [];
      for (let w = 1; w < T; w++) {
        const id = this.nextId++;
        const worker = this.workers[w - 1];
        worker.ref();
        replies.push(
          new Promise<WorkerReply>((resolve, reject) => {
            this.pending.set(id, { resolve, reject });
            worker.postMessage({
              type: 'step',
              id,
              spec: this.net.spec,
              shape: { n0: shape.n0, n1: shape.n1, periodic: [!!shape.periodic[0], !!shape.periodic[1]] },
              samples: slicePacked(packed, bounds[w], bounds[w + 1]),
              lossForm: this.lossForm,
              scale: 1 / m,
            });
          }),
        );
      }
      // the main thread takes the first share meanwhile
      const e = this.engines.get(this.net, shape);
      e.setParams(shared.slice(), false);
      grad = new Float64Array(P);
      loss = e.lossAndGradient(unpackSamples(slicePacked(packed, 0, bounds[1])), 0, bounds[1], this.lossForm, 1 / m, grad);
      let results: WorkerReply[];
      try {
        results = await Promise.all(replies);
      } finally {
        for (const w of this.workers) w.unref();
      }
      for (const r of results) {
        // fixed reduction order: worker 1, 2, ...
        loss += r.loss;
        const g = r.grad;
        for (let i = 0; i < P; i++) grad[i] += g[i];
      }
    }
    this.adam(grad);
    return loss;
  }

  /**
   * Adam as in TensorFlow/Keras: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
   * m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, theta -= lr_t m / (sqrt(v) + eps).
   */
  private adam(grad: Float64Array): void {
    this.t += 1;
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const lrT = (this.lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
    const p = this.net.params, m = this.m, v = this.v;
    for (let i = 0; i < p.length; i++) {
      const g = grad[i];
      const mi = b1 * m[i] + (1 - b1) * g;
      const vi = b2 * v[i] + (1 - b2) * g * g;
      m[i] = mi;
      v[i] = vi;
      p[i] = p[i] - (lrT * mi) / (Math.sqrt(vi) + eps);
    }
  }

  state(): { m: Float32Array; v: Float32Array; t: number } {
    return { m: this.m.slice(), v: this.v.slice(), t: this.t };
  }

  setState(s: { m: Float32Array; v: Float32Array; t: number }): void {
    const P = this.net.params.length;
    if (s.m.length !== P || s.v.length !== P) throw new InputError(`Adam state has ${s.m.length}/${s.v.length} moments, the network has ${P} parameters`, 'trainer state');
    if (!Number.isInteger(s.t) || s.t < 0) throw new InputError(`Adam step count must be a non-negative integer, got ${s.t}`, 'trainer state');
    this.m = Float32Array.from(s.m);
    this.v = Float32Array.from(s.v);
    this.t = s.t;
  }

  private ensureWorkers(count: number): void {
    const P = this.net.params.length;
    if (!this.shared || this.shared.length !== P) {
      this.shared = new Float32Array(new SharedArrayBuffer(P * 4));
      for (const w of this.workers) w.postMessage({ type: 'params', buffer: this.shared.buffer });
    }
    while (this.workers.length < count) {
      const w = new Worker(new URL('./worker.js', import.meta.url));
      w.on('message', (r: WorkerReply) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.error) p.reject(new Error(`training worker failed: ${r.error}`));
        else p.resolve(r);
      });
      w.on('error', (err) => {
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      w.postMessage({ type: 'params', buffer: this.shared.buffer });
      w.unref();
      this.workers.push(w);
    }
  }

  /** Stops the worker threads. */
  async close(): Promise<void> {
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }
}
