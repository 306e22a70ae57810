/**
 * Forward passes of the Q-network on two threads, for the building phase:
 * the agent asks for the Q-values of one state per placed atom (paper Fig. 1,
 * ~24 forwards per episode) and uses them at once, so the call stays
 * synchronous. The main thread and one persistent worker split each pass
 * (ConvEngine.partition: grid rows for the work in space, negation-closed
 * frequency sets for the spectral products), exchange the transformed
 * channels through SharedArrayBuffers and meet at barriers built on
 * Atomics.wait/notify; the main thread blocks until the worker's half is done.
 *
 * Barrier: each thread owns a counter in the control array and counts its
 * arrivals; both run the same sequence of barriers, so "the other counter has
 * reached mine" means the other thread has arrived. Waiting spins briefly
 * (a barrier is usually met within microseconds) before sleeping in
 * Atomics.wait, so a descheduled partner does not burn the other core.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ConvEngine, ForwardPart, ForwardShared, GridShape, QNetworkSpec } from './engine.js';
import { gatherNonzeros } from './engine.js';

// control array slots
export const JOB = 0; // incremented by the main thread for every job
export const CMD = 1; // CONFIG | FORWARD | EXIT
export const NNZ = 2; // number of non-zero input entries of a forward job
export const PVER = 3; // parameter version (the worker recomputes kernel transforms when it changes)
export const MAIN = 4; // main thread's barrier counter
export const WORKER = 5; // worker's barrier counter
export const ERROR = 6; // set by the worker when it failed
export const CTL_SIZE = 8;
export const CONFIG = 1, FORWARD = 2, EXIT = 3;

const SPIN_MS = 0.2; // spinning time before sleeping in Atomics.wait
const TIMEOUT_MS = 60_000;

/** Blocks until ctl[slot] has reached target (wrap-safe comparison); false when `failed()` became true; throws after timeoutMs. */
export function waitFor(ctl: Int32Array, slot: number, target: number, failed: () => boolean, timeoutMs = TIMEOUT_MS): boolean {
  let v = Atomics.load(ctl, slot);
  if (((v - target) | 0) >= 0) return true;
  const t0 = performance.now();
  for (let i = 1; ; i++) {
    v = Atomics.load(ctl, slot);
    if (((v - target) | 0) >= 0) return true;
    if ((i & 255) === 0 && (failed() || performance.now() - t0 > SPIN_MS)) break;
  }
  for (;;) {
    if (failed()) return false;
    Atomics.wait(ctl, slot, v, 50);
    v = Atomics.load(ctl, slot);
    if (((v - target) | 0) >= 0) return true;
    if (performance.now() - t0 > timeoutMs) throw new Error(`forward thread: no answer within ${timeoutMs / 1000} s`);
  }
}

/** The buffers of one grid shape, sent to the worker on (re)configuration. */
export interface SharedSetup {
  shape: GridShape;
  pairs: number; // channel pairs held by T and U
  perPair: number; // Ma * Mb
  T: SharedArrayBuffer[]; // re, im
  U: SharedArrayBuffer[];
  out: SharedArrayBuffer;
  params: SharedArrayBuffer;
  inIdx: SharedArrayBuffer;
  inVal: SharedArrayBuffer;
}

export function sharedViews(s: SharedSetup): ForwardShared {
  const [Tr, Ti, Ur, Ui] = [s.T[0], s.T[1], s.U[0], s.U[1]].map((b) => new Float64Array(b));
  const views = (a: Float64Array) => Array.from({ length: s.pairs }, (_, p) => a.subarray(p * s.perPair, (p + 1) * s.perPair));
  return { Tr, Ti, Ur, Ui, TrP: views(Tr), TiP: views(Ti), UrP: views(Ur), UiP: views(Ui), out: new Float32Array(s.out) };
}

export class ForwardThreads {
  private worker: Worker;
  private port: MessagePort;
  private ctl: Int32Array;
  private phase = 0;
  private key = '';
  private sh: ForwardShared | null = null;
  private part: ForwardPart | null = null;
  private params: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private inIdx: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private inVal: Float32Array<ArrayBufferLike> = new Float32Array(0);
  private sentVersion = -1;
  private broken: string | null = null;
  private readonly failed = () => Atomics.load(this.ctl, ERROR) !== 0;
  private readonly sync = () => {
    this.phase = (this.phase + 1) | 0;
    Atomics.store(this.ctl, MAIN, this.phase);
    Atomics.notify(this.ctl, MAIN);
    if (!waitFor(this.ctl, WORKER, this.phase, this.failed)) this.fail();
  };

  constructor(spec: QNetworkSpec) {
    this.ctl = new Int32Array(new SharedArrayBuffer(CTL_SIZE * 4));
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./forward-worker.js', import.meta.url), {
      workerData: { ctl: this.ctl.buffer, port: port2, spec },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
  }

  private fail(): never {
    const m = receiveMessageOnPort(this.port)?.message as { error?: string } | undefined;
    this.broken = m?.error ?? 'forward worker failed';
    throw new Error(`forward thread failed: ${this.broken}`);
  }

  /** False once the worker has failed (the network then runs single-threaded). */
  get usable(): boolean {
    return this.broken === null;
  }

  private configure(e: ConvEngine, key: string, paramCount: number): void {
    const { pairs, perPair } = e.sharedSizes();
    const S = e.spec.species, N = e.N;
    const f64 = () => new SharedArrayBuffer(pairs * perPair * 8);
    const setup: SharedSetup = {
      shape: e.shape,
      pairs,
      perPair,
      T: [f64(), f64()],
      U: [f64(), f64()],
      out: new SharedArrayBuffer(S * N * 4),
      params: new SharedArrayBuffer(paramCount * 4),
      inIdx: new SharedArrayBuffer(S * N * 4),
      inVal: new SharedArrayBuffer(S * N * 4),
    };
    this.sh = sharedViews(setup);
    this.params = new Float32Array(setup.params);
    this.inIdx = new Int32Array(setup.inIdx);
    this.inVal = new Float32Array(setup.inVal);
    this.part = e.partition(0, 2);
    this.sentVersion = -1;
    this.port.postMessage(setup);
    this.start(CONFIG);
    this.sync(); // the worker has taken the new buffers
    this.key = key;
  }

  private start(cmd: number): void {
    Atomics.store(this.ctl, CMD, cmd);
    Atomics.add(this.ctl, JOB, 1);
    Atomics.notify(this.ctl, JOB);
  }

  /**
   * Q-values of one state (API layout into out). `params` is the parameter
   * snapshot the engine was set up with and `version` changes whenever it does.
   */
  forward(e: ConvEngine, key: string, params: Float32Array, version: number, input: Float32Array, out: Float32Array): Float32Array {
    if (this.broken) throw new Error(`forward thread failed: ${this.broken}`);
    if (key !== this.key) this.configure(e, key, params.length);
    if (version !== this.sentVersion) {
      this.params.set(params);
      Atomics.add(this.ctl, PVER, 1);
      this.sentVersion = version;
    }
    const idx = this.inIdx, val = this.inVal;
    const nnz = gatherNonzeros(input, idx, val);
    Atomics.store(this.ctl, NNZ, nnz);
    this.start(FORWARD);
    e.forwardPart(idx, val, nnz, this.part!, this.sh!, this.sync);
    this.sync(); // the worker's rows of Q are written
    out.set(this.sh!.out);
    return out;
  }

  async close(): Promise<void> {
    if (!this.broken) this.start(EXIT);
    this.broken = 'closed';
    await this.worker.terminate();
  }
}
