/**
 * The calculator protocol: one async method, structure in, energy in eV out
 * (ASE's `get_potential_energy` reduced to what ASLA needs: the property P of
 * a final structure, Methods "Evaluation phase"). A calculator that cannot give
 * an energy throws a CalculationFailure whose `kind` callers record; the agent
 * turns it into the worst reward and goes on.
 */
import type { Atoms } from '../structure/atoms.js';

export type FailureKind = 'not-converged' | 'invalid-structure' | 'backend-missing' | 'timeout' | 'crashed';

export class CalculationFailure extends Error {
  constructor(readonly kind: FailureKind, message: string) {
    super(message);
    this.name = 'CalculationFailure';
  }
}

export interface Calculator {
  /** Short name recorded in run logs, e.g. "tersoff(SiC.tersoff)". */
  readonly name: string;
  /** Potential energy of the structure in eV. Throws CalculationFailure. */
  energy(atoms: Atoms, options?: { signal?: AbortSignal }): Promise<number>;
  /** Releases worker processes, if any. */
  close?(): Promise<void>;
}

export type Evaluation = { ok: true; energy: number } | { ok: false; kind: FailureKind; message: string };

/** Runs a calculator and turns its failure (or a non-finite energy) into a record instead of a throw. */
export async function evaluate(calc: Calculator, atoms: Atoms, options?: { signal?: AbortSignal }): Promise<Evaluation> {
  try {
    const energy = await calc.energy(atoms, options);
    if (!Number.isFinite(energy)) return { ok: false, kind: 'crashed', message: `non-finite energy ${energy}` };
    return { ok: true, energy };
  } catch (e) {
    if (e instanceof CalculationFailure) return { ok: false, kind: e.kind, message: e.message };
    throw e;
  }
}

/**
 * A generic timeout for any calculator (config `calculator.timeoutMs`): when no
 * energy comes within `timeoutMs`, the evaluation fails as 'timeout' and the
 * wrapped calculator's signal is aborted so it can stop its work. External
 * calculators (xtb, ASE) also kill their process on their own timeouts; this
 * one covers calculators that wait on something that never answers. A purely
 * synchronous in-process calculator (Tersoff) blocks the event loop and cannot
 * be cut; it is O(N) and does not hang.
 */
export class TimeoutCalculator implements Calculator {
  readonly name: string;
  constructor(readonly inner: Calculator, readonly timeoutMs: number) {
    if (!(timeoutMs > 0)) throw new RangeError(`TimeoutCalculator: timeoutMs must be > 0, got ${timeoutMs}`);
    this.name = inner.name;
  }

  energy(atoms: Atoms, options?: { signal?: AbortSignal }): Promise<number> {
    const controller = new AbortController();
    const outer = options?.signal;
    return new Promise<number>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        outer?.removeEventListener('abort', forward);
      };
      const forward = () => controller.abort(outer?.reason);
      const timer = setTimeout(() => {
        done();
        reject(new CalculationFailure('timeout', `no energy within ${this.timeoutMs} ms`));
        controller.abort(new Error('timeout'));
      }, this.timeoutMs);
      if (outer?.aborted) forward();
      else outer?.addEventListener('abort', forward, { once: true });
      this.inner.energy(atoms, { ...options, signal: controller.signal }).then(
        (e) => {
          done();
          resolve(e);
        },
        (e: unknown) => {
          done();
          reject(e);
        },
      );
    });
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
