/**
 * Bonds and motifs.
 *
 * Connectivity criterion (paper, Methods, "Property function modification"):
 * two atoms are bonded when their distance is at most the sum of their
 * covalent radii + 0.2 Å (Cordero radii, src/structure/elements.ts). Along
 * periodic axes the nearest periodic image counts (minimum image convention).
 *
 * Motifs (Methods, eq. 5): the property is modified, P = E·f(s), when the
 * structure contains a motif g, "an atom of element X bonded to given counts
 * of neighbour elements". Fig. 5c–e use three such motifs; they are
 * FIG5_MOTIFS below.
 *
 * The bond graph is stored as typed arrays (CSR adjacency) so that the
 * molecule split, the motif search and canonical keys never allocate per atom.
 * Pair search is direct O(N²): ASLA structures are small (a molecule of 9
 * atoms, a 24-atom graphene cell), where a cell list would not pay off.
 */
import type { Atoms } from './atoms.js';
import { COVALENT_RADII, atomicNumber, symbolOf } from './elements.js';
import { InputError } from '../util/errors.js';

/** Å added to the sum of covalent radii in the connectivity criterion (Methods, "Property function modification"). */
export const BOND_TOLERANCE = 0.2;

/** Undirected bond graph in CSR form. */
export interface BondGraph {
  /** Number of atoms. */
  readonly n: number;
  /** neighbours of atom i are neighbors[offsets[i] .. offsets[i+1]), ascending. */
  readonly offsets: Int32Array;
  readonly neighbors: Int32Array;
  /** For each neighbour entry, the bond vector r_j − r_i in Å (minimum image), 3 numbers per entry. */
  readonly vectors: Float64Array;
  /** Each bond once, as (i, j) with i < j, sorted: [i0, j0, i1, j1, ...]. */
  readonly pairs: Int32Array;
}

/**
 * Lattice frame used for the minimum image: `lattice` holds the periodic cell
 * vectors (rows; non-periodic rows replaced by directions orthogonal to them so
 * the 3×3 matrix can be inverted), `inverse` its inverse (columns are the
 * reciprocal vectors without 2π), `periodic` which axes wrap.
 */
export interface PeriodicFrame {
  readonly periodic: [boolean, boolean, boolean];
  readonly lattice: Float64Array;
  readonly inverse: Float64Array;
  readonly anyPeriodic: boolean;
}

/**
 * The frame for minimum-image displacements of `atoms`. A periodic axis needs a
 * non-degenerate cell vector (InputError otherwise); non-periodic axes may have
 * zero or missing cell vectors.
 */
export function periodicFrame(atoms: Atoms): PeriodicFrame {
  const periodic: [boolean, boolean, boolean] = [atoms.pbc[0], atoms.pbc[1], atoms.pbc[2]];
  const lattice = new Float64Array(9);
  const inverse = new Float64Array(9);
  const anyPeriodic = periodic[0] || periodic[1] || periodic[2];
  if (!anyPeriodic) return { periodic, lattice, inverse, anyPeriodic };
  lattice.set(atoms.cell);
  // Replace non-periodic rows by unit vectors orthogonal to the other rows
  // (Gram–Schmidt on the standard axes): along those axes nothing wraps, so
  // their length and direction only serve to make the matrix invertible.
  const chosen: number[] = [];
  for (let k = 0; k < 3; k++) if (periodic[k]) chosen.push(k);
  for (let k = 0; k < 3; k++) {
    if (periodic[k]) continue;
    let done = false;
    for (let e = 0; e < 3 && !done; e++) {
      const v = [e === 0 ? 1 : 0, e === 1 ? 1 : 0, e === 2 ? 1 : 0];
      // Orthogonalise against the chosen rows (orthonormalising a copy of them).
      const basis = orthonormal(chosen.map((c) => [lattice[3 * c], lattice[3 * c + 1], lattice[3 * c + 2]]));
      for (const b of basis) {
        const d = v[0] * b[0] + v[1] * b[1] + v[2] * b[2];
        v[0] -= d * b[0];
        v[1] -= d * b[1];
        v[2] -= d * b[2];
      }
      const len = Math.hypot(v[0], v[1], v[2]);
      if (len > 1e-6) {
        lattice[3 * k] = v[0] / len;
        lattice[3 * k + 1] = v[1] / len;
        lattice[3 * k + 2] = v[2] / len;
        chosen.push(k);
        done = true;
      }
    }
  }
  if (!invert3(lattice, inverse)) {
    const axes = periodic.map((p, k) => (p ? 'abc'[k] : '')).join('');
    throw new InputError(`cell vectors of the periodic axes (${axes}) are zero or linearly dependent`, 'cell');
  }
  return { periodic, lattice, inverse, anyPeriodic };
}

function orthonormal(vs: number[][]): number[][] {
  const out: number[][] = [];
  for (const v0 of vs) {
    const v = v0.slice();
    for (const b of out) {
      const d = v[0] * b[0] + v[1] * b[1] + v[2] * b[2];
      v[0] -= d * b[0];
      v[1] -= d * b[1];
      v[2] -= d * b[2];
    }
    const len = Math.hypot(v[0], v[1], v[2]);
    if (len > 1e-9) out.push([v[0] / len, v[1] / len, v[2] / len]);
  }
  return out;
}

/** out = m⁻¹ for a row-major 3×3 m; false when singular. */
export function invert3(m: ArrayLike<number>, out: Float64Array): boolean {
  const a = m[0], b = m[1], c = m[2], d = m[3], e = m[4], f = m[5], g = m[6], h = m[7], i = m[8];
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const scale = Math.max(Math.abs(a), Math.abs(b), Math.abs(c), Math.abs(d), Math.abs(e), Math.abs(f), Math.abs(g), Math.abs(h), Math.abs(i));
  if (!(Math.abs(det) > 1e-12 * scale * scale * scale) || scale === 0) return false;
  out[0] = A / det;
  out[1] = -(b * i - c * h) / det;
  out[2] = (b * f - c * e) / det;
  out[3] = B / det;
  out[4] = (a * i - c * g) / det;
  out[5] = -(a * f - c * d) / det;
  out[6] = C / det;
  out[7] = -(a * h - b * g) / det;
  out[8] = (a * e - b * d) / det;
  return true;
}

/**
 * Minimum-image displacement r_j − r_i written into out[o..o+2]; returns its
 * length. Rounds the fractional displacement along periodic axes and then
 * checks the neighbouring images (±1 per periodic axis), which keeps the
 * result exact for skewed cells too.
 */
export function minimumImage(atoms: Atoms, frame: PeriodicFrame, i: number, j: number, out: Float64Array, o = 0): number {
  const p = atoms.positions;
  let dx = p[3 * j] - p[3 * i];
  let dy = p[3 * j + 1] - p[3 * i + 1];
  let dz = p[3 * j + 2] - p[3 * i + 2];
  if (!frame.anyPeriodic) {
    out[o] = dx;
    out[o + 1] = dy;
    out[o + 2] = dz;
    return Math.sqrt(dx * dx + dy * dy + dz * dz);
  }
  const L = frame.lattice;
  const inv = frame.inverse;
  const per = frame.periodic;
  // Fractional coordinates f = d · L⁻¹ (rows of L are the cell vectors).
  for (let k = 0; k < 3; k++) {
    if (!per[k]) continue;
    const f = dx * inv[k] + dy * inv[3 + k] + dz * inv[6 + k];
    const n = Math.round(f);
    if (n !== 0) {
      dx -= n * L[3 * k];
      dy -= n * L[3 * k + 1];
      dz -= n * L[3 * k + 2];
    }
  }
  let best = dx * dx + dy * dy + dz * dz;
  let bx = dx, by = dy, bz = dz;
  const r0 = per[0] ? 1 : 0, r1 = per[1] ? 1 : 0, r2 = per[2] ? 1 : 0;
  for (let a = -r0; a <= r0; a++) {
    for (let b = -r1; b <= r1; b++) {
      for (let c = -r2; c <= r2; c++) {
        if (a === 0 && b === 0 && c === 0) continue;
        const x = dx + a * L[0] + b * L[3] + c * L[6];
        const y = dy + a * L[1] + b * L[4] + c * L[7];
        const z = dz + a * L[2] + b * L[5] + c * L[8];
        const d2 = x * x + y * y + z * z;
        if (d2 < best - 1e-12) {
          best = d2;
          bx = x;
          by = y;
          bz = z;
        }
      }
    }
  }
  out[o] = bx;
  out[o + 1] = by;
  out[o + 2] = bz;
  return Math.sqrt(best);
}

/** Distance between atoms i and j in Å (minimum image along periodic axes). */
export function distance(atoms: Atoms, i: number, j: number, frame: PeriodicFrame = periodicFrame(atoms)): number {
  return minimumImage(atoms, frame, i, j, new Float64Array(3));
}

/**
 * The bond graph: i and j bonded when r_ij ≤ R_cov(Z_i) + R_cov(Z_j) + tolerance
 * (default 0.2 Å, Methods). A pair is bonded at most once, through its nearest
 * image, even when the cell is so small that several images are in range.
 */
export function bondGraph(atoms: Atoms, tolerance: number = BOND_TOLERANCE): BondGraph {
  const n = atoms.length;
  const frame = periodicFrame(atoms);
  const Z = atoms.numbers;
  const d = new Float64Array(3);
  const pi: number[] = [];
  const pj: number[] = [];
  const pv: number[] = [];
  const degree = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const ri = COVALENT_RADII[Z[i]] ?? 0.2;
    for (let j = i + 1; j < n; j++) {
      const cutoff = ri + (COVALENT_RADII[Z[j]] ?? 0.2) + tolerance;
      const r = minimumImage(atoms, frame, i, j, d);
      if (r <= cutoff) {
        pi.push(i);
        pj.push(j);
        pv.push(d[0], d[1], d[2]);
        degree[i]++;
        degree[j]++;
      }
    }
  }
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + degree[i];
  const neighbors = new Int32Array(offsets[n]);
  const vectors = new Float64Array(3 * offsets[n]);
  const fill = offsets.slice(0, n);
  const pairs = new Int32Array(2 * pi.length);
  // Pairs come out with i ascending then j ascending, so each adjacency list is ascending too.
  for (let b = 0; b < pi.length; b++) {
    const i = pi[b];
    const j = pj[b];
    pairs[2 * b] = i;
    pairs[2 * b + 1] = j;
    const ei = fill[i]++;
    neighbors[ei] = j;
    vectors[3 * ei] = pv[3 * b];
    vectors[3 * ei + 1] = pv[3 * b + 1];
    vectors[3 * ei + 2] = pv[3 * b + 2];
  }
  for (let b = 0; b < pi.length; b++) {
    const i = pi[b];
    const j = pj[b];
    const ej = fill[j]++;
    neighbors[ej] = i;
    vectors[3 * ej] = -pv[3 * b];
    vectors[3 * ej + 1] = -pv[3 * b + 1];
    vectors[3 * ej + 2] = -pv[3 * b + 2];
  }
  // The second pass appends smaller indices after larger ones: restore ascending order per atom.
  for (let i = 0; i < n; i++) sortAdjacency(neighbors, vectors, offsets[i], offsets[i + 1]);
  return { n, offsets, neighbors, vectors, pairs };
}

function sortAdjacency(nb: Int32Array, vec: Float64Array, lo: number, hi: number): void {
  // Insertion sort: adjacency lists hold a handful of entries.
  for (let a = lo + 1; a < hi; a++) {
    const v = nb[a];
    const x = vec[3 * a], y = vec[3 * a + 1], z = vec[3 * a + 2];
    let b = a - 1;
    while (b >= lo && nb[b] > v) {
      nb[b + 1] = nb[b];
      vec[3 * b + 3] = vec[3 * b];
      vec[3 * b + 4] = vec[3 * b + 1];
      vec[3 * b + 5] = vec[3 * b + 2];
      b--;
    }
    nb[b + 1] = v;
    vec[3 * b + 3] = x;
    vec[3 * b + 4] = y;
    vec[3 * b + 5] = z;
  }
}

/** Number of bonds of atom i. */
export function degree(graph: BondGraph, i: number): number {
  return graph.offsets[i + 1] - graph.offsets[i];
}

// ---------------------------------------------------------------------------
// Motifs (Methods, eq. 5)

/**
 * A motif g: an atom of element `center` bonded to `neighbors[Z]` atoms of
 * each element Z. Counts are minimums ("at least"): a carboxyl carbon bonded
 * to C, O and O also has "C bound to C and 2 O" if it had a further
 * neighbour. With `exact: true` the listed counts must match exactly (other
 * elements still allowed unless listed with count 0).
 */
export interface Motif {
  /** Atomic number of the central atom X. */
  center: number;
  /** Atomic number → required count of bonded atoms of that element. */
  neighbors: Record<number, number>;
  /** Counts must be equal instead of at least (default false). */
  exact?: boolean;
}

/** The three motifs of Fig. 5c–e (C3H4O2 with property modification). */
export const FIG5_MOTIFS = {
  /** Fig. 5c: O bound to 2 C (an ether/ester oxygen). */
  'O-2C': { center: 8, neighbors: { 6: 2 } } as Motif,
  /** Fig. 5d: C bound to C and 2 O (a carboxyl carbon, as in acrylic acid). */
  'C-C-2O': { center: 6, neighbors: { 6: 1, 8: 2 } } as Motif,
  /** Fig. 5e: C bound to O and 2 C. */
  'C-O-2C': { center: 6, neighbors: { 8: 1, 6: 2 } } as Motif,
} as const;

/**
 * A motif from element symbols, for configuration files:
 * motifFromSymbols('C', { C: 1, O: 2 }). Throws InputError naming `where`.
 */
export function motifFromSymbols(center: string, neighbors: Record<string, number>, options: { exact?: boolean; where?: string } = {}): Motif {
  const where = options.where ?? 'motif';
  let zc: number;
  try {
    zc = atomicNumber(center);
  } catch {
    throw new InputError(`unknown element symbol '${center}' for the motif centre`, where);
  }
  const nb: Record<number, number> = {};
  for (const [sym, count] of Object.entries(neighbors)) {
    let z: number;
    try {
      z = atomicNumber(sym);
    } catch {
      throw new InputError(`unknown element symbol '${sym}' among the motif neighbours`, where);
    }
    if (!Number.isInteger(count) || count < 0) throw new InputError(`neighbour count for ${sym} must be a non-negative integer, got ${count}`, where);
    nb[z] = count;
  }
  return { center: zc, neighbors: nb, exact: options.exact ?? false };
}

/** Human-readable form, e.g. "C bound to 1 C, 2 O (at least)". */
export function describeMotif(m: Motif): string {
  const parts = Object.entries(m.neighbors)
    .map(([z, c]) => [Number(z), c] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([z, c]) => `${c} ${symbolOf(z)}`);
  return `${symbolOf(m.center)} bound to ${parts.join(', ')} (${m.exact ? 'exactly' : 'at least'})`;
}

/** Indices of the atoms that are centres of the motif. */
export function motifCenters(atoms: Atoms, motif: Motif, graph: BondGraph = bondGraph(atoms)): number[] {
  const Z = atoms.numbers;
  const req = Object.entries(motif.neighbors).map(([z, c]) => [Number(z), c] as const);
  const zs = Int32Array.from(req.map((r) => r[0]));
  const need = Int32Array.from(req.map((r) => r[1]));
  const have = new Int32Array(zs.length);
  const out: number[] = [];
  for (let i = 0; i < atoms.length; i++) {
    if (Z[i] !== motif.center) continue;
    have.fill(0);
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
      const zj = Z[graph.neighbors[e]];
      for (let k = 0; k < zs.length; k++) if (zs[k] === zj) have[k]++;
    }
    let ok = true;
    for (let k = 0; k < zs.length && ok; k++) ok = motif.exact ? have[k] === need[k] : have[k] >= need[k];
    if (ok) out.push(i);
  }
  return out;
}

/** True when some atom of the structure is the centre of the motif (the g in f(s) of eq. 5). */
export function hasMotif(atoms: Atoms, motif: Motif, graph?: BondGraph): boolean {
  return motifCenters(atoms, motif, graph).length > 0;
}
