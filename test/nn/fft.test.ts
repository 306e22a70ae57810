import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFFT, paddedLength, primeFactors } from '../../src/nn/fft.js';
import { Rng } from '../../src/util/rng.js';

/** Naive O(n^2) DFT of a vector-form signal (n elements of V values). */
function naive(re: Float64Array, im: Float64Array, n: number, V: number, sign: number): [Float64Array, Float64Array] {
  const or = new Float64Array(n * V), oi = new Float64Array(n * V);
  for (let k = 0; k < n; k++)
    for (let v = 0; v < V; v++) {
      let sr = 0, si = 0;
      for (let t = 0; t < n; t++) {
        const a = (sign * 2 * Math.PI * ((t * k) % n)) / n;
        const c = Math.cos(a), s = Math.sin(a);
        sr += re[t * V + v] * c - im[t * V + v] * s;
        si += re[t * V + v] * s + im[t * V + v] * c;
      }
      or[k * V + v] = sr;
      oi[k * V + v] = si;
    }
  return [or, oi];
}

// lengths covering every path: radix 2/3/4/5/6/8/9, generic odd radix 7..23,
// Rader (primes > 23, with a Bluestein inner length for 47: 46 = 2*23 ok, 59: 58 = 2*29),
// Bluestein (composite with a large prime factor: 2*29, 3*31)
const lengths = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 24, 54, 96, 11, 12, 13, 16, 17, 18, 21, 23, 25, 27, 29, 30, 36, 37, 42, 47, 58, 59, 60, 63, 64, 72, 81, 93, 128, 162];

test('vector FFT equals the naive DFT for many lengths, both directions, with runs', () => {
  const rng = new Rng(3);
  for (const n of lengths) {
    const V = 3;
    const re = new Float64Array(n * V).map(() => rng.next() - 0.5);
    const im = new Float64Array(n * V).map(() => rng.next() - 0.5);
    for (const sign of [-1, 1]) {
      const [er, ei] = naive(re, im, n, V, sign);
      const ar = re.slice(), ai = im.slice();
      const br = new Float64Array(n * V), bi = new Float64Array(n * V);
      // only vector positions 1..2 are requested
      const inB = planFFT(n).run(ar, ai, br, bi, V, Int32Array.of(1, 3), sign);
      const rr = inB ? br : ar, ri = inB ? bi : ai;
      let err = 0;
      for (let k = 0; k < n; k++)
        for (let v = 1; v < 3; v++) err = Math.max(err, Math.abs(rr[k * V + v] - er[k * V + v]), Math.abs(ri[k * V + v] - ei[k * V + v]));
      assert.ok(err < 1e-11 * Math.max(1, n), `n=${n} sign=${sign} err=${err} (${primeFactors(n)})`);
    }
  }
});

test('runRows (rows in the plan\'s order: Rader without permutation passes) equals the naive DFT', () => {
  const rng = new Rng(4);
  for (const n of [...lengths, 31, 61, 67, 83, 97]) {
    const V = 4;
    const plan = planFFT(n);
    const re = new Float64Array(n * V).map(() => rng.next() - 0.5);
    const im = new Float64Array(n * V).map(() => rng.next() - 0.5);
    for (const sign of [-1, 1]) {
      const [er, ei] = naive(re, im, n, V, sign);
      const ar = new Float64Array(n * V), ai = new Float64Array(n * V);
      for (let t = 0; t < n; t++) {
        const row = plan.rowIn ? plan.rowIn[t] : t;
        for (let v = 0; v < V; v++) {
          ar[row * V + v] = re[t * V + v];
          ai[row * V + v] = im[t * V + v];
        }
      }
      const br = new Float64Array(n * V).fill(NaN), bi = new Float64Array(n * V).fill(NaN);
      const inB = plan.runRows(ar, ai, br, bi, V, Int32Array.of(0, 1, 2, 4), sign);
      const rr = inB ? br : ar, ri = inB ? bi : ai;
      let err = 0;
      for (let k = 0; k < n; k++) {
        const row = plan.rowOut ? plan.rowOut[k] : k;
        for (const v of [0, 2, 3]) err = Math.max(err, Math.abs(rr[row * V + v] - er[k * V + v]), Math.abs(ri[row * V + v] - ei[k * V + v]));
      }
      assert.ok(err < 1e-11 * Math.max(1, n), `n=${n} sign=${sign} err=${err}`);
    }
  }
});

test('padded lengths are 7-smooth and long enough', () => {
  for (const n of [5, 37, 44, 67, 74, 101]) {
    const m = paddedLength(n);
    assert.ok(m >= n);
    assert.ok(primeFactors(m).every((p) => p <= 7), `${n} -> ${m}`);
  }
});
