/**
 * The paper's problems as ready configs (Extended Data Table 1), each with the
 * reference structure that decides success.
 */
import { Atoms } from '../structure/atoms.js';
import { atomicNumber } from '../structure/elements.js';
import type { BuildingGrid } from '../grid/index.js';
import type { ProblemConfig } from './problem.js';

/** Settings shared by every problem unless it says otherwise (Methods). */
export const COMMON = {
  forbidden: [],
  c2: null,
  policy: { greedyEvery: 5 },
  network: { filterWidth: 3, filters: [10, 10, 10], bias: true, leakySlope: 0.2 },
  training: {
    spilloverRadius: 0.3,
    spilloverWeight: 0.1,
    lossForm: 'eq2',
    symmetryCopies: 'all',
    pixelShift: false,
    stepsPerEpisode: 1,
    threads: 1,
  },
  calculator: { name: 'tersoff', options: {} },
  success: { threshold: 0.05 },
  run: { episodes: 2000, seed: 1, checkpointEvery: 1, policy: 'asla' },
} as const;

/** Vacuum height of 2D sheets' cells (the c vector), Å; the building plane lies in the middle. */
const SHEET_VACUUM = 12;

const GRAPHENE: ProblemConfig = {
  ...structuredClone(COMMON as unknown as ProblemConfig),
  name: 'graphene',
  cell: [
    [8.54, 0, 0],
    [0, 7.4, 0],
    [0, 0, SHEET_VACUUM],
  ],
  pbc: [true, true, false],
  grid: { shape: [42, 37], periodic: [true, true], z: SHEET_VACUUM / 2 },
  template: [{ symbol: 'C', position: [0, 0, SHEET_VACUUM / 2] }],
  stoichiometry: { C: 23 },
  c1: 0.5,
  policy: { epsilon: 0.1, epsilonNu: 0.05, nu: 0.02, greedyEvery: 5 },
  training: { ...structuredClone(COMMON.training as unknown as ProblemConfig['training']), batchSize: 64, learningRate: 1e-3, deltaE: 2.0 },
};

export const PRESETS: Record<string, ProblemConfig> = { graphene: GRAPHENE };

export function presetNames(): string[] {
  return Object.keys(PRESETS);
}

/**
 * Candidate reference structures of a problem on its grid, best first by the
 * caller's energy. For pristine graphene: the perfect 24-atom sheet that fits
 * the 8.54 × 7.40 Å cell (C–C 1.42 Å, zigzag rows along b), translated so that
 * each of its atoms in turn sits on the template atom, mirrored or not, and
 * every atom snapped to its nearest grid point — the agent can only build
 * snapped structures, so the best snapped sheet is what success is measured by.
 */
export function referenceCandidates(config: ProblemConfig, grid: BuildingGrid): Atoms[] {
  if (config.name !== 'graphene') return [];
  const [lx, ly] = [config.cell[0][0], config.cell[1][1]];
  // rectangular 4-atom cell (3d × √3d), repeated 2 × 3 to fill the 8.54 × 7.40 cell
  const basis = [
    [0, 0],
    [1 / 3, 0],
    [1 / 2, 1 / 2],
    [5 / 6, 1 / 2],
  ];
  const frac: [number, number][] = [];
  for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (const [u, v] of basis) frac.push([(i + u) / 2, (j + v) / 3]);
  const t = config.template[0].position;
  const out: Atoms[] = [];
  const seen = new Set<string>();
  for (const mirror of [1, -1]) {
    for (const anchor of frac) {
      const positions: number[] = [];
      const cells: number[] = [];
      for (const [u, v] of frac) {
        const x = t[0] + mirror * (u - anchor[0]) * lx;
        const y = t[1] + (v - anchor[1]) * ly;
        const p = grid.nearest(x, y).index;
        const pos = grid.position(p);
        positions.push(pos[0], pos[1], pos[2]);
        cells.push(p);
      }
      const key = cells.slice().sort((a, b) => a - b).join(',');
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(
        new Atoms({
          numbers: new Array(frac.length).fill(atomicNumber('C')),
          positions,
          cell: config.cell.flat(),
          pbc: config.pbc,
          info: { reference: 'graphene snapped to the grid' },
        }),
      );
    }
  }
  return out;
}

/** The template of a problem as Atoms. */
export function templateAtoms(config: ProblemConfig): Atoms {
  return new Atoms({
    numbers: config.template.map((a) => atomicNumber(a.symbol)),
    positions: config.template.map((a) => a.position),
    cell: config.cell.flat(),
    pbc: config.pbc,
    fixed: config.template.map(() => 1),
  });
}
