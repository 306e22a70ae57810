/**
 * The xtb calculator (issue 5; paper Section IV uses DFT with GPAW for the
 * C3H4O2 molecules — here the semi-empirical tight-binding code xtb by Grimme
 * and co-workers, Debian package `xtb`, 6.5.x, stands in for it).
 *
 * One `xtb` process per evaluation, each in its own temporary directory
 * (xtb writes charges, wbo, xtbtopo.mol, ... into its working directory and
 * reads .CHRG/.UHF/xcontrol files from it), started with `--sp --norestart`:
 *
 *  - molecules (no periodic axis): GFN2-xTB on an XYZ file;
 *  - periodic cells: GFN1-xTB on a Turbomole `coord` file with `$periodic 3`
 *    and `$lattice bohr`. xtb 6.5 accepts periodic input only with GFN1 and
 *    only as a 3D cell, so a non-periodic axis of a 2D sheet (or 1D chain) is
 *    replaced by a direction orthogonal to the periodic ones, long enough for
 *    `vacuum` Å between the periodic images (15 Å by default: measured on a
 *    24-atom graphene cell, the energy changes by < 2 meV from 15 to 30 Å).
 *
 * Energies: the "TOTAL ENERGY … Eh" line of the output summary (12 decimals;
 * the --json file rounds to 8), converted to eV with 1 Eh = 27.211386245988 eV
 * (CODATA 2018, as ASE).
 *
 * Failures become CalculationFailure kinds the agent records as failed
 * evaluations with the worst reward (never a crash):
 *  - SCC not converged (exit 1, "did not converge"): retried once with
 *    `--etemp 3000` (a higher electronic temperature, which fixed isolated
 *    atoms and atoms 0.22 Å apart), then 'not-converged';
 *  - atoms on the same spot (exit 1, "very short distance"): 'invalid-structure';
 *  - past `timeoutMs`: the process is killed, 'timeout';
 *  - xtb not installed: 'backend-missing';
 *  - anything else (other exit codes, no energy in the output): 'crashed'.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Atoms } from '../structure/atoms.js';
import { periodicFrame } from '../structure/bonds.js';
import { symbolOf } from '../structure/elements.js';
import { InputError } from '../util/errors.js';
import { CalculationFailure, type Calculator, type FailureKind } from './calculator.js';

/** 1 Hartree in eV (CODATA 2018, ase.units.Hartree). */
export const HARTREE_EV = 27.211386245988;
/** 1 Bohr in Å (CODATA 2018, ase.units.Bohr). */
export const BOHR_ANGSTROM = 0.529177210903;

export interface XtbOptions {
  /** 'auto' (default): GFN2 for molecules, GFN1 for periodic cells. */
  method?: 'gfn2' | 'gfn1' | 'auto';
  /** OpenMP threads per xtb process (OMP_NUM_THREADS), default 1. */
  threads?: number;
  /** Maximum number of xtb processes at once for this calculator, default 1. */
  concurrency?: number;
  /** Kill an xtb run after this many ms (default 120000); the evaluation fails with 'timeout'. */
  timeoutMs?: number;
  /** Total charge (--chrg), default 0. */
  charge?: number;
  /** Number of unpaired electrons (--uhf), default 0. */
  uhf?: number;
  /** xtb executable, default "xtb" (found on PATH). */
  executable?: string;
  /** Electronic temperature (K) of the one retry after an SCC failure; false: no retry. Default 3000. */
  retryEtemp?: number | false;
  /** Å of vacuum between periodic images along non-periodic axes of a periodic cell, default 15. */
  vacuum?: number;
}

/** Counters of what the calculator did (for run logs). */
export interface XtbStats {
  /** xtb processes started. */
  runs: number;
  /** Evaluations retried with a higher electronic temperature. */
  retries: number;
  /** Evaluations that succeeded only in the retry. */
  rescued: number;
  failures: Partial<Record<FailureKind, number>>;
}

/** What one xtb run needs: the input file and the command-line arguments. */
export interface XtbInput {
  /** File name inside the run directory ("struct.xyz" or "coord"). */
  file: string;
  text: string;
  /** Arguments after the file name. */
  args: string[];
  method: 'gfn1' | 'gfn2';
}

/** Highest element xtb's GFN1/GFN2 parametrisations cover (Rn). */
const XTB_MAX_Z = 86;

export class XtbCalculator implements Calculator {
  readonly name: string;
  readonly stats: XtbStats = { runs: 0, retries: 0, rescued: 0, failures: {} };
  private readonly method: 'gfn2' | 'gfn1' | 'auto';
  private readonly threads: number;
  private readonly concurrency: number;
  private readonly timeoutMs: number;
  private readonly charge: number;
  private readonly uhf: number;
  private readonly executable: string;
  private readonly retryEtemp: number | false;
  private readonly vacuum: number;
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(options: XtbOptions = {}) {
    this.method = options.method ?? 'auto';
    if (!['gfn2', 'gfn1', 'auto'].includes(this.method)) throw new InputError(`xtb method must be gfn2, gfn1 or auto, got '${this.method}'`, 'xtb.method');
    this.threads = positiveInt(options.threads ?? 1, 'xtb.threads');
    this.concurrency = positiveInt(options.concurrency ?? 1, 'xtb.concurrency');
    this.timeoutMs = positiveNumber(options.timeoutMs ?? 120000, 'xtb.timeoutMs');
    this.charge = integer(options.charge ?? 0, 'xtb.charge');
    this.uhf = integer(options.uhf ?? 0, 'xtb.uhf');
    if (this.uhf < 0) throw new InputError(`must be ≥ 0, got ${this.uhf}`, 'xtb.uhf');
    this.executable = options.executable ?? 'xtb';
    this.retryEtemp = options.retryEtemp === undefined ? 3000 : options.retryEtemp;
    if (this.retryEtemp !== false) positiveNumber(this.retryEtemp, 'xtb.retryEtemp');
    this.vacuum = positiveNumber(options.vacuum ?? 15, 'xtb.vacuum');
    this.name = `xtb(${this.method})`;
  }

  /** The input file and arguments xtb gets for `atoms` (exposed so tests and users can reproduce a run). */
  input(atoms: Atoms): XtbInput {
    const n = atoms.length;
    for (let i = 0; i < n; i++) {
      const z = atoms.numbers[i];
      if (!(z >= 1 && z <= XTB_MAX_Z)) throw new InputError(`atom ${i} has atomic number ${z}; xtb covers Z = 1..${XTB_MAX_Z}`, 'xtb');
    }
    const periodic = atoms.pbc[0] || atoms.pbc[1] || atoms.pbc[2];
    let method: 'gfn1' | 'gfn2';
    if (this.method === 'auto') method = periodic ? 'gfn1' : 'gfn2';
    else method = this.method;
    if (periodic && method !== 'gfn1') throw new InputError('xtb 6.5 computes periodic cells only with GFN1: set method gfn1 or auto', 'xtb.method');
    const args = ['--sp', '--norestart', '--gfn', method === 'gfn1' ? '1' : '2', '--chrg', String(this.charge), '--uhf', String(this.uhf)];
    if (!periodic) {
      let text = `${n}\nasla\n`;
      for (let i = 0; i < n; i++) {
        const p = atoms.positions;
        text += `${symbolOf(atoms.numbers[i])} ${p[3 * i].toFixed(12)} ${p[3 * i + 1].toFixed(12)} ${p[3 * i + 2].toFixed(12)}\n`;
      }
      return { file: 'struct.xyz', text, args, method };
    }
    const lattice = this.lattice3d(atoms);
    let text = '$coord\n';
    for (let i = 0; i < n; i++) {
      const p = atoms.positions;
      const f = (x: number): string => (x / BOHR_ANGSTROM).toFixed(12);
      text += `${f(p[3 * i])} ${f(p[3 * i + 1])} ${f(p[3 * i + 2])} ${symbolOf(atoms.numbers[i]).toLowerCase()}\n`;
    }
    text += '$periodic 3\n$lattice bohr\n';
    for (let k = 0; k < 3; k++) {
      const f = (x: number): string => (x / BOHR_ANGSTROM).toFixed(12);
      text += `${f(lattice[3 * k])} ${f(lattice[3 * k + 1])} ${f(lattice[3 * k + 2])}\n`;
    }
    text += '$end\n';
    return { file: 'coord', text, args, method };
  }

  /**
   * The 3D cell given to xtb: periodic cell vectors as they are; each
   * non-periodic axis along a unit direction d orthogonal to the periodic
   * vectors, with length max(|a_k·d|, extent of the atoms along d + vacuum).
   */
  lattice3d(atoms: Atoms): Float64Array {
    const frame = periodicFrame(atoms);
    const out = Float64Array.from(frame.lattice);
    const p = atoms.positions;
    for (let k = 0; k < 3; k++) {
      if (frame.periodic[k]) continue;
      const dx = frame.lattice[3 * k], dy = frame.lattice[3 * k + 1], dz = frame.lattice[3 * k + 2];
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < atoms.length; i++) {
        const s = p[3 * i] * dx + p[3 * i + 1] * dy + p[3 * i + 2] * dz;
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      const extent = atoms.length > 0 ? hi - lo : 0;
      const given = Math.abs(atoms.cell[3 * k] * dx + atoms.cell[3 * k + 1] * dy + atoms.cell[3 * k + 2] * dz);
      const len = Math.max(given, extent + this.vacuum);
      out[3 * k] = dx * len;
      out[3 * k + 1] = dy * len;
      out[3 * k + 2] = dz * len;
    }
    return out;
  }

  async energy(atoms: Atoms, options: { signal?: AbortSignal } = {}): Promise<number> {
    const signal = options.signal;
    if (atoms.length === 0) return this.fail('invalid-structure', 'xtb: structure has no atoms');
    const input = this.input(atoms);
    await this.acquire(signal);
    let dir: string | undefined;
    try {
      dir = await mkdtemp(join(tmpdir(), 'asla-xtb-'));
      await writeFile(join(dir, input.file), input.text);
      let run = await this.run(dir, [input.file, ...input.args], signal);
      if (run.kind === 'not-converged' && this.retryEtemp !== false) {
        this.stats.retries++;
        run = await this.run(dir, [input.file, ...input.args, '--etemp', String(this.retryEtemp)], signal);
        if (run.kind === 'ok') this.stats.rescued++;
      }
      if (run.kind === 'ok') return run.energy * HARTREE_EV;
      return this.fail(run.kind, run.message);
    } finally {
      this.release();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    }
  }

  private fail(kind: FailureKind, message: string): never {
    this.stats.failures[kind] = (this.stats.failures[kind] ?? 0) + 1;
    throw new CalculationFailure(kind, message);
  }

  private async acquire(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    if (this.running < this.concurrency) {
      this.running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const go = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const k = this.waiting.indexOf(go);
        if (k >= 0) this.waiting.splice(k, 1);
        reject(signal?.reason);
      };
      this.waiting.push(go);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    // The releasing evaluation handed its slot over: `running` stays the same.
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
  }

  /** One xtb process; resolves with the energy in Eh or the failure kind. */
  private run(dir: string, args: string[], signal?: AbortSignal): Promise<{ kind: 'ok'; energy: number } | { kind: FailureKind; message: string }> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      this.stats.runs++;
      const env = { ...process.env, OMP_NUM_THREADS: String(this.threads), OMP_MAX_ACTIVE_LEVELS: '1', MKL_NUM_THREADS: String(this.threads), OPENBLAS_NUM_THREADS: String(this.threads) };
      const child = spawn(this.executable, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      let timedOut = false;
      let aborted = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, this.timeoutMs);
      const onAbort = (): void => {
        aborted = true;
        child.kill('SIGKILL');
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      let spawnError: NodeJS.ErrnoException | undefined;
      child.on('error', (e: NodeJS.ErrnoException) => {
        spawnError = e;
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (spawnError) {
          if (spawnError.code === 'ENOENT') {
            resolve({ kind: 'backend-missing', message: `${this.executable} not found: install xtb (Debian package xtb) or set the xtb executable` });
          } else resolve({ kind: 'crashed', message: `${this.executable}: ${spawnError.message}` });
          return;
        }
        if (aborted) {
          reject(signal?.reason ?? new Error('aborted'));
          return;
        }
        if (timedOut) {
          resolve({ kind: 'timeout', message: `xtb killed after ${this.timeoutMs} ms` });
          return;
        }
        resolve(classify(Buffer.concat(out).toString(), Buffer.concat(err).toString(), code, sig));
      });
    });
  }
}

/** Reads an xtb run's output: the last "TOTAL ENERGY … Eh" on success, else the failure kind. */
export function classify(stdout: string, stderr: string, code: number | null, signal: NodeJS.Signals | null = null): { kind: 'ok'; energy: number } | { kind: FailureKind; message: string } {
  const all = `${stdout}\n${stderr}`;
  if (code === 0) {
    const re = /TOTAL ENERGY\s+(-?\d+\.\d+(?:[EeDd][-+]?\d+)?)\s+Eh/g;
    let last: string | undefined;
    for (let m = re.exec(stdout); m !== null; m = re.exec(stdout)) last = m[1];
    if (last !== undefined) {
      const e = Number(last.replace(/[Dd]/, 'e'));
      if (Number.isFinite(e)) return { kind: 'ok', energy: e };
    }
    return { kind: 'crashed', message: 'xtb finished without a TOTAL ENERGY line' };
  }
  const reason = errorLine(all);
  if (/\*?very\*? (short distance|close)/i.test(all)) return { kind: 'invalid-structure', message: `xtb: ${reason}` };
  if (/did not converge|convergence criteria cannot be satisfied/i.test(all)) return { kind: 'not-converged', message: `xtb: ${reason}` };
  return { kind: 'crashed', message: `xtb ${signal ? `killed by ${signal}` : `exit ${code}`}: ${reason}` };
}

/** The most telling line of a failed run: xtb's "-1- …" error message, else the last non-empty line. */
function errorLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  const numbered = lines.filter((l) => /^-\d+-\s/.test(l));
  if (numbered.length > 0) return numbered.map((l) => l.replace(/^-\d+-\s*/, '')).join('; ');
  const nonEmpty = lines.filter((l) => l.length > 0);
  return nonEmpty.length > 0 ? nonEmpty[nonEmpty.length - 1] : 'no output';
}

function positiveInt(v: number, where: string): number {
  if (!Number.isInteger(v) || v < 1) throw new InputError(`must be a positive integer, got ${v}`, where);
  return v;
}

function integer(v: number, where: string): number {
  if (!Number.isInteger(v)) throw new InputError(`must be an integer, got ${v}`, where);
  return v;
}

function positiveNumber(v: number, where: string): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new InputError(`must be a positive number, got ${v}`, where);
  return v;
}
