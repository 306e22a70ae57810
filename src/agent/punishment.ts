/**
 * Exploration via punishment (Methods eq. 4): when the agent keeps building the
 * same structure it is stuck, so that structure is punished: every property
 * gets A·exp(−|s − s_m|²/2σ²) added for each punished structure s_m, with
 * |s − s_m| the bag-of-bonds distance (Hansen et al. 2015).
 *
 * Definitions the paper leaves open (configurable, documented in the README):
 *  - "the same structure": bag-of-bonds distance below `sameDistance` (e²/Å);
 *    bag of bonds is invariant to atom order, translation and rotation, so the
 *    same structure built in another order or place counts as the same;
 *  - "keeps building": a structure built at least `repeats` times within the
 *    last `window` episodes becomes punished (once);
 *  - A is `amplitude` eV per atom of the structure.
 * Properties of episodes already in the replay buffer are updated when a
 * structure becomes punished, so a repeated state-action pair cannot keep its
 * old, unpunished best property.
 */
import type { Atoms } from '../structure/atoms.js';
import { bagLayout, bagOfBonds, bobDistance, type BagLayout } from '../structure/bagofbonds.js';

export interface PunishmentConfig {
  enabled: boolean;
  /** A, eV per atom of the structure. */
  amplitude: number;
  /** σ, bag-of-bonds distance units (e²/Å). */
  sigma: number;
  /** Bag-of-bonds distance below which two structures are the same. */
  sameDistance: number;
  repeats: number;
  window: number;
}

export class Punishment {
  private readonly layout: BagLayout;
  /** Bag of bonds of each episode's final structure (null: failed build). */
  private readonly bobs: (Float64Array | null)[] = [];
  /** Episodes whose structures are punished (s_m), in the order they were punished. */
  readonly punished: number[] = [];

  constructor(readonly config: PunishmentConfig, numbers: ArrayLike<number>, private readonly atoms: number) {
    this.layout = bagLayout(numbers);
  }

  /** The punishment term of a structure's bag of bonds against all punished structures, eV. */
  term(bob: Float64Array | null): number {
    if (!bob) return 0;
    const a = this.config.amplitude * this.atoms;
    const twoSigma2 = 2 * this.config.sigma * this.config.sigma;
    let sum = 0;
    for (const m of this.punished) {
      const d = bobDistance(bob, this.bobs[m]!);
      sum += a * Math.exp((-d * d) / twoSigma2);
    }
    return sum;
  }

  /**
   * Records episode e's final structure (null when it failed) and decides
   * whether it is now punished. Returns true when a new structure became
   * punished: the caller then recomputes every episode's property.
   */
  observe(e: number, structure: Atoms | null): boolean {
    const bob = this.record(e, structure);
    if (!bob || !this.config.enabled) return false;
    const same = this.config.sameDistance;
    for (const m of this.punished) if (bobDistance(bob, this.bobs[m]!) < same) return false;
    let count = 0;
    for (let k = Math.max(0, e - this.config.window + 1); k <= e; k++) {
      const other = this.bobs[k];
      if (other && bobDistance(bob, other) < same) count++;
    }
    if (count < this.config.repeats) return false;
    this.punished.push(e);
    return true;
  }

  /** Stores episode e's bag of bonds without deciding anything (also used on resume). */
  record(e: number, structure: Atoms | null): Float64Array | null {
    const bob = structure && this.config.enabled ? bagOfBonds(structure, this.layout) : null;
    this.bobs[e] = bob;
    return bob;
  }

  /** The punished property of episode e given its raw property. */
  property(e: number, raw: number): number {
    return Number.isFinite(raw) ? raw + this.term(this.bobs[e] ?? null) : raw;
  }

  /** Restores the punished list after the episodes were observed again (resume). */
  restorePunished(list: number[]): void {
    this.punished.length = 0;
    this.punished.push(...list);
  }
}
