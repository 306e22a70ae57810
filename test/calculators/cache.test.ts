import test from 'node:test';
import assert from 'node:assert/strict';
import { Atoms } from '../../src/structure/atoms.js';
import { CachedCalculator, structureKey } from '../../src/calculators/cache.js';
import { CalculationFailure, type Calculator } from '../../src/calculators/calculator.js';
import { TersoffCalculator } from '../../src/calculators/tersoff.js';
import { InputError } from '../../src/util/errors.js';

/** Counts calls; energy = sum of x coordinates; fails for structures with a negative x. */
class Counting implements Calculator {
  readonly name = 'counting';
  calls = 0;
  async energy(atoms: Atoms): Promise<number> {
    this.calls++;
    await new Promise((r) => setTimeout(r, 1));
    let e = 0;
    for (let i = 0; i < atoms.length; i++) {
      if (atoms.positions[3 * i] < 0) throw new CalculationFailure('not-converged', `atom ${i} at negative x`);
      if (atoms.positions[3 * i] > 100) throw new InputError('x too large');
      e += atoms.positions[3 * i];
    }
    return e;
  }
}

const at = (x: number, extra: Partial<{ numbers: number[]; cell: number[]; pbc: boolean }> = {}) =>
  new Atoms({ numbers: extra.numbers ?? [6, 6], positions: [x, 0, 0, 1, 0, 0], cell: extra.cell, pbc: extra.pbc });

test('repeats are served from the cache; any change in the structure is a miss', async () => {
  const inner = new Counting();
  const calc = new CachedCalculator(inner);
  assert.equal(calc.name, 'counting');
  assert.equal(await calc.energy(at(0.5)), 1.5);
  assert.equal(await calc.energy(at(0.5)), 1.5);
  assert.equal(inner.calls, 1);
  // Last-bit change of a position, other numbers, cell or pbc: all different keys.
  await calc.energy(at(0.5 + Number.EPSILON));
  await calc.energy(at(0.5, { numbers: [6, 7] }));
  await calc.energy(at(0.5, { cell: [5, 0, 0, 0, 5, 0, 0, 0, 5] }));
  await calc.energy(at(0.5, { cell: [5, 0, 0, 0, 5, 0, 0, 0, 5], pbc: true }));
  assert.equal(inner.calls, 5);
  assert.deepEqual(calc.stats(), { hits: 1, misses: 5, size: 5, maxEntries: 100000 });
  assert.notEqual(structureKey(at(0)), structureKey(at(-0)));
});

test('failures are cached and rethrown with the same kind; other errors are not cached', async () => {
  const inner = new Counting();
  const calc = new CachedCalculator(inner);
  for (let t = 0; t < 3; t++) {
    await assert.rejects(calc.energy(at(-1)), (e: unknown) => e instanceof CalculationFailure && e.kind === 'not-converged' && /negative x/.test(e.message));
  }
  assert.equal(inner.calls, 1);
  await assert.rejects(calc.energy(at(200)), InputError);
  await assert.rejects(calc.energy(at(200)), InputError);
  assert.equal(inner.calls, 3);
});

test('bounded LRU evicts the least recently used structure', async () => {
  const inner = new Counting();
  const calc = new CachedCalculator(inner, { maxEntries: 2 });
  await calc.energy(at(1));
  await calc.energy(at(2));
  await calc.energy(at(1)); // 1 is now the most recent
  await calc.energy(at(3)); // evicts 2
  assert.equal(calc.stats().size, 2);
  const before = inner.calls;
  await calc.energy(at(1));
  assert.equal(inner.calls, before);
  await calc.energy(at(2));
  assert.equal(inner.calls, before + 1);
  assert.throws(() => new CachedCalculator(inner, { maxEntries: 0 }), InputError);
});

test('concurrent requests for one structure share one evaluation', async () => {
  const inner = new Counting();
  const calc = new CachedCalculator(inner);
  const results = await Promise.all([calc.energy(at(4)), calc.energy(at(4)), calc.energy(at(4))]);
  assert.deepEqual(results, [5, 5, 5]);
  assert.equal(inner.calls, 1);
});

test('synchronous path through a Tersoff calculator, failures included', () => {
  const calc = new CachedCalculator(TersoffCalculator.default());
  const a = new Atoms({ numbers: [6, 6, 6], positions: [0, 0, 0, 1.4, 0, 0, 0.7, 1.2, 0] });
  const e = calc.energySync(a);
  assert.equal(calc.energySync(a.clone()), e);
  const bad = new Atoms({ numbers: [6, 6], positions: [0, 0, 0, 0, 0, 0] });
  assert.throws(() => calc.energySync(bad), (x: unknown) => x instanceof CalculationFailure && x.kind === 'invalid-structure');
  assert.throws(() => calc.energySync(bad), (x: unknown) => x instanceof CalculationFailure && x.kind === 'invalid-structure');
  assert.deepEqual(calc.stats(), { hits: 2, misses: 2, size: 2, maxEntries: 100000 });
  assert.throws(() => new CachedCalculator(new Counting()).energySync(a), /no synchronous energy/);
});
