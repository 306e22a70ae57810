/**
 * Molecule identification (issue 5; paper Section IV, Fig. 5b–e count how
 * often each product is built): split a structure into molecules by
 * connectivity (bonded within the sum of covalent radii + 0.2 Å, Methods) and
 * name each one
 *
 *  - always with a built-in canonical connectivity key: the Hill formula and
 *    the edge list of the bond graph in a canonical atom numbering, so that
 *    two molecules get the same key exactly when their bond graphs (with
 *    elements) are isomorphic, whatever the atom order, rotation or position;
 *  - optionally with a canonical SMILES from Open Babel (`obabel`, which
 *    perceives bond orders from the 3D coordinates), when installed.
 *
 * The key ignores bond orders and geometry: cis/trans isomers or conformers
 * share a key. That is what "the same product" means when counting them.
 *
 * Canonical numbering: colour refinement (Morgan's algorithm / 1-dimensional
 * Weisfeiler–Leman, starting from the elements) followed by an exhaustive
 * individualisation–refinement search over the remaining ties (as nauty/bliss
 * do, without automorphism pruning): every leaf of the search tree is a
 * numbering; the numbering whose edge list is lexicographically smallest is
 * canonical. The set of leaves depends only on the graph, so the result is
 * invariant under atom permutations. Refinement keeps cells ordered by
 * element, so canonical positions run through the elements in ascending Z
 * and the formula fixes which element each position holds.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Atoms } from './atoms.js';
import { type BondGraph, bondGraph } from './bonds.js';
import { symbolOf } from './elements.js';

/** One molecule (connected component of the bond graph). */
export interface Molecule {
  /** Indices into the structure, ascending. */
  indices: Int32Array;
  /** Hill formula, e.g. "C3H4O2". */
  formula: string;
  /** Canonical connectivity key, e.g. "CO2:0-1,0-2"; see canonicalKey. */
  key: string;
  /**
   * True when the component bonds to its own periodic image (an infinite
   * chain or sheet, e.g. graphene in its cell) rather than being a finite molecule:
   * found when a cycle of bonds adds up to a lattice translation. Not seen in
   * cells so small that an atom would bond to its own image or twice to the
   * same atom (the bond graph keeps one bond per pair, through the nearest image).
   */
  extended: boolean;
}

/** Connected components: labels[i] = component of atom i, numbered by smallest atom index. */
export function componentLabels(graph: BondGraph): { count: number; labels: Int32Array } {
  const n = graph.n;
  const labels = new Int32Array(n).fill(-1);
  const queue = new Int32Array(n);
  let count = 0;
  for (let s = 0; s < n; s++) {
    if (labels[s] >= 0) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    labels[s] = count;
    while (head < tail) {
      const i = queue[head++];
      for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
        const j = graph.neighbors[e];
        if (labels[j] < 0) {
          labels[j] = count;
          queue[tail++] = j;
        }
      }
    }
    count++;
  }
  return { count, labels };
}

/** Hill formula (C first, H second, the rest alphabetical; all alphabetical without C) of the given atoms. */
export function hillFormula(numbers: ArrayLike<number>, indices?: ArrayLike<number>): string {
  const counts = new Map<number, number>();
  const m = indices ? indices.length : numbers.length;
  for (let k = 0; k < m; k++) {
    const z = numbers[indices ? indices[k] : k];
    counts.set(z, (counts.get(z) ?? 0) + 1);
  }
  const hasC = counts.has(6);
  const entries = [...counts.entries()].map(([z, c]) => [symbolOf(z), c] as const);
  entries.sort((a, b) => {
    const ra = hasC ? (a[0] === 'C' ? 0 : a[0] === 'H' ? 1 : 2) : 2;
    const rb = hasC ? (b[0] === 'C' ? 0 : b[0] === 'H' ? 1 : 2) : 2;
    return ra !== rb ? ra - rb : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
  });
  return entries.map(([s, c]) => (c === 1 ? s : `${s}${c}`)).join('');
}

/** Options for canonicalKey. */
export interface CanonicalOptions {
  /**
   * Maximum number of search-tree leaves before giving up the exhaustive
   * search (highly symmetric large graphs). Then the key is the refinement
   * invariant alone, marked "~": still invariant under atom order but two
   * different graphs may share it. Default 100000 (molecules of ASLA's size
   * need at most a few hundred).
   */
  maxLeaves?: number;
}

/**
 * Canonical connectivity key of the atoms `indices` (one molecule, or any
 * subset) of a structure: "<Hill formula>:<edges>", where edges "a-b" (a < b)
 * are listed in ascending order between canonical positions; positions
 * 0,1,… run through the atoms in ascending atomic number (H before C before O).
 * Example, CO2: "CO2:0-1,0-2" (C at 0, O at 1 and 2).
 */
export function canonicalKey(atoms: Atoms, indices: ArrayLike<number>, graph: BondGraph = bondGraph(atoms), options: CanonicalOptions = {}): string {
  const m = indices.length;
  const formula = hillFormula(atoms.numbers, indices);
  if (m === 0) return ':';
  // Local graph in CSR over positions 0..m-1.
  const local = new Int32Array(graph.n).fill(-1);
  for (let k = 0; k < m; k++) local[indices[k]] = k;
  const deg = new Int32Array(m);
  for (let k = 0; k < m; k++) {
    const i = indices[k];
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) if (local[graph.neighbors[e]] >= 0) deg[k]++;
  }
  const off = new Int32Array(m + 1);
  for (let k = 0; k < m; k++) off[k + 1] = off[k] + deg[k];
  const adj = new Int32Array(off[m]);
  for (let k = 0, p = 0; k < m; k++) {
    const i = indices[k];
    for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
      const l = local[graph.neighbors[e]];
      if (l >= 0) adj[p++] = l;
    }
  }
  const z = new Int32Array(m);
  for (let k = 0; k < m; k++) z[k] = atoms.numbers[indices[k]];
  const result = canonicalEdges(z, off, adj, options.maxLeaves ?? 100000);
  const edges: string[] = [];
  for (let e = 0; e < result.edges.length; e += 2) edges.push(`${result.edges[e]}-${result.edges[e + 1]}`);
  return `${formula}:${result.exact ? '' : '~'}${edges.join(',')}`;
}

/**
 * Colour refinement to the coarsest equitable partition. Colour of a vertex =
 * number of vertices with a strictly smaller signature (old colour, sorted
 * neighbour colours), so a cell of size s occupies colours [c, c+s) and the
 * ordering of cells depends only on the graph.
 */
function refine(colors: Int32Array, off: Int32Array, adj: Int32Array): Int32Array {
  const m = colors.length;
  let cur = colors;
  let ncur = countDistinct(cur);
  // Flat signatures: [colour, degree, sorted neighbour colours...] per vertex.
  const sigOff = new Int32Array(m + 1);
  for (let v = 0; v < m; v++) sigOff[v + 1] = sigOff[v] + 2 + (off[v + 1] - off[v]);
  const sig = new Int32Array(sigOff[m]);
  const order = new Array<number>(m);
  for (;;) {
    for (let v = 0; v < m; v++) {
      const s = sigOff[v];
      sig[s] = cur[v];
      sig[s + 1] = off[v + 1] - off[v];
      for (let e = off[v], p = s + 2; e < off[v + 1]; e++, p++) sig[p] = cur[adj[e]];
      sig.subarray(s + 2, sigOff[v + 1]).sort();
    }
    for (let v = 0; v < m; v++) order[v] = v;
    const cmp = (a: number, b: number): number => {
      const la = sigOff[a + 1] - sigOff[a];
      const lb = sigOff[b + 1] - sigOff[b];
      const l = Math.min(la, lb);
      for (let k = 0; k < l; k++) {
        const d = sig[sigOff[a] + k] - sig[sigOff[b] + k];
        if (d !== 0) return d;
      }
      return la - lb;
    };
    order.sort(cmp);
    const next = new Int32Array(m);
    for (let r = 0; r < m; r++) {
      const v = order[r];
      next[v] = r > 0 && cmp(order[r - 1], v) === 0 ? next[order[r - 1]] : r;
    }
    const nnext = countDistinct(next);
    cur = next;
    if (nnext === ncur) return cur;
    ncur = nnext;
  }
}

function countDistinct(c: Int32Array): number {
  return new Set(c).size;
}

function canonicalEdges(z: Int32Array, off: Int32Array, adj: Int32Array, maxLeaves: number): { edges: Int32Array; exact: boolean } {
  const m = z.length;
  // Initial colours from the elements, in the same "count of smaller" convention.
  const sortedZ = Int32Array.from(z).sort();
  const init = new Int32Array(m);
  for (let v = 0; v < m; v++) {
    let c = 0;
    while (c < m && sortedZ[c] < z[v]) c++;
    init[v] = c;
  }
  let best: Int32Array | null = null;
  let leaves = 0;
  let aborted = false;
  const certificate = (colors: Int32Array): Int32Array => {
    const codes: number[] = [];
    for (let v = 0; v < m; v++) {
      for (let e = off[v]; e < off[v + 1]; e++) {
        const w = adj[e];
        const a = colors[v];
        const b = colors[w];
        if (a < b) codes.push(a * m + b);
      }
    }
    return Int32Array.from(codes).sort();
  };
  const visit = (colors: Int32Array): void => {
    if (aborted) return;
    const c = refine(colors, off, adj);
    // First non-singleton cell (smallest colour shared by ≥ 2 vertices): an invariant choice.
    const size = new Int32Array(m);
    for (let v = 0; v < m; v++) size[c[v]]++;
    let target = -1;
    for (let k = 0; k < m; k++) if (size[k] > 1) { target = k; break; }
    if (target < 0) {
      leaves++;
      const cert = certificate(c);
      if (best === null || lexLess(cert, best)) best = cert;
      if (leaves >= maxLeaves) aborted = true;
      return;
    }
    for (let v = 0; v < m && !aborted; v++) {
      if (c[v] !== target) continue;
      // Individualise v: it keeps colour `target`, the rest of its cell moves to target+1.
      const child = c.slice();
      for (let u = 0; u < m; u++) if (u !== v && c[u] === target) child[u] = target + 1;
      visit(child);
    }
  };
  visit(init);
  if (aborted) {
    // Fall back on the equitable partition alone: edges between cells with multiplicities.
    const c = refine(init, off, adj);
    return { edges: certificateWithTies(c, off, adj), exact: false };
  }
  const cert = best as unknown as Int32Array;
  const edges = new Int32Array(2 * cert.length);
  for (let k = 0; k < cert.length; k++) {
    edges[2 * k] = Math.floor(cert[k] / m);
    edges[2 * k + 1] = cert[k] % m;
  }
  return { edges, exact: true };
}

function certificateWithTies(c: Int32Array, off: Int32Array, adj: Int32Array): Int32Array {
  const m = c.length;
  const codes: number[] = [];
  for (let v = 0; v < m; v++) for (let e = off[v]; e < off[v + 1]; e++) if (v < adj[e]) {
    const a = Math.min(c[v], c[adj[e]]);
    const b = Math.max(c[v], c[adj[e]]);
    codes.push(a * m + b);
  }
  codes.sort((x, y) => x - y);
  const out = new Int32Array(2 * codes.length);
  for (let k = 0; k < codes.length; k++) {
    out[2 * k] = Math.floor(codes[k] / m);
    out[2 * k + 1] = codes[k] % m;
  }
  return out;
}

function lexLess(a: Int32Array, b: Int32Array): boolean {
  const l = Math.min(a.length, b.length);
  for (let k = 0; k < l; k++) if (a[k] !== b[k]) return a[k] < b[k];
  return a.length < b.length;
}

/**
 * Positions of the molecule's atoms made whole across periodic boundaries
 * (following bonds from its first atom), flat 3m, in the order of `indices`.
 * Also reports whether a bond closes a loop through a lattice translation,
 * i.e. the component is extended (infinite) rather than a molecule.
 */
export function unwrapMolecule(atoms: Atoms, indices: ArrayLike<number>, graph: BondGraph): { positions: Float64Array; extended: boolean } {
  const m = indices.length;
  const local = new Int32Array(graph.n).fill(-1);
  for (let k = 0; k < m; k++) local[indices[k]] = k;
  const pos = new Float64Array(3 * m);
  const seen = new Uint8Array(m);
  const queue = new Int32Array(m);
  let extended = false;
  for (let s = 0; s < m; s++) {
    if (seen[s]) continue;
    const i0 = indices[s];
    pos[3 * s] = atoms.positions[3 * i0];
    pos[3 * s + 1] = atoms.positions[3 * i0 + 1];
    pos[3 * s + 2] = atoms.positions[3 * i0 + 2];
    seen[s] = 1;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    while (head < tail) {
      const a = queue[head++];
      const i = indices[a];
      for (let e = graph.offsets[i]; e < graph.offsets[i + 1]; e++) {
        const b = local[graph.neighbors[e]];
        if (b < 0) continue;
        const x = pos[3 * a] + graph.vectors[3 * e];
        const y = pos[3 * a + 1] + graph.vectors[3 * e + 1];
        const zz = pos[3 * a + 2] + graph.vectors[3 * e + 2];
        if (!seen[b]) {
          seen[b] = 1;
          pos[3 * b] = x;
          pos[3 * b + 1] = y;
          pos[3 * b + 2] = zz;
          queue[tail++] = b;
        } else if (Math.abs(pos[3 * b] - x) + Math.abs(pos[3 * b + 1] - y) + Math.abs(pos[3 * b + 2] - zz) > 1e-6) {
          extended = true;
        }
      }
    }
  }
  return { positions: pos, extended };
}

/** Splits a structure into molecules (connected components), ordered by their smallest atom index. */
export function splitMolecules(atoms: Atoms, graph: BondGraph = bondGraph(atoms), options: CanonicalOptions = {}): Molecule[] {
  const { count, labels } = componentLabels(graph);
  const sizes = new Int32Array(count);
  for (let i = 0; i < graph.n; i++) sizes[labels[i]]++;
  const members = Array.from(sizes, (s) => new Int32Array(s));
  const fill = new Int32Array(count);
  for (let i = 0; i < graph.n; i++) members[labels[i]][fill[labels[i]]++] = i;
  const anyPeriodic = atoms.pbc[0] || atoms.pbc[1] || atoms.pbc[2];
  return members.map((indices) => {
    const key = canonicalKey(atoms, indices, graph, options);
    const extended = anyPeriodic ? unwrapMolecule(atoms, indices, graph).extended : false;
    return { indices, formula: hillFormula(atoms.numbers, indices), key: extended ? `${key}[periodic]` : key, extended };
  });
}

/** Sorted multiset of molecule keys joined by " + ": the name of the whole structure (product). */
export function structureKey(atoms: Atoms, graph?: BondGraph): string {
  return splitMolecules(atoms, graph)
    .map((m) => m.key)
    .sort()
    .join(' + ');
}

/** Sorted multiset of molecule formulas joined by " + ", e.g. "C2H4 + CO2". */
export function structureFormula(atoms: Atoms, graph?: BondGraph): string {
  return splitMolecules(atoms, graph)
    .map((m) => m.formula)
    .sort()
    .join(' + ');
}

/** One molecule as its own non-periodic Atoms, made whole across periodic boundaries. */
export function moleculeAtoms(atoms: Atoms, molecule: Molecule, graph: BondGraph = bondGraph(atoms)): Atoms {
  const { positions } = unwrapMolecule(atoms, molecule.indices, graph);
  const numbers = Int32Array.from(molecule.indices, (i) => atoms.numbers[i]);
  return new Atoms({ numbers, positions });
}

// ---------------------------------------------------------------------------
// Open Babel names

export interface OpenBabelOptions {
  /** Path or name of the obabel executable (default "obabel"). */
  executable?: string;
  /** Kill obabel after this many ms (default 60000). */
  timeoutMs?: number;
}

/** Thrown when obabel is missing or fails; `missing` distinguishes the two. */
export class OpenBabelError extends Error {
  constructor(message: string, readonly missing: boolean) {
    super(message);
    this.name = 'OpenBabelError';
  }
}

/**
 * Canonical SMILES of each molecule (same order as `molecules`) from Open
 * Babel (`obabel -ixyz -ocan`), which perceives bonds and bond orders from the
 * 3D coordinates with its own criteria: its bonds can differ from ours in
 * strained structures, so a name may contain "." when Open Babel sees two
 * fragments. Periodic molecules are first made whole; extended ones give a
 * SMILES of the unwrapped cell content, which only describes the cell.
 * One obabel process for all molecules (a multi-frame XYZ file).
 */
export async function canonicalSmiles(atoms: Atoms, molecules: Molecule[] = splitMolecules(atoms), options: OpenBabelOptions = {}): Promise<string[]> {
  if (molecules.length === 0) return [];
  const graph = bondGraph(atoms);
  let xyz = '';
  molecules.forEach((mol, k) => {
    const { positions } = unwrapMolecule(atoms, mol.indices, graph);
    xyz += `${mol.indices.length}\nm${k}\n`;
    for (let a = 0; a < mol.indices.length; a++) {
      xyz += `${symbolOf(atoms.numbers[mol.indices[a]])} ${positions[3 * a].toFixed(10)} ${positions[3 * a + 1].toFixed(10)} ${positions[3 * a + 2].toFixed(10)}\n`;
    }
  });
  const dir = await mkdtemp(join(tmpdir(), 'asla-obabel-'));
  try {
    // obabel reads only the first frame of a multi-frame XYZ from stdin, all of them from a file.
    const file = join(dir, 'molecules.xyz');
    await writeFile(file, xyz);
    const out = await runObabel(options.executable ?? 'obabel', [file, '-ocan'], options.timeoutMs ?? 60000);
    const names = new Array<string>(molecules.length).fill('');
    const found = new Uint8Array(molecules.length);
    for (const line of out.split('\n')) {
      const m = /^(\S*)\s+m(\d+)\s*$/.exec(line);
      if (!m) continue;
      const k = Number(m[2]);
      if (k < molecules.length) {
        names[k] = m[1];
        found[k] = 1;
      }
    }
    const missing = found.indexOf(0);
    if (missing >= 0) throw new OpenBabelError(`obabel gave no SMILES for molecule ${missing} (${molecules[missing].formula})`, false);
    return names;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Sorted SMILES of the structure's molecules joined by "." (a SMILES of the whole product). */
export async function smilesName(atoms: Atoms, options: OpenBabelOptions = {}): Promise<string> {
  return (await canonicalSmiles(atoms, undefined, options)).sort().join('.');
}

/** Canonical SMILES of a SMILES string as Open Babel writes it (`obabel -:SMILES -ocan`), for comparisons. */
export async function canonicalizeSmiles(smiles: string, options: OpenBabelOptions = {}): Promise<string> {
  const out = await runObabel(options.executable ?? 'obabel', [`-:${smiles}`, '-ocan'], options.timeoutMs ?? 60000);
  return out.split('\n')[0].split(/\s/)[0];
}

function runObabel(exe: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(exe, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT') reject(new OpenBabelError(`${exe} not found: install Open Babel (Debian package openbabel)`, true));
      else reject(new OpenBabelError(`${exe}: ${e.message}`, false));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out).toString());
      else {
        const msg = Buffer.concat(err).toString().trim().split('\n').pop() ?? '';
        reject(new OpenBabelError(`${exe} failed (${signal ?? `exit ${code}`}): ${msg}`, false));
      }
    });
  });
}
