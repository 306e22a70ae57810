import { test } from 'node:test';
import { parseExtxyz } from '../../src/structure/extxyz.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Atoms } from '../../src/structure/atoms.js';
import { CalculationFailure, evaluate } from '../../src/calculators/calculator.js';
import { HARTREE_EV, XtbCalculator } from '../../src/calculators/xtb.js';
import { InputError } from '../../src/util/errors.js';
import { backendSkip, hasCommand } from '../support/backend.js';

const FIXTURES = new URL('../../../fixtures/molecules/', import.meta.url);
const skip = backendSkip('xtb', hasCommand('xtb'));

function atomsFromXyz(text: string): Atoms {
  return parseExtxyz(text)[0];
}

/** Runs the xtb command line directly on `file` in a fresh directory; the TOTAL ENERGY in eV. */
function xtbDirect(name: string, text: string, args: string[]): number {
  const dir = mkdtempSync(join(tmpdir(), 'xtb-direct-'));
  try {
    writeFileSync(join(dir, name), text);
    const r = spawnSync('xtb', [name, ...args], { cwd: dir, env: { ...process.env, OMP_NUM_THREADS: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, `xtb exit ${r.status}: ${r.stderr}`);
    const m = /TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh/.exec(r.stdout);
    assert.ok(m, 'TOTAL ENERGY line');
    return Number(m[1]) * HARTREE_EV;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Rectangular 24-atom graphene cell (3 × 2 cells of 4 atoms, C–C 1.42 Å), a 2D sheet in the xy plane. */
function graphene24(): { atoms: Atoms; a: number; b: number } {
  const d = 1.42;
  const a0 = d * Math.sqrt(3);
  const b0 = 3 * d;
  const basis = [[0, 0], [0, d], [a0 / 2, 1.5 * d], [a0 / 2, 2.5 * d]];
  const positions: number[] = [];
  for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) for (const [x, y] of basis) positions.push(x + i * a0, y + j * b0, 0);
  const atoms = new Atoms({ numbers: new Array(24).fill(6), positions, cell: [3 * a0, 0, 0, 0, 2 * b0, 0, 0, 0, 0], pbc: [true, true, false] });
  return { atoms, a: 3 * a0, b: 2 * b0 };
}

/** Counts the asla-xtb-* directories a calculator leaves in TMPDIR during `body`. */
async function withTmpdir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'xtb-test-tmp-'));
  const old = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  try {
    return await body(dir);
  } finally {
    if (old === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = old;
    rmSync(dir, { recursive: true, force: true });
  }
}

test('GFN2 energies equal the xtb command line on the same XYZ', { skip }, async () => {
  await withTmpdir(async (tmp) => {
    const calc = new XtbCalculator();
    for (const name of ['acrylic_acid.xyz', 'vinyl_formate.xyz', 'co2_ethylene.xyz']) {
      const text = readFileSync(new URL(name, FIXTURES), 'utf8');
      const expected = xtbDirect(name, text, ['--sp', '--norestart', '--gfn', '2']);
      const e = await calc.energy(atomsFromXyz(text));
      assert.ok(Math.abs(e - expected) < 1e-6, `${name}: ${e} vs ${expected}`);
    }
    assert.deepEqual(readdirSync(tmp), [], 'temporary directories removed');
    assert.equal(calc.stats.runs, 3);
  });
});

test('periodic 24-atom graphene with GFN1: vacuum added along the non-periodic axis', { skip }, async () => {
  const { atoms, a, b } = graphene24();
  const calc = new XtbCalculator();
  const input = calc.input(atoms);
  assert.equal(input.method, 'gfn1');
  assert.equal(input.file, 'coord');
  // Same cell written by hand with c = 15 Å (the default vacuum over a flat sheet).
  const bohr = 0.529177210903;
  let coord = '$coord\n';
  for (let i = 0; i < 24; i++) coord += `${atoms.positions[3 * i] / bohr} ${atoms.positions[3 * i + 1] / bohr} 0 c\n`;
  coord += `$periodic 3\n$lattice bohr\n${a / bohr} 0 0\n0 ${b / bohr} 0\n0 0 ${15 / bohr}\n$end\n`;
  const expected = xtbDirect('coord', coord, ['--sp', '--norestart', '--gfn', '1']);
  const e = await calc.energy(atoms);
  assert.ok(Math.abs(e - expected) < 1e-6, `${e} vs ${expected}`);
  // A fully periodic cell with the same c vector gives the same energy.
  const full = new Atoms({ numbers: atoms.numbers, positions: atoms.positions, cell: [a, 0, 0, 0, b, 0, 0, 0, 15], pbc: true });
  assert.ok(Math.abs((await calc.energy(full)) - expected) < 1e-6);
});

test('periodic cells need GFN1: gfn2 is an InputError', { skip }, async () => {
  const { atoms } = graphene24();
  await assert.rejects(new XtbCalculator({ method: 'gfn2' }).energy(atoms), InputError);
});

test('two atoms on the same spot: invalid-structure', { skip }, async () => {
  await withTmpdir(async (tmp) => {
    const calc = new XtbCalculator();
    const atoms = new Atoms({ numbers: [6, 6, 8], positions: [0, 0, 0, 0, 0, 0, 1.2, 0, 0] });
    const r = await evaluate(calc, atoms);
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.kind, 'invalid-structure');
    assert.match(!r.ok ? r.message : '', /very\* short distance/);
    assert.deepEqual(readdirSync(tmp), []);
  });
});

test('SCC not converged: retried once with --etemp 3000, else not-converged', { skip }, async () => {
  // Three isolated atoms, 5 Å apart: GFN2 at 300 K does not converge, at 3000 K it does.
  const atoms = new Atoms({ numbers: [6, 8, 1], positions: [0, 0, 0, 5, 0, 0, 10, 0, 0] });
  const calc = new XtbCalculator();
  const e = await calc.energy(atoms);
  assert.equal(calc.stats.retries, 1);
  assert.equal(calc.stats.rescued, 1);
  const xyz = '3\n\nC 0 0 0\nO 5 0 0\nH 10 0 0\n';
  assert.ok(Math.abs(e - xtbDirect('iso.xyz', xyz, ['--sp', '--norestart', '--gfn', '2', '--etemp', '3000'])) < 1e-6);
  const strict = new XtbCalculator({ retryEtemp: false });
  await assert.rejects(strict.energy(atoms), (err: unknown) => err instanceof CalculationFailure && err.kind === 'not-converged' && /did not converge/.test(err.message));
  assert.equal(strict.stats.failures['not-converged'], 1);
});

test('timeout: the process is killed and the evaluation fails with timeout', { skip }, async () => {
  await withTmpdir(async (tmp) => {
    const text = readFileSync(new URL('acrylic_acid.xyz', FIXTURES), 'utf8');
    const calc = new XtbCalculator({ timeoutMs: 1 });
    const r = await evaluate(calc, atomsFromXyz(text));
    assert.deepEqual(r.ok ? 'ok' : r.kind, 'timeout');
    assert.deepEqual(readdirSync(tmp), []);
  });
});

test('xtb missing: backend-missing with a one-line message', async () => {
  const calc = new XtbCalculator({ executable: '/nonexistent/xtb' });
  const atoms = new Atoms({ numbers: [8, 1, 1], positions: [0, 0, 0.119, 0, 0.763, -0.477, 0, -0.763, -0.477] });
  const r = await evaluate(calc, atoms);
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.kind, 'backend-missing');
    assert.ok(!r.message.includes('\n'));
    assert.match(r.message, /Debian package xtb/);
  }
});

test('options are validated with InputErrors naming the field', () => {
  assert.throws(() => new XtbCalculator({ threads: 0 }), /xtb\.threads/);
  assert.throws(() => new XtbCalculator({ concurrency: 1.5 }), /xtb\.concurrency/);
  assert.throws(() => new XtbCalculator({ method: 'gfn0' as 'gfn1' }), /xtb\.method/);
  assert.throws(() => new XtbCalculator().input(new Atoms({ numbers: [0], positions: [0, 0, 0] })), InputError);
});

test('concurrency limit: never more xtb processes at once than allowed', { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'xtb-conc-'));
  try {
    // A wrapper that logs start/end around the real xtb and holds the slot a little longer.
    const log = join(dir, 'log');
    const wrapper = join(dir, 'xtb-wrapper');
    writeFileSync(wrapper, `#!/bin/sh\necho start >> '${log}'\nsleep 0.3\nxtb "$@"\nrc=$?\necho end >> '${log}'\nexit $rc\n`);
    chmodSync(wrapper, 0o755);
    const calc = new XtbCalculator({ executable: wrapper, concurrency: 2 });
    const text = readFileSync(new URL('acrylic_acid.xyz', FIXTURES), 'utf8');
    const atoms = atomsFromXyz(text);
    const energies = await Promise.all(Array.from({ length: 6 }, () => calc.energy(atoms)));
    for (const e of energies) assert.equal(e, energies[0]);
    let running = 0;
    let max = 0;
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 12);
    for (const l of lines) {
      running += l === 'start' ? 1 : -1;
      max = Math.max(max, running);
    }
    assert.equal(max, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('abort signal kills the run and rejects with the reason', { skip }, async () => {
  const text = readFileSync(new URL('acrylic_acid.xyz', FIXTURES), 'utf8');
  const calc = new XtbCalculator();
  const ctl = new AbortController();
  const p = calc.energy(atomsFromXyz(text), { signal: ctl.signal });
  ctl.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  // The slot was released: the next evaluation runs.
  assert.ok(Number.isFinite(await calc.energy(atomsFromXyz(text))));
});
