/**
 * Molecular design benchmark (issue 5; paper Section IV, Fig. 5b and 5d):
 * independent agents on C3H4O2 with xtb, without a motif and with the motif
 * "C bound to C and 2 O" (Fig. 5d), then the products each group built in
 * greedy episodes, with counts and energies (src/search/molecules.ts).
 *
 *   node dist/bench/c3h4o2.js [--agents 2] [--episodes 2000] [--parallel 2]
 *        [--out bench-runs/c3h4o2] [--seed-base 1] [--groups plain,C-C-2O] [--lambda 0.2] [--set key=value ...]
 *   node dist/bench/c3h4o2.js --report [--out ...] [--groups ...]   (no runs: report what the run directories hold)
 *   node dist/bench/c3h4o2.js --bob [--copies 200]
 *
 * Groups: `plain` (the c3h4o2 preset) and any of the Fig. 5c–e motifs
 * O-2C, C-C-2O, C-O-2C. Each agent is a separate `asla run` process in its
 * own directory (<out>/<group>/agent-NNN), so an interrupted benchmark
 * resumes where it stopped (--resume is passed when the directory exists).
 * The paper ran 25 agents × 10000 episodes per group with GPAW; the issue
 * asks for at least 2 agents × 2000 episodes.
 *
 * --bob measures the bag-of-bonds distances that justify the punishment
 * defaults (src/agent/presets-molecules.ts): the fixture molecules (acrylic
 * acid, vinyl formate, CO2 + ethylene) rotated and translated at random in the
 * building plane and snapped to the 0.2 Å grid, distances between copies of
 * the same molecule and between different ones.
 */
import { parseExtxyz } from '../src/structure/extxyz.js';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { benchFlags } from './args.js';
import { fileURLToPath } from 'node:url';
import { exitOnFailures, inLanes, readEpisodeLog, runAgentProcess, setArgs } from './agent-processes.js';
import { C3H4O2, C3H4O2_MOTIFS } from '../src/agent/presets-molecules.js';
import { BuildingGrid } from '../src/grid/index.js';
import { Atoms } from '../src/structure/atoms.js';
import { bagLayout, bagOfBonds, bobDistance } from '../src/structure/bagofbonds.js';
import { Rng } from '../src/util/rng.js';
import { countProducts, formatProducts, readBuilds } from '../src/search/molecules.js';
import { structureKey } from '../src/structure/molecules.js';

const { values } = benchFlags('c3h4o2', {
  options: {
    agents: { type: 'string', default: '2' },
    episodes: { type: 'string', default: '2000' },
    parallel: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench-runs/c3h4o2' },
    'seed-base': { type: 'string', default: '1' },
    groups: { type: 'string', default: 'plain,C-C-2O' },
    set: { type: 'string', multiple: true, default: [] },
    bob: { type: 'boolean', default: false },
    copies: { type: 'string', default: '200' },
    lambda: { type: 'string' },
    report: { type: 'boolean', default: false },
  },
});

const here = fileURLToPath(import.meta.url);
const fixtures = resolve(here, '../../../fixtures/molecules');

if (values.bob) {
  measureBob(Number(values.copies));
} else {
  await runBenchmark();
}

async function runBenchmark(): Promise<void> {
  const episodes = Number(values.episodes);
  const agents = Number(values.agents);
  const seedBase = Number(values['seed-base']);
  const groups = values.groups!.split(',').map((g) => g.trim()).filter(Boolean);
  for (const g of groups) {
    if (g !== 'plain' && !(g in C3H4O2_MOTIFS)) throw new Error(`unknown group ${g} (plain, ${Object.keys(C3H4O2_MOTIFS).join(', ')})`);
  }
  const jobs: { dir: string; group: string; seed: number }[] = [];
  // interleave the groups so that a short run gives both groups the same agent count
  for (let i = 0; i < agents; i++) {
    for (const group of groups) jobs.push({ dir: join(values.out!, group, `agent-${String(i).padStart(3, '0')}`), group, seed: seedBase + i });
  }

  const started = performance.now();
  const failures = await inLanes(values.report ? [] : jobs, Number(values.parallel), (job) =>
    runAgentProcess(job.dir, episodes, [
      'c3h4o2', '--seed', String(job.seed),
      ...(job.group === 'plain' ? [] : ['--set', `motif=${JSON.stringify(motifOf(job.group))}`]),
      ...setArgs(values.set!),
    ]),
  );
  exitOnFailures('bench/c3h4o2', failures);
  const wall = (performance.now() - started) / 1000;

  const result: Record<string, unknown> = {
    bench: 'c3h4o2',
    calculator: C3H4O2.calculator.name,
    agents,
    episodes,
    parallel: Number(values.parallel),
    wallSeconds: values.report ? null : Math.round(wall),
    groups: {} as Record<string, unknown>,
  };
  for (const group of groups) {
    const dir = join(values.out!, group);
    if (values.report && !existsSync(dir)) continue;
    const report = await countProducts([dir]);
    const times = meanTimes(report.runs.map((r) => r.dir));
    process.stderr.write(`\n== ${group} (${group === 'plain' ? 'no motif' : `motif ${group}`}) ==\n${formatProducts(report, { limit: 15 })}`);
    (result.groups as Record<string, unknown>)[group] = {
      motif: group === 'plain' ? null : motifOf(group),
      episodesPerAgent: report.runs.map((r) => r.episodes),
      msPerEpisode: times,
      greedyBuilds: report.builds,
      failedGreedyBuilds: report.failed,
      distinctProducts: report.products.length,
      products: report.products.slice(0, 15).map((p) => ({
        name: p.name,
        smiles: p.smiles,
        formula: p.formula,
        builds: p.builds,
        agents: p.agents,
        bestEnergy: round(p.bestEnergy, 4),
        motifBuilds: p.motifBuilds,
        firstEpisode: p.firstEpisode,
      })),
      lastGreedyProduct: lastGreedy(report.runs.map((r) => r.dir), report.products.slice()),
    };
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
}

/** The group's motif config; --lambda replaces λ (default 0.2, Methods). */
function motifOf(group: string) {
  const m = structuredClone(C3H4O2_MOTIFS[group as keyof typeof C3H4O2_MOTIFS]);
  if (values.lambda !== undefined) m.lambda = Number(values.lambda);
  return m;
}

/** Mean build / evaluate / train wall time per episode (ms) over the runs' logs. */
function meanTimes(dirs: string[]): { build: number; evaluate: number; train: number; episodes: number } {
  let b = 0, e = 0, t = 0, n = 0;
  for (const dir of dirs) {
    for (const r of readEpisodeLog(dir)) {
      b += r.ms.build;
      e += r.ms.evaluate;
      t += r.ms.train;
      n++;
    }
  }
  return { build: round(b / n, 1), evaluate: round(e / n, 1), train: round(t / n, 1), episodes: n };
}

/** The product of each run's last greedy episode: what the agent builds at the end. */
function lastGreedy(dirs: string[], products: { key: string; name: string | null; smiles: string | null; formula: string }[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const dir of dirs) {
    const { builds } = readBuilds(dir);
    const last = builds[builds.length - 1];
    if (!last) {
      out[dir] = '-';
      continue;
    }
    const key = structureKey(last.structure);
    const p = products.find((q) => q.key === key);
    out[dir] = `episode ${last.episode}: ${p?.name ?? p?.smiles ?? p?.formula ?? key} (${last.energy.toFixed(3)} eV)`;
  }
  return out;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---------------------------------------------------------------------------
// bag-of-bonds distances for the punishment defaults

function readXyz(name: string): Atoms {
  return parseExtxyz(readFileSync(join(fixtures, name), 'utf8'), name)[0];
}

/** The molecule rotated by a random in-plane angle, moved to a random place on the grid, every atom snapped to its nearest grid point. */
function snappedCopy(mol: Atoms, grid: BuildingGrid, rng: Rng): Atoms {
  const n = mol.length;
  let cx = 0, cy = 0;
  for (let i = 0; i < n; i++) {
    cx += mol.positions[3 * i] / n;
    cy += mol.positions[3 * i + 1] / n;
  }
  const angle = 2 * Math.PI * rng.next();
  const [c, s] = [Math.cos(angle), Math.sin(angle)];
  // centre anywhere in the middle 6 × 6 Å of the 11.8 Å grid region (the molecule is ≤ 5 Å across)
  const tx = 8 + 6 * (rng.next() - 0.5);
  const ty = 8 + 6 * (rng.next() - 0.5);
  const positions = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) {
    const x = mol.positions[3 * i] - cx;
    const y = mol.positions[3 * i + 1] - cy;
    const p = grid.position(grid.nearest(tx + c * x - s * y, ty + s * x + c * y).index);
    positions.set([p[0], p[1], p[2]], 3 * i);
  }
  return new Atoms({ numbers: mol.numbers, positions });
}

function measureBob(copies: number): void {
  const cfg = C3H4O2;
  const grid = new BuildingGrid({ cell: cfg.cell, ...cfg.grid });
  const layout = bagLayout({ 6: 3, 1: 4, 8: 2 });
  const rng = new Rng(7);
  const names = ['acrylic_acid.xyz', 'vinyl_formate.xyz', 'co2_ethylene.xyz'];
  const bobs = names.map((f) => {
    const mol = readXyz(f);
    return Array.from({ length: copies }, () => bagOfBonds(snappedCopy(mol, grid, rng), layout));
  });
  const stats = (d: number[]) => {
    d.sort((a, b) => a - b);
    const q = (p: number) => round(d[Math.min(d.length - 1, Math.floor(p * d.length))], 2);
    return { min: round(d[0], 2), median: q(0.5), p95: q(0.95), max: round(d[d.length - 1], 2), pairs: d.length };
  };
  const same: Record<string, unknown> = {};
  const different: Record<string, unknown> = {};
  for (let a = 0; a < names.length; a++) {
    const d: number[] = [];
    for (let i = 0; i < copies; i++) for (let j = i + 1; j < copies; j++) d.push(bobDistance(bobs[a][i], bobs[a][j]));
    same[names[a]] = stats(d);
    for (let b = a + 1; b < names.length; b++) {
      const dd: number[] = [];
      for (let i = 0; i < copies; i++) for (let j = 0; j < copies; j++) dd.push(bobDistance(bobs[a][i], bobs[b][j]));
      different[`${names[a]} – ${names[b]}`] = stats(dd);
    }
  }
  const p = cfg.punishment;
  process.stdout.write(
    JSON.stringify(
      {
        bench: 'c3h4o2 bag-of-bonds distances (e²/Å), copies snapped to the 0.2 Å grid',
        copies,
        sameMolecule: same,
        differentMolecules: different,
        preset: { sigma: p.sigma, sameDistance: p.sameDistance, amplitude: p.amplitude, repeats: p.repeats, window: p.window },
      },
      null,
      2,
    ) + '\n',
  );
}
