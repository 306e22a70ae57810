import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QNetwork, type QNetworkSpec, type GridShape } from '../../src/nn/network.js';
import { Trainer, type TrainSample } from '../../src/nn/train.js';
import { ConvEngine } from '../../src/nn/engine.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { refForward, refGradient } from './reference.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < b.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < b.length; i++) s = Math.max(s, Math.abs(b[i]));
  const d = maxAbsDiff(a, b);
  return s === 0 ? d : d / s;
}

function randomState(rng: Rng, S: number, shape: GridShape, atoms: number): Float32Array {
  const N = shape.n0 * shape.n1;
  const x = new Float32Array(S * N);
  const used = new Set<number>();
  while (used.size < Math.min(atoms, N)) used.add(rng.int(N));
  for (const p of used) x[rng.int(S) * N + p] = 1;
  return x;
}

function makeNet(spec: QNetworkSpec, seed: number): QNetwork {
  const rng = new Rng(seed);
  const net = QNetwork.create(spec, rng);
  for (let l = 0; l < net.depth; l++) {
    const b = net.kernelView(l).bias;
    if (b) for (let i = 0; i < b.length; i++) b[i] = 0.2 * (rng.next() - 0.5);
  }
  return net;
}

interface Case { name: string; spec: QNetworkSpec; shape: GridShape }
const cases: Case[] = [
  { name: 'periodic prime 11x29 (Rader) S=1', spec: { species: 1, filters: [4, 3], kernel: [5, 5], bias: true, leakySlope: 0.2 }, shape: { n0: 11, n1: 29, periodic: [true, true] } },
  { name: 'non-periodic 13x10 S=3, odd channel counts', spec: { species: 3, filters: [5, 3, 4], kernel: [5, 3], bias: true, leakySlope: 0.2 }, shape: { n0: 13, n1: 10, periodic: [false, false] } },
  { name: 'mixed 9x16 S=2 no bias', spec: { species: 2, filters: [3, 3], kernel: [3, 7], bias: false, leakySlope: 0.1 }, shape: { n0: 9, n1: 16, periodic: [true, false] } },
  { name: 'kernel wider than a periodic grid 4x5', spec: { species: 2, filters: [2, 2], kernel: [7, 9], bias: true, leakySlope: 0.2 }, shape: { n0: 4, n1: 5, periodic: [true, true] } },
  { name: 'both axes prime > 23 (Rader rows on both axes) 29x31 periodic', spec: { species: 2, filters: [3, 2], kernel: [3, 5], bias: true, leakySlope: 0.2 }, shape: { n0: 29, n1: 31, periodic: [true, true] } },
  { name: 'grid of 2 rows (one per thread) 2x12 non-periodic', spec: { species: 1, filters: [3], kernel: [3, 3], bias: true, leakySlope: 0.2 }, shape: { n0: 2, n1: 12, periodic: [false, false] } },
];

test('layer 0 by scattering kernels at the atoms equals the dense convolution, also for dense non-binary inputs', () => {
  for (const c of cases) {
    const net = makeNet(c.spec, 3);
    const rng = new Rng(9);
    const N = c.shape.n0 * c.shape.n1;
    // half the grid points occupied, values not 1, several species on one point
    const x = new Float32Array(c.spec.species * N);
    for (let i = 0; i < x.length; i++) if (rng.next() < 0.5) x[i] = 0.25 + rng.next();
    const ref = refForward(c.spec, net.params, x, c.shape);
    const acts = net.activations(x, c.shape);
    assert.ok(relErr(acts.layers[0], ref[0]) <= 1e-5, `${c.name}: layer 0 rel err ${relErr(acts.layers[0], ref[0])}`);
    const last = acts.layers.length - 1;
    assert.ok(relErr(acts.layers[last], ref[last]) <= 1e-5, `${c.name}: Q rel err`);
  }
});

test('a forward part restricted to rows equals the full layer 0 on those rows', () => {
  const c = cases[1];
  const net = makeNet(c.spec, 4);
  const e = new ConvEngine(net.spec, c.shape);
  e.setParams(net.params.slice(), true);
  const x = randomState(new Rng(2), c.spec.species, c.shape, 30);
  const idx: number[] = [], val: number[] = [];
  x.forEach((v, i) => {
    if (v !== 0) {
      idx.push(i);
      val.push(v);
    }
  });
  const C = c.spec.filters[0], N = e.N;
  const full = new Float64Array(C * N), part = new Float64Array(C * N).fill(NaN);
  e.layer0(Int32Array.from(idx), Float32Array.from(val), idx.length, full);
  const p1 = e.partition(1, 2);
  e.layer0(Int32Array.from(idx), Float32Array.from(val), idx.length, part, p1.ib0, p1.ib1);
  for (let o = 0; o < C; o++)
    for (let ia = 0; ia < e.na; ia++)
      for (let ib = 0; ib < e.nb; ib++) {
        const i = o * N + ia * e.nb + ib;
        if (ib >= p1.ib0 && ib < p1.ib1) assert.equal(part[i], full[i]);
        else assert.ok(Number.isNaN(part[i]), 'rows of the other part are not touched');
      }
});

test('partition: rows split in two, frequency sets disjoint, covering and closed under negation', () => {
  for (const c of cases) {
    const e = new ConvEngine(c.spec, c.shape);
    const parts = [e.partition(0, 2), e.partition(1, 2)];
    assert.equal(parts[0].ib0, 0);
    assert.equal(parts[0].ib1, parts[1].ib0);
    assert.equal(parts[1].ib1, e.nb);
    assert.equal(parts[1].tEnd, e.Mb);
    const owner = new Int8Array(e.Ma).fill(-1);
    parts.forEach((p, k) => {
      for (let r = 0; r < p.kaRuns.length; r += 2)
        for (let ka = p.kaRuns[r]; ka < p.kaRuns[r + 1]; ka++) {
          assert.equal(owner[ka], -1);
          owner[ka] = k;
        }
    });
    for (let ka = 0; ka < e.Ma; ka++) {
      assert.notEqual(owner[ka], -1);
      assert.equal(owner[ka], owner[(e.Ma - ka) % e.Ma]);
    }
  }
});

test('two-thread forward equals the single-thread forward within 1e-6, on several grids and after parameter changes', async () => {
  for (const c of cases) {
    const net = makeNet(c.spec, 21);
    const single = net.clone();
    net.setForwardThreads(2, { minGridPoints: 0 });
    assert.equal(net.forwardThreads, 2);
    try {
      const rng = new Rng(8);
      for (let k = 0; k < 3; k++) {
        const x = randomState(rng, c.spec.species, c.shape, 3 + 4 * k);
        const out = new Float32Array(x.length);
        const q2 = net.forward(x, c.shape, out);
        assert.equal(q2, out);
        const q1 = single.forward(x, c.shape);
        assert.ok(maxAbsDiff(q2, q1) <= 1e-6, `${c.name}: diff ${maxAbsDiff(q2, q1)}`);
        const ref = refForward(c.spec, net.params, x, c.shape);
        assert.ok(relErr(q2, ref[ref.length - 1]) <= 1e-5, `${c.name}: vs direct convolution`);
        // change the parameters in place: both threads must use the new ones
        for (let i = 0; i < net.params.length; i += 7) net.params[i] *= 0.9;
        single.params.set(net.params);
      }
    } finally {
      await net.close();
    }
    assert.equal(net.forwardThreads, 1);
  }
});

test('two-thread forward follows shape changes back and forth, and falls back to one thread below minGridPoints', async () => {
  const spec: QNetworkSpec = { species: 2, filters: [3, 3], kernel: [3, 5], bias: true, leakySlope: 0.2 };
  const net = makeNet(spec, 5);
  const single = net.clone();
  net.setForwardThreads(2, { minGridPoints: 50 });
  const shapes: GridShape[] = [
    { n0: 10, n1: 12, periodic: [true, true] },
    { n0: 9, n1: 7, periodic: [false, true] },
    { n0: 4, n1: 5, periodic: [true, false] }, // 20 points: this thread only
  ];
  try {
    const rng = new Rng(4);
    for (const s of [0, 1, 0, 2, 1]) {
      const x = randomState(rng, 2, shapes[s], 6);
      assert.ok(maxAbsDiff(net.forward(x, shapes[s]), single.forward(x, shapes[s])) <= 1e-6, `shape ${s}`);
    }
  } finally {
    await net.close();
  }
});

test('forward after a training step uses the new parameters (kernel-transform cache invalidated), on 1 and 2 threads', async () => {
  const c = cases[1];
  for (const threads of [1, 2]) {
    const net = makeNet(c.spec, 30);
    net.setForwardThreads(threads, { minGridPoints: 0 });
    const trainer = new Trainer(net, { learningRate: 0.05, threads });
    try {
      const rng = new Rng(12);
      const N = c.shape.n0 * c.shape.n1;
      const x = randomState(rng, c.spec.species, c.shape, 8);
      const before = net.forward(x, c.shape).slice();
      const samples: TrainSample[] = Array.from({ length: 6 }, () => {
        const cell = rng.int(c.spec.species * N);
        return { input: randomState(rng, c.spec.species, c.shape, 8), cells: Int32Array.of(cell), weights: Float32Array.of(1), target: 0.9 };
      });
      await trainer.step(samples, c.shape);
      const after = net.forward(x, c.shape);
      const fresh = QNetwork.deserialize(net.serialize()).forward(x, c.shape);
      assert.ok(maxAbsDiff(after, before) > 1e-4, 'the step changed the Q-values');
      assert.ok(maxAbsDiff(after, fresh) <= 1e-6, `threads=${threads}: forward after the step equals a fresh network's`);
      // replacing the parameter vector is seen too
      net.params = QNetwork.create(c.spec, new Rng(99)).params;
      assert.ok(maxAbsDiff(net.forward(x, c.shape), QNetwork.deserialize(net.serialize()).forward(x, c.shape)) <= 1e-6);
    } finally {
      await trainer.close();
      await net.close();
    }
  }
});

test('setForwardThreads rejects a bad thread count', () => {
  const net = makeNet(cases[0].spec, 1);
  assert.throws(() => net.setForwardThreads(0), InputError);
  assert.throws(() => net.setForwardThreads(1.5), InputError);
});

test('adaptive two-thread forward (default) gives the single-thread Q-values on every call, whichever mode it picks', async () => {
  const c = cases[0];
  const net = makeNet(c.spec, 40);
  const single = net.clone();
  net.setForwardThreads(2, { minGridPoints: 0 });
  try {
    const rng = new Rng(41);
    const x = randomState(rng, 1, c.shape, 10);
    const q1 = single.forward(x, c.shape);
    const out = new Float32Array(x.length);
    for (let k = 0; k < 110; k++) assert.ok(maxAbsDiff(net.forward(x, c.shape, out), q1) <= 1e-6, `call ${k}`);
  } finally {
    await net.close();
  }
});

test('gradient with Rader transforms on both axes (rows in Rader order) equals direct back-propagation', () => {
  const c = cases.find((k) => k.name.startsWith('both axes prime'))!;
  const net = makeNet(c.spec, 50);
  const rng = new Rng(51);
  const N = c.shape.n0 * c.shape.n1;
  const samples: TrainSample[] = Array.from({ length: 3 }, () => {
    const a = rng.int(c.spec.species * N);
    return { input: randomState(rng, c.spec.species, c.shape, 6), cells: Int32Array.of(a, (a + 1) % (c.spec.species * N)), weights: Float32Array.of(1, 0.1), target: 0.3 };
  });
  const { grad } = new Trainer(net, { learningRate: 1e-3 }).lossAndGradient(samples, c.shape);
  const ref = refGradient(c.spec, net.params, samples, c.shape, 'eq2');
  assert.ok(relErr(grad, ref) <= 1e-5, `rel err ${relErr(grad, ref)}`);
});
