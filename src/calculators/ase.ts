/**
 * The ASE bridge: any ASE calculator (GPAW, EMT, LAMMPS, Quantum ESPRESSO,
 * CP2K, …) as an asla Calculator. The paper's energies are PBE single points
 * from GPAW through ASE (Methods "DFT calculations"); this evaluates them in a
 * long-lived Python worker (python/asla_ase_worker.py) so that Python start-up
 * and `import gpaw` (≈1.5 s) are paid once per run, not once per episode.
 *
 * Protocol: JSON lines over the worker's stdin/stdout, one request at a time:
 *   {id, numbers, positions, cell, pbc, vacuum} → {id, energy} | {id, error: {kind, message}}
 * with `kind` one of calculator.ts's FailureKinds.
 *
 * Robustness, because a search runs thousands of evaluations unattended:
 *  - SCF not converged (gpaw.KohnShamConvergenceError) → CalculationFailure('not-converged'),
 *    which the agent records as a failed build and goes on;
 *  - a worker that dies mid-evaluation is restarted and the evaluation retried
 *    once, then CalculationFailure('crashed');
 *  - a per-evaluation timeout kills the worker (its whole process group, so MPI
 *    ranks go too), restarts it lazily at the next evaluation and throws
 *    CalculationFailure('timeout');
 *  - a missing Python, ASE or calculator module is reported by `ready()` /
 *    `AseCalculator.start()` as one InputError line, at start-up rather than at
 *    the first episode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Atoms } from '../structure/atoms.js';
import { InputError } from '../util/errors.js';
import { CalculationFailure, type Calculator, type FailureKind } from './calculator.js';

export interface AseCalculatorOptions {
  /** Import path of the ASE calculator class, e.g. 'gpaw.GPAW' or 'ase.calculators.emt.EMT'. */
  calculator: string;
  /** Keyword arguments for the calculator's constructor (JSON: null → None, arrays → lists). */
  kwargs?: Record<string, unknown>;
  /** Python interpreter; default /usr/bin/python3 (Debian's, which has python3-ase and gpaw). */
  python?: string;
  /** Run the worker as `mpiexec -n K python worker.py …` (GPAW parallelises over the ranks). Default 1: no MPI. */
  mpiProcesses?: number;
  /** The MPI launcher; default 'mpiexec'. */
  mpiexec?: string;
  /** Per-evaluation limit in ms; default 3 600 000 (1 h). 0 or Infinity: no limit. */
  timeoutMs?: number;
  /** Limit for the worker to start and import the calculator, in ms; default 120 000. */
  startTimeoutMs?: number;
  /**
   * Å of vacuum on each side along non-periodic axes whose cell vector is zero
   * (molecules given without a cell); default 6. Axes with a cell vector keep it.
   */
  vacuum?: number;
  /** Extra environment for the worker (e.g. PYTHONPATH, OMP_NUM_THREADS, GPAW_SETUP_PATH). */
  env?: Record<string, string>;
}

/** What the worker reports once Python, ASE and the calculator have imported. */
export interface AseWorkerInfo {
  python: string;
  version: string;
  ase: string;
  calculator: string;
  ranks: number;
}

export const DEFAULT_PYTHON = '/usr/bin/python3';
export const DEFAULT_VACUUM = 6;
export const DEFAULT_TIMEOUT_MS = 3_600_000;
export const DEFAULT_START_TIMEOUT_MS = 120_000;

const FAILURE_KINDS: ReadonlySet<string> = new Set<FailureKind>([
  'not-converged',
  'invalid-structure',
  'backend-missing',
  'timeout',
  'crashed',
]);

/** Why waiting for a worker line ended without a line. */
class WorkerGone extends Error {
  constructor(readonly reason: 'exited' | 'timeout' | 'aborted', message: string) {
    super(message);
  }
}

interface Worker {
  child: ChildProcess;
  /** Lines that arrived while nobody waited (none expected with one request at a time). */
  buffered: string[];
  waiter: ((line: string | WorkerGone) => void) | null;
  exited: boolean;
  /** Set when asla kills it: dead for new requests even before the exit is observed. */
  killed: boolean;
  exitInfo: string;
  /** Set when the program itself could not be started (not found, not executable). */
  spawnError?: string;
  stderrTail: string;
  info?: AseWorkerInfo;
}

/** The folder holding package.json, found by walking up from this file (dist/src/calculators/ once compiled). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`asla: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/** Absolute path of python/asla_ase_worker.py. */
export function workerScript(): string {
  return join(packageRoot(), 'python', 'asla_ase_worker.py');
}

/**
 * Workers still running when Node exits. They would end by themselves at end
 * of input, but only after the evaluation in progress (possibly minutes of
 * GPAW), so an exiting asla kills them.
 */
const liveWorkers = new Set<Worker>();
let exitHookInstalled = false;
function track(w: Worker): void {
  liveWorkers.add(w);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const x of liveWorkers) killGroup(x);
    });
  }
}

const IMPORT_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const STDERR_TAIL = 4000;

export class AseCalculator implements Calculator {
  readonly name: string;
  readonly options: Readonly<Required<Omit<AseCalculatorOptions, 'env'>>> & { env: Record<string, string> };
  private worker: Worker | null = null;
  private chain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private everReady = false;
  private restartCount = 0;

  /** Validates the options (InputError naming the field); the worker starts at `ready()` or the first evaluation. */
  constructor(opts: AseCalculatorOptions) {
    const where = 'ASE calculator options';
    if (typeof opts?.calculator !== 'string' || !IMPORT_PATH.test(opts.calculator)) {
      throw new InputError(
        `field 'calculator' must be a Python import path such as 'ase.calculators.emt.EMT' or 'gpaw.GPAW', got ${JSON.stringify(opts?.calculator)}`,
        where,
      );
    }
    const kwargs = opts.kwargs ?? {};
    if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) {
      throw new InputError(`field 'kwargs' must be a mapping of keyword arguments`, where);
    }
    let kwargsJson: string;
    try {
      kwargsJson = JSON.stringify(kwargs);
    } catch (e) {
      throw new InputError(`field 'kwargs' is not JSON-serialisable: ${(e as Error).message}`, where);
    }
    const mpi = opts.mpiProcesses ?? 1;
    if (!Number.isInteger(mpi) || mpi < 1) throw new InputError(`field 'mpiProcesses' must be a positive integer, got ${mpi}`, where);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!(timeoutMs >= 0)) throw new InputError(`field 'timeoutMs' must be >= 0 (0: no limit), got ${timeoutMs}`, where);
    const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    if (!(startTimeoutMs > 0)) throw new InputError(`field 'startTimeoutMs' must be > 0, got ${startTimeoutMs}`, where);
    const vacuum = opts.vacuum ?? DEFAULT_VACUUM;
    if (!(vacuum >= 0 && Number.isFinite(vacuum))) throw new InputError(`field 'vacuum' must be a finite number >= 0 Å, got ${vacuum}`, where);
    this.options = {
      calculator: opts.calculator,
      kwargs: JSON.parse(kwargsJson) as Record<string, unknown>,
      python: opts.python ?? DEFAULT_PYTHON,
      mpiProcesses: mpi,
      mpiexec: opts.mpiexec ?? 'mpiexec',
      timeoutMs,
      startTimeoutMs,
      vacuum,
      env: { ...(opts.env ?? {}) },
    };
    this.name = `ase(${opts.calculator}${kwargsJson === '{}' ? '' : ' ' + kwargsJson}${mpi > 1 ? ` mpi=${mpi}` : ''})`;
  }

  /** Constructs the calculator and waits until its worker has imported Python, ASE and the calculator. */
  static async start(opts: AseCalculatorOptions): Promise<AseCalculator> {
    const calc = new AseCalculator(opts);
    try {
      await calc.ready();
    } catch (e) {
      await calc.close();
      throw e;
    }
    return calc;
  }

  /**
   * Starts the worker if it is not running and checks that Python, ASE and the
   * named calculator import and accept the kwargs. Throws InputError (one line) otherwise.
   */
  ready(): Promise<AseWorkerInfo> {
    return this.serial(async () => (await this.ensureWorker()).info!);
  }

  /** Process id of the running worker (mpiexec's with MPI), for diagnostics. */
  get pid(): number | undefined {
    const w = this.worker;
    return w && !w.exited && !w.killed ? w.child.pid : undefined;
  }

  /** How many times a worker has been started after the first (crash or timeout recovery). */
  get restarts(): number {
    return this.restartCount;
  }

  energy(atoms: Atoms, options?: { signal?: AbortSignal }): Promise<number> {
    const n = atoms.numbers.length;
    const pos = atoms.positions;
    for (let i = 0; i < 3 * n; i++) {
      if (!Number.isFinite(pos[i])) {
        return Promise.reject(new CalculationFailure('invalid-structure', `atom ${Math.floor(i / 3)} has a non-finite coordinate`));
      }
    }
    const request = {
      id: 0,
      numbers: Array.from(atoms.numbers),
      positions: Array.from(pos),
      cell: Array.from(atoms.cell),
      pbc: atoms.pbc,
      vacuum: this.options.vacuum,
    };
    return this.serial(() => this.evaluateWithRetry(request, options?.signal));
  }

  /** Ends the worker: closes its stdin (it exits at end of input), then kills it if it lingers. */
  close(): Promise<void> {
    return this.serial(async () => {
      const w = this.worker;
      this.worker = null;
      if (!w || w.exited) return;
      const gone = new Promise<void>((resolve) => w.child.once('close', () => resolve()));
      w.child.stdin?.end();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), 5000)));
      if ((await Promise.race([gone, late])) === 'late') {
        killGroup(w);
        await gone;
      }
      clearTimeout(timer);
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async evaluateWithRetry(request: { id: number } & Record<string, unknown>, signal?: AbortSignal): Promise<number> {
    signal?.throwIfAborted();
    for (let attempt = 0; ; attempt++) {
      const w = await this.ensureWorker();
      request.id = this.nextId++;
      let line: string;
      try {
        line = await this.exchange(w, JSON.stringify(request), this.options.timeoutMs, signal);
      } catch (e) {
        if (!(e instanceof WorkerGone)) throw e;
        if (e.reason === 'exited') {
          // With MPI the ranks may outlive a killed mpiexec: end its process group.
          if (this.options.mpiProcesses > 1) killOrphans(w);
          // A worker that dies mid-evaluation (OOM killer, segfault, SIGKILL) is
          // restarted and the evaluation retried once; twice means the structure
          // or the calculator reliably kills it.
          if (attempt === 0) continue;
          throw new CalculationFailure('crashed', `${this.name}: worker died twice on this structure (${w.exitInfo})${stderrNote(w)}`);
        }
        killGroup(w);
        if (e.reason === 'timeout') {
          throw new CalculationFailure('timeout', `${this.name}: no energy within ${this.options.timeoutMs} ms; worker killed, restarts at the next evaluation`);
        }
        throw signal?.reason ?? new Error('aborted');
      }
      let reply: { id?: unknown; energy?: unknown; error?: { kind?: unknown; message?: unknown } };
      try {
        reply = JSON.parse(line);
      } catch {
        killGroup(w);
        throw new CalculationFailure('crashed', `${this.name}: unreadable worker reply ${JSON.stringify(line.slice(0, 200))}`);
      }
      if (reply.id !== request.id) {
        killGroup(w);
        throw new CalculationFailure('crashed', `${this.name}: worker answered request ${String(reply.id)} to request ${request.id}`);
      }
      if (reply.error) {
        const kind = String(reply.error.kind);
        const message = `${this.name}: ${String(reply.error.message)}`;
        throw new CalculationFailure(FAILURE_KINDS.has(kind) ? (kind as FailureKind) : 'crashed', message);
      }
      if (typeof reply.energy !== 'number') {
        throw new CalculationFailure('crashed', `${this.name}: worker reply without energy: ${line.slice(0, 200)}`);
      }
      return reply.energy;
    }
  }

  /** The running worker, or a new one that has reported ready. */
  private async ensureWorker(): Promise<Worker> {
    if (this.worker && !this.worker.exited && !this.worker.killed) return this.worker;
    if (this.worker) this.restartCount++;
    const w = this.spawnWorker();
    this.worker = w;
    const first = await this.waitLine(w, this.options.startTimeoutMs);
    const what = `ASE calculator '${this.options.calculator}'`;
    if (first instanceof WorkerGone) {
      killGroup(w);
      const why = w.spawnError
        ? w.spawnError
        : first.reason === 'timeout'
          ? `python worker did not start within ${this.options.startTimeoutMs} ms`
          : `python worker failed to start (${w.exitInfo})${stderrNote(w)}`;
      // At start-up a worker that cannot start is a configuration problem; on a
      // restart mid-run it is a failed evaluation the run can survive.
      if (this.everReady) throw new CalculationFailure('crashed', `${what}: ${why}`);
      throw new InputError(`${what}: ${why}`);
    }
    let msg: { ready?: boolean; fatal?: { kind?: string; message?: string } } & Partial<AseWorkerInfo>;
    try {
      msg = JSON.parse(first);
    } catch {
      msg = {};
    }
    if (msg.fatal) {
      killGroup(w);
      throw new InputError(String(msg.fatal.message));
    }
    if (!msg.ready) {
      killGroup(w);
      throw new InputError(`${what}: unexpected first line from the python worker: ${first.slice(0, 200)}`);
    }
    w.info = { python: msg.python!, version: msg.version!, ase: msg.ase!, calculator: msg.calculator!, ranks: msg.ranks! };
    this.everReady = true;
    return w;
  }

  private spawnWorker(): Worker {
    const o = this.options;
    const script = workerScript();
    const args = [script, o.calculator, JSON.stringify(o.kwargs)];
    const env: NodeJS.ProcessEnv = { ...process.env, ...o.env };
    let command = o.python;
    let argv = args;
    if (o.mpiProcesses > 1) {
      command = o.mpiexec;
      argv = ['-n', String(o.mpiProcesses), o.python, ...args];
      // Open MPI refuses to run as root unless told twice (containers, CI).
      env.OMPI_ALLOW_RUN_AS_ROOT ??= '1';
      env.OMPI_ALLOW_RUN_AS_ROOT_CONFIRM ??= '1';
    }
    // detached: the worker leads its own process group, so a timeout can kill
    // mpiexec and all its ranks by the group id.
    const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'pipe'], env, detached: true });
    const w: Worker = { child, buffered: [], waiter: null, exited: false, killed: false, exitInfo: '', stderrTail: '' };
    const finish = (info: string) => {
      if (w.exited) return;
      w.exited = true;
      liveWorkers.delete(w);
      w.exitInfo = info;
      const waiter = w.waiter;
      w.waiter = null;
      waiter?.(new WorkerGone('exited', info));
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      const program = o.mpiProcesses > 1 ? `MPI launcher '${command}'` : `python interpreter '${command}'`;
      const hint = o.mpiProcesses > 1 ? ' (Debian: apt-get install openmpi-bin)' : '';
      w.spawnError = err.code === 'ENOENT' ? `${program} not found${hint}` : `${program}: ${err.message}`;
      finish(w.spawnError);
    });
    // 'close', not 'exit': it comes after stdout is drained, so a last line
    // (e.g. the fatal start-up message) is never lost to the exit report.
    child.on('close', (code, sig) => finish(sig ? `killed by ${sig}` : `exit code ${code}`));
    child.stdin!.on('error', () => undefined); // EPIPE after a crash: the 'exit' handler reports it
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      w.stderrTail = (w.stderrTail + s).slice(-STDERR_TAIL);
    });
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      if (!line.trim()) return;
      const waiter = w.waiter;
      if (waiter) {
        w.waiter = null;
        waiter(line);
      } else {
        w.buffered.push(line);
      }
    });
    hold(w, false);
    track(w);
    return w;
  }

  /** Sends one request line and waits for the reply line. */
  private exchange(w: Worker, line: string, timeoutMs: number, signal?: AbortSignal): Promise<string> {
    const reply = this.waitLine(w, timeoutMs, signal);
    if (!w.exited) w.child.stdin!.write(line + '\n');
    return reply.then((r) => {
      if (r instanceof WorkerGone) throw r;
      return r;
    });
  }

  /** The next line from the worker, or why there is none. Keeps Node alive only while waiting. */
  private waitLine(w: Worker, timeoutMs: number, signal?: AbortSignal): Promise<string | WorkerGone> {
    if (w.buffered.length > 0) return Promise.resolve(w.buffered.shift()!);
    if (w.exited) return Promise.resolve(new WorkerGone('exited', w.exitInfo));
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => done(new WorkerGone('aborted', 'aborted'));
      const done = (r: string | WorkerGone) => {
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (w.waiter === done) w.waiter = null;
        hold(w, false);
        resolve(r);
      };
      w.waiter = done;
      hold(w, true);
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        timer = setTimeout(() => done(new WorkerGone('timeout', `timeout after ${timeoutMs} ms`)), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** An idle worker must not keep Node running (it exits by itself at end of input when Node goes). */
function hold(w: Worker, on: boolean): void {
  const c = w.child;
  if (on) c.ref();
  else c.unref();
  for (const s of [c.stdin, c.stdout, c.stderr] as unknown as Array<{ ref?(): void; unref?(): void } | null>) {
    if (on) s?.ref?.();
    else s?.unref?.();
  }
}

/**
 * SIGKILL the worker and everything it started. The worker is spawned detached,
 * so it leads its own session and process group; Open MPI, though, puts each
 * rank in a process group of its own, so on Linux the whole session is killed
 * (every member descends from our worker). Elsewhere the group is killed and
 * the ranks end by themselves once mpiexec is gone (~1 s).
 */
function killGroup(w: Worker): void {
  w.killed = true;
  if (w.exited || w.child.pid === undefined) return;
  killSession(w.child.pid);
}

/** SIGKILL what is left of an exited worker's session (MPI ranks whose mpiexec died). */
function killOrphans(w: Worker): void {
  if (w.child.pid !== undefined) killSession(w.child.pid);
}

function killSession(sid: number): void {
  const members = sessionMembers(sid);
  for (const target of [-sid, ...members]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // ESRCH: already gone
    }
  }
}

/** Ids of the processes in session `sid` other than its leader, from /proc (Linux); [] elsewhere. */
function sessionMembers(sid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const e of entries) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === sid) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue;
    }
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces, so split after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[3]) === sid) out.push(pid);
  }
  return out;
}

function stderrNote(w: Worker): string {
  const lines = w.stderrTail.trim().split('\n').filter((l) => l.trim());
  return lines.length ? `; stderr: ${lines.slice(-3).join(' | ').slice(0, 600)}` : '';
}

/** The paper's problems (Extended Data Table 1). */
export type PaperProblem = 'graphene' | 'graphene-edge' | 'grain-boundary' | 'c3h4o2' | 'ag';

/**
 * GPAW as in the paper (Methods "DFT calculations", Extended Data Table 1):
 * PBE; LCAO with the dzp basis for the graphene systems and the Ag/O surface
 * reconstruction; finite differences (GPAW's default grid spacing, 0.2 Å) for
 * C3H4O2; k-points 1×1 (the Γ point) for the periodic cells, none for the
 * molecule. Spin-paired, GPAW's default occupations: the paper states nothing else.
 *
 * Not in the paper, chosen so a search never stalls (GPAW spent 678 s on
 * isolated atoms here before giving up with its default maxiter 333):
 *  - maxiter 100 SCF iterations (LCAO graphene converges in ~15–30), beyond
 *    which the structure is a 'not-converged' failure;
 *  - timeoutMs per single point, ≥10× the single-core time measured here on a
 *    busy 2-core machine (24-atom graphene LCAO 13–19 s; a 9-atom C3H4O2 in fd
 *    mode 105 s): graphene 600 s, graphene edge 300 s, grain boundary 1200 s,
 *    C3H4O2 (fd) 1200 s, Ag/O 1800 s. Pass more ranks (mpiProcesses) for
 *    bigger cells rather than raising the limit;
 *  - vacuum 6 Å each side for molecules given without a cell, which boxes a
 *    C3H4O2 molecule (≈4 Å across) in ≈16 Å, the paper's 16.0×16.0 Å cell.
 *    Periodic problems bring their 3D cell (vacuum included) and keep it.
 *  - txt: null (no GPAW log).
 */
export function gpawSettings(problem: PaperProblem): AseCalculatorOptions & {
  kwargs: Record<string, unknown>;
  timeoutMs: number;
  vacuum: number;
} {
  const lcao = { mode: 'lcao', basis: 'dzp', xc: 'PBE', kpts: [1, 1, 1], maxiter: 100, txt: null };
  const settings = (kwargs: Record<string, unknown>, timeoutS: number) => ({
    calculator: 'gpaw.GPAW',
    kwargs,
    timeoutMs: timeoutS * 1000,
    vacuum: DEFAULT_VACUUM,
  });
  switch (problem) {
    case 'graphene':
      return settings({ ...lcao }, 600);
    case 'graphene-edge':
      return settings({ ...lcao }, 300);
    case 'grain-boundary':
      return settings({ ...lcao }, 1200);
    case 'c3h4o2':
      return settings({ mode: 'fd', xc: 'PBE', maxiter: 100, txt: null }, 1200);
    case 'ag':
      return settings({ ...lcao }, 1800);
    default:
      throw new InputError(
        `unknown problem ${JSON.stringify(problem)} for GPAW settings (known: graphene, graphene-edge, grain-boundary, c3h4o2, ag)`,
      );
  }
}
