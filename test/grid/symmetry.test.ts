import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import {
  BuildingGrid,
  gridSymmetries,
  transformPositions,
  transformTensor,
  preservesAtoms,
  allowedMask,
  type GridSymmetry,
} from '../../src/grid/index.js';
import { Rng } from '../../src/util/rng.js';
import { paperGrid, minImageDistance } from './paper-grids.js';

const HEX_B: [number, number, number] = [4.5, 4.5 * Math.sqrt(3), 0];

const CASES: Array<[string, () => BuildingGrid, string[]]> = [
  ['graphene 42×37 periodic', () => paperGrid('graphene'), ['identity', 'rot180', 'mirror0', 'mirror90']],
  ['edge 24×40, periodic along a', () => paperGrid('edge'), ['identity', 'rot180', 'mirror0', 'mirror90']],
  ['grain boundary 60×50, periodic along a', () => paperGrid('grain'), ['identity', 'rot180', 'mirror0', 'mirror90']],
  ['C3H4O2 60×60 non-periodic square region', () => paperGrid('c3h4o2'),
    ['identity', 'rot90', 'rot180', 'rot270', 'mirror0', 'mirror45', 'mirror90', 'mirror135']],
  // Steps (0.5, 0) and (0.3, 0.5) Å: no mirror or other rotation maps this step lattice onto itself.
  ['Ag(111)-p(4×4)-O 24×20 oblique', () => paperGrid('agO'), ['identity', 'rot180']],
  ['square periodic 30×30', () => new BuildingGrid({ cell: [[6, 0, 0], [0, 6, 0], [0, 0, 10]], shape: [30, 30], periodic: [true, true], z: 5 }),
    ['identity', 'rot90', 'rot180', 'rot270', 'mirror0', 'mirror45', 'mirror90', 'mirror135']],
  ['60° rhombic periodic 18×18', () => new BuildingGrid({ cell: [[9, 0, 0], HEX_B, [0, 0, 10]], shape: [18, 18], periodic: [true, true], z: 5 }),
    ['identity', 'rot60', 'rot120', 'rot180', 'rot240', 'rot300',
      'mirror0', 'mirror30', 'mirror60', 'mirror90', 'mirror120', 'mirror150']],
  ['60° rhombic periodic 18×12 (unequal shape)', () => new BuildingGrid({ cell: [[9, 0, 0], HEX_B, [0, 0, 10]], shape: [18, 12], periodic: [true, true], z: 5 }),
    ['identity', 'rot180']],
  ['non-periodic rectangle 20×10', () => new BuildingGrid({ cell: [[10, 0, 0], [0, 10, 0], [0, 0, 10]], shape: [20, 10], periodic: [false, false], spacing: [0.3, 0.3], z: 5 }),
    ['identity', 'rot180', 'mirror0', 'mirror90']],
];

/** Random atoms snapped to grid points (as the agent places them), in one or two species, plus two off-plane atoms. */
function structureOn(grid: BuildingGrid, rng: Rng, n: number): Atoms {
  const numbers: number[] = [];
  const positions: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = grid.position(rng.int(grid.size));
    numbers.push(i % 3 === 0 ? 8 : 6);
    // A small displacement well below half a step keeps the nearest grid point.
    positions.push(r[0] + 0.02 * (rng.next() - 0.5), r[1] + 0.02 * (rng.next() - 0.5), grid.z + 0.1 * (rng.next() - 0.5));
  }
  const mid = grid.position(Math.floor(grid.size / 2));
  numbers.push(47, 79);
  positions.push(mid[0], mid[1], grid.z - 2.3, mid[0] + 1, mid[1], grid.z + 3);
  return new Atoms({ numbers, positions, cell: grid.cell, pbc: [grid.periodic[0], grid.periodic[1], false] });
}

function checkIsometry(grid: BuildingGrid, sym: GridSymmetry, rng: Rng): void {
  const R = sym.matrix;
  // Orthogonal.
  assert.ok(Math.abs(R[0][0] * R[0][0] + R[1][0] * R[1][0] - 1) < 1e-9);
  assert.ok(Math.abs(R[0][0] * R[0][1] + R[1][0] * R[1][1]) < 1e-9);
  // A permutation of grid points.
  const seen = new Uint8Array(grid.size);
  for (const q of sym.map) seen[q]++;
  assert.ok(seen.every((v) => v === 1), `${sym.name} is a permutation`);
  // Preserves in-plane pair distances (periodic minimum image), sampled pairs.
  const a = new Float64Array(3), b = new Float64Array(3), a2 = new Float64Array(3), b2 = new Float64Array(3);
  for (let t = 0; t < 400; t++) {
    const p = rng.int(grid.size), q = rng.int(grid.size);
    grid.position(p, a); grid.position(q, b);
    grid.position(sym.map[p], a2); grid.position(sym.map[q], b2);
    const d = minImageDistance(grid, a[0], a[1], b[0], b[1]);
    const d2 = minImageDistance(grid, a2[0], a2[1], b2[0], b2[1]);
    assert.ok(Math.abs(d - d2) < 1e-9, `${sym.name}: distance ${d} → ${d2}`);
  }
  // map[p] is where R(x_p − c) + c lands (modulo the periodic cell).
  for (let t = 0; t < 50; t++) {
    const p = rng.int(grid.size);
    grid.position(p, a);
    const dx = a[0] - sym.centre[0], dy = a[1] - sym.centre[1];
    const x = sym.centre[0] + R[0][0] * dx + R[0][1] * dy, y = sym.centre[1] + R[1][0] * dx + R[1][1] * dy;
    assert.equal(grid.nearestIndex(x, y), sym.map[p]);
    grid.position(sym.map[p], b);
    assert.ok(minImageDistance(grid, x, y, b[0], b[1]) < 1e-9);
  }
}

test('gridSymmetries finds exactly the point symmetries of the grids', () => {
  const rng = new Rng(21);
  for (const [label, make, names] of CASES) {
    const grid = make();
    const syms = gridSymmetries(grid);
    assert.deepEqual(syms.map((s) => s.name), names, label);
    assert.deepEqual([...syms[0].map], Array.from({ length: grid.size }, (_, p) => p), 'identity first');
    for (const s of syms) checkIsometry(grid, s, rng);
  }
});

test('the symmetries form a group (closed under composition)', () => {
  for (const [label, make] of CASES) {
    const grid = make();
    const syms = gridSymmetries(grid);
    const keys = new Set(syms.map((s) => s.map.join(',')));
    for (const s of syms) {
      for (const t of syms) {
        const comp = new Int32Array(grid.size);
        for (let p = 0; p < grid.size; p++) comp[p] = t.map[s.map[p]];
        assert.ok(keys.has(comp.join(',')), `${label}: ${t.name}∘${s.name}`);
      }
    }
  }
});

test('transforming an encoding equals encoding the transformed structure', () => {
  const rng = new Rng(23);
  for (const [label, make] of CASES) {
    const grid = make();
    const atoms = structureOn(grid, rng, 9);
    const x = grid.encode(atoms, [6, 8]);
    for (const sym of gridSymmetries(grid)) {
      const moved = transformPositions(grid, sym, atoms);
      assert.deepEqual(grid.encode(moved, [6, 8]), transformTensor(sym, x), `${label}: ${sym.name}`);
      // z and element numbers are unchanged; off-plane atoms are transformed in-plane too.
      assert.deepEqual(moved.numbers, atoms.numbers);
      for (let i = 0; i < atoms.length; i++) assert.equal(moved.positions[3 * i + 2], atoms.positions[3 * i + 2]);
      // Wrapping into the cell does not change the encoding.
      const wrapped = transformPositions(grid, sym, atoms, { wrap: true });
      assert.deepEqual(grid.encode(wrapped, [6, 8]), transformTensor(sym, x));
      // Masks are equivariant too (the agent can transform masks with the same maps).
      const mask = allowedMask(grid, atoms, 6, { c1: 0.5 });
      assert.deepEqual(allowedMask(grid, moved, 6, { c1: 0.5 }), transformTensor(sym, mask), `${label}: mask ${sym.name}`);
    }
  }
});

test('preservesAtoms tells whether a template is invariant under a symmetry', () => {
  const grid = paperGrid('graphene');
  const syms = gridSymmetries(grid);
  const byName = Object.fromEntries(syms.map((s) => [s.name, s]));
  // A single atom on the symmetry centre (grid point 0, the cell origin) is invariant under all.
  const centred = new Atoms({ numbers: [6], positions: [[0, 0, 6]], cell: grid.cell, pbc: true });
  for (const s of syms) assert.ok(preservesAtoms(grid, s, centred), s.name);
  // Its periodic image counts as the same atom.
  const image = new Atoms({ numbers: [6], positions: [[8.54, 7.40, 6]], cell: grid.cell, pbc: true });
  assert.ok(preservesAtoms(grid, byName.rot180, image));
  // An atom on the x axis is fixed by mirror0 (y → −y) but not by mirror90.
  const onAxis = new Atoms({ numbers: [6, 1], positions: [[1.0, 0, 6], [0, 0, 4]], cell: grid.cell, pbc: true });
  assert.ok(preservesAtoms(grid, byName.mirror0, onAxis));
  assert.ok(!preservesAtoms(grid, byName.mirror90, onAxis));
  assert.ok(preservesAtoms(grid, byName.identity, onAxis));
  // Elements must match.
  const pair = new Atoms({ numbers: [6, 8], positions: [[1, 0, 6], [-1, 0, 6]], cell: grid.cell, pbc: true });
  assert.ok(!preservesAtoms(grid, byName.mirror90, pair));
  const pairSame = new Atoms({ numbers: [6, 6], positions: [[1, 0, 6], [-1, 0, 6]], cell: grid.cell, pbc: true });
  assert.ok(preservesAtoms(grid, byName.mirror90, pairSame));
});
