import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import { bagLayout, bagOfBonds, bobDistance } from '../../src/structure/bagofbonds.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';

// A 3-atom molecule: O at the origin, H at 1 Å along x, H at 2 Å along y.
const water = new Atoms({ numbers: [1, 8, 1], positions: [1, 0, 0, 0, 0, 0, 0, 2, 0] });

test('bag layout for H2O: diagonal bags per element, then pair bags', () => {
  const layout = bagLayout({ 8: 1, 1: 2 });
  assert.deepEqual(Array.from(layout.elements), [1, 8]);
  assert.deepEqual(
    layout.bags.map((b) => [b.z1, b.z2, b.diagonal, b.offset, b.size]),
    [
      [1, 1, true, 0, 2],
      [8, 8, true, 2, 1],
      [1, 1, false, 3, 1],
      [1, 8, false, 4, 2],
      [8, 8, false, 6, 0],
    ],
  );
  assert.equal(layout.length, 6);
  assert.deepEqual(bagLayout(water.numbers), layout);
});

test('bag of bonds of a 3-atom molecule: hand-computed values', () => {
  const v = bagOfBonds(water, bagLayout({ 1: 2, 8: 1 }));
  // H diag 0.5·1^2.4 = 0.5 (×2); O diag 0.5·8^2.4 = 73.51669472;
  // H–H 1·1/√5 = 0.44721360; H–O 8/1 = 8 and 8/2 = 4, sorted descending.
  const expected = [0.5, 0.5, 73.51669472, 0.4472136, 8, 4];
  assert.equal(v.length, expected.length);
  expected.forEach((e, k) => assert.ok(Math.abs(v[k] - e) < 1e-7, `entry ${k}: ${v[k]} vs ${e}`));
});

test('zero padding to the layout of a larger stoichiometry; too many atoms is an error', () => {
  const v = bagOfBonds(water, bagLayout({ 1: 3, 8: 1 }));
  // H diag bag of 3, O diag 1, H–H 3, H–O 3, O–O 0.
  assert.equal(v.length, 3 + 1 + 3 + 3);
  assert.deepEqual(Array.from(v.subarray(0, 3)), [0.5, 0.5, 0]);
  assert.ok(Math.abs(v[4] - 1 / Math.sqrt(5)) < 1e-12);
  assert.deepEqual(Array.from(v.subarray(5, 7)), [0, 0]);
  assert.deepEqual(Array.from(v.subarray(7)), [8, 4, 0]);
  assert.throws(() => bagOfBonds(water, bagLayout({ 1: 1, 8: 1 })), InputError);
  assert.throws(() => bagOfBonds(water, bagLayout({ 1: 2, 6: 1 })), InputError);
});

test('permutation invariance and distances', () => {
  const rng = new Rng(1);
  const n = 9;
  const numbers = [6, 6, 6, 1, 1, 1, 1, 8, 8];
  const positions = Array.from({ length: 3 * n }, () => rng.next() * 4);
  const a = new Atoms({ numbers, positions });
  const layout = bagLayout({ 6: 3, 1: 4, 8: 2 });
  const va = bagOfBonds(a, layout);
  for (let t = 0; t < 5; t++) {
    const perm = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const b = new Atoms({ numbers: perm.map((i) => numbers[i]), positions: perm.flatMap((i) => a.position(i)) });
    const vb = bagOfBonds(b, layout);
    assert.ok(bobDistance(va, vb) < 1e-12);
  }
  assert.equal(bobDistance(va, va), 0);
  const moved = a.clone();
  moved.positions[0] += 0.5;
  const d = bobDistance(va, bagOfBonds(moved, layout));
  assert.ok(d > 0);
  // Euclidean: symmetric and equal to the norm of the difference.
  const vm = bagOfBonds(moved, layout);
  let s = 0;
  for (let k = 0; k < va.length; k++) s += (va[k] - vm[k]) ** 2;
  assert.ok(Math.abs(d - Math.sqrt(s)) < 1e-12);
  assert.equal(bobDistance(vm, va), d);
  assert.throws(() => bobDistance(va, new Float64Array(3)), RangeError);
});

test('translation and rotation invariance', () => {
  const b = new Atoms({ numbers: [1, 8, 1], positions: [0, 1 + 3, -2, 0, 0 + 3, -2, -2, 0 + 3, -2] }); // water rotated 90° about z, moved
  assert.ok(bobDistance(bagOfBonds(water), bagOfBonds(b)) < 1e-12);
});
