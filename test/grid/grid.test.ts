import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { PAPER_GRIDS, paperGrid, minImageDistance } from './paper-grids.js';

const NAMES = Object.keys(PAPER_GRIDS) as Array<keyof typeof PAPER_GRIDS>;

test('paper grids: step vectors, spacing and origin follow the cell and the conventions', () => {
  const g = paperGrid('graphene');
  assert.equal(g.size, 42 * 37);
  assert.ok(Math.abs(g.step[0] - 8.54 / 42) < 1e-15 && g.step[1] === 0);
  assert.ok(Math.abs(g.step[3] - 0.2) < 1e-15 && g.step[2] === 0);
  assert.deepEqual([...g.origin], [0, 0]);

  const c = paperGrid('c3h4o2');
  // 60 points at 0.2 Å span 11.8 Å, centred in 16 Å: first point at 2.1 Å.
  assert.ok(Math.abs(c.origin[0] - 2.1) < 1e-12 && Math.abs(c.origin[1] - 2.1) < 1e-12);
  const last = c.position(c.size - 1);
  assert.ok(Math.abs(last[0] - 13.9) < 1e-12 && Math.abs(last[1] - 13.9) < 1e-12 && last[2] === 8);

  const e = paperGrid('edge');
  assert.ok(Math.abs(e.spacing[0] - 4.27 / 24) < 1e-15 && e.spacing[1] === 0.18);
  assert.ok(e.origin[0] === 0 && Math.abs(e.origin[1] - (7.12 - 39 * 0.18) / 2) < 1e-12);

  const ag = paperGrid('agO');
  // b/20 = (0.3, 0.5): 0.5 Å steps in x and y as in Extended Data Table 1.
  assert.ok(Math.abs(ag.step[0] - 0.5) < 1e-15 && Math.abs(ag.step[2] - 0.3) < 1e-14 && Math.abs(ag.step[3] - 0.5) < 1e-14);
  // Point index convention p = i0*n1 + i1.
  const p = ag.indexOf(3, 7);
  assert.equal(p, 3 * 20 + 7);
  const r = ag.position(p);
  assert.ok(Math.abs(r[0] - (3 * 0.5 + 7 * 0.3)) < 1e-12 && Math.abs(r[1] - 7 * 0.5) < 1e-12 && r[2] === 12);
});

test('index ↔ position round trips on all five paper grids', () => {
  for (const name of NAMES) {
    const g = paperGrid(name);
    const r = new Float64Array(3);
    const u = new Float64Array(2);
    for (let p = 0; p < g.size; p++) {
      g.position(p, r);
      const i0 = Math.floor(p / g.n1), i1 = p % g.n1;
      assert.equal(g.indexOf(i0, i1), p);
      g.gridCoordinates(r[0], r[1], u);
      assert.ok(Math.abs(u[0] - i0) < 1e-9 && Math.abs(u[1] - i1) < 1e-9, `${name}: grid coordinates of ${p}`);
      const near = g.nearest(r[0], r[1]);
      assert.equal(near.index, p, `${name}: nearest of point ${p}`);
      assert.ok(near.distance < 1e-9);
      // Periodic axes wrap, non-periodic axes end.
      assert.equal(g.indexOf(i0 + g.n0, i1), g.periodic[0] ? p : -1);
      assert.equal(g.indexOf(i0, i1 - g.n1), g.periodic[1] ? p : -1);
      // A periodic image of the point snaps back to it.
      if (g.periodic[0] && g.periodic[1]) {
        assert.equal(g.nearestIndex(r[0] - g.cell[0] + 2 * g.cell[3], r[1] - g.cell[1] + 2 * g.cell[4]), p);
      }
    }
  }
});

test('nearest snaps to the truly nearest grid point (brute force, periodic images, oblique cell)', () => {
  const rng = new Rng(11);
  for (const name of NAMES) {
    const g = paperGrid(name);
    const r = new Float64Array(3);
    for (let t = 0; t < 300; t++) {
      // Random points over (and beyond) the cell.
      const fa = -0.3 + 1.6 * rng.next(), fb = -0.3 + 1.6 * rng.next();
      const x = fa * g.cell[0] + fb * g.cell[3], y = fa * g.cell[1] + fb * g.cell[4];
      const got = g.nearest(x, y);
      const u = g.gridCoordinates(x, y);
      const outside = (!g.periodic[0] && (u[0] < -0.5 || u[0] > g.n0 - 0.5)) || (!g.periodic[1] && (u[1] < -0.5 || u[1] > g.n1 - 0.5));
      if (outside) {
        assert.equal(got.index, -1);
        assert.ok(Number.isNaN(got.distance));
        continue;
      }
      let best = Infinity, bestP = -1;
      for (let p = 0; p < g.size; p++) {
        g.position(p, r);
        const d = minImageDistance(g, x, y, r[0], r[1]);
        if (d < best) { best = d; bestP = p; }
      }
      assert.ok(Math.abs(got.distance - best) < 1e-12, `${name}: distance ${got.distance} vs ${best}`);
      g.position(got.index, r);
      assert.ok(Math.abs(minImageDistance(g, x, y, r[0], r[1]) - best) < 1e-12);
      if (got.index !== bestP) {
        // Only a tie may pick a different point.
        g.position(bestP, r);
        assert.ok(Math.abs(minImageDistance(g, x, y, r[0], r[1]) - got.distance) < 1e-12);
      }
    }
  }
  // Half a step is the limit outside a non-periodic region.
  const c = paperGrid('c3h4o2');
  assert.equal(c.nearestIndex(2.1 - 0.09, 5), c.indexOf(0, 15));
  assert.equal(c.nearestIndex(2.1 - 0.11, 5), -1);
  assert.equal(c.nearestIndex(8, 13.9 + 0.11), -1);
});

test('pointsWithin: the spillover neighbourhood, p first, periodic images once', () => {
  const g = paperGrid('graphene');
  // r_spillover = 0.3 Å on 0.2033×0.2 Å steps: the point, 4 edge and 4 diagonal neighbours (0.285 Å).
  const p = g.indexOf(0, 0);
  const within = g.pointsWithin(p, 0.3);
  assert.equal(within[0], p);
  assert.equal(within.length, 9);
  assert.ok(within.includes(g.indexOf(-1, -1)) && within.includes(g.indexOf(41, 1)));
  const r = new Float64Array(3), q = new Float64Array(3);
  for (const name of NAMES) {
    const grid = paperGrid(name);
    for (const radius of [0.3, 0.75]) {
      for (const pp of [0, grid.size - 1, Math.floor(grid.size / 2) + 3]) {
        const got = grid.pointsWithin(pp, radius);
        assert.equal(got[0], pp);
        assert.equal(new Set(got).size, got.length, 'no duplicates');
        grid.position(pp, r);
        const expected: number[] = [];
        for (let k = 0; k < grid.size; k++) {
          grid.position(k, q);
          if (minImageDistance(grid, r[0], r[1], q[0], q[1]) <= radius + 1e-9) expected.push(k);
        }
        assert.deepEqual([...got].sort((a, b) => a - b), expected, `${name} r=${radius} p=${pp}`);
        // Sorted by distance.
        let prev = -1;
        for (const k of got) {
          grid.position(k, q);
          const d = minImageDistance(grid, r[0], r[1], q[0], q[1]);
          assert.ok(d >= prev - 1e-9);
          prev = d;
        }
      }
    }
  }
  // A radius larger than a tiny periodic cell lists every point exactly once.
  const tiny = new BuildingGrid({ cell: [[1, 0, 0], [0, 1, 0], [0, 0, 5]], shape: [3, 2], periodic: [true, true], z: 0 });
  assert.deepEqual([...tiny.pointsWithin(4, 5)].sort(), [0, 1, 2, 3, 4, 5]);
  assert.equal(tiny.pointsWithin(4, 5)[0], 4);
});

test('encode: one-hot per species on the plane; template atoms off the plane are not encoded', () => {
  const g = paperGrid('agO');
  // An Ag(111)-like support layer 2.3 Å below the plane and an O and two Ag atoms on it.
  const numbers: number[] = [];
  const positions: number[] = [];
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      numbers.push(47);
      positions.push(i * 3 + j * 1.5, j * 2.5, 12 - 2.3);
    }
  }
  numbers.push(47, 8, 47, 79);
  const a = g.position(g.indexOf(5, 5));
  const o = g.position(g.indexOf(10, 3));
  // Off by a little (snapped), and one Ag given as a periodic image; Au off the plane (not a species).
  positions.push(a[0] + 0.1, a[1] - 0.1, 12.2, o[0], o[1], 11.8, a[0] + 12 + 0.5, a[1], 12, 1, 1, 5);
  const atoms = new Atoms({ numbers, positions, cell: g.cell, pbc: [true, true, false] });
  const x = g.encode(atoms, [8, 47]);
  assert.equal(x.length, 2 * g.size);
  const ones = [...x.keys()].filter((k) => x[k] === 1);
  assert.deepEqual(ones, [g.indexOf(10, 3), g.size + g.indexOf(5, 5), g.size + g.indexOf(6, 5)].sort((p, q) => p - q));
  assert.equal(x.reduce((s, v) => s + v, 0), 3);
  // Reusing an output buffer clears it first.
  const buf = new Float32Array(2 * g.size).fill(7);
  assert.deepEqual(g.encode(atoms, [8, 47], buf), x);
  // An atom on the plane of an element that is not a channel is an error.
  assert.throws(() => g.encode(atoms, [47]), (e: unknown) => e instanceof InputError && /Z=8/.test(e.message));
  // An atom on the plane outside a non-periodic region is an error.
  const c = paperGrid('c3h4o2');
  const outside = new Atoms({ numbers: [6], positions: [[0.5, 8, 8]], cell: c.cell });
  assert.throws(() => c.encode(outside, [6]), InputError);
  assert.throws(() => g.encode(atoms, [8, 8]), InputError);
});

test('fromSpacing picks the shape; toJSON/fromJSON round trip', () => {
  const g = BuildingGrid.fromSpacing({ cell: PAPER_GRIDS.graphene.cell, spacing: 0.2, periodic: [true, true], z: 6 });
  assert.deepEqual([g.n0, g.n1], [43, 37]);
  const c = BuildingGrid.fromSpacing({ cell: PAPER_GRIDS.c3h4o2.cell, spacing: 0.2, periodic: [false, false], extent: [12, 12], z: 8 });
  assert.deepEqual([c.n0, c.n1], [60, 60]);
  assert.ok(Math.abs(c.origin[0] - 2.1) < 1e-12);
  const e = BuildingGrid.fromSpacing({ cell: PAPER_GRIDS.edge.cell, spacing: 0.18, periodic: [true, false], extent: [null, 7.2], z: 6 });
  assert.deepEqual([e.n0, e.n1], [24, 40]);

  for (const name of NAMES) {
    const grid = paperGrid(name);
    const back = BuildingGrid.fromJSON(JSON.parse(JSON.stringify(grid.toJSON())));
    assert.deepEqual(back.toJSON(), grid.toJSON());
    for (const p of [0, 17, grid.size - 1]) assert.deepEqual(back.position(p), grid.position(p));
  }
  // Flat cells (Atoms.cell) are accepted too.
  const flat = new BuildingGrid({ ...PAPER_GRIDS.agO, cell: paperGrid('agO').cell });
  assert.deepEqual(flat.toJSON(), paperGrid('agO').toJSON());
});

test('bad grid configurations throw InputError naming the field', () => {
  const base = PAPER_GRIDS.c3h4o2;
  const bad: Array<[unknown, RegExp]> = [
    [{ ...base, shape: [0, 60] }, /'shape'/],
    [{ ...base, shape: [60.5, 60] }, /'shape'/],
    [{ ...base, shape: [60] }, /'shape'/],
    // 100 points at 0.2 Å span 19.8 Å > 16 Å.
    [{ ...base, shape: [100, 60] }, /'shape'.*axis 0/],
    [{ ...base, origin: [5, 2.1] }, /'origin'.*axis 0/],
    [{ ...base, origin: [2.1, -1] }, /'origin'.*axis 1/],
    [{ ...base, spacing: [0.2, -0.1] }, /'spacing\[1\]'/],
    [{ ...base, cell: [[1, 1, 0], [2, 2, 0], [0, 0, 10]] }, /'cell'.*degenerate/],
    [{ ...base, cell: [[16, 0, 0], [0, 0, 0], [0, 0, 16]] }, /'cell'/],
    [{ ...base, cell: [[16, 0, 1], [0, 16, 0], [0, 0, 16]] }, /'cell'.*xy plane/],
    [{ ...base, cell: [[16, 0], [0, 16], [0, 0]] }, /'cell'/],
    [{ ...base, z: 'high' }, /'z'/],
    [{ ...base, periodic: [true] }, /'periodic'/],
    [{ ...base, planeTolerance: -1 }, /'planeTolerance'/],
  ];
  for (const [config, re] of bad) {
    assert.throws(
      () => BuildingGrid.fromJSON(config, 'c3h4o2.yaml: grid'),
      (e: unknown) => e instanceof InputError && re.test(e.message) && e.message.startsWith('c3h4o2.yaml: grid') && !e.message.includes('\n'),
      JSON.stringify(config),
    );
  }
  const { z: _z, ...noZ } = base;
  assert.throws(() => BuildingGrid.fromJSON(noZ), /missing field 'z'/);
  assert.throws(() => BuildingGrid.fromJSON([1, 2]), InputError);
  // A periodic axis ignores the spacing entry: the step is cell vector / n.
  const g = new BuildingGrid({ ...PAPER_GRIDS.graphene, spacing: [0.5, 0.5] });
  assert.ok(Math.abs(g.spacing[0] - 8.54 / 42) < 1e-15);
});
