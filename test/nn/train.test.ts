import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QNetwork, type QNetworkSpec, type GridShape } from '../../src/nn/network.js';
import { Trainer, type TrainSample } from '../../src/nn/train.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

const spec: QNetworkSpec = { species: 2, filters: [4, 3], kernel: [5, 3], bias: true, leakySlope: 0.2 };
const shape: GridShape = { n0: 9, n1: 7, periodic: [true, false] };

function samples(rng: Rng, count: number, sh: GridShape, S: number): TrainSample[] {
  const N = sh.n0 * sh.n1;
  return Array.from({ length: count }, () => {
    const x = new Float32Array(S * N);
    for (let a = 0; a < 6; a++) x[rng.int(S) * N + rng.int(N)] = 1;
    const a = rng.int(S * N);
    const b = (a + 1) % (S * N);
    return { input: x, cells: Int32Array.of(a, b), weights: Float32Array.of(1, 0.1), target: 2 * rng.next() - 1 };
  });
}

test('Adam step equals a hand computation (Keras form, bias-corrected learning rate)', async () => {
  const net = QNetwork.create(spec, new Rng(1));
  const batch = samples(new Rng(2), 5, shape, 2);
  const opts = { learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-6 };
  const tr = new Trainer(net, opts);
  const p0 = Float64Array.from(net.params);
  const g1 = Float64Array.from(tr.lossAndGradient(batch, shape).grad);
  const loss1 = await tr.step(batch, shape);
  assert.ok(Number.isFinite(loss1));
  const p1 = Float64Array.from(net.params);
  const g2 = Float64Array.from(tr.lossAndGradient(batch, shape).grad);
  await tr.step(batch, shape);
  const m = new Float64Array(p0.length), v = new Float64Array(p0.length);
  const expect = Float64Array.from(p0);
  for (const [t, g] of [[1, g1], [2, g2]] as const) {
    const lrT = (opts.learningRate * Math.sqrt(1 - opts.beta2 ** t)) / (1 - opts.beta1 ** t);
    for (let i = 0; i < p0.length; i++) {
      m[i] = opts.beta1 * m[i] + (1 - opts.beta1) * g[i];
      v[i] = opts.beta2 * v[i] + (1 - opts.beta2) * g[i] * g[i];
      expect[i] -= (lrT * m[i]) / (Math.sqrt(v[i]) + opts.epsilon);
    }
    if (t === 1) for (let i = 0; i < p0.length; i++) assert.ok(Math.abs(p1[i] - expect[i]) <= 1e-6, `step 1 param ${i}`);
  }
  for (let i = 0; i < p0.length; i++) assert.ok(Math.abs(net.params[i] - expect[i]) <= 1e-6, `step 2 param ${i}`);
  const st = tr.state();
  assert.equal(st.t, 2);
  for (let i = 0; i < p0.length; i += 37) assert.ok(Math.abs(st.m[i] - m[i]) <= 1e-6 * (Math.abs(m[i]) + 1e-3));
  // setState restores: a fresh trainer continues identically
  const net2 = net.clone();
  const tr2 = new Trainer(net2, opts);
  tr2.setState(st);
  await tr.step(batch, shape);
  await tr2.step(batch, shape);
  assert.deepEqual(net2.params, net.params);
  assert.throws(() => tr2.setState({ m: new Float32Array(3), v: new Float32Array(3), t: 1 }), InputError);
});

test('training lowers the loss on a fixed batch', async () => {
  const net = QNetwork.create(spec, new Rng(3));
  const batch = samples(new Rng(4), 8, shape, 2);
  const tr = new Trainer(net, { learningRate: 0.01 });
  const first = await tr.step(batch, shape);
  let last = first;
  for (let i = 0; i < 40; i++) last = await tr.step(batch, shape);
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
});

test('threads=2 gives the same steps as threads=1 (worker threads)', async () => {
  const a = QNetwork.create(spec, new Rng(5));
  const b = a.clone();
  const t1 = new Trainer(a, { learningRate: 0.01, threads: 1 });
  const t2 = new Trainer(b, { learningRate: 0.01, threads: 2 });
  try {
    const rng = new Rng(6);
    for (let s = 0; s < 3; s++) {
      const batch = samples(rng, 7, shape, 2);
      const g1 = t1.lossAndGradient(batch, shape).grad;
      const l1 = await t1.step(batch, shape);
      const l2 = await t2.step(batch, shape);
      assert.ok(Math.abs(l1 - l2) <= 1e-6 * Math.abs(l1), `loss ${l1} vs ${l2}`);
      let d = 0;
      for (let i = 0; i < a.params.length; i++) d = Math.max(d, Math.abs(a.params[i] - b.params[i]));
      assert.ok(d <= 1e-6, `params differ by ${d} after step ${s}`);
      void g1;
    }
    // a second grid shape through the same workers
    const other: GridShape = { n0: 6, n1: 8, periodic: [false, false] };
    const batch = samples(rng, 5, other, 2);
    const l1 = await t1.step(batch, other);
    const l2 = await t2.step(batch, other);
    assert.ok(Math.abs(l1 - l2) <= 1e-6 * Math.abs(l1));
  } finally {
    await t2.close();
  }
});

test('the same network runs on two grid sizes (transfer), with per-grid results matching a fresh copy', () => {
  const net = QNetwork.create(spec, new Rng(7));
  const rng = new Rng(8);
  const s1: GridShape = { n0: 9, n1: 7, periodic: [true, false] };
  const s2: GridShape = { n0: 13, n1: 11, periodic: [true, true] };
  const x1 = samples(rng, 1, s1, 2)[0].input, x2 = samples(rng, 1, s2, 2)[0].input;
  const q1 = net.forward(x1, s1);
  const q2 = net.forward(x2, s2);
  assert.equal(q1.length, 2 * 63);
  assert.equal(q2.length, 2 * 143);
  assert.deepEqual(net.forward(x1, s1), q1); // cached engine, same result
  assert.deepEqual(net.clone().forward(x2, s2), q2);
  // in-place parameter change is picked up by the cached engine
  net.params[0] += 0.5;
  const q1b = net.forward(x1, s1);
  assert.notDeepEqual(q1b, q1);
});

test('serialize / deserialize round trip, and clear errors on mismatch', () => {
  const net = QNetwork.create({ ...spec, bias: false }, new Rng(9));
  const obj = JSON.parse(JSON.stringify(net.serialize()));
  assert.equal(obj.format, 'asla-qnetwork');
  assert.equal(obj.version, 1);
  const back = QNetwork.deserialize(obj);
  assert.deepEqual(back.spec, net.spec);
  assert.deepEqual(back.params, net.params);
  const x = samples(new Rng(10), 1, shape, 2)[0].input;
  assert.deepEqual(back.forward(x, shape), net.forward(x, shape));
  assert.throws(() => QNetwork.deserialize({ ...obj, format: 'other' }), /format/);
  assert.throws(() => QNetwork.deserialize({ ...obj, version: 2 }), /version/);
  assert.throws(() => QNetwork.deserialize({ ...obj, spec: { ...obj.spec, filters: [4, 4] } }), /params.*spec needs/);
  assert.throws(() => QNetwork.deserialize({ ...obj, spec: { ...obj.spec, kernel: [4, 3] } }), /kernel/);
  assert.throws(() => QNetwork.deserialize(null), InputError);
});

test('initialisation is Glorot-uniform with zero biases, and seeded', () => {
  const big: QNetworkSpec = { species: 1, filters: [10, 10, 10], kernel: [15, 15], bias: true, leakySlope: 0.2 };
  const a = QNetwork.create(big, new Rng(11));
  const b = QNetwork.create(big, new Rng(11));
  assert.deepEqual(a.params, b.params);
  const kv = a.kernelView(1);
  const lim = Math.sqrt(6 / (225 * 10 + 225 * 10));
  let max = 0, sumsq = 0;
  for (const w of kv.weights) {
    max = Math.max(max, Math.abs(w));
    sumsq += w * w;
  }
  assert.ok(max <= lim && max > 0.98 * lim);
  assert.ok(Math.abs(sumsq / kv.weights.length - (lim * lim) / 3) < 0.05 * (lim * lim) / 3);
  assert.ok(kv.bias!.every((x) => x === 0));
  assert.equal(kv.cin, 10);
  assert.equal(kv.cout, 10);
  assert.throws(() => QNetwork.create({ ...big, kernel: [14, 15] }, new Rng(1)), InputError);
});
