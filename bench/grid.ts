/**
 * Speed of the action masks (src/grid/masks.ts): disk stamping in grid index
 * space vs the direct rule (every grid point × every atom × periodic images),
 * on the paper's C3H4O2 (60×60, c1 = 0.6, c2 = 2.5) and Ag(111)-p(4×4)-O
 * (24×20 oblique, c1 = 0.65, 16-atom support layer) grids. Prints JSON.
 * Run: npx tsc -p . && node dist/bench/grid.js
 */
import { Atoms } from '../src/structure/atoms.js';
import { COVALENT_RADII } from '../src/structure/elements.js';
import { BuildingGrid, allowedMask, PlacementMask, type MaskOptions } from '../src/grid/index.js';
import { Rng } from '../src/util/rng.js';

function direct(grid: BuildingGrid, atoms: Atoms, z: number, opts: MaskOptions): Uint8Array {
  const out = new Uint8Array(grid.size);
  const c = grid.cell;
  const K0 = grid.periodic[0] ? 1 : 0, K1 = grid.periodic[1] ? 1 : 0;
  const r = new Float64Array(3);
  for (let p = 0; p < grid.size; p++) {
    grid.position(p, r);
    let ok = true;
    let near = opts.c2 === undefined || atoms.length === 0;
    for (let i = 0; i < atoms.length && ok; i++) {
      const rs = COVALENT_RADII[z] + COVALENT_RADII[atoms.numbers[i]];
      for (let m = -K0; m <= K0; m++) {
        for (let n = -K1; n <= K1; n++) {
          const dx = r[0] - (atoms.positions[3 * i] + m * c[0] + n * c[3]);
          const dy = r[1] - (atoms.positions[3 * i + 1] + m * c[1] + n * c[4]);
          const dz = r[2] - atoms.positions[3 * i + 2];
          const d = Math.sqrt(dx * dx + dy * dy + dz * dz);
          if (d < (opts.c1 * rs) / 2) ok = false;
          if (opts.c2 !== undefined && d <= (opts.c2 * rs) / 2) near = true;
        }
      }
    }
    out[p] = ok && near ? 1 : 0;
  }
  return out;
}

function timeIt(f: () => void, minMs = 300): number {
  f();
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) { f(); n++; t = performance.now(); }
  return ((t - t0) / n) * 1000; // µs per call
}

const rng = new Rng(1);
const cases: Array<{ name: string; grid: BuildingGrid; atoms: Atoms; z: number; opts: MaskOptions }> = [];
{
  const grid = new BuildingGrid({ cell: [[16, 0, 0], [0, 16, 0], [0, 0, 16]], shape: [60, 60], periodic: [false, false], spacing: [0.2, 0.2], z: 8 });
  const numbers = [6, 6, 6, 1, 1, 1, 1, 8, 8];
  const positions = numbers.flatMap(() => { const r = grid.position(rng.int(grid.size)); return [r[0], r[1], r[2]]; });
  cases.push({ name: 'C3H4O2 60x60, 9 atoms, c1=0.6 c2=2.5', grid, atoms: new Atoms({ numbers, positions, cell: grid.cell }), z: 6, opts: { c1: 0.6, c2: 2.5 } });
}
{
  const grid = new BuildingGrid({ cell: [[12, 0, 0], [6, 10, 0], [0, 0, 20]], shape: [24, 20], periodic: [true, true], z: 12 });
  const numbers: number[] = [], positions: number[] = [];
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) { numbers.push(47); positions.push(3 * i + 1.5 * j, 2.5 * j, 9.7); }
  for (let k = 0; k < 18; k++) { const r = grid.position(rng.int(grid.size)); numbers.push(k < 12 ? 47 : 8); positions.push(r[0], r[1], r[2]); }
  cases.push({ name: 'AgO 24x20 oblique, 16 support + 18 atoms, c1=0.65', grid, atoms: new Atoms({ numbers, positions, cell: grid.cell, pbc: [true, true, false] }), z: 8, opts: { c1: 0.65 } });
}
const results = cases.map(({ name, grid, atoms, z, opts }) => {
  const same = allowedMask(grid, atoms, z, opts).every((v, p) => v === direct(grid, atoms, z, opts)[p]);
  const stamp = timeIt(() => allowedMask(grid, atoms, z, opts));
  const brute = timeIt(() => direct(grid, atoms, z, opts));
  const incremental = timeIt(() => {
    const m = new PlacementMask(grid, z, opts);
    m.addAtoms(atoms);
  });
  return { case: name, gridPoints: grid.size, atoms: atoms.length, agreesWithDirect: same, allowedMask_us: +stamp.toFixed(1), placementMaskAllAtoms_us: +incremental.toFixed(1), direct_us: +brute.toFixed(1), speedup: +(brute / stamp).toFixed(1) };
});
console.log(JSON.stringify({ bench: 'grid masks', node: process.version, results }, null, 2));
