/**
 * A test calculator that wraps another and injects the failures real
 * calculators have on a cluster (issue 11, "Faults"): a DFT code that stops
 * with an error (SCF not converged), one that hangs, one whose process dies
 * (segfault, OOM killer), and one that returns garbage (NaN). The run must
 * record each as a failed evaluation (worst reward, paper Methods
 * "Evaluation phase") and go on.
 *
 * Which structures fail is decided by a hash of the exact structure (its
 * atomic numbers, position and cell bits, pbc — the cache's key) and the seed,
 * not by a random sequence: the same structure fails the same way every time,
 * in whichever order the structures come. So a killed and resumed run (whose
 * calculator cache starts empty) sees exactly the failures an uninterrupted one
 * sees, and an injected rate r fails a fraction r of distinct structures.
 *
 *   throw  CalculationFailure 'not-converged' (a DFT code's SCF failure)
 *   hang   never answers; only an abort signal ends it, as a 'timeout' failure
 *          (set `calculator.timeoutMs` in the config: src/calculators/calculator.ts TimeoutCalculator)
 *   crash  runs a child process that is killed by SIGKILL, reported 'crashed'
 *          (what the xtb and ASE wrappers report when their process dies)
 *   nan    returns NaN (evaluate() turns a non-finite energy into 'crashed')
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { Atoms } from '../structure/atoms.js';
import { CalculationFailure, type Calculator } from './calculator.js';
import { structureKey } from './cache.js';

export const FAULT_KINDS = ['throw', 'hang', 'crash', 'nan'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultyOptions {
  inner: Calculator;
  /** Fraction of distinct structures that fail, 0…1. */
  rate: number;
  /** Fault kinds, chosen among equally (default: all four). */
  kinds?: readonly FaultKind[];
  seed?: number;
  /** Extra wait before every evaluation, ms (makes evaluation a phase a kill can land in). */
  delayMs?: number;
}

export class FaultyCalculator implements Calculator {
  readonly name: string;
  readonly rate: number;
  readonly kinds: readonly FaultKind[];
  readonly seed: number;
  readonly delayMs: number;
  /** Faults injected so far, by kind (cache hits of a caching wrapper do not come here). */
  readonly injected: Record<FaultKind, number> = { throw: 0, hang: 0, crash: 0, nan: 0 };
  calls = 0;

  constructor(readonly inner: Calculator, opts: Omit<FaultyOptions, 'inner'>) {
    if (!(opts.rate >= 0 && opts.rate <= 1)) throw new RangeError(`FaultyCalculator: rate must lie in [0, 1], got ${opts.rate}`);
    this.rate = opts.rate;
    this.kinds = opts.kinds && opts.kinds.length > 0 ? [...opts.kinds] : FAULT_KINDS;
    for (const k of this.kinds) if (!FAULT_KINDS.includes(k)) throw new RangeError(`FaultyCalculator: unknown fault kind '${k}'`);
    this.seed = opts.seed ?? 0;
    this.delayMs = opts.delayMs ?? 0;
    this.name = `faulty(${inner.name}, rate ${this.rate})`;
  }

  /** The fault this structure gets, or null: a uniform number in [0, 1) from SHA-256(seed, structure). */
  faultOf(atoms: Atoms): FaultKind | null {
    if (this.rate === 0) return null;
    const h = createHash('sha256').update(`${this.seed}:`).update(structureKey(atoms), 'latin1').digest();
    const u = h.readUInt32LE(0) / 2 ** 32;
    if (u >= this.rate) return null;
    return this.kinds[Math.min(this.kinds.length - 1, Math.floor((u / this.rate) * this.kinds.length))];
  }

  async energy(atoms: Atoms, options?: { signal?: AbortSignal }): Promise<number> {
    this.calls++;
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    const fault = this.faultOf(atoms);
    if (fault === null) return this.inner.energy(atoms, options);
    this.injected[fault]++;
    switch (fault) {
      case 'throw':
        throw new CalculationFailure('not-converged', 'injected fault: SCF did not converge');
      case 'nan':
        return NaN;
      case 'crash':
        return crashChild();
      case 'hang':
        return hang(options?.signal);
    }
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}

/** A child process that dies by SIGKILL, reported as the calculator wrappers report a dead process. */
function crashChild(): Promise<number> {
  return new Promise((_, reject) => {
    const child = spawn('/bin/sh', ['-c', 'kill -KILL $$'], { stdio: 'ignore' });
    child.on('error', (e) => reject(new CalculationFailure('crashed', `injected fault: ${e.message}`)));
    child.on('close', (code, signal) =>
      // no pid in the message: a resumed run must log exactly what an uninterrupted one logs
      reject(new CalculationFailure('crashed', `injected fault: calculator process ${signal ? `killed by ${signal}` : `exit ${code}`}`)),
    );
  });
}

/** Never answers; an abort (the run's timeout) ends it as a 'timeout' failure. */
function hang(signal?: AbortSignal): Promise<number> {
  return new Promise((_, reject) => {
    const stop = () => reject(new CalculationFailure('timeout', 'injected fault: hung until aborted'));
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop, { once: true });
  });
}
