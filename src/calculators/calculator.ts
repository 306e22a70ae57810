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
