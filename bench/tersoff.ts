/**
 * Speed of the embedded Tersoff calculator (src/calculators/tersoff.ts), the
 * energy the agent asks for at the end of every episode: µs per
 * `energySync` (neighbour search included) on the paper's 24-atom graphene
 * cell (8.54 × 7.40 Å) and on 80-atom structures (a rattled 80-atom graphene
 * sheet and 80 random atoms in the paper's 10.68 × 8.90 Å grain-boundary cell,
 * two layers thick), plus the neighbour search alone. Targets: ≤ 20 µs (24
 * atoms) and ≤ 100 µs (80 atoms). Prints JSON.
 * Run: npx tsc -p . && node dist/bench/tersoff.js
 */
import { Atoms } from '../src/structure/atoms.js';
import { NeighborSearch } from '../src/structure/neighbors.js';
import { TersoffCalculator } from '../src/calculators/tersoff.js';
import { Rng } from '../src/util/rng.js';
import { loadavg } from 'node:os';

/**
 * µs per call, wall clock and CPU time of this process. The machine is shared
 * (2 cores); under load the wall figure counts time spent waiting for a core,
 * the CPU figure does not.
 */
function timeIt(f: () => void, minMs = 400): { wall: number; cpu: number } {
  // Warm-up (~150 ms) so the optimising JIT has compiled the hot loops.
  const w0 = performance.now();
  while (performance.now() - w0 < 150) for (let i = 0; i < 50; i++) f();
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < 50; i++) f();
    n += 50;
    t = performance.now();
  }
  const c = process.cpuUsage(c0);
  return { wall: ((t - t0) / n) * 1000, cpu: (c.user + c.system) / n };
}

function graphene(nx: number, ny: number, rng: Rng, noise: number): Atoms {
  const d = 8.54 / 6;
  const a = 3 * d;
  const b = Math.sqrt(3) * d;
  const basis = [[0, 0], [d, 0], [1.5 * d, b / 2], [2.5 * d, b / 2]];
  const pos: number[] = [];
  for (let i = 0; i < nx; i++) {
    for (let j = 0; j < ny; j++) {
      for (const [x, y] of basis) pos.push(x + i * a + noise * rng.normal(), y + j * b + noise * rng.normal(), 5 + noise * rng.normal());
    }
  }
  return new Atoms({ numbers: new Array(pos.length / 3).fill(6), positions: pos, cell: [nx * a, 0, 0, 0, ny * b, 0, 0, 0, 10], pbc: [true, true, false] });
}

const rng = new Rng(1);
const cases: Array<{ name: string; atoms: Atoms; target_us?: number }> = [
  { name: 'graphene 24 atoms, 8.54x7.40 cell', atoms: graphene(2, 3, rng, 0), target_us: 20 },
  { name: 'graphene 24 atoms rattled 0.1 A', atoms: graphene(2, 3, rng, 0.1), target_us: 20 },
  { name: 'graphene 80 atoms rattled 0.1 A, 17.08x12.33 cell', atoms: graphene(4, 5, rng, 0.1), target_us: 100 },
];
{
  const pos: number[] = [];
  for (let i = 0; i < 80; i++) pos.push(10.68 * rng.next(), 8.9 * rng.next(), 4 + 2 * rng.next());
  cases.push({
    name: '80 random atoms, 10.68x8.90 cell, 2 A thick',
    atoms: new Atoms({ numbers: new Array(80).fill(6), positions: pos, cell: [10.68, 0, 0, 0, 8.9, 0, 0, 0, 10], pbc: [true, true, false] }),
    target_us: 100,
  });
}

const calc = TersoffCalculator.default();
const search = new NeighborSearch();
const results = cases.map(({ name, atoms, target_us }) => {
  let sink = 0;
  const energy = calc.energySync(atoms);
  const us = timeIt(() => {
    sink += calc.energySync(atoms);
  });
  const nl = timeIt(() => {
    sink += search.build(atoms, calc.cutoff).npairs;
  });
  if (!Number.isFinite(sink)) throw new Error('non-finite');
  return {
    case: name,
    atoms: atoms.length,
    energy_eV_per_atom: Number((energy / atoms.length).toFixed(6)),
    us_per_energy: Number(us.wall.toFixed(2)),
    us_per_energy_cpu: Number(us.cpu.toFixed(2)),
    us_neighbor_list: Number(nl.wall.toFixed(2)),
    us_neighbor_list_cpu: Number(nl.cpu.toFixed(2)),
    target_us,
    within_target: target_us === undefined ? undefined : us.wall <= target_us,
  };
});
console.log(JSON.stringify({ bench: 'tersoff', calculator: calc.name, node: process.version, loadavg_1min: Number(loadavg()[0].toFixed(2)), results }, null, 2));
