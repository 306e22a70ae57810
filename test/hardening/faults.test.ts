/**
 * Faults (issue 11): a calculator that fails at a given rate — throws, hangs,
 * crashes its child process, returns NaN. The run finishes, every injected
 * fault is in the episode log as a failed evaluation of the right kind and is
 * counted in the summary (also across a resume), a hang is cut by
 * calculator.timeoutMs, and NaN is a failure, never an energy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS } from '../../src/agent/presets.js';
import { validateProblem, type ProblemConfig } from '../../src/agent/problem.js';
import type { EpisodeRecord } from '../../src/agent/agent.js';
import { CalculationFailure, createCalculator, evaluate, FaultyCalculator, TersoffCalculator, TimeoutCalculator } from '../../src/calculators/index.js';
import { Run } from '../../src/search/run.js';
import { structureKey } from '../../src/calculators/cache.js';
import { InputError } from '../../src/util/errors.js';
import { Atoms } from '../../src/structure/atoms.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const cli = join(root, 'dist/src/cli/main.js');

function config(over: Partial<ProblemConfig['calculator']> = {}, episodes = 25): ProblemConfig {
  const base = structuredClone(PRESETS['graphene-small']);
  base.run = { ...base.run, episodes, seed: 4 };
  base.calculator = { ...base.calculator, ...over };
  return validateProblem(base, 'test');
}

function readLog(dir: string): EpisodeRecord[] {
  return readFileSync(join(dir, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as EpisodeRecord);
}

/** The kind a failed evaluation is recorded with, for each injected fault. */
const RECORDED = { throw: 'not-converged', hang: 'timeout', crash: 'crashed', nan: 'crashed' } as const;

test('every injected fault is recorded with its kind, counted in the summary, and the run finishes', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-faults-'));
  try {
    const faulty = new FaultyCalculator(TersoffCalculator.default(), { rate: 0.4, seed: 11 });
    const cfg = config({ timeoutMs: 150 });
    const run = await Run.open({ dir, config: cfg, calculator: faulty, warn: () => undefined });
    const summary = await run.run();
    await run.close();
    assert.equal(summary.episodes, 25);
    const records = readLog(dir);
    assert.deepEqual(records.map((r) => r.episode), Array.from({ length: 25 }, (_, i) => i + 1), 'no episode lost or repeated');
    // each episode's structure, rebuilt from its actions, decides its fault: failed exactly when a fault was injected
    const byKind: Record<string, number> = {};
    const failedStructures = new Set<string>();
    for (const r of records) {
      const structure = run.agent.structureFromActions(r.actions.map(([c, i0, i1]) => run.agent.encodeAction(c, i0, i1)));
      if (r.failure !== null) failedStructures.add(structureKey(structure));
      const fault = faulty.faultOf(structure);
      if (fault === null) {
        assert.equal(r.failure, null, `episode ${r.episode}: no fault injected, yet ${JSON.stringify(r.failure)}`);
        assert.ok(Number.isFinite(r.energy), `episode ${r.episode}: finite energy`);
      } else {
        assert.equal(r.failure?.kind, RECORDED[fault], `episode ${r.episode}: ${fault} recorded as ${r.failure?.kind}`);
        assert.equal(r.energy, null);
        assert.equal(r.property, null, 'a failed evaluation gets the worst property, logged as null');
        byKind[r.failure!.kind] = (byKind[r.failure!.kind] ?? 0) + 1;
      }
    }
    const failed = records.filter((r) => r.failure !== null).length;
    assert.ok(failed >= 4, `rate 0.4 over 25 episodes injected ${failed} faults`);
    assert.ok(Object.keys(byKind).length >= 2, `several kinds: ${JSON.stringify(byKind)}`);
    assert.equal(summary.failedEvaluations, failed);
    assert.deepEqual(summary.failuresByKind, byKind);
    // the hang was cut by the timeout, the NaN did not become an energy
    const timeouts = records.filter((r) => r.failure?.kind === 'timeout');
    for (const r of timeouts) assert.match(r.failure!.message, /no energy within 150 ms/);
    for (const r of records) if (r.energy !== null) assert.ok(Number.isFinite(r.energy));
    // the run's cache remembers failures (src/calculators/cache.ts), so a repeated failing structure is injected once;
    // the reference candidates are evaluated too and may take injections of their own
    assert.ok(Object.values(faulty.injected).reduce((a, b) => a + b, 0) >= failedStructures.size, 'every distinct failed structure was injected');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a hang is cut by calculator.timeoutMs; without a timeout the evaluation would wait forever', async () => {
  const hanging = new FaultyCalculator(TersoffCalculator.default(), { rate: 1, kinds: ['hang'] });
  const atoms = new Atoms({ numbers: [6, 6], positions: [0, 0, 0, 1.4, 0, 0], cell: [10, 0, 0, 0, 10, 0, 0, 0, 10], pbc: [false, false, false] });
  const t0 = performance.now();
  const r = await evaluate(new TimeoutCalculator(hanging, 50), atoms);
  assert.deepEqual(r.ok ? null : r.kind, 'timeout');
  assert.ok(performance.now() - t0 < 10000);
  // an answer in time passes through unchanged
  const fine = await evaluate(new TimeoutCalculator(TersoffCalculator.default(), 5000), atoms);
  assert.ok(fine.ok && Number.isFinite(fine.energy));
  // and without a timeout the hang never settles (checked over 100 ms)
  const state = await Promise.race([evaluate(hanging, atoms).then(() => 'settled'), new Promise((r) => setTimeout(() => r('pending'), 100))]);
  assert.equal(state, 'pending');
});

test('NaN and a crashed child process are failures, never energies', async () => {
  const atoms = new Atoms({ numbers: [6, 6], positions: [0, 0, 0, 1.4, 0, 0], cell: [10, 0, 0, 0, 10, 0, 0, 0, 10], pbc: [false, false, false] });
  const nan = await evaluate(new FaultyCalculator(TersoffCalculator.default(), { rate: 1, kinds: ['nan'] }), atoms);
  assert.equal(nan.ok, false);
  assert.equal(!nan.ok && nan.kind, 'crashed');
  assert.match(!nan.ok ? nan.message : '', /non-finite energy NaN/);
  const crash = await evaluate(new FaultyCalculator(TersoffCalculator.default(), { rate: 1, kinds: ['crash'] }), atoms);
  assert.equal(!crash.ok && crash.kind, 'crashed');
  assert.match(!crash.ok ? crash.message : '', /killed by SIGKILL/);
  await assert.rejects(new FaultyCalculator(TersoffCalculator.default(), { rate: 1, kinds: ['throw'] }).energy(atoms), CalculationFailure);
  // rate 0: the wrapped calculator's energy, bit for bit
  const plain = await TersoffCalculator.default().energy(atoms);
  assert.equal(await new FaultyCalculator(TersoffCalculator.default(), { rate: 0 }).energy(atoms), plain);
});

test('the faulty calculator is selectable by name and its options are validated', async () => {
  const calc = await createCalculator('faulty', { inner: 'tersoff', rate: 0.5, kinds: ['nan'], seed: 2 });
  assert.ok(calc instanceof FaultyCalculator);
  assert.match(calc.name, /faulty\(tersoff/);
  for (const [options, field] of [
    [{ rate: 2 }, 'calculator.options.rate'],
    [{ kinds: ['explode'] }, 'calculator.options.kinds'],
    [{ inner: 'faulty' }, 'calculator.options.inner'],
    [{ seed: -1 }, 'calculator.options.seed'],
    [{ bogus: 1 }, 'calculator.options'],
  ] as const) {
    await assert.rejects(createCalculator('faulty', options as Record<string, unknown>), (e: unknown) => e instanceof InputError && e.message.includes(field));
  }
  assert.throws(() => config({ timeoutMs: -5 }), /calculator\.timeoutMs/);
});

test('asla run with faults: the summary counts the failures of all sessions after a resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-faults-cli-'));
  try {
    const cfg = join(dir, 'faulty.yaml');
    writeFileSync(cfg, 'preset: graphene-small\ncalculator:\n  name: faulty\n  options: {inner: tersoff, rate: 0.5, kinds: [throw, nan, crash, hang], seed: 5}\n  timeoutMs: 100\n');
    const out = join(dir, 'run');
    const first = spawnSync(process.execPath, [cli, 'run', cfg, '--episodes', '8', '--seed', '2', '--out', out, '--quiet'], { encoding: 'utf8' });
    assert.equal(first.status, 0, first.stderr);
    const second = spawnSync(process.execPath, [cli, 'run', '--resume', out, '--episodes', '16', '--quiet'], { encoding: 'utf8' });
    assert.equal(second.status, 0, second.stderr);
    const summary = JSON.parse(second.stdout) as { episodes: number; failedEvaluations: number; failedEvaluationsThisSession: number; failuresByKind: Record<string, number> };
    const records = readLog(out);
    const failed = records.filter((r) => r.failure !== null);
    assert.equal(summary.episodes, 16);
    assert.ok(failed.length > 0);
    assert.equal(summary.failedEvaluations, failed.length, 'counted over both sessions');
    assert.equal(summary.failedEvaluationsThisSession, failed.filter((r) => r.episode > 8).length);
    const kinds: Record<string, number> = {};
    for (const r of failed) kinds[r.failure!.kind] = (kinds[r.failure!.kind] ?? 0) + 1;
    assert.deepEqual(summary.failuresByKind, kinds);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
