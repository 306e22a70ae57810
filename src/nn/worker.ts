/**
 * Training worker thread (started by Trainer from dist/src/nn/worker.js):
 * computes the loss and gradient of its share of a batch with the parameters
 * found in the shared buffer, and sends the partial gradient back.
 */
import { parentPort } from 'node:worker_threads';
import type { GridShape, LossForm, QNetworkSpec } from './engine.js';
import { EngineCache, unpackSamples, type PackedSamples } from './train.js';

interface StepMessage {
  type: 'step';
  id: number;
  spec: QNetworkSpec;
  shape: GridShape;
  samples: PackedSamples;
  lossForm: LossForm;
  scale: number;
}

let shared: Float32Array | null = null;
let cacheSpec = '';
let engines = new EngineCache();

parentPort!.on('message', (msg: { type: 'params'; buffer: SharedArrayBuffer } | StepMessage) => {
  if (msg.type === 'params') {
    shared = new Float32Array(msg.buffer);
    return;
  }
  try {
    const specKey = JSON.stringify(msg.spec);
    if (specKey !== cacheSpec) {
      engines = new EngineCache();
      cacheSpec = specKey;
    }
    const e = engines.get({ spec: msg.spec }, msg.shape);
    e.setParams(shared!.slice(), false);
    const grad = new Float64Array(shared!.length);
    const samples = unpackSamples(msg.samples);
    const loss = e.lossAndGradient(samples, 0, samples.length, msg.lossForm, msg.scale, grad);
    parentPort!.postMessage({ id: msg.id, loss, grad }, [grad.buffer]);
  } catch (err) {
    parentPort!.postMessage({ id: msg.id, loss: NaN, grad: new Float64Array(0), error: String((err as Error)?.stack ?? err) });
  }
});
