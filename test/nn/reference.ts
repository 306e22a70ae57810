/**
 * A plain direct-convolution Q-network in float64, written independently of
 * the FFT engine, to check it: forward with every activation, loss and
 * back-propagated gradients.
 */
import type { QNetworkSpec, GridShape } from '../../src/nn/network.js';
import type { TrainSample, LossForm } from '../../src/nn/train.js';

export interface RefLayer { cin: number; cout: number; w: Float64Array; b: Float64Array | null }

export function refLayers(spec: QNetworkSpec, params: ArrayLike<number>): RefLayer[] {
  const widths = [spec.species, ...spec.filters, spec.species];
  const K = spec.kernel[0] * spec.kernel[1];
  const out: RefLayer[] = [];
  let off = 0;
  for (let l = 0; l + 1 < widths.length; l++) {
    const cin = widths[l], cout = widths[l + 1];
    const w = Float64Array.from({ length: cout * cin * K }, (_, i) => params[off + i]);
    off += w.length;
    let b: Float64Array | null = null;
    if (spec.bias) {
      b = Float64Array.from({ length: cout }, (_, i) => params[off + i]);
      off += cout;
    }
    out.push({ cin, cout, w, b });
  }
  return out;
}

/** Input index x + d along an axis, or -1 outside a non-periodic grid. */
function at(x: number, n: number, periodic: boolean): number {
  if (x >= 0 && x < n) return x;
  return periodic ? ((x % n) + n) % n : -1;
}

function conv(a: Float64Array, L: RefLayer, spec: QNetworkSpec, shape: GridShape): Float64Array {
  const { n0, n1, periodic } = shape, N = n0 * n1;
  const [k0, k1] = spec.kernel, p0 = (k0 - 1) / 2, p1 = (k1 - 1) / 2;
  const z = new Float64Array(L.cout * N);
  for (let o = 0; o < L.cout; o++)
    for (let x0 = 0; x0 < n0; x0++)
      for (let x1 = 0; x1 < n1; x1++) {
        let s = L.b ? L.b[o] : 0;
        for (let c = 0; c < L.cin; c++)
          for (let t0 = 0; t0 < k0; t0++) {
            const y0 = at(x0 + t0 - p0, n0, periodic[0]);
            if (y0 < 0) continue;
            for (let t1 = 0; t1 < k1; t1++) {
              const y1 = at(x1 + t1 - p1, n1, periodic[1]);
              if (y1 < 0) continue;
              s += L.w[((o * L.cin + c) * k0 + t0) * k1 + t1] * a[c * N + y0 * n1 + y1];
            }
          }
        z[o * N + x0 * n1 + x1] = s;
      }
  return z;
}

export function refForward(spec: QNetworkSpec, params: ArrayLike<number>, input: ArrayLike<number>, shape: GridShape): Float64Array[] {
  const layers = refLayers(spec, params);
  const acts: Float64Array[] = [];
  let a: Float64Array = Float64Array.from(input);
  layers.forEach((L, l) => {
    const z = conv(a, L, spec, shape);
    if (l === layers.length - 1) for (let i = 0; i < z.length; i++) z[i] = Math.tanh(z[i]);
    else for (let i = 0; i < z.length; i++) z[i] = z[i] > 0 ? z[i] : spec.leakySlope * z[i];
    acts.push(z);
    a = z;
  });
  return acts;
}

export function refLoss(spec: QNetworkSpec, params: ArrayLike<number>, samples: TrainSample[], shape: GridShape, form: LossForm): number {
  let J = 0;
  for (const s of samples) {
    const acts = refForward(spec, params, s.input, shape);
    const Q = acts[acts.length - 1];
    if (form === 'eq2') {
      let r = 0;
      s.cells.forEach((c, k) => (r += s.weights[k] * (Q[c] - s.target)));
      J += r * r;
    } else if (form === 'cross-entropy') {
      const T = s.target;
      s.cells.forEach((c, k) => {
        const lp = T > -1 ? (1 + T) * Math.log((1 + T) / (1 + Q[c])) : 0;
        const lm = T < 1 ? (1 - T) * Math.log((1 - T) / (1 - Q[c])) : 0;
        J += s.weights[k] * (lp + lm);
      });
    } else s.cells.forEach((c, k) => (J += s.weights[k] * (Q[c] - s.target) ** 2));
  }
  return J / samples.length;
}

/** Gradient of refLoss by back-propagation through the direct convolutions. */
export function refGradient(spec: QNetworkSpec, params: ArrayLike<number>, samples: TrainSample[], shape: GridShape, form: LossForm): Float64Array {
  const layers = refLayers(spec, params);
  const { n0, n1, periodic } = shape, N = n0 * n1;
  const [k0, k1] = spec.kernel, p0 = (k0 - 1) / 2, p1 = (k1 - 1) / 2;
  const gl = layers.map((L) => ({ w: new Float64Array(L.w.length), b: new Float64Array(L.cout) }));
  const m = samples.length;
  for (const s of samples) {
    const acts = refForward(spec, params, s.input, shape);
    const ins = [Float64Array.from(s.input), ...acts.slice(0, -1)];
    const Q = acts[acts.length - 1];
    let dz: Float64Array = new Float64Array(Q.length);
    if (form === 'eq2') {
      let r = 0;
      s.cells.forEach((c, k) => (r += s.weights[k] * (Q[c] - s.target)));
      s.cells.forEach((c, k) => (dz[c] += (2 / m) * r * s.weights[k]));
    } else if (form === 'cross-entropy') {
      // dℓ/dQ = 2(Q − T)/(1 − Q²), by hand from refLoss's ℓ
      s.cells.forEach((c, k) => (dz[c] += (2 / m) * s.weights[k] * (Q[c] - s.target) / (1 - Q[c] * Q[c])));
    } else s.cells.forEach((c, k) => (dz[c] += (2 / m) * s.weights[k] * (Q[c] - s.target)));
    for (let i = 0; i < dz.length; i++) dz[i] *= 1 - Q[i] * Q[i];
    for (let l = layers.length - 1; l >= 0; l--) {
      const L = layers[l], a = ins[l];
      const da = new Float64Array(L.cin * N);
      for (let o = 0; o < L.cout; o++)
        for (let x0 = 0; x0 < n0; x0++)
          for (let x1 = 0; x1 < n1; x1++) {
            const g = dz[o * N + x0 * n1 + x1];
            if (g === 0) continue;
            gl[l].b[o] += g;
            for (let c = 0; c < L.cin; c++)
              for (let t0 = 0; t0 < k0; t0++) {
                const y0 = at(x0 + t0 - p0, n0, periodic[0]);
                if (y0 < 0) continue;
                for (let t1 = 0; t1 < k1; t1++) {
                  const y1 = at(x1 + t1 - p1, n1, periodic[1]);
                  if (y1 < 0) continue;
                  const wi = ((o * L.cin + c) * k0 + t0) * k1 + t1, ai = c * N + y0 * n1 + y1;
                  gl[l].w[wi] += g * a[ai];
                  da[ai] += g * L.w[wi];
                }
              }
          }
      if (l > 0) for (let i = 0; i < da.length; i++) da[i] *= a[i] > 0 ? 1 : spec.leakySlope;
      dz = da;
    }
  }
  const out: number[] = [];
  gl.forEach((g) => {
    out.push(...g.w);
    if (spec.bias) out.push(...g.b);
  });
  return Float64Array.from(out);
}
