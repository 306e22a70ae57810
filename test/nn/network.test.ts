import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QNetwork, type QNetworkSpec, type GridShape } from '../../src/nn/network.js';
import { Trainer, type TrainSample, type LossForm } from '../../src/nn/train.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { refForward, refGradient, refLoss } from './reference.js';

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    s = Math.max(s, Math.abs(b[i]));
  }
  return s === 0 ? d : d / s;
}

/** A random one-hot state with `atoms` occupied points. */
function randomState(rng: Rng, S: number, shape: GridShape, atoms: number): Float32Array {
  const N = shape.n0 * shape.n1;
  const x = new Float32Array(S * N);
  const used = new Set<number>();
  while (used.size < Math.min(atoms, N)) used.add(rng.int(N));
  for (const p of used) x[rng.int(S) * N + p] = 1;
  return x;
}

/** Action cell plus spillover neighbours (some may fall off a non-periodic edge: then skipped). */
function randomSample(rng: Rng, S: number, shape: GridShape, atoms: number): TrainSample {
  const N = shape.n0 * shape.n1;
  const c = rng.int(S), x0 = rng.int(shape.n0), x1 = rng.int(shape.n1);
  const cells = [c * N + x0 * shape.n1 + x1];
  const weights = [1];
  for (const [d0, d1] of [[0, 1], [1, 0]]) {
    let y0 = x0 + d0, y1 = x1 + d1;
    if (y0 >= shape.n0) y0 = shape.periodic[0] ? 0 : -1;
    if (y1 >= shape.n1) y1 = shape.periodic[1] ? 0 : -1;
    if (y0 < 0 || y1 < 0) continue;
    cells.push(c * N + y0 * shape.n1 + y1);
    weights.push(0.1);
  }
  return { input: randomState(rng, S, shape, atoms), cells: Int32Array.from(cells), weights: Float32Array.from(weights), target: 2 * rng.next() - 1 };
}

interface Case { name: string; spec: QNetworkSpec; shape: GridShape }
const cases: Case[] = [
  { name: 'periodic 6x7 S=1 bias', spec: { species: 1, filters: [3, 4], kernel: [3, 3], bias: true, leakySlope: 0.2 }, shape: { n0: 6, n1: 7, periodic: [true, true] } },
  { name: 'non-periodic 7x5 S=2 no bias, 5x3 kernel', spec: { species: 2, filters: [3, 2, 3], kernel: [5, 3], bias: false, leakySlope: 0.2 }, shape: { n0: 7, n1: 5, periodic: [false, false] } },
  { name: 'mixed 8x6 S=3 bias, 3x5 kernel', spec: { species: 3, filters: [4, 3], kernel: [3, 5], bias: true, leakySlope: 0.1 }, shape: { n0: 8, n1: 6, periodic: [true, false] } },
  { name: 'mixed 5x9 S=2 no bias, 3x7 kernel', spec: { species: 2, filters: [2, 3], kernel: [3, 7], bias: false, leakySlope: 0.2 }, shape: { n0: 5, n1: 9, periodic: [false, true] } },
  { name: 'prime periodic 4x29 (Rader) S=1 bias', spec: { species: 1, filters: [3, 3], kernel: [3, 5], bias: true, leakySlope: 0.2 }, shape: { n0: 4, n1: 29, periodic: [true, true] } },
  { name: 'kernel wider than a periodic grid 3x4', spec: { species: 2, filters: [2, 2], kernel: [5, 7], bias: true, leakySlope: 0.2 }, shape: { n0: 3, n1: 4, periodic: [true, true] } },
  { name: 'wide layers (plain-loop products), periodic 5x5', spec: { species: 1, filters: [21, 20], kernel: [3, 3], bias: true, leakySlope: 0.2 }, shape: { n0: 5, n1: 5, periodic: [true, true] } },
  { name: 'single hidden layer, non-periodic 4x4', spec: { species: 1, filters: [3], kernel: [3, 3], bias: true, leakySlope: 0.2 }, shape: { n0: 4, n1: 4, periodic: [false, false] } },
];

/** Random biases too, so that bias paths are exercised (create() zeroes them). */
function makeNet(spec: QNetworkSpec, seed: number): QNetwork {
  const rng = new Rng(seed);
  const net = QNetwork.create(spec, rng);
  for (let l = 0; l < net.depth; l++) {
    const b = net.kernelView(l).bias;
    if (b) for (let i = 0; i < b.length; i++) b[i] = 0.2 * (rng.next() - 0.5);
  }
  return net;
}

for (const c of cases) {
  test(`forward and activations equal direct convolution: ${c.name}`, () => {
    const net = makeNet(c.spec, 11);
    const rng = new Rng(5);
    const x = randomState(rng, c.spec.species, c.shape, 5);
    const ref = refForward(c.spec, net.params, x, c.shape);
    const q = net.forward(x, c.shape);
    assert.ok(relErr(q, ref[ref.length - 1]) <= 1e-5, `Q rel err ${relErr(q, ref[ref.length - 1])}`);
    const acts = net.activations(x, c.shape);
    assert.equal(acts.layers.length, ref.length);
    acts.layers.forEach((a, l) => assert.ok(relErr(a, ref[l]) <= 1e-5, `layer ${l} rel err ${relErr(a, ref[l])}`));
    for (const v of q) assert.ok(v >= -1 && v <= 1);
  });

  for (const form of ['eq2', 'sum-of-squares', 'cross-entropy'] as LossForm[]) {
    test(`loss and every parameter gradient equal direct back-propagation (${form}): ${c.name}`, () => {
      const net = makeNet(c.spec, 12);
      const rng = new Rng(6);
      const samples = Array.from({ length: 4 }, () => randomSample(rng, c.spec.species, c.shape, 4));
      const tr = new Trainer(net, { learningRate: 1e-3, lossForm: form });
      const { loss, grad } = tr.lossAndGradient(samples, c.shape);
      const refL = refLoss(c.spec, net.params, samples, c.shape, form);
      assert.ok(Math.abs(loss - refL) <= 1e-5 * Math.abs(refL) + 1e-12, `loss ${loss} vs ${refL}`);
      const refG = refGradient(c.spec, net.params, samples, c.shape, form);
      // per layer: weights and biases separately
      let off = 0;
      for (let l = 0; l < net.depth; l++) {
        const kv = net.kernelView(l);
        const nw = kv.weights.length;
        assert.ok(relErr(grad.subarray(off, off + nw), refG.subarray(off, off + nw)) <= 1e-5, `layer ${l} weight grad rel err ${relErr(grad.subarray(off, off + nw), refG.subarray(off, off + nw))}`);
        off += nw;
        if (kv.bias) {
          assert.ok(relErr(grad.subarray(off, off + kv.cout), refG.subarray(off, off + kv.cout)) <= 1e-5, `layer ${l} bias grad`);
          off += kv.cout;
        }
      }
      assert.equal(off, grad.length);
    });
  }
}

for (const form of ['eq2', 'cross-entropy'] as LossForm[]) {
  test(`reference gradient agrees with central finite differences (float64, ${form})`, () => {
    const c = cases[2];
    const net = makeNet(c.spec, 13);
    const rng = new Rng(7);
    const samples = Array.from({ length: 3 }, () => randomSample(rng, c.spec.species, c.shape, 5));
    const p = Float64Array.from(net.params);
    const g = refGradient(c.spec, p, samples, c.shape, form);
    const tr = new Trainer(net, { learningRate: 1e-3, lossForm: form });
    const eg = tr.lossAndGradient(samples, c.shape).grad;
    const h = 1e-6;
    for (let k = 0; k < 25; k++) {
      const i = rng.int(p.length);
      const save = p[i];
      p[i] = save + h;
      const jp = refLoss(c.spec, p, samples, c.shape, form);
      p[i] = save - h;
      const jm = refLoss(c.spec, p, samples, c.shape, form);
      p[i] = save;
      const fd = (jp - jm) / (2 * h);
      const scale = Math.max(...Array.from(g, Math.abs));
      assert.ok(Math.abs(fd - g[i]) <= 1e-6 * scale + 1e-9, `param ${i}: fd ${fd} vs backprop ${g[i]}`);
      assert.ok(Math.abs(fd - eg[i]) <= 1e-5 * scale, `param ${i}: fd ${fd} vs engine ${eg[i]}`);
    }
  });
}

test('cross-entropy loss still learns where the tanh output is saturated on the wrong side; eq. 2 does not', () => {
  const c = cases[2];
  const net = makeNet(c.spec, 14);
  // a large negative output bias drives every Q to −1 (tanh(−40) rounds to −1 in float64)
  const last = net.kernelView(net.depth - 1);
  assert.ok(last.bias, 'test network has biases');
  last.bias.fill(-40);
  const rng = new Rng(8);
  const samples = Array.from({ length: 2 }, () => ({ ...randomSample(rng, c.spec.species, c.shape, 4), target: 1 }));
  const gradNorm = (form: LossForm) => {
    const { loss, grad } = new Trainer(net, { learningRate: 1e-3, lossForm: form }).lossAndGradient(samples, c.shape);
    return { loss, norm: Math.hypot(...grad) };
  };
  const eq2 = gradNorm('eq2');
  const ce = gradNorm('cross-entropy');
  assert.ok(eq2.loss > 1, `eq2 loss ${eq2.loss}`);
  assert.equal(eq2.norm, 0);
  // ℓ = 2 ln(2/(1+Q)) ≈ 2·(80 + ln 2)·Σw per sample at z = −40: finite, from softplus
  assert.ok(Number.isFinite(ce.loss) && ce.loss > 100, `cross-entropy loss ${ce.loss}`);
  assert.ok(ce.norm > 1, `cross-entropy gradient norm ${ce.norm}`);
});
