import test from 'node:test';
import assert from 'node:assert/strict';
import { Atoms, type Pbc } from '../../src/structure/atoms.js';
import {
  cartesianToFractional,
  fractionalToCartesian,
  inverseCell,
  perpendicularHeights,
  periodicFrame,
  reciprocalCell,
  wrapPositions,
} from '../../src/structure/cell.js';
import { NeighborSearch, neighborList, type NeighborList } from '../../src/structure/neighbors.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

/** Reference: every (i, j, S) with |r_j + S·C − r_i| ≤ cutoff over a generous image range, from unwrapped positions. */
function bruteForce(atoms: Atoms, cutoff: number): Map<string, number> {
  const out = new Map<string, number>();
  const h = perpendicularHeights(atoms.cell);
  const c = atoms.cell;
  const p = atoms.positions;
  // Positions may lie several cells away from the origin: widen the range by that.
  const f = atoms.pbc.some((x) => x) ? cartesianToFractional(periodicFrame(atoms.cell, atoms.pbc), p) : p;
  let spread = [0, 0, 0];
  for (let k = 0; k < 3; k++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < atoms.length; i++) {
      lo = Math.min(lo, f[3 * i + k]);
      hi = Math.max(hi, f[3 * i + k]);
    }
    spread[k] = Math.ceil(hi - lo);
  }
  const range = [0, 1, 2].map((k) => (atoms.pbc[k] ? Math.ceil(cutoff / h[k]) + 1 + spread[k] : 0));
  for (let i = 0; i < atoms.length; i++) {
    for (let j = 0; j < atoms.length; j++) {
      for (let a = -range[0]; a <= range[0]; a++) {
        for (let b = -range[1]; b <= range[1]; b++) {
          for (let s = -range[2]; s <= range[2]; s++) {
            if (i === j && a === 0 && b === 0 && s === 0) continue;
            const dx = p[3 * j] - p[3 * i] + a * c[0] + b * c[3] + s * c[6];
            const dy = p[3 * j + 1] - p[3 * i + 1] + a * c[1] + b * c[4] + s * c[7];
            const dz = p[3 * j + 2] - p[3 * i + 2] + a * c[2] + b * c[5] + s * c[8];
            const d = Math.hypot(dx, dy, dz);
            if (d <= cutoff) out.set(`${i},${j},${a},${b},${s}`, d);
          }
        }
      }
    }
  }
  return out;
}

const BINNED = new NeighborSearch({ smallSystem: 0 });
const PAIRS = new NeighborSearch({ smallSystem: Infinity });

/** Checks the default search and both paths forced: pairs (with strips) and ghosts + bins. */
function checkAgainstBruteForce(atoms: Atoms, cutoff: number, list: NeighborList, label: string): void {
  const ref = bruteForce(atoms, cutoff);
  checkList(atoms, cutoff, list, label, ref);
  checkList(atoms, cutoff, BINNED.build(atoms, cutoff), `${label} (binned)`, ref);
  checkList(atoms, cutoff, PAIRS.build(atoms, cutoff), `${label} (pairs)`, ref);
}

function checkList(atoms: Atoms, cutoff: number, list: NeighborList, label: string, ref: Map<string, number>): void {
  const seen = new Set<string>();
  const c = atoms.cell;
  const p = atoms.positions;
  assert.equal(list.offsets.length, atoms.length + 1, label);
  assert.equal(list.offsets[atoms.length], list.npairs, label);
  for (let i = 0; i < atoms.length; i++) {
    for (let q = list.offsets[i]; q < list.offsets[i + 1]; q++) {
      const j = list.indices[q];
      const [a, b, s] = [list.shifts[3 * q], list.shifts[3 * q + 1], list.shifts[3 * q + 2]];
      const key = `${i},${j},${a},${b},${s}`;
      assert.ok(!seen.has(key), `${label}: pair ${key} listed twice`);
      seen.add(key);
      // Pairs at the cutoff within rounding may be in one list and not the other.
      const d = list.distances[q];
      if (!ref.has(key)) {
        assert.ok(Math.abs(d - cutoff) < 1e-9, `${label}: extra pair ${key} at ${d}`);
        continue;
      }
      assert.ok(Math.abs(ref.get(key)! - d) < 1e-9, `${label}: distance of ${key}`);
      const ex = p[3 * j] - p[3 * i] + a * c[0] + b * c[3] + s * c[6];
      const ey = p[3 * j + 1] - p[3 * i + 1] + a * c[1] + b * c[4] + s * c[7];
      const ez = p[3 * j + 2] - p[3 * i + 2] + a * c[2] + b * c[5] + s * c[8];
      assert.ok(Math.abs(list.vectors[3 * q] - ex) < 1e-9, `${label}: vector x of ${key}`);
      assert.ok(Math.abs(list.vectors[3 * q + 1] - ey) < 1e-9, `${label}: vector y of ${key}`);
      assert.ok(Math.abs(list.vectors[3 * q + 2] - ez) < 1e-9, `${label}: vector z of ${key}`);
    }
  }
  for (const [key, d] of ref) {
    if (!seen.has(key)) assert.ok(Math.abs(d - cutoff) < 1e-9, `${label}: missing pair ${key} at ${d}`);
  }
  // Both directions: i→j with S implies j→i with −S.
  for (const key of seen) {
    const [i, j, a, b, s] = key.split(',').map(Number);
    assert.ok(seen.has(`${j},${i},${-a},${-b},${-s}`) || Math.abs(ref.get(key)! - cutoff) < 1e-9, `${label}: reverse of ${key}`);
  }
}

function randomCell(rng: Rng, scale: number, shear: number): number[] {
  const cell: number[] = [];
  for (let k = 0; k < 3; k++) {
    for (let l = 0; l < 3; l++) {
      cell.push(k === l ? scale * (0.6 + 0.8 * rng.next()) : shear * scale * (rng.next() - 0.5));
    }
  }
  return cell;
}

function randomAtoms(rng: Rng, n: number, cell: number[], pbc: Pbc, span = 3): Atoms {
  const positions: number[] = [];
  for (let i = 0; i < n; i++) {
    // Fractional coordinates in [-1, 2) by default: positions outside the cell must be handled.
    const lo = span === 1 ? 0 : -1;
    const f = [span * rng.next() + lo, span * rng.next() + lo, span * rng.next() + lo];
    for (let l = 0; l < 3; l++) positions.push(f[0] * cell[l] + f[1] * cell[3 + l] + f[2] * cell[6 + l]);
  }
  return new Atoms({ numbers: new Array(n).fill(6), positions, cell, pbc });
}

const PBCS: Pbc[] = [
  [true, true, true],
  [true, true, false],
  [false, true, true],
  [true, false, false],
  [false, false, true],
  [false, false, false],
];

test('cell inverse, reciprocal vectors and fractional round trip', () => {
  const rng = new Rng(3);
  for (let t = 0; t < 20; t++) {
    const cell = randomCell(rng, 5, 1.2);
    const inv = inverseCell(cell);
    for (let i = 0; i < 3; i++) {
      for (let k = 0; k < 3; k++) {
        let s = 0;
        for (let l = 0; l < 3; l++) s += cell[3 * i + l] * inv[3 * l + k];
        assert.ok(Math.abs(s - (i === k ? 1 : 0)) < 1e-12);
      }
    }
    const rec = reciprocalCell(cell);
    const h = perpendicularHeights(cell);
    for (let k = 0; k < 3; k++) {
      for (let i = 0; i < 3; i++) {
        const dot = cell[3 * i] * rec[3 * k] + cell[3 * i + 1] * rec[3 * k + 1] + cell[3 * i + 2] * rec[3 * k + 2];
        assert.ok(Math.abs(dot - (i === k ? 1 : 0)) < 1e-12);
      }
      assert.ok(Math.abs(h[k] - 1 / Math.hypot(rec[3 * k], rec[3 * k + 1], rec[3 * k + 2])) < 1e-12);
    }
    const pos = Float64Array.from({ length: 30 }, () => 20 * rng.next() - 10);
    const back = fractionalToCartesian(cell, cartesianToFractional(cell, pos));
    for (let i = 0; i < pos.length; i++) assert.ok(Math.abs(back[i] - pos[i]) < 1e-10);
  }
});

test('perpendicular heights of a sheared cell', () => {
  // a = (4, 0, 0), b = (3, 2, 0): the height along a is the distance between the b–c faces = 4·2/|b|.
  const h = perpendicularHeights([4, 0, 0, 3, 2, 0, 0, 0, 5]);
  assert.ok(Math.abs(h[0] - 8 / Math.hypot(3, 2)) < 1e-12);
  assert.ok(Math.abs(h[1] - 2) < 1e-12);
  assert.ok(Math.abs(h[2] - 5) < 1e-12);
});

test('singular cells are InputErrors', () => {
  assert.throws(() => inverseCell([1, 0, 0, 2, 0, 0, 0, 0, 1]), InputError);
  assert.throws(() => inverseCell([0, 0, 0, 0, 1, 0, 0, 0, 1]), InputError);
  assert.throws(() => periodicFrame([0, 0, 0, 0, 1, 0, 0, 0, 1], [true, false, false]), /cell/);
  assert.throws(() => periodicFrame([1, 1, 0, 2, 2, 0, 0, 0, 0], [true, true, false]), InputError);
  const atoms = new Atoms({ numbers: [6, 6], positions: [0, 0, 0, 1, 0, 0], cell: [3, 0, 0, 6, 0, 0, 0, 0, 3], pbc: true });
  assert.throws(() => neighborList(atoms, 2), InputError);
});

test('periodic frame keeps periodic vectors and completes the others', () => {
  const cell = [3, 0.5, 0.2, 0, 0, 0, 1, 2, 0];
  const f = periodicFrame(cell, [true, false, true]);
  assert.deepEqual(Array.from(f.subarray(0, 3)), [3, 0.5, 0.2]);
  assert.deepEqual(Array.from(f.subarray(6, 9)), [1, 2, 0]);
  const b = f.subarray(3, 6);
  assert.ok(Math.abs(Math.hypot(b[0], b[1], b[2]) - 1) < 1e-12);
  assert.ok(Math.abs(b[0] * 3 + b[1] * 0.5 + b[2] * 0.2) < 1e-12);
  assert.ok(Math.abs(b[0] * 1 + b[1] * 2) < 1e-12);
  // Zero cell on non-periodic axes (ASE's default for molecules) is fine.
  const z = periodicFrame(new Float64Array(9), [false, false, false]);
  assert.deepEqual(Array.from(z), [1, 0, 0, 0, 1, 0, 0, 0, 1]);
});

test('wrapPositions maps periodic axes into [0, 1) and leaves the others', () => {
  const cell = [4, 0, 0, 1, 3, 0, 0, 0, 5];
  const pos = [9.5, -1, 12, -0.5, 7, -3];
  const w = wrapPositions(cell, [true, true, false], pos);
  const f = cartesianToFractional(periodicFrame(cell, [true, true, false]), w);
  for (let i = 0; i < 2; i++) {
    for (const k of [0, 1]) assert.ok(f[3 * i + k] >= 0 && f[3 * i + k] < 1);
    assert.equal(w[3 * i + 2], pos[3 * i + 2]);
  }
});

test('neighbour list equals brute force: random non-orthogonal cells, all periodicities', () => {
  const rng = new Rng(11);
  for (let t = 0; t < 36; t++) {
    const pbc = PBCS[t % PBCS.length];
    const cell = randomCell(rng, 4, 1.0);
    const atoms = randomAtoms(rng, 2 + rng.int(10), cell, pbc);
    const cutoff = 1.5 + 3 * rng.next();
    checkAgainstBruteForce(atoms, cutoff, neighborList(atoms, cutoff), `case ${t} pbc ${pbc}`);
  }
});

test('neighbour list in cells shorter than the cutoff (several images per axis)', () => {
  const rng = new Rng(5);
  for (let t = 0; t < 12; t++) {
    const pbc = PBCS[t % 3];
    const cell = randomCell(rng, 1.3, 0.8);
    const atoms = randomAtoms(rng, 1 + rng.int(3), cell, pbc);
    const cutoff = 2.1 + 2 * rng.next();
    const h = perpendicularHeights(cell);
    assert.ok(Math.min(h[0], h[1], h[2]) < cutoff);
    checkAgainstBruteForce(atoms, cutoff, neighborList(atoms, cutoff), `short case ${t}`);
  }
  // A one-atom chain with period 1.3 Å and cutoff 2.9 Å: images at ±1.3 and ±2.6.
  const chain = new Atoms({ numbers: [6], positions: [0.2, 0, 0], cell: [1.3, 0, 0, 0, 0, 0, 0, 0, 0], pbc: [true, false, false] });
  const l = neighborList(chain, 2.9);
  assert.equal(l.npairs, 4);
  assert.deepEqual(Array.from(l.distances).map((d) => d.toFixed(6)).sort(), ['1.300000', '1.300000', '2.600000', '2.600000']);
});

test('binned search (large systems, strongly sheared cells) equals brute force', () => {
  const rng = new Rng(17);
  for (const pbc of [PBCS[0], PBCS[1], PBCS[3], PBCS[5]]) {
    const cell = randomCell(rng, 9, 1.4);
    const atoms = randomAtoms(rng, 100, cell, pbc, 1);
    const cutoff = 2.6;
    checkAgainstBruteForce(atoms, cutoff, neighborList(atoms, cutoff), `binned pbc ${pbc}`);
  }
  // Sparse cluster: far-apart atoms must not blow up the bin count.
  const sparse = new Atoms({
    numbers: new Array(80).fill(6),
    positions: Array.from({ length: 240 }, () => 2000 * rng.next()),
  });
  checkAgainstBruteForce(sparse, 150, neighborList(sparse, 150), 'sparse');
  // Long thin cells: many strips along the long axis, periodic or not.
  for (const pbc of [PBCS[0], PBCS[1], PBCS[3], PBCS[4], PBCS[5]]) {
    const cell = [30, 1, 0, 0.5, 4, 0, -1, 0.7, 5];
    const atoms = randomAtoms(rng, 40, cell, pbc);
    checkAgainstBruteForce(atoms, 2.4, neighborList(atoms, 2.4), `long cell pbc ${pbc}`);
  }
});

test('NeighborSearch reuses its buffers and gives the same lists', () => {
  const rng = new Rng(23);
  const search = new NeighborSearch();
  for (let t = 0; t < 10; t++) {
    const atoms = randomAtoms(rng, 5 + rng.int(60), randomCell(rng, 5, 0.5), PBCS[t % 3]);
    const a = search.build(atoms, 2.5);
    const b = neighborList(atoms, 2.5);
    assert.deepEqual(Array.from(a.offsets), Array.from(b.offsets));
    assert.deepEqual(Array.from(a.indices), Array.from(b.indices));
    assert.deepEqual(Array.from(a.distances), Array.from(b.distances));
    assert.deepEqual(Array.from(a.shifts), Array.from(b.shifts));
  }
});
