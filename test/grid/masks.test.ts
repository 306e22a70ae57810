import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import { COVALENT_RADII } from '../../src/structure/elements.js';
import { BuildingGrid, allowedMask, applyAtomToMask, PlacementMask, type MaskOptions } from '../../src/grid/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { paperGrid } from './paper-grids.js';

/**
 * Reference: every grid point × every atom × periodic images −3..3 along the
 * grid's periodic axes, straight from the paper's rule.
 */
function bruteForceMask(grid: BuildingGrid, atoms: Atoms, z: number, opts: MaskOptions): Uint8Array {
  const out = new Uint8Array(grid.size);
  const c = grid.cell;
  const K0 = grid.periodic[0] ? 3 : 0, K1 = grid.periodic[1] ? 3 : 0;
  const r = new Float64Array(3);
  for (let p = 0; p < grid.size; p++) {
    grid.position(p, r);
    let ok = !(opts.forbidden && opts.forbidden[p]);
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

function count(mask: Uint8Array): number {
  return mask.reduce((s, v) => s + v, 0);
}

/** Random atoms: `nPlane` on the plane of species `zs`, plus off-plane template atoms. */
function randomAtoms(grid: BuildingGrid, rng: Rng, nPlane: number, zs: number[], template: Array<[number, number]>): Atoms {
  const numbers: number[] = [];
  const positions: number[] = [];
  const c = grid.cell;
  for (const [z, dz] of template) {
    const fa = rng.next(), fb = rng.next();
    numbers.push(z);
    positions.push(fa * c[0] + fb * c[3], fa * c[1] + fb * c[4], grid.z + dz);
  }
  for (let i = 0; i < nPlane; i++) {
    // Anywhere over the grid region (periodic or not), slightly off the plane.
    const p = rng.int(grid.size);
    const r = grid.position(p);
    numbers.push(zs[rng.int(zs.length)]);
    positions.push(r[0] + 0.3 * (rng.next() - 0.5), r[1] + 0.3 * (rng.next() - 0.5), grid.z + 0.2 * (rng.next() - 0.5));
  }
  return new Atoms({ numbers, positions, cell: grid.cell, pbc: [grid.periodic[0], grid.periodic[1], false] });
}

test('allowedMask equals the brute-force rule on the rhombic Ag cell (Ag(111) support below the plane)', () => {
  const g = paperGrid('agO');
  const rng = new Rng(3);
  // The AgO overlayer lies 2.3 Å above a fixed Ag(111) layer (Extended Data Fig. 7).
  const support: Array<[number, number]> = Array.from({ length: 12 }, () => [47, -2.3] as [number, number]);
  // And an O atom 0.5 Å below the plane, close enough to exclude a (smaller) disk.
  support.push([8, -0.5]);
  for (let trial = 0; trial < 4; trial++) {
    const atoms = randomAtoms(g, rng, 3 + trial, [47, 8], support);
    for (const z of [47, 8]) {
      const opts = { c1: 0.65 };
      const got = allowedMask(g, atoms, z, opts);
      assert.deepEqual(got, bruteForceMask(g, atoms, z, opts));
      const n = count(got);
      assert.ok(n > 0 && n < g.size, `non-trivial mask (${n} of ${g.size})`);
    }
  }
  // Atoms near the cell edges exclude points across the periodic boundary.
  const corner = new Atoms({ numbers: [8], positions: [[0.05, 0.05, 12]], cell: g.cell, pbc: true });
  // Ag next to O: minimum distance 0.65·(1.45 + 0.66)/2 = 0.686 Å; the images of
  // points (23, 0) and (0, 19) are 0.55 and 0.65 Å away across the boundary.
  const m = allowedMask(g, corner, 47, { c1: 0.65 });
  assert.equal(m[g.indexOf(-1, 0)], 0);
  assert.equal(m[g.indexOf(0, -1)], 0);
  assert.equal(m[g.indexOf(-2, 0)], 1);
  assert.deepEqual(m, bruteForceMask(g, corner, 47, { c1: 0.65 }));
});

test('allowedMask equals the brute-force rule on the rectangular graphene grid, with forbidden points', () => {
  const g = paperGrid('graphene');
  const rng = new Rng(5);
  for (let trial = 0; trial < 4; trial++) {
    const atoms = randomAtoms(g, rng, 2 + 3 * trial, [6], [[6, 0.25], [6, 1.2], [1, -0.9]]);
    const forbidden = new Uint8Array(g.size);
    for (let k = 0; k < 200; k++) forbidden[rng.int(g.size)] = 1;
    for (const opts of [{ c1: 0.5 }, { c1: 0.5, forbidden }, { c1: 0.5, c2: 2.5 }]) {
      const got = allowedMask(g, atoms, 6, opts);
      assert.deepEqual(got, bruteForceMask(g, atoms, 6, opts));
      assert.ok(count(got) > 0 && count(got) < g.size);
    }
  }
  // The 3D distance counts: a C atom 0.3 Å above grid point p excludes p and the
  // in-plane disk of radius √(0.38² − 0.3²) = 0.233 Å (c1 = 0.5: 0.5·0.76 = 0.38 Å);
  // 0.4 Å above it excludes nothing.
  const p = g.indexOf(10, 10);
  const r = g.position(p);
  const above = new Atoms({ numbers: [6], positions: [[r[0], r[1], g.z + 0.3]], cell: g.cell, pbc: true });
  const m = allowedMask(g, above, 6, { c1: 0.5 });
  assert.deepEqual([...m.keys()].filter((k) => m[k] === 0).sort((a, b) => a - b), [p - 37, p - 1, p, p + 1, p + 37].sort((a, b) => a - b));
  above.positions[2] = g.z + 0.4;
  assert.equal(count(allowedMask(g, above, 6, { c1: 0.5 })), g.size);
});

test('allowedMask equals the brute-force rule on the non-periodic C3H4O2 region, with c2 = 2.5', () => {
  const g = paperGrid('c3h4o2');
  const rng = new Rng(9);
  // Template atoms off the plane, some outside the grid region (the cell is larger than the region).
  const template: Array<[number, number]> = [[6, 0.3], [6, 1.0], [8, -0.7]];
  for (let trial = 0; trial < 4; trial++) {
    const atoms = randomAtoms(g, rng, 1 + 2 * trial, [6, 1, 8], template);
    for (const z of [6, 1, 8]) {
      for (const opts of [{ c1: 0.6 }, { c1: 0.6, c2: 2.5 }]) {
        const got = allowedMask(g, atoms, z, opts);
        assert.deepEqual(got, bruteForceMask(g, atoms, z, opts));
        assert.ok(count(got) > 0 && count(got) < g.size);
      }
    }
  }
  // With no atoms yet, c2 does not restrict; forbidden points are never allowed.
  const empty = new Atoms({ numbers: [], positions: [], cell: g.cell });
  const forbidden = new Uint8Array(g.size);
  forbidden[5] = 1;
  const m = allowedMask(g, empty, 6, { c1: 0.6, c2: 2.5, forbidden });
  assert.equal(count(m), g.size - 1);
  assert.equal(m[5], 0);
});

test('allowedMask on the one-axis-periodic edge and grain-boundary grids', () => {
  const rng = new Rng(13);
  for (const name of ['edge', 'grain'] as const) {
    const g = paperGrid(name);
    const atoms = randomAtoms(g, rng, 6, [6], [[6, 0.8]]);
    const opts = { c1: 0.4 };
    assert.deepEqual(allowedMask(g, atoms, 6, opts), bruteForceMask(g, atoms, 6, opts));
  }
});

test('incremental updates equal the full mask after every added atom', () => {
  const rng = new Rng(17);
  for (const [name, zs, opts] of [
    ['c3h4o2', [6, 1, 8], { c1: 0.6, c2: 2.5 }],
    ['agO', [47, 8], { c1: 0.65 }],
    ['graphene', [6], { c1: 0.5, c2: 2.5 }],
  ] as Array<[Parameters<typeof paperGrid>[0], number[], MaskOptions]>) {
    const g = paperGrid(name);
    const all = randomAtoms(g, rng, 8, zs, [[zs[0], -1.5]]);
    const forbidden = new Uint8Array(g.size);
    for (let k = 0; k < 50; k++) forbidden[rng.int(g.size)] = 1;
    const full = { ...opts, forbidden };
    for (const z of zs) {
      const inc = new PlacementMask(g, z, full);
      const plain = allowedMask(g, new Atoms({ numbers: [], positions: [], cell: g.cell }), z, { c1: opts.c1, forbidden });
      for (let i = 0; i < all.length; i++) {
        const [x, y, zz] = all.position(i);
        inc.addAtom(x, y, zz, all.numbers[i]);
        applyAtomToMask(g, plain, x, y, zz, all.numbers[i], z, opts.c1);
        const prefix = new Atoms({
          numbers: all.numbers.slice(0, i + 1),
          positions: all.positions.slice(0, 3 * (i + 1)),
          cell: g.cell,
        });
        assert.deepEqual(inc.allowed, allowedMask(g, prefix, z, full), `${name} Z=${z} after ${i + 1} atoms`);
        assert.deepEqual(plain, allowedMask(g, prefix, z, { c1: opts.c1, forbidden }));
        assert.equal(inc.atomCount, i + 1);
      }
      assert.equal(inc.countAllowed(), count(inc.allowed));
      // A clone continues independently.
      const copy = inc.clone();
      copy.addAtom(g.position(0)[0], g.position(0)[1], g.z, zs[0]);
      assert.equal(inc.atomCount, all.length);
      assert.equal(copy.atomCount, all.length + 1);
      assert.equal(copy.allowed[0], 0);
    }
    // addAtoms = adding one by one.
    const byAtoms = new PlacementMask(g, zs[0], opts);
    byAtoms.addAtoms(all);
    assert.deepEqual(byAtoms.allowed, allowedMask(g, all, zs[0], opts));
  }
});

test('mask options and inputs are validated', () => {
  const g = paperGrid('c3h4o2');
  const atoms = new Atoms({ numbers: [6], positions: [[8, 8, 8]], cell: g.cell });
  assert.throws(() => allowedMask(g, atoms, 6, { c1: -1 }), (e: unknown) => e instanceof InputError && /'c1'/.test(e.message));
  assert.throws(() => allowedMask(g, atoms, 6, { c1: 0.6, c2: 0.5 }), (e: unknown) => e instanceof InputError && /'c2'/.test(e.message));
  assert.throws(() => allowedMask(g, atoms, 6, { c1: 0.6, forbidden: new Uint8Array(3) }), /'forbidden'/);
  assert.throws(() => allowedMask(g, atoms, 0, { c1: 0.6 }), InputError);
  assert.throws(() => new PlacementMask(g, 200, { c1: 0.6 }), InputError);
  const gr = paperGrid('graphene');
  const wrongCell = new Atoms({ numbers: [6], positions: [[1, 1, 6]], cell: [[8, 0, 0], [0, 7.4, 0], [0, 0, 12]], pbc: true });
  assert.throws(() => allowedMask(gr, wrongCell, 6, { c1: 0.5 }), /cell vector a/);
});
