import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplayBuffer } from '../../src/agent/replay.js';
import { Rng } from '../../src/util/rng.js';

test('a batch holds all steps of the best and of the most recent episode, then random steps', () => {
  const buf = new ReplayBuffer(1000);
  const rng = new Rng(1);
  for (let e = 0; e < 30; e++) {
    const acts = [e * 10 + 1, e * 10 + 2, e * 10 + 3, e * 10 + 4];
    buf.add(acts, e === 7 ? -50 : -e * 0.1);
  }
  assert.equal(buf.bestEpisode, 7);
  const batch = buf.sampleBatch(16, rng);
  assert.equal(batch.length, 16);
  const fromBest = batch.filter((s) => s.episode === 7).map((s) => s.step);
  const fromRecent = batch.filter((s) => s.episode === 29).map((s) => s.step);
  assert.deepEqual(fromBest.slice(0, 4), [0, 1, 2, 3]);
  assert.deepEqual(batch.slice(0, 8).map((s) => s.episode), [7, 7, 7, 7, 29, 29, 29, 29]);
  assert.ok(fromRecent.length >= 4);
  const keys = new Set(batch.map((s) => s.key));
  assert.equal(keys.size, batch.length, 'no state-action pair twice');
});

test('a repeated state-action pair is extracted once, with its best property', () => {
  const buf = new ReplayBuffer(100);
  // the same first two actions in different order give the same state before step 2
  buf.add([5, 6, 7], -1);
  buf.add([6, 5, 7], -9);
  buf.add([5, 6, 8], -4);
  const k0 = buf.stepKeys(0);
  const k1 = buf.stepKeys(1);
  const k2 = buf.stepKeys(2);
  assert.equal(k0[2], k1[2], 'state {5,6} + action 7 is one pair whatever the order');
  assert.notEqual(k0[0], k1[0]);
  assert.equal(k0[0], k2[0]);
  assert.notEqual(k0[2], k2[2]);
  const batch = buf.sampleBatch(100, new Rng(2));
  const withK = batch.filter((s) => s.key === k0[2]);
  assert.equal(withK.length, 1);
  assert.equal(withK[0].property, -9);
  const first = batch.filter((s) => s.key === k0[0]);
  assert.equal(first.length, 1);
  assert.equal(first[0].property, -4);
  assert.equal(batch.length, new Set(batch.map((s) => s.key)).size);
});

test('snapshot and restore give the same buffer, failed episodes included', () => {
  const buf = new ReplayBuffer(50);
  buf.add([1, 2], -3);
  buf.add([3], Infinity);
  buf.add([4, 5, 6], -7);
  const copy = ReplayBuffer.restore(50, buf.snapshot());
  assert.equal(copy.episodes, 3);
  assert.equal(copy.bestEpisode, 2);
  assert.equal(copy.property(1), Infinity);
  assert.deepEqual(Array.from(copy.episodeActions(2)), [4, 5, 6]);
  assert.deepEqual(copy.sampleBatch(5, new Rng(9)), buf.sampleBatch(5, new Rng(9)));
});
