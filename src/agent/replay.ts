/**
 * The replay buffer (Methods "Neural network training"). Every episode step
 * (s_t, a_t, P) is kept, stored compactly: an episode is its action list (the
 * states are rebuilt from the template and the first t actions when a batch
 * needs them) plus its property, so memory grows by ~100 bytes per episode and
 * the buffer can hold every episode of a long run.
 *
 * "If any state-action pair appears multiple times in the replay buffer, only
 * the episode step with the property that leads to the highest reward may be
 * extracted": state-action pairs are identified by a Zobrist hash of the set of
 * placed atoms (order-independent, like the state itself) and the action, and
 * the buffer remembers the best property seen for each.
 */
import { Rng } from '../util/rng.js';

export interface BatchStep {
  episode: number;
  step: number;
  /** The best property of this state-action pair over the whole buffer. */
  property: number;
  key: number;
}

export interface ReplaySnapshot {
  actions: Int32Array;
  offsets: Int32Array;
  /** +∞ marks a failed evaluation. */
  properties: Float64Array;
  best: number;
}

export class ReplayBuffer {
  private actions = new Int32Array(1024);
  private nActions = 0;
  private offsets: number[] = [0];
  private properties: number[] = [];
  private bestByKey = new Map<number, number>();
  private zobState: Uint32Array;
  private zobAction: Uint32Array;
  /** Index of the episode with the lowest property so far, −1 when none succeeded. */
  bestEpisode = -1;

  constructor(readonly actionSpace: number) {
    // fixed seed: the keys must not depend on the run's seed (they are recomputed on resume)
    const r = new Rng(0x2545f491);
    this.zobState = new Uint32Array(actionSpace * 2);
    this.zobAction = new Uint32Array(actionSpace * 2);
    for (let i = 0; i < this.zobState.length; i++) {
      this.zobState[i] = r.nextUint32();
      this.zobAction[i] = r.nextUint32();
    }
  }

  get episodes(): number {
    return this.properties.length;
  }

  get steps(): number {
    return this.nActions;
  }

  episodeActions(e: number): Int32Array {
    return this.actions.subarray(this.offsets[e], this.offsets[e + 1]);
  }

  property(e: number): number {
    return this.properties[e];
  }

  /** Adds a finished episode: its actions in order and its property (+∞ for a failed evaluation). */
  add(actions: ArrayLike<number>, property: number): number {
    const e = this.properties.length;
    if (this.nActions + actions.length > this.actions.length) {
      const grown = new Int32Array(Math.max(this.actions.length * 2, this.nActions + actions.length));
      grown.set(this.actions.subarray(0, this.nActions));
      this.actions = grown;
    }
    this.actions.set(actions, this.nActions);
    this.nActions += actions.length;
    this.offsets.push(this.nActions);
    this.properties.push(property);
    const keys = this.stepKeys(e);
    for (const k of keys) {
      const prev = this.bestByKey.get(k);
      if (prev === undefined || property < prev) this.bestByKey.set(k, property);
    }
    if (Number.isFinite(property) && (this.bestEpisode < 0 || property < this.properties[this.bestEpisode])) {
      this.bestEpisode = e;
    }
    return e;
  }

  /**
   * Replaces every episode's property (the punishment of Methods eq. 4 changes
   * the properties of episodes that built a structure once it is punished) and
   * recomputes the best property of each state-action pair and the best episode.
   */
  setProperties(properties: ArrayLike<number>): void {
    if (properties.length !== this.properties.length) throw new Error('setProperties: one property per episode');
    this.properties = Array.from(properties);
    this.bestByKey.clear();
    this.bestEpisode = -1;
    for (let e = 0; e < this.properties.length; e++) {
      const property = this.properties[e];
      for (const k of this.stepKeys(e)) {
        const prev = this.bestByKey.get(k);
        if (prev === undefined || property < prev) this.bestByKey.set(k, property);
      }
      if (Number.isFinite(property) && (this.bestEpisode < 0 || property < this.properties[this.bestEpisode])) this.bestEpisode = e;
    }
  }

  /** Zobrist keys of every state-action pair of episode e, in step order. */
  stepKeys(e: number): number[] {
    const acts = this.episodeActions(e);
    const keys: number[] = [];
    let h1 = 0;
    let h2 = 0;
    for (let t = 0; t < acts.length; t++) {
      const a = acts[t];
      const k1 = (h1 ^ this.zobAction[2 * a]) >>> 0;
      const k2 = (h2 ^ this.zobAction[2 * a + 1]) & 0xfffff;
      keys.push(k1 * 0x100000 + k2); // 52 bits: exact in a double
      h1 = (h1 ^ this.zobState[2 * a]) >>> 0;
      h2 = (h2 ^ this.zobState[2 * a + 1]) >>> 0;
    }
    return keys;
  }

  /**
   * A training batch of `size` episode steps: all steps of the best episode, all
   * steps of the most recent one, and random others from the whole buffer, each
   * state-action pair at most once and with its best property.
   */
  sampleBatch(size: number, rng: Rng): BatchStep[] {
    const batch: BatchStep[] = [];
    const seen = new Set<number>();
    const take = (e: number, t: number, key: number) => {
      if (seen.has(key)) return false;
      seen.add(key);
      batch.push({ episode: e, step: t, property: this.bestByKey.get(key)!, key });
      return true;
    };
    const recent = this.episodes - 1;
    for (const e of this.bestEpisode >= 0 && this.bestEpisode !== recent ? [this.bestEpisode, recent] : [recent]) {
      if (e < 0) continue;
      this.stepKeys(e).forEach((k, t) => take(e, t, k));
    }
    // uniform over all steps of the buffer; a bounded number of redraws for repeats
    let tries = 0;
    while (batch.length < size && tries < size * 20 && this.nActions > 0) {
      tries++;
      const flat = rng.int(this.nActions);
      const e = this.episodeOfStep(flat);
      const t = flat - this.offsets[e];
      take(e, t, this.stepKeys(e)[t]);
    }
    return batch;
  }

  private episodeOfStep(flat: number): number {
    let lo = 0;
    let hi = this.properties.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.offsets[mid] <= flat) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  snapshot(): ReplaySnapshot {
    return {
      actions: this.actions.slice(0, this.nActions),
      offsets: Int32Array.from(this.offsets),
      properties: Float64Array.from(this.properties),
      best: this.bestEpisode,
    };
  }

  static restore(actionSpace: number, s: ReplaySnapshot): ReplayBuffer {
    const buf = new ReplayBuffer(actionSpace);
    for (let e = 0; e < s.properties.length; e++) {
      buf.add(s.actions.subarray(s.offsets[e], s.offsets[e + 1]), s.properties[e]);
    }
    if (buf.bestEpisode !== s.best) throw new Error(`replay buffer restore: best episode ${buf.bestEpisode} ≠ saved ${s.best}`);
    return buf;
  }
}
