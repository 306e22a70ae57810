/**
 * A calculator wrapper that remembers energies of structures it has seen.
 * ASLA's agent rebuilds the same structures many times once its policy has
 * converged (paper, Fig. 2: the trained agent builds graphene episode after
 * episode), and each DFT or even Tersoff call is wasted on a repeat.
 *
 * The key is the exact structure: atomic numbers, the bit patterns of the
 * positions and the cell, and pbc — no rounding, so a cached energy is always
 * the energy the wrapped calculator gives for those very numbers. Failures
 * (CalculationFailure) are remembered too and rethrown with the same kind, so
 * a structure that made DFT fail is not retried. Other errors (InputError,
 * bugs) are not cached. Concurrent requests for the same structure share one
 * evaluation. The cache is a bounded LRU.
 */
import type { Atoms } from '../structure/atoms.js';
import { InputError } from '../util/errors.js';
import { CalculationFailure, type Calculator, type FailureKind } from './calculator.js';

type Entry = { ok: true; energy: number } | { ok: false; kind: FailureKind; message: string };

export interface CacheStats {
  hits: number;
  misses: number;
  size: number;
  maxEntries: number;
}

/** A calculator that also offers a synchronous path (TersoffCalculator). */
interface SyncCalculator extends Calculator {
  energySync(atoms: Atoms): number;
}

export class CachedCalculator implements Calculator {
  readonly name: string;
  readonly maxEntries: number;
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private hits = 0;
  private misses = 0;

  constructor(readonly inner: Calculator, options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(max) || max < 1) throw new InputError(`must be a positive integer, got ${max}`, 'cache.maxEntries');
    this.maxEntries = max;
    this.name = inner.name;
  }

  async energy(atoms: Atoms, options?: { signal?: AbortSignal }): Promise<number> {
    const key = structureKey(atoms);
    const known = this.lookup(key);
    if (known) return unwrap(known);
    let job = this.pending.get(key);
    if (job) {
      this.hits++;
    } else {
      this.misses++;
      job = this.run(atoms, key, options);
      this.pending.set(key, job);
      job.finally(() => this.pending.delete(key)).catch(() => undefined);
    }
    return unwrap(await job);
  }

  /** Synchronous path when the wrapped calculator has one (throws if not). */
  energySync(atoms: Atoms): number {
    const inner = this.inner as Partial<SyncCalculator>;
    if (typeof inner.energySync !== 'function') throw new Error(`${this.inner.name} has no synchronous energy`);
    const key = structureKey(atoms);
    const known = this.lookup(key);
    if (known) return unwrap(known);
    this.misses++;
    let entry: Entry;
    try {
      entry = { ok: true, energy: inner.energySync.call(this.inner, atoms) };
    } catch (e) {
      if (!(e instanceof CalculationFailure)) throw e;
      entry = { ok: false, kind: e.kind, message: e.message };
    }
    this.store(key, entry);
    return unwrap(entry);
  }

  stats(): CacheStats {
    return { hits: this.hits, misses: this.misses, size: this.entries.size, maxEntries: this.maxEntries };
  }

  clear(): void {
    this.entries.clear();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private lookup(key: string): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    this.hits++;
    // Most recently used goes to the end of the Map's insertion order.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private store(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  private async run(atoms: Atoms, key: string, options?: { signal?: AbortSignal }): Promise<Entry> {
    let entry: Entry;
    try {
      entry = { ok: true, energy: await this.inner.energy(atoms, options) };
    } catch (e) {
      if (!(e instanceof CalculationFailure)) throw e;
      entry = { ok: false, kind: e.kind, message: e.message };
    }
    this.store(key, entry);
    return entry;
  }
}

function unwrap(e: Entry): number {
  if (e.ok) return e.energy;
  throw new CalculationFailure(e.kind, e.message);
}

/**
 * Exact key of a structure: the raw bytes of numbers, positions, cell and pbc
 * as a latin1 string (one char per byte, so distinct structures never share a key).
 */
export function structureKey(atoms: Atoms): string {
  const n = atoms.length;
  const bytes = 4 + 4 * n + 8 * 3 * n + 8 * 9 + 1;
  const buf = Buffer.allocUnsafe(bytes);
  let o = buf.writeUInt32LE(n, 0);
  const numbers = atoms.numbers;
  for (let i = 0; i < n; i++) o = buf.writeInt32LE(numbers[i], o);
  const pos = atoms.positions;
  for (let i = 0; i < 3 * n; i++) o = buf.writeDoubleLE(pos[i], o);
  const cell = atoms.cell;
  for (let i = 0; i < 9; i++) o = buf.writeDoubleLE(cell[i], o);
  buf[o] = (atoms.pbc[0] ? 1 : 0) | (atoms.pbc[1] ? 2 : 0) | (atoms.pbc[2] ? 4 : 0);
  return buf.toString('latin1');
}
