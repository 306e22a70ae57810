/**
 * Cell math on the 3×3 row-major cell of an Atoms (rows are the cell vectors
 * a, b, c, as in ASE). Positions are row vectors, so
 *
 *   r = f · C   (Cartesian from fractional),   f = r · C⁻¹   (fractional from Cartesian).
 *
 * The rows of (C⁻¹)ᵀ are the reciprocal vectors b_k with a_i · b_k = δ_ik (no 2π),
 * and the perpendicular height of the cell along axis k — the distance between
 * the two faces spanned by the other two vectors — is h_k = 1 / |b_k|. A sphere
 * of radius r_c therefore reaches ⌈r_c / h_k⌉ periodic images along axis k,
 * which is how the neighbour search counts images in cells shorter than the
 * cutoff and in strongly non-orthogonal cells.
 *
 * Along non-periodic axes ASE allows any cell vector, including zero. The
 * neighbour search only needs the periodic vectors, so `periodicFrame` replaces
 * the non-periodic ones by unit vectors orthogonal to the periodic ones; that
 * frame is always invertible when the periodic vectors are independent.
 */
import type { Pbc } from './atoms.js';
import { InputError } from '../util/errors.js';

/** Relative tolerance below which |det C| / (|a||b||c|) counts as a singular cell. */
const SINGULAR_TOLERANCE = 1e-10;

/** Signed volume det(C) of a row-major 3×3 matrix. */
export function determinant(cell: ArrayLike<number>): number {
  const c = cell;
  return c[0] * (c[4] * c[8] - c[5] * c[7]) - c[1] * (c[3] * c[8] - c[5] * c[6]) + c[2] * (c[3] * c[7] - c[4] * c[6]);
}

function rowNorm(c: ArrayLike<number>, k: number): number {
  return Math.hypot(c[3 * k], c[3 * k + 1], c[3 * k + 2]);
}

/**
 * Inverse of the row-major 3×3 cell; throws InputError (field `where`, default
 * "cell") when the cell vectors are (nearly) linearly dependent or one is zero.
 */
export function inverseCell(cell: ArrayLike<number>, out: Float64Array = new Float64Array(9), where = 'cell'): Float64Array {
  const c = cell;
  const det = determinant(c);
  const scale = rowNorm(c, 0) * rowNorm(c, 1) * rowNorm(c, 2);
  if (!(scale > 0) || !(Math.abs(det) > SINGULAR_TOLERANCE * scale)) {
    throw new InputError(
      `singular cell (volume ${det.toPrecision(3)} Å³): the cell vectors must be non-zero and linearly independent`,
      where,
    );
  }
  const inv = 1 / det;
  const m00 = (c[4] * c[8] - c[5] * c[7]) * inv;
  const m01 = (c[2] * c[7] - c[1] * c[8]) * inv;
  const m02 = (c[1] * c[5] - c[2] * c[4]) * inv;
  const m10 = (c[5] * c[6] - c[3] * c[8]) * inv;
  const m11 = (c[0] * c[8] - c[2] * c[6]) * inv;
  const m12 = (c[2] * c[3] - c[0] * c[5]) * inv;
  const m20 = (c[3] * c[7] - c[4] * c[6]) * inv;
  const m21 = (c[1] * c[6] - c[0] * c[7]) * inv;
  const m22 = (c[0] * c[4] - c[1] * c[3]) * inv;
  out[0] = m00; out[1] = m01; out[2] = m02;
  out[3] = m10; out[4] = m11; out[5] = m12;
  out[6] = m20; out[7] = m21; out[8] = m22;
  return out;
}

/** Reciprocal vectors as rows (b_k with a_i · b_k = δ_ik, no factor 2π) = (C⁻¹)ᵀ. */
export function reciprocalCell(cell: ArrayLike<number>, out: Float64Array = new Float64Array(9)): Float64Array {
  const inv = inverseCell(cell);
  for (let i = 0; i < 3; i++) for (let k = 0; k < 3; k++) out[3 * k + i] = inv[3 * i + k];
  return out;
}

/**
 * Perpendicular heights h_k = |det C| / |a_l × a_m| (distance between the faces
 * spanned by the other two vectors); 0 for a singular cell.
 */
export function perpendicularHeights(cell: ArrayLike<number>, out: Float64Array = new Float64Array(3)): Float64Array {
  const vol = Math.abs(determinant(cell));
  for (let k = 0; k < 3; k++) {
    const l = (k + 1) % 3;
    const m = (k + 2) % 3;
    const x = cell[3 * l + 1] * cell[3 * m + 2] - cell[3 * l + 2] * cell[3 * m + 1];
    const y = cell[3 * l + 2] * cell[3 * m] - cell[3 * l] * cell[3 * m + 2];
    const z = cell[3 * l] * cell[3 * m + 1] - cell[3 * l + 1] * cell[3 * m];
    const area = Math.hypot(x, y, z);
    out[k] = area > 0 ? vol / area : 0;
  }
  return out;
}

/** Fractional coordinates f = r · C⁻¹ of flat positions (3N). */
export function cartesianToFractional(
  cell: ArrayLike<number>,
  positions: ArrayLike<number>,
  out: Float64Array = new Float64Array(positions.length),
): Float64Array {
  return applyMatrix(inverseCell(cell), positions, out);
}

/** Cartesian coordinates r = f · C of flat fractional coordinates (3N). */
export function fractionalToCartesian(
  cell: ArrayLike<number>,
  fractional: ArrayLike<number>,
  out: Float64Array = new Float64Array(fractional.length),
): Float64Array {
  return applyMatrix(cell, fractional, out);
}

/** out_i = v_i · M for each row vector v_i of the flat array (in place allowed). */
export function applyMatrix(m: ArrayLike<number>, v: ArrayLike<number>, out: Float64Array): Float64Array {
  const n = v.length / 3;
  for (let i = 0; i < n; i++) {
    const x = v[3 * i];
    const y = v[3 * i + 1];
    const z = v[3 * i + 2];
    out[3 * i] = x * m[0] + y * m[3] + z * m[6];
    out[3 * i + 1] = x * m[1] + y * m[4] + z * m[7];
    out[3 * i + 2] = x * m[2] + y * m[5] + z * m[8];
  }
  return out;
}

/**
 * A cell that equals `cell` along the periodic axes and has unit vectors
 * orthogonal to the periodic ones (and to each other) along the non-periodic
 * axes, so it is invertible whatever the non-periodic vectors are (ASE allows
 * zero vectors there). Throws InputError when a periodic vector is zero or the
 * periodic vectors are linearly dependent.
 */
export function periodicFrame(cell: ArrayLike<number>, pbc: Pbc, out: Float64Array = new Float64Array(9)): Float64Array {
  const periodic: number[] = [];
  const open: number[] = [];
  for (let k = 0; k < 3; k++) (pbc[k] ? periodic : open).push(k);
  for (const k of periodic) {
    if (!(rowNorm(cell, k) > 0)) {
      throw new InputError(`cell vector ${'abc'[k]} is zero although axis ${k} is periodic`, 'cell');
    }
  }
  for (let i = 0; i < 9; i++) out[i] = cell[i];
  if (periodic.length === 3) {
    inverseCell(out); // validates
    return out;
  }
  if (periodic.length === 2) {
    const [p, q] = periodic;
    const k = open[0];
    const x = cell[3 * p + 1] * cell[3 * q + 2] - cell[3 * p + 2] * cell[3 * q + 1];
    const y = cell[3 * p + 2] * cell[3 * q] - cell[3 * p] * cell[3 * q + 2];
    const z = cell[3 * p] * cell[3 * q + 1] - cell[3 * p + 1] * cell[3 * q];
    const nrm = Math.hypot(x, y, z);
    if (!(nrm > SINGULAR_TOLERANCE * rowNorm(cell, p) * rowNorm(cell, q))) {
      throw new InputError(`periodic cell vectors ${'abc'[p]} and ${'abc'[q]} are parallel`, 'cell');
    }
    // Keep the handedness of (p, q, k) as in a right-handed a, b, c.
    const sign = (k === 1 ? -1 : 1);
    out[3 * k] = (sign * x) / nrm;
    out[3 * k + 1] = (sign * y) / nrm;
    out[3 * k + 2] = (sign * z) / nrm;
    return out;
  }
  if (periodic.length === 1) {
    const p = periodic[0];
    const len = rowNorm(cell, p);
    const ux = cell[3 * p] / len;
    const uy = cell[3 * p + 1] / len;
    const uz = cell[3 * p + 2] / len;
    // A unit vector orthogonal to u: cross u with the Cartesian axis least aligned with it.
    const ax = Math.abs(ux) <= Math.abs(uy) && Math.abs(ux) <= Math.abs(uz) ? 0 : Math.abs(uy) <= Math.abs(uz) ? 1 : 2;
    const e = [0, 0, 0];
    e[ax] = 1;
    let vx = uy * e[2] - uz * e[1];
    let vy = uz * e[0] - ux * e[2];
    let vz = ux * e[1] - uy * e[0];
    const vn = Math.hypot(vx, vy, vz);
    vx /= vn; vy /= vn; vz /= vn;
    const wx = uy * vz - uz * vy;
    const wy = uz * vx - ux * vz;
    const wz = ux * vy - uy * vx;
    const [k1, k2] = open;
    out[3 * k1] = vx; out[3 * k1 + 1] = vy; out[3 * k1 + 2] = vz;
    out[3 * k2] = wx; out[3 * k2 + 1] = wy; out[3 * k2 + 2] = wz;
    return out;
  }
  out.fill(0);
  out[0] = 1;
  out[4] = 1;
  out[8] = 1;
  return out;
}

/**
 * Wraps positions into the cell along the periodic axes (fractional coordinate
 * in [0, 1)); along non-periodic axes positions are left as they are.
 * Returns new flat positions unless `out` is given (may be `positions` itself).
 */
export function wrapPositions(
  cell: ArrayLike<number>,
  pbc: Pbc,
  positions: ArrayLike<number>,
  out: Float64Array = new Float64Array(positions.length),
): Float64Array {
  if (!pbc[0] && !pbc[1] && !pbc[2]) {
    if (out !== positions) out.set(positions);
    return out;
  }
  const frame = periodicFrame(cell, pbc);
  const inv = inverseCell(frame);
  const n = positions.length / 3;
  for (let i = 0; i < n; i++) {
    const x = positions[3 * i];
    const y = positions[3 * i + 1];
    const z = positions[3 * i + 2];
    let f0 = x * inv[0] + y * inv[3] + z * inv[6];
    let f1 = x * inv[1] + y * inv[4] + z * inv[7];
    let f2 = x * inv[2] + y * inv[5] + z * inv[8];
    if (pbc[0]) f0 = wrapUnit(f0);
    if (pbc[1]) f1 = wrapUnit(f1);
    if (pbc[2]) f2 = wrapUnit(f2);
    out[3 * i] = f0 * frame[0] + f1 * frame[3] + f2 * frame[6];
    out[3 * i + 1] = f0 * frame[1] + f1 * frame[4] + f2 * frame[7];
    out[3 * i + 2] = f0 * frame[2] + f1 * frame[5] + f2 * frame[8];
  }
  return out;
}

/** f − ⌊f⌋ in [0, 1) (rounding can give exactly 1 for tiny negative f; fold that to 0). */
export function wrapUnit(f: number): number {
  const w = f - Math.floor(f);
  return w >= 1 ? 0 : w;
}
