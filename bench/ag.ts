/**
 * The Ag(111)-p(4×4)-O problems (issue 8; paper Section V, Fig. 6, Extended
 * Data Fig. 7, Table 1): geometry checks, punishment distances, EMT and GPAW
 * energies of a few candidate structures, GPAW cost per evaluation and the
 * plan of a full search on a SLURM cluster. Every mode prints one JSON object.
 *
 *   node dist/bench/ag.js --geometry
 *   node dist/bench/ag.js --bob [--copies 100]
 *   node dist/bench/ag.js --emt [--random 20]
 *   node dist/bench/ag.js --gpaw paper|fast|sz [--structures reference,o-moved,random] [--save FILE]
 *   node dist/bench/ag.js --plan [--agents 25] [--pretrain-episodes 1000] [--episodes 3000] [--measured DIR] [--setting paper|fast]
 *
 * --gpaw evaluates the candidates with GPAW through scripts/ag_gpaw_timing.py
 * (the same single point the ASE worker runs per episode, one process,
 * OMP_NUM_THREADS=1), one at a time, and reports wall and CPU seconds per
 * evaluation. Expensive (minutes per structure): run one setting at a time.
 * --save writes the JSON (default fixtures/ag/gpaw-<setting>.json) for --plan.
 *
 * Candidates (ag12o6, built from the preset): `reference` (the Ag6 model on
 * the grid), `o-moved` (the same with one O moved one grid step along a — a
 * near miss), `random` (a random build that satisfies the masks, seed 1).
 *
 * --plan reads the saved GPAW timings, measures the agent's own cost per
 * episode (building + training, a few EMT episodes of each preset), and gives
 * agents × episodes × CPU hours for pre-training on ag4o2 and the search on
 * ag12o6, with the asla slurm commands that run it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { benchFlags } from './args.js';
import { fileURLToPath } from 'node:url';
import { PRESETS, referenceCandidates, templateAtoms } from '../src/agent/presets.js';
import { AG_VACUUM, AG_VOID_RADIUS, distanceToCorner } from '../src/agent/presets-ag.js';
import { validateProblem, type ProblemConfig } from '../src/agent/problem.js';
import { Agent } from '../src/agent/agent.js';
import { randomAction } from '../src/agent/policy.js';
import { BuildingGrid } from '../src/grid/index.js';
import { AseCalculator } from '../src/calculators/ase.js';
import { Atoms } from '../src/structure/atoms.js';
import { bagLayout, bagOfBonds, bobDistance } from '../src/structure/bagofbonds.js';
import { Run } from '../src/search/run.js';
import { Rng } from '../src/util/rng.js';

const { values } = benchFlags('ag', {
  options: {
    geometry: { type: 'boolean', default: false },
    bob: { type: 'boolean', default: false },
    copies: { type: 'string', default: '100' },
    emt: { type: 'boolean', default: false },
    random: { type: 'string', default: '20' },
    gpaw: { type: 'string' },
    structures: { type: 'string', default: 'reference,o-moved,random' },
    save: { type: 'string' },
    plan: { type: 'boolean', default: false },
    agents: { type: 'string', default: '25' },
    'pretrain-episodes': { type: 'string' },
    episodes: { type: 'string' },
    measured: { type: 'string' },
    setting: { type: 'string' },
  },
});

const here = fileURLToPath(import.meta.url);
const root = resolve(here, '../../..');

/**
 * GPAW settings compared (LCAO/PBE, k-points 1×1 as Table 1; GPAW's default
 * grid spacing h = 0.2 Å): `paper` is the paper's LCAO with the dzp basis and
 * asla's default 6 Å vacuum; `sz` the single-zeta basis alone; `fast` the
 * single-zeta basis, a coarser real-space grid and 4 Å vacuum.
 */
export const GPAW_SETTINGS: Record<string, { kwargs: Record<string, unknown>; vacuum: number }> = {
  paper: { kwargs: { mode: 'lcao', basis: 'dzp', xc: 'PBE', kpts: [1, 1, 1], maxiter: 100 }, vacuum: AG_VACUUM },
  sz: { kwargs: { mode: 'lcao', basis: 'sz(dzp)', xc: 'PBE', kpts: [1, 1, 1], maxiter: 100 }, vacuum: AG_VACUUM },
  fast: { kwargs: { mode: 'lcao', basis: 'sz(dzp)', xc: 'PBE', kpts: [1, 1, 1], maxiter: 100, h: 0.3 }, vacuum: 4 },
};

/** A preset with `vacuum` Å below the layer and above the overlayer (heights shifted, c resized). */
function withVacuum(name: string, vacuum: number): ProblemConfig {
  const c = validateProblem(structuredClone(PRESETS[name]), name);
  const dz = vacuum - AG_VACUUM;
  c.cell[2][2] += 2 * dz;
  c.grid.z += dz;
  for (const t of c.template) t.position[2] += dz;
  return c;
}

function setup(name: string, vacuum = AG_VACUUM) {
  const config = withVacuum(name, vacuum);
  const grid = new BuildingGrid({ cell: config.cell, ...config.grid });
  const agent = new Agent({ config, grid, template: templateAtoms(config), calculator: { name: 'none', energy: async () => 0 }, referenceEnergy: null });
  return { config, grid, agent };
}

/** A complete random build satisfying the masks (the random policy's structure), or null. */
function randomBuild(agent: Agent, rng: Rng): Atoms | null {
  const b = agent.newBuild();
  const acts: number[] = [];
  while (acts.length < b.total) {
    const a = randomAction(agent.allowedActions(b), rng);
    if (a < 0) return null;
    agent.place(b, a);
    acts.push(a);
  }
  return agent.structureFromActions(acts);
}

/** The reference with its last O moved one grid step along a (checked against the masks). */
function oMoved(agent: Agent, grid: BuildingGrid, ref: Atoms): Atoms {
  const n = ref.length;
  const out = new Atoms({ numbers: ref.numbers, positions: ref.positions, cell: ref.cell, pbc: ref.pbc, fixed: ref.fixed });
  const p = grid.nearest(ref.positions[3 * (n - 1)], ref.positions[3 * (n - 1) + 1]).index;
  const q = grid.indexOf(Math.floor(p / grid.n1) + 1, p % grid.n1);
  const pos = grid.position(q);
  out.positions.set(pos, 3 * (n - 1));
  out.info.structure = 'o-moved';
  const others = new Atoms({ numbers: ref.numbers.subarray(0, n - 1), positions: ref.positions.subarray(0, 3 * (n - 1)), cell: ref.cell, pbc: ref.pbc });
  const allowed = agent.allowedActions({ ...agent.newBuild(), numbers: Array.from(others.numbers), positions: Array.from(others.positions), remaining: Int32Array.of(0, 1) });
  if (!allowed[grid.size + q]) throw new Error('o-moved: the moved O breaks the masks');
  return out;
}

function candidates(vacuum: number, which: string[]): { name: string; atoms: Atoms }[] {
  const { config, grid, agent } = setup('ag12o6', vacuum);
  const ref = referenceCandidates(config, grid)[0];
  const out: { name: string; atoms: Atoms }[] = [];
  for (const w of which) {
    if (w === 'reference') out.push({ name: w, atoms: ref });
    else if (w === 'o-moved') out.push({ name: w, atoms: oMoved(agent, grid, ref) });
    else if (/^random\d*$/.test(w)) {
      const rng = new Rng(Number(w.slice(6) || '1'));
      let a: Atoms | null = null;
      while (!a) a = randomBuild(agent, rng);
      out.push({ name: w, atoms: a });
    } else throw new Error(`unknown structure ${w} (reference, o-moved, random[N])`);
  }
  return out;
}

function minimumImageDistance(atoms: Atoms, i: number, j: number): number {
  const c = atoms.cell;
  let best = Infinity;
  for (let u = -1; u <= 1; u++) {
    for (let v = -1; v <= 1; v++) {
      const dx = atoms.positions[3 * i] - atoms.positions[3 * j] + u * c[0] + v * c[3];
      const dy = atoms.positions[3 * i + 1] - atoms.positions[3 * j + 1] + u * c[1] + v * c[4];
      const dz = atoms.positions[3 * i + 2] - atoms.positions[3 * j + 2];
      best = Math.min(best, Math.hypot(dx, dy, dz));
    }
  }
  return best;
}

function geometry() {
  const { config, grid } = setup('ag12o6');
  const ref = referenceCandidates(config, grid)[0];
  const first = config.template.length;
  const nearest: Record<string, number> = {};
  let cornerMin = Infinity;
  for (let i = first - 1; i < ref.length; i++) {
    cornerMin = Math.min(cornerMin, distanceToCorner(ref.positions[3 * i], ref.positions[3 * i + 1]));
    for (let j = first - 1; j < i; j++) {
      const k = [ref.numbers[j], ref.numbers[i]].sort((a, b) => a - b).join('-');
      nearest[k] = Math.min(nearest[k] ?? Infinity, minimumImageDistance(ref, i, j));
    }
  }
  return {
    grid: { shape: [grid.n0, grid.n1], spacing: grid.spacing, origin: grid.origin },
    forbidden: { points: config.forbidden.length, fraction: config.forbidden.length / grid.size, voidRadius: AG_VOID_RADIUS },
    reference: { atoms: ref.length, closestToCorner: cornerMin, nearestInPlane: nearest },
  };
}

function measureBob(copies: number) {
  const { config, grid, agent } = setup('ag12o6');
  const ref = referenceCandidates(config, grid)[0];
  const layout = bagLayout(ref.numbers);
  const bRef = bagOfBonds(ref, layout);
  // the reference with one atom moved one pixel (each placed atom, 4 directions, where the masks allow)
  const pixel: number[] = [];
  const first = config.template.length;
  for (let i = first; i < ref.length; i++) {
    const p = grid.nearest(ref.positions[3 * i], ref.positions[3 * i + 1]).index;
    for (const [d0, d1] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
      const q = grid.indexOf(Math.floor(p / grid.n1) + d0, (p % grid.n1) + d1);
      if (q < 0 || config.forbidden.some(([a, b]) => a * grid.n1 + b === q)) continue;
      const moved = new Atoms({ numbers: ref.numbers, positions: ref.positions, cell: ref.cell, pbc: ref.pbc });
      moved.positions.set(grid.position(q), 3 * i);
      pixel.push(bobDistance(bRef, bagOfBonds(moved, layout)));
    }
  }
  const rng = new Rng(7);
  const randoms: Float64Array[] = [];
  while (randoms.length < copies) {
    const a = randomBuild(agent, rng);
    if (a) randoms.push(bagOfBonds(a, layout));
  }
  const toRef = randoms.map((b) => bobDistance(bRef, b));
  const pairs: number[] = [];
  for (let i = 0; i < randoms.length; i++) for (let j = 0; j < i; j++) pairs.push(bobDistance(randoms[i], randoms[j]));
  return { onePixelFromReference: stats(pixel), randomToReference: stats(toRef), randomPairs: stats(pairs) };
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { n: s.length, min: s[0], p05: q(0.05), median: q(0.5), p95: q(0.95), max: s[s.length - 1] };
}

async function emt(nRandom: number) {
  const calc = await AseCalculator.start({ calculator: 'ase.calculators.emt.EMT' });
  try {
    const which = ['reference', 'o-moved', ...Array.from({ length: nRandom }, (_, k) => `random${k + 1}`)];
    const out: Record<string, number> = {};
    for (const c of candidates(AG_VACUUM, which)) out[c.name] = await calc.energy(c.atoms);
    const rand = which.slice(2).map((w) => out[w]);
    return {
      calculator: 'emt',
      reference: out.reference,
      oMoved: out['o-moved'],
      random: stats(rand),
      randomBelowReference: rand.filter((e) => e < out.reference).length,
    };
  } finally {
    await calc.close();
  }
}

function gpaw(setting: string, which: string[], save: string | undefined) {
  const s = GPAW_SETTINGS[setting];
  if (!s) throw new Error(`unknown setting ${setting} (${Object.keys(GPAW_SETTINGS).join(', ')})`);
  const structures = candidates(s.vacuum, which).map(({ name, atoms }) => ({
    name,
    numbers: Array.from(atoms.numbers),
    positions: Array.from(atoms.positions),
    cell: Array.from(atoms.cell),
    pbc: atoms.pbc,
  }));
  const r = spawnSync('/usr/bin/python3', [join(root, 'scripts/ag_gpaw_timing.py')], {
    input: JSON.stringify({ kwargs: s.kwargs, structures }),
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: '1' },
    stdio: ['pipe', 'pipe', 'inherit'],
    maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`scripts/ag_gpaw_timing.py failed (status ${r.status})`);
  const results = JSON.parse(r.stdout.trim().split('\n').pop()!) as { name: string; energy?: number; wall_s: number; cpu_s: number }[];
  const ok = results.filter((x) => x.energy !== undefined);
  const out = {
    setting,
    kwargs: s.kwargs,
    vacuum: s.vacuum,
    atoms: structures[0]?.numbers.length,
    results,
    ranking: [...ok].sort((a, b) => a.energy! - b.energy!).map((x) => x.name),
    cpuSecondsPerEvaluation: ok.reduce((t, x) => t + x.cpu_s, 0) / Math.max(1, ok.length),
    wallSecondsPerEvaluation: ok.reduce((t, x) => t + x.wall_s, 0) / Math.max(1, ok.length),
    measuredAt: new Date().toISOString(),
    loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number),
  };
  const path = save ?? join(root, 'fixtures/ag', `gpaw-${setting}.json`);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(out, null, 2) + '\n');
  return out;
}

/** Mean building + training milliseconds per episode of a preset, from a few EMT episodes through the Run API. */
async function agentCost(name: string, episodes: number) {
  const dir = mkdtempSync(join(tmpdir(), 'asla-ag-plan-'));
  try {
    const config = validateProblem({ ...structuredClone(PRESETS[name]), calculator: { name: 'emt', options: {} } }, name);
    const run = await Run.open({ dir: join(dir, 'run'), config });
    const ms = { build: 0, train: 0 };
    try {
      await run.run({ episodes, onEpisode: (r) => { ms.build += r.ms.build; ms.train += r.ms.train; } });
    } finally {
      await run.close();
    }
    return { buildMs: ms.build / episodes, trainMs: ms.train / episodes };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function plan() {
  const measuredDir = values.measured ?? join(root, 'fixtures/ag');
  const settings: Record<string, { cpuSecondsPerEvaluation: number; atoms: number }> = {};
  for (const s of Object.keys(GPAW_SETTINGS)) {
    const p = join(measuredDir, `gpaw-${s}.json`);
    if (existsSync(p)) settings[s] = JSON.parse(readFileSync(p, 'utf8'));
  }
  if (Object.keys(settings).length === 0) throw new Error(`no GPAW timings in ${measuredDir}: run --gpaw SETTING first`);
  const agents = Number(values.agents);
  const e1 = Number(values['pretrain-episodes'] ?? PRESETS.ag4o2.run.episodes);
  const e2 = Number(values.episodes ?? PRESETS.ag12o6.run.episodes);
  const own = { ag4o2: await agentCost('ag4o2', 10), ag12o6: await agentCost('ag12o6', 10) };
  // GPAW's cost grows with the atoms (grid work ∝ cell volume, LCAO matrices ∝ orbitals²); ag4o2 (22 atoms) is scaled from
  // the 34-atom ag12o6 timing by the atom count, an upper bound for the same cell and grid
  const ratio4 = 22 / 34;
  const rows = Object.entries(settings).map(([s, m]) => {
    const per12 = m.cpuSecondsPerEvaluation + (own.ag12o6.buildMs + own.ag12o6.trainMs) / 1000;
    const per4 = m.cpuSecondsPerEvaluation * ratio4 + (own.ag4o2.buildMs + own.ag4o2.trainMs) / 1000;
    const pre = (agents * e1 * per4) / 3600;
    const main = (agents * e2 * per12) / 3600;
    return {
      setting: s,
      cpuSecondsPerEpisode: { ag4o2: round(per4), ag12o6: round(per12) },
      cpuHours: { pretrain: round(pre), search: round(main), total: round(pre + main) },
      hoursPerAgent: { pretrain: round((e1 * per4) / 3600), search: round((e2 * per12) / 3600) },
    };
  });
  return {
    agents,
    episodes: { ag4o2: e1, ag12o6: e2 },
    agentOwnCostMs: own,
    rows,
    slurm: slurmCommands(agents, e1, e2, rows.find((r) => r.setting === (values.setting ?? 'paper')) ?? rows[0]),
  };
}

/**
 * The two ensembles of the plan (src/search/slurm.ts): one process per agent,
 * a time limit of 1.25 × the estimated hours. The ensemble tool starts every
 * ag12o6 agent from one run directory, so the search transfers from one
 * pre-trained agent (pick the best, e.g. with asla stats); the fast setting
 * goes in with --set calculator.options.
 */
function slurmCommands(agents: number, e1: number, e2: number, row: { setting: string; hoursPerAgent: { pretrain: number; search: number } }): string[] {
  const limit = (h: number) => {
    const total = Math.ceil(h * 1.25);
    return `${Math.floor(total / 24)}-${String(total % 24).padStart(2, '0')}:00:00`;
  };
  const kwargs = GPAW_SETTINGS[row.setting].kwargs;
  const opts = row.setting === 'paper' ? [] : [`--set 'calculator.options={"kwargs":${JSON.stringify({ basis: kwargs.basis, h: kwargs.h })}}'`];
  return [
    ['asla slurm submit ag4o2', `--agents ${agents} --episodes ${e1} --cpus-per-task 1 --time ${limit(row.hoursPerAgent.pretrain)} --out ag-pre`, ...opts].join(' '),
    ['asla slurm submit ag12o6', `--agents ${agents} --episodes ${e2} --cpus-per-task 1 --time ${limit(row.hoursPerAgent.search)} --out ag-main --set transfer.from=ag-pre/agent-000`, ...opts].join(' '),
  ];
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function main() {
  let out: unknown;
  if (values.geometry) out = geometry();
  else if (values.bob) out = measureBob(Number(values.copies));
  else if (values.emt) out = await emt(Number(values.random));
  else if (values.gpaw) out = gpaw(values.gpaw, values.structures.split(','), values.save);
  else if (values.plan) out = await plan();
  else {
    process.stderr.write('usage: node dist/bench/ag.js --geometry | --bob | --emt | --gpaw SETTING | --plan (see the header)\n');
    process.exit(2);
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

await main();
