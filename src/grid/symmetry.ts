/**
 * Exact point symmetries of a building grid, for the batch augmentation of the
 * paper ("The batch is augmented by rotation of structures on the grid.
 * Rotational equivariance is thus learned by the CNN"; Methods; Extended Data
 * Fig. 9). Only rotations/reflections that map the set of grid points exactly
 * onto itself are returned, so an augmented (state, action) pair is again a
 * state the agent could have built and an action it could have taken:
 *  - a periodic rectangular grid (graphene 42×37): identity, 180°, two mirrors;
 *  - a periodic square grid, or a square non-periodic region: 8 (D4);
 *  - an n×n grid in a 60° rhombic cell: 12 (D6);
 *  - the paper's Ag(111)-p(4×4)-O grid (a=(12,0), b=(6,10) Å, 24×20): its steps
 *    (0.5,0) and (0.3,0.5) Å admit only identity and 180°.
 *
 * Method: with step matrix S = [e0 e1], a symmetry x ↦ R(x − c) + c acts on grid
 * coordinates as u ↦ T(u − u_c) + u_c with T = S⁻¹RS, which must be an integer
 * matrix; R orthogonal means R·e_k is a lattice vector of length |e_k|, so all
 * candidates come from the finitely many step-lattice vectors of lengths |e0|
 * and |e1|. A candidate is kept if T maps the periodic translations (n_k along
 * each periodic axis) onto themselves and, about the centre u_c (a grid point or
 * half-step along periodic axes, the middle of the region along non-periodic
 * ones), maps every grid point onto a grid point, bijectively — checked point
 * by point, which also yields the permutation `map`.
 */
import { Atoms } from '../structure/atoms.js';
import { InputError } from '../util/errors.js';
import { BuildingGrid, checkAtomsCell } from './grid.js';

export type Matrix2 = [[number, number], [number, number]];

export interface GridSymmetry {
  /** 'identity', 'rot<deg>' (counter-clockwise) or 'mirror<deg>' (mirror line at <deg> from the x axis). */
  name: string;
  /** Cartesian 2×2 orthogonal matrix R acting on in-plane vectors. */
  matrix: Matrix2;
  /** Cartesian [x, y] of the symmetry centre (a point on the mirror line for reflections). */
  centre: [number, number];
  /** Integer matrix T = S⁻¹RS acting on grid coordinates: u' = T(u − u_c) + u_c. */
  indexMatrix: Matrix2;
  /** Permutation of grid points: grid point p is carried to grid point map[p]. */
  map: Int32Array;
}

/**
 * All exact point symmetries of the grid (including its periodicity), identity
 * first, then rotations by increasing angle, then mirrors by increasing line
 * angle. `tolerance` (Å) absorbs rounding of decimal cell inputs when comparing
 * step-lattice vector lengths and angles.
 */
export function gridSymmetries(grid: BuildingGrid, tolerance = 1e-6): GridSymmetry[] {
  const e = grid.step, s = grid.inverseStep;
  const len = [grid.spacing[0], grid.spacing[1]];
  const dot = e[0] * e[2] + e[1] * e[3];
  const cross = e[0] * e[3] - e[1] * e[2];
  // Step-lattice vectors (j0, j1) with |j0·e0 + j1·e1| = |e_k|.
  const candidates: Array<Array<[number, number, number, number]>> = [[], []];
  for (let k = 0; k < 2; k++) {
    const w0 = Math.ceil(len[k] * grid.indexReach[0]) + 1;
    const w1 = Math.ceil(len[k] * grid.indexReach[1]) + 1;
    for (let j0 = -w0; j0 <= w0; j0++) {
      for (let j1 = -w1; j1 <= w1; j1++) {
        const x = j0 * e[0] + j1 * e[2], y = j0 * e[1] + j1 * e[3];
        if (Math.abs(Math.hypot(x, y) - len[k]) <= tolerance) candidates[k].push([j0, j1, x, y]);
      }
    }
  }
  const n = [grid.n0, grid.n1];
  const found: GridSymmetry[] = [];
  for (const [a0, a1, v0x, v0y] of candidates[0]) {
    for (const [b0, b1, v1x, v1y] of candidates[1]) {
      if (Math.abs(v0x * v1x + v0y * v1y - dot) > tolerance * (len[0] + len[1])) continue;
      if (Math.abs(Math.abs(v0x * v1y - v0y * v1x) - Math.abs(cross)) > tolerance * (len[0] + len[1])) continue;
      // R = [v0 v1] S⁻¹.
      const r00 = v0x * s[0] + v1x * s[2], r01 = v0x * s[1] + v1x * s[3];
      const r10 = v0y * s[0] + v1y * s[2], r11 = v0y * s[1] + v1y * s[3];
      const orthoErr = Math.max(
        Math.abs(r00 * r00 + r10 * r10 - 1),
        Math.abs(r01 * r01 + r11 * r11 - 1),
        Math.abs(r00 * r01 + r10 * r11),
      );
      if (orthoErr > (10 * tolerance) / Math.min(len[0], len[1]) + 1e-12) continue;
      const T: Matrix2 = [[a0, b0], [a1, b1]];
      if (!periodicConsistent(grid, T, n)) continue;
      const sym = mapAboutSomeCentre(grid, T);
      if (sym === null) continue;
      const R: Matrix2 = [[r00, r01], [r10, r11]];
      found.push({ name: nameOf(R), matrix: R, centre: sym.centre, indexMatrix: T, map: sym.map });
    }
  }
  found.sort((p, q) => orderKey(p.matrix) - orderKey(q.matrix));
  return found;
}

/** T must carry each periodic translation (n_k steps along periodic axis k) to a periodic translation. */
function periodicConsistent(grid: BuildingGrid, T: Matrix2, n: number[]): boolean {
  for (let k = 0; k < 2; k++) {
    if (!grid.periodic[k]) continue;
    for (let l = 0; l < 2; l++) {
      const v = T[l][k] * n[k];
      if (grid.periodic[l] ? v % n[l] !== 0 : v !== 0) return false;
    }
  }
  return true;
}

function mapAboutSomeCentre(grid: BuildingGrid, T: Matrix2): { centre: [number, number]; map: Int32Array } | null {
  const n0 = grid.n0, n1 = grid.n1;
  const c0s = grid.periodic[0] ? [0, 0.5] : [(n0 - 1) / 2];
  const c1s = grid.periodic[1] ? [0, 0.5] : [(n1 - 1) / 2];
  const map = new Int32Array(grid.size);
  const seen = new Uint8Array(grid.size);
  for (const c0 of c0s) {
    for (const c1 of c1s) {
      const t0 = c0 - (T[0][0] * c0 + T[0][1] * c1);
      const t1 = c1 - (T[1][0] * c0 + T[1][1] * c1);
      if (Math.abs(t0 - Math.round(t0)) > 1e-9 || Math.abs(t1 - Math.round(t1)) > 1e-9) continue;
      const s0 = Math.round(t0), s1 = Math.round(t1);
      seen.fill(0);
      let ok = true;
      for (let i0 = 0; i0 < n0 && ok; i0++) {
        for (let i1 = 0; i1 < n1; i1++) {
          const q = grid.indexOf(T[0][0] * i0 + T[0][1] * i1 + s0, T[1][0] * i0 + T[1][1] * i1 + s1);
          if (q < 0 || seen[q]) { ok = false; break; }
          seen[q] = 1;
          map[i0 * n1 + i1] = q;
        }
      }
      if (!ok) continue;
      const e = grid.step;
      const centre: [number, number] = [
        grid.origin[0] + c0 * e[0] + c1 * e[2],
        grid.origin[1] + c0 * e[1] + c1 * e[3],
      ];
      return { centre, map };
    }
  }
  return null;
}

function angleDegrees(R: Matrix2): number {
  const det = R[0][0] * R[1][1] - R[0][1] * R[1][0];
  let a = (Math.atan2(R[1][0], R[0][0]) * 180) / Math.PI;
  if (det < 0) a /= 2;
  const period = det < 0 ? 180 : 360;
  a = ((a % period) + period) % period;
  const r = Math.round(a * 100) / 100;
  return r >= period ? r - period : r;
}

function nameOf(R: Matrix2): string {
  const det = R[0][0] * R[1][1] - R[0][1] * R[1][0];
  const a = angleDegrees(R);
  if (det > 0) return a === 0 ? 'identity' : `rot${a}`;
  return `mirror${a}`;
}

function orderKey(R: Matrix2): number {
  const det = R[0][0] * R[1][1] - R[0][1] * R[1][0];
  return (det > 0 ? 0 : 1000) + angleDegrees(R);
}

/**
 * Applies a symmetry to a channel-major tensor (one-hot encoding, Q-values,
 * masks): out[c·size + map[p]] = input[c·size + p] for every channel c.
 */
export function transformTensor<A extends Float32Array | Float64Array | Uint8Array | Int32Array>(
  sym: GridSymmetry,
  input: A,
  out?: A,
): A {
  const size = sym.map.length;
  if (input.length % size !== 0) throw new RangeError(`transformTensor: ${input.length} entries is not a multiple of ${size} grid points`);
  if (out === undefined) out = new (input.constructor as new (n: number) => A)(input.length);
  else if (out.length !== input.length) throw new RangeError(`transformTensor: out has ${out.length} entries, expected ${input.length}`);
  if (out === input) throw new RangeError('transformTensor: out must not be the input');
  const map = sym.map;
  for (let base = 0; base < input.length; base += size) {
    for (let p = 0; p < size; p++) out[base + map[p]] = input[base + p];
  }
  return out;
}

/**
 * A copy of `atoms` with the in-plane components of every position (template
 * atoms included) transformed by the symmetry about its centre; z is unchanged.
 * With `wrap`, positions are then wrapped into the cell along the grid's
 * periodic axes. Encoding the result equals transformTensor of the encoding.
 */
export function transformPositions(grid: BuildingGrid, sym: GridSymmetry, atoms: Atoms, opts: { wrap?: boolean } = {}): Atoms {
  const out = atoms.clone();
  const R = sym.matrix, [cx, cy] = sym.centre;
  const pos = out.positions;
  const c = grid.cell;
  const ax = c[0], ay = c[1], bx = c[3], by = c[4];
  const area = ax * by - ay * bx;
  for (let i = 0; i < out.length; i++) {
    const dx = pos[3 * i] - cx, dy = pos[3 * i + 1] - cy;
    let x = cx + R[0][0] * dx + R[0][1] * dy;
    let y = cy + R[1][0] * dx + R[1][1] * dy;
    if (opts.wrap) {
      const fa = (by * x - bx * y) / area, fb = (-ay * x + ax * y) / area;
      const sa = grid.periodic[0] ? Math.floor(fa) : 0;
      const sb = grid.periodic[1] ? Math.floor(fb) : 0;
      x -= sa * ax + sb * bx;
      y -= sa * ay + sb * by;
    }
    pos[3 * i] = x;
    pos[3 * i + 1] = y;
  }
  return out;
}

/**
 * True if the symmetry maps `atoms` onto itself (every transformed atom lands
 * within `tolerance` Å of an untaken atom of the same element, modulo the grid's
 * periodic cell vectors). The agent uses this on the template (e.g. the Ag(111)
 * support under the AgO overlayer) to keep only augmentations that describe the
 * same physical situation.
 */
export function preservesAtoms(grid: BuildingGrid, sym: GridSymmetry, atoms: Atoms, tolerance = 1e-3): boolean {
  if (!(tolerance >= 0)) throw new InputError(`tolerance must be a non-negative number of Å, got ${tolerance}`);
  checkAtomsCell(grid, atoms);
  const moved = transformPositions(grid, sym, atoms);
  const c = grid.cell;
  const ax = c[0], ay = c[1], bx = c[3], by = c[4];
  const area = ax * by - ay * bx;
  const n = atoms.length;
  const taken = new Uint8Array(n);
  const p = atoms.positions, q = moved.positions;
  const t2 = tolerance * tolerance;
  for (let i = 0; i < n; i++) {
    let match = -1;
    for (let j = 0; j < n && match < 0; j++) {
      if (taken[j] || atoms.numbers[j] !== atoms.numbers[i]) continue;
      let dx = q[3 * i] - p[3 * j], dy = q[3 * i + 1] - p[3 * j + 1];
      const dz = q[3 * i + 2] - p[3 * j + 2];
      // Remove the nearest periodic translation (rounded fractional displacement).
      const fa = (by * dx - bx * dy) / area, fb = (-ay * dx + ax * dy) / area;
      const sa = grid.periodic[0] ? Math.round(fa) : 0;
      const sb = grid.periodic[1] ? Math.round(fb) : 0;
      dx -= sa * ax + sb * bx;
      dy -= sa * ay + sb * by;
      if (dx * dx + dy * dy + dz * dz <= t2) match = j;
    }
    if (match < 0) return false;
    taken[match] = 1;
  }
  return true;
}
