/**
 * The graphene-edge and grain-boundary presets: Table 1 settings, templates
 * built from graphene lattices, references that are what they claim (the
 * closed ring, the 5–7 pair) and lower in energy than random builds, and an
 * agent that can build on both grids (template atoms outside the grid region
 * are allowed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PRESETS, referenceCandidates, templateAtoms } from '../../src/agent/presets.js';
import { validateProblem } from '../../src/agent/problem.js';
import {
  GB_MISORIENTATION,
  GB_PERIOD,
  GB_LATTICE,
  GB_REFERENCE,
  builtFiveSevenBoundary,
  builtHoneycomb,
  grainBoundaryBicrystal,
  grainLevels,
} from '../../src/agent/presets-graphene.js';
import { Agent } from '../../src/agent/agent.js';
import { adaptNetwork } from '../../src/agent/transfer.js';
import { randomAction } from '../../src/agent/policy.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { TersoffCalculator } from '../../src/calculators/tersoff.js';
import { Atoms } from '../../src/structure/atoms.js';
import { bondGraph, distance } from '../../src/structure/bonds.js';
import { ringCounts, shortestPathRings } from '../../src/structure/rings.js';
import { Rng } from '../../src/util/rng.js';

const calc = TersoffCalculator.default();

function setup(name: string) {
  const config = validateProblem(structuredClone(PRESETS[name]), name);
  const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
  const agent = new Agent({ config, grid, template: templateAtoms(config), calculator: calc, referenceEnergy: null });
  return { config, grid, agent };
}

/** Lowest Tersoff energy of `n` random complete builds. */
function bestRandom(agent: Agent, n: number, seed: number): number {
  const rng = new Rng(seed);
  let best = Infinity;
  for (let k = 0; k < n; k++) {
    const b = agent.newBuild();
    const acts: number[] = [];
    while (acts.length < b.total) {
      const a = randomAction(agent.allowedActions(b), rng);
      if (a < 0) break;
      agent.place(b, a);
      acts.push(a);
    }
    if (acts.length < b.total) continue;
    try {
      best = Math.min(best, calc.energySync(agent.structureFromActions(acts)));
    } catch {
      // coincident atoms: not a candidate
    }
  }
  return best;
}

test('graphene-edge: Table 1 settings, an armchair ribbon missing its outer dimer, the closed ring as reference', () => {
  const { config, grid, agent } = setup('graphene-edge');
  assert.deepEqual([config.cell[0][0], config.cell[1][1]], [4.27, 7.12]);
  assert.deepEqual(config.grid.shape, [24, 40]);
  assert.deepEqual([config.policy.epsilon, config.policy.epsilonNu, config.policy.nu], [0.7, 0.7, 0.05]);
  assert.deepEqual([config.training.batchSize, config.training.learningRate, config.training.deltaE, config.c1], [10, 7.5e-4, null, 0.4]);
  assert.equal(config.network.bias, false);
  assert.equal(grid.spacing[1], 0.18);
  assert.ok(Math.abs(grid.spacing[0] - 4.27 / 24) < 1e-12);
  assert.deepEqual(config.stoichiometry, { C: 2 });

  const template = templateAtoms(config);
  assert.equal(template.length, 8);
  // a ribbon: every atom bonded to 2 or 3 others at the lattice's 1.423 Å, two hexagons per period
  const g = bondGraph(template);
  for (let i = 0; i < 8; i++) assert.ok(g.offsets[i + 1] - g.offsets[i] >= 2);
  assert.deepEqual(ringCounts(template), { 6: 2 });

  const refs = referenceCandidates(config, grid);
  assert.equal(refs.length, 2);
  for (const r of refs) {
    assert.equal(r.length, 10);
    assert.deepEqual(ringCounts(r), { 6: 3 }); // the 2 atoms close a third ring
  }
  // the upper ring's atoms sit exactly on grid points
  const top = refs[0];
  for (const i of [8, 9]) assert.ok(grid.nearest(top.positions[3 * i], top.positions[3 * i + 1]).distance < 1e-9);
  const eRef = Math.min(...refs.map((r) => calc.energySync(r)));
  assert.ok(eRef < bestRandom(agent, 400, 7), 'the closed ring beats random placements of the two atoms');
});

test('graphene-edge-0.2: the edge on pristine graphene\'s grid, the same ring energy, a network that transfers into graphene', () => {
  const edge = setup('graphene-edge');
  const { config, grid, agent } = setup('graphene-edge-0.2');
  const pristine = setup('graphene');
  // the edge problem itself: Table 1's edge settings but biases, the paper's template
  assert.deepEqual(config.template, edge.config.template);
  assert.deepEqual([config.policy.epsilon, config.policy.epsilonNu, config.policy.nu, config.training.batchSize], [0.7, 0.7, 0.05, 10]);
  assert.equal(config.network.bias, pristine.config.network.bias);
  // pristine graphene's grid spacing on both axes
  for (let k = 0; k < 2; k++) assert.ok(Math.abs(grid.spacing[k] - pristine.grid.spacing[k]) < 1e-12, `axis ${k}`);
  // the upper ring on grid points again, so the reference is the same closed ring, energy for energy
  const refs = referenceCandidates(config, grid);
  for (const i of [8, 9]) assert.ok(grid.nearest(refs[0].positions[3 * i], refs[0].positions[3 * i + 1]).distance < 1e-9);
  const eRef = Math.min(...refs.map((r) => calc.energySync(r)));
  const eEdge = Math.min(...referenceCandidates(edge.config, edge.grid).map((r) => calc.energySync(r)));
  assert.ok(Math.abs(eRef - eEdge) < 1e-6, `${eRef} vs ${eEdge}`);
  // its network fits pristine graphene's (taps, channels, bias): the transfer copies it whole
  assert.deepEqual(agent.net!.spec, { ...pristine.agent.net!.spec });
  const { net } = adaptNetwork(agent.net!, ['C'], ['C'], pristine.agent.net!.spec);
  assert.deepEqual(net.params, agent.net!.params);
  // while the paper's edge network does not (0.18 Å taps)
  assert.throws(() => adaptNetwork(edge.agent.net!, ['C'], ['C'], pristine.agent.net!.spec), /kernel sizes differ/);
});

test('grain-boundary: two grains misoriented by 13.17°, 60 template + 20 boundary atoms, the 5–7 reference', () => {
  const { config, grid, agent } = setup('grain-boundary');
  assert.ok(Math.abs(GB_MISORIENTATION - 13.17) < 0.005);
  assert.ok(Math.abs(GB_LATTICE * Math.sqrt(19) - GB_PERIOD) < 1e-12);
  assert.deepEqual(config.grid.shape, [60, 50]);
  assert.deepEqual([config.policy.epsilon, config.policy.epsilonNu, config.policy.nu], [0.1, 0.05, 0.02]);
  assert.deepEqual([config.training.batchSize, config.training.deltaE, config.c1, config.success.threshold], [100, 0.5, 0.4, 0.15]);
  assert.equal(config.network.bias, false);
  assert.equal(config.template.length, 60);
  assert.deepEqual(config.stoichiometry, { C: 20 });
  // the grid covers 10.68 × 8.82 Å around the boundary
  assert.ok(Math.abs(grid.spacing[0] - GB_PERIOD / 60) < 1e-12);

  // each grain is graphene: in the bicrystal's grains, nearest neighbours at a/√3
  const levels = grainLevels(41);
  const sheet = new Atoms({
    numbers: levels.map(() => 6),
    positions: levels.map(([x, y]) => [x, y + 20, 6]),
    cell: [[GB_PERIOD, 0, 0], [0, 40, 0], [0, 0, 12]],
    pbc: [true, false, false],
  });
  const gs = bondGraph(sheet);
  for (let k = 0; k < gs.pairs.length; k += 2) assert.ok(Math.abs(distance(sheet, gs.pairs[k], gs.pairs[k + 1]) - GB_LATTICE / Math.sqrt(3)) < 1e-9);
  // the upper grain is the lower one rotated by 13.17°: its bond directions are the lower ones' + 13.17° (mod 60°)
  const { template } = grainBoundaryBicrystal();
  const angles = (pts: [number, number][]) => {
    const out = new Set<number>();
    for (const p of pts) for (const q of pts) {
      const d = Math.hypot(q[0] - p[0], q[1] - p[1]);
      if (Math.abs(d - GB_LATTICE / Math.sqrt(3)) < 1e-6) out.add(Math.round((((Math.atan2(q[1] - p[1], q[0] - p[0]) * 180) / Math.PI + 360) % 60) * 100) / 100);
    }
    return [...out];
  };
  const lower = angles(template.slice(0, 30)), upper = angles(template.slice(30));
  assert.equal(lower.length, 1);
  assert.equal(upper.length, 1);
  const diff = (((upper[0] - lower[0]) % 60) + 60) % 60;
  assert.ok(Math.abs(Math.min(diff, 60 - diff) - GB_MISORIENTATION) < 0.02, `misorientation ${diff}`);

  // the reference: 5–7 pair, hexagons elsewhere, every boundary atom inside the grid region
  assert.equal(GB_REFERENCE.length, 20);
  const [ref] = referenceCandidates(config, grid);
  assert.equal(ref.length, 80);
  assert.equal(builtFiveSevenBoundary(ref), true);
  const an = shortestPathRings(ref, { tolerance: 0.4 });
  assert.equal(an.counts[5], 1);
  assert.equal(an.counts[7], 1);
  assert.equal(an.counts[8], 0);
  // the template alone, or the bicrystal without its boundary atoms, has no 5–7 pair
  assert.equal(builtFiveSevenBoundary(templateAtoms(config)), false);
  const eRef = calc.energySync(ref);
  assert.ok(eRef < bestRandom(agent, 20, 3), 'the 5–7 boundary beats random builds');
  // the template's on-plane atoms outside the grid region do not stop the agent from encoding it
  assert.equal(agent.newBuild().input.reduce((a, b) => a + b, 0) > 0, true);
});

test('fiveSevenEpisodes reads a run directory: the episodes within the threshold that hold the 5–7 pair', async () => {
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { formatExtxyz } = await import('../../src/structure/extxyz.js');
  const { fiveSevenEpisodes } = await import('../../src/agent/presets-graphene.js');
  const { config, grid } = setup('grain-boundary');
  const [ref] = referenceCandidates(config, grid);
  const eRef = calc.energySync(ref);
  const dir = mkdtempSync(join(tmpdir(), 'asla-gb57-'));
  try {
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'reference.json'), JSON.stringify({ energy: eRef }));
    const frames: string[] = [];
    // episode 1: the reference itself; episode 2: the same atoms with a boundary atom pulled away (no heptagon);
    // episode 3: the reference, but recorded with an energy above the threshold
    const broken = ref.clone();
    broken.positions[3 * 79 + 1] += 1.5;
    for (const [episode, atoms, energy] of [[1, ref, eRef], [2, broken, calc.energySync(broken)], [3, ref, eRef + 0.2 * 80]] as const) {
      const a = atoms.clone();
      a.info = { episode, energy };
      frames.push(formatExtxyz(a));
    }
    writeFileSync(join(dir, 'structures.extxyz'), frames.join(''));
    assert.equal(builtFiveSevenBoundary(broken), false);
    assert.deepEqual(fiveSevenEpisodes(dir), [1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('grain-boundary episodes carry the 5–7 flag of their structure; other problems carry none', async () => {
  const { config, grid } = setup('grain-boundary');
  const small = validateProblem({ ...config, training: { ...config.training, batchSize: 4, symmetryCopies: 1 } }, 'grain-boundary');
  const agent = new Agent({ config: small, grid, template: templateAtoms(small), calculator: calc, referenceEnergy: null });
  for (let e = 0; e < 2; e++) {
    const { record, structure } = await agent.runEpisode();
    assert.equal(typeof record.fiveSeven, 'boolean');
    assert.equal(record.fiveSeven, builtFiveSevenBoundary(structure));
  }
  await agent.close();
  const edge = setup('graphene-edge').agent;
  const { record } = await edge.runEpisode();
  assert.equal(record.fiveSeven, undefined);
  await edge.close();
});

test('builtHoneycomb: every snapped graphene sheet of the pristine presets is one, at any offset; chains, gaps and moved atoms are not', () => {
  for (const name of ['graphene-small', 'graphene']) {
    const { config, grid } = setup(name);
    const sheets = referenceCandidates(config, grid);
    assert.ok(sheets.length >= 2, `${name}: several offsets`);
    const energies = sheets.map((s) => calc.energySync(s));
    // the offsets differ in energy (snapping), yet all are the honeycomb
    assert.ok(Math.max(...energies) - Math.min(...energies) > 0.1 * sheets[0].length, `${name}: offsets differ by > 0.1 eV/atom`);
    for (const s of sheets) assert.equal(builtHoneycomb(s), true, name);
    // one atom moved by half a bond: two atoms lose a bond
    const moved = sheets[0].clone();
    moved.positions[3] += 0.7;
    assert.equal(builtHoneycomb(moved), false, `${name}: moved atom`);
  }
  // straight rows 1.42 Å apart (the paper's "atoms on a straight line" stage): 2 bonds each
  const rows: number[] = [];
  for (let r = 0; r < 4; r++) for (let i = 0; i < 6; i++) rows.push(i * (8.54 / 6), r * 1.85, 6);
  const chains = new Atoms({ numbers: new Array(24).fill(6), positions: rows, cell: [8.54, 0, 0, 0, 7.4, 0, 0, 0, 12], pbc: [true, true, false] });
  assert.equal(builtHoneycomb(chains), false);
});

test('pristine graphene episodes carry the honeycomb flag of their structure; other problems carry none', async () => {
  const { config, grid } = setup('graphene-small');
  const agent = new Agent({ config, grid, template: templateAtoms(config), calculator: calc, referenceEnergy: null });
  const { record, structure } = await agent.runEpisode();
  assert.equal(record.honeycomb, builtHoneycomb(structure));
  await agent.close();
  const edge = setup('graphene-edge').agent;
  assert.equal((await edge.runEpisode()).record.honeycomb, undefined);
  await edge.close();
});
