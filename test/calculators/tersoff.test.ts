import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { Atoms } from '../../src/structure/atoms.js';
import {
  TersoffCalculator,
  bundledPotentialPath,
  packageRootDir,
  parseTersoff,
  readTersoff,
} from '../../src/calculators/tersoff.js';
import { CalculationFailure } from '../../src/calculators/calculator.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { backendSkip, hasCommand } from '../support/backend.js';

interface Fixture {
  name: string;
  potential: string;
  /** Parameter file relative to the package root. */
  potential_file: string;
  numbers: number[];
  positions: number[][];
  cell: number[][];
  pbc: [boolean, boolean, boolean];
  energy: number;
}

const fixtures: Fixture[] = JSON.parse(readFileSync(join(packageRootDir(), 'fixtures', 'lammps', 'tersoff.json'), 'utf8')).fixtures;

function atomsOf(f: Fixture): Atoms {
  return new Atoms({ numbers: f.numbers, positions: f.positions, cell: f.cell, pbc: f.pbc });
}

/** The paper's 24-atom graphene cell, 8.54 × 7.40 Å (bond 8.54/6 Å), periodic in-plane. */
function graphene24(): Atoms {
  const d = 8.54 / 6;
  const a = 3 * d;
  const b = Math.sqrt(3) * d;
  const basis = [[0, 0], [d, 0], [1.5 * d, b / 2], [2.5 * d, b / 2]];
  const pos: number[] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (const [x, y] of basis) pos.push(x + i * a, y + j * b, 5);
  return new Atoms({ numbers: new Array(24).fill(6), positions: pos, cell: [2 * a, 0, 0, 0, 3 * b, 0, 0, 0, 10], pbc: [true, true, false] });
}

test('energies equal LAMMPS pair_style tersoff on every fixture (≤ 1e-6 eV/atom)', (t) => {
  const calcs = new Map<string, TersoffCalculator>();
  let worst = 0;
  let worstName = '';
  assert.ok(fixtures.length >= 40);
  for (const f of fixtures) {
    let calc = calcs.get(f.potential);
    if (!calc) {
      calc = TersoffCalculator.fromFile(join(packageRootDir(), f.potential_file));
      calcs.set(f.potential, calc);
    }
    const e = calc.energySync(atomsOf(f));
    const dev = Math.abs(e - f.energy) / f.numbers.length;
    if (dev > worst) {
      worst = dev;
      worstName = f.name;
    }
    assert.ok(dev <= 1e-6, `${f.name}: asla ${e} vs LAMMPS ${f.energy} (${dev} eV/atom)`);
  }
  t.diagnostic(`largest deviation from LAMMPS: ${worst.toExponential(2)} eV/atom (${worstName}) over ${fixtures.length} fixtures`);
});

test('energy is invariant under rotation, translation, permutation and re-wrapping', () => {
  const calc = TersoffCalculator.fromFile('BNC.tersoff');
  const f = fixtures.find((x) => x.name === 'triclinic8_bnc@BNC.tersoff')!;
  const atoms = atomsOf(f);
  const e0 = calc.energySync(atoms);
  // Rotation about an arbitrary axis applied to positions and cell.
  const th = 0.7;
  const [ux, uy, uz] = [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)];
  const c = Math.cos(th);
  const s = Math.sin(th);
  const R = [
    c + ux * ux * (1 - c), ux * uy * (1 - c) - uz * s, ux * uz * (1 - c) + uy * s,
    uy * ux * (1 - c) + uz * s, c + uy * uy * (1 - c), uy * uz * (1 - c) - ux * s,
    uz * ux * (1 - c) - uy * s, uz * uy * (1 - c) + ux * s, c + uz * uz * (1 - c),
  ];
  const rot = (v: Float64Array) => {
    const out = new Float64Array(v.length);
    for (let i = 0; i < v.length / 3; i++) {
      for (let k = 0; k < 3; k++) out[3 * i + k] = R[3 * k] * v[3 * i] + R[3 * k + 1] * v[3 * i + 1] + R[3 * k + 2] * v[3 * i + 2];
    }
    return out;
  };
  const rotated = new Atoms({ numbers: atoms.numbers, positions: rot(atoms.positions).map((x) => x + 3.1), cell: rot(atoms.cell), pbc: atoms.pbc });
  assert.ok(Math.abs(calc.energySync(rotated) - e0) < 1e-9);
  // Permute atoms and shift one by a lattice vector.
  const n = atoms.length;
  const perm = Array.from({ length: n }, (_, i) => (i * 3 + 1) % n);
  const pos = new Float64Array(3 * n);
  perm.forEach((src, dst) => pos.set(atoms.positions.subarray(3 * src, 3 * src + 3), 3 * dst));
  for (let k = 0; k < 3; k++) pos[k] += 2 * atoms.cell[3 + k] - atoms.cell[6 + k];
  const permuted = new Atoms({ numbers: perm.map((i) => atoms.numbers[i]), positions: pos, cell: atoms.cell, pbc: atoms.pbc });
  assert.ok(Math.abs(calc.energySync(permuted) - e0) < 1e-9);
});

test('Tersoff 1989 ranks perfect graphene far below a chain and random structures', async () => {
  const calc = TersoffCalculator.default();
  assert.equal(calc.name, 'tersoff(C.tersoff)');
  const eGraphene = (await calc.energy(graphene24())) / 24;
  assert.ok(eGraphene < -7.3 && eGraphene > -7.5, `graphene ${eGraphene} eV/atom`);
  // A straight chain with the same bond length, periodic along x.
  const d = 8.54 / 6;
  const chain = new Atoms({
    numbers: new Array(24).fill(6),
    positions: Array.from({ length: 24 }, (_, i) => [i * d, 3, 5]),
    cell: [24 * d, 0, 0, 0, 10, 0, 0, 0, 10],
    pbc: [true, false, false],
  });
  const eChain = calc.energySync(chain) / 24;
  assert.ok(eChain > eGraphene + 2, `chain ${eChain} vs graphene ${eGraphene}`);
  const rng = new Rng(7);
  const g = graphene24();
  for (let t = 0; t < 20; t++) {
    const pos: number[] = [];
    for (let i = 0; i < 24; i++) pos.push(8.54 * rng.next(), 7.3956 * rng.next(), 4 + 2 * rng.next());
    const random = new Atoms({ numbers: g.numbers, positions: pos, cell: g.cell, pbc: g.pbc });
    const e = calc.energySync(random) / 24;
    assert.ok(e > eGraphene + 1, `random ${e} vs graphene ${eGraphene}`);
  }
});

test('parser: comments, continuation lines, scientific notation', () => {
  const p = parseTersoff(
    ['# header UNITS: metal', '', 'C C C 3.0 1.0 0.0 3.8049e4 4.3484 # inline comment', '  -.57058 .72751 1.5724D-7', '2.2119 346.7 1.95 0.15 3.4879 1393.6', ''].join('\n'),
    'x.tersoff',
  );
  assert.equal(p.entries.length, 1);
  const e = p.entries[0];
  assert.deepEqual(e.elements, ['C', 'C', 'C']);
  assert.equal(e.c, 38049);
  assert.equal(e.costheta0, -0.57058);
  assert.equal(e.beta, 1.5724e-7);
  assert.equal(e.A, 1393.6);
  assert.equal(e.line, 3);
  // The bundled files parse and carry the published values.
  const c = readTersoff(bundledPotentialPath('C.tersoff'));
  assert.equal(c.entries.length, 1);
  assert.equal(c.entries[0].n, 0.72751);
  const bnc = readTersoff(bundledPotentialPath('BNC.tersoff'));
  assert.equal(bnc.entries.length, 27);
  assert.equal(bnc.entries.find((x) => x.elements.join('') === 'CCC')!.B, 430);
});

test('parser: malformed lines are InputErrors naming file, line and field', () => {
  const bad = (text: string, re: RegExp) =>
    assert.throws(() => parseTersoff(text, 'bad.tersoff'), (e: unknown) => e instanceof InputError && re.test(e.message));
  bad('C C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 1.95 0.15 3.48 abc', /^bad\.tersoff:1: .*field 'A'.*'abc'/);
  bad('\n\nC C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 1.95 0.15 3.48 1393 7', /^bad\.tersoff:3: expected 17 fields/);
  bad('C C C 3.0 1.0 0.0 38049 4.3484\n', /^bad\.tersoff:1: incomplete entry/);
  bad('C C C 2.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 1.95 0.15 3.48 1393', /field 'm'/);
  bad('C C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 0.1 0.15 3.48 1393', /^bad\.tersoff:1: .*field 'D'/);
  bad('C C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 -1e-7 2.2 346 1.95 0.15 3.48 1393', /field 'beta'/);
  bad('# UNITS: real\n', /^bad\.tersoff:1: units 'real'/);
  bad('# nothing\n', /no Tersoff entries/);
  const line = 'C C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 1.95 0.15 3.48 1393';
  assert.throws(
    () => new TersoffCalculator(parseTersoff(`${line}\n\n${line}\n`, 'dup.tersoff')),
    (e: unknown) => e instanceof InputError && /^dup\.tersoff:3: duplicate entry C C C \(first at line 1\)/.test(e.message),
  );
  assert.throws(() => TersoffCalculator.fromFile('/nonexistent/x.tersoff'), (e: unknown) => e instanceof InputError && /x\.tersoff.*ENOENT/.test(e.message));
});

test('missing triplets and elements are InputErrors naming the file and the triplet', () => {
  const calc = TersoffCalculator.default();
  const bn = new Atoms({ numbers: [6, 14], positions: [0, 0, 0, 1.8, 0, 0] });
  assert.throws(() => calc.energySync(bn), (e: unknown) => e instanceof InputError && /^C\.tersoff: .*Si Si Si/.test(e.message));
  // A file with C and Si entries but not all mixed triplets.
  const text = [
    'C C C 3.0 1.0 0.0 38049 4.3484 -0.57 0.72 1e-7 2.2 346 1.95 0.15 3.48 1393',
    'Si Si Si 3.0 1.0 0.0 100390 16.217 -0.59825 0.78734 1.1e-6 1.73222 471.18 2.85 0.15 2.4799 1830.8',
  ].join('\n');
  const partial = new TersoffCalculator(parseTersoff(text, 'partial.tersoff'));
  assert.ok(Number.isFinite(partial.energySync(new Atoms({ numbers: [14, 14], positions: [0, 0, 0, 2.3, 0, 0] }))));
  assert.throws(() => partial.energySync(bn), (e: unknown) => e instanceof InputError && /^partial\.tersoff: missing entry for the element triplet C C Si/.test(e.message));
});

test('coincident atoms are an invalid-structure failure; empty structure has zero energy', async () => {
  const calc = TersoffCalculator.default();
  const atoms = new Atoms({ numbers: [6, 6, 6], positions: [0, 0, 0, 1.4, 0, 0, 1.4, 0, 0] });
  await assert.rejects(calc.energy(atoms), (e: unknown) => e instanceof CalculationFailure && e.kind === 'invalid-structure');
  assert.equal(calc.energySync(new Atoms({ numbers: [], positions: [] })), 0);
  // An isolated atom has no neighbours and zero energy.
  assert.equal(calc.energySync(new Atoms({ numbers: [6], positions: [0, 0, 0] })), 0);
});

test('graphene energy equals a live LAMMPS run', { skip: backendSkip('lmp', hasCommand('lmp', ['-h'])) }, () => {
  const atoms = graphene24();
  const dir = mkdtempSync(join(tmpdir(), 'asla-lmp-'));
  try {
    const lines = ['# graphene24', '', '24 atoms', '1 atom types', '', `0 ${atoms.cell[0]} xlo xhi`, `0 ${atoms.cell[4]} ylo yhi`, `0 ${atoms.cell[8]} zlo zhi`, '', 'Masses', '', '1 12.011', '', 'Atoms # atomic', ''];
    for (let i = 0; i < 24; i++) lines.push(`${i + 1} 1 ${atoms.positions[3 * i]} ${atoms.positions[3 * i + 1]} ${atoms.positions[3 * i + 2]}`);
    writeFileSync(join(dir, 'data.lmp'), lines.join('\n') + '\n');
    writeFileSync(
      join(dir, 'in.lmp'),
      ['units metal', 'atom_style atomic', 'boundary p p f', 'read_data data.lmp', 'pair_style tersoff', `pair_coeff * * ${bundledPotentialPath('C.tersoff')} C`, 'run 0', 'print "ASLA_ENERGY $(pe:%.17g)"', ''].join('\n'),
    );
    const r = spawnSync('lmp', ['-echo', 'none', '-log', 'none', '-nocite', '-in', 'in.lmp'], { cwd: dir, encoding: 'utf8', timeout: 120000 });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const m = /ASLA_ENERGY (\S+)/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const eLammps = Number(m[1]);
    assert.ok(Math.abs(TersoffCalculator.default().energySync(atoms) - eLammps) / 24 <= 1e-6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
