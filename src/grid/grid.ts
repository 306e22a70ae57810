/**
 * The building grid: the 2D real-space grid on which the ASLA agent places atoms
 * one at a time (paper, "Building phase"; Methods; Extended Data Table 1).
 *
 * Conventions shared with the Q-network (src/nn) and the agent (src/agent) —
 * keep them exactly:
 *  - the grid has n0 points along axis 0 (the direction of cell vector a) and n1
 *    along axis 1 (cell vector b); grid point index p = i0*n1 + i1;
 *  - tensors are channel-major: element c*n0*n1 + p;
 *  - a periodic axis spans the whole cell vector: step = a/n0 (resp. b/n1), so
 *    n0 steps make exactly one cell vector and a periodic wrap in index space is
 *    exactly a periodic image in real space;
 *  - a non-periodic axis has an explicit spacing along the cell vector's
 *    direction and a region that must fit inside the cell (e.g. the 60×60
 *    region at 0.2 Å centred in the 16×16 Å C3H4O2 cell);
 *  - the grid plane lies at Cartesian height z; cell vectors a and b must lie in
 *    the xy plane (c carries the vacuum / surface normal).
 *
 * Grid point (i0, i1) is at origin + i0·e0 + i1·e1 with step vectors e0, e1.
 * Continuous grid coordinates u = S⁻¹ (r − origin), S = [e0 e1], are used to
 * bound index ranges (a disk of radius R around u spans at most
 * R·‖row k of S⁻¹‖ indices along axis k), which makes nearest-point snapping
 * exact on oblique grids (the rhombic Ag(111)-p(4×4)-O cell) and lets the
 * action masks stamp disks instead of testing every grid point.
 */
import type { Atoms } from '../structure/atoms.js';
import { InputError } from '../util/errors.js';

/** Rows a, b, c of the cell: a flat row-major array of 9 numbers or 3 rows of 3. */
export type CellInput = ArrayLike<number> | ArrayLike<ArrayLike<number>>;

export interface BuildingGridConfig {
  /** Cell rows a, b, c in Å (as Atoms.cell). a and b must lie in the xy plane. */
  cell: CellInput;
  /** [n0, n1]: points along cell vector a and along cell vector b. */
  shape: [number, number];
  /** Periodicity of axis 0 (along a) and axis 1 (along b). */
  periodic: [boolean, boolean];
  /**
   * Step length in Å along each non-periodic axis (along the direction of its
   * cell vector). Entries for periodic axes are ignored: there the step is the
   * cell vector / n. Default for a non-periodic axis: |cell vector| / n (the
   * region then covers the cell, centred, with half a step of margin each side).
   */
  spacing?: [number | null, number | null];
  /**
   * Cartesian [x, y] of grid point (0, 0). Default: fractional coordinate 0
   * along periodic axes (the cell origin) and a region centred in the cell
   * along non-periodic axes.
   */
  origin?: [number, number];
  /** Cartesian height (Å) of the grid plane. */
  z: number;
  /**
   * Atoms within this distance (Å) of the plane height are "on the plane" and
   * are encoded (default 0.5 Å); others (e.g. a supporting Ag(111) layer) are
   * template atoms that only enter the action masks.
   */
  planeTolerance?: number;
}

/** The shape-from-spacing convenience (see BuildingGrid.fromSpacing). */
export interface GridSpacingConfig {
  cell: CellInput;
  /** Target step in Å, one for both axes or one per axis. */
  spacing: number | [number, number];
  periodic: [boolean, boolean];
  /**
   * Side length (Å) of the grid region along each non-periodic axis, measured
   * along its cell vector; the region holds floor(extent/spacing) points.
   * Default: the whole cell vector. Ignored for periodic axes.
   */
  extent?: [number | null, number | null];
  origin?: [number, number];
  z: number;
  planeTolerance?: number;
}

/** The JSON form written by toJSON() and read by fromJSON(). */
export interface BuildingGridJSON {
  cell: number[][];
  shape: [number, number];
  periodic: [boolean, boolean];
  /** Actual step lengths in Å (for periodic axes derived from the cell). */
  spacing: [number, number];
  origin: [number, number];
  z: number;
  planeTolerance: number;
}

export interface NearestPoint {
  /** Grid point index, or −1 if the position lies outside a non-periodic region by more than half a step. */
  index: number;
  /** In-plane distance (Å) to that grid point (periodic minimum image); NaN when index is −1. */
  distance: number;
}

/** Default |Δz| (Å) within which an atom counts as lying on the grid plane. */
export const DEFAULT_PLANE_TOLERANCE = 0.5;

/** Slack on the fractional extent check of non-periodic regions (absorbs rounding of decimal inputs). */
const FIT_TOLERANCE = 1e-9;

export class BuildingGrid {
  readonly n0: number;
  readonly n1: number;
  /** n0 × n1: the number of grid points (and of actions per element). */
  readonly size: number;
  readonly periodic: readonly [boolean, boolean];
  /** Cell rows a, b, c (row-major, 9 numbers), a copy of the config's. */
  readonly cell: Float64Array;
  /** Height of the grid plane (Å). */
  readonly z: number;
  readonly planeTolerance: number;
  /** Cartesian [x, y] of grid point (0, 0). */
  readonly origin: readonly [number, number];
  /** Step lengths |e0|, |e1| in Å. */
  readonly spacing: readonly [number, number];
  /** Step vectors [e0x, e0y, e1x, e1y] (Å). */
  readonly step: Float64Array;
  /** Inverse step matrix S⁻¹, row-major [r00, r01, r10, r11]: u = S⁻¹ (r − origin). */
  readonly inverseStep: Float64Array;
  /** ‖row k of S⁻¹‖: a disk of radius R spans at most R·indexReach[k] indices along axis k. */
  readonly indexReach: readonly [number, number];

  private nearestDistance = NaN;
  private offsetsRadius = NaN;
  private offsets: Int32Array = new Int32Array(0);

  /**
   * @param where names the source in error messages, e.g. "graphene.yaml: field 'grid'".
   */
  constructor(config: BuildingGridConfig, where = 'grid') {
    if (config === null || typeof config !== 'object') throw new InputError('expected a grid configuration object', where);
    this.cell = readCell(config.cell, where);
    const shape = config.shape;
    if (!Array.isArray(shape) || shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n > 0)) {
      throw new InputError(`field 'shape' must be two positive integers [n0, n1], got ${JSON.stringify(shape)}`, where);
    }
    const periodic = config.periodic;
    if (!Array.isArray(periodic) || periodic.length !== 2 || !periodic.every((b) => typeof b === 'boolean')) {
      throw new InputError(`field 'periodic' must be two booleans [axis0, axis1], got ${JSON.stringify(periodic)}`, where);
    }
    if (typeof config.z !== 'number' || !Number.isFinite(config.z)) {
      throw new InputError(`field 'z' must be a finite number (height of the grid plane in Å), got ${JSON.stringify(config.z)}`, where);
    }
    const tol = config.planeTolerance ?? DEFAULT_PLANE_TOLERANCE;
    if (typeof tol !== 'number' || !Number.isFinite(tol) || tol < 0) {
      throw new InputError(`field 'planeTolerance' must be a non-negative number of Å, got ${JSON.stringify(tol)}`, where);
    }
    this.n0 = shape[0];
    this.n1 = shape[1];
    this.size = this.n0 * this.n1;
    this.periodic = [periodic[0], periodic[1]];
    this.z = config.z;
    this.planeTolerance = tol;

    const c = this.cell;
    const scale = Math.max(1e-300, ...Array.from(c, Math.abs));
    if (Math.abs(c[2]) > 1e-9 * scale || Math.abs(c[5]) > 1e-9 * scale) {
      throw new InputError(`field 'cell': cell vectors a and b must lie in the xy plane (z components ${c[2]}, ${c[5]})`, where);
    }
    const ax = c[0], ay = c[1], bx = c[3], by = c[4];
    const la = Math.hypot(ax, ay);
    const lb = Math.hypot(bx, by);
    const area = ax * by - ay * bx;
    if (!(la > 0) || !(lb > 0) || !(Math.abs(area) > 1e-10 * la * lb)) {
      throw new InputError(`field 'cell': the in-plane cell vectors a=(${ax}, ${ay}) and b=(${bx}, ${by}) are singular or degenerate`, where);
    }
    const lengths = [la, lb];
    const n = [this.n0, this.n1];

    // Step lengths: periodic axes tile their cell vector exactly; non-periodic ones use the given spacing.
    const spacing = config.spacing;
    if (spacing !== undefined && (!Array.isArray(spacing) || spacing.length !== 2)) {
      throw new InputError(`field 'spacing' must be [h0, h1] in Å, got ${JSON.stringify(spacing)}`, where);
    }
    const h = [0, 0];
    for (let k = 0; k < 2; k++) {
      if (this.periodic[k]) {
        h[k] = lengths[k] / n[k];
      } else {
        const s = spacing?.[k];
        if (s === undefined || s === null) h[k] = lengths[k] / n[k];
        else if (typeof s !== 'number' || !Number.isFinite(s) || s <= 0) {
          throw new InputError(`field 'spacing[${k}]' must be a positive number of Å for non-periodic axis ${k}, got ${JSON.stringify(s)}`, where);
        } else h[k] = s;
      }
    }
    this.spacing = [h[0], h[1]];
    // Step vectors along the cell vectors' directions.
    const e0x = (ax / la) * h[0], e0y = (ay / la) * h[0];
    const e1x = (bx / lb) * h[1], e1y = (by / lb) * h[1];
    this.step = Float64Array.of(e0x, e0y, e1x, e1y);
    const det = e0x * e1y - e1x * e0y;
    this.inverseStep = Float64Array.of(e1y / det, -e1x / det, -e0y / det, e0x / det);
    const s = this.inverseStep;
    this.indexReach = [Math.hypot(s[0], s[1]), Math.hypot(s[2], s[3])];

    // Fractional extent of the region along each axis: (n−1)·h/|cell vector|.
    const span = [((n[0] - 1) * h[0]) / la, ((n[1] - 1) * h[1]) / lb];
    let fa: number, fb: number;
    if (config.origin === undefined) {
      fa = this.periodic[0] ? 0 : (1 - span[0]) / 2;
      fb = this.periodic[1] ? 0 : (1 - span[1]) / 2;
      this.origin = [fa * ax + fb * bx, fa * ay + fb * by];
    } else {
      const o = config.origin;
      if (!Array.isArray(o) || o.length !== 2 || !o.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new InputError(`field 'origin' must be [x, y] in Å, got ${JSON.stringify(o)}`, where);
      }
      this.origin = [o[0], o[1]];
      fa = (by * o[0] - bx * o[1]) / area;
      fb = (-ay * o[0] + ax * o[1]) / area;
    }
    const f = [fa, fb];
    for (let k = 0; k < 2; k++) {
      if (this.periodic[k]) continue;
      const vec = k === 0 ? 'a' : 'b';
      if (span[k] > 1 + FIT_TOLERANCE) {
        throw new InputError(
          `field 'shape': ${n[k]} points at ${h[k]} Å span ${((n[k] - 1) * h[k]).toFixed(4)} Å along non-periodic axis ${k}, more than the cell vector ${vec} (${lengths[k].toFixed(4)} Å)`,
          where,
        );
      }
      if (f[k] < -FIT_TOLERANCE || f[k] + span[k] > 1 + FIT_TOLERANCE) {
        throw new InputError(
          `field 'origin': the grid region along non-periodic axis ${k} covers fractional ${vec} coordinates [${f[k].toFixed(6)}, ${(f[k] + span[k]).toFixed(6)}], outside the cell [0, 1]`,
          where,
        );
      }
    }
  }

  /**
   * Shape from a spacing: along a periodic axis n = max(1, round(|cell vector| / spacing)),
   * so the step is |cell vector|/n ≈ spacing; along a non-periodic axis
   * n = floor(extent / spacing) points at exactly `spacing`, centred unless an
   * origin is given. (The paper's Ag(111)-p(4×4)-O grid, 24×20 with 0.5 Å steps
   * in x and y on an oblique cell, is given with an explicit shape instead.)
   */
  static fromSpacing(config: GridSpacingConfig, where = 'grid'): BuildingGrid {
    const cell = readCell(config.cell, where);
    const sp = typeof config.spacing === 'number' ? [config.spacing, config.spacing] : config.spacing;
    if (!Array.isArray(sp) || sp.length !== 2 || !sp.every((v) => typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new InputError(`field 'spacing' must be a positive number of Å or two of them, got ${JSON.stringify(config.spacing)}`, where);
    }
    const periodic = config.periodic;
    if (!Array.isArray(periodic) || periodic.length !== 2) {
      throw new InputError(`field 'periodic' must be two booleans [axis0, axis1], got ${JSON.stringify(periodic)}`, where);
    }
    const lengths = [Math.hypot(cell[0], cell[1]), Math.hypot(cell[3], cell[4])];
    const shape: [number, number] = [1, 1];
    for (let k = 0; k < 2; k++) {
      if (periodic[k]) {
        shape[k] = Math.max(1, Math.round(lengths[k] / sp[k]));
      } else {
        const e = config.extent?.[k] ?? lengths[k];
        if (typeof e !== 'number' || !Number.isFinite(e) || e <= 0) {
          throw new InputError(`field 'extent[${k}]' must be a positive number of Å, got ${JSON.stringify(e)}`, where);
        }
        shape[k] = Math.max(1, Math.floor(e / sp[k] + 1e-9));
      }
    }
    return new BuildingGrid(
      {
        cell,
        shape,
        periodic,
        spacing: [sp[0], sp[1]],
        origin: config.origin,
        z: config.z,
        planeTolerance: config.planeTolerance,
      },
      where,
    );
  }

  /** Cartesian [x, y, z] of grid point p (written into `out` if given). */
  position(p: number): Float64Array;
  position<T extends Float64Array | number[]>(p: number, out: T): T;
  position(p: number, out: Float64Array | number[] = new Float64Array(3)): Float64Array | number[] {
    const i0 = Math.floor(p / this.n1);
    const i1 = p - i0 * this.n1;
    const e = this.step;
    out[0] = this.origin[0] + i0 * e[0] + i1 * e[2];
    out[1] = this.origin[1] + i0 * e[1] + i1 * e[3];
    out[2] = this.z;
    return out;
  }

  /** Grid point index of (i0, i1), wrapping periodic axes; −1 outside a non-periodic axis. */
  indexOf(i0: number, i1: number): number {
    const n0 = this.n0, n1 = this.n1;
    if (this.periodic[0]) i0 = ((i0 % n0) + n0) % n0;
    else if (i0 < 0 || i0 >= n0) return -1;
    if (this.periodic[1]) i1 = ((i1 % n1) + n1) % n1;
    else if (i1 < 0 || i1 >= n1) return -1;
    return i0 * n1 + i1;
  }

  /** Continuous grid coordinates u = S⁻¹ ([x, y] − origin): grid point (i0, i1) sits at u = (i0, i1). */
  gridCoordinates(x: number, y: number): Float64Array;
  gridCoordinates<T extends Float64Array | number[]>(x: number, y: number, out: T): T;
  gridCoordinates(x: number, y: number, out: Float64Array | number[] = new Float64Array(2)): Float64Array | number[] {
    const s = this.inverseStep;
    const dx = x - this.origin[0], dy = y - this.origin[1];
    out[0] = s[0] * dx + s[1] * dy;
    out[1] = s[2] * dx + s[3] * dy;
    return out;
  }

  /**
   * The grid point nearest to in-plane position (x, y), and its in-plane distance
   * (periodic minimum image). Index −1 if the position lies outside a non-periodic
   * region by more than half a step (measured in grid coordinates along that axis).
   */
  nearest(x: number, y: number): NearestPoint {
    const index = this.nearestIndex(x, y);
    return { index, distance: index < 0 ? NaN : this.nearestDistance };
  }

  /** As nearest(), index only, without allocating (the distance is kept for nearest()). */
  nearestIndex(x: number, y: number): number {
    const s = this.inverseStep, e = this.step;
    const ox = this.origin[0], oy = this.origin[1];
    const dx = x - ox, dy = y - oy;
    const u0 = s[0] * dx + s[1] * dy;
    const u1 = s[2] * dx + s[3] * dy;
    const n0 = this.n0, n1 = this.n1;
    const p0 = this.periodic[0], p1 = this.periodic[1];
    if (!(Number.isFinite(u0) && Number.isFinite(u1))) return -1;
    if (!p0 && (u0 < -0.5 || u0 > n0 - 0.5)) return -1;
    if (!p1 && (u1 < -0.5 || u1 > n1 - 0.5)) return -1;
    // Rounded grid coordinates give an upper bound R on the nearest distance; on an
    // oblique grid the nearest point can differ, but it lies within R, hence within
    // R·indexReach[k] indices of u along axis k: search that box exactly.
    let c0 = Math.round(u0), c1 = Math.round(u1);
    if (!p0) c0 = Math.min(n0 - 1, Math.max(0, c0));
    if (!p1) c1 = Math.min(n1 - 1, Math.max(0, c1));
    let rx = c0 * e[0] + c1 * e[2] - dx;
    let ry = c0 * e[1] + c1 * e[3] - dy;
    let best = rx * rx + ry * ry;
    let b0 = c0, b1 = c1;
    const r = Math.sqrt(best) * (1 + 1e-12) + 1e-12;
    let lo0 = Math.floor(u0 - r * this.indexReach[0]), hi0 = Math.ceil(u0 + r * this.indexReach[0]);
    let lo1 = Math.floor(u1 - r * this.indexReach[1]), hi1 = Math.ceil(u1 + r * this.indexReach[1]);
    if (!p0) { lo0 = Math.max(lo0, 0); hi0 = Math.min(hi0, n0 - 1); }
    if (!p1) { lo1 = Math.max(lo1, 0); hi1 = Math.min(hi1, n1 - 1); }
    for (let i0 = lo0; i0 <= hi0; i0++) {
      const qx = i0 * e[0] - dx, qy = i0 * e[1] - dy;
      for (let i1 = lo1; i1 <= hi1; i1++) {
        rx = qx + i1 * e[2];
        ry = qy + i1 * e[3];
        const d2 = rx * rx + ry * ry;
        if (d2 < best) { best = d2; b0 = i0; b1 = i1; }
      }
    }
    this.nearestDistance = Math.sqrt(best);
    return this.indexOf(b0, b1);
  }

  /**
   * Grid points within `radius` Å (in-plane, ≤) of grid point p, counting
   * periodic images, each once: p itself first, then by increasing distance
   * (ties by index). This is the neighbourhood of the spillover term of the
   * paper's cost function (Methods, eq. 2; r_spillover = 0.3 Å).
   */
  pointsWithin(p: number, radius: number): Int32Array {
    if (!Number.isInteger(p) || p < 0 || p >= this.size) throw new RangeError(`grid point ${p} outside 0..${this.size - 1}`);
    if (!(radius >= 0)) throw new InputError(`radius must be a non-negative number of Å, got ${radius}`);
    const offsets = this.offsetsWithin(radius);
    const i0 = Math.floor(p / this.n1), i1 = p - i0 * this.n1;
    const out: number[] = [];
    const seen = new Set<number>();
    for (let k = 0; k < offsets.length; k += 2) {
      const q = this.indexOf(i0 + offsets[k], i1 + offsets[k + 1]);
      if (q < 0 || seen.has(q)) continue;
      seen.add(q);
      out.push(q);
    }
    return Int32Array.from(out);
  }

  /** Index offsets (d0, d1) with |d0·e0 + d1·e1| ≤ radius, sorted by length; cached for the last radius. */
  private offsetsWithin(radius: number): Int32Array {
    if (radius === this.offsetsRadius) return this.offsets;
    const e = this.step;
    const w0 = Math.floor(radius * this.indexReach[0] + 1e-9);
    const w1 = Math.floor(radius * this.indexReach[1] + 1e-9);
    const r2 = radius * radius * (1 + 1e-12) + 1e-24;
    const list: Array<[number, number, number]> = [];
    for (let d0 = -w0; d0 <= w0; d0++) {
      for (let d1 = -w1; d1 <= w1; d1++) {
        const x = d0 * e[0] + d1 * e[2], y = d0 * e[1] + d1 * e[3];
        const d2 = x * x + y * y;
        if (d2 <= r2) list.push([d2, d0, d1]);
      }
    }
    // Sorting by distance puts (0,0) first; ties keep a fixed order by offset.
    list.sort((u, v) => u[0] - v[0] || u[1] - v[1] || u[2] - v[2]);
    const out = new Int32Array(2 * list.length);
    list.forEach((t, k) => { out[2 * k] = t[1]; out[2 * k + 1] = t[2]; });
    this.offsetsRadius = radius;
    this.offsets = out;
    return out;
  }

  /**
   * One-hot encoding of a structure (paper, Extended Data Fig. 1): a Float32Array
   * of S×n0×n1 (channel-major, channel c is element species[c]) with 1 at the grid
   * point nearest to each atom that lies on the grid plane (|z − plane z| ≤
   * planeTolerance) and 0 elsewhere.
   *
   * Atoms off the plane — template atoms such as the supporting Ag(111) layer —
   * are NOT encoded whatever their element; they only enter the action masks.
   * An atom on the plane must be of one of `species` and inside the grid region,
   * otherwise InputError (it could not have been placed by the agent). Two atoms
   * on the same grid point give a single 1.
   */
  encode(atoms: Atoms, species: readonly number[], out?: Float32Array): Float32Array {
    const nsp = species.length;
    checkSpecies(species);
    const size = this.size;
    if (out === undefined) out = new Float32Array(nsp * size);
    else {
      if (out.length !== nsp * size) throw new RangeError(`encode: out has ${out.length} entries, expected ${nsp}×${size}`);
      out.fill(0);
    }
    checkAtomsCell(this, atoms);
    const pos = atoms.positions, numbers = atoms.numbers;
    for (let i = 0; i < numbers.length; i++) {
      if (Math.abs(pos[3 * i + 2] - this.z) > this.planeTolerance) continue;
      const zi = numbers[i];
      let c = 0;
      while (c < nsp && species[c] !== zi) c++;
      if (c === nsp) {
        throw new InputError(`atom ${i} (Z=${zi}) lies on the grid plane z=${this.z} Å but Z=${zi} is not one of the grid's species [${species.join(', ')}]`);
      }
      const p = this.nearestIndex(pos[3 * i], pos[3 * i + 1]);
      if (p < 0) {
        throw new InputError(`atom ${i} (Z=${zi}) at (${pos[3 * i]}, ${pos[3 * i + 1]}) lies on the grid plane but outside the grid region`);
      }
      out[c * size + p] = 1;
    }
    return out;
  }

  toJSON(): BuildingGridJSON {
    const c = this.cell;
    return {
      cell: [[c[0], c[1], c[2]], [c[3], c[4], c[5]], [c[6], c[7], c[8]]],
      shape: [this.n0, this.n1],
      periodic: [this.periodic[0], this.periodic[1]],
      spacing: [this.spacing[0], this.spacing[1]],
      origin: [this.origin[0], this.origin[1]],
      z: this.z,
      planeTolerance: this.planeTolerance,
    };
  }

  /** Inverse of toJSON (also accepts a hand-written config); bad fields throw InputError naming them. */
  static fromJSON(json: unknown, where = 'grid'): BuildingGrid {
    if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new InputError('expected a grid object', where);
    const o = json as Record<string, unknown>;
    for (const key of ['cell', 'shape', 'periodic', 'z']) {
      if (!(key in o)) throw new InputError(`missing field '${key}'`, where);
    }
    return new BuildingGrid(o as unknown as BuildingGridConfig, where);
  }
}

/** Validates the species list of an encoding: distinct atomic numbers ≥ 1. */
export function checkSpecies(species: readonly number[]): void {
  if (!Array.isArray(species) || species.length === 0) throw new InputError('species must be a non-empty list of atomic numbers');
  for (let c = 0; c < species.length; c++) {
    const z = species[c];
    if (!Number.isInteger(z) || z < 1) throw new InputError(`species[${c}] must be an atomic number ≥ 1, got ${z}`);
    if (species.indexOf(z) !== c) throw new InputError(`species lists Z=${z} twice`);
  }
}

/**
 * Periodic images are taken with the grid's cell; an Atoms whose (non-zero) cell
 * disagrees with it along a periodic axis would be encoded/masked inconsistently.
 */
export function checkAtomsCell(grid: BuildingGrid, atoms: Atoms): void {
  const ac = atoms.cell;
  let any = false;
  for (let k = 0; k < 9; k++) if (ac[k] !== 0) { any = true; break; }
  if (!any) return;
  for (let k = 0; k < 2; k++) {
    if (!grid.periodic[k]) continue;
    for (let j = 0; j < 3; j++) {
      if (Math.abs(ac[3 * k + j] - grid.cell[3 * k + j]) > 1e-6) {
        throw new InputError(`the structure's cell vector ${k === 0 ? 'a' : 'b'} differs from the grid's cell along periodic axis ${k}`);
      }
    }
  }
}

function readCell(cell: CellInput, where: string): Float64Array {
  const out = new Float64Array(9);
  if (cell === null || typeof cell !== 'object' || typeof (cell as ArrayLike<unknown>).length !== 'number') {
    throw new InputError(`field 'cell' must be 3 rows of 3 numbers (Å), got ${JSON.stringify(cell)}`, where);
  }
  if (cell.length === 9 && typeof cell[0] === 'number') {
    for (let k = 0; k < 9; k++) out[k] = (cell as ArrayLike<number>)[k];
  } else if (cell.length === 3) {
    for (let r = 0; r < 3; r++) {
      const row = (cell as ArrayLike<ArrayLike<number>>)[r];
      if (row === null || typeof row !== 'object' || row.length !== 3) {
        throw new InputError(`field 'cell' row ${r} must be 3 numbers, got ${JSON.stringify(row)}`, where);
      }
      for (let j = 0; j < 3; j++) out[3 * r + j] = row[j];
    }
  } else {
    throw new InputError(`field 'cell' must be 3 rows of 3 numbers (Å), got ${JSON.stringify(cell)}`, where);
  }
  for (let k = 0; k < 9; k++) {
    if (typeof out[k] !== 'number' || !Number.isFinite(out[k])) throw new InputError(`field 'cell' must hold finite numbers`, where);
  }
  return out;
}
