/**
 * Speed of the Q-network engine on the two reference settings of issue 3
 * (paper network: 3 hidden layers of 10 filters, 15x15 kernels):
 *   A: 42x37 periodic grid, 1 species;  B: 60x60 non-periodic grid, 3 species.
 * Workloads: forward pass of one state with 24 atoms; one training step over
 * 256 samples (64 states x 4 augmented copies, loss on 3 output cells each:
 * action + 2 spillover neighbours); an episode (24 forwards + 1 step).
 * Prints JSON (medians, and minima: the machine may be shared).
 * bench/torch_qnet.py runs the same workloads in PyTorch.
 *
 *   node dist/bench/nn.js [--threads 1,2] [--steps 3] [--settings A,B]
 */
import { QNetwork, type GridShape, type QNetworkSpec } from '../src/nn/network.js';
import { Trainer, type TrainSample } from '../src/nn/train.js';
import { Rng } from '../src/util/rng.js';
import { kernelsInUse } from '../src/nn/native.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
}

const settings: Record<string, { shape: GridShape; species: number }> = {
  A: { shape: { n0: 42, n1: 37, periodic: [true, true] }, species: 1 },
  B: { shape: { n0: 60, n1: 60, periodic: [false, false] }, species: 3 },
};

function state(rng: Rng, S: number, shape: GridShape, atoms: number): Float32Array {
  const N = shape.n0 * shape.n1;
  const x = new Float32Array(S * N);
  const used = new Set<number>();
  while (used.size < atoms) used.add(rng.int(N));
  for (const p of used) x[rng.int(S) * N + p] = 1;
  return x;
}

/** Augmented copy: a random translation on a periodic grid, a mirror image otherwise. */
function copyOf(rng: Rng, x: Float32Array, S: number, shape: GridShape, k: number): Float32Array {
  if (k === 0) return x;
  const { n0, n1 } = shape, N = n0 * n1;
  const y = new Float32Array(x.length);
  const s0 = rng.int(n0), s1 = rng.int(n1);
  for (let c = 0; c < S; c++)
    for (let i0 = 0; i0 < n0; i0++)
      for (let i1 = 0; i1 < n1; i1++) {
        const j0 = shape.periodic[0] ? (i0 + s0) % n0 : k & 1 ? n0 - 1 - i0 : i0;
        const j1 = shape.periodic[1] ? (i1 + s1) % n1 : k & 2 ? n1 - 1 - i1 : i1;
        y[c * N + j0 * n1 + j1] = x[c * N + i0 * n1 + i1];
      }
  return y;
}

function batch(rng: Rng, S: number, shape: GridShape): TrainSample[] {
  const N = shape.n0 * shape.n1;
  const out: TrainSample[] = [];
  for (let s = 0; s < 64; s++) {
    const x = state(rng, S, shape, 24);
    for (let k = 0; k < 4; k++) {
      const c = rng.int(S), i0 = 1 + rng.int(shape.n0 - 2), i1 = 1 + rng.int(shape.n1 - 2);
      const a = c * N + i0 * shape.n1 + i1;
      out.push({
        input: copyOf(rng, x, S, shape, k),
        cells: Int32Array.of(a, a + 1, a + shape.n1),
        weights: Float32Array.of(1, 0.1, 0.1),
        target: 2 * rng.next() - 1,
      });
    }
  }
  return out;
}

async function main(): Promise<void> {
  const threadList = arg('threads', '1,2').split(',').map(Number);
  const steps = Number(arg('steps', '3'));
  const which = arg('settings', 'A,B').split(',');
  const results: Record<string, unknown>[] = [];
  for (const key of which) {
    const { shape, species } = settings[key];
    const spec: QNetworkSpec = { species, filters: [10, 10, 10], kernel: [15, 15], bias: true, leakySlope: 0.2 };
    for (const threads of threadList) {
      const rng = new Rng(1);
      const net = QNetwork.create(spec, rng);
      const trainer = new Trainer(net, { learningRate: 1e-3, threads });
      // the forward passes on the same threads; adaptive off: time the two-thread pass itself
      net.setForwardThreads(threads, { adaptive: false });
      const samples = batch(rng, species, shape);
      const xs = Array.from({ length: 24 }, () => state(rng, species, shape, 24));
      // warm-up (JIT, plans, worker start)
      await trainer.step(samples, shape);
      for (let i = 0; i < 5; i++) net.forward(xs[i], shape);
      // forward: 3 rounds of 24 states, each call timed (min and median reported:
      // the machine is shared, the minimum is the least disturbed estimate)
      const out = new Float32Array(species * shape.n0 * shape.n1);
      const fwd: number[] = [];
      let t0 = 0;
      for (let r = 0; r < 3; r++)
        for (const x of xs) {
          t0 = performance.now();
          net.forward(x, shape, out);
          fwd.push(performance.now() - t0);
        }
      fwd.sort((a, b) => a - b);
      const stepTimes: number[] = [];
      for (let s = 0; s < steps; s++) {
        t0 = performance.now();
        await trainer.step(samples, shape);
        stepTimes.push(performance.now() - t0);
      }
      stepTimes.sort((a, b) => a - b);
      t0 = performance.now();
      for (const x of xs) net.forward(x, shape, out);
      await trainer.step(samples, shape);
      const episodeMs = performance.now() - t0;
      await trainer.close();
      await net.close();
      results.push({
        engine: 'asla-ts-fft',
        setting: key,
        grid: `${shape.n0}x${shape.n1}`,
        periodic: shape.periodic,
        species,
        threads,
        forward_ms: +fwd[fwd.length >> 1].toFixed(3),
        forward_ms_min: +fwd[0].toFixed(3),
        train_step_ms: +stepTimes[stepTimes.length >> 1].toFixed(1),
        train_step_ms_min: +stepTimes[0].toFixed(1),
        train_step_ms_all: stepTimes.map((t) => +t.toFixed(1)),
        episode_ms: +episodeMs.toFixed(1),
      });
    }
  }
  process.stdout.write(JSON.stringify({ node: process.version, kernels: kernelsInUse(), results }, null, 1) + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
