import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BuildingGrid } from '../../src/grid/index.js';
import { rotateState } from '../../src/agent/augment.js';
import { Rng } from '../../src/util/rng.js';

const grid = new BuildingGrid({ cell: [[8.54, 0, 0], [0, 7.4, 0], [0, 0, 12]], shape: [42, 37], periodic: [true, true], z: 6 });

function randomState(rng: Rng, n: number): Float32Array {
  const s = new Float32Array(grid.size);
  for (let i = 0; i < n; i++) s[rng.int(grid.size)] = 1;
  return s;
}

/** Minimum-image in-plane offset from grid point a to b. */
function offset(a: number, b: number): [number, number] {
  const pa = grid.position(a);
  const pb = grid.position(b);
  let dx = pb[0] - pa[0];
  let dy = pb[1] - pa[1];
  dx -= Math.round(dx / 8.54) * 8.54;
  dy -= Math.round(dy / 7.4) * 7.4;
  return [dx, dy];
}

test('a rotation by 0 keeps exactly the atoms within the window', () => {
  const rng = new Rng(4);
  const state = randomState(rng, 20);
  const centre = 500;
  state[centre] = 0;
  const out = new Float32Array(grid.size);
  rotateState(grid, state, 1, centre, 0, 3.0, out);
  for (let p = 0; p < grid.size; p++) {
    const [dx, dy] = offset(centre, p);
    const inside = Math.hypot(dx, dy) <= 3.0;
    assert.equal(out[p], inside ? state[p] : 0, `point ${p}`);
  }
});

test('rotated atoms keep their distance and turn by the angle about the action, up to grid snapping', () => {
  const rng = new Rng(9);
  const centre = 777;
  const half = Math.hypot(8.54 / 42, 7.4 / 37) / 2; // the farthest a point snaps
  for (const angle of [Math.PI / 3, (2 * Math.PI) / 3, 1.234]) {
    const state = new Float32Array(grid.size);
    const p = grid.nearestIndex(grid.position(centre)[0] + 1.42, grid.position(centre)[1]);
    state[p] = 1;
    const out = new Float32Array(grid.size);
    assert.equal(rotateState(grid, state, 1, centre, angle, 3.7, out), 1);
    const q = out.findIndex((v) => v === 1);
    const [dx, dy] = offset(centre, q);
    const [ex, ey] = offset(centre, p);
    const want = [Math.cos(angle) * ex - Math.sin(angle) * ey, Math.sin(angle) * ex + Math.cos(angle) * ey];
    assert.ok(Math.hypot(dx - want[0], dy - want[1]) <= half + 1e-9, `angle ${angle}`);
  }
  // many atoms: the count never grows and distances to the centre are kept within snapping
  const state = randomState(rng, 30);
  state[centre] = 0;
  const out = new Float32Array(grid.size);
  rotateState(grid, state, 1, centre, 2.5, 3.7, out);
  const dIn = [...state.keys()].filter((p) => state[p] && Math.hypot(...offset(centre, p)) <= 3.7).map((p) => Math.hypot(...offset(centre, p)));
  const dOut = [...out.keys()].filter((p) => out[p]).map((p) => Math.hypot(...offset(centre, p)));
  assert.ok(dOut.length <= dIn.length && dOut.length >= dIn.length - 3);
  for (const d of dOut) assert.ok(dIn.some((e) => Math.abs(e - d) <= 2 * half + 1e-9));
  assert.equal(out[centre], 0, 'the action point stays empty');
});
