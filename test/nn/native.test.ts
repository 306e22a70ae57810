import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QNetwork, type QNetworkSpec, type GridShape } from '../../src/nn/network.js';
import { Trainer, type TrainSample } from '../../src/nn/train.js';
import { kernelsInUse, nativeKernels, useNativeKernels } from '../../src/nn/native.js';
import { productKernel } from '../../src/nn/products.js';
import { ConvEngine } from '../../src/nn/engine.js';
import { planFFT, StockhamFFT } from '../../src/nn/fft.js';
import { Rng } from '../../src/util/rng.js';

// The native product kernels are optional on a user's machine (no C compiler:
// the TypeScript ones run); CI sets ASLA_REQUIRE_NATIVE=1 so they never skip there.
const native = nativeKernels();
const required = process.env.ASLA_REQUIRE_NATIVE === '1';
if (!native && !required) console.log(`# SKIP native kernel tests: ${kernelsInUse()}`);
const skip = !native && !required ? 'native kernels not built' : false;

function rand(rng: Rng, n: number, T: Float32ArrayConstructor | Float64ArrayConstructor): Float32Array | Float64Array {
  const a = new T(n);
  for (let i = 0; i < n; i++) a[i] = 2 * rng.next() - 1;
  return a;
}

/** [q][f] -> [f][q] (the TypeScript kernels' layout). */
function freqMajor<A extends Float32Array | Float64Array>(a: A, Q: number, F: number): A {
  const o = new (a.constructor as new (n: number) => A)(a.length);
  for (let q = 0; q < Q; q++) for (let f = 0; f < F; f++) o[f * Q + q] = a[q * F + f];
  return o;
}

test('native build is present where it is required', { skip }, () => {
  assert.ok(native, `ASLA_REQUIRE_NATIVE=1 but ${kernelsInUse()}`);
  assert.match(kernelsInUse(), /^native (avx2|generic)$/);
});

test('native products equal the TypeScript ones bit for bit (forward, backward, gradient; frequency ranges)', { skip }, () => {
  const nat = native!;
  const rng = new Rng(5);
  for (const [cin, cout, F] of [[10, 10, 263], [3, 10, 97], [10, 1, 130], [1, 4, 7]] as const) {
    const Q = cin * cout;
    const kr = rand(rng, Q * F, Float32Array) as Float32Array, ki = rand(rng, Q * F, Float32Array) as Float32Array;
    const krT = freqMajor(kr, Q, F), kiT = freqMajor(ki, Q, F);
    for (const kind of ['forward', 'backward'] as const) {
      const inC = kind === 'forward' ? cin : cout, outC = kind === 'forward' ? cout : cin;
      const aRe = rand(rng, inC * F, Float64Array) as Float64Array, aIm = rand(rng, inC * F, Float64Array) as Float64Array;
      const ts = [new Float64Array(outC * F), new Float64Array(outC * F)];
      const nt = [new Float64Array(outC * F).fill(NaN), new Float64Array(outC * F).fill(NaN)];
      productKernel(kind, cin, cout)(krT, kiT, aRe, aIm, ts[0], ts[1], F);
      // in two frequency ranges, as the threaded forward pass calls it
      const mid = F >> 1;
      nat[kind](kr, ki, aRe, aIm, nt[0], nt[1], F, cin, cout, 0, mid);
      nat[kind](kr, ki, aRe, aIm, nt[0], nt[1], F, cin, cout, mid, F);
      assert.deepEqual(nt, ts, `${kind} ${cin}x${cout} F=${F}`);
    }
    // gradient accumulation: G += conj(DZ) S, twice
    const dzRe = rand(rng, cout * F, Float64Array) as Float64Array, dzIm = rand(rng, cout * F, Float64Array) as Float64Array;
    const sRe = rand(rng, cin * F, Float64Array) as Float64Array, sIm = rand(rng, cin * F, Float64Array) as Float64Array;
    const g0r = rand(rng, Q * F, Float64Array) as Float64Array, g0i = rand(rng, Q * F, Float64Array) as Float64Array;
    const gtr = freqMajor(g0r, Q, F), gti = freqMajor(g0i, Q, F);
    const gnr = Float64Array.from(g0r), gni = Float64Array.from(g0i);
    for (let k = 0; k < 2; k++) {
      productKernel('grad', cin, cout)(gtr, gti, dzRe, dzIm, sRe, sIm, F);
      nat.grad(gnr, gni, dzRe, dzIm, sRe, sIm, F, cin, cout, 0, F);
    }
    assert.deepEqual([freqMajor(gnr, Q, F), freqMajor(gni, Q, F)], [gtr, gti], `grad ${cin}x${cout}`);
  }
});

test('native products refuse wrong arrays and sizes', { skip }, () => {
  const nat = native!;
  const f32 = new Float32Array(400), f64 = new Float64Array(400);
  assert.throws(() => nat.forward(f64, f64, f64, f64, f64, f64, 4, 10, 10, 0, 4), /wrong array type/);
  assert.throws(() => nat.forward(f32, f32, f64, f64, f64, f64, 5, 10, 10, 0, 5), /shorter/);
  assert.throws(() => nat.forward(f32, f32, f64, f64, f64, f64, 4, 10, 10, 3, 5), /bad sizes/);
  // a transform of 12 = 4 x 3 over V = 8 vectors
  const plan = (planFFT(12) as StockhamFFT).nativePlan!;
  const a = () => new Float64Array(12 * 8);
  assert.throws(() => nat.fft(...plan, a(), a(), a(), a(), 8, Int32Array.of(0, 9), -1), /runs outside/);
  assert.throws(() => nat.fft(...plan, a(), a(), a(), new Float64Array(12 * 7), 8, Int32Array.of(0, 8), -1), /shorter/);
  assert.throws(() => nat.fft(Int32Array.of(4, 1, 3, 0, -1, 3, 5, 1, 0, -1), ...plan.slice(1) as [Float64Array, Float64Array, Float64Array, Float64Array], a(), a(), a(), a(), 8, Int32Array.of(0, 8), -1), /inconsistent stage/);
  assert.equal(typeof nat.fft(...plan, a(), a(), a(), a(), 8, Int32Array.of(0, 8), -1), 'boolean');
});

function randomState(rng: Rng, S: number, shape: GridShape, atoms: number): Float32Array {
  const N = shape.n0 * shape.n1;
  const x = new Float32Array(S * N);
  for (let a = 0; a < atoms; a++) x[rng.int(S) * N + rng.int(N)] = 1;
  return x;
}

test('a network gives the same Q-values, gradients and training steps with native and TypeScript kernels, bit for bit', { skip }, async () => {
  const spec: QNetworkSpec = { species: 2, filters: [10, 10, 10], kernel: [9, 7], bias: true, leakySlope: 0.2 };
  // Stockham axes; a prime periodic axis (Rader, as graphene's 42 x 37); a
  // Bluestein axis (2 x 29), whose transforms stay in TypeScript
  for (const [shape, nativeTransforms] of [
    [{ n0: 30, n1: 25, periodic: [true, false] }, true],
    [{ n0: 21, n1: 18, periodic: [true, true] }, true],
    [{ n0: 42, n1: 37, periodic: [true, true] }, true],
    [{ n0: 58, n1: 11, periodic: [true, false] }, false],
  ] as [GridShape, boolean][]) {
    assert.equal(new ConvEngine(spec, shape).nativeTransforms, nativeTransforms, `native 2-D transforms on ${shape.n0}x${shape.n1}`);
    const rng = new Rng(11);
    const states = Array.from({ length: 4 }, () => randomState(rng, 2, shape, 12));
    const N = shape.n0 * shape.n1;
    const batch: TrainSample[] = states.map((input) => {
      const a = rng.int(2 * N);
      return { input, cells: Int32Array.of(a, (a + 1) % (2 * N)), weights: Float32Array.of(1, 0.1), target: 2 * rng.next() - 1 };
    });
    const results: { q: Float32Array[]; grad: Float32Array; q2: Float32Array; params: Float32Array; q3: Float32Array }[] = [];
    for (const on of [true, false]) {
      useNativeKernels(on);
      try {
        const net = QNetwork.create(spec, new Rng(3));
        const q = states.map((s) => Float32Array.from(net.forward(s, shape)));
        const tr = new Trainer(net, { learningRate: 1e-3 });
        const { grad } = tr.lossAndGradient(batch, shape);
        // two threads split the forward pass by frequency ranges
        net.setForwardThreads(2, { minGridPoints: 0, adaptive: false });
        const q2 = Float32Array.from(net.forward(states[0], shape));
        net.setForwardThreads(1);
        await tr.step(batch, shape);
        await tr.step(batch, shape);
        const params = Float32Array.from(net.params);
        const q3 = Float32Array.from(net.forward(states[1], shape));
        await net.close();
        await tr.close();
        results.push({ q, grad, q2, params, q3 });
      } finally {
        useNativeKernels(true);
      }
    }
    const [a, b] = results;
    const where = `${shape.n0}x${shape.n1}`;
    for (let i = 0; i < states.length; i++) assert.deepEqual(a.q[i], b.q[i], `Q-values, state ${i}, ${where}`);
    assert.deepEqual(a.q2, a.q[0], `Q-values on two threads equal one thread's, ${where}`);
    assert.deepEqual(a.q2, b.q2, `Q-values, two threads, ${where}`);
    assert.deepEqual(a.grad, b.grad, `gradient, ${where}`);
    assert.deepEqual(a.params, b.params, `parameters after two Adam steps, ${where}`);
    assert.deepEqual(a.q3, b.q3, `Q-values after training, ${where}`);
    assert.notDeepEqual(a.q3, a.q[1], 'training changed the network');
    let nonzero = 0;
    for (const g of a.grad) if (g !== 0) nonzero++;
    assert.ok(nonzero > a.grad.length / 2, 'the gradient reaches most parameters');
  }
});
