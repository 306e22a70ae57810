/**
 * The Ag(111)-p(4×4)-O presets (issue 8; paper Section V, Fig. 6, Extended
 * Data Fig. 7, Table 1): Table 1 settings, the grid, the fixed Ag(111) layer,
 * the void corners, the template Ag at an FCC site, the Ag6 reference on the
 * grid, and short runs on EMT: both presets end to end and ag4o2 → ag12o6
 * transfer with --from.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, referenceCandidates, templateAtoms } from '../../src/agent/presets.js';
import { validateProblem, type ProblemConfig } from '../../src/agent/problem.js';
import { Agent } from '../../src/agent/agent.js';
import { BuildingGrid } from '../../src/grid/index.js';
import { atomicNumber } from '../../src/structure/elements.js';
import { Atoms } from '../../src/structure/atoms.js';
import { backendSkip, hasPythonModule } from '../support/backend.js';

const root = resolve(fileURLToPath(import.meta.url), '../../../..');
const cli = join(root, 'dist/src/cli/main.js');
const AG = atomicNumber('Ag');
const O = atomicNumber('O');

function setup(name: string) {
  const config = validateProblem(structuredClone(PRESETS[name]), name);
  const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
  const agent = new Agent({ config, grid, template: templateAtoms(config), calculator: { name: 'none', energy: async () => 0 }, referenceEnergy: null });
  return { config, grid, agent };
}

/** Fractional in-plane coordinates of (x, y) in the cell, wrapped to [0, 1). */
function fractional(config: ProblemConfig, x: number, y: number): [number, number] {
  const [[ax, ay], [bx, by]] = config.cell;
  const det = ax * by - ay * bx;
  const u = (x * by - y * bx) / det, v = (ax * y - ay * x) / det;
  return [u - Math.floor(u), v - Math.floor(v)];
}

/** Minimum-image in-plane distance between (x, y) and (x2, y2), brute force over 5×5 images. */
function planeDistance(config: ProblemConfig, x: number, y: number, x2: number, y2: number): number {
  const [[ax, ay], [bx, by]] = config.cell;
  let best = Infinity;
  for (let i = -2; i <= 2; i++) for (let j = -2; j <= 2; j++) best = Math.min(best, Math.hypot(x - x2 + i * ax + j * bx, y - y2 + i * ay + j * by));
  return best;
}

/** Hollow type of an in-plane position relative to the 4×4 layer: 'top', 'fcc', 'hcp' (ASE fcc111: fcc = (1/3, 1/3) of the primitive cell), or null. */
function siteOf(config: ProblemConfig, x: number, y: number, tolerance: number): string | null {
  const [u, v] = fractional(config, x, y);
  const types: [string, number][] = [['top', 0], ['fcc', 1 / 3], ['hcp', 2 / 3]];
  for (const [name, off] of types) {
    // lattice coordinates (4u, 4v) minus the offset must be integers
    const du = 4 * u - off, dv = 4 * v - off;
    const ex = du - Math.round(du), ey = dv - Math.round(dv);
    const [[ax, ay], [bx, by]] = config.cell;
    if (Math.hypot((ex * ax + ey * bx) / 4, (ex * ay + ey * by) / 4) <= tolerance) return name;
  }
  return null;
}

test('ag12o6 and ag4o2: Table 1 (AgO column) settings, the rhombic cell, a 24 × 20 grid at ≈ 0.5 Å', () => {
  for (const name of ['ag12o6', 'ag4o2']) {
    const { config, grid } = setup(name);
    assert.deepEqual(config.cell.slice(0, 2).map((r) => r.slice(0, 2)), [[12, 0], [6, 10]]);
    assert.deepEqual(config.pbc, [true, true, false]);
    assert.deepEqual(config.grid.shape, [24, 20]);
    assert.deepEqual(config.grid.periodic, [true, true]);
    assert.equal(grid.spacing[0], 0.5);
    assert.ok(Math.abs(grid.spacing[1] - Math.hypot(6, 10) / 20) < 1e-12 && grid.spacing[1] < 0.6);
    assert.deepEqual([config.policy.epsilon, config.policy.epsilonNu, config.policy.nu], [0.125, 0.0625, 0.02]);
    assert.deepEqual([config.training.batchSize, config.training.learningRate, config.training.deltaE, config.c1, config.c2], [68, 1e-3, null, 0.65, null]);
    assert.equal(config.training.pixelShift, true);
    assert.equal(config.punishment.enabled, true);
    assert.equal(config.network.filterWidth, 3);
    assert.deepEqual(config.network.filters, [10, 10, 10]);
    assert.equal(config.calculator.name, 'gpaw');
    assert.deepEqual(Object.keys(config.stoichiometry), ['Ag', 'O'], 'the same species channels in both: transfer needs no reordering');
  }
  assert.deepEqual(PRESETS.ag12o6.stoichiometry, { Ag: 11, O: 6 });
  assert.deepEqual(PRESETS.ag4o2.stoichiometry, { Ag: 3, O: 2 });
});

test('the template: one fixed 4×4 Ag(111) layer 2.3 Å below the plane, unseen by the network, and the first Ag at an FCC site on a grid point', () => {
  for (const name of ['ag12o6', 'ag4o2']) {
    const { config, grid } = setup(name);
    const t = templateAtoms(config);
    assert.equal(t.length, 17);
    assert.ok(Array.from(t.fixed).every((f) => f === 1));
    assert.ok(Array.from(t.numbers).every((z) => z === AG));
    const layer = config.template.filter((a) => Math.abs(a.position[2] - (config.grid.z - 2.3)) < 1e-9);
    assert.equal(layer.length, 16);
    // a hexagonal layer: every atom has 6 neighbours at 2.9–3.0 Å (the cell is 4 × 2.9 Å strained to 12 Å)
    for (const a of layer) {
      const d = layer.filter((b) => b !== a).map((b) => planeDistance(config, a.position[0], a.position[1], b.position[0], b.position[1]));
      assert.equal(d.filter((x) => x > 2.85 && x < 3.05).length, 6);
      assert.ok(Math.min(...d) > 2.85);
    }
    assert.ok(layer.some((a) => Math.hypot(a.position[0], a.position[1]) < 1e-9), 'a layer atom at the cell corner');
    // the network sees only the template Ag on the plane
    const encoded = grid.encode(t, [AG, O]);
    assert.equal(encoded.reduce((s, x) => s + x, 0), 1);
    const first = config.template.find((a) => Math.abs(a.position[2] - config.grid.z) < 1e-9)!;
    assert.equal(first.symbol, 'Ag');
    assert.equal(siteOf(config, first.position[0], first.position[1], 1e-9), 'fcc');
    const nn = grid.nearest(first.position[0], first.position[1]);
    assert.ok(nn.distance < 1e-9, 'the template Ag is a grid point');
    assert.equal(encoded[nn.index], 1);
  }
});

test('the FCC site is ASE fcc111\'s: the hollow above no atom of the 2nd layer', { skip: backendSkip('python3-ase (/usr/bin/python3)', hasPythonModule('ase')) }, () => {
  // ase.build.fcc111 puts the second layer under the 'hcp' site; 'fcc' is the other hollow: (1/3, 1/3) of the primitive cell
  const r = spawnSync('/usr/bin/python3', ['-c', "from ase.build import fcc111; s = fcc111('Ag', (1, 1, 2), a=4.09, orthogonal=False); import json; print(json.dumps(s.info['adsorbate_info']['sites']['fcc']))"], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [fu, fv] = JSON.parse(r.stdout) as [number, number];
  const { config } = setup('ag12o6');
  const first = config.template.find((a) => Math.abs(a.position[2] - config.grid.z) < 1e-9)!;
  const [u, v] = fractional(config, first.position[0], first.position[1]);
  // the template's offset from the layer, in primitive-cell units (cell / 4)
  const du = 4 * u - Math.floor(4 * u), dv = 4 * v - Math.floor(4 * v);
  assert.ok(Math.abs(du - fu) < 1e-9 && Math.abs(dv - fv) < 1e-9, `template at (${du}, ${dv}), ASE fcc at (${fu}, ${fv})`);
});

test('ag12o6: the void corners are forbidden, ≈ 25% of the grid points, discs about the corners; ag4o2 forbids nothing', () => {
  const { config, grid } = setup('ag12o6');
  const frac = config.forbidden.length / grid.size;
  assert.ok(frac > 0.22 && frac < 0.28, `forbidden fraction ${frac}`);
  const forbidden = new Set(config.forbidden.map(([i0, i1]) => i0 * grid.n1 + i1));
  // forbidden points are exactly those nearer to a corner than some radius: every forbidden point is nearer than every allowed one
  let maxForbidden = 0, minAllowed = Infinity;
  for (let p = 0; p < grid.size; p++) {
    const r = grid.position(p);
    const d = planeDistance(config, r[0], r[1], 0, 0);
    if (forbidden.has(p)) maxForbidden = Math.max(maxForbidden, d);
    else minAllowed = Math.min(minAllowed, d);
  }
  assert.ok(maxForbidden < minAllowed, `${maxForbidden} < ${minAllowed}`);
  assert.ok(maxForbidden > 2.5 && maxForbidden < 3.5);
  assert.equal(PRESETS.ag4o2.forbidden.length, 0);
});

test('ag12o6 reference: the Ag6 model on the grid — 2 Ag6 triangles (FCC and HCP), 6 fourfold O, none in a void, buildable by the agent', () => {
  const { config, grid, agent } = setup('ag12o6');
  const refs = referenceCandidates(config, grid);
  assert.equal(refs.length, 1);
  const ref = refs[0];
  assert.equal(ref.length, 34);
  const nT = config.template.length;
  // template first, as in the agent's structures
  for (let i = 0; i < nT; i++) assert.deepEqual(Array.from(ref.position(i)), config.template[i].position);
  const placed = Array.from(ref.numbers.subarray(nT));
  assert.equal(placed.filter((z) => z === AG).length, 11);
  assert.equal(placed.filter((z) => z === O).length, 6);
  const forbidden = new Set(config.forbidden.map(([i0, i1]) => i0 * grid.n1 + i1));
  const sites: Record<string, number> = {};
  const overlayer: number[] = [nT - 1];
  for (let i = nT; i < ref.length; i++) overlayer.push(i);
  for (const i of overlayer) {
    const [x, y, z] = ref.position(i);
    assert.equal(z, grid.z);
    const nn = grid.nearest(x, y);
    assert.ok(nn.distance < 1e-9, `atom ${i} on a grid point`);
    assert.ok(!forbidden.has(nn.index), `atom ${i} outside the voids`);
    if (ref.numbers[i] === AG) {
      const s = siteOf(config, x, y, 0.2); // snapping moves an atom by at most 1/3 step (0.19 Å)
      sites[s ?? 'none'] = (sites[s ?? 'none'] ?? 0) + 1;
    } else {
      // fourfold: 4 Ag of the overlayer at 2.0–2.7 Å in the plane (2.21 Å before snapping and the cell's strain), the next beyond 3.5 Å
      const d = overlayer.filter((j) => ref.numbers[j] === AG).map((j) => planeDistance(config, x, y, ref.positions[3 * j], ref.positions[3 * j + 1])).sort((a, b) => a - b);
      assert.ok(d[0] > 2 && d[3] < 2.7 && d[4] > 3.5, `O ${i}: Ag at ${d.slice(0, 5).map((v) => v.toFixed(2))}`);
    }
  }
  assert.deepEqual(sites, { fcc: 6, hcp: 6 });
  // each triangle: 6 Ag with 3 corner atoms of 2 and 3 edge atoms of 4 in-triangle neighbours (≈ 2.9 Å)
  const ags = overlayer.filter((i) => ref.numbers[i] === AG);
  const neighbours = ags.map((i) => ags.filter((j) => j !== i && planeDistance(config, ref.positions[3 * i], ref.positions[3 * i + 1], ref.positions[3 * j], ref.positions[3 * j + 1]) < 3.2).length);
  assert.deepEqual(neighbours.sort(), [2, 2, 2, 2, 2, 2, 4, 4, 4, 4, 4, 4]);
  // the agent can build it: replaying the placed atoms passes the masks at every step
  const build = agent.newBuild();
  for (let i = nT; i < ref.length; i++) {
    const channel = ref.numbers[i] === AG ? 0 : 1;
    const p = grid.nearest(ref.positions[3 * i], ref.positions[3 * i + 1]).index;
    const action = channel * grid.size + p;
    assert.equal(agent.allowedActions(build)[action], 1, `step ${i - nT} allowed`);
    agent.place(build, action);
  }
  assert.equal(build.remaining.reduce((a, b) => a + b, 0), 0);
  // and it is the structure the agent would have built
  const built = agent.structureFromActions(Array.from({ length: ref.length - nT }, (_, k) => {
    const i = nT + k;
    return (ref.numbers[i] === AG ? 0 : 1) * grid.size + grid.nearest(ref.positions[3 * i], ref.positions[3 * i + 1]).index;
  }));
  assert.deepEqual(Array.from(built.positions).map((x) => +x.toFixed(9)), Array.from(ref.positions).map((x) => +x.toFixed(9)));
  assert.equal(referenceCandidates(setup('ag4o2').config, grid).length, 0, 'ag4o2 has no reference');
});

test('the Ag6 reference refuses a config whose cell or template it was not built for', () => {
  const { config, grid } = setup('ag12o6');
  const moved = structuredClone(config);
  moved.template[16].position = [0, 0, config.grid.z];
  assert.throws(() => referenceCandidates(moved, grid), /FCC site/);
  const other = structuredClone(config);
  other.cell[0][0] = 11.56;
  assert.throws(() => referenceCandidates(other, grid), /cell/);
});

const aseSkip = backendSkip('python3-ase (/usr/bin/python3)', hasPythonModule('ase'));

function asla(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 600000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function episodes(dir: string): { energy: number | null; actions: number[][]; failure: unknown }[] {
  return readFileSync(join(dir, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

test('EMT: the Ag6 reference is far below random builds on the same grid', { skip: aseSkip }, async () => {
  const { AseCalculator } = await import('../../src/calculators/ase.js');
  const { randomAction } = await import('../../src/agent/policy.js');
  const { Rng } = await import('../../src/util/rng.js');
  const { config, grid, agent } = setup('ag12o6');
  const calc = await AseCalculator.start({ calculator: 'ase.calculators.emt.EMT' });
  try {
    const eRef = await calc.energy(referenceCandidates(config, grid)[0]);
    const rng = new Rng(3);
    for (let k = 0; k < 5; k++) {
      const b = agent.newBuild();
      const acts: number[] = [];
      while (acts.length < b.total) {
        const a = randomAction(agent.allowedActions(b), rng);
        assert.ok(a >= 0);
        agent.place(b, a);
        acts.push(a);
      }
      const e = await calc.energy(agent.structureFromActions(acts));
      assert.ok(e > eRef + 1, `random build ${k}: ${e} vs reference ${eRef}`);
    }
  } finally {
    await calc.close();
  }
});

test('asla run on EMT: ag4o2 and ag12o6 end to end, then ag12o6 transferred from the ag4o2 run with --from', { skip: aseSkip, timeout: 600000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'asla-ag-'));
  try {
    const pre = join(dir, 'ag4o2');
    const r1 = asla(['run', 'ag4o2', '--calculator', 'emt', '--episodes', '6', '--out', pre, '--quiet']);
    assert.equal(r1.code, 0, r1.stderr);
    const log1 = episodes(pre);
    assert.equal(log1.length, 6);
    for (const e of log1) {
      assert.equal(e.actions.length, 5);
      assert.equal(e.failure, null);
      assert.equal(typeof e.energy, 'number');
    }
    assert.equal(JSON.parse(readFileSync(join(pre, 'reference.json'), 'utf8')).energy, null);

    const scratch = join(dir, 'ag12o6');
    const r2 = asla(['run', 'ag12o6', '--calculator', 'emt', '--episodes', '3', '--out', scratch, '--quiet']);
    assert.equal(r2.code, 0, r2.stderr);
    const log2 = episodes(scratch);
    assert.equal(log2.length, 3);
    // the reference was evaluated with the run's calculator and written out
    const refEnergy = JSON.parse(readFileSync(join(scratch, 'reference.json'), 'utf8')).energy;
    assert.equal(typeof refEnergy, 'number');
    assert.ok(existsSync(join(scratch, 'reference.extxyz')));
    const { config, grid } = setup('ag12o6');
    const forbidden = new Set(config.forbidden.map(([i0, i1]) => i0 * grid.n1 + i1));
    for (const e of log2) {
      assert.equal(e.actions.length, 17);
      assert.deepEqual([e.actions.filter((a) => a[0] === 0).length, e.actions.filter((a) => a[0] === 1).length], [11, 6]);
      for (const [, i0, i1] of e.actions) assert.ok(!forbidden.has(i0 * grid.n1 + i1), 'no atom in a void');
      assert.ok(e.energy === null || e.energy > refEnergy, 'untrained builds are above the Ag6 reference');
    }

    const moved = join(dir, 'ag12o6-from-ag4o2');
    const r3 = asla(['run', 'ag12o6', '--calculator', 'emt', '--episodes', '2', '--out', moved, '--from', pre, '--quiet']);
    assert.equal(r3.code, 0, r3.stderr);
    assert.equal(episodes(moved).length, 2);
    const origin = JSON.parse(readFileSync(join(moved, 'transfer.json'), 'utf8'));
    assert.equal(origin.problem, 'ag4o2');
    assert.equal(origin.episode, 6);
    assert.deepEqual(origin.species, ['Ag', 'O']);
    assert.deepEqual(origin.channelMap, [0, 1]);
    const saved = JSON.parse(readFileSync(join(moved, 'config.json'), 'utf8'));
    assert.equal(saved.transfer.from, resolve(pre));
    assert.equal(saved.name, 'ag12o6');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Atoms of the reference round-trip the preset cell (pbc 2D, c holds the vacuum)', () => {
  const { config, grid } = setup('ag12o6');
  const ref: Atoms = referenceCandidates(config, grid)[0];
  assert.deepEqual(ref.pbc, [true, true, false]);
  assert.equal(ref.cell[8], config.cell[2][2]);
  assert.ok(config.cell[2][2] - config.grid.z >= 5, 'vacuum above the overlayer');
  assert.ok(Math.min(...config.template.map((t) => t.position[2])) >= 5, 'vacuum below the layer');
});
