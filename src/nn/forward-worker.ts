/**
 * The second thread of a two-thread forward pass (started by ForwardThreads
 * from dist/src/nn/forward-worker.js). It blocks on the control array, not on
 * messages: the main thread is itself blocked in Atomics.wait during a pass,
 * so every job is announced through shared memory, and the rare
 * configuration message (new grid shape) is read synchronously from a port.
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { ConvEngine, type ForwardPart, type ForwardShared, type QNetworkSpec } from './engine.js';
import { CMD, CONFIG, ERROR, EXIT, FORWARD, JOB, MAIN, NNZ, PVER, WORKER, sharedViews, waitFor, type SharedSetup } from './forward-threads.js';

const { ctl: ctlBuffer, port, spec } = workerData as { ctl: SharedArrayBuffer; port: MessagePort; spec: QNetworkSpec };
const ctl = new Int32Array(ctlBuffer);
let phase = 0;
const never = () => false;
function sync(): void {
  phase = (phase + 1) | 0;
  Atomics.store(ctl, WORKER, phase);
  Atomics.notify(ctl, WORKER);
  waitFor(ctl, MAIN, phase, never);
}

let engine: ConvEngine | null = null;
let part: ForwardPart | null = null;
let sh: ForwardShared | null = null;
let params: Float32Array<ArrayBufferLike> = new Float32Array(0);
let inIdx: Int32Array<ArrayBufferLike> = new Int32Array(0);
let inVal: Float32Array<ArrayBufferLike> = new Float32Array(0);
let version = -1;
const engines = new Map<string, ConvEngine>();

let seen = 0; // jobs may have been posted before this thread started: count from the beginning
for (;;) {
  waitFor(ctl, JOB, seen + 1, never, Infinity); // idle between jobs
  seen = (seen + 1) | 0;
  const cmd = Atomics.load(ctl, CMD);
  if (cmd === EXIT) break;
  try {
    if (cmd === CONFIG) {
      const setup = receiveMessageOnPort(port)!.message as SharedSetup;
      const key = JSON.stringify(setup.shape);
      let e = engines.get(key);
      if (!e) {
        e = new ConvEngine(spec, setup.shape);
        engines.set(key, e);
      }
      engine = e;
      part = e.partition(1, 2);
      sh = sharedViews(setup);
      params = new Float32Array(setup.params);
      inIdx = new Int32Array(setup.inIdx);
      inVal = new Float32Array(setup.inVal);
      version = -1;
      sync();
    } else if (cmd === FORWARD) {
      const v = Atomics.load(ctl, PVER);
      if (v !== version) {
        engine!.setParams(params.slice(), true);
        version = v;
      }
      engine!.forwardPart(inIdx, inVal, Atomics.load(ctl, NNZ), part!, sh!, sync);
      sync();
    }
  } catch (err) {
    port.postMessage({ error: String((err as Error)?.stack ?? err) });
    Atomics.store(ctl, ERROR, 1);
    Atomics.notify(ctl, WORKER);
    break;
  }
}
port.close();
