/**
 * The Tersoff bond-order potential, embedded: the fast calculator that lets
 * ASLA run thousands of episodes without DFT (the paper evaluates structures
 * with GPAW; a classical potential is the cheap stand-in for the graphene
 * problems).
 *
 * Functional form and numerics are exactly LAMMPS's `pair_style tersoff`
 * (src/MANYBODY/pair_tersoff.cpp; J. Tersoff, PRB 37, 6991 (1988) and
 * PRB 39, 5566 (1989)):
 *
 *   E = ½ Σ_i Σ_{j≠i} f_C(r_ij) [ A e^{−λ1 r_ij} − b_ij B e^{−λ2 r_ij} ]
 *   f_C(r) = 1 for r < R−D;  ½ − ½ sin(π/2 (r−R)/D) for |r−R| ≤ D;  0 beyond R+D
 *   b_ij = (1 + (β ζ_ij)^n)^{−1/(2n)}   (with LAMMPS's asymptotic branches for
 *          very small/large βζ, thresholds c1..c4 below)
 *   ζ_ij = Σ_{k≠i,j} f_C(r_ik) g(θ_ijk) exp[(λ3 (r_ij − r_ik))^m]   (m = 3: cubed, m = 1: linear)
 *   g(θ) = γ [1 + c²/d² − c²/(d² + (cosθ0 − cosθ)²)]
 *
 * Parameters per element triplet i j k as in a LAMMPS `.tersoff` file: the
 * two-body terms (A, λ1, B, λ2, β, n, and R, D of f_C(r_ij)) come from the
 * entry "i j j"; the three-body terms (m, γ, λ3, c, d, cosθ0, and R, D of
 * f_C(r_ij)) from "i j k". LAMMPS counts the repulsive term once per pair
 * with the entry of the atom its tag-parity rule picks; so does this code
 * (atom index + 1 = LAMMPS tag), which matters only for files whose "i j j"
 * and "j i i" entries differ in A, λ1, R or D.
 */
import { readFileSync, existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Atoms } from '../structure/atoms.js';
import { isElementSymbol, atomicNumber, symbolOf, MAX_Z } from '../structure/elements.js';
import { NeighborSearch } from '../structure/neighbors.js';
import { InputError } from '../util/errors.js';
import { CalculationFailure, type Calculator } from './calculator.js';

/** One entry "i j k" of a LAMMPS .tersoff file, in the file's order of fields. */
export interface TersoffEntry {
  elements: [string, string, string];
  m: number;
  gamma: number;
  lambda3: number;
  c: number;
  d: number;
  /** cosθ0, called h in LAMMPS. */
  costheta0: number;
  n: number;
  beta: number;
  lambda2: number;
  B: number;
  R: number;
  D: number;
  lambda1: number;
  A: number;
  /** Line in the source file where the entry starts (for error messages). */
  line?: number;
}

export interface TersoffParameters {
  /** File name (or label) the parameters came from; named in errors and in the calculator's name. */
  source: string;
  entries: TersoffEntry[];
}

const FIELDS = ['m', 'gamma', 'lambda3', 'c', 'd', 'costheta0', 'n', 'beta', 'lambda2', 'B', 'R', 'D', 'lambda1', 'A'] as const;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$/;

/**
 * Parses the text of a LAMMPS `.tersoff` file: '#' starts a comment, an entry
 * is 3 element names and 14 numbers and may continue over several lines (as
 * LAMMPS reads it: lines are joined until 17 fields are collected).
 */
export function parseTersoff(text: string, source: string): TersoffParameters {
  const lines = text.split(/\r?\n/);
  const entries: TersoffEntry[] = [];
  let words: string[] = [];
  let startLine = 0;
  for (let ln = 0; ln < lines.length; ln++) {
    const raw = lines[ln];
    const hash = raw.indexOf('#');
    if (hash >= 0) {
      const units = /UNITS:\s*(\S+)/.exec(raw.slice(hash));
      if (units && units[1] !== 'metal') {
        throw new InputError(`units '${units[1]}' are not supported (asla uses LAMMPS metal units: eV, Å)`, `${source}:${ln + 1}`);
      }
    }
    const body = hash >= 0 ? raw.slice(0, hash) : raw;
    const w = body.split(/\s+/).filter((s) => s.length > 0);
    if (w.length === 0) continue;
    if (words.length === 0) startLine = ln + 1;
    words.push(...w);
    if (words.length < 17) continue;
    if (words.length > 17) {
      throw new InputError(
        `expected 17 fields for an entry (3 elements and 14 numbers: m gamma lambda3 c d costheta0 n beta lambda2 B R D lambda1 A), got ${words.length}`,
        `${source}:${startLine}`,
      );
    }
    entries.push(entryFromWords(words, source, startLine));
    words = [];
  }
  if (words.length > 0) {
    throw new InputError(`incomplete entry: ${words.length} of 17 fields before the end of the file`, `${source}:${startLine}`);
  }
  if (entries.length === 0) throw new InputError('no Tersoff entries found', source);
  return { source, entries };
}

function entryFromWords(words: string[], source: string, line: number): TersoffEntry {
  const where = `${source}:${line}`;
  const values: number[] = [];
  for (let f = 0; f < FIELDS.length; f++) {
    const tok = words[3 + f];
    if (!NUMBER.test(tok)) {
      throw new InputError(`field '${FIELDS[f]}' of entry ${words.slice(0, 3).join(' ')}: expected a number, got '${tok}'`, where);
    }
    values.push(Number(tok.replace(/[dD]/, 'e')));
  }
  for (let e = 0; e < 3; e++) {
    if (NUMBER.test(words[e])) throw new InputError(`expected an element name in column ${e + 1}, got '${words[e]}'`, where);
  }
  const entry = { elements: [words[0], words[1], words[2]] } as TersoffEntry;
  FIELDS.forEach((f, k) => {
    entry[f] = values[k];
  });
  entry.line = line;
  checkEntry(entry, where);
  return entry;
}

/** LAMMPS's "Illegal Tersoff parameter" checks, with the field named. */
function checkEntry(e: TersoffEntry, where: string): void {
  const label = e.elements.join(' ');
  const bad = (field: string, why: string) => new InputError(`entry ${label}: field '${field}' ${why}`, where);
  for (const f of FIELDS) if (!Number.isFinite(e[f])) throw bad(f, `is not a finite number (${e[f]})`);
  if (e.m !== 1 && e.m !== 3) throw bad('m', `must be 1 or 3 (LAMMPS), got ${e.m}`);
  for (const f of ['gamma', 'c', 'd', 'n', 'beta', 'lambda2', 'B', 'R', 'D', 'lambda1', 'A'] as const) {
    if (e[f] < 0) throw bad(f, `must not be negative, got ${e[f]}`);
  }
  // g(θ) divides by d²; LAMMPS would produce NaN energies.
  if (!(e.d > 0)) throw bad('d', `must be positive, got ${e.d}`);
  if (e.D > e.R) throw bad('D', `= ${e.D} must not exceed R = ${e.R}`);
}

/** Reads a `.tersoff` file; a bare file name not found as given is looked up in the bundled data/potentials. */
export function readTersoff(path: string): TersoffParameters {
  let file = path;
  if (!existsSync(file) && basename(path) === path && existsSync(bundledPotentialPath(path))) file = bundledPotentialPath(path);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new InputError(`cannot read Tersoff parameter file (${code})`, path);
  }
  return parseTersoff(text, basename(file));
}

let packageRoot: string | undefined;

/**
 * Directory holding asla's package.json, found by walking up from this module
 * (the compiled file runs from dist/src/calculators/, the sources from src/).
 */
export function packageRootDir(): string {
  if (packageRoot) return packageRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'data', 'potentials'))) {
      packageRoot = dir;
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the asla package root (package.json with data/potentials) above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

/** Absolute path of a parameter file shipped in data/potentials (e.g. 'BNC.tersoff'). */
export function bundledPotentialPath(fileName: string): string {
  return resolve(packageRootDir(), 'data', 'potentials', fileName);
}

// Per-entry constants, STRIDE numbers per entry in one Float64Array.
const P_M = 0, P_GAMMA = 1, P_LAM3 = 2, P_C2 = 3, P_D2 = 4, P_H = 5, P_N = 6, P_BETA = 7, P_LAM2 = 8, P_B = 9;
const P_R = 10, P_D = 11, P_LAM1 = 12, P_A = 13, P_CUT = 14, P_CUTSQ = 15, P_C1 = 16, P_C2B = 17, P_C3 = 18, P_C4 = 19;
const P_C2D2 = 20, P_RMD = 21, P_INV2N = 22;
const STRIDE = 23;
const MY_PI2 = Math.PI / 2;

export class TersoffCalculator implements Calculator {
  readonly name: string;
  readonly params: TersoffParameters;
  /** Largest R + D over all entries: the neighbour-list cutoff. */
  readonly cutoff: number;
  private readonly nel: number;
  private readonly elementNames: string[];
  /** Z → element index in the file, −1 if the file has no such element. */
  private readonly elementOfZ: Int32Array;
  /** Entry index of triplet (i, j, k) at (i·nel + j)·nel + k, −1 if missing. */
  private readonly triplet: Int32Array;
  private readonly p: Float64Array;
  private readonly checkedSets = new Set<number | string>();
  private readonly search = new NeighborSearch();
  // Per-pair scratch, reused between calls.
  private ux = new Float64Array(0);
  private uy = new Float64Array(0);
  private uz = new Float64Array(0);
  private type = new Int32Array(0);
  private rsq = new Float64Array(0);
  private elem = new Int32Array(0);

  constructor(params: TersoffParameters) {
    this.params = params;
    this.name = `tersoff(${params.source})`;
    const names: string[] = [];
    for (const e of params.entries) for (const s of e.elements) if (!names.includes(s)) names.push(s);
    this.elementNames = names;
    const nel = names.length;
    this.nel = nel;
    this.elementOfZ = new Int32Array(MAX_Z + 1).fill(-1);
    names.forEach((s, idx) => {
      if (isElementSymbol(s)) this.elementOfZ[atomicNumber(s)] = idx;
    });
    this.triplet = new Int32Array(nel * nel * nel).fill(-1);
    this.p = new Float64Array(STRIDE * params.entries.length);
    let cutoff = 0;
    params.entries.forEach((e, m) => {
      const where = e.line ? `${params.source}:${e.line}` : params.source;
      checkEntry(e, where);
      const [a, b, c] = e.elements.map((s) => names.indexOf(s));
      const t = (a * nel + b) * nel + c;
      if (this.triplet[t] >= 0) {
        const first = params.entries[this.triplet[t]];
        throw new InputError(`duplicate entry ${e.elements.join(' ')}${first.line ? ` (first at line ${first.line})` : ''}`, where);
      }
      this.triplet[t] = m;
      const o = STRIDE * m;
      const P = this.p;
      P[o + P_M] = e.m;
      P[o + P_GAMMA] = e.gamma;
      P[o + P_LAM3] = e.lambda3;
      P[o + P_C2] = e.c * e.c;
      P[o + P_D2] = e.d * e.d;
      P[o + P_H] = e.costheta0;
      P[o + P_N] = e.n;
      P[o + P_BETA] = e.beta;
      P[o + P_LAM2] = e.lambda2;
      P[o + P_B] = e.B;
      P[o + P_R] = e.R;
      P[o + P_D] = e.D;
      P[o + P_LAM1] = e.lambda1;
      P[o + P_A] = e.A;
      P[o + P_CUT] = e.R + e.D;
      P[o + P_CUTSQ] = (e.R + e.D) * (e.R + e.D);
      // LAMMPS PairTersoff::setup(): switch-over points of the asymptotic forms of b_ij.
      P[o + P_C1] = Math.pow(2.0 * e.n * 1.0e-16, -1.0 / e.n);
      P[o + P_C2B] = Math.pow(2.0 * e.n * 1.0e-8, -1.0 / e.n);
      P[o + P_C3] = 1.0 / P[o + P_C2B];
      P[o + P_C4] = 1.0 / P[o + P_C1];
      P[o + P_C2D2] = P[o + P_C2] / P[o + P_D2];
      P[o + P_RMD] = e.R - e.D;
      P[o + P_INV2N] = 1.0 / (2.0 * e.n);
      cutoff = Math.max(cutoff, e.R + e.D);
    });
    this.cutoff = cutoff;
  }

  static fromFile(path: string): TersoffCalculator {
    return new TersoffCalculator(readTersoff(path));
  }

  /** Tersoff 1989 carbon (data/potentials/C.tersoff), asla's default for carbon. */
  static default(): TersoffCalculator {
    return TersoffCalculator.fromFile(bundledPotentialPath('C.tersoff'));
  }

  async energy(atoms: Atoms): Promise<number> {
    return this.energySync(atoms);
  }

  /**
   * Potential energy in eV, synchronously (the agent's and bench's hot path).
   * Throws InputError when the file lacks an entry the structure's elements
   * need, CalculationFailure('invalid-structure') for coincident atoms.
   */
  energySync(atoms: Atoms): number {
    const n = atoms.length;
    if (n === 0) return 0;
    if (this.elem.length < n) this.elem = new Int32Array(n);
    const elem = this.elem;
    this.checkElements(atoms, elem);
    const list = this.search.build(atoms, this.cutoff);
    const np = list.npairs;
    if (this.ux.length < np) {
      const size = Math.max(np, 2 * this.ux.length);
      this.ux = new Float64Array(size);
      this.uy = new Float64Array(size);
      this.uz = new Float64Array(size);
      this.type = new Int32Array(size);
      this.rsq = new Float64Array(size);
    }
    const { offsets, indices, vectors, distances } = list;
    const ux = this.ux;
    const uy = this.uy;
    const uz = this.uz;
    const type = this.type;
    const rsqs = this.rsq;
    const P = this.p;
    const T = this.triplet;
    const nel = this.nel;

    let energy = 0;
    for (let i = 0; i < n; i++) {
      const start = offsets[i];
      const end = offsets[i + 1];
      // Unit vectors and element of each neighbour of i, computed once per pair.
      for (let q = start; q < end; q++) {
        const r = distances[q];
        if (!(r > 0)) {
          throw new CalculationFailure('invalid-structure', `atoms ${i} and ${indices[q]} coincide`);
        }
        const vx = vectors[3 * q];
        const vy = vectors[3 * q + 1];
        const vz = vectors[3 * q + 2];
        const inv = 1 / r;
        ux[q] = vx * inv;
        uy[q] = vy * inv;
        uz[q] = vz * inv;
        // LAMMPS tests cutoffs on the squared length summed from the components.
        rsqs[q] = vx * vx + vy * vy + vz * vz;
        type[q] = elem[indices[q]];
      }
      const rowBase = elem[i] * nel;
      for (let q = start; q < end; q++) {
        const tj = type[q];
        const ijBase = (rowBase + tj) * nel;
        const o = STRIDE * T[ijBase + tj];
        const dx = vectors[3 * q];
        const dy = vectors[3 * q + 1];
        const dz = vectors[3 * q + 2];
        if (rsqs[q] > P[o + P_CUTSQ]) continue;
        const rij = distances[q];
        const fcij = cutoffFunction(P, o, rij);

        // Repulsive term once per pair, from the side LAMMPS picks (PairTersoff::compute:
        // tags i+1, j+1 by parity; an atom's own image by coordinate order), so
        // even files whose "i j j" and "j i i" entries differ give LAMMPS's energy.
        const j = indices[q];
        if (j !== i ? ((i + j) & 1) === (i > j ? 1 : 0) : dz > 0 || (dz === 0 && (dy > 0 || (dy === 0 && dx > 0)))) {
          energy += fcij * P[o + P_A] * Math.exp(-P[o + P_LAM1] * rij);
        }

        // ζ_ij: loop over the other neighbours k of i (LAMMPS PairTersoff::zeta).
        let zeta = 0;
        const uxq = ux[q];
        const uyq = uy[q];
        const uzq = uz[q];
        for (let s = start; s < end; s++) {
          if (s === q) continue;
          const ok = STRIDE * T[ijBase + type[s]];
          if (rsqs[s] > P[ok + P_CUTSQ]) continue;
          const rik = distances[s];
          const costheta = uxq * ux[s] + uyq * uy[s] + uzq * uz[s];
          const hc = P[ok + P_H] - costheta;
          const g = P[ok + P_GAMMA] * (1.0 + P[ok + P_C2D2] - P[ok + P_C2] / (P[ok + P_D2] + hc * hc));
          let term = cutoffFunction(P, ok, rik) * g;
          const lam3 = P[ok + P_LAM3];
          if (lam3 !== 0) {
            let arg = lam3 * (rij - rik);
            if (P[ok + P_M] === 3) arg = arg * arg * arg;
            term *= arg > 69.0776 ? 1e30 : arg < -69.0776 ? 0.0 : Math.exp(arg);
          }
          zeta += term;
        }

        // Attractive term ½ b_ij f_A(r_ij) (LAMMPS force_zeta, ters_fa, ters_bij).
        if (rij > P[o + P_CUT]) continue;
        const fa = -P[o + P_B] * Math.exp(-P[o + P_LAM2] * rij) * fcij;
        energy += 0.5 * bondOrder(P, o, zeta) * fa;
      }
    }
    return energy;
  }

  /** Element index per atom; InputError naming the file and the first missing triplet. */
  private checkElements(atoms: Atoms, elem: Int32Array): void {
    const numbers = atoms.numbers;
    // Set of elements present: a bit mask (files rarely name more than 30 elements), else a string.
    let mask = 0;
    let many = false;
    for (let i = 0; i < numbers.length; i++) {
      const z = numbers[i];
      const e = z >= 0 && z <= MAX_Z ? this.elementOfZ[z] : -1;
      if (e < 0) {
        throw new InputError(`no Tersoff entry for element Z=${z} (needs the triplet ${symbolFor(z)} ${symbolFor(z)} ${symbolFor(z)})`, this.params.source);
      }
      elem[i] = e;
      if (e < 30) mask |= 1 << e;
      else many = true;
    }
    let present: number[];
    let key: number | string = mask;
    if (!many) {
      if (this.checkedSets.has(mask)) return;
      present = [];
      for (let e = 0; e < 30; e++) if (mask & (1 << e)) present.push(e);
    } else {
      present = [...new Set(elem.subarray(0, numbers.length))].sort((a, b) => a - b);
      key = present.join(',');
      if (this.checkedSets.has(key)) return;
    }
    const nel = this.nel;
    for (const a of present) {
      for (const b of present) {
        for (const c of present) {
          if (this.triplet[(a * nel + b) * nel + c] < 0) {
            const names = [a, b, c].map((x) => this.elementNames[x]).join(' ');
            throw new InputError(`missing entry for the element triplet ${names}`, this.params.source);
          }
        }
      }
    }
    this.checkedSets.add(key);
  }
}

function symbolFor(z: number): string {
  return Number.isInteger(z) && z >= 0 && z <= MAX_Z ? symbolOf(z) : `Z${z}`;
}

/** LAMMPS ters_fc: 1 below R−D, ½(1 − sin(π/2 (r−R)/D)) within D of R, 0 beyond R+D. */
function cutoffFunction(P: Float64Array, o: number, r: number): number {
  if (r < P[o + P_RMD]) return 1.0;
  if (r > P[o + P_CUT]) return 0.0;
  return 0.5 * (1.0 - Math.sin((MY_PI2 * (r - P[o + P_R])) / P[o + P_D]));
}

/** LAMMPS ters_bij: b_ij = (1 + (βζ)^n)^(−1/2n), with its asymptotic branches. */
function bondOrder(P: Float64Array, o: number, zeta: number): number {
  const tmp = P[o + P_BETA] * zeta;
  const n = P[o + P_N];
  if (tmp > P[o + P_C1]) return 1.0 / Math.sqrt(tmp);
  if (tmp > P[o + P_C2B]) return (1.0 - Math.pow(tmp, -n) / (2.0 * n)) / Math.sqrt(tmp);
  if (tmp < P[o + P_C4]) return 1.0;
  if (tmp < P[o + P_C3]) return 1.0 - Math.pow(tmp, n) / (2.0 * n);
  // (1 + tmp^n)^(−1/2n) through exp/log: ~2× faster than two Math.pow in V8,
  // equal to LAMMPS's pow form to ~1e-15 relative.
  return Math.exp(-P[o + P_INV2N] * Math.log(1.0 + Math.exp(n * Math.log(tmp))));
}
