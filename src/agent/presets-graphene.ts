/**
 * The graphene edge and grain-boundary problems (paper Section III, Figs. 3–4,
 * Extended Data Figs. 2c–d, 3, 4 and Table 1), their templates built by code
 * from graphene lattices, and the reference structures that decide success.
 *
 * Graphene edge (Fig. 3 inset): an armchair nanoribbon, periodic along the
 * ribbon (cell vector a = 4.27 Å = 3 C–C bonds, the armchair period), whose
 * outermost dimer is missing: the agent places 2 atoms, and closing the
 * six-membered ring is the solution. Rows of the ribbon run along a, 1.23 Å
 * (√3/2 bond) apart; the template holds 4 rows (8 atoms), the solution adds
 * the 5th. The 7.12 Å cell (vacuum along b, not periodic) holds the ribbon and
 * the grid (24 × 40 at 0.18 Å) covers it; the ribbon is placed so that the
 * solution's atoms lie exactly on grid points. By symmetry, closing a ring on
 * the ribbon's other edge is an equally good solution; both are reference
 * candidates.
 *
 * Grain boundary (Zhang et al., Nanoscale 7, 20082 (2015)): two graphene
 * grains misoriented by 13.17°, the symmetric tilt boundary whose period is
 * the lattice vector T = 3a1 + 2a2 of one grain and 2a1 + 3a2 of the other
 * (|T| = a√19 = 10.68 Å for a = 2.450 Å; angle between them 2·(30° −
 * atan(√3/4)) = 13.17°). The Burgers vector T − T' = a1 − a2 has length a:
 * one dislocation, a pentagon–heptagon pair, per period. Construction:
 *  - the lower grain is graphene rotated by −atan(√3/4) so that T lies along
 *    x; its atoms, sorted by height, form levels one atom per period each;
 *    the grain is the 40 levels below its top level (skipping the topmost,
 *    whose atom would have a single bond: the cut then leaves a clean edge of
 *    5 two-bonded atoms per period);
 *  - the upper grain is the mirror image (y → −y) of the lower one, shifted
 *    along x by GB_SHIFT_X = 19/24 of the period and placed GB_GAP = 0.9 Å
 *    above it (the scanned shift and gap that relax into the 5–7 boundary);
 *  - 80 atoms per period; the 10 top atoms of the lower grain and the 10
 *    bottom atoms of the upper grain are the boundary region the agent fills
 *    (20 atoms), the other 60 the template. The template's outer edges are
 *    free (the cell is not periodic across the boundary);
 *  - the 5–7 reference (GB_REFERENCE), found by a search run once with
 *    LAMMPS (Tersoff 1989, `minimize` with template atoms and z fixed): 288
 *    bicrystals (x shifts in 24 steps of the period, gaps 0.9/1.2/1.5 Å, the
 *    upper grain starting at levels 0–3) were relaxed; the lowest (−551.105
 *    eV) had one pentagon and an open ring whose two two-bonded atoms were
 *    2.42 Å apart, out of Tersoff's reach (cutoff 1.8–2.1 Å). Moving them to
 *    1.45 Å and relaxing again closed the heptagon (bond 1.80 Å) next to the
 *    pentagon: −551.716 eV, the lowest structure found, with the 5–7 pair and
 *    hexagons elsewhere. Snapped to the grid it is the success reference.
 *
 * Table 1 lists 10.68 × 8.90 Å as the grain boundary's "DFT cell", but 80
 * atoms of graphene need ≈ 210 Å² (0.38 atoms/Å²) and 10.68 × 8.90 Å holds 36:
 * we read 8.90 Å as the extent of the building region (the 50-point grid at
 * 0.18 Å spans 8.82 Å) and make the cell 26 Å across the boundary. Template
 * atoms outside the grid region are not seen by the network but count in the
 * minimum-distance masks and the energy.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Atoms } from '../structure/atoms.js';
import { readExtxyz } from '../structure/extxyz.js';
import { atomicNumber } from '../structure/elements.js';
import type { BuildingGrid } from '../grid/index.js';
import { hasFiveSevenDefect, shortestPathRings } from '../structure/rings.js';
import { bondGraph } from '../structure/bonds.js';
import type { ProblemConfig, TemplateAtom } from './problem.js';

/** Vacuum height (c) of the sheets' cells, Å; the plane lies in its middle. */
const VACUUM = 12;
const Z = VACUUM / 2;

// ---------------------------------------------------------------- graphene edge

/** C–C bond of the edge problem: the armchair period 3d is the 4.27 Å cell. */
export const EDGE_BOND = 4.27 / 3;
/** Row spacing of an armchair ribbon, √3/2 d. */
const EDGE_ROW = (Math.sqrt(3) / 2) * EDGE_BOND;
const EDGE_SPACING = 0.18;
/** Grid origin along b: the 40-point region centred in the 7.12 Å cell. */
const EDGE_ORIGIN_Y = (7.12 - 39 * EDGE_SPACING) / 2;
/** Grid spacing along b of pristine graphene (Extended Data Table 1: 7.40 Å over 37 points). */
const PRISTINE_SPACING_Y = 7.4 / 37;
/** Height of the row the agent completes (on grid row 36). */
const EDGE_TOP = EDGE_ORIGIN_Y + 36 * EDGE_SPACING;

/** Atoms of armchair row k: even rows hold the dimer at x = 0, d; odd rows at 1.5d, 2.5d. Row 4 is the one to complete. */
export function edgeRow(k: number): [number, number][] {
  const y = EDGE_TOP - (4 - k) * EDGE_ROW;
  const x0 = ((k % 2) + 2) % 2 === 0 ? 0 : 1.5 * EDGE_BOND;
  return [
    [x0, y],
    [x0 + EDGE_BOND, y],
  ];
}

function edgeTemplate(): TemplateAtom[] {
  const out: TemplateAtom[] = [];
  for (let k = 0; k < 4; k++) for (const [x, y] of edgeRow(k)) out.push({ symbol: 'C', position: [x, y, Z] });
  return out;
}

// ---------------------------------------------------------------- grain boundary

/** Period along the boundary, |3a1 + 2a2| = a√19. */
export const GB_PERIOD = 10.68;
/** Lattice constant that makes T = 3a1 + 2a2 exactly one period (2.450 Å; C–C 1.415 Å). */
export const GB_LATTICE = GB_PERIOD / Math.sqrt(19);
/** Misorientation of the two grains, degrees: 2·(30° − atan(√3/4)). */
export const GB_MISORIENTATION = 2 * (30 - (Math.atan2(Math.sqrt(3), 4) * 180) / Math.PI);
/** Cell across the boundary (Å) and the boundary's height in it. */
const GB_CELL_Y = 26;
const GB_Y0 = GB_CELL_Y / 2;
const GB_SPACING = 0.18;
/** Construction parameters of the bicrystal (see the header): first level of each grain, x shift and gap of the upper grain. */
export const GB_FIRST_LEVEL = { lower: 1, upper: 1 };
export const GB_SHIFT_X = (19 / 24) * GB_PERIOD;
export const GB_GAP = 0.9;
/** Atoms per grain and per grain in the boundary region. */
const GB_GRAIN_ATOMS = 40;
const GB_BOUNDARY_PER_GRAIN = 10;

/**
 * Levels of the lower grain: its atoms (x mod period, y ≤ 0), sorted from the
 * top down, the topmost at y = 0. Graphene (a1 = a(1, 0), a2 = a(½, √3/2),
 * basis 0 and (a1 + a2)/3) rotated by −atan(√3/4) so that 3a1 + 2a2 ∥ x.
 */
export function grainLevels(count: number): [number, number][] {
  const a = GB_LATTICE, L = GB_PERIOD;
  const phi = Math.atan2(Math.sqrt(3), 4);
  const c = Math.cos(phi), s = Math.sin(phi);
  const pts: [number, number][] = [];
  const depth = (count + 4) * 0.25 + 2; // levels are a√3/(4√19) ≈ 0.243 Å apart
  const range = Math.ceil(depth / a) + Math.ceil(L / a) + 2;
  const basis = [
    [0, 0],
    [a / 2, a / (2 * Math.sqrt(3))],
  ];
  for (let i = -range; i <= range; i++) {
    for (let j = -range; j <= range; j++) {
      for (const [bx, by] of basis) {
        const x = i * a + (j * a) / 2 + bx, y = (j * a * Math.sqrt(3)) / 2 + by;
        const yr = -x * s + y * c;
        if (yr > 1e-6 || yr < -depth) continue;
        const xr = (((x * c + y * s) % L) + L) % L;
        if (pts.some(([u, v]) => Math.abs(v - yr) < 1e-6 && Math.min(Math.abs(u - xr), L - Math.abs(u - xr)) < 1e-6)) continue;
        pts.push([xr, yr]);
      }
    }
  }
  pts.sort((p, q) => q[1] - p[1] || p[0] - q[0]);
  if (pts.length < count) throw new Error(`grainLevels: built ${pts.length} levels, ${count} needed`);
  return pts.slice(0, count);
}

/**
 * The bicrystal of the construction in the boundary frame (x along the
 * boundary, y = 0 halfway between the grains): the boundary-region atoms (the
 * agent's 20, lower grain first) and the template's 60.
 */
export function grainBoundaryBicrystal(): { boundary: [number, number][]; template: [number, number][] } {
  const L = GB_PERIOD;
  const levels = grainLevels(Math.max(GB_FIRST_LEVEL.lower, GB_FIRST_LEVEL.upper) + GB_GRAIN_ATOMS);
  const lower = levels.slice(GB_FIRST_LEVEL.lower, GB_FIRST_LEVEL.lower + GB_GRAIN_ATOMS);
  const upperSrc = levels.slice(GB_FIRST_LEVEL.upper, GB_FIRST_LEVEL.upper + GB_GRAIN_ATOMS);
  const topA = lower[0][1], bottomB = upperSrc[0][1];
  const mid = topA + GB_GAP / 2;
  const lowerF = lower.map(([x, y]) => [x, y - mid] as [number, number]);
  const upperF = upperSrc.map(([x, y]) => [(((x + GB_SHIFT_X) % L) + L) % L, -(y - bottomB) + topA + GB_GAP - mid] as [number, number]);
  const n = GB_BOUNDARY_PER_GRAIN;
  return { boundary: [...lowerF.slice(0, n), ...upperF.slice(0, n)], template: [...lowerF.slice(n), ...upperF.slice(n)] };
}

/**
 * The 5–7 boundary: the 20 boundary-region atoms (x, y in the boundary frame,
 * Å), relaxed with Tersoff 1989 around the fixed template (see the header).
 */
export const GB_REFERENCE: [number, number][] = [
  [7.8297, -0.3238], [6.4432, -0.6414], [3.6735, -0.7892], [2.2772, -0.8549], [10.1157, -1.1683],
  [8.7272, -1.4298], [5.9072, -1.9144], [4.4999, -2.0387], [1.6774, -2.261], [0.2932, -2.4116],
  [5.6832, 0.4942], [4.3272, 0.5052], [1.5039, 0.526], [0.0576, 0.5254], [7.8583, 1.3078],
  [6.4582, 1.6169], [3.684, 1.8149], [2.2825, 1.9102], [10.133, 2.2241], [8.7443, 2.4448],
];

/**
 * Bond tolerance (Å over the covalent radii sum) of the grain boundary's ring
 * analysis. Tersoff 1989's short cutoff (1.8–2.1 Å) leaves the bond that closes
 * the heptagon stretched to 1.80 Å in the relaxed boundary, beyond the paper's
 * 0.2 Å criterion (1.72 Å), and snapping to the grid (up to 0.13 Å per atom)
 * stretches it to 1.88 Å in the reference; 0.4 Å (bonds up to 1.92 Å) counts
 * it and still excludes graphene's second neighbours (2.45 Å, ≥ 2.2 snapped).
 */
export const GB_RING_TOLERANCE = 0.4;

/** Most bonds of any atom in a structure that can still be the 5–7 boundary (a 3-coordinated sheet). */
const GB_MAX_BONDS = 4;

/**
 * Whether a grain-boundary structure holds the 5–7 pair (shortest-path rings,
 * bonds up to GB_RING_TOLERANCE). The boundary is a 3-coordinated sheet: a
 * structure with an atom of more than GB_MAX_BONDS bonds is not it, and is not
 * searched for rings — the number of paths through a dense random build grows
 * like coordination^ring size (one took minutes and overflowed the ring set).
 */
export function builtFiveSevenBoundary(atoms: Atoms): boolean {
  const graph = bondGraph(atoms, GB_RING_TOLERANCE);
  for (let i = 0; i < graph.n; i++) if (graph.offsets[i + 1] - graph.offsets[i] > GB_MAX_BONDS) return false;
  return hasFiveSevenDefect(atoms, { tolerance: GB_RING_TOLERANCE, maxSize: 7, graph });
}

function toCell([x, y]: [number, number]): [number, number, number] {
  return [x, y + GB_Y0, Z];
}

// ---------------------------------------------------------------- presets

/** The two problems, from the shared defaults (COMMON of presets.ts). */
export function graphenePresets(common: unknown): Record<string, ProblemConfig> {
  const base = structuredClone(common) as ProblemConfig;
  const edge: ProblemConfig = {
    ...structuredClone(base),
    name: 'graphene-edge',
    cell: [
      [4.27, 0, 0],
      [0, 7.12, 0],
      [0, 0, VACUUM],
    ],
    pbc: [true, false, false],
    grid: { shape: [24, 40], periodic: [true, false], spacing: [EDGE_SPACING, EDGE_SPACING], origin: [0, EDGE_ORIGIN_Y], z: Z },
    template: edgeTemplate(),
    stoichiometry: { C: 2 },
    c1: 0.4,
    policy: { epsilon: 0.7, epsilonNu: 0.7, nu: 0.05, greedyEvery: 5 },
    network: { ...base.network, bias: false },
    training: { ...base.training, batchSize: 10, learningRate: 7.5e-4, deltaE: null },
    success: { reference: 'graphene-edge', threshold: 0.05 },
    run: { ...base.run, episodes: 1000 },
  };
  // The edge on pristine graphene's grid (4.27/21 × 0.20 Å, as `graphene`'s 42 × 37 points on 8.54 ×
  // 7.40 Å) and with biases as `graphene` has them: a network transfers only between equal grid spacings
  // and bias settings (src/agent/transfer.ts), and `graphene-edge` has the paper's 0.18 Å and no biases
  // (for relevance, eq. 3). The closed upper ring lies on grid row 32, as on row 36 of the 0.18 Å grid.
  // Not in the paper: the source network for pristine graphene by transfer (README, "The edge as a teacher").
  const edgeForPristine: ProblemConfig = {
    ...structuredClone(edge),
    name: 'graphene-edge-0.2',
    grid: { shape: [21, 35], periodic: [true, false], spacing: [4.27 / 21, PRISTINE_SPACING_Y], origin: [0, EDGE_TOP - 32 * PRISTINE_SPACING_Y], z: Z },
    network: { ...base.network, bias: true },
  };
  const { template } = grainBoundaryBicrystal();
  const grain: ProblemConfig = {
    ...structuredClone(base),
    name: 'grain-boundary',
    cell: [
      [GB_PERIOD, 0, 0],
      [0, GB_CELL_Y, 0],
      [0, 0, VACUUM],
    ],
    pbc: [true, false, false],
    grid: { shape: [60, 50], periodic: [true, false], spacing: [GB_SPACING, GB_SPACING], origin: [0, GB_Y0 - 24.5 * GB_SPACING], z: Z },
    template: template.map((p) => ({ symbol: 'C', position: toCell(p).map(round6) as [number, number, number] })),
    stoichiometry: { C: 2 * GB_BOUNDARY_PER_GRAIN },
    c1: 0.4,
    policy: { epsilon: 0.1, epsilonNu: 0.05, nu: 0.02, greedyEvery: 5 },
    network: { ...base.network, bias: false },
    training: { ...base.training, batchSize: 100, learningRate: 1e-3, deltaE: 0.5 },
    success: { reference: 'grain-boundary', threshold: 0.15 },
    run: { ...base.run, episodes: 3000 },
  };
  return { 'graphene-edge': edge, 'graphene-edge-0.2': edgeForPristine, 'grain-boundary': grain };
}

function round6(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}

/**
 * Reference candidates of the two problems (template + placed atoms snapped to
 * the grid), or null for other problems. Edge: the ring closed on either edge
 * of the ribbon. Grain boundary: the shipped 5–7 boundary.
 */
export function grapheneReferenceCandidates(config: ProblemConfig, grid: BuildingGrid): Atoms[] | null {
  const ref = config.success.reference as string | null;
  if (ref === 'graphene-edge') {
    // the top ring: row 4 above the template; the bottom ring: row −1 below it
    return [edgeRow(4), edgeRow(-1)].map((row, k) =>
      snapped(config, grid, row.map(([x, y]) => [x, y, Z]), `graphene edge, ring closed on the ${k === 0 ? 'upper' : 'lower'} edge, snapped to the grid`),
    );
  }
  if (ref === 'grain-boundary') {
    if (GB_REFERENCE.length !== config.stoichiometry.C) return [];
    return [snapped(config, grid, GB_REFERENCE.map(toCell), 'grain boundary with the 5-7 pair (Tersoff-relaxed), snapped to the grid')];
  }
  return null;
}

function snapped(config: ProblemConfig, grid: BuildingGrid, placed: [number, number, number][], label: string): Atoms {
  const positions: number[] = config.template.flatMap((a) => a.position);
  const numbers: number[] = config.template.map((a) => atomicNumber(a.symbol));
  const scratch = new Float64Array(3);
  for (const [x, y] of placed) {
    const p = grid.nearest(x, y).index;
    if (p < 0) throw new Error(`reference atom at (${x}, ${y}) lies outside the grid region`);
    grid.position(p, scratch);
    positions.push(scratch[0], scratch[1], scratch[2]);
    numbers.push(atomicNumber('C'));
  }
  const atoms = new Atoms({ numbers, positions, cell: config.cell.flat(), pbc: config.pbc, info: { reference: label } });
  atoms.fixed.fill(1, 0, config.template.length);
  return atoms;
}

/**
 * Episodes of a grain-boundary run that built the 5–7 boundary: within the
 * success threshold of the reference energy AND holding a 5–7 pair, read
 * from the run's structures.extxyz (for stats and reports; the bench counts
 * the same while it runs). Returns the episodes in order.
 */
export function fiveSevenEpisodes(dir: string): number[] {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ProblemConfig;
  const refPath = join(dir, 'reference.json');
  const ref = existsSync(refPath) ? (JSON.parse(readFileSync(refPath, 'utf8')) as { energy: number | null }).energy : null;
  const path = join(dir, 'structures.extxyz');
  if (ref === null || !existsSync(path)) return [];
  const out: number[] = [];
  for (const s of readExtxyz(path)) {
    const e = s.info.energy;
    if (typeof e !== 'number' || e > ref + cfg.success.threshold * s.length) continue;
    if (builtFiveSevenBoundary(s)) out.push(Number(s.info.episode));
  }
  return out;
}

/**
 * Bond tolerance (Å over the covalent radii sum) of the honeycomb check: 0.2 Å,
 * the paper's criterion (bonds up to 1.72 Å). Snapped graphene's bonds lie
 * between 1.2 and 1.65 Å; its second neighbours (≥ 2.2 Å snapped) stay out.
 */
const HONEYCOMB_TOLERANCE = 0.2;

/**
 * Whether a structure is a honeycomb sheet: every atom bonded to exactly
 * three others and the shortest-path rings exactly N/2 hexagons and nothing
 * smaller — graphene's topology, whatever its offset on the grid. Pristine
 * graphene's success criterion compares energies with the best-snapped sheet
 * (within 0.05 eV/atom, as the paper), and a sheet whose atoms snap worse (a
 * bond 0.2 Å short) lies 0.3–0.4 eV/atom above it with Tersoff: this flag
 * tells "built graphene at a worse offset" from "did not build graphene".
 */
export function builtHoneycomb(atoms: Atoms): boolean {
  const n = atoms.length;
  if (n === 0 || n % 2 !== 0) return false;
  const graph = bondGraph(atoms, HONEYCOMB_TOLERANCE);
  for (let i = 0; i < n; i++) if (graph.offsets[i + 1] - graph.offsets[i] !== 3) return false;
  const { counts } = shortestPathRings(atoms, { maxSize: 6, graph });
  return counts[3] === 0 && counts[4] === 0 && counts[5] === 0 && counts[6] === n / 2;
}
