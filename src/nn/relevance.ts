/**
 * Layer-wise relevance propagation (paper, Methods "Layer-wise relevance
 * propagation", eq. 3; Bach et al., PLoS ONE 10, e0130140 (2015)): the
 * Q-value of one action is decomposed onto the input grid, layer by layer,
 *
 *   R_i^l = Σ_j  x_i w_ij / (Σ_i' x_i' w_i'j + τ)  R_j^{l+1}          (eq. 3)
 *
 * where x_i is the activation of neuron i in layer l (the one-hot input for
 * l = 0), w_ij the convolution weight joining it to neuron j of layer l+1, and
 * the sum in the denominator is neuron j's pre-activation z_j. Relevance is
 * conserved: Σ_i R_i^l = Σ_j R_j^{l+1} z_j / (z_j + τ), equal to the output
 * Q up to the stabiliser τ. The propagation starts from R = Q at the chosen
 * action (one output cell of one species channel) and passes through the
 * activations (leaky ReLU, tanh) unchanged, as in the paper.
 *
 * τ: the paper writes "+ τ"; we add it with the sign of z_j (the ε-rule of
 * Bach et al.), because a bare +τ would itself blow up for z_j ≈ −τ, the
 * instability it is there to prevent.
 *
 * Bias terms carry relevance of their own and break conservation, so eq. 3
 * "implies that bias weights are not used whenever relevance values need to
 * be calculated": networks with biases are refused (problems that use
 * relevance train with network.bias: false).
 *
 * Cost: only the receptive field of the action is touched — one output cell,
 * then a kernel-sized patch, then patches growing by a kernel per layer — so a
 * 3-layer network with 17×17 kernels costs ~5·10^7 multiply-adds however large
 * the grid. The activations come from the network's own forward pass.
 */
import { InputError } from '../util/errors.js';
import type { GridShape } from './engine.js';
import type { QNetwork } from './network.js';

export interface RelevanceOptions {
  /** Stabiliser τ of eq. 3 (default 1e-9). */
  tau?: number;
}

export interface RelevanceResult {
  /** The Q-value of the action (the network's output there). */
  q: number;
  /** Flat index of the action, c·n0·n1 + i0·n1 + i1. */
  action: number;
  /**
   * Relevance of every neuron, layer by layer: layers[0] is the input
   * (species·n0·n1), layers[l] the output of network layer l−1 (channel-major),
   * the last one the Q-values with R = Q at the action only.
   */
  layers: Float64Array[];
}

/** An action as a flat index or as [channel, i0, i1]. */
export type ActionRef = number | readonly [number, number, number];

export function actionIndex(action: ActionRef, species: number, shape: GridShape): number {
  const size = shape.n0 * shape.n1;
  if (typeof action === 'number') {
    if (!Number.isInteger(action) || action < 0 || action >= species * size) {
      throw new InputError(`action ${action} lies outside 0..${species * size - 1}`, 'relevance');
    }
    return action;
  }
  const [c, i0, i1] = action;
  if (![c, i0, i1].every(Number.isInteger) || c < 0 || c >= species || i0 < 0 || i0 >= shape.n0 || i1 < 0 || i1 >= shape.n1) {
    throw new InputError(`action [${action.join(', ')}] lies outside the ${species}×${shape.n0}×${shape.n1} action space`, 'relevance');
  }
  return c * size + i0 * shape.n1 + i1;
}

/** Relevance of every neuron of every layer for the Q-value of `action` (Methods eq. 3). */
export function relevancePropagation(net: QNetwork, input: Float32Array, shape: GridShape, action: ActionRef, options: RelevanceOptions = {}): RelevanceResult {
  const tau = options.tau ?? 1e-9;
  if (!(tau >= 0) || !Number.isFinite(tau)) throw new InputError(`tau must be a finite number ≥ 0, got ${tau}`, 'relevance');
  if (net.spec.bias) {
    throw new InputError('needs a bias-free network (set network.bias: false when training): eq. 3 has no place for bias terms', 'relevance');
  }
  const S = net.spec.species;
  const a = actionIndex(action, S, shape);
  const { layers: acts } = net.activations(input, shape);
  const depth = net.depth;
  const N = shape.n0 * shape.n1;
  const out: Float64Array[] = new Array(depth + 1);
  const top = new Float64Array(S * N);
  const q = acts[depth - 1][a];
  top[a] = q;
  out[depth] = top;
  for (let l = depth - 1; l >= 0; l--) {
    const x = l === 0 ? input : acts[l - 1];
    out[l] = propagateLayer(net, l, x, out[l + 1], shape, tau);
  }
  return { q, action: a, layers: out };
}

/**
 * Eq. 3 for one convolution layer: relevance of its inputs x (cin·N) from the
 * relevance of its outputs (cout·N). Cross-correlation with "same" padding:
 * tap (t0, t1) reads the input at offset (t0 − p0, t1 − p1) from the output
 * point, wrapped along periodic axes, zero outside the grid otherwise.
 */
export function propagateLayer(net: QNetwork, layer: number, x: ArrayLike<number>, rOut: Float64Array, shape: GridShape, tau: number): Float64Array {
  const { weights: W, cin, cout } = net.kernelView(layer);
  const [k0, k1] = net.spec.kernel;
  const p0 = (k0 - 1) / 2, p1 = (k1 - 1) / 2;
  const { n0, n1 } = shape;
  const per0 = shape.periodic[0], per1 = shape.periodic[1];
  const N = n0 * n1;
  const K = k0 * k1;
  const rIn = new Float64Array(cin * N);
  // input cell of each tap for the current output point (−1: outside the grid)
  const tapCell = new Int32Array(K);
  for (let o = 0; o < cout; o++) {
    for (let j = 0; j < N; j++) {
      const r = rOut[o * N + j];
      if (r === 0) continue;
      const j0 = (j / n1) | 0, j1 = j - j0 * n1;
      for (let t0 = 0; t0 < k0; t0++) {
        let i0 = j0 + t0 - p0;
        if (i0 < 0 || i0 >= n0) {
          if (!per0) {
            for (let t1 = 0; t1 < k1; t1++) tapCell[t0 * k1 + t1] = -1;
            continue;
          }
          i0 = ((i0 % n0) + n0) % n0;
        }
        for (let t1 = 0; t1 < k1; t1++) {
          let i1 = j1 + t1 - p1;
          if (i1 < 0 || i1 >= n1) {
            if (!per1) {
              tapCell[t0 * k1 + t1] = -1;
              continue;
            }
            i1 = ((i1 % n1) + n1) % n1;
          }
          tapCell[t0 * k1 + t1] = i0 * n1 + i1;
        }
      }
      // z_j: the pre-activation of output neuron (o, j)
      let z = 0;
      for (let c = 0; c < cin; c++) {
        const w = (o * cin + c) * K;
        const xo = c * N;
        for (let t = 0; t < K; t++) {
          const i = tapCell[t];
          if (i >= 0) z += x[xo + i] * W[w + t];
        }
      }
      const s = r / (z + (z >= 0 ? tau : -tau));
      if (!Number.isFinite(s)) continue; // z = 0 and τ = 0: nothing flows into this neuron
      for (let c = 0; c < cin; c++) {
        const w = (o * cin + c) * K;
        const xo = c * N;
        for (let t = 0; t < K; t++) {
          const i = tapCell[t];
          if (i >= 0) {
            const xi = x[xo + i];
            if (xi !== 0) rIn[xo + i] += xi * W[w + t] * s;
          }
        }
      }
    }
  }
  return rIn;
}

/**
 * Normalised relevance of every input cell for the Q-value of `action`: the
 * input-layer relevance divided by its largest magnitude, so the most
 * influential atom has ±1 and cells without an atom 0 (paper Fig. 4: 1
 * positive influence, −1 negative, 0 none). Length species·n0·n1.
 */
export function relevanceOfAtoms(net: QNetwork, input: Float32Array, shape: GridShape, action: ActionRef, options: RelevanceOptions = {}): Float64Array {
  return normaliseRelevance(relevancePropagation(net, input, shape, action, options).layers[0]);
}

/** r / max|r| (all zeros stay zeros). */
export function normaliseRelevance(r: Float64Array): Float64Array {
  let m = 0;
  for (let i = 0; i < r.length; i++) m = Math.max(m, Math.abs(r[i]));
  const out = new Float64Array(r.length);
  if (m > 0) for (let i = 0; i < r.length; i++) out[i] = r[i] / m;
  return out;
}
