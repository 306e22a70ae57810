import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { Agent } from '../../src/agent/agent.js';
import { PRESETS, presetNames, templateAtoms } from '../../src/agent/presets.js';
import { C3H4O2, C3H4O2_MOTIFS, c3h4o2WithMotif } from '../../src/agent/presets-molecules.js';
import { applySets, mergeConfig, validateProblem, type ProblemConfig } from '../../src/agent/problem.js';
import { TersoffCalculator } from '../../src/calculators/tersoff.js';
import { HARTREE_EV } from '../../src/calculators/xtb.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { Atoms } from '../../src/structure/atoms.js';
import { FIG5_MOTIFS, hasMotif, motifFromSymbols } from '../../src/structure/bonds.js';
import { COVALENT_RADII, symbolOf } from '../../src/structure/elements.js';
import { readExtxyz } from '../../src/structure/extxyz.js';
import { Rng } from '../../src/util/rng.js';
import { backendSkip, hasCommand } from '../support/backend.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const EXAMPLES = new URL('../../../examples/', import.meta.url);
const [C, H, O] = [6, 1, 8];

test('the c3h4o2 preset holds Extended Data Table 1 and validates', () => {
  assert.ok(presetNames().includes('c3h4o2'));
  const cfg = validateProblem(structuredClone(PRESETS.c3h4o2), 'preset c3h4o2');
  assert.deepEqual(cfg, C3H4O2);
  assert.deepEqual(Object.entries(cfg.stoichiometry), [['C', 3], ['H', 4], ['O', 2]], 'species channels C, H, O in this order');
  assert.deepEqual(cfg.template, []);
  assert.deepEqual(cfg.pbc, [false, false, false]);
  assert.deepEqual([cfg.cell[0][0], cfg.cell[1][1]], [16, 16]);
  assert.deepEqual(cfg.policy, { epsilon: 0.2, epsilonNu: 0.1, nu: 0.1, greedyEvery: 5 });
  assert.deepEqual([cfg.training.batchSize, cfg.training.learningRate, cfg.training.deltaE], [32, 1e-3, 3.3]);
  assert.deepEqual([cfg.c1, cfg.c2], [0.6, 2.5]);
  assert.deepEqual([cfg.network.filterWidth, cfg.network.filters], [3, [10, 10, 10]]);
  assert.equal(cfg.punishment.enabled, true);
  assert.equal(cfg.motif, null);
  assert.equal(cfg.calculator.name, 'xtb');
  assert.equal(cfg.success.reference, null);

  // 60 × 60 points 0.2 Å apart, centred in the 16 × 16 Å cell: 2.1 … 13.9 Å along x and y
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  assert.deepEqual([grid.n0, grid.n1], [60, 60]);
  const first = grid.position(0);
  const last = grid.position(grid.size - 1);
  for (const [got, want] of [[first[0], 2.1], [first[1], 2.1], [last[0], 13.9], [last[1], 13.9], [first[2], 8]]) {
    assert.ok(Math.abs(got - want) < 1e-9, `${got} vs ${want}`);
  }
});

test('the Fig. 5c–e motif examples load as configs and are the motifs of bonds.ts', () => {
  const files: Record<string, keyof typeof C3H4O2_MOTIFS> = {
    'c3h4o2-o-2c.yaml': 'O-2C',
    'c3h4o2-c-c-2o.yaml': 'C-C-2O',
    'c3h4o2-c-o-2c.yaml': 'C-O-2C',
  };
  for (const [file, motif] of Object.entries(files)) {
    const { preset, ...fields } = parseYaml(readFileSync(new URL(file, EXAMPLES), 'utf8')) as Record<string, unknown>;
    assert.equal(preset, 'c3h4o2');
    const cfg = validateProblem(mergeConfig(structuredClone(PRESETS.c3h4o2), fields), file);
    assert.deepEqual(cfg.motif, C3H4O2_MOTIFS[motif], file);
    assert.equal(cfg.motif!.lambda, 0.2);
    assert.deepEqual({ ...cfg, name: 'c3h4o2', motif: null }, C3H4O2, `${file} changes nothing else`);
    assert.deepEqual(c3h4o2WithMotif(motif).motif, cfg.motif);
    const m = motifFromSymbols(cfg.motif!.center, cfg.motif!.neighbors);
    assert.deepEqual({ center: m.center, neighbors: m.neighbors }, { center: FIG5_MOTIFS[motif].center, neighbors: FIG5_MOTIFS[motif].neighbors });
  }
});

function agentFor(cfg: ProblemConfig): Agent {
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  // a calculator the mask tests never call (masks need no energies)
  return new Agent({ config: cfg, grid, template: templateAtoms(cfg), calculator: TersoffCalculator.default(), referenceEnergy: null });
}

/** The c1/c2 rule of Methods "Search policy" by brute force over the atoms placed so far. */
function allowedByRule(atoms: { z: number; p: Float64Array | number[] }[], z: number, p: ArrayLike<number>, c1: number, c2: number): boolean {
  if (atoms.length === 0) return true;
  let near = false;
  for (const a of atoms) {
    const r = Math.hypot(a.p[0] - p[0], a.p[1] - p[1], a.p[2] - p[2]);
    const mean = (COVALENT_RADII[a.z] + COVALENT_RADII[z]) / 2;
    if (r < c1 * mean - 1e-9) return false;
    if (r <= c2 * mean + 1e-9) near = true;
  }
  return near;
}

test('multi-species masks: the first action is free, then c1/c2 per species, and a species is masked once placed', () => {
  const cfg = validateProblem(structuredClone(PRESETS.c3h4o2));
  const agent = agentFor(cfg);
  assert.deepEqual(agent.species, [C, H, O]);
  assert.deepEqual(Array.from(agent.counts), [3, 4, 2]);
  const size = agent.grid.size;
  const build = agent.newBuild();
  assert.equal(build.total, 9);
  let allowed = agent.allowedActions(build);
  assert.equal(allowed.length, 3 * size);
  assert.equal(allowed.reduce((a, b) => a + b, 0), 3 * size, 'no atom yet: every point of every species (c2 needs an atom)');

  const rng = new Rng(3);
  const placed: { z: number; p: Float64Array }[] = [];
  const order = [C, O, H, C, H, H, O, C, H]; // all species interleaved
  for (const z of order) {
    const c = agent.species.indexOf(z);
    allowed = agent.allowedActions(build);
    // every channel against the rule, sampled points (the full mask equality is tested in test/grid)
    for (let ch = 0; ch < 3; ch++) {
      const left = build.remaining[ch] > 0;
      for (let k = 0; k < 400; k++) {
        const p = rng.int(size);
        const want = left && allowedByRule(placed, agent.species[ch], agent.grid.position(p), cfg.c1, cfg.c2!);
        assert.equal(allowed[ch * size + p] === 1, want, `${symbolOf(agent.species[ch])} at point ${p} after ${placed.length} atoms`);
      }
    }
    // place at a random allowed point of this species
    const options: number[] = [];
    for (let p = 0; p < size; p++) if (allowed[c * size + p]) options.push(c * size + p);
    assert.ok(options.length > 0);
    const a = options[rng.int(options.length)];
    agent.place(build, a);
    placed.push({ z, p: agent.grid.position(a - c * size) });
  }
  assert.deepEqual(Array.from(build.remaining), [0, 0, 0]);
  assert.equal(agent.allowedActions(build).reduce((a, b) => a + b, 0), 0, 'every species used up: nothing allowed');
});

/** xtb's own total energy of a structure (command line, GFN2), in eV. */
function xtbEnergy(atoms: Atoms): number {
  const dir = mkdtempSync(join(tmpdir(), 'asla-xtb-check-'));
  try {
    let xyz = `${atoms.length}\n\n`;
    for (let i = 0; i < atoms.length; i++) {
      const [x, y, z] = atoms.position(i);
      xyz += `${symbolOf(atoms.numbers[i])} ${x} ${y} ${z}\n`;
    }
    writeFileSync(join(dir, 'mol.xyz'), xyz);
    const r = spawnSync('xtb', ['mol.xyz', '--sp', '--norestart', '--gfn', '2'], { cwd: dir, encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    const m = /TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh/.exec(r.stdout);
    if (m) return Number(m[1]) * HARTREE_EV;
    // SCC not converged: the calculator retries with --etemp 3000 (src/calculators/xtb.ts)
    const again = spawnSync('xtb', ['mol.xyz', '--sp', '--norestart', '--gfn', '2', '--etemp', '3000'], { cwd: dir, encoding: 'utf8' });
    const m2 = /TOTAL ENERGY\s+(-?\d+\.\d+)\s+Eh/.exec(again.stdout);
    assert.ok(m2, `xtb gave no energy:\n${r.stdout.slice(-500)}`);
    return Number(m2[1]) * HARTREE_EV;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Record_ {
  episode: number;
  greedy: boolean;
  actions: [number, number, number][];
  energy: number | null;
  failure: unknown;
  property: number | null;
  motif?: boolean;
}

/** `asla run` with a small batch (N_batch 4, one symmetry copy) so a few episodes take seconds. */
function runCli(problem: string, dir: string, episodes: number, sets: string[] = []): { records: Record_[]; frames: Atoms[] } {
  const r = spawnSync(
    process.execPath,
    [CLI, 'run', problem, '--out', dir, '--episodes', String(episodes), '--seed', '5', '--quiet',
     '--set', 'training.batchSize=4', '--set', 'training.symmetryCopies=1', ...sets.flatMap((x) => ['--set', x])],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const records = readFileSync(join(dir, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record_);
  return { records, frames: readExtxyz(join(dir, 'structures.extxyz')) };
}

const xtbSkip = backendSkip('xtb', hasCommand('xtb'));

test('asla run c3h4o2 with xtb: 9-atom C3H4O2 builds within the masks, energies equal xtb\'s, motif flags', { skip: xtbSkip }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'asla-c3h4o2-'));
  try {
    const cfg = validateProblem(applySets(structuredClone(PRESETS.c3h4o2), []));
    const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
    const episodes = 6;
    const plain = runCli('c3h4o2', join(root, 'plain'), episodes);
    assert.equal(plain.records.length, episodes);
    assert.equal(plain.frames.length, episodes);
    assert.deepEqual(plain.records.map((r) => r.greedy), [false, false, false, false, true, false], 'every 5th episode greedy');
    let evaluated = 0;
    for (const [k, rec] of plain.records.entries()) {
      const s = plain.frames[k];
      assert.equal(rec.motif, undefined, 'no motif configured: no flag');
      // a complete build: 3 C, 4 H, 2 O in placement order, each on its action's grid point and channel
      assert.equal(rec.actions.length, 9);
      assert.equal(s.length, 9);
      const counts = { [C]: 0, [H]: 0, [O]: 0 } as Record<number, number>;
      for (let i = 0; i < 9; i++) counts[s.numbers[i]]++;
      assert.deepEqual(counts, { [C]: 3, [H]: 4, [O]: 2 });
      const placed: { z: number; p: number[] }[] = [];
      rec.actions.forEach(([c, i0, i1], i) => {
        assert.equal(s.numbers[i], [C, H, O][c]);
        const p = grid.position(i0 * grid.n1 + i1);
        const q = s.position(i);
        assert.ok(Math.hypot(p[0] - q[0], p[1] - q[1], p[2] - q[2]) < 1e-9);
        // the multi-species masks held when this atom was placed
        assert.ok(allowedByRule(placed, s.numbers[i], q, cfg.c1, cfg.c2!), `atom ${i} (${symbolOf(s.numbers[i])}) of episode ${rec.episode}`);
        placed.push({ z: s.numbers[i], p: q });
      });
      if (rec.energy !== null) {
        evaluated++;
        const e = xtbEnergy(s);
        assert.ok(Math.abs(rec.energy - e) < 1e-6, `episode ${rec.episode}: ${rec.energy} vs xtb ${e}`);
        assert.equal(s.info.energy, rec.energy);
      }
    }
    assert.ok(evaluated >= episodes - 1, `${evaluated} of ${episodes} evaluated`);

    // the energies of the free atoms, as xtb gives them: eq. 5 scales the energy relative to them
    const free = (z: number) => xtbEnergy(new Atoms({ numbers: [z], positions: [8, 8, 8], cell: cfg.cell.flat(), pbc: cfg.pbc }));
    const atomsEnergy = 3 * free(C) + 4 * free(H) + 2 * free(O);
    assert.ok(atomsEnergy < -350 && atomsEnergy > -450, `free-atom energies of C3H4O2 with GFN2: ${atomsEnergy} eV`);
    const withMotif = (e: number) => (e - atomsEnergy) * 1.2 + atomsEnergy;

    // the Fig. 5d example: every evaluated episode carries the motif flag, P = (E − E_atoms)·(1 + λ) + E_atoms with it
    const motif = runCli(fileURLToPath(new URL('c3h4o2-c-c-2o.yaml', EXAMPLES)), join(root, 'motif'), episodes);
    const config = JSON.parse(readFileSync(join(root, 'motif', 'config.json'), 'utf8')) as ProblemConfig;
    assert.equal(config.name, 'c3h4o2-c-c-2o');
    for (const [k, rec] of motif.records.entries()) {
      if (rec.energy === null) continue;
      assert.equal(typeof rec.motif, 'boolean', `episode ${rec.episode} has a motif flag`);
      assert.equal(rec.motif, hasMotif(motif.frames[k], FIG5_MOTIFS['C-C-2O']));
      const raw = rec.motif ? withMotif(rec.energy) : rec.energy;
      // punishment only adds (≥ 0), and nothing is repeated 5 times in 6 episodes
      assert.ok(Math.abs(rec.property! - raw) < 1e-6, `episode ${rec.episode}: property ${rec.property}, E ${rec.energy}`);
    }

    // a motif every structure holds (a C bound to anything): the flag is true and the property is scaled
    const always = runCli('c3h4o2', join(root, 'always'), 3, ['motif={"center":"C","neighbors":{},"lambda":0.2}']);
    const flagged = always.records.filter((r) => r.energy !== null);
    assert.ok(flagged.length >= 2);
    for (const rec of flagged) {
      assert.equal(rec.motif, true);
      assert.ok(Math.abs(rec.property! - withMotif(rec.energy!)) < 1e-6, `episode ${rec.episode}: property ${rec.property}, E ${rec.energy}`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
