/**
 * Molecular design (paper Section IV, Fig. 5; issue 5): the C3H4O2 problem of
 * Extended Data Table 1 and the three rewarding motifs of Fig. 5c–e.
 *
 * Self-contained on purpose (no import from presets.ts, which registers this
 * preset: an import cycle would read COMMON before it is initialised).
 *
 * Table 1, C3H4O2 column: ε 0.20, εν 0.10, ν 0.10, N_batch 32, ΔE 3.3 eV/atom,
 * c1 0.6, c2 2.5, learning rate 1e-3, filter width 3 Å, 3 conv. layers of 10
 * filters, grid 60 × 60 points at 0.20 Å in a 16.0 × 16.0 Å cell, not
 * periodic. The paper states no template atom for C3H4O2: the first action
 * is free (with no atom yet, c2 constrains nothing; the grid masks handle it).
 * Species channels are the stoichiometry's elements in order: C, H, O.
 *
 * Not in the paper, chosen here:
 *  - calculator: xtb (GFN2-xTB, one process per evaluation) stands in for GPAW
 *    PBE finite differences (105 s per molecule here against ~70 ms);
 *  - the building plane at z = 8 Å, the middle of a 16 Å cube (xtb ignores the
 *    cell of a non-periodic structure; the third side only places the plane);
 *  - no reference structure: the paper measures C3H4O2 by the products built
 *    (`asla molecules`), not by reaching a known optimum;
 *  - run.episodes 10000 as in Fig. 5b (25 agents × 10000 episodes);
 *  - punishment (Methods eq. 4) defaults, see PUNISHMENT_C3H4O2.
 */
import type { ProblemConfig } from './problem.js';

/**
 * Punishment defaults for C3H4O2 (Methods eq. 4; the paper gives no values).
 * Bag-of-bonds distances (Coulomb entries Z_i Z_j / r_ij in e²/Å,
 * src/structure/bagofbonds.ts) measured with `node dist/bench/c3h4o2.js --bob`:
 * the hand-built acrylic acid, vinyl formate and CO2 + ethylene
 * (fixtures/molecules) rotated and moved at random in the building plane and
 * snapped to the 0.2 Å grid, 200 copies each:
 *  - an exact repeat (the same grid points, or a grid symmetry of them): 0;
 *  - copies of the same molecule snapped differently: median 5.2, 95th
 *    percentile 9.1, maximum 14.1 (snapping moves an atom by up to 0.14 Å and
 *    a C–O entry, 48/1.2 ≈ 40, changes by ≈ 33 per Å);
 *  - different molecules: acrylic acid–vinyl formate minimum 13.6, median
 *    18.0; acrylic acid–CO2 + ethylene minimum 19.7, median 23.7; vinyl
 *    formate–CO2 + ethylene minimum 22.2, median 26.3.
 * The agent repeats a product mostly as the same grid points (greedy builds
 * are deterministic) or with one atom moved by an ε-action (a pixel: d ≈ 1–3).
 * Hence
 *  - σ 5: the Gaussian is 1 for the exact repeat, 0.58 at the median distance
 *    of differently snapped copies, and at most 0.02 at the closest different
 *    isomer seen (13.6; 0.0015 at its median 18): the repeated product is
 *    punished, its neighbours in structure space hardly;
 *  - sameDistance 5 (= σ): "the same structure" for counting repeats is what
 *    the Gaussian punishes by more than exp(−1/2) ≈ 0.6; a copy farther away
 *    is punished by less and counts as its own structure, to be punished in
 *    turn when it is repeated;
 *  - A 0.3 eV/atom (2.7 eV for 9 atoms): larger than the xtb gaps between the
 *    low-lying products (hand-built geometries: CO2 + ethylene −451.15 eV,
 *    acrylic acid +0.53, vinyl formate +0.83) so the agent moves on to other
 *    products, and 9 % of the ΔE window (3.3 eV/atom), so a punished product
 *    still scores far better than a broken build;
 *  - repeats 5 within a window of 25 episodes: the paper punishes "once a
 *    build has been found repeatedly"; 5 of 25 is every greedy build of the
 *    window (every 5th episode is greedy), or a product the ε-policy keeps
 *    returning to, not one lucky repeat.
 */
export const PUNISHMENT_C3H4O2: ProblemConfig['punishment'] = {
  enabled: true,
  amplitude: 0.3,
  sigma: 5,
  sameDistance: 5,
  repeats: 5,
  window: 25,
};

/** Side of the cubic cell, Å (Table 1: 16.0 × 16.0 Å). */
const SIDE = 16;

export const C3H4O2: ProblemConfig = {
  name: 'c3h4o2',
  cell: [
    [SIDE, 0, 0],
    [0, SIDE, 0],
    [0, 0, SIDE],
  ],
  pbc: [false, false, false],
  // 60 × 60 at 0.2 Å: an 11.8 Å square centred in the cell (no origin: BuildingGrid centres it)
  grid: { shape: [60, 60], periodic: [false, false], spacing: [0.2, 0.2], z: SIDE / 2 },
  template: [],
  stoichiometry: { C: 3, H: 4, O: 2 },
  forbidden: [],
  c1: 0.6,
  c2: 2.5,
  policy: { epsilon: 0.2, epsilonNu: 0.1, nu: 0.1, greedyEvery: 5 },
  network: { filterWidth: 3, filters: [10, 10, 10], bias: true, leakySlope: 0.2 },
  training: {
    batchSize: 32,
    learningRate: 1e-3,
    deltaE: 3.3,
    spilloverRadius: 0.3,
    spilloverWeight: 0.1,
    lossForm: 'eq2',
    symmetryCopies: 'all',
    rotations: 0,
    rotationWindow: null,
    pixelShift: false,
    stepsPerEpisode: 1,
    threads: 1,
  },
  punishment: { ...PUNISHMENT_C3H4O2 },
  motif: null,
  calculator: { name: 'xtb', options: {} },
  success: { reference: null, threshold: 0.05 },
  run: { episodes: 10000, seed: 1, checkpointEvery: 1, policy: 'asla' },
};

/** λ of Methods eq. 5 ("In the present work, λ = 0.2 is used"). */
export const MOTIF_LAMBDA = 0.2;

/**
 * The rewarding motifs of Fig. 5c–e as `motif:` config values (the same motifs
 * as FIG5_MOTIFS in src/structure/bonds.ts, in element symbols):
 *  - 'O-2C'   Fig. 5c: O bound to 2 C (ethers, epoxides);
 *  - 'C-C-2O' Fig. 5d: C bound to C and 2 O (epoxides, acids: acrylic acid);
 *  - 'C-O-2C' Fig. 5e: C bound to O and 2 C (cyclic C3 groups).
 * The counts are minimums (motifFromSymbols: "at least").
 */
export const C3H4O2_MOTIFS: Record<'O-2C' | 'C-C-2O' | 'C-O-2C', NonNullable<ProblemConfig['motif']>> = {
  'O-2C': { center: 'O', neighbors: { C: 2 }, lambda: MOTIF_LAMBDA },
  'C-C-2O': { center: 'C', neighbors: { C: 1, O: 2 }, lambda: MOTIF_LAMBDA },
  'C-O-2C': { center: 'C', neighbors: { O: 1, C: 2 }, lambda: MOTIF_LAMBDA },
};

/** The preset with one of the Fig. 5c–e motifs (what examples/c3h4o2-*.yaml hold). */
export function c3h4o2WithMotif(motif: keyof typeof C3H4O2_MOTIFS): ProblemConfig {
  return { ...structuredClone(C3H4O2), motif: structuredClone(C3H4O2_MOTIFS[motif]) };
}

/** Registered in PRESETS (src/agent/presets.ts). */
export const MOLECULE_PRESETS: Record<string, ProblemConfig> = { c3h4o2: C3H4O2 };
