import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/util/rng.js';

test('Rng is reproducible from its seed and resumable from its state', () => {
  const a = new Rng(42);
  const b = new Rng(42);
  for (let i = 0; i < 10; i++) assert.equal(a.nextUint32(), b.nextUint32());
  const saved = a.state();
  const x = [a.next(), a.next(), a.int(7)];
  const c = new Rng(saved);
  assert.deepEqual([c.next(), c.next(), c.int(7)], x);
  assert.notEqual(new Rng(1).nextUint32(), new Rng(2).nextUint32());
});

test('Rng.next is uniform in [0,1) and normal has unit variance', () => {
  const r = new Rng(7);
  let sum = 0, sumSq = 0, min = 1, max = 0;
  const n = 100000;
  for (let i = 0; i < n; i++) { const u = r.next(); sum += u; min = Math.min(min, u); max = Math.max(max, u); }
  assert.ok(Math.abs(sum / n - 0.5) < 0.01);
  assert.ok(min >= 0 && max < 1);
  sum = 0;
  for (let i = 0; i < n; i++) { const g = r.normal(); sum += g; sumSq += g * g; }
  assert.ok(Math.abs(sum / n) < 0.02);
  assert.ok(Math.abs(sumSq / n - 1) < 0.03);
});
