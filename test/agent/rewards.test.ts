import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rewardsFromProperties } from '../../src/agent/rewards.js';

test('without ΔE the batch is scaled linearly to [-1, 1], 1 the lowest energy', () => {
  const r = rewardsFromProperties(Float64Array.of(-10, -5, 0), { deltaE: null, atoms: 4 });
  assert.deepEqual(Array.from(r), [1, 0, -1]);
});

test('with ΔE, -1 sits ΔE × N_atoms above the best and higher energies are clipped', () => {
  // best -100, ΔE·N = 2·24 = 48: -76 is halfway (0), -52 is -1, +30 is clipped to -1
  const r = rewardsFromProperties(Float64Array.of(-100, -76, -52, 30), { deltaE: 2, atoms: 24 });
  assert.deepEqual(Array.from(r), [1, 0, -1, -1]);
});

test('failed evaluations (+∞) get the worst reward and do not stretch the scale', () => {
  const r = rewardsFromProperties(Float64Array.of(-3, Infinity, -1), { deltaE: null, atoms: 2 });
  assert.deepEqual(Array.from(r), [1, -1, -1]);
  const same = rewardsFromProperties(Float64Array.of(-3, -3), { deltaE: null, atoms: 2 });
  assert.deepEqual(Array.from(same), [1, 1]);
});
