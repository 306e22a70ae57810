/**
 * Action masks: which grid points the agent may place an atom of a given
 * element on (paper, Methods, "Search policy"): "Atoms cannot be placed within
 * some minimum distance of other atoms (defined as a factor c1 times the average
 * of the involved covalent radii) ... A maximum distance, with factor c2, is
 * used for the C3H4O2 system to avoid excessive placement of isolated atoms".
 *
 * A grid point p is allowed for element Z_new iff
 *  - it is not forbidden (forbidden[p] = 1 removes it, e.g. a void region), and
 *  - no atom j (placed or template, on or off the plane, and every periodic image
 *    along the grid's periodic axes) is closer than c1·(r_cov(Z_new) + r_cov(Z_j))/2
 *    in 3D distance, and
 *  - if c2 is given and there is at least one atom: some atom (or image) is within
 *    c2·(r_cov(Z_new) + r_cov(Z_j))/2 (≤).
 * Periodicity along c (the surface normal) is ignored: the grid is a 2D plane.
 *
 * Speed: instead of testing every grid point against every atom, each atom
 * stamps a disk in grid index space. An atom at height Δz above the plane
 * excludes the in-plane disk of radius R = √(r² − Δz²); in continuous grid
 * coordinates that disk spans at most R·‖row k of S⁻¹‖ indices along axis k,
 * so only that box is visited (unwrapped indices, so periodic images come for
 * free), then wrapped onto the grid.
 */
import type { Atoms } from '../structure/atoms.js';
import { COVALENT_RADII, MAX_Z } from '../structure/elements.js';
import { InputError } from '../util/errors.js';
import { BuildingGrid, checkAtomsCell } from './grid.js';

export interface MaskOptions {
  /** Minimum distance factor (Extended Data Table 1: 0.4–0.65). */
  c1: number;
  /** Maximum distance factor (C3H4O2: 2.5); omitted = no maximum distance. */
  c2?: number;
  /** Length grid.size; 1 = the point is never allowed. */
  forbidden?: Uint8Array;
}

/** Grid point indices of the last disk (may repeat a point when a disk wraps around a short periodic axis). */
let scratch = new Int32Array(1024);

/**
 * Collects into `scratch` the grid points whose 3D distance to (x, y, za) is
 * < r (strict) or ≤ r, over all periodic images; returns how many.
 */
function diskPoints(grid: BuildingGrid, x: number, y: number, za: number, r: number, strict: boolean): number {
  const dz = za - grid.z;
  const dz2 = dz * dz;
  const r2 = r * r;
  const rin2 = r2 - dz2;
  if (strict ? !(rin2 > 0) : !(rin2 >= 0)) return 0;
  const rin = Math.sqrt(rin2);
  const e = grid.step, s = grid.inverseStep;
  const ox = grid.origin[0] - x, oy = grid.origin[1] - y;
  const u0 = -(s[0] * ox + s[1] * oy), u1 = -(s[2] * ox + s[3] * oy);
  const n0 = grid.n0, n1 = grid.n1;
  const p0 = grid.periodic[0], p1 = grid.periodic[1];
  // One index of slack each side; the exact distance test below decides.
  let lo0 = Math.floor(u0 - rin * grid.indexReach[0]) - 1, hi0 = Math.ceil(u0 + rin * grid.indexReach[0]) + 1;
  let lo1 = Math.floor(u1 - rin * grid.indexReach[1]) - 1, hi1 = Math.ceil(u1 + rin * grid.indexReach[1]) + 1;
  if (!p0) { lo0 = Math.max(lo0, 0); hi0 = Math.min(hi0, n0 - 1); }
  if (!p1) { lo1 = Math.max(lo1, 0); hi1 = Math.min(hi1, n1 - 1); }
  if (hi0 < lo0 || hi1 < lo1) return 0;
  const box = (hi0 - lo0 + 1) * (hi1 - lo1 + 1);
  if (scratch.length < box) scratch = new Int32Array(Math.max(box, 2 * scratch.length));
  const buf = scratch;
  let count = 0;
  for (let i0 = lo0; i0 <= hi0; i0++) {
    const w0 = p0 ? ((i0 % n0) + n0) % n0 : i0;
    const qx = ox + i0 * e[0], qy = oy + i0 * e[1];
    const row = w0 * n1;
    for (let i1 = lo1; i1 <= hi1; i1++) {
      const dx = qx + i1 * e[2], dy = qy + i1 * e[3];
      const d2 = dx * dx + dy * dy + dz2;
      if (strict ? d2 < r2 : d2 <= r2) {
        buf[count++] = row + (p1 ? ((i1 % n1) + n1) % n1 : i1);
      }
    }
  }
  return count;
}

function checkElement(z: number, what: string): void {
  if (!Number.isInteger(z) || z < 1 || z > MAX_Z) throw new InputError(`${what}: atomic number ${z} is outside 1..${MAX_Z}`);
}

function checkOptions(grid: BuildingGrid, opts: MaskOptions): void {
  if (opts === null || typeof opts !== 'object') throw new InputError('mask options must be an object with c1 (and optionally c2, forbidden)');
  if (typeof opts.c1 !== 'number' || !Number.isFinite(opts.c1) || opts.c1 < 0) {
    throw new InputError(`field 'c1' must be a non-negative number, got ${JSON.stringify(opts.c1)}`);
  }
  if (opts.c2 !== undefined && (typeof opts.c2 !== 'number' || !Number.isFinite(opts.c2) || !(opts.c2 > opts.c1))) {
    throw new InputError(`field 'c2' must be a number larger than c1=${opts.c1}, got ${JSON.stringify(opts.c2)}`);
  }
  if (opts.forbidden !== undefined && opts.forbidden.length !== grid.size) {
    throw new InputError(`field 'forbidden' has ${opts.forbidden.length} entries for a grid of ${grid.size} points`);
  }
}

function checkAtoms(atoms: Atoms): void {
  const numbers = atoms.numbers;
  for (let i = 0; i < numbers.length; i++) {
    const z = numbers[i];
    if (z < 1 || z > MAX_Z) throw new InputError(`atom ${i}: atomic number ${z} is outside 1..${MAX_Z}`);
  }
}

/**
 * The action mask for placing an atom of element `z` into `atoms`: a Uint8Array
 * of grid.size with 1 = allowed, 0 = not (see the module comment for the rule).
 */
export function allowedMask(grid: BuildingGrid, atoms: Atoms, z: number, opts: MaskOptions, out?: Uint8Array): Uint8Array {
  checkElement(z, 'element to place');
  checkOptions(grid, opts);
  checkAtoms(atoms);
  checkAtomsCell(grid, atoms);
  const size = grid.size;
  if (out === undefined) out = new Uint8Array(size);
  else if (out.length !== size) throw new RangeError(`allowedMask: out has ${out.length} entries, expected ${size}`);
  const forbidden = opts.forbidden;
  if (forbidden) for (let p = 0; p < size; p++) out[p] = forbidden[p] ? 0 : 1;
  else out.fill(1);
  const rNew = COVALENT_RADII[z];
  const pos = atoms.positions, numbers = atoms.numbers, n = numbers.length;
  for (let i = 0; i < n; i++) {
    const count = diskPoints(grid, pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], (opts.c1 * (rNew + COVALENT_RADII[numbers[i]])) / 2, true);
    for (let k = 0; k < count; k++) out[scratch[k]] = 0;
  }
  if (opts.c2 !== undefined && n > 0) {
    const near = new Uint8Array(size);
    for (let i = 0; i < n; i++) {
      const count = diskPoints(grid, pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], (opts.c2 * (rNew + COVALENT_RADII[numbers[i]])) / 2, false);
      for (let k = 0; k < count; k++) near[scratch[k]] = 1;
    }
    for (let p = 0; p < size; p++) out[p] &= near[p];
  }
  return out;
}

/**
 * Incremental update of a mask built WITHOUT c2 (allowedMask with only c1 and
 * forbidden) after one atom of element atomZ was added at (x, y, z): clears the
 * points now too close to it. Returns `mask`. With a maximum distance (c2) a
 * new atom also allows points, which needs per-point state: use PlacementMask.
 */
export function applyAtomToMask(
  grid: BuildingGrid,
  mask: Uint8Array,
  x: number,
  y: number,
  z: number,
  atomZ: number,
  placeZ: number,
  c1: number,
): Uint8Array {
  checkElement(atomZ, 'added atom');
  checkElement(placeZ, 'element to place');
  if (mask.length !== grid.size) throw new RangeError(`applyAtomToMask: mask has ${mask.length} entries, expected ${grid.size}`);
  const count = diskPoints(grid, x, y, z, (c1 * (COVALENT_RADII[placeZ] + COVALENT_RADII[atomZ])) / 2, true);
  for (let k = 0; k < count; k++) mask[scratch[k]] = 0;
  return mask;
}

/**
 * The action mask for one element, kept up to date as atoms are added (one
 * disk stamp per atom), with the c2 maximum distance handled exactly: it keeps
 * which points are blocked (forbidden or too close) and which are near some atom.
 * `allowed` always equals allowedMask(grid, <all atoms added so far>, element, opts).
 */
export class PlacementMask {
  /** 1 = allowed, length grid.size. */
  readonly allowed: Uint8Array;
  private readonly blocked: Uint8Array;
  private readonly near: Uint8Array | null;
  private readonly c1: number;
  private readonly c2: number | undefined;
  private added = 0;

  constructor(readonly grid: BuildingGrid, readonly element: number, opts: MaskOptions) {
    checkElement(element, 'element to place');
    checkOptions(grid, opts);
    this.c1 = opts.c1;
    this.c2 = opts.c2;
    const size = grid.size;
    this.blocked = new Uint8Array(size);
    if (opts.forbidden) for (let p = 0; p < size; p++) this.blocked[p] = opts.forbidden[p] ? 1 : 0;
    this.allowed = new Uint8Array(size);
    for (let p = 0; p < size; p++) this.allowed[p] = 1 - this.blocked[p];
    this.near = opts.c2 === undefined ? null : new Uint8Array(size);
  }

  /** Number of atoms added so far. */
  get atomCount(): number {
    return this.added;
  }

  /** Number of allowed grid points. */
  countAllowed(): number {
    let n = 0;
    for (let p = 0; p < this.allowed.length; p++) n += this.allowed[p];
    return n;
  }

  /** Accounts for one more atom of element atomZ at Cartesian (x, y, z). */
  addAtom(x: number, y: number, z: number, atomZ: number): void {
    checkElement(atomZ, 'added atom');
    const rSum = COVALENT_RADII[this.element] + COVALENT_RADII[atomZ];
    const blocked = this.blocked, allowed = this.allowed;
    let count = diskPoints(this.grid, x, y, z, (this.c1 * rSum) / 2, true);
    for (let k = 0; k < count; k++) {
      const q = scratch[k];
      blocked[q] = 1;
      allowed[q] = 0;
    }
    const near = this.near;
    if (near === null || this.c2 === undefined) {
      this.added++;
      return;
    }
    count = diskPoints(this.grid, x, y, z, (this.c2 * rSum) / 2, false);
    for (let k = 0; k < count; k++) near[scratch[k]] = 1;
    if (this.added === 0) {
      // Before the first atom c2 did not restrict; from now on it does everywhere.
      for (let p = 0; p < allowed.length; p++) allowed[p] = near[p] & (1 - blocked[p]);
    } else {
      for (let k = 0; k < count; k++) {
        const q = scratch[k];
        allowed[q] = 1 - blocked[q];
      }
    }
    this.added++;
  }

  /** Accounts for every atom of `atoms` (e.g. the template at the start of an episode). */
  addAtoms(atoms: Atoms): void {
    checkAtoms(atoms);
    checkAtomsCell(this.grid, atoms);
    const pos = atoms.positions, numbers = atoms.numbers;
    for (let i = 0; i < numbers.length; i++) this.addAtom(pos[3 * i], pos[3 * i + 1], pos[3 * i + 2], numbers[i]);
  }

  /** An independent copy (e.g. of the template's mask, reused every episode). */
  clone(): PlacementMask {
    const m = new PlacementMask(this.grid, this.element, { c1: this.c1, c2: this.c2 });
    m.allowed.set(this.allowed);
    m.blocked.set(this.blocked);
    if (this.near && m.near) m.near.set(this.near);
    m.added = this.added;
    return m;
  }
}
