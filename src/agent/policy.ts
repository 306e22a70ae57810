/**
 * The modified ε-greedy policy (Methods "Search policy", Extended Data Fig. 8).
 * With probability ε0 = ε − εν an allowed action is drawn uniformly; with
 * probability εν one is drawn uniformly among the best ν fraction of the allowed
 * actions' Q-values; otherwise the action with the highest Q-value is taken.
 * Greedy episodes (every Np-th) take the best action at every step.
 */
import type { Rng } from '../util/rng.js';

export type ActionKind = 'greedy' | 'random' | 'nu';

export interface PolicyParams {
  epsilon: number;
  epsilonNu: number;
  nu: number;
}

/**
 * Chooses an action index among those with allowed[a] = 1.
 * `q` and `allowed` have the same length (species × grid points, channel-major).
 * Returns -1 when no action is allowed. Ties in Q are broken uniformly at random
 * (saturated tanh outputs tie exactly; a fixed rule would always pick the grid
 * corner), drawing from `rng` only when there is a tie, so runs stay reproducible.
 */
export function chooseAction(
  q: Float32Array,
  allowed: Uint8Array,
  params: PolicyParams,
  greedy: boolean,
  rng: Rng,
  scratch?: { indices?: Int32Array },
): { action: number; kind: ActionKind } {
  let nAllowed = 0;
  let best = -1;
  let bestQ = -Infinity;
  for (let a = 0; a < allowed.length; a++) {
    if (!allowed[a]) continue;
    nAllowed++;
    if (q[a] > bestQ) {
      bestQ = q[a];
      best = a;
    }
  }
  if (nAllowed === 0) return { action: -1, kind: 'greedy' };
  if (greedy) return { action: breakTie(q, allowed, best, rng), kind: 'greedy' };

  const u = rng.next();
  const epsilon0 = params.epsilon - params.epsilonNu;
  if (u < epsilon0) {
    return { action: nthAllowed(allowed, rng.int(nAllowed)), kind: 'random' };
  }
  if (u < params.epsilon) {
    // the best ν fraction of the allowed actions, at least one
    const k = Math.max(1, Math.ceil(params.nu * nAllowed));
    const idx = collectAllowed(allowed, nAllowed, scratch);
    sortByQ(idx, q);
    // actions tied with the k-th best belong to the best ν fraction as much as those ranked above them
    const threshold = q[idx[k - 1]];
    let n = k;
    while (n < idx.length && q[idx[n]] === threshold) n++;
    return { action: idx[rng.int(n)], kind: 'nu' };
  }
  return { action: breakTie(q, allowed, best, rng), kind: 'greedy' };
}

/** `best` or, when other allowed actions have exactly its Q-value, one of them at random. */
function breakTie(q: Float32Array, allowed: Uint8Array, best: number, rng: Rng): number {
  const top = q[best];
  let ties = 0;
  for (let a = best; a < allowed.length; a++) if (allowed[a] && q[a] === top) ties++;
  if (ties === 1) return best;
  let pick = rng.int(ties);
  for (let a = best; a < allowed.length; a++) if (allowed[a] && q[a] === top && pick-- === 0) return a;
  return best;
}

/** Uniformly random allowed action (the random-search baseline). */
export function randomAction(allowed: Uint8Array, rng: Rng): number {
  let n = 0;
  for (let a = 0; a < allowed.length; a++) n += allowed[a];
  if (n === 0) return -1;
  return nthAllowed(allowed, rng.int(n));
}

function nthAllowed(allowed: Uint8Array, n: number): number {
  for (let a = 0; a < allowed.length; a++) {
    if (allowed[a] && n-- === 0) return a;
  }
  return -1;
}

function collectAllowed(allowed: Uint8Array, n: number, scratch?: { indices?: Int32Array }): Int32Array {
  let idx = scratch?.indices;
  if (!idx || idx.length < n) {
    idx = new Int32Array(Math.max(n, allowed.length));
    if (scratch) scratch.indices = idx;
  }
  let j = 0;
  for (let a = 0; a < allowed.length; a++) if (allowed[a]) idx[j++] = a;
  return idx.subarray(0, n);
}

/**
 * Sorts idx into descending order of q (ties by lower index). Quickselect would be
 * O(n); a full sort of ~1500 allowed actions costs ~0.1 ms and happens only on
 * εν steps, so clarity wins.
 */
function sortByQ(idx: Int32Array, q: Float32Array): void {
  const sorted = Array.from(idx).sort((a, b) => q[b] - q[a] || a - b);
  for (let i = 0; i < sorted.length; i++) idx[i] = sorted[i];
}

/**
 * How close to −1 a Q-value must be to count as saturated: there tanh' = 1 − Q²
 * is below 2·SATURATION_GAP, so Methods eq. 2's gradient all but vanishes.
 */
export const SATURATION_GAP = 1e-5;

/**
 * Whether every allowed action's Q-value is saturated at the worst reward
 * (Q ≤ −1 + SATURATION_GAP): the network expects every place to lead to the
 * worst structure. False when no action is allowed.
 */
export function allSaturated(q: Float32Array, allowed: Uint8Array): boolean {
  let any = false;
  for (let a = 0; a < allowed.length; a++) {
    if (!allowed[a]) continue;
    if (q[a] > -1 + SATURATION_GAP) return false;
    any = true;
  }
  return any;
}
