/**
 * Shortest-path ring analysis: pristine graphene has exactly its hexagons
 * (N/2 on a torus, no 10-ring outlines of hexagon pairs), a Stone–Wales
 * defect has two pentagons and two heptagons sharing bonds, a chain wrapping
 * around a periodic cell is no ring.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import { shortestPathRings, ringCounts, fiveSevenPairs, hasFiveSevenDefect } from '../../src/structure/rings.js';

const D = 1.42;

/** Graphene of nx × ny rectangular 4-atom cells (3d × √3d), periodic in the plane. */
function sheet(nx: number, ny: number): Atoms {
  const lx = 3 * D, ly = Math.sqrt(3) * D;
  const basis = [
    [0, 0],
    [D, 0],
    [1.5 * D, ly / 2],
    [2.5 * D, ly / 2],
  ];
  const pos: number[][] = [];
  for (let i = 0; i < nx; i++) for (let j = 0; j < ny; j++) for (const [x, y] of basis) pos.push([x + i * lx, y + j * ly, 5]);
  return new Atoms({ numbers: pos.map(() => 6), positions: pos, cell: [[nx * lx, 0, 0], [0, ny * ly, 0], [0, 0, 10]], pbc: [true, true, false] });
}

test('pristine graphene: one hexagon per two atoms, nothing else', () => {
  for (const [nx, ny] of [[2, 3], [3, 4]]) {
    const g = sheet(nx, ny);
    const counts = ringCounts(g, { maxSize: 10 });
    assert.deepEqual(counts, { 6: g.length / 2 });
    assert.equal(hasFiveSevenDefect(g), false);
  }
});

test('a Stone–Wales defect (one bond rotated by 90°) gives two pentagons and two heptagons, paired', () => {
  const g = sheet(4, 6);
  // the dimer at (D·0, 0)–(D, 0) of cell (1, 2): rotate it about its midpoint
  const lx = 3 * D, ly = Math.sqrt(3) * D;
  const x0 = lx, y0 = 2 * ly;
  const p = g.positions;
  let a = -1, b = -1;
  for (let i = 0; i < g.length; i++) {
    if (Math.abs(p[3 * i] - x0) < 1e-6 && Math.abs(p[3 * i + 1] - y0) < 1e-6) a = i;
    if (Math.abs(p[3 * i] - (x0 + D)) < 1e-6 && Math.abs(p[3 * i + 1] - y0) < 1e-6) b = i;
  }
  assert.ok(a >= 0 && b >= 0);
  const mx = x0 + D / 2;
  p[3 * a] = mx;
  p[3 * a + 1] = y0 - D / 2;
  p[3 * b] = mx;
  p[3 * b + 1] = y0 + D / 2;
  const analysis = shortestPathRings(g, { maxSize: 8 });
  const c = analysis.counts;
  assert.equal(c[5], 2);
  assert.equal(c[7], 2);
  assert.equal(c[6], g.length / 2 - 4); // Euler on the torus: still N/2 faces
  const pairs = fiveSevenPairs(analysis);
  assert.equal(pairs.length, 4); // each pentagon shares a bond with each heptagon
  for (const [five, seven] of pairs) {
    assert.equal(analysis.rings[five].length, 5);
    assert.equal(analysis.rings[seven].length, 7);
  }
  assert.equal(hasFiveSevenDefect(g), true);
});

test('a path that winds around a periodic axis is no ring; a finite molecule ring is found once', () => {
  // three atoms 1.42 Å apart in a 4.26 Å periodic cell: a closed cycle of bonds that sums to the cell vector
  const chain = new Atoms({
    numbers: [6, 6, 6],
    positions: [[0, 0, 0], [D, 0, 0], [2 * D, 0, 0]],
    cell: [[3 * D, 0, 0], [0, 10, 0], [0, 0, 10]],
    pbc: [true, false, false],
  });
  assert.deepEqual(ringCounts(chain), {});
  // benzene-like hexagon, no periodicity
  const hex = new Atoms({
    numbers: new Array(6).fill(6),
    positions: Array.from({ length: 6 }, (_, k) => [D * Math.cos((k * Math.PI) / 3), D * Math.sin((k * Math.PI) / 3), 0]),
  });
  const an = shortestPathRings(hex);
  assert.equal(an.rings.length, 1);
  assert.deepEqual(Array.from(an.rings[0]).sort(), [0, 1, 2, 3, 4, 5]);
});
