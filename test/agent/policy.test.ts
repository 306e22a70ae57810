import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAction, randomAction } from '../../src/agent/policy.js';
import { Rng } from '../../src/util/rng.js';

// A fixed Q map over 200 actions: q[a] = a / 200, so the best is 199 and the
// best ν = 10% are 180..199. Actions 0..99 are allowed only where even.
function fixture() {
  const q = new Float32Array(200);
  const allowed = new Uint8Array(200);
  for (let a = 0; a < 200; a++) {
    q[a] = a / 200;
    allowed[a] = a >= 100 || a % 2 === 0 ? 1 : 0;
  }
  allowed[199] = 0; // the global best is forbidden: the greedy action is 198
  return { q, allowed };
}

test('greedy episodes always take the best allowed action', () => {
  const { q, allowed } = fixture();
  const rng = new Rng(3);
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(chooseAction(q, allowed, { epsilon: 1, epsilonNu: 0.5, nu: 0.1 }, true, rng), { action: 198, kind: 'greedy' });
  }
});

test('ε0, εν and greedy frequencies and the ν-fraction match Extended Data Fig. 8', () => {
  const { q, allowed } = fixture();
  const nAllowed = allowed.reduce((a, b) => a + b, 0); // 50 + 99 = 149
  const k = Math.ceil(0.1 * nAllowed); // 15 best: 184..198
  const rng = new Rng(11);
  const params = { epsilon: 0.3, epsilonNu: 0.1, nu: 0.1 };
  const counts = { greedy: 0, random: 0, nu: 0 };
  const n = 40000;
  let nuOutside = 0;
  let randomForbidden = 0;
  const randomHits = new Set<number>();
  for (let i = 0; i < n; i++) {
    const { action, kind } = chooseAction(q, allowed, params, false, rng);
    counts[kind]++;
    if (kind === 'greedy') assert.equal(action, 198);
    if (kind === 'nu' && (action < 198 - k + 1 || action > 198)) nuOutside++;
    if (kind === 'random') {
      if (!allowed[action]) randomForbidden++;
      randomHits.add(action);
    }
  }
  const tol = 4 * Math.sqrt((0.3 * 0.7) / n);
  assert.ok(Math.abs(counts.random / n - 0.2) < tol, `ε0 frequency ${counts.random / n}`);
  assert.ok(Math.abs(counts.nu / n - 0.1) < tol, `εν frequency ${counts.nu / n}`);
  assert.ok(Math.abs(counts.greedy / n - 0.7) < tol, `greedy frequency ${counts.greedy / n}`);
  assert.equal(nuOutside, 0, 'εν actions come from the best ν fraction of allowed actions');
  assert.equal(randomForbidden, 0, 'random actions are allowed ones');
  assert.ok(randomHits.size > 140, 'ε0 actions cover the allowed actions uniformly');
});

test('no allowed action gives -1; the random baseline picks only allowed actions', () => {
  const q = new Float32Array(10);
  assert.equal(chooseAction(q, new Uint8Array(10), { epsilon: 0.5, epsilonNu: 0.2, nu: 0.1 }, false, new Rng(1)).action, -1);
  assert.equal(randomAction(new Uint8Array(10), new Rng(1)), -1);
  const allowed = Uint8Array.from([0, 0, 1, 0, 1, 0, 0, 0, 0, 0]);
  const rng = new Rng(5);
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(randomAction(allowed, rng));
  assert.deepEqual([...seen].sort(), [2, 4]);
});

test('ties in Q (saturated outputs) are broken at random, not always at the grid corner', () => {
  const q = new Float32Array(50).fill(1);
  const allowed = new Uint8Array(50).fill(1);
  allowed[0] = 0;
  const rng = new Rng(8);
  const greedy = new Set<number>();
  const nu = new Set<number>();
  for (let i = 0; i < 300; i++) {
    greedy.add(chooseAction(q, allowed, { epsilon: 0, epsilonNu: 0, nu: 0.1 }, true, rng).action);
    nu.add(chooseAction(q, allowed, { epsilon: 1, epsilonNu: 1, nu: 0.1 }, false, rng).action);
  }
  assert.ok(greedy.size > 30 && !greedy.has(0), `greedy picks ${greedy.size} distinct tied actions`);
  assert.ok(nu.size > 30 && !nu.has(0));
  // a unique best consumes no random number: the sequence is the same as without the call
  const a = new Rng(3);
  const b = new Rng(3);
  const q2 = Float32Array.from({ length: 10 }, (_, i) => i / 10);
  chooseAction(q2, new Uint8Array(10).fill(1), { epsilon: 0, epsilonNu: 0, nu: 0.1 }, true, a);
  assert.equal(a.nextUint32(), b.nextUint32());
});
