/**
 * Rewards from properties (Methods "Neural network training"): the batch's
 * property values are scaled linearly to [−1, 1] with 1 the best (lowest
 * energy). With ΔE set (graphene, C3H4O2) the value −1 is fixed at ΔE × N_atoms
 * above the best, and anything higher is clipped to −1, keeping resolution near
 * the best structures. A failed evaluation (property +∞) gets −1, the worst.
 */
export function rewardsFromProperties(
  properties: Float64Array,
  opts: { deltaE: number | null; atoms: number },
  out = new Float64Array(properties.length),
): Float64Array {
  let best = Infinity;
  let worst = -Infinity;
  for (const p of properties) {
    if (!Number.isFinite(p)) continue;
    if (p < best) best = p;
    if (p > worst) worst = p;
  }
  const span = opts.deltaE !== null ? opts.deltaE * opts.atoms : worst - best;
  for (let i = 0; i < properties.length; i++) {
    const p = properties[i];
    if (!Number.isFinite(p)) out[i] = -1;
    else if (span <= 0) out[i] = 1; // all equal: every one is the best
    else out[i] = Math.max(-1, 1 - (2 * (p - best)) / span);
  }
  return out;
}
