import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from '../../src/agent/agent.js';
import { PRESETS, referenceCandidates, templateAtoms } from '../../src/agent/presets.js';
import { applySets, validateProblem, type ProblemConfig } from '../../src/agent/problem.js';
import { TersoffCalculator } from '../../src/calculators/tersoff.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { Atoms } from '../../src/structure/atoms.js';
import { Run } from '../../src/search/run.js';

const tersoff = TersoffCalculator.default();

function config(name: string, sets: string[] = []): ProblemConfig {
  return validateProblem(applySets(structuredClone(PRESETS[name]), sets));
}

function agentFor(cfg: ProblemConfig): Agent {
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  return new Agent({ config: cfg, grid, template: templateAtoms(cfg), calculator: tersoff, referenceEnergy: null });
}

test('the graphene reference is the snapped sheet, near the issue-measured −6.96 eV/atom', () => {
  const cfg = config('graphene');
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  const cands = referenceCandidates(cfg, grid);
  assert.ok(cands.length >= 2);
  const best = Math.min(...cands.map((a) => tersoff.energySync(a) / a.length));
  assert.ok(best < -6.8 && best > -7.2, `snapped graphene ${best} eV/atom`);
  // every candidate holds the template atom
  for (const a of cands) assert.ok(Array.from({ length: a.length }, (_, i) => a.position(i)).some((p) => Math.hypot(p[0], p[1]) < 1e-9));
});

test('augmented copies describe the same physical situation: symmetric final structures have the same energy', async () => {
  const cfg = config('graphene', ['run.policy="random"']);
  const agent = agentFor(cfg);
  assert.equal(agent.symmetries.length, 4, 'rectangular periodic grid: identity, 180°, two mirrors');
  const grid = agent.grid;
  for (let ep = 0; ep < 3; ep++) {
    const { record } = await agent.runEpisode();
    const templateCell = grid.nearest(0, 0).index;
    const cells = [templateCell, ...record.actions.map(([, i0, i1]) => i0 * grid.n1 + i1)];
    const energies = agent.symmetries.map((sym) => {
      const positions = cells.flatMap((p) => Array.from(grid.position(sym.map[p])));
      return tersoff.energySync(new Atoms({ numbers: cells.map(() => 6), positions, cell: cfg.cell.flat(), pbc: cfg.pbc }));
    });
    for (const e of energies) assert.ok(Math.abs(e - energies[0]) < 1e-8 * Math.max(1, Math.abs(e)), `${energies}`);
  }
});

test('the training batch: N_batch steps × symmetry copies, spillover cells weighted η around the action', async () => {
  const cfg = config('graphene-small', ['training.batchSize=8', 'training.rotations=0']);
  const agent = agentFor(cfg);
  await agent.runEpisode();
  await agent.runEpisode();
  const samples = agent.trainingBatch();
  const copies = agent.symmetries.length;
  assert.equal(samples.length % copies, 0);
  assert.ok(samples.length >= 8 * copies && samples.length <= 2 * 7 * copies);
  for (const s of samples) {
    assert.equal(s.weights[0], 1, 'the action first, weight 1');
    assert.ok(s.cells.length > 1, 'spillover cells within 0.3 Å at 0.2 Å spacing');
    for (let k = 1; k < s.cells.length; k++) assert.equal(Math.fround(s.weights[k]), Math.fround(0.1));
    assert.ok(s.target >= -1 && s.target <= 1);
    assert.equal(s.input[s.cells[0]], 0, 'the action is an empty grid point of the state');
    const atomsInState = s.input.reduce((a, b) => a + b, 0);
    assert.ok(atomsInState >= 1 && atomsInState <= 7);
  }
});

test('the graphene presets add 4 rotated copies per batch step (Extended Data Fig. 9) after the symmetry copies', async () => {
  const cfg = config('graphene-small', ['training.batchSize=8']);
  assert.equal(cfg.training.rotations, 4);
  const agent = agentFor(cfg);
  await agent.runEpisode();
  await agent.runEpisode();
  const samples = agent.trainingBatch();
  const perStep = agent.symmetries.length + 4;
  assert.equal(samples.length % perStep, 0);
  const steps = samples.length / perStep;
  assert.ok(steps >= 8 && steps <= 14, `${steps} batch steps`);
  for (let i = 0; i < steps; i++) {
    const group = samples.slice(i * perStep, (i + 1) * perStep);
    const atoms = group.map((s) => s.input.reduce((a, b) => a + b, 0));
    // a rotated copy keeps the atoms within half the 4.27 Å cell length of the action: never more than the state holds
    for (const n of atoms.slice(agent.symmetries.length)) assert.ok(n <= atoms[0], `rotated copy with ${n} atoms, state ${atoms[0]}`);
    for (const s of group) assert.equal(s.target, group[0].target, 'every copy of a step carries its reward');
  }
});

test('masks: a species with its count used up has no allowed action; c1 keeps atoms apart', () => {
  const cfg = config('graphene-small');
  const agent = agentFor(cfg);
  const build = agent.newBuild();
  const allowed = agent.allowedActions(build);
  const grid = agent.grid;
  // grid points within c1 × r_C = 0.5 × 0.76 = 0.38 Å of the template atom are forbidden
  for (let p = 0; p < grid.size; p++) {
    const pos = grid.position(p);
    const d = Math.hypot(...[0, 1].map((k) => {
      const L = cfg.cell[k][k];
      let x = pos[k];
      x -= Math.round(x / L) * L;
      return x;
    }) as [number, number]);
    assert.equal(allowed[p], d < 0.38 ? 0 : 1, `point ${p} at ${d} Å`);
  }
  build.remaining[0] = 0;
  assert.equal(agent.allowedActions(build).reduce((a, b) => a + b, 0), 0);
});

test('a run resumed after an interruption writes exactly the episodes of an uninterrupted run', async () => {
  const sets = ['training.batchSize=8', 'training.symmetryCopies=2', 'run.seed=7'];
  const root = mkdtempSync(join(tmpdir(), 'asla-resume-'));
  try {
    const straight = await Run.open({ dir: join(root, 'a'), config: config('graphene-small', sets), calculator: tersoff });
    await straight.run({ episodes: 8 });
    await straight.close();

    const first = await Run.open({ dir: join(root, 'b'), config: config('graphene-small', sets), calculator: tersoff });
    await first.run({ episodes: 5 });
    await first.close();
    // a kill between appending the log and writing the checkpoint: a half-written line
    const log = join(root, 'b', 'episodes.jsonl');
    readFileSync(log);
    const { appendFileSync } = await import('node:fs');
    appendFileSync(log, '{"episode":6,"gre');
    appendFileSync(join(root, 'b', 'structures.extxyz'), '8\nLattice="4.27 0');
    const resumed = await Run.open({ dir: join(root, 'b'), resume: true, calculator: tersoff });
    assert.equal(resumed.agent.episode, 5);
    await resumed.run({ episodes: 8 });
    await resumed.close();

    const strip = (dir: string) =>
      readFileSync(join(root, dir, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => {
        const r = JSON.parse(l);
        // timings: wall ms of the phases and the process's CPU ms, not part of the comparison
        for (const k of ['build', 'evaluate', 'train', 'cpu']) assert.ok(Number.isFinite(r.ms[k]) && r.ms[k] >= 0, `episode ${r.episode}: ms.${k} = ${r.ms[k]}`);
        delete r.ms;
        return JSON.stringify(r);
      });
    assert.deepEqual(strip('b'), strip('a'));
    assert.equal(readFileSync(join(root, 'b', 'structures.extxyz'), 'utf8'), readFileSync(join(root, 'a', 'structures.extxyz'), 'utf8'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
