/**
 * Layer-wise relevance propagation (Methods eq. 3): conservation layer by
 * layer, agreement with a brute-force dense-matrix implementation written
 * here independently, normalisation, and refusal of networks with biases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QNetwork, type GridShape, type QNetworkSpec } from '../../src/nn/index.js';
import { relevancePropagation, relevanceOfAtoms, actionIndex } from '../../src/nn/relevance.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';

/** Dense matrix M[j][i] (cout·N × cin·N) of one convolution layer, summing the taps that land on the same input cell. */
function denseLayer(net: QNetwork, l: number, shape: GridShape): { M: Float64Array; rows: number; cols: number } {
  const { weights, cin, cout } = net.kernelView(l);
  const [k0, k1] = net.spec.kernel;
  const N = shape.n0 * shape.n1;
  const rows = cout * N, cols = cin * N;
  const M = new Float64Array(rows * cols);
  const wrap = (v: number, n: number, per: boolean) => (v >= 0 && v < n ? v : per ? ((v % n) + n) % n : -1);
  for (let o = 0; o < cout; o++)
    for (let j0 = 0; j0 < shape.n0; j0++)
      for (let j1 = 0; j1 < shape.n1; j1++)
        for (let c = 0; c < cin; c++)
          for (let t0 = 0; t0 < k0; t0++)
            for (let t1 = 0; t1 < k1; t1++) {
              const i0 = wrap(j0 + t0 - (k0 - 1) / 2, shape.n0, shape.periodic[0]);
              const i1 = wrap(j1 + t1 - (k1 - 1) / 2, shape.n1, shape.periodic[1]);
              if (i0 < 0 || i1 < 0) continue;
              M[(o * N + j0 * shape.n1 + j1) * cols + c * N + i0 * shape.n1 + i1] += weights[((o * cin + c) * k0 + t0) * k1 + t1];
            }
  return { M, rows, cols };
}

/** Brute force: forward with the dense matrices (float64), then eq. 3 for every pair (i, j). */
function bruteForce(net: QNetwork, input: Float32Array, shape: GridShape, action: number, tau: number) {
  const dense = Array.from({ length: net.depth }, (_, l) => denseLayer(net, l, shape));
  const acts = net.activations(input, shape).layers; // the engine's activations: the x_i of eq. 3
  // independent float64 forward, to check the activations themselves
  const mine: Float64Array[] = [];
  let a = Float64Array.from(input);
  dense.forEach(({ M, rows, cols }, l) => {
    const z = new Float64Array(rows);
    for (let j = 0; j < rows; j++) for (let i = 0; i < cols; i++) z[j] += M[j * cols + i] * a[i];
    const last = l === dense.length - 1;
    a = z.map((v) => (last ? Math.tanh(v) : v >= 0 ? v : net.spec.leakySlope * v));
    mine.push(a);
  });
  const R: Float64Array[] = new Array(net.depth + 1);
  R[net.depth] = new Float64Array(dense[net.depth - 1].rows);
  R[net.depth][action] = acts[net.depth - 1][action];
  for (let l = net.depth - 1; l >= 0; l--) {
    const { M, rows, cols } = dense[l];
    const x = l === 0 ? input : acts[l - 1];
    const r = new Float64Array(cols);
    for (let j = 0; j < rows; j++) {
      if (R[l + 1][j] === 0) continue;
      let z = 0;
      for (let i = 0; i < cols; i++) z += x[i] * M[j * cols + i];
      for (let i = 0; i < cols; i++) r[i] += (x[i] * M[j * cols + i] * R[l + 1][j]) / (z + (z >= 0 ? tau : -tau));
    }
    R[l] = r;
  }
  return { R, mine, acts };
}

function randomInput(rng: Rng, species: number, shape: GridShape, atoms: number): Float32Array {
  const x = new Float32Array(species * shape.n0 * shape.n1);
  for (let k = 0; k < atoms; k++) x[rng.int(x.length)] = 1;
  return x;
}

const CASES: { spec: QNetworkSpec; shape: GridShape; name: string }[] = [
  { name: '1 species, periodic both, 5×5 kernels', spec: { species: 1, filters: [3, 2], kernel: [5, 5], bias: false, leakySlope: 0.2 }, shape: { n0: 7, n1: 6, periodic: [true, true] } },
  { name: '2 species, periodic along a only (the edge/grain boundary case)', spec: { species: 2, filters: [3], kernel: [3, 5], bias: false, leakySlope: 0.2 }, shape: { n0: 6, n1: 7, periodic: [true, false] } },
  { name: 'kernel wider than a periodic axis (taps wrap onto the same cell)', spec: { species: 2, filters: [2, 2, 2], kernel: [5, 3], bias: false, leakySlope: 0.1 }, shape: { n0: 3, n1: 5, periodic: [true, false] } },
  { name: 'non-periodic', spec: { species: 1, filters: [4], kernel: [3, 3], bias: false, leakySlope: 0.2 }, shape: { n0: 5, n1: 5, periodic: [false, false] } },
];

test('relevance agrees with a brute-force dense implementation of eq. 3', () => {
  const rng = new Rng(11);
  for (const { spec, shape, name } of CASES) {
    const net = QNetwork.create(spec, rng);
    const N = shape.n0 * shape.n1;
    for (let trial = 0; trial < 3; trial++) {
      const input = randomInput(rng, spec.species, shape, 4);
      const action = rng.int(spec.species * N);
      for (const tau of [1e-9, 0.05]) {
        const got = relevancePropagation(net, input, shape, action, { tau });
        const want = bruteForce(net, input, shape, action, tau);
        // the engine's forward agrees with a float64 dense forward
        assert.ok(Math.abs(want.mine[net.depth - 1][action] - got.q) < 1e-5, `${name}: Q ${got.q} vs dense ${want.mine[net.depth - 1][action]}`);
        for (let l = 0; l <= net.depth; l++) {
          assert.equal(got.layers[l].length, want.R[l].length);
          for (let i = 0; i < got.layers[l].length; i++) {
            const d = Math.abs(got.layers[l][i] - want.R[l][i]);
            assert.ok(d <= 1e-9 * (1 + Math.abs(want.R[l][i])), `${name}, τ=${tau}, layer ${l}, neuron ${i}: ${got.layers[l][i]} vs ${want.R[l][i]}`);
          }
        }
      }
    }
  }
});

test('relevance is conserved layer by layer: each layer sums to Q (τ → 0), and to Σ R_j z_j/(z_j+τ) for a finite τ', () => {
  const rng = new Rng(5);
  const spec: QNetworkSpec = { species: 2, filters: [10, 10, 10], kernel: [7, 7], bias: false, leakySlope: 0.2 };
  const shape: GridShape = { n0: 12, n1: 14, periodic: [true, false] };
  const net = QNetwork.create(spec, rng);
  for (let trial = 0; trial < 4; trial++) {
    const input = randomInput(rng, 2, shape, 8);
    const action = rng.int(2 * shape.n0 * shape.n1);
    const r = relevancePropagation(net, input, shape, action, { tau: 1e-12 });
    for (let l = 0; l <= net.depth; l++) {
      const sum = r.layers[l].reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - r.q) <= 1e-6 * Math.max(1e-3, Math.abs(r.q)), `layer ${l}: Σ R = ${sum}, Q = ${r.q}`);
    }
    // only atoms (ones of the input) carry relevance at the input layer
    for (let i = 0; i < input.length; i++) if (input[i] === 0) assert.equal(r.layers[0][i], 0);
  }
  // a large τ leaks relevance: the sums shrink in magnitude layer by layer, never grow
  const input = randomInput(rng, 2, shape, 8);
  const big = relevancePropagation(net, input, shape, 0, { tau: 0.5 });
  let prev = Math.abs(big.q);
  for (let l = net.depth - 1; l >= 0; l--) {
    const s = Math.abs(big.layers[l].reduce((a, b) => a + b, 0));
    assert.ok(s <= prev + 1e-12, `layer ${l}: |Σ R| ${s} grew above ${prev}`);
    prev = s;
  }
});

test('relevanceOfAtoms: ±1 for the most influential atom, 0 where there is no atom, values in [−1, 1]', () => {
  const rng = new Rng(3);
  const spec: QNetworkSpec = { species: 1, filters: [4, 4], kernel: [5, 5], bias: false, leakySlope: 0.2 };
  const shape: GridShape = { n0: 9, n1: 9, periodic: [true, true] };
  const net = QNetwork.create(spec, rng);
  const input = new Float32Array(81);
  for (const p of [10, 12, 30, 40]) input[p] = 1;
  const rel = relevanceOfAtoms(net, input, shape, [0, 4, 4]);
  let maxAbs = 0;
  for (let i = 0; i < rel.length; i++) {
    assert.ok(rel[i] >= -1 && rel[i] <= 1);
    if (input[i] === 0) assert.equal(rel[i], 0);
    maxAbs = Math.max(maxAbs, Math.abs(rel[i]));
  }
  assert.equal(maxAbs, 1);
  // an atom outside the receptive field of the action (kernel 5 × 3 layers: ±6 cells) has none
  const far: GridShape = { n0: 30, n1: 30, periodic: [false, false] };
  const x = new Float32Array(900);
  x[0] = 1; // (0, 0)
  x[15 * 30 + 15] = 1; // (15, 15): the action's own cell
  const r2 = relevanceOfAtoms(net, x, far, [0, 15, 16]);
  assert.equal(r2[0], 0);
  assert.equal(Math.abs(r2[15 * 30 + 15]), 1);
});

test('a network with biases is refused with a one-line error; actions are validated', () => {
  const net = QNetwork.create({ species: 1, filters: [2], kernel: [3, 3], bias: true, leakySlope: 0.2 }, new Rng(1));
  const shape: GridShape = { n0: 4, n1: 4, periodic: [true, true] };
  assert.throws(() => relevancePropagation(net, new Float32Array(16), shape, 0), (e: unknown) => e instanceof InputError && /bias/.test(e.message));
  assert.throws(() => actionIndex([1, 0, 0], 1, shape), InputError);
  assert.throws(() => actionIndex([0, 4, 0], 1, shape), InputError);
  assert.equal(actionIndex([0, 2, 3], 1, shape), 11);
});

test('asla explain: relevance of the atoms of a recorded build of a graphene-edge run (text and JSON)', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const { PRESETS } = await import('../../src/agent/presets.js');
  const { applySets, validateProblem } = await import('../../src/agent/problem.js');
  const { Run } = await import('../../src/search/run.js');
  const { explainRun } = await import('../../src/cli/explain.js');
  const { checkpointNetwork } = await import('../../src/search/snapshots.js');
  const dir = mkdtempSync(join(tmpdir(), 'asla-explain-'));
  try {
    const config = validateProblem(applySets(structuredClone(PRESETS['graphene-edge']), ['run.episodes=4', 'training.threads=1']), 'graphene-edge');
    const run = await Run.open({ dir, config, warn: () => {} });
    await run.run();
    await run.close();
    const ex = await explainRun(dir, { episode: 4, step: 2 });
    assert.equal(ex.episode, 4);
    assert.equal(ex.step, 2);
    assert.equal(ex.recorded, true);
    assert.equal(ex.atoms.length, 9); // 8 template atoms + the first placed one
    assert.ok(Math.abs(ex.relevanceSum - ex.q) < 1e-6 * Math.max(1e-3, Math.abs(ex.q)), `Σ R ${ex.relevanceSum} vs Q ${ex.q}`);
    // Q is the network's own value for that state and action
    const net = checkpointNetwork(dir)!.net;
    const agent = (await import('../../src/report/rundata.js')).BuildReplayer;
    const replay = new agent(config);
    const b = replay.agent.newBuild();
    const rec = (await import('../../src/report/rundata.js')).loadRun(dir).episodes[3];
    replay.agent.place(b, replay.agent.encodeAction(...rec.actions[0]));
    const q = net.forward(b.input, replay.agent.shape);
    assert.ok(Math.abs(q[replay.agent.encodeAction(...rec.actions[1])] - ex.q) < 1e-6);
    const seen = ex.atoms.filter((a) => a.relevance !== null);
    assert.equal(seen.length, 9); // all on the edge grid
    assert.equal(Math.max(...seen.map((a) => Math.abs(a.relevance!))), 1);
    // a chosen action
    const other = await explainRun(dir, { episode: 4, step: 1, action: [0, 0, 0] });
    assert.equal(other.recorded, rec.actions[0].join() === '0,0,0');
    // the command line: JSON and text
    const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const js = spawnSync(process.execPath, [main, 'explain', dir, '--episode', '4', '--step', '2', '--json'], { encoding: 'utf8' });
    assert.equal(js.status, 0, js.stderr);
    const parsed = JSON.parse(js.stdout);
    assert.ok(Math.abs(parsed.q - ex.q) < 1e-12);
    const txt = spawnSync(process.execPath, [main, 'explain', dir, '--action', '0,1,2', '--step', '1'], { encoding: 'utf8' });
    assert.equal(txt.status, 0, txt.stderr);
    assert.match(txt.stdout, /^run .*episode 4, step 1: action \[0, 1, 2\]/);
    assert.match(txt.stdout, /Q = -?\d\.\d{6}; Σ relevance/);
    const bad = spawnSync(process.execPath, [main, 'explain', dir, '--step', '9'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--step: must be 1\.\.2/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
