import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Atoms } from '../../src/structure/atoms.js';
import { parseExtxyz, readExtxyz, formatExtxyz, writeExtxyz } from '../../src/structure/extxyz.js';
import { InputError } from '../../src/util/errors.js';
import { backendSkip, hasPythonModule } from '../support/backend.js';

// dist/test/structure/ -> repository root
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const FIXTURES = join(ROOT, 'fixtures', 'ase');
const SCRIPT = join(ROOT, 'scripts', 'make_ase_fixtures.py');
const NAMES = ['graphene', 'triclinic', 'molecule', 'multiframe', 'arrays', 'move_mask', 'info'];

interface AseInfo {
  type: string;
  value: unknown;
}
interface AseFrame {
  numbers: number[];
  symbols: string[];
  positions: number[];
  cell: number[];
  pbc: boolean[];
  info: Record<string, AseInfo>;
  arrays: Record<string, { type: 'R' | 'I' | 'L' | 'S'; ncols: number; values: unknown[] }>;
  fixed_indices: number[];
}

function expected(name: string): AseFrame[] {
  return (JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { frames: AseFrame[] }).frames;
}

/** Which atoms ASE considers fixed: FixAtoms (from move_mask) or a logical `fixed` column. */
function aseFixed(f: AseFrame): number[] {
  const fixed = new Array<number>(f.numbers.length).fill(0);
  for (const i of f.fixed_indices) fixed[i] = 1;
  const col = f.arrays.fixed;
  if (col) col.values.forEach((v, i) => (fixed[i] = v ? 1 : 0));
  return fixed;
}

/** asla's frame equals what ASE holds, number for number. */
function assertSameAsAse(atoms: Atoms, f: AseFrame, label: string): void {
  assert.deepEqual(Array.from(atoms.numbers), f.numbers, `${label}: numbers`);
  assert.deepEqual(Array.from(atoms.positions), f.positions, `${label}: positions`);
  assert.deepEqual(Array.from(atoms.cell), f.cell, `${label}: cell`);
  assert.deepEqual(atoms.pbc, f.pbc, `${label}: pbc`);
  assert.deepEqual(Array.from(atoms.fixed), aseFixed(f), `${label}: fixed`);
  assert.deepEqual(Object.keys(atoms.info).sort(), Object.keys(f.info).sort(), `${label}: info keys`);
  for (const [k, v] of Object.entries(f.info)) assert.deepEqual(atoms.info[k], v.value, `${label}: info.${k}`);
  const aseArrays = Object.keys(f.arrays).filter((k) => k !== 'fixed');
  assert.deepEqual(Object.keys(atoms.arrays).sort(), aseArrays.sort(), `${label}: array names`);
  for (const k of aseArrays) assert.deepEqual(atoms.arrays[k], f.arrays[k], `${label}: arrays.${k}`);
}

test('reads every ASE fixture to exactly what ASE reads', () => {
  for (const name of NAMES) {
    const frames = readExtxyz(join(FIXTURES, `${name}.extxyz`));
    const exp = expected(name);
    assert.equal(frames.length, exp.length, `${name}: frame count`);
    frames.forEach((a, i) => assertSameAsAse(a, exp[i], `${name}[${i}]`));
  }
});

test('fixture contents: graphene energy/pbc, molecule without cell, typed info, extra columns', () => {
  const [g] = readExtxyz(join(FIXTURES, 'graphene.extxyz'));
  assert.equal(g.info.energy, -165.123456789);
  assert.deepEqual(g.pbc, [true, true, false]);
  assert.deepEqual(Array.from(g.cell.subarray(0, 3)), [7.38, 0, 0]);
  assert.ok(Object.is(g.cell[7], -0), 'Lattice "-0.0" keeps its sign');

  const [m] = readExtxyz(join(FIXTURES, 'molecule.extxyz'));
  assert.deepEqual(m.pbc, [false, false, false]);
  assert.ok(m.cell.every((x) => x === 0));

  const [t] = readExtxyz(join(FIXTURES, 'info.extxyz'));
  assert.equal(t.info.count, 7);
  assert.equal(t.info.temperature, 300.5);
  assert.equal(t.info.flag, true);
  assert.equal(t.info.off, false);
  assert.equal(t.info.name, 'silver dimer');
  assert.equal(t.info.bare, 'ag2');
  assert.deepEqual(t.info.int_vec, [1, 2, 3]);
  assert.deepEqual(t.info.float_vec, [0.5, -1.25, 3]);
  assert.deepEqual(t.info.bool_vec, [true, false, true]);
  assert.deepEqual(t.info.nested, { a: 1, b: [1, 2] });
  assert.deepEqual(t.pbc, [false, false, false], 'explicit pbc wins over Lattice');
  assert.equal(t.cell[8], 10);

  const [x] = readExtxyz(join(FIXTURES, 'arrays.extxyz'));
  assert.equal(x.arrays.forces.type, 'R');
  assert.equal(x.arrays.forces.ncols, 3);
  assert.equal(x.arrays.tags.type, 'I');
  assert.equal(x.arrays.pair.ncols, 2);
  assert.equal(x.arrays.label.values[0], 'ring');
  assert.deepEqual(Array.from(x.fixed), [1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
  assert.equal(x.arrays.fixed, undefined, 'the logical fixed column becomes Atoms.fixed');

  const [w] = readExtxyz(join(FIXTURES, 'move_mask.extxyz'));
  assert.deepEqual(Array.from(w.fixed), [1, 0, 0], "ASE's move_mask (true = free) inverted");

  const multi = readExtxyz(join(FIXTURES, 'multiframe.extxyz'));
  assert.deepEqual(multi.map((a) => a.length), [2, 5, 8, 4]);
  assert.deepEqual(multi.map((a) => a.info.step), [0, 1, 2, undefined]);
});

test('asla round trip: format then parse gives identical frames', () => {
  for (const name of NAMES) {
    const frames = readExtxyz(join(FIXTURES, `${name}.extxyz`));
    const again = parseExtxyz(formatExtxyz(frames), `${name}-roundtrip`);
    assert.equal(again.length, frames.length);
    frames.forEach((a, i) => {
      const b = again[i];
      assert.deepEqual(b.numbers, a.numbers);
      assert.deepEqual(b.positions, a.positions);
      assert.deepEqual(b.cell, a.cell);
      assert.deepEqual(b.pbc, a.pbc);
      assert.deepEqual(b.fixed, a.fixed);
      assert.deepEqual(b.info, a.info);
      assert.deepEqual(b.arrays, a.arrays);
    });
  }
});

function built(): Atoms {
  // Values chosen so that a printf-style writer would lose them: 0.1+0.2, 1/3, tiny and -0.
  return new Atoms({
    numbers: [6, 8, 1, 47],
    positions: [0.1 + 0.2, 1 / 3, -0, 1e-12, 2, 3, -4.5, 6.25, 7, 100.000000001, -2e-7, 1e5],
    cell: [5.1, 0, 0, -2.55, 4.41672955, 0, 0.3, -0.2, 20],
    pbc: [true, false, true],
    fixed: [1, 0, 0, 1],
    info: {
      energy: -12,
      step: 3,
      ratio: 0.25,
      converged: true,
      label: 'test "quoted" value',
      word: 'plain',
      ints: [1, -2, 3],
      reals: [0.5, 2, -1e-9],
      flags: [false, true],
      meta: { k: ['a', 1] },
    },
    arrays: {
      forces: { type: 'R', ncols: 3, values: [0.1, -0.2, 0.3, 1 / 7, 0, -0, 5, 6, 7, 8, 9, 10] },
      tags: { type: 'I', ncols: 1, values: [0, 1, -2, 30000] },
      mask: { type: 'L', ncols: 2, values: [true, false, false, true, true, true, false, false] },
      kind: { type: 'S', ncols: 1, values: ['a', 'b', 'cc', 'd'] },
    },
  });
}

test('asla-built frames survive format/parse exactly', () => {
  const a = built();
  const [b] = parseExtxyz(formatExtxyz(a));
  assert.deepEqual(b.positions, a.positions);
  assert.ok(Object.is(b.positions[2], -0));
  assert.deepEqual(b.cell, a.cell);
  assert.deepEqual(b.pbc, a.pbc);
  assert.deepEqual(b.fixed, a.fixed);
  assert.deepEqual(b.info, a.info);
  assert.deepEqual(b.arrays, a.arrays);
  assert.match(formatExtxyz(a).split('\n')[1], /energy=-12\.0 /, 'energy is always written as a float');
});

function aseDump(paths: string[]): { frames: AseFrame[] }[] {
  const r = spawnSync('/usr/bin/python3', [SCRIPT, '--dump', ...paths], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { frames: AseFrame[] }[];
}

/** As assertSameAsAse, but integer-valued floats in info may come back as ints (JS has one number type). */
function assertAseReadsBack(atoms: Atoms, f: AseFrame, exp: AseFrame | undefined, label: string): void {
  assert.deepEqual(f.numbers, Array.from(atoms.numbers), `${label}: numbers`);
  assert.deepEqual(f.positions, Array.from(atoms.positions), `${label}: positions`);
  assert.deepEqual(f.cell, Array.from(atoms.cell), `${label}: cell`);
  assert.deepEqual(f.pbc, atoms.pbc, `${label}: pbc`);
  assert.deepEqual(aseFixed(f), Array.from(atoms.fixed), `${label}: fixed`);
  assert.deepEqual(Object.keys(f.info).sort(), Object.keys(atoms.info).sort(), `${label}: info keys`);
  for (const [k, v] of Object.entries(f.info)) {
    assert.deepEqual(v.value, atoms.info[k], `${label}: info.${k}`);
    if (k === 'energy') assert.equal(v.type, 'float', `${label}: energy is a float`);
    const want = exp?.info[k]?.type;
    if (want && want !== v.type) {
      // Only allowed loss: an integer-valued float written as an int.
      assert.ok(want.startsWith('float') && v.type === want.replace('float', 'int'), `${label}: info.${k} ${want} -> ${v.type}`);
    }
  }
  for (const [k, arr] of Object.entries(atoms.arrays)) assert.deepEqual(f.arrays[k], arr, `${label}: arrays.${k}`);
}

test('ASE reads what asla writes back to the same values', { skip: backendSkip('python3-ase', hasPythonModule('ase')) }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-extxyz-'));
  try {
    const written: string[] = [];
    const sources: Atoms[][] = [];
    for (const name of NAMES) {
      const frames = readExtxyz(join(FIXTURES, `${name}.extxyz`));
      const path = join(dir, `${name}.extxyz`);
      writeExtxyz(path, frames);
      written.push(path);
      sources.push(frames);
    }
    const extra = join(dir, 'built.extxyz');
    writeExtxyz(extra, [built(), built()]);
    const dumps = aseDump([...written, extra]);
    NAMES.forEach((name, n) => {
      const exp = expected(name);
      assert.equal(dumps[n].frames.length, exp.length);
      dumps[n].frames.forEach((f, i) => {
        assertAseReadsBack(sources[n][i], f, exp[i], `${name}[${i}]`);
        // and against ASE's own reading of its original file
        assert.deepEqual(f.positions, exp[i].positions);
        assert.deepEqual(f.cell, exp[i].cell);
      });
    });
    const b = dumps[NAMES.length];
    assert.equal(b.frames.length, 2);
    assertAseReadsBack(built(), b.frames[1], undefined, 'built');
    assert.equal(b.frames[1].info.step.type, 'int');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeExtxyz is atomic: no temporary files left, failure leaves nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-extxyz-'));
  try {
    const path = join(dir, 'out.extxyz');
    writeExtxyz(path, built());
    writeExtxyz(path, [built(), built()]); // replaces
    assert.deepEqual(readdirSync(dir), ['out.extxyz']);
    assert.equal(readExtxyz(path).length, 2);
    const missing = join(dir, 'no', 'such', 'dir', 'x.extxyz');
    assert.throws(() => writeExtxyz(missing, built()), (e: unknown) => e instanceof InputError && e.message.includes(missing));
    assert.ok(!existsSync(missing));
    assert.deepEqual(readdirSync(dir), ['out.extxyz']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edge cases: default Properties, plain comment, bare keys, Z column, blank lines', () => {
  const [a] = parseExtxyz('2\n\nC 0 0 0\nh 1 0 0\n');
  assert.deepEqual(Array.from(a.numbers), [6, 1]);
  assert.deepEqual(a.info, {});
  const [b] = parseExtxyz('1\nLattice="2 0 0 0 2 0 0 0 2" converged stress="1 0 0 0 1 0 0 0 1" uid=007\nAu 0 0 0\n');
  assert.deepEqual(b.pbc, [true, true, true], 'Lattice without pbc means periodic (as ASE)');
  assert.equal(b.info.converged, true);
  assert.deepEqual(b.info.stress, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
  assert.equal(b.info.uid, '007');
  const [c] = parseExtxyz('2\nProperties=Z:I:1:pos:R:3 pbc=T\n8 0 0 0\n1 0 0 1\n');
  assert.deepEqual(Array.from(c.numbers), [8, 1]);
  assert.deepEqual(c.pbc, [true, true, true]);
  const frames = parseExtxyz('1\n\nH 0 0 0\n\n\n1\nx = 1.5\nHe 1 1 1\n\n');
  assert.equal(frames.length, 2);
  assert.equal(frames[1].info.x, 1.5);
  assert.deepEqual(parseExtxyz(''), []);
  const empty = new Atoms({ numbers: [], positions: [] });
  const back = parseExtxyz(formatExtxyz([empty, built()]));
  assert.deepEqual(back.map((x) => x.length), [0, 4]);
});

/** Malformed input must throw an InputError whose message names file:line and, where there is one, the field. */
function assertBad(text: string, line: number, pattern: RegExp): void {
  assert.throws(
    () => parseExtxyz(text, 'bad.extxyz'),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `not an InputError: ${String(e)}`);
      assert.ok(e.message.startsWith(`bad.extxyz:${line}: `), `message should name line ${line}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

test('malformed files give one-line InputErrors naming file, line and field', () => {
  const P = 'Properties=species:S:1:pos:R:3';
  // header declares more atoms than the frame has: the next header is read as an atom
  assertBad(`3\n${P}\nC 0 0 0\nC 1 0 0\n1\n${P}\nH 0 0 0\n`, 5, /atom 3 of 3 .*has 1 columns.*needs 4/);
  // header declares fewer atoms: an atom line is read as a header
  assertBad(`1\n${P}\nC 0 0 0\nC 1 0 0\n`, 4, /expected the number of atoms.*too few atoms/);
  // bad numbers
  assertBad(`2\n${P}\nC 0 0 0\nC 1 zero 0\n`, 4, /field 'pos\[1\]': 'zero' is not a real number/);
  assertBad(`1\nProperties=species:S:1:pos:R:3:tags:I:1\nC 0 0 0 1.5\n`, 3, /field 'tags': '1.5' is not an integer/);
  assertBad(`1\nProperties=species:S:1:pos:R:3:fixed:L:1\nC 0 0 0 yes\n`, 3, /field 'fixed'.*logical/);
  // Properties not matching the columns
  assertBad(`1\nProperties=species:S:1:pos:R:3:forces:R:3\nC 0 0 0\n`, 3, /has 4 columns, Properties=.* needs 7/);
  assertBad(`1\nProperties=species:S:1:pos:R:3:forces:Q:3\nC 0 0 0 1 1 1\n`, 2, /field 'Properties'.*unknown type 'Q'/);
  assertBad(`1\nProperties=species:S:1:pos:R\nC 0 0 0\n`, 2, /field 'Properties'.*triplets/);
  assertBad(`1\nProperties=species:S:1:pos:R:2\nC 0 0\n`, 2, /field 'Properties'.*pos:R:3/);
  assertBad(`1\nProperties=species:S:1\nC\n`, 2, /no 'pos:R:3'/);
  // truncated file
  assertBad(`3\n${P}\nC 0 0 0\nC 1 0 0\n`, 5, /file ends after 2 of the 3 atoms declared .* line 1/);
  assertBad(`2\n`, 1, /file ends after the header/);
  assertBad(`3000000000\n${P}\nC 0 0 0\n`, 4, /file ends after 1 of the 3000000000 atoms/);
  // unknown element
  assertBad(`2\n${P}\nC 0 0 0\nQq 1 0 0\n`, 4, /unknown element symbol 'Qq'/);
  assertBad(`1\nProperties=Z:I:1:pos:R:3\n200 0 0 0\n`, 3, /field 'Z'/);
  // bad comment-line fields
  assertBad(`1\nLattice="1 0 0 0 1 0 0 0" ${P}\nC 0 0 0\n`, 2, /field 'Lattice' must be 9 numbers/);
  assertBad(`1\n${P} pbc="T F"\nC 0 0 0\n`, 2, /field 'pbc'/);
  assertBad(`1\n${P} name="open\nC 0 0 0\n`, 2, /unterminated quote/);
  assertBad(`x\n${P}\nC 0 0 0\n`, 1, /expected the number of atoms/);
});

test('readExtxyz names a missing file', () => {
  const path = join(tmpdir(), 'asla-no-such-file.extxyz');
  assert.throws(() => readExtxyz(path), (e: unknown) => e instanceof InputError && e.message.startsWith(path));
});

test('writing refuses what cannot be represented', () => {
  const a = built();
  a.info.Lattice = 'x';
  assert.throws(() => formatExtxyz(a), InputError);
  const b = built();
  b.arrays.kind = { type: 'S', ncols: 1, values: ['a b', 'c', 'd', 'e'] };
  assert.throws(() => formatExtxyz(b), /kind/);
  const c = built();
  c.arrays.tags = { type: 'I', ncols: 1, values: [1, 2] };
  assert.throws(() => formatExtxyz(c), /tags.*2 values for 4 atoms/);
});
