/**
 * Ring analysis: shortest-path rings of the bond graph (Franzblau, PRB 44,
 * 4925 (1991); King's criterion), used to recognise what an agent built in the
 * graphene problems — a closed six-membered ring at the nanoribbon edge (paper
 * Fig. 3 inset) and the pentagon–heptagon (5–7) pair of the 13.17° grain
 * boundary (Section III; Zhang et al., Nanoscale 7, 20082 (2015)).
 *
 * A ring is a closed path of bonds, visiting each atom once, whose bond
 * vectors sum to zero (a path that winds around a periodic axis sums to a cell
 * vector and is no ring). It is a shortest-path ring when no two of its atoms
 * are joined by a path through the network shorter than their distance along
 * the ring — the same image of the second atom, i.e. the same displacement.
 * In pristine graphene these are exactly the hexagons; the two rings of a
 * hexagon pair sharing a bond are found, their 10-membered outline is not.
 *
 * Bonds: the paper's connectivity criterion (Methods, "Property function
 * modification"; src/structure/bonds.ts): distance ≤ sum of covalent radii +
 * 0.2 Å, 1.72 Å for C–C, which keeps first neighbours (1.42 Å) and drops
 * second neighbours (2.46 Å) of graphene.
 *
 * Cost: a depth-first walk from every atom over paths of at most `maxSize`
 * bonds (3-coordinated carbon: ≈ 3·2^(maxSize−1) paths per atom), then for each
 * candidate ring a depth-limited search for shortcuts. Cells of ≤ 100 atoms
 * take well under a millisecond per structure.
 * Limitation: a ring holding two periodic images of the same atom (possible
 * only when a cell vector is shorter than the ring) is not found.
 */
import type { Atoms } from './atoms.js';
import { bondGraph, BOND_TOLERANCE, type BondGraph } from './bonds.js';

export interface RingOptions {
  /** Largest ring size searched (default 8). */
  maxSize?: number;
  /** Å added to the covalent radii sum in the bond criterion (default 0.2, Methods). */
  tolerance?: number;
  /** A precomputed bond graph (must be of the same atoms). */
  graph?: BondGraph;
}

export interface RingAnalysis {
  /** Each ring as atom indices in path order, starting from its smallest index. */
  rings: Int32Array[];
  /** counts[k]: number of k-membered shortest-path rings (k ≤ maxSize). */
  counts: Int32Array;
  graph: BondGraph;
}

/** |Δ| below which two displacements name the same periodic image, Å. */
const SAME_IMAGE = 0.5;

/** All shortest-path rings of up to `maxSize` atoms. */
export function shortestPathRings(atoms: Atoms, options: RingOptions = {}): RingAnalysis {
  const maxSize = options.maxSize ?? 8;
  const g = options.graph ?? bondGraph(atoms, options.tolerance ?? BOND_TOLERANCE);
  const n = g.n;
  const { offsets, neighbors: nb, vectors: vec } = g;
  const rings: Int32Array[] = [];
  const counts = new Int32Array(maxSize + 1);
  // path state of the depth-first walk (no per-path allocation)
  const path = new Int32Array(maxSize + 1);
  const px = new Float64Array(maxSize + 1), py = new Float64Array(maxSize + 1), pz = new Float64Array(maxSize + 1);
  const onPath = new Uint8Array(n);
  const seen = new Set<string>();

  const consider = (len: number): void => {
    // each ring is walked in both directions from its smallest atom: keep one
    if (path[1] > path[len - 1]) return;
    const ring = path.slice(0, len);
    const key = ring.join(',');
    if (seen.has(key)) return;
    seen.add(key);
    if (!isShortestPathRing(g, ring, px, py, pz)) return;
    rings.push(ring);
    counts[len]++;
  };

  const walk = (depth: number): void => {
    const s = path[0];
    const v = path[depth - 1];
    for (let e = offsets[v]; e < offsets[v + 1]; e++) {
      const w = nb[e];
      const x = px[depth - 1] + vec[3 * e], y = py[depth - 1] + vec[3 * e + 1], z = pz[depth - 1] + vec[3 * e + 2];
      if (w === s) {
        // closing bond: a ring when ≥ 3 atoms and the displacement returns to zero
        if (depth >= 3 && x * x + y * y + z * z < SAME_IMAGE * SAME_IMAGE) consider(depth);
        continue;
      }
      if (w < s || onPath[w] || depth >= maxSize) continue;
      path[depth] = w;
      px[depth] = x;
      py[depth] = y;
      pz[depth] = z;
      onPath[w] = 1;
      walk(depth + 1);
      onPath[w] = 0;
    }
  };

  for (let s = 0; s < n; s++) {
    path[0] = s;
    px[0] = py[0] = pz[0] = 0;
    onPath[s] = 1;
    walk(1);
    onPath[s] = 0;
  }
  rings.sort((a, b) => a.length - b.length || a[0] - b[0] || a[1] - b[1]);
  return { rings, counts, graph: g };
}

/**
 * King's criterion: no pair of ring atoms is joined by a shorter path than
 * along the ring (to the same periodic image). `px..pz` hold the displacement
 * of each ring atom from ring[0] along the ring.
 */
function isShortestPathRing(g: BondGraph, ring: Int32Array, px: Float64Array, py: Float64Array, pz: Float64Array): boolean {
  const L = ring.length;
  for (let a = 0; a < L; a++) {
    for (let b = a + 2; b < L; b++) {
      const along = Math.min(b - a, L - (b - a));
      if (along < 2) continue;
      const dx = px[b] - px[a], dy = py[b] - py[a], dz = pz[b] - pz[a];
      if (hasPathShorter(g, ring[a], ring[b], dx, dy, dz, along - 1)) return false;
    }
  }
  return true;
}

/** Whether a path of at most `limit` bonds leads from i to the image of j at displacement (dx, dy, dz). */
function hasPathShorter(g: BondGraph, i: number, j: number, dx: number, dy: number, dz: number, limit: number): boolean {
  const { offsets, neighbors: nb, vectors: vec } = g;
  const tol2 = SAME_IMAGE * SAME_IMAGE;
  const go = (v: number, x: number, y: number, z: number, left: number, from: number): boolean => {
    for (let e = offsets[v]; e < offsets[v + 1]; e++) {
      const w = nb[e];
      if (w === from) continue; // stepping back never shortens a path
      const nx = x + vec[3 * e], ny = y + vec[3 * e + 1], nz = z + vec[3 * e + 2];
      if (w === j) {
        const ex = nx - dx, ey = ny - dy, ez = nz - dz;
        if (ex * ex + ey * ey + ez * ez < tol2) return true;
      }
      if (left > 1 && go(w, nx, ny, nz, left - 1, v)) return true;
    }
    return false;
  };
  return go(i, 0, 0, 0, limit, -1);
}

/** Number of shortest-path rings by size: {5: 1, 6: 10, 7: 1}. */
export function ringCounts(atoms: Atoms, options: RingOptions = {}): Record<number, number> {
  const { counts } = shortestPathRings(atoms, options);
  const out: Record<number, number> = {};
  for (let k = 3; k < counts.length; k++) if (counts[k] > 0) out[k] = counts[k];
  return out;
}

/**
 * Pentagon–heptagon pairs: a 5-ring and a 7-ring sharing a bond (both of its
 * atoms), the dislocation core of a graphene tilt grain boundary. Returns the
 * pairs as [index of the 5-ring, index of the 7-ring] into `analysis.rings`.
 */
export function fiveSevenPairs(analysis: RingAnalysis): [number, number][] {
  const out: [number, number][] = [];
  const { rings } = analysis;
  for (let a = 0; a < rings.length; a++) {
    if (rings[a].length !== 5) continue;
    for (let b = 0; b < rings.length; b++) {
      if (rings[b].length !== 7) continue;
      if (sharesBond(rings[a], rings[b])) out.push([a, b]);
    }
  }
  return out;
}

/** Whether two rings share two atoms that are consecutive in both (a bond). */
function sharesBond(r: Int32Array, s: Int32Array): boolean {
  for (let i = 0; i < r.length; i++) {
    const u = r[i], v = r[(i + 1) % r.length];
    const k = s.indexOf(u);
    if (k < 0) continue;
    if (s[(k + 1) % s.length] === v || s[(k - 1 + s.length) % s.length] === v) return true;
  }
  return false;
}

/** Whether the structure holds a 5–7 pair (the grain boundary's defect). */
export function hasFiveSevenDefect(atoms: Atoms, options: RingOptions = {}): boolean {
  return fiveSevenPairs(shortestPathRings(atoms, { ...options, maxSize: Math.max(7, options.maxSize ?? 8) })).length > 0;
}
