import { test } from 'node:test';
import { parseExtxyz } from '../../src/structure/extxyz.js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Atoms } from '../../src/structure/atoms.js';
import { type BondGraph, FIG5_MOTIFS, bondGraph, hasMotif, motifCenters, motifFromSymbols, describeMotif } from '../../src/structure/bonds.js';
import {
  canonicalKey,
  canonicalSmiles,
  canonicalizeSmiles,
  hillFormula,
  smilesName,
  splitMolecules,
  structureFormula,
  structureKey,
} from '../../src/structure/molecules.js';
import { Rng } from '../../src/util/rng.js';
import { InputError } from '../../src/util/errors.js';
import { backendSkip, hasCommand } from '../support/backend.js';

const FIXTURES = new URL('../../../fixtures/molecules/', import.meta.url);

/** Minimal XYZ reader for the fixtures (count, comment, "Sym x y z" lines). */
function readXyz(name: string): Atoms {
  return parseExtxyz(readFileSync(new URL(name, FIXTURES), 'utf8'), name)[0];
}

function permuted(atoms: Atoms, rng: Rng): Atoms {
  const n = atoms.length;
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const numbers = perm.map((i) => atoms.numbers[i]);
  const positions = perm.flatMap((i) => atoms.position(i));
  return new Atoms({ numbers, positions, cell: atoms.cell, pbc: atoms.pbc });
}

/** Random rotation (normalised random quaternion) and translation. */
function rotated(atoms: Atoms, rng: Rng): Atoms {
  let q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const l = Math.hypot(...q);
  q = q.map((v) => v / l);
  const [w, x, y, z] = q;
  const R = [
    1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
    2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
  ];
  const t = [rng.normal() * 3, rng.normal() * 3, rng.normal() * 3];
  const p = atoms.positions;
  const out = new Float64Array(p.length);
  for (let i = 0; i < atoms.length; i++) {
    for (let r = 0; r < 3; r++) out[3 * i + r] = R[3 * r] * p[3 * i] + R[3 * r + 1] * p[3 * i + 1] + R[3 * r + 2] * p[3 * i + 2] + t[r];
  }
  return new Atoms({ numbers: atoms.numbers, positions: out });
}

/** A BondGraph from an edge list (for graph-only tests of the canonical key). */
function graphOf(n: number, edges: Array<[number, number]>): BondGraph {
  const adj: number[][] = Array.from({ length: n }, () => []);
  for (const [a, b] of edges) {
    adj[a].push(b);
    adj[b].push(a);
  }
  adj.forEach((l) => l.sort((a, b) => a - b));
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + adj[i].length;
  const pairs = edges.map(([a, b]) => [Math.min(a, b), Math.max(a, b)]).sort((u, v) => u[0] - v[0] || u[1] - v[1]);
  return { n, offsets, neighbors: Int32Array.from(adj.flat()), vectors: new Float64Array(3 * offsets[n]), pairs: Int32Array.from(pairs.flat()) };
}

function allAt(numbers: number[]): Atoms {
  return new Atoms({ numbers, positions: new Float64Array(3 * numbers.length) });
}

const acrylic = readXyz('acrylic_acid.xyz');
const vinylFormate = readXyz('vinyl_formate.xyz');
const co2Ethylene = readXyz('co2_ethylene.xyz');

test('bond graph: acrylic acid has 8 bonds with the expected neighbour counts', () => {
  const g = bondGraph(acrylic);
  assert.equal(g.pairs.length / 2, 8);
  // C1 (=CH2): C2 + 2 H; C2: C1, C3, H; C3 (carboxyl): C2, O, O; O(H): C3, H.
  assert.deepEqual(Array.from(g.neighbors.subarray(g.offsets[0], g.offsets[1])), [1, 5, 6]);
  assert.deepEqual(Array.from(g.neighbors.subarray(g.offsets[2], g.offsets[3])), [1, 3, 4]);
  assert.deepEqual(Array.from(g.neighbors.subarray(g.offsets[4], g.offsets[5])), [2, 8]);
  // Bond vectors are r_j - r_i.
  const e = g.offsets[1]; // C2 -> C1
  assert.ok(Math.abs(g.vectors[3 * e] - (acrylic.positions[0] - acrylic.positions[3])) < 1e-12);
});

test('bond criterion: sum of covalent radii + 0.2 Å, inclusive', () => {
  // C–C: 0.76 + 0.76 + 0.2 = 1.72 Å.
  const at = (d: number) => new Atoms({ numbers: [6, 6], positions: [0, 0, 0, d, 0, 0] });
  assert.equal(bondGraph(at(1.719)).pairs.length, 2);
  assert.equal(bondGraph(at(1.721)).pairs.length, 0);
  assert.equal(bondGraph(at(1.721), 0.3).pairs.length, 2);
});

test('bond graph: minimum image across periodic axes only', () => {
  const cell = [10, 0, 0, 0, 10, 0, 0, 0, 10];
  const positions = [0.3, 5, 5, 9.0, 5, 5]; // 1.3 Å apart through the x boundary
  const periodic = new Atoms({ numbers: [6, 6], positions, cell, pbc: [true, false, false] });
  const open = new Atoms({ numbers: [6, 6], positions, cell, pbc: [false, true, true] });
  const g = bondGraph(periodic);
  assert.equal(g.pairs.length, 2);
  assert.ok(Math.abs(g.vectors[0] - -1.3) < 1e-12, `vector ${g.vectors[0]}`);
  assert.equal(bondGraph(open).pairs.length, 0);
  // Skewed 2D cell (120° between a and b): rounding the fractional displacement (0.51 along b)
  // picks an image 1.8 Å away; checking the neighbouring images finds the direct one at 1.118 Å.
  const skew = new Atoms({
    numbers: [6, 6],
    positions: [0, 0, 0, 0.2, 1.1, 0],
    cell: [2.5, 0, 0, -1.25, 2.1650635, 0, 0, 0, 0],
    pbc: [true, true, false],
  });
  const gs = bondGraph(skew);
  assert.equal(gs.pairs.length, 2);
  assert.ok(Math.abs(Math.hypot(gs.vectors[0], gs.vectors[1], gs.vectors[2]) - Math.hypot(0.2, 1.1)) < 1e-9);
});

test('motifs of Fig. 5c–e ("at least" counts)', () => {
  assert.equal(hasMotif(acrylic, FIG5_MOTIFS['C-C-2O']), true);
  assert.deepEqual(motifCenters(acrylic, FIG5_MOTIFS['C-C-2O']), [2]);
  assert.equal(hasMotif(acrylic, FIG5_MOTIFS['O-2C']), false);
  assert.equal(hasMotif(vinylFormate, FIG5_MOTIFS['O-2C']), true);
  assert.equal(hasMotif(vinylFormate, FIG5_MOTIFS['C-C-2O']), false);
  assert.equal(hasMotif(co2Ethylene, FIG5_MOTIFS['C-C-2O']), false, 'CO2 carbon has 2 O but no C');
  for (const m of Object.values(FIG5_MOTIFS)) assert.equal(hasMotif(co2Ethylene, m), false);
  // C bound to O and 2 C: a hand-made C(O)(C)(C) fragment, tetrahedral-ish.
  const frag = new Atoms({
    numbers: [6, 8, 6, 6, 1],
    positions: [0, 0, 0, 1.43, 0, 0, -0.51, 1.45, 0, -0.51, -0.73, 1.26, -0.36, -0.5, -0.9],
  });
  assert.deepEqual(motifCenters(frag, FIG5_MOTIFS['C-O-2C']), [0]);
  assert.equal(hasMotif(frag, FIG5_MOTIFS['C-C-2O']), false);
  // "at least": C bound to 1 C is present in acrylic acid at C1, C2 (2 C) and C3; exact keeps only atoms with exactly one C.
  assert.deepEqual(motifCenters(acrylic, { center: 6, neighbors: { 6: 1 } }), [0, 1, 2]);
  assert.deepEqual(motifCenters(acrylic, { center: 6, neighbors: { 6: 1 }, exact: true }), [0, 2]);
});

test('motifFromSymbols builds motifs from config symbols and rejects unknown ones', () => {
  const m = motifFromSymbols('C', { C: 1, O: 2 });
  assert.deepEqual(m, { center: 6, neighbors: { 6: 1, 8: 2 }, exact: false });
  assert.equal(describeMotif(m), 'C bound to 1 C, 2 O (at least)');
  assert.throws(() => motifFromSymbols('Q', { C: 1 }, { where: 'c3h4o2.yaml: field motif' }), (e: unknown) => e instanceof InputError && /c3h4o2\.yaml: field motif/.test(e.message));
  assert.throws(() => motifFromSymbols('C', { O: -1 }), InputError);
});

test('hill formula', () => {
  assert.equal(hillFormula(acrylic.numbers), 'C3H4O2');
  assert.equal(hillFormula([8, 1, 1]), 'H2O');
  assert.equal(hillFormula([8, 6, 8]), 'CO2');
});

test('CO2 + ethylene splits into 2 molecules', () => {
  const mols = splitMolecules(co2Ethylene);
  assert.equal(mols.length, 2);
  assert.deepEqual(mols.map((m) => m.formula), ['CO2', 'C2H4']);
  assert.deepEqual(Array.from(mols[0].indices), [0, 1, 2]);
  assert.equal(mols[0].key, 'CO2:0-1,0-2');
  assert.equal(structureFormula(co2Ethylene), 'C2H4 + CO2');
  assert.equal(splitMolecules(acrylic).length, 1);
  assert.equal(splitMolecules(vinylFormate).length, 1);
});

test('canonical keys: invariant under permutation, rotation and translation; isomers differ', () => {
  const rng = new Rng(7);
  for (const mol of [acrylic, vinylFormate, co2Ethylene]) {
    const key = structureKey(mol);
    for (let t = 0; t < 10; t++) assert.equal(structureKey(rotated(permuted(mol, rng), rng)), key);
  }
  const a = structureKey(acrylic);
  const v = structureKey(vinylFormate);
  const c = structureKey(co2Ethylene);
  assert.ok(a.startsWith('C3H4O2:'), a);
  assert.notEqual(a, v);
  assert.notEqual(a, c);
  assert.notEqual(v, c);
  assert.equal(c.split(' + ').length, 2);
});

test('canonical key separates graphs colour refinement alone cannot (decalin vs bicyclopentyl)', () => {
  // Both carbon skeletons: 10 atoms, 11 bonds, degrees 2 (×8) and 3 (×2); 1-WL gives them the same colours.
  const decalin: Array<[number, number]> = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5], [5, 0], [4, 6], [6, 7], [7, 8], [8, 9], [9, 5]];
  const bicyclopentyl: Array<[number, number]> = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [0, 5], [5, 6], [6, 7], [7, 8], [8, 9], [9, 5]];
  const atoms = allAt(new Array(10).fill(6));
  const idx = Int32Array.from({ length: 10 }, (_, i) => i);
  const kd = canonicalKey(atoms, idx, graphOf(10, decalin));
  const kb = canonicalKey(atoms, idx, graphOf(10, bicyclopentyl));
  assert.notEqual(kd, kb);
  assert.ok(!kd.includes('~') && !kb.includes('~'), 'exact keys');
  const rng = new Rng(3);
  for (let t = 0; t < 5; t++) {
    const perm = Array.from({ length: 10 }, (_, i) => i);
    for (let i = 9; i > 0; i--) {
      const j = rng.int(i + 1);
      [perm[i], perm[j]] = [perm[j], perm[i]];
    }
    const relabel = (es: Array<[number, number]>) => es.map(([a, b]) => [perm[a], perm[b]] as [number, number]);
    assert.equal(canonicalKey(atoms, idx, graphOf(10, relabel(decalin))), kd);
    assert.equal(canonicalKey(atoms, idx, graphOf(10, relabel(bicyclopentyl))), kb);
  }
});

test('canonical key equality is graph isomorphism (random 6-atom graphs vs brute force)', () => {
  const rng = new Rng(11);
  const n = 6;
  const perms: number[][] = [];
  const gen = (p: number[], rest: number[]): void => {
    if (rest.length === 0) perms.push(p);
    rest.forEach((r, k) => gen([...p, r], rest.filter((_, q) => q !== k)));
  };
  gen([], [0, 1, 2, 3, 4, 5]);
  const randomGraph = (): { z: number[]; edges: Array<[number, number]> } => {
    const z = Array.from({ length: n }, () => (rng.next() < 0.7 ? 6 : 8));
    const edges: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) if (rng.next() < 0.4) edges.push([i, j]);
    return { z, edges };
  };
  const isomorphic = (a: ReturnType<typeof randomGraph>, b: ReturnType<typeof randomGraph>): boolean => {
    if (a.edges.length !== b.edges.length) return false;
    const eb = new Set(b.edges.map(([i, j]) => `${i},${j}`));
    return perms.some((p) => a.z.every((z, i) => b.z[p[i]] === z) && a.edges.every(([i, j]) => eb.has(`${Math.min(p[i], p[j])},${Math.max(p[i], p[j])}`)));
  };
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const key = (g: ReturnType<typeof randomGraph>) => canonicalKey(allAt(g.z), idx, graphOf(n, g.edges));
  let same = 0;
  for (let t = 0; t < 150; t++) {
    const a = randomGraph();
    // Half of the pairs: b is a relabelled copy of a (isomorphic by construction).
    let b: ReturnType<typeof randomGraph>;
    if (t % 2 === 0) {
      const p = perms[rng.int(perms.length)];
      const z = new Array<number>(n);
      a.z.forEach((v, i) => (z[p[i]] = v));
      b = { z, edges: a.edges.map(([i, j]) => [Math.min(p[i], p[j]), Math.max(p[i], p[j])] as [number, number]) };
    } else b = randomGraph();
    const iso = isomorphic(a, b);
    if (iso) same++;
    assert.equal(key(a) === key(b), iso, `pair ${t}`);
  }
  assert.ok(same >= 75);
});

test('periodic: a molecule across the cell boundary keeps its key; an infinite chain is marked extended', () => {
  const co2 = new Atoms({ numbers: [8, 6, 8], positions: [-1.16, 0, 0, 0, 0, 0, 1.16, 0, 0] });
  const wrapped = new Atoms({
    numbers: [8, 6, 8],
    positions: [8.84, 5, 5, 0, 5, 5, 1.16, 5, 5],
    cell: [10, 0, 0, 0, 10, 0, 0, 0, 10],
    pbc: true,
  });
  const [m] = splitMolecules(wrapped);
  assert.equal(m.extended, false);
  assert.equal(m.key, splitMolecules(co2)[0].key);
  const chain = new Atoms({ numbers: [6, 6, 6], positions: [0, 0, 0, 1.3, 0, 0, 2.6, 0, 0], cell: [3.9, 0, 0, 0, 10, 0, 0, 0, 10], pbc: [true, false, false] });
  const [c] = splitMolecules(chain);
  assert.equal(c.extended, true);
  assert.ok(c.key.endsWith('[periodic]'), c.key);
});

const obabelSkip = backendSkip('obabel', hasCommand('obabel', ['-V']));

test('Open Babel names acrylic acid, vinyl formate and CO2 + ethylene from coordinates', { skip: obabelSkip }, async () => {
  const [acr] = await canonicalSmiles(acrylic);
  assert.equal(acr, await canonicalizeSmiles('C=CC(=O)O'));
  assert.equal(acr, 'OC(=O)C=C');
  const [vf] = await canonicalSmiles(vinylFormate);
  assert.equal(vf, await canonicalizeSmiles('C=COC=O'));
  assert.notEqual(vf, acr);
  const names = await canonicalSmiles(co2Ethylene);
  assert.deepEqual(names, [await canonicalizeSmiles('O=C=O'), await canonicalizeSmiles('C=C')]);
  assert.equal(await smilesName(co2Ethylene), [...names].sort().join('.'));
  // Atom order and orientation do not change the names.
  const rng = new Rng(5);
  assert.equal(await smilesName(rotated(permuted(acrylic, rng), rng)), acr);
  assert.equal(await smilesName(rotated(permuted(co2Ethylene, rng), rng)), await smilesName(co2Ethylene));
});

test('Open Babel missing: a clear error', async () => {
  await assert.rejects(canonicalSmiles(acrylic, undefined, { executable: '/nonexistent/obabel' }), (e: unknown) => e instanceof Error && /not found.*openbabel/.test(e.message) && (e as { missing?: boolean }).missing === true);
});
