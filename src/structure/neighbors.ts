/**
 * Periodic neighbour search: every pair i → j (j possibly a periodic image of
 * i itself) with |r_j + S·C − r_i| ≤ cutoff, listed for both directions, in
 * compressed-sparse-row form so the Tersoff loops run over flat typed arrays.
 *
 * Correct for any cell shape: atoms are wrapped into the cell, and every image
 * of every atom that can lie within `cutoff` of the cell is made a "ghost"
 * (as LAMMPS does), the number of image layers along axis k being
 * ⌈cutoff / h_k⌉ with h_k the perpendicular height of the cell (cell.ts). A
 * cell shorter than the cutoff thus gets several images per axis, and a
 * strongly sheared cell gets the images that a naive ±1 search would miss.
 *
 * Large systems sort atoms and ghosts into bins at least `cutoff` wide (in the
 * cell's own fractional frame, so bins follow a sheared cell) and compare each
 * atom only with the 27 (or fewer) surrounding bins. Small systems (the
 * agent's 24–80-atom cells) skip ghosts and bins: each pair i ≤ j is tested
 * once, with only the image shifts that the heights allow, and stored in both
 * directions.
 *
 * `NeighborSearch` keeps its buffers between calls (the agent evaluates
 * thousands of structures of the same size); `neighborList` is the
 * allocate-and-return convenience.
 */
import type { Atoms } from './atoms.js';
import { inverseCell, perpendicularHeights, periodicFrame } from './cell.js';
import { InputError } from '../util/errors.js';

export interface NeighborList {
  /** The cutoff (Å) the list was built for. */
  cutoff: number;
  /** Number of atoms N. */
  natoms: number;
  /** Number of directed pairs. */
  npairs: number;
  /** Row pointers, length N + 1: the neighbours of atom i are entries offsets[i] .. offsets[i+1]-1. */
  offsets: Int32Array;
  /** Neighbour atom index j for each directed pair. */
  indices: Int32Array;
  /** Displacement r_j + S·C − r_i for each pair, 3 numbers per pair (Å). */
  vectors: Float64Array;
  /** |vector| for each pair (Å). */
  distances: Float64Array;
  /** Integer cell shift S of the image of j, 3 per pair (0 along non-periodic axes). */
  shifts: Int32Array;
}

/** Up to this many atoms the pair search (no ghosts, no bins) is used by default. */
const SMALL_SYSTEM = 100;

export class NeighborSearch {
  /** Largest system searched pair by pair; larger ones use ghosts and bins. */
  readonly smallSystem: number;

  constructor(options: { smallSystem?: number } = {}) {
    this.smallSystem = options.smallSystem ?? SMALL_SYSTEM;
  }

  // Per-atom buffers.
  private frac = new Float64Array(0);
  private wrapped = new Float64Array(0);
  private wrapShift = new Int32Array(0);
  // Candidates: real atoms first (index = atom index), then ghosts.
  private candPos = new Float64Array(0);
  private candAtom = new Int32Array(0);
  private candShift = new Int32Array(0);
  private candFrac = new Float64Array(0);
  private candBin = new Int32Array(0);
  private binStart = new Int32Array(0);
  private binItems = new Int32Array(0);
  private binCursor = new Int32Array(0);
  // Output buffers.
  private offsets = new Int32Array(1);
  private indices = new Int32Array(64);
  private vectors = new Float64Array(192);
  private distances = new Float64Array(64);
  private shifts = new Int32Array(192);
  private readonly frame = new Float64Array(9);
  private readonly inv = new Float64Array(9);
  private readonly heights = new Float64Array(3);
  private readonly lastCell = new Float64Array(9);
  private lastPbc = -1;
  // Staged directed pairs of the small-system path, before sorting into rows.
  private stI = new Int32Array(0);
  private stJ = new Int32Array(0);
  private stN = new Int32Array(0);
  private stV = new Float64Array(0);
  private stD2 = new Float64Array(0);
  private strip = new Int32Array(0);
  private stripItems = new Int32Array(0);
  private stripStart = new Int32Array(0);
  // Pair-path settings read by pairImages.
  private pr0 = 0;
  private pr1 = 0;
  private pr2 = 0;
  private pp = 0;
  private pcut2 = 0;

  /**
   * Builds the list. The returned arrays are views into buffers that the next
   * `build` call overwrites; copy them (or use `neighborList`) to keep them.
   */
  build(atoms: Atoms, cutoff: number): NeighborList {
    if (!(cutoff > 0) || !Number.isFinite(cutoff)) throw new InputError(`neighbour cutoff must be a positive number, got ${cutoff}`, 'cutoff');
    const n = atoms.length;
    const pbc = atoms.pbc;
    // Frame, inverse and heights depend only on cell and pbc: recompute when they change.
    const cell = atoms.cell;
    const pbcBits = (pbc[0] ? 1 : 0) | (pbc[1] ? 2 : 0) | (pbc[2] ? 4 : 0);
    let same = pbcBits === this.lastPbc;
    for (let k = 0; k < 9 && same; k++) same = cell[k] === this.lastCell[k];
    if (!same) {
      this.lastPbc = -1;
      periodicFrame(cell, pbc, this.frame);
      inverseCell(this.frame, this.inv);
      perpendicularHeights(this.frame, this.heights);
      this.lastCell.set(cell);
      this.lastPbc = pbcBits;
    }
    const frame = this.frame;
    const inv = this.inv;
    const h = this.heights;
    if (this.frac.length < 3 * n) {
      this.frac = new Float64Array(3 * n);
      this.wrapped = new Float64Array(3 * n);
      this.wrapShift = new Int32Array(3 * n);
    }
    if (this.offsets.length < n + 1) this.offsets = new Int32Array(n + 1);
    const pos = atoms.positions;
    const frac = this.frac;
    const wrapped = this.wrapped;
    const wshift = this.wrapShift;

    // Fractional coordinates in the frame, wrapped to [0, 1) along periodic axes.
    for (let i = 0; i < n; i++) {
      const x = pos[3 * i];
      const y = pos[3 * i + 1];
      const z = pos[3 * i + 2];
      if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z)) {
        throw new InputError(`atom ${i} has a non-finite position`, 'positions');
      }
      for (let k = 0; k < 3; k++) {
        let f = x * inv[k] + y * inv[3 + k] + z * inv[6 + k];
        let w = 0;
        if (pbc[k]) {
          w = Math.floor(f);
          f -= w;
          if (f >= 1) {
            f = 0;
            w += 1;
          }
        }
        frac[3 * i + k] = f;
        wshift[3 * i + k] = w;
      }
      const f0 = frac[3 * i];
      const f1 = frac[3 * i + 1];
      const f2 = frac[3 * i + 2];
      wrapped[3 * i] = f0 * frame[0] + f1 * frame[3] + f2 * frame[6];
      wrapped[3 * i + 1] = f0 * frame[1] + f1 * frame[4] + f2 * frame[7];
      wrapped[3 * i + 2] = f0 * frame[2] + f1 * frame[5] + f2 * frame[8];
    }

    // Image layers per periodic axis and the fractional reach of the cutoff.
    const s0 = cutoff / h[0];
    const s1 = cutoff / h[1];
    const s2 = cutoff / h[2];
    const n0 = pbc[0] ? Math.ceil(s0) : 0;
    const n1 = pbc[1] ? Math.ceil(s1) : 0;
    const n2 = pbc[2] ? Math.ceil(s2) : 0;
    const cut2 = cutoff * cutoff;
    let np = 0;
    const offsets = this.offsets;
    offsets[0] = 0;

    if (n <= this.smallSystem) {
      np = this.pairSearch(n, pbc, s0, s1, s2, cut2);
      return this.result(cutoff, n, np);
    }

    // Candidates: real atoms, then ghost images within the cutoff of the cell.
    let m = n;
    this.ensureCandidates(n * 4 + 16);
    for (let i = 0; i < n; i++) {
      this.setCandidate(i, i, wrapped[3 * i], wrapped[3 * i + 1], wrapped[3 * i + 2], 0, 0, 0);
    }
    for (let a = -n0; a <= n0; a++) {
      for (let b = -n1; b <= n1; b++) {
        for (let c = -n2; c <= n2; c++) {
          if (a === 0 && b === 0 && c === 0) continue;
          const tx = a * frame[0] + b * frame[3] + c * frame[6];
          const ty = a * frame[1] + b * frame[4] + c * frame[7];
          const tz = a * frame[2] + b * frame[5] + c * frame[8];
          for (let j = 0; j < n; j++) {
            if (pbc[0]) {
              const f = frac[3 * j] + a;
              if (f < -s0 - 1e-12 || f > 1 + s0 + 1e-12) continue;
            }
            if (pbc[1]) {
              const f = frac[3 * j + 1] + b;
              if (f < -s1 - 1e-12 || f > 1 + s1 + 1e-12) continue;
            }
            if (pbc[2]) {
              const f = frac[3 * j + 2] + c;
              if (f < -s2 - 1e-12 || f > 1 + s2 + 1e-12) continue;
            }
            if (m >= this.candAtom.length) this.ensureCandidates(2 * m + 16);
            this.setCandidate(m, j, wrapped[3 * j] + tx, wrapped[3 * j + 1] + ty, wrapped[3 * j + 2] + tz, a, b, c);
            m++;
          }
        }
      }
    }

    np = this.binnedSearch(n, m, s0, s1, s2, cut2);
    return this.result(cutoff, n, np);
  }

  private result(cutoff: number, n: number, np: number): NeighborList {
    return {
      cutoff,
      natoms: n,
      npairs: np,
      offsets: this.offsets.subarray(0, n + 1),
      indices: this.indices.subarray(0, np),
      vectors: this.vectors.subarray(0, 3 * np),
      distances: this.distances.subarray(0, np),
      shifts: this.shifts.subarray(0, 3 * np),
    };
  }

  /**
   * Small systems: every pair i ≤ j once, with the image shifts n along each
   * periodic axis restricted to |Δf_k + n_k| ≤ cutoff / h_k (a necessary
   * condition, since the distance is at least that fraction times the height),
   * which rejects most pairs with a few comparisons; when the cell is at least
   * four cutoffs long along some axis, only pairs in the same or adjacent 1D
   * strips along it are tested. Each found pair is staged in both directions,
   * then sorted into rows.
   */
  private pairSearch(n: number, pbc: readonly boolean[], s0: number, s1: number, s2: number, cut2: number): number {
    const frac = this.frac;
    const p0 = pbc[0];
    const p1 = pbc[1];
    const p2 = pbc[2];
    // Widen the fractional reach by a hair so rounding never drops a pair at the cutoff.
    const r0 = s0 * (1 + 1e-12) + 1e-12;
    const r1 = s1 * (1 + 1e-12) + 1e-12;
    const r2 = s2 * (1 + 1e-12) + 1e-12;
    this.pr0 = r0;
    this.pr1 = r1;
    this.pr2 = r2;
    this.pp = (p0 ? 1 : 0) | (p1 ? 2 : 0) | (p2 ? 4 : 0);
    this.pcut2 = cut2;
    let ns = 0;
    // Pre-check reach per axis: usable only when it is below half a cell
    // (then the nearest image decides); 0 disables the check on that axis.
    const q0 = !p0 || r0 < 0.5 ? r0 : 0;
    const q1 = !p1 || r1 < 0.5 ? r1 : 0;
    const q2 = !p2 || r2 < 0.5 ? r2 : 0;
    // 1D strips at least the cutoff wide along the axis that gets the most of
    // them: only atoms in the same or adjacent strips can be neighbours.
    let axis = -1;
    let nb = 0;
    let lo = 0;
    let width = 1;
    const reach = [r0, r1, r2];
    for (let k = 0; k < 3; k++) {
      let kLo = 0;
      let span = 1;
      if (!pbc[k]) {
        kLo = Infinity;
        let kHi = -Infinity;
        for (let i = 0; i < n; i++) {
          const f = frac[3 * i + k];
          if (f < kLo) kLo = f;
          if (f > kHi) kHi = f;
        }
        span = kHi - kLo;
      }
      const kNb = Math.floor(span / reach[k]);
      if (kNb > nb) {
        nb = kNb;
        axis = k;
        lo = kLo;
        width = span / kNb;
      }
    }
    if (nb >= 4) {
      const wrap = pbc[axis];
      if (this.strip.length < n) this.strip = new Int32Array(n);
      if (this.stripItems.length < n) this.stripItems = new Int32Array(n);
      if (this.stripStart.length < nb + 2) this.stripStart = new Int32Array(nb + 2);
      const strip = this.strip;
      const items = this.stripItems;
      const start = this.stripStart;
      start.fill(0, 0, nb + 2);
      for (let i = 0; i < n; i++) {
        let b = Math.floor((frac[3 * i + axis] - lo) / width);
        if (b >= nb) b = nb - 1;
        if (b < 0) b = 0;
        strip[i] = b;
        start[b + 2]++;
      }
      for (let b = 0; b < nb; b++) start[b + 2] += start[b + 1];
      for (let i = 0; i < n; i++) items[start[strip[i] + 1]++] = i;
      // Now strip b holds items[start[b] .. start[b+1]).
      for (let i = 0; i < n; i++) {
        const b = strip[i];
        const fi0 = frac[3 * i];
        const fi1 = frac[3 * i + 1];
        const fi2 = frac[3 * i + 2];
        for (let db = -1; db <= 1; db++) {
          let bb = b + db;
          if (bb < 0 || bb >= nb) {
            if (!wrap) continue;
            bb = bb < 0 ? nb - 1 : 0;
          }
          for (let t = start[bb]; t < start[bb + 1]; t++) {
            const j = items[t];
            if (j < i) continue;
            // Cheap rejection before the image enumeration: the nearest image's
            // fractional separation along each axis already exceeds the reach.
            if (q0 > 0) {
              let d = frac[3 * j] - fi0;
              if (p0) d -= Math.round(d);
              if (d > q0 || d < -q0) continue;
            }
            if (q1 > 0) {
              let d = frac[3 * j + 1] - fi1;
              if (p1) d -= Math.round(d);
              if (d > q1 || d < -q1) continue;
            }
            if (q2 > 0) {
              let d = frac[3 * j + 2] - fi2;
              if (p2) d -= Math.round(d);
              if (d > q2 || d < -q2) continue;
            }
            ns = this.pairImages(i, j, ns);
          }
        }
      }
    } else {
      for (let i = 0; i < n; i++) {
        const fi0 = frac[3 * i];
        const fi1 = frac[3 * i + 1];
        const fi2 = frac[3 * i + 2];
        for (let j = i; j < n; j++) {
          if (q0 > 0) {
            let d = frac[3 * j] - fi0;
            if (p0) d -= Math.round(d);
            if (d > q0 || d < -q0) continue;
          }
          if (q1 > 0) {
            let d = frac[3 * j + 1] - fi1;
            if (p1) d -= Math.round(d);
            if (d > q1 || d < -q1) continue;
          }
          if (q2 > 0) {
            let d = frac[3 * j + 2] - fi2;
            if (p2) d -= Math.round(d);
            if (d > q2 || d < -q2) continue;
          }
          ns = this.pairImages(i, j, ns);
        }
      }
    }
    // Counting sort of the staged pairs into rows.
    const offsets = this.offsets;
    offsets.fill(0, 0, n + 1);
    const stI = this.stI;
    for (let t = 0; t < ns; t++) offsets[stI[t] + 1]++;
    for (let i = 0; i < n; i++) offsets[i + 1] += offsets[i];
    if (ns > this.indices.length) this.growPairs(ns);
    if (this.binCursor.length < n) this.binCursor = new Int32Array(n);
    const cursor = this.binCursor;
    cursor.set(offsets.subarray(0, n));
    const stJ = this.stJ;
    const stN = this.stN;
    const stV = this.stV;
    const stD2 = this.stD2;
    const ws = this.wrapShift;
    const indices = this.indices;
    const vectors = this.vectors;
    const distances = this.distances;
    const shifts = this.shifts;
    for (let t = 0; t < ns; t++) {
      const i = stI[t];
      const j = stJ[t];
      const q = cursor[i]++;
      indices[q] = j;
      vectors[3 * q] = stV[3 * t];
      vectors[3 * q + 1] = stV[3 * t + 1];
      vectors[3 * q + 2] = stV[3 * t + 2];
      distances[q] = Math.sqrt(stD2[t]);
      shifts[3 * q] = stN[3 * t] - ws[3 * j] + ws[3 * i];
      shifts[3 * q + 1] = stN[3 * t + 1] - ws[3 * j + 1] + ws[3 * i + 1];
      shifts[3 * q + 2] = stN[3 * t + 2] - ws[3 * j + 2] + ws[3 * i + 2];
    }
    return ns;
  }

  /** Stages every image pair i → j + n within the cutoff (and its reverse when i ≠ j). */
  private pairImages(i: number, j: number, ns: number): number {
    const frac = this.frac;
    const r0 = this.pr0;
    const r1 = this.pr1;
    const r2 = this.pr2;
    const pp = this.pp;
    const d0 = frac[3 * j] - frac[3 * i];
    const d1 = frac[3 * j + 1] - frac[3 * i + 1];
    const d2 = frac[3 * j + 2] - frac[3 * i + 2];
    let lo0 = 0;
    let hi0 = 0;
    let lo1 = 0;
    let hi1 = 0;
    let lo2 = 0;
    let hi2 = 0;
    if (pp & 1) {
      lo0 = Math.ceil(-r0 - d0);
      hi0 = Math.floor(r0 - d0);
      if (lo0 > hi0) return ns;
    } else if (d0 > r0 || d0 < -r0) return ns;
    if (pp & 2) {
      lo1 = Math.ceil(-r1 - d1);
      hi1 = Math.floor(r1 - d1);
      if (lo1 > hi1) return ns;
    } else if (d1 > r1 || d1 < -r1) return ns;
    if (pp & 4) {
      lo2 = Math.ceil(-r2 - d2);
      hi2 = Math.floor(r2 - d2);
      if (lo2 > hi2) return ns;
    } else if (d2 > r2 || d2 < -r2) return ns;
    const w = this.wrapped;
    const F = this.frame;
    const cut2 = this.pcut2;
    const bx = w[3 * j] - w[3 * i];
    const by = w[3 * j + 1] - w[3 * i + 1];
    const bz = w[3 * j + 2] - w[3 * i + 2];
    for (let a = lo0; a <= hi0; a++) {
      for (let b = lo1; b <= hi1; b++) {
        for (let c = lo2; c <= hi2; c++) {
          if (i === j && a === 0 && b === 0 && c === 0) continue;
          const dx = bx + a * F[0] + b * F[3] + c * F[6];
          const dy = by + a * F[1] + b * F[4] + c * F[7];
          const dz = bz + a * F[2] + b * F[5] + c * F[8];
          const dd = dx * dx + dy * dy + dz * dz;
          if (dd > cut2) continue;
          if (ns + 2 > this.stI.length) this.growStage(2 * ns + 64);
          ns = this.stage(ns, i, j, a, b, c, dx, dy, dz, dd);
          // A self-image pair (i = j) meets its reverse (−n) in this same loop.
          if (i !== j) ns = this.stage(ns, j, i, -a, -b, -c, -dx, -dy, -dz, dd);
        }
      }
    }
    return ns;
  }

  private stage(t: number, i: number, j: number, a: number, b: number, c: number, dx: number, dy: number, dz: number, dd: number): number {
    this.stI[t] = i;
    this.stJ[t] = j;
    this.stN[3 * t] = a;
    this.stN[3 * t + 1] = b;
    this.stN[3 * t + 2] = c;
    this.stV[3 * t] = dx;
    this.stV[3 * t + 1] = dy;
    this.stV[3 * t + 2] = dz;
    this.stD2[t] = dd;
    return t + 1;
  }

  private growStage(size: number): void {
    const stI = new Int32Array(size);
    stI.set(this.stI);
    const stJ = new Int32Array(size);
    stJ.set(this.stJ);
    const stN = new Int32Array(3 * size);
    stN.set(this.stN);
    const stV = new Float64Array(3 * size);
    stV.set(this.stV);
    const stD2 = new Float64Array(size);
    stD2.set(this.stD2);
    this.stI = stI;
    this.stJ = stJ;
    this.stN = stN;
    this.stV = stV;
    this.stD2 = stD2;
  }

  /** Cell-list search: bins at least `cutoff` wide in the frame's fractional coordinates. */
  private binnedSearch(n: number, m: number, s0: number, s1: number, s2: number, cut2: number): number {
    const inv = this.inv;
    const cp = this.candPos;
    if (this.candFrac.length < 3 * m) this.candFrac = new Float64Array(3 * this.candAtom.length);
    if (this.candBin.length < m) this.candBin = new Int32Array(this.candAtom.length);
    const cf = this.candFrac;
    const lo = [Infinity, Infinity, Infinity];
    const hi = [-Infinity, -Infinity, -Infinity];
    for (let c = 0; c < m; c++) {
      const x = cp[3 * c];
      const y = cp[3 * c + 1];
      const z = cp[3 * c + 2];
      for (let k = 0; k < 3; k++) {
        const f = x * inv[k] + y * inv[3 + k] + z * inv[6 + k];
        cf[3 * c + k] = f;
        if (f < lo[k]) lo[k] = f;
        if (f > hi[k]) hi[k] = f;
      }
    }
    const reach = [s0, s1, s2];
    const nb = [1, 1, 1];
    for (let k = 0; k < 3; k++) nb[k] = Math.max(1, Math.floor((hi[k] - lo[k]) / reach[k]));
    // Sparse structures (atoms far apart) would make too many empty bins: merge
    // bins along the busiest axis until there are at most ~2 bins per candidate.
    while (nb[0] * nb[1] * nb[2] > 2 * m + 27) {
      const k = nb[0] >= nb[1] && nb[0] >= nb[2] ? 0 : nb[1] >= nb[2] ? 1 : 2;
      nb[k] = Math.max(1, nb[k] >> 1);
    }
    const width = [0, 0, 0];
    for (let k = 0; k < 3; k++) width[k] = (hi[k] - lo[k]) / nb[k] || 1;
    const nbins = nb[0] * nb[1] * nb[2];
    if (this.binStart.length < nbins + 1) this.binStart = new Int32Array(nbins + 1);
    if (this.binItems.length < m) this.binItems = new Int32Array(this.candAtom.length);
    const start = this.binStart;
    start.fill(0, 0, nbins + 1);
    const cbin = this.candBin;
    for (let c = 0; c < m; c++) {
      let b = 0;
      for (let k = 0; k < 3; k++) {
        let q = Math.floor((cf[3 * c + k] - lo[k]) / width[k]);
        if (q >= nb[k]) q = nb[k] - 1;
        if (q < 0) q = 0;
        b = b * nb[k] + q;
      }
      cbin[c] = b;
      start[b + 1]++;
    }
    for (let b = 0; b < nbins; b++) start[b + 1] += start[b];
    const items = this.binItems;
    // Counting sort in candidate order, so each bin lists candidates by increasing index.
    if (this.binCursor.length < nbins) this.binCursor = new Int32Array(this.binStart.length);
    const cursor = this.binCursor;
    cursor.set(start.subarray(0, nbins));
    for (let c = 0; c < m; c++) items[cursor[cbin[c]]++] = c;

    const offsets = this.offsets;
    let np = 0;
    const nb0 = nb[0];
    const nb1 = nb[1];
    const nb2 = nb[2];
    for (let i = 0; i < n; i++) {
      const xi = cp[3 * i];
      const yi = cp[3 * i + 1];
      const zi = cp[3 * i + 2];
      const b = cbin[i];
      const q2 = b % nb2;
      const q1 = ((b - q2) / nb2) % nb1;
      const q0 = (b - q2 - q1 * nb2) / (nb1 * nb2);
      for (let a0 = Math.max(0, q0 - 1); a0 <= Math.min(nb0 - 1, q0 + 1); a0++) {
        for (let a1 = Math.max(0, q1 - 1); a1 <= Math.min(nb1 - 1, q1 + 1); a1++) {
          for (let a2 = Math.max(0, q2 - 1); a2 <= Math.min(nb2 - 1, q2 + 1); a2++) {
            const bb = (a0 * nb1 + a1) * nb2 + a2;
            for (let t = start[bb]; t < start[bb + 1]; t++) {
              const c = items[t];
              if (c === i) continue;
              const dx = cp[3 * c] - xi;
              const dy = cp[3 * c + 1] - yi;
              const dz = cp[3 * c + 2] - zi;
              const d2 = dx * dx + dy * dy + dz * dz;
              if (d2 > cut2) continue;
              np = this.push(np, i, c, dx, dy, dz, d2);
            }
          }
        }
      }
      offsets[i + 1] = np;
    }
    return np;
  }

  private push(np: number, i: number, c: number, dx: number, dy: number, dz: number, d2: number): number {
    if (np >= this.indices.length) this.growPairs(2 * np + 64);
    const j = this.candAtom[c];
    this.indices[np] = j;
    this.vectors[3 * np] = dx;
    this.vectors[3 * np + 1] = dy;
    this.vectors[3 * np + 2] = dz;
    this.distances[np] = Math.sqrt(d2);
    // r_j + S·C − r_i with r = wrapped + w·C and the candidate at wrapped_j + n·C.
    const ws = this.wrapShift;
    const cs = this.candShift;
    this.shifts[3 * np] = cs[3 * c] - ws[3 * j] + ws[3 * i];
    this.shifts[3 * np + 1] = cs[3 * c + 1] - ws[3 * j + 1] + ws[3 * i + 1];
    this.shifts[3 * np + 2] = cs[3 * c + 2] - ws[3 * j + 2] + ws[3 * i + 2];
    return np + 1;
  }

  private growPairs(size: number): void {
    const grow = <T extends Int32Array | Float64Array>(a: T, len: number): T => {
      const b = new (a.constructor as { new (n: number): T })(len);
      b.set(a);
      return b;
    };
    this.indices = grow(this.indices, size);
    this.distances = grow(this.distances, size);
    this.vectors = grow(this.vectors, 3 * size);
    this.shifts = grow(this.shifts, 3 * size);
  }

  private ensureCandidates(size: number): void {
    if (this.candAtom.length >= size) return;
    const pos = new Float64Array(3 * size);
    pos.set(this.candPos);
    const atom = new Int32Array(size);
    atom.set(this.candAtom);
    const shift = new Int32Array(3 * size);
    shift.set(this.candShift);
    this.candPos = pos;
    this.candAtom = atom;
    this.candShift = shift;
  }

  private setCandidate(c: number, atom: number, x: number, y: number, z: number, a: number, b: number, s: number): void {
    this.candPos[3 * c] = x;
    this.candPos[3 * c + 1] = y;
    this.candPos[3 * c + 2] = z;
    this.candAtom[c] = atom;
    this.candShift[3 * c] = a;
    this.candShift[3 * c + 1] = b;
    this.candShift[3 * c + 2] = s;
  }
}

/** Neighbour list with its own arrays (safe to keep). */
export function neighborList(atoms: Atoms, cutoff: number): NeighborList {
  const l = new NeighborSearch().build(atoms, cutoff);
  return {
    cutoff: l.cutoff,
    natoms: l.natoms,
    npairs: l.npairs,
    offsets: l.offsets.slice(),
    indices: l.indices.slice(),
    vectors: l.vectors.slice(),
    distances: l.distances.slice(),
    shifts: l.shifts.slice(),
  };
}
