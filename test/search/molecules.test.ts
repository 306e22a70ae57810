import { test } from 'node:test';
import { parseExtxyz } from '../../src/structure/extxyz.js';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { countProducts, formatProducts, readBuilds } from '../../src/search/molecules.js';
import { Atoms } from '../../src/structure/atoms.js';
import { formatExtxyz } from '../../src/structure/extxyz.js';
import { structureKey } from '../../src/structure/molecules.js';
import { C3H4O2 } from '../../src/agent/presets-molecules.js';
import { InputError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { backendSkip, hasCommand } from '../support/backend.js';

const FIXTURES = new URL('../../../fixtures/molecules/', import.meta.url);
const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function readXyz(name: string): Atoms {
  return parseExtxyz(readFileSync(new URL(name, FIXTURES), 'utf8'), name)[0];
}

const ACRYLIC = readXyz('acrylic_acid.xyz');
const VINYL = readXyz('vinyl_formate.xyz');
const CO2_ETHYLENE = readXyz('co2_ethylene.xyz');

/** The molecule rotated in the plane, moved into the 16 Å cell and its atoms permuted: as an agent would build it elsewhere. */
function moved(atoms: Atoms, rng: Rng): Atoms {
  const n = atoms.length;
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const a = 2 * Math.PI * rng.next();
  const [c, s] = [Math.cos(a), Math.sin(a)];
  const [tx, ty] = [6 + 4 * rng.next(), 6 + 4 * rng.next()];
  const positions: number[] = [];
  for (const i of perm) {
    const [x, y] = [atoms.positions[3 * i], atoms.positions[3 * i + 1]];
    positions.push(tx + c * x - s * y, ty + s * x + c * y, 8);
  }
  return new Atoms({ numbers: perm.map((i) => atoms.numbers[i]), positions, cell: C3H4O2.cell.flat(), pbc: [false, false, false] });
}

interface FakeEpisode {
  greedy: boolean;
  structure: Atoms;
  energy: number | null;
  motif?: boolean;
  punished?: boolean;
}

/** A run directory as src/search/run.ts writes it: config.json, episodes.jsonl, structures.extxyz. */
function writeRun(dir: string, episodes: FakeEpisode[], motif: unknown = null): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...C3H4O2, motif }, null, 2));
  writeFileSync(join(dir, 'episodes.jsonl'), '');
  writeFileSync(join(dir, 'structures.extxyz'), '');
  episodes.forEach((e, k) => {
    const s = e.structure;
    s.info.episode = k + 1;
    if (e.energy !== null) s.info.energy = e.energy;
    appendFileSync(join(dir, 'structures.extxyz'), formatExtxyz(s));
    const record = {
      episode: k + 1,
      greedy: e.greedy,
      actions: [],
      kinds: '',
      energy: e.energy,
      failure: e.energy === null ? { kind: 'not-converged', message: 'SCC did not converge' } : null,
      property: e.energy,
      ...(e.motif !== undefined ? { motif: e.motif } : {}),
      ...(e.punished ? { punished: true } : {}),
      bestEnergy: null,
      reachedReference: false,
      loss: null,
      ms: { build: 1, evaluate: 1, train: 1 },
    };
    appendFileSync(join(dir, 'episodes.jsonl'), JSON.stringify(record) + '\n');
  });
}

/**
 * Two agents of an ensemble folder:
 *  agent-000: 1 acrylic (not greedy), 2 acrylic, 3 CO2 + ethylene, 4 failed, 5 vinyl formate, 6 acrylic (punished)
 *  agent-001: 1 CO2 + ethylene, 2 CO2 + ethylene, 3 acrylic, 4 vinyl formate (not greedy)
 * Greedy counts: acrylic acid 3 builds by 2 agents, CO2 + ethylene 3 by 2, vinyl formate 1 by 1; 1 failed.
 */
function ensemble(root: string, withMotif = false): string {
  const rng = new Rng(11);
  const m = (v: boolean) => (withMotif ? { motif: v } : {});
  const dir = join(root, 'ensemble');
  writeRun(
    join(dir, 'agent-000'),
    [
      { greedy: false, structure: moved(ACRYLIC, rng), energy: -450.9, ...m(true) },
      { greedy: true, structure: moved(ACRYLIC, rng), energy: -450.1, ...m(true) },
      { greedy: true, structure: moved(CO2_ETHYLENE, rng), energy: -451.0, ...m(false) },
      { greedy: true, structure: moved(VINYL, rng), energy: null },
      { greedy: true, structure: moved(VINYL, rng), energy: -450.3, ...m(false) },
      { greedy: true, structure: moved(ACRYLIC, rng), energy: -450.5, punished: true, ...m(true) },
    ],
    withMotif ? { center: 'C', neighbors: { C: 1, O: 2 }, lambda: 0.2 } : null,
  );
  writeRun(
    join(dir, 'agent-001'),
    [
      { greedy: true, structure: moved(CO2_ETHYLENE, rng), energy: -451.2, ...m(false) },
      { greedy: true, structure: moved(CO2_ETHYLENE, rng), energy: -450.8, ...m(false) },
      { greedy: true, structure: moved(ACRYLIC, rng), energy: -450.6, ...m(true) },
      { greedy: false, structure: moved(VINYL, rng), energy: -449.0, ...m(false) },
    ],
    withMotif ? { center: 'C', neighbors: { C: 1, O: 2 }, lambda: 0.2 } : null,
  );
  return dir;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'asla-molecules-'));

test('greedy builds of each product are counted per build and per agent, with the best energy', async () => {
  const root = tmp();
  try {
    const dir = ensemble(root);
    const report = await countProducts([dir], { smiles: false });
    assert.equal(report.episodes, 'greedy');
    assert.equal(report.runs.length, 2);
    assert.deepEqual(report.runs.map((r) => [r.name, r.episodes, r.counted, r.failed, r.products]), [
      ['agent-000', 6, 5, 1, 3],
      ['agent-001', 4, 3, 0, 2],
    ]);
    assert.equal(report.builds, 7);
    assert.equal(report.failed, 1);
    assert.equal(report.products.length, 3);
    const byKey = new Map(report.products.map((p) => [p.key, p]));
    const acrylic = byKey.get(structureKey(ACRYLIC))!;
    const co2 = byKey.get(structureKey(CO2_ETHYLENE))!;
    const vinyl = byKey.get(structureKey(VINYL))!;
    assert.ok(acrylic && co2 && vinyl, [...byKey.keys()].join(' | '));
    assert.equal(acrylic.formula, 'C3H4O2');
    assert.equal(co2.formula, 'C2H4 + CO2');
    assert.equal(co2.molecules.length, 2);
    assert.deepEqual([acrylic.builds, acrylic.agents, acrylic.bestEnergy, acrylic.bestRun, acrylic.bestEpisode], [3, 2, -450.6, 'agent-001', 3]);
    assert.deepEqual(acrylic.firstEpisode, { 'agent-000': 2, 'agent-001': 3 });
    assert.equal(acrylic.punishedBuilds, 1);
    assert.deepEqual([co2.builds, co2.agents, co2.bestEnergy], [3, 2, -451.2]);
    assert.deepEqual([vinyl.builds, vinyl.agents, vinyl.bestEnergy], [1, 1, -450.3]);
    assert.equal(acrylic.agentFraction, 1);
    assert.equal(vinyl.agentFraction, 0.5);
    assert.ok(Math.abs(acrylic.buildFraction - 3 / 7) < 1e-12);
    // most built first, ties by energy: CO2 + ethylene (3, −451.2) before acrylic acid (3, −450.6)
    assert.deepEqual(report.products.map((p) => p.key), [co2.key, acrylic.key, vinyl.key]);
    assert.equal(acrylic.motifBuilds, null, 'no motif configured');
    assert.equal(acrylic.smiles, null);

    // every episode instead of the greedy ones
    const all = await countProducts([dir], { all: true, smiles: false });
    const byKeyAll = new Map(all.products.map((p) => [p.key, p]));
    assert.equal(byKeyAll.get(acrylic.key)!.builds, 4);
    assert.equal(byKeyAll.get(acrylic.key)!.bestEnergy, -450.9);
    assert.equal(byKeyAll.get(vinyl.key)!.builds, 2);
    assert.equal(all.builds, 9);

    // a single run directory works as well
    const one = await countProducts([join(dir, 'agent-001')], { smiles: false });
    assert.deepEqual(one.products.map((p) => [p.formula, p.builds]), [['C2H4 + CO2', 2], ['C3H4O2', 1]]);

    const table = formatProducts(report);
    assert.match(table, /2 runs, 8 greedy episodes counted: 7 products, 1 failed builds, 3 distinct/);
    assert.match(table, /C2H4 \+ CO2/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('motif flags of the episodes are counted per product', async () => {
  const root = tmp();
  try {
    const report = await countProducts([ensemble(root, true)], { smiles: false });
    const byKey = new Map(report.products.map((p) => [p.key, p]));
    assert.equal(byKey.get(structureKey(ACRYLIC))!.motifBuilds, 3);
    assert.equal(byKey.get(structureKey(CO2_ETHYLENE))!.motifBuilds, 0);
    assert.deepEqual(report.runs[0].motif, { center: 'C', neighbors: { C: 1, O: 2 }, lambda: 0.2 });
    assert.match(formatProducts(report), /motif/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('Open Babel names acrylic acid, vinyl formate and CO2 + ethylene', { skip: backendSkip('obabel', hasCommand('obabel', ['-V'])) }, async () => {
  const root = tmp();
  try {
    const report = await countProducts([ensemble(root)]);
    assert.equal(report.openBabel, true);
    const byKey = new Map(report.products.map((p) => [p.key, p]));
    const acrylic = byKey.get(structureKey(ACRYLIC))!;
    const vinyl = byKey.get(structureKey(VINYL))!;
    const co2 = byKey.get(structureKey(CO2_ETHYLENE))!;
    assert.deepEqual([acrylic.smiles, acrylic.name], ['OC(=O)C=C', 'acrylic acid']);
    assert.deepEqual([vinyl.smiles, vinyl.name], ['C=COC=O', 'vinyl formate']);
    assert.deepEqual([co2.smiles, co2.name], ['C=C.O=C=O', 'carbon dioxide + ethylene']);
    assert.deepEqual(co2.molecules.map((m) => [m.formula, m.smiles, m.name]).sort(), [
      ['C2H4', 'C=C', 'ethylene'],
      ['CO2', 'O=C=O', 'carbon dioxide'],
    ]);
    assert.match(formatProducts(report), /acrylic acid \(OC\(=O\)C=C\)/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing Open Babel leaves the built-in keys (auto) or is an error (required)', async () => {
  const root = tmp();
  try {
    const dir = ensemble(root);
    const auto = await countProducts([dir], { obabel: '/nonexistent/obabel' });
    assert.equal(auto.openBabel, false);
    assert.ok(auto.products.every((p) => p.smiles === null && p.name === null));
    await assert.rejects(countProducts([dir], { obabel: '/nonexistent/obabel', smiles: true }), InputError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('bad run directories are errors naming the file and line', async () => {
  const root = tmp();
  try {
    const dir = ensemble(root);
    const run = join(dir, 'agent-001');
    const log = join(run, 'episodes.jsonl');
    const good = readFileSync(log, 'utf8');
    writeFileSync(log, good.replace('"greedy":true', '"greedy":"yes"'));
    assert.throws(() => readBuilds(run), (e: unknown) => e instanceof InputError && e.message.includes('episodes.jsonl:1') && /greedy/.test(e.message));
    writeFileSync(log, good + '{"episode":5,"greedy":true,"energy":-1}\n');
    assert.throws(() => readBuilds(run), (e: unknown) => e instanceof InputError && /holds 4 structures but episodes.jsonl 5 episodes/.test(e.message));
    // a partial last line (a run writing) is left out
    writeFileSync(log, good + '{"episode":5,"gree');
    assert.equal(readBuilds(run).episodes, 4);
    await assert.rejects(countProducts([join(root, 'nothing')]), InputError);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('asla molecules prints the table and the JSON; errors are one line', () => {
  const root = tmp();
  try {
    const dir = ensemble(root);
    const json = spawnSync(process.execPath, [CLI, 'molecules', dir, '--json', '--no-smiles'], { encoding: 'utf8' });
    assert.equal(json.status, 0, json.stderr);
    const report = JSON.parse(json.stdout) as { products: { formula: string; builds: number }[] };
    assert.deepEqual(report.products.map((p) => [p.formula, p.builds]), [['C2H4 + CO2', 3], ['C3H4O2', 3], ['C3H4O2', 1]]);
    const table = spawnSync(process.execPath, [CLI, 'molecules', join(dir, 'agent-000'), join(dir, 'agent-001'), '--all', '--no-smiles', '--limit', '2'], { encoding: 'utf8' });
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /2 runs, 10 episodes counted: 9 products/);
    assert.match(table.stdout, /1 more \(--json for all\)/);
    const bad = spawnSync(process.execPath, [CLI, 'molecules', join(root, 'nothing')], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    const noArgs = spawnSync(process.execPath, [CLI, 'molecules'], { encoding: 'utf8' });
    assert.equal(noArgs.status, 2);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
