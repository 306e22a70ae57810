/**
 * ASE bridge benchmark (issue 6). Prints JSON:
 *  - EMT through the worker: start-up (Python + ASE import) and requests/s on a
 *    24-atom graphene sheet (positions jittered each request);
 *  - GPAW with the paper's graphene settings (gpawSettings('graphene'): PBE,
 *    LCAO dzp, Γ point) on the 2-atom graphene cell: GPAW run directly in a new
 *    Python process (start-up included), worker start-up, and the single-point
 *    time in a warm worker;
 *  - optionally (--gpaw24) the 24-atom graphene single point.
 *
 *   node dist/bench/ase.js [--emt-requests 200] [--gpaw-repeats 3] [--mpi 1] [--no-gpaw] [--gpaw24]
 */
import { spawnSync } from 'node:child_process';
import { benchFlags } from './args.js';
import { AseCalculator, DEFAULT_PYTHON, gpawSettings } from '../src/calculators/ase.js';
import { Atoms } from '../src/structure/atoms.js';
import { Rng } from '../src/util/rng.js';

const { values } = benchFlags('ase', {
  options: {
    'emt-requests': { type: 'string', default: '200' },
    'gpaw-repeats': { type: 'string', default: '3' },
    mpi: { type: 'string', default: '1' },
    'no-gpaw': { type: 'boolean', default: false },
    gpaw24: { type: 'boolean', default: false },
  },
});

const A_CC = 1.42;
const A_G = A_CC * Math.sqrt(3);

/** Graphene: rectangular 4-atom cell repeated nx × ny, plane z = 5 in a 10 Å high cell. */
function graphene(nx: number, ny: number): Atoms {
  const base = [
    [0, 0],
    [A_G / 2, A_CC / 2],
    [A_G / 2, (3 * A_CC) / 2],
    [0, 2 * A_CC],
  ];
  const pos: number[] = [];
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (const [x, y] of base) pos.push(x + i * A_G, y + j * 3 * A_CC, 5);
  return new Atoms({
    numbers: new Array(pos.length / 3).fill(6),
    positions: pos,
    cell: [nx * A_G, 0, 0, 0, ny * 3 * A_CC, 0, 0, 0, 10],
    pbc: [true, true, false],
  });
}

function graphene2(): Atoms {
  return new Atoms({
    numbers: [6, 6],
    positions: [0, 0, 5, A_G / 2, A_G / (2 * Math.sqrt(3)), 5],
    cell: [A_G, 0, 0, A_G / 2, (A_G * Math.sqrt(3)) / 2, 0, 0, 0, 10],
    pbc: [true, true, false],
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

const mpi = Number(values.mpi);
const out: Record<string, unknown> = { python: DEFAULT_PYTHON, mpiProcesses: mpi };

// EMT: the bridge's own overhead (JSON lines, fresh calculator per request).
{
  let t0 = process.hrtime.bigint();
  const calc = await AseCalculator.start({ calculator: 'ase.calculators.emt.EMT', mpiProcesses: mpi });
  const startS = seconds(t0);
  const rng = new Rng(1);
  const base = graphene(3, 2);
  const n = Number(values['emt-requests']);
  await calc.energy(base);
  t0 = process.hrtime.bigint();
  for (let k = 0; k < n; k++) {
    const a = base.clone();
    for (let i = 0; i < a.positions.length; i++) a.positions[i] += 0.05 * (rng.next() - 0.5);
    await calc.energy(a);
  }
  const s = seconds(t0);
  await calc.close();
  // The same work in one plain Python loop (fresh EMT per structure, as the
  // worker does): the difference is the bridge's own cost.
  const rows = (xs: Float64Array) => JSON.stringify(Array.from({ length: xs.length / 3 }, (_, i) => Array.from(xs.subarray(3 * i, 3 * i + 3))));
  const direct = spawnSync(
    DEFAULT_PYTHON,
    [
      '-c',
      `
import time, numpy as np
from ase import Atoms
from ase.calculators.emt import EMT
a = Atoms(numbers=${JSON.stringify(Array.from(base.numbers))}, positions=${rows(base.positions)}, cell=${rows(base.cell)}, pbc=[True, True, False])
rng = np.random.default_rng(1)
t = time.perf_counter()
for k in range(${n}):
    b = a.copy()
    b.positions += 0.05 * (rng.random(b.positions.shape) - 0.5)
    b.calc = EMT()
    b.get_potential_energy()
print(${n} / (time.perf_counter() - t))
`,
    ],
    { encoding: 'utf8' },
  );
  out.emt = {
    atoms: base.length,
    requests: n,
    startS,
    requestsPerS: n / s,
    msPerRequest: (1000 * s) / n,
    directPythonLoopRequestsPerS: Number(direct.stdout.trim()),
  };
}

if (!values['no-gpaw']) {
  const settings = gpawSettings('graphene');
  const g2 = graphene2();
  // GPAW run directly: a new Python process, import and single point (what the issue measured as 1.9 s).
  const rows = (xs: Float64Array) => JSON.stringify(Array.from({ length: xs.length / 3 }, (_, i) => Array.from(xs.subarray(3 * i, 3 * i + 3))));
  const script = `
import json
from ase import Atoms
from gpaw import GPAW
a = Atoms(numbers=${JSON.stringify(Array.from(g2.numbers))}, positions=${rows(g2.positions)}, cell=${rows(g2.cell)},
          pbc=json.loads('${JSON.stringify(g2.pbc)}'))
a.calc = GPAW(**json.loads('${JSON.stringify(settings.kwargs)}'))
print(repr(a.get_potential_energy()))
`;
  let t0 = process.hrtime.bigint();
  const r = spawnSync(DEFAULT_PYTHON, ['-c', 'import gpaw'], { encoding: 'utf8' });
  const importS = seconds(t0);
  t0 = process.hrtime.bigint();
  const d = spawnSync(DEFAULT_PYTHON, ['-c', script], { encoding: 'utf8' });
  const directS = seconds(t0);
  if (r.status !== 0 || d.status !== 0) throw new Error(`GPAW direct run failed: ${r.stderr}${d.stderr}`);

  t0 = process.hrtime.bigint();
  const calc = await AseCalculator.start({ ...settings, mpiProcesses: mpi });
  const startS = seconds(t0);
  const times: number[] = [];
  let energy = NaN;
  for (let k = 0; k < Number(values['gpaw-repeats']); k++) {
    t0 = process.hrtime.bigint();
    energy = await calc.energy(g2);
    times.push(seconds(t0));
  }
  const gpaw: Record<string, unknown> = {
    kwargs: settings.kwargs,
    importGpawS: importS,
    graphene2: {
      directProcessS: directS,
      directEnergy: Number(d.stdout.trim().split('\n').pop()),
      workerStartS: startS,
      workerSinglePointS: median(times),
      workerSinglePointAllS: times,
      workerEnergy: energy,
    },
  };
  if (values.gpaw24) {
    t0 = process.hrtime.bigint();
    const e24 = await calc.energy(graphene(3, 2));
    gpaw.graphene24 = { singlePointS: seconds(t0), energy: e24 };
  }
  await calc.close();
  out.gpaw = gpaw;
}

console.log(JSON.stringify(out, null, 2));
