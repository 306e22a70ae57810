/**
 * Bag-of-bonds representation (K. Hansen, F. Biegler, R. Ramakrishnan,
 * W. Pronobis, O. A. von Lilienfeld, K.-R. Müller, A. Tkatchenko,
 * J. Phys. Chem. Lett. 6, 2326 (2015)), used to tell final structures apart
 * in the punishment of repeated structures (paper, Methods, eq. 4:
 * A·exp(−|s − s_m|² / 2σ²), with |s − s_m| = bobDistance).
 *
 * The Coulomb-matrix entries Z_i Z_j / r_ij (i < j) go into one "bag" per
 * element pair (C–C, C–H, ...), each bag sorted in descending order and
 * zero-padded to a length fixed by the stoichiometry; the diagonal terms
 * 0.5 Z_i^2.4 form one bag per element. Sorting makes the vector invariant
 * under atom permutations; fixed bag lengths make vectors of structures with
 * the same stoichiometry comparable entry by entry.
 *
 * Units: r_ij in Å (as DScribe and the qml package take coordinates), so
 * entries are in e²/Å. Along periodic axes r_ij is the minimum-image
 * distance (bag of bonds is defined for molecules; this keeps periodic cells
 * usable with a vector of the same length).
 */
import type { Atoms } from './atoms.js';
import { minimumImage, periodicFrame } from './bonds.js';
import { symbolOf } from './elements.js';
import { InputError } from '../util/errors.js';

export interface Bag {
  /** Element pair, z1 ≤ z2. */
  z1: number;
  z2: number;
  /** True for the bag of diagonal terms 0.5 Z^2.4 of element z1 (= z2). */
  diagonal: boolean;
  /** Start of the bag in the vector and its (padded) length. */
  offset: number;
  size: number;
}

/** Fixed bag sizes for a stoichiometry: the vector layout. */
export interface BagLayout {
  /** Elements in ascending Z, and the maximum count of each. */
  elements: Int32Array;
  counts: Int32Array;
  /** Per element the diagonal bag, then the pair bags (z1 ≤ z2) in ascending order. */
  bags: Bag[];
  /** Vector length. */
  length: number;
}

/**
 * The layout for a stoichiometry, given as Z → count (e.g. {6: 3, 1: 4, 8: 2}
 * for C3H4O2) or as a list of atomic numbers (e.g. atoms.numbers).
 * Bags: for each element Z with count n, a diagonal bag of n; for Z1 < Z2 a bag
 * of n1·n2; for Z1 = Z2 a bag of n(n−1)/2.
 */
export function bagLayout(stoichiometry: Record<number, number> | ArrayLike<number>): BagLayout {
  const counts = new Map<number, number>();
  if (isNumberList(stoichiometry)) {
    for (let k = 0; k < stoichiometry.length; k++) counts.set(stoichiometry[k], (counts.get(stoichiometry[k]) ?? 0) + 1);
  } else {
    for (const [z, c] of Object.entries(stoichiometry)) {
      const zn = Number(z);
      if (!Number.isInteger(zn) || zn < 1) throw new InputError(`bag-of-bonds stoichiometry: '${z}' is not an atomic number`);
      if (!Number.isInteger(c) || c < 0) throw new InputError(`bag-of-bonds stoichiometry: count of Z=${z} must be a non-negative integer, got ${c}`);
      if (c > 0) counts.set(zn, c);
    }
  }
  const elements = Int32Array.from([...counts.keys()]).sort();
  const cnt = Int32Array.from(elements, (z) => counts.get(z) as number);
  const bags: Bag[] = [];
  let offset = 0;
  for (let a = 0; a < elements.length; a++) {
    bags.push({ z1: elements[a], z2: elements[a], diagonal: true, offset, size: cnt[a] });
    offset += cnt[a];
  }
  for (let a = 0; a < elements.length; a++) {
    for (let b = a; b < elements.length; b++) {
      const size = a === b ? (cnt[a] * (cnt[a] - 1)) / 2 : cnt[a] * cnt[b];
      bags.push({ z1: elements[a], z2: elements[b], diagonal: false, offset, size });
      offset += size;
    }
  }
  return { elements, counts: cnt, bags, length: offset };
}

function isNumberList(s: Record<number, number> | ArrayLike<number>): s is ArrayLike<number> {
  return ArrayBuffer.isView(s) || Array.isArray(s);
}

/**
 * The bag-of-bonds vector of a structure. `layout` defaults to the
 * structure's own stoichiometry; a structure with fewer atoms of an element
 * than the layout gets zero padding, one with more (or an element the layout
 * lacks) is an InputError.
 */
export function bagOfBonds(atoms: Atoms, layout: BagLayout = bagLayout(atoms.numbers)): Float64Array {
  const n = atoms.length;
  const Z = atoms.numbers;
  const ne = layout.elements.length;
  // Element slot of each atom (index into layout.elements).
  const slot = new Int32Array(n);
  const seen = new Int32Array(ne);
  for (let i = 0; i < n; i++) {
    let s = -1;
    for (let a = 0; a < ne; a++) if (layout.elements[a] === Z[i]) s = a;
    if (s < 0) throw new InputError(`bag of bonds: element ${symbolOf(Z[i])} (atom ${i}) is not in the layout's stoichiometry`);
    if (++seen[s] > layout.counts[s]) throw new InputError(`bag of bonds: more than ${layout.counts[s]} ${symbolOf(Z[i])} atoms, the layout's count`);
    slot[i] = s;
  }
  // Bag index of the element pair (a, b), a ≤ b, and of the diagonal of a.
  const pairBag = new Int32Array(ne * ne);
  for (let k = 0; k < layout.bags.length; k++) {
    const bag = layout.bags[k];
    if (bag.diagonal) continue;
    const a = layout.elements.indexOf(bag.z1);
    const b = layout.elements.indexOf(bag.z2);
    pairBag[a * ne + b] = k;
    pairBag[b * ne + a] = k;
  }
  const out = new Float64Array(layout.length);
  const fill = new Int32Array(layout.bags.length);
  for (let i = 0; i < n; i++) {
    const bag = layout.bags[slot[i]]; // diagonal bags come first, in element order
    out[bag.offset + fill[slot[i]]++] = 0.5 * Math.pow(Z[i], 2.4);
  }
  const frame = periodicFrame(atoms);
  const d = new Float64Array(3);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const r = minimumImage(atoms, frame, i, j, d);
      if (!(r > 0)) throw new InputError(`bag of bonds: atoms ${i} and ${j} are on the same spot`);
      const k = pairBag[slot[i] * ne + slot[j]];
      out[layout.bags[k].offset + fill[k]++] = (Z[i] * Z[j]) / r;
    }
  }
  // Sort each bag descending; the zero padding ends up at the end (entries are positive).
  for (const bag of layout.bags) {
    const view = out.subarray(bag.offset, bag.offset + bag.size);
    view.sort();
    view.reverse();
  }
  return out;
}

/** Euclidean distance |s − s'| between two bag-of-bonds vectors of the same layout. */
export function bobDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`bag-of-bonds vectors of different lengths (${a.length} and ${b.length}): use one layout`);
  let s = 0;
  for (let k = 0; k < a.length; k++) {
    const d = a[k] - b[k];
    s += d * d;
  }
  return Math.sqrt(s);
}
