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
 * Returns -1 when no action is allowed. Ties in Q go to the lowest index so that
 * a run is reproducible.
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
  if (greedy) return { action: best, kind: 'greedy' };

  const u = rng.next();
  const epsilon0 = params.epsilon - params.epsilonNu;
  if (u < epsilon0) {
    return { action: nthAllowed(allowed, rng.int(nAllowed)), kind: 'random' };
  }
  if (u < params.epsilon) {
    // the best ν fraction of the allowed actions, at least one
    const k = Math.max(1, Math.ceil(params.nu * nAllowed));
    const idx = collectAllowed(allowed, nAllowed, scratch);
    selectTopK(idx, q, k);
    return { action: idx[rng.int(k)], kind: 'nu' };
  }
  return { action: best, kind: 'greedy' };
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
 * Rearranges idx so that its first k entries are the k indices with the highest
 * q (ties broken by lower index), in descending order. Quickselect would be
 * O(n); a full sort of ~1500 allowed actions costs ~0.1 ms and happens only on
 * εν steps, so clarity wins.
 */
function selectTopK(idx: Int32Array, q: Float32Array, k: number): void {
  const sorted = Array.from(idx).sort((a, b) => q[b] - q[a] || a - b);
  for (let i = 0; i < k; i++) idx[i] = sorted[i];
}
