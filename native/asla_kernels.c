/*
 * Native kernels of the Q-network engine (src/nn/engine.ts), the parts of a
 * training step that cost most, each the same loops as the TypeScript they
 * replace (which stay the fallback; src/nn/native.ts loads this module):
 *  - products.inc: per frequency f a small complex matrix-vector product over
 *    channels (src/nn/products.ts),
 *      forward   Z[o][f]  = sum_c K[o][c][f] S[c][f]
 *      backward  dS[c][f] = sum_o conj(K[o][c][f]) DZ[o][f]
 *      gradient  G[o][c][f] += conj(DZ[o][f]) S[c][f]
 *    in a channel-major layout, [o][c][f] and [c][f], so that the innermost
 *    loop runs over contiguous frequencies and vectorises; frequencies are
 *    taken in blocks so that a block of every output channel stays in cache
 *    while the input channels stream past;
 *  - fft.inc: the Stockham radix stages of src/nn/fft.ts;
 *  - spectra.inc: the engine's 2-D real transforms (forwardSpectra,
 *    inverseSpectra), with Rader's algorithm for prime axis lengths.
 * Each is compiled twice, for AVX2 and for any CPU; the module picks when it
 * loads. Kernel spectra are float32, everything else float64, as in
 * TypeScript. Built with -ffp-contract=off (scripts/build-native.mjs): no fused
 * multiply-adds, every operation in the TypeScript order, so the results are
 * bit for bit those of the TypeScript kernels (test/nn/native.test.ts) and a
 * run resumes exactly on either.
 *
 * Plain C against Node-API (node_api.h ships with Node), no other dependency.
 */
#include <node_api.h>
#include <stdint.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#define BLOCK 256
#define MAX_STAGES 40

/* One Stockham stage (src/nn/fft.ts, Stage): radix p, l1 = product of the
   earlier radices, m = n / (l1 p), twiddles at i*(p-1) + q-1, and for odd
   radices >= 7 the cos/sin tables (h x h, h = (p-1)/2). */
typedef struct {
  long p, l1, m;
  const double *twRe, *twIm, *cosTab, *sinTab;
} stage_t;

#include "fft-constants.h"

/* One axis plan of the 2-D transforms: Stockham stages, or Rader's algorithm
   (prime n) around Stockham stages of n - 1 with its kernel spectra Br, Bi
   (forward, inverse); rin/rout: rows in the plan's own order (identity for
   Stockham). */
typedef struct {
  int rader;
  long n, ns;
  stage_t st[MAX_STAGES];
  const double *Br[2], *Bi[2];
  const int32_t *rin, *rout;
  int32_t *ident;
} plan_t;

/* One engine's 2-D transforms (spectra.inc): padded sizes, half spectrum,
   both axis plans, four work buffers of Ma*Mb and odd-radix scratch. */
typedef struct {
  long Ma, Mb, Hb, F;
  plan_t A, B;
  double *b0r, *b0i, *b1r, *b1i, *tmp;
} spectra_t;

/* The innermost loops run over independent vector positions: tell the
   compiler so, or it gives up on the many run-time alias checks of the
   strided stores and does not vectorise the radix-4 and larger stages. */
#if defined(__clang__)
#define IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP
#endif

#define KNAME(name) name##_generic
#define KATTR
#include "products.inc"
#include "fft.inc"
#include "spectra.inc"
#undef KNAME
#undef KATTR

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define HAVE_AVX2_BUILD 1
#define KNAME(name) name##_avx2
#define KATTR __attribute__((target("avx2")))
#include "products.inc"
#include "fft.inc"
#include "spectra.inc"
#undef KNAME
#undef KATTR
#endif

typedef void (*kfn)(const float *, const float *, const double *, const double *, double *, double *, size_t, size_t,
                    size_t, size_t, size_t);
typedef void (*gfn)(double *, double *, const double *, const double *, const double *, const double *, size_t, size_t,
                    size_t, size_t, size_t);
static kfn forward = forward_generic, backward = backward_generic;
static gfn grad = grad_generic;
typedef int (*ffn)(const stage_t *, long, double *, double *, double *, double *, long, const int32_t *, long, int, double *);
static ffn stockham = stockham_generic;
typedef void (*sfn)(const spectra_t *, const double *, long, double *, double *, long, long, const int32_t *, long,
                    const uint8_t *);
typedef void (*ifn)(const spectra_t *, const double *, const double *, long, double *, long, long, const int32_t *, long,
                    const uint8_t *);
static sfn forwardSpectra = forwardSpectra_generic;
static ifn inverseSpectra = inverseSpectra_generic;
static const char *variant = "generic";

/* ------------------------------------------------------------------ Node-API glue */

static int typed(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok || type != want) return 0;
  return 1;
}

static int whole(napi_env env, napi_value v, size_t *out) {
  int64_t x;
  if (napi_get_value_int64(env, v, &x) != napi_ok || x < 0) return 0;
  *out = (size_t)x;
  return 1;
}

/* Reads exactly `want` arguments into argv; 0 after throwing. */
static int arguments(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *name) {
  size_t argc = want;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc == want) return 1;
  char message[96];
  snprintf(message, sizeof message, "asla_kernels.%s: %zu arguments expected", name, want);
  napi_throw_type_error(env, NULL, message);
  return 0;
}

enum kind { FORWARD, BACKWARD, GRAD };

/* (k_or_g_re, k_or_g_im, aRe, aIm, bRe, bIm, F, cin, cout, f0, f1) */
static napi_value call(napi_env env, napi_callback_info info, enum kind kind) {
  napi_value argv[11];
  if (!arguments(env, info, 11, argv, "product")) return NULL;
  void *p[6];
  size_t len[6];
  const napi_typedarray_type first = kind == GRAD ? napi_float64_array : napi_float32_array;
  for (int i = 0; i < 6; i++)
    if (!typed(env, argv[i], i < 2 ? first : napi_float64_array, &p[i], &len[i])) {
      napi_throw_type_error(env, NULL, "asla_kernels: wrong array type");
      return NULL;
    }
  size_t F, cin, cout, f0, f1;
  if (!whole(env, argv[6], &F) || !whole(env, argv[7], &cin) || !whole(env, argv[8], &cout) ||
      !whole(env, argv[9], &f0) || !whole(env, argv[10], &f1) || f0 > f1 || f1 > F) {
    napi_throw_range_error(env, NULL, "asla_kernels: bad sizes");
    return NULL;
  }
  /* every array must hold its channels x F (the caller's scratch arrays may be longer) */
  const size_t pairs = cin * cout * F;
  const size_t aC = kind == BACKWARD ? cout : kind == GRAD ? cout : cin;
  const size_t bC = kind == BACKWARD ? cin : kind == GRAD ? cin : cout;
  if (len[0] < pairs || len[1] < pairs || len[2] < aC * F || len[3] < aC * F || len[4] < bC * F || len[5] < bC * F) {
    napi_throw_range_error(env, NULL, "asla_kernels: arrays shorter than channels x F");
    return NULL;
  }
  if (kind == FORWARD)
    forward(p[0], p[1], p[2], p[3], p[4], p[5], F, cin, cout, f0, f1);
  else if (kind == BACKWARD)
    backward(p[0], p[1], p[2], p[3], p[4], p[5], F, cin, cout, f0, f1);
  else
    grad(p[0], p[1], p[2], p[3], p[4], p[5], F, cin, cout, f0, f1);
  return NULL;
}

/* Reads Stockham stages (info, twRe, twIm, cosTab, sinTab in v[0..4]) into st;
   returns the length n (0 after throwing) and raises maxH to the largest
   odd-radix half width. */
static size_t stages(napi_env env, napi_value *v, stage_t *st, long *ns, size_t *maxH) {
  void *p[5];
  size_t len[5];
  for (int i = 0; i < 5; i++)
    if (!typed(env, v[i], i == 0 ? napi_int32_array : napi_float64_array, &p[i], &len[i])) {
      napi_throw_type_error(env, NULL, "asla_kernels: wrong plan array type");
      return 0;
    }
  const int32_t *in = p[0];
  const size_t count = len[0] / 5;
  if (count == 0 || count > MAX_STAGES || len[0] % 5) {
    napi_throw_range_error(env, NULL, "asla_kernels: bad stage list");
    return 0;
  }
  size_t total = 1, n = 1;
  for (size_t s = 0; s < count; s++) total *= (size_t)(in[5 * s] > 0 ? in[5 * s] : 1);
  for (size_t s = 0; s < count; s++) {
    const long rp = in[5 * s], l1 = in[5 * s + 1], m = in[5 * s + 2], tw = in[5 * s + 3], tab = in[5 * s + 4];
    const long h = (rp - 1) / 2;
    if (rp < 2 || l1 != (long)n || m < 1 || (size_t)(rp * l1 * m) != total || tw < 0 ||
        (size_t)(tw + m * (rp - 1)) > len[1] || len[1] != len[2] ||
        ((rp == 7 || rp > 9) && (tab < 0 || (size_t)(tab + h * h) > len[3] || len[3] != len[4]))) {
      napi_throw_range_error(env, NULL, "asla_kernels: inconsistent stage");
      return 0;
    }
    st[s] = (stage_t){rp, l1, m, (const double *)p[1] + tw, (const double *)p[2] + tw,
                      tab >= 0 ? (const double *)p[3] + tab : NULL, tab >= 0 ? (const double *)p[4] + tab : NULL};
    if ((rp == 7 || rp > 9) && (size_t)h > *maxH) *maxH = (size_t)h;
    n *= (size_t)rp;
  }
  *ns = (long)count;
  return n;
}

/* fft(info, twRe, twIm, cosTab, sinTab, aRe, aIm, bRe, bIm, V, runs, sign) -> boolean
   (result in b): a whole Stockham transform (fft.ts StockhamFFT.run).
   info: Int32Array of 5 per stage (p, l1, m, twiddle offset, table offset or -1). */
static napi_value js_fft(napi_env env, napi_callback_info info) {
  napi_value argv[12];
  if (!arguments(env, info, 12, argv, "fft")) return NULL;
  stage_t st[MAX_STAGES];
  long ns = 0;
  size_t maxH = 0, V, nr, len[4];
  const size_t n = stages(env, argv, st, &ns, &maxH);
  if (!n) return NULL;
  void *p[4], *rp;
  int64_t sign;
  for (int i = 0; i < 4; i++)
    if (!typed(env, argv[5 + i], napi_float64_array, &p[i], &len[i])) {
      napi_throw_type_error(env, NULL, "asla_kernels.fft: wrong array type");
      return NULL;
    }
  if (!whole(env, argv[9], &V) || !typed(env, argv[10], napi_int32_array, &rp, &nr) || nr % 2 ||
      napi_get_value_int64(env, argv[11], &sign) != napi_ok || (sign != 1 && sign != -1)) {
    napi_throw_range_error(env, NULL, "asla_kernels.fft: bad V, runs or sign");
    return NULL;
  }
  const int32_t *runs = rp;
  for (size_t r = 0; r < nr; r++)
    if (runs[r] < 0 || (size_t)runs[r] > V || (r % 2 && runs[r] < runs[r - 1])) {
      napi_throw_range_error(env, NULL, "asla_kernels.fft: runs outside [0, V]");
      return NULL;
    }
  for (int i = 0; i < 4; i++)
    if (len[i] < n * V) {
      napi_throw_range_error(env, NULL, "asla_kernels.fft: arrays shorter than n x V");
      return NULL;
    }
  double *tmp = NULL;
  if (maxH && !(tmp = malloc(sizeof(double) * 4 * maxH * V))) {
    napi_throw_error(env, NULL, "asla_kernels.fft: out of memory");
    return NULL;
  }
  const int inB = stockham(st, ns, p[0], p[1], p[2], p[3], (long)V, runs, (long)nr, (int)sign, tmp);
  free(tmp);
  napi_value result;
  napi_get_boolean(env, inB, &result);
  return result;
}

/* A plan from a JS array: [info, twRe, twIm, cosTab, sinTab] (Stockham) or
   those of the inner n-1 transform and [BrF, BiF, BrI, BiI, rowIn, rowOut]
   (Rader). Returns 0 after throwing. */
static int read_plan(napi_env env, napi_value arr, plan_t *pl, size_t *maxH) {
  uint32_t k = 0;
  napi_value v[11];
  if (napi_get_array_length(env, arr, &k) != napi_ok || (k != 5 && k != 11)) {
    napi_throw_type_error(env, NULL, "asla_kernels: a plan is an array of 5 (Stockham) or 11 (Rader) typed arrays");
    return 0;
  }
  for (uint32_t i = 0; i < k; i++) napi_get_element(env, arr, i, &v[i]);
  const size_t inner = stages(env, v, pl->st, &pl->ns, maxH);
  if (!inner) return 0;
  pl->rader = k == 11;
  pl->n = (long)(pl->rader ? inner + 1 : inner);
  if (pl->rader) {
    void *q[6];
    size_t len[6];
    for (int i = 0; i < 6; i++)
      if (!typed(env, v[5 + i], i < 4 ? napi_float64_array : napi_int32_array, &q[i], &len[i]) ||
          len[i] < (i < 4 ? inner : inner + 1)) {
        napi_throw_range_error(env, NULL, "asla_kernels: bad Rader tables");
        return 0;
      }
    pl->Br[0] = q[0], pl->Bi[0] = q[1], pl->Br[1] = q[2], pl->Bi[1] = q[3];
    const int32_t *rin = q[4], *rout = q[5];
    for (long t = 0; t < pl->n; t++)
      if (rin[t] < 0 || rin[t] >= pl->n || rout[t] < 0 || rout[t] >= pl->n) {
        napi_throw_range_error(env, NULL, "asla_kernels: Rader rows out of range");
        return 0;
      }
    pl->rin = rin, pl->rout = rout;
  } else {
    pl->ident = malloc(sizeof(int32_t) * (size_t)pl->n);
    if (!pl->ident) {
      napi_throw_error(env, NULL, "asla_kernels: out of memory");
      return 0;
    }
    for (long t = 0; t < pl->n; t++) pl->ident[t] = (int32_t)t;
    pl->rin = pl->rout = pl->ident;
  }
  return 1;
}

static void free_context(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  spectra_t *g = data;
  free(g->A.ident);
  free(g->B.ident);
  free(g->tmp);
  free(g);
}

/* spectraContext(planA, planB, Ma, Mb, b0r, b0i, b1r, b1i) -> external. The
   typed arrays are the engine's own, kept for its lifetime (ArrayBuffer memory
   does not move). */
static napi_value js_context(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  if (!arguments(env, info, 8, argv, "spectraContext")) return NULL;
  spectra_t *g = calloc(1, sizeof(spectra_t));
  if (!g) {
    napi_throw_error(env, NULL, "asla_kernels: out of memory");
    return NULL;
  }
  size_t maxH = 0, Ma = 0, Mb = 0;
  void *b[4];
  size_t len[4];
  int ok = read_plan(env, argv[0], &g->A, &maxH) && read_plan(env, argv[1], &g->B, &maxH);
  if (ok && (!whole(env, argv[2], &Ma) || !whole(env, argv[3], &Mb) || (long)Ma != g->A.n || (long)Mb != g->B.n)) {
    napi_throw_range_error(env, NULL, "asla_kernels.spectraContext: plans do not match Ma, Mb");
    ok = 0;
  }
  for (int i = 0; ok && i < 4; i++)
    if (!typed(env, argv[4 + i], napi_float64_array, &b[i], &len[i]) || len[i] < Ma * Mb) {
      napi_throw_range_error(env, NULL, "asla_kernels.spectraContext: work buffers shorter than Ma x Mb");
      ok = 0;
    }
  const size_t V = Ma > Mb ? Ma : Mb;
  if (ok && maxH && !(g->tmp = malloc(sizeof(double) * 4 * maxH * V))) {
    napi_throw_error(env, NULL, "asla_kernels: out of memory");
    ok = 0;
  }
  if (!ok) {
    free_context(env, g, NULL);
    return NULL;
  }
  g->Ma = (long)Ma, g->Mb = (long)Mb, g->Hb = (long)(Mb / 2 + 1), g->F = g->Hb * (long)Ma;
  g->b0r = b[0], g->b0i = b[1], g->b1r = b[2], g->b1i = b[3];
  napi_value ext;
  napi_create_external(env, g, free_context, NULL, &ext);
  return ext;
}

/* (ctx, src..., C, dst..., rows, cols, runs, mask): forward has (x | C | outRe, outIm),
   inverse (inRe, inIm | C | y). */
static napi_value spectra(napi_env env, napi_callback_info info, int inverse) {
  size_t argc = 9;
  napi_value argv[9];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  spectra_t *g;
  if (argc != 9 || napi_get_value_external(env, argv[0], (void **)&g) != napi_ok) {
    napi_throw_type_error(env, NULL, "asla_kernels.spectra: (context, ...) with 9 arguments expected");
    return NULL;
  }
  void *a[3];
  size_t alen[3], C, rows, cols;
  const int cIdx = inverse ? 3 : 2;
  const int arr[3] = {1, inverse ? 2 : 3, inverse ? 4 : 4};
  for (int i = 0; i < 3; i++)
    if (!typed(env, argv[arr[i]], napi_float64_array, &a[i], &alen[i])) {
      napi_throw_type_error(env, NULL, "asla_kernels.spectra: wrong array type");
      return NULL;
    }
  void *rp, *mp;
  size_t nr, mlen;
  if (!whole(env, argv[cIdx], &C) || !whole(env, argv[5], &rows) || !whole(env, argv[6], &cols) ||
      !typed(env, argv[7], napi_int32_array, &rp, &nr) || !typed(env, argv[8], napi_uint8_array, &mp, &mlen)) {
    napi_throw_type_error(env, NULL, "asla_kernels.spectra: bad C, rows, cols, runs or mask");
    return NULL;
  }
  const int32_t *runs = rp;
  int ok = rows <= (size_t)g->Ma && cols <= (size_t)g->Mb && mlen >= (size_t)g->Mb && nr % 2 == 0;
  for (size_t r = 0; ok && r < nr; r++) ok = runs[r] >= 0 && (size_t)runs[r] <= cols && (r % 2 == 0 || runs[r] >= runs[r - 1]);
  const size_t spatial = C * rows * cols, spectral = C * (size_t)g->F;
  /* forward: x (spatial) -> outRe, outIm (spectral); inverse: inRe, inIm (spectral) -> y (spatial) */
  if (ok) ok = inverse ? alen[0] >= spectral && alen[1] >= spectral && alen[2] >= spatial
                       : alen[0] >= spatial && alen[1] >= spectral && alen[2] >= spectral;
  if (!ok) {
    napi_throw_range_error(env, NULL, "asla_kernels.spectra: sizes do not fit the context");
    return NULL;
  }
  if (inverse)
    inverseSpectra(g, a[0], a[1], (long)C, a[2], (long)rows, (long)cols, runs, (long)nr, mp);
  else
    forwardSpectra(g, a[0], (long)C, a[1], a[2], (long)rows, (long)cols, runs, (long)nr, mp);
  return NULL;
}

static napi_value js_forward_spectra(napi_env env, napi_callback_info info) { return spectra(env, info, 0); }
static napi_value js_inverse_spectra(napi_env env, napi_callback_info info) { return spectra(env, info, 1); }

static napi_value js_forward(napi_env env, napi_callback_info info) { return call(env, info, FORWARD); }
static napi_value js_backward(napi_env env, napi_callback_info info) { return call(env, info, BACKWARD); }
static napi_value js_grad(napi_env env, napi_callback_info info) { return call(env, info, GRAD); }

NAPI_MODULE_INIT() {
#ifdef HAVE_AVX2_BUILD
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) {
    forward = forward_avx2;
    backward = backward_avx2;
    grad = grad_avx2;
    stockham = stockham_avx2;
    forwardSpectra = forwardSpectra_avx2;
    inverseSpectra = inverseSpectra_avx2;
    variant = "avx2";
  }
#endif
#ifndef ASLA_SOURCE_HASH
#define ASLA_SOURCE_HASH ""
#endif
  napi_value v, h;
  napi_create_string_utf8(env, variant, NAPI_AUTO_LENGTH, &v);
  /* sha256 of native/ when built by scripts/build-native.mjs (src/nn/native.ts checks it) */
  napi_create_string_utf8(env, ASLA_SOURCE_HASH, NAPI_AUTO_LENGTH, &h);
  napi_property_descriptor d[] = {
      {"forward", NULL, js_forward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"backward", NULL, js_backward, NULL, NULL, NULL, napi_enumerable, NULL},
      {"grad", NULL, js_grad, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fft", NULL, js_fft, NULL, NULL, NULL, napi_enumerable, NULL},
      {"spectraContext", NULL, js_context, NULL, NULL, NULL, napi_enumerable, NULL},
      {"forwardSpectra", NULL, js_forward_spectra, NULL, NULL, NULL, napi_enumerable, NULL},
      {"inverseSpectra", NULL, js_inverse_spectra, NULL, NULL, NULL, napi_enumerable, NULL},
      {"variant", NULL, NULL, NULL, NULL, v, napi_enumerable, NULL},
      {"sourceHash", NULL, NULL, NULL, NULL, h, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, 9, d);
  return exports;
}
