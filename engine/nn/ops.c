/*
 * ops.c: implements ops.h: OpenBLAS sgemm for the Linear layers, fused
 * elementwise passes, fast exp/erf, and attention over packed sequences
 * (row-by-row dot products for short sequences, two sgemm calls per
 * (sequence, head) for long ones; scratch is one len^2 score matrix per
 * thread, never n_tokens^2).
 */
/* The elementwise kernels below must vectorise: allow if-conversion of the
 * clamps (no FP traps are relied on anywhere in the engine). */
#if !defined(__clang__)   /* clang has no optimize pragma (and does not need it) */
#pragma GCC optimize("no-trapping-math", "no-math-errno")
#endif

#include "engine/nn/ops.h"
#include "engine/nn/fastmath.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

int cm_act_parse(const char *s) {
    if (!s || !*s) return CM_ACT_GELU;
    if (!strcmp(s, "gelu")) return CM_ACT_GELU;
    if (!strcmp(s, "gelu_new") || !strcmp(s, "gelu_pytorch_tanh") || !strcmp(s, "gelu_fast")) return CM_ACT_GELU_TANH;
    if (!strcmp(s, "relu")) return CM_ACT_RELU;
    if (!strcmp(s, "silu") || !strcmp(s, "swish")) return CM_ACT_SILU;
    return -1;
}

void cm_ops_set_threads(int threads) {
    if (threads < 1) threads = 1;
    if (threads != openblas_get_num_threads()) openblas_set_num_threads(threads);
}

int cm_ops_blas_single(void) {
    int prev = openblas_get_num_threads();
    if (prev != 1) openblas_set_num_threads(1);
    return prev;
}

/* y[r, c0:c1] = x[r] . W[c0:c1]^T (+ bias[c0:c1]) for rows r < n: one
 * single-threaded sgemm; with a bias, y is pre-filled and beta = 1 (saves a
 * pass over y and OpenBLAS's beta = 0 clearing). */
static void gemm_block(const float *x, size_t ldx, const float *W, const float *bias, size_t n, size_t in,
                       size_t c0, size_t c1, float *y, size_t ldy) {
    if (bias)
        for (size_t r = 0; r < n; r++) memcpy(y + r * ldy + c0, bias + c0, (c1 - c0) * sizeof *y);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)(c1 - c0), (blasint)in, 1.0f, x,
                (blasint)ldx, W + c0 * in, (blasint)in, bias ? 1.0f : 0.0f, y + c0, (blasint)ldy);
}

void cm_ops_linear_bias_mt(const float *x, size_t ldx, const float *W, const float *bias, size_t n, size_t in,
                           size_t out, float *y, size_t ldy, int threads) {
    if (!n) return;
    if (threads <= 1 || (double)n * (double)in * (double)out < 2.0e6) {
        gemm_block(x, ldx, W, bias, n, in, 0, out, y, ldy);
        return;
    }
    int split_rows = n >= (size_t)threads * 32;
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        if (split_rows) {
            /* row blocks, multiples of 16 rows */
            size_t blk = ((n + (size_t)nt - 1) / (size_t)nt + 15) / 16 * 16;
            size_t r0 = (size_t)t * blk, r1 = r0 + blk < n ? r0 + blk : n;
            if (r0 < n) gemm_block(x + r0 * ldx, ldx, W, bias, r1 - r0, in, 0, out, y + r0 * ldy, ldy);
        } else {
            size_t blk = ((out + (size_t)nt - 1) / (size_t)nt + 15) / 16 * 16;
            size_t c0 = (size_t)t * blk, c1 = c0 + blk < out ? c0 + blk : out;
            if (c0 < out) gemm_block(x, ldx, W, bias, n, in, c0, c1, y, ldy);
        }
    }
}

void cm_ops_linear_mt(const float *x, size_t ldx, const float *W, size_t n, size_t in, size_t out, float *y,
                      size_t ldy, int threads) {
    cm_ops_linear_bias_mt(x, ldx, W, NULL, n, in, out, y, ldy, threads);
}

/* ---- fast math (fastmath.h) ---------------------------------------------- */

float cm_fast_expf(float x) { return cm_fexp(x); }
float cm_fast_erff(float x) { return cm_ferf(x); }

static void act_row(float *y, size_t d, const float *b, cm_act act) {
    if (b)
        for (size_t j = 0; j < d; j++) y[j] += b[j];
    switch (act) {
    case CM_ACT_GELU:
#pragma omp simd
        for (size_t j = 0; j < d; j++) y[j] = 0.5f * y[j] * (1.0f + cm_ferf(y[j] * 0.70710678118654752f));
        break;
    case CM_ACT_GELU_TANH:
#pragma omp simd
        for (size_t j = 0; j < d; j++) {
            float v = y[j];
            float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
            /* tanh(u) = 1 - 2 / (exp(2u) + 1) */
            float t = 1.0f - 2.0f / (cm_fexp(2.0f * u) + 1.0f);
            y[j] = 0.5f * v * (1.0f + t);
        }
        break;
    case CM_ACT_RELU:
        for (size_t j = 0; j < d; j++) y[j] = y[j] > 0 ? y[j] : 0;
        break;
    case CM_ACT_SILU:
#pragma omp simd
        for (size_t j = 0; j < d; j++) y[j] = y[j] / (1.0f + cm_fexp(-y[j]));
        break;
    default:
        break;
    }
}

void cm_ops_bias_act(float *y, size_t n, size_t d, size_t ld, const float *b, cm_act act, int threads) {
    if (!b && act == CM_ACT_NONE) return;
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) act_row(y + i * ld, d, b, act);
}

void cm_ops_add_layernorm(float *x, const float *r, const float *b, const float *g, const float *beta, size_t n,
                          size_t d, float eps, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        float *xi = x + i * d;
        const float *ri = r ? r + i * d : NULL;
        if (ri && b)
            for (size_t j = 0; j < d; j++) xi[j] += ri[j] + b[j];
        else if (ri)
            for (size_t j = 0; j < d; j++) xi[j] += ri[j];
        else if (b)
            for (size_t j = 0; j < d; j++) xi[j] += b[j];
        double mean = 0, var = 0;
        for (size_t j = 0; j < d; j++) mean += xi[j];
        mean /= (double)d;
        for (size_t j = 0; j < d; j++) {
            double t = xi[j] - mean;
            var += t * t;
        }
        var /= (double)d;
        float inv = (float)(1.0 / sqrt(var + (double)eps));
        float m = (float)mean;
        for (size_t j = 0; j < d; j++) xi[j] = (xi[j] - m) * inv * g[j] + beta[j];
    }
}

/* ---- attention ------------------------------------------------------------ */

/* Short sequences (up to SHORT_MAX tokens): scores of one query row are FMAs
 * of q[d] with rows of K^T (copied to kt (dh, LP), LP = len rounded up to
 * 8, zero-padded), so the inner loops run over contiguous vectors of
 * compile-time length; no horizontal sums. The output row is accumulated
 * over j in a register-sized local array when dh is 32 or 64. */
enum { SHORT_MAX = 48 };

static inline __attribute__((always_inline)) void score_row(const float *qi, const float *kt, size_t dh,
                                                             size_t LP, float scale, float *s) {
    float acc[SHORT_MAX];
    for (size_t j = 0; j < LP; j++) acc[j] = 0;
    for (size_t d = 0; d < dh; d++) {
        float qd = qi[d];
        const float *kr = kt + d * LP;
#pragma omp simd
        for (size_t j = 0; j < LP; j++) acc[j] += qd * kr[j];
    }
    for (size_t j = 0; j < LP; j++) s[j] = acc[j] * scale;
}

static inline __attribute__((always_inline)) void weigh_row(const float *p, const float *v, size_t ld, size_t lim,
                                                             size_t DH, float *o) {
    float acc[128];
    for (size_t d = 0; d < DH; d++) acc[d] = 0;
    for (size_t j = 0; j < lim; j++) {
        float pj = p[j];
        const float *vj = v + j * ld;
#pragma omp simd
        for (size_t d = 0; d < DH; d++) acc[d] += pj * vj[d];
    }
    for (size_t d = 0; d < DH; d++) o[d] = acc[d];
}

/* sc: scratch of dh * 48 + 48 floats. */
static void attend_short(const float *q, const float *k, const float *v, size_t ld, size_t len, size_t dh,
                         float scale, int causal, cm_attn_bias_fn bias_fn, const void *bias_ctx, size_t head,
                         float *out, size_t ldo, float *sc) {
    size_t lp = (len + 7) & ~(size_t)7;
    float *kt = sc, *s = sc + dh * lp;
    for (size_t j = 0; j < len; j++)
        for (size_t d = 0; d < dh; d++) kt[d * lp + j] = k[j * ld + d];
    for (size_t d = 0; d < dh; d++)
        for (size_t j = len; j < lp; j++) kt[d * lp + j] = 0;
    for (size_t i = 0; i < len; i++) {
        const float *qi = q + i * ld;
        switch (lp) {
        case 8: score_row(qi, kt, dh, 8, scale, s); break;
        case 16: score_row(qi, kt, dh, 16, scale, s); break;
        case 24: score_row(qi, kt, dh, 24, scale, s); break;
        case 32: score_row(qi, kt, dh, 32, scale, s); break;
        case 40: score_row(qi, kt, dh, 40, scale, s); break;
        default: score_row(qi, kt, dh, 48, scale, s); break;
        }
        if (bias_fn) bias_fn(bias_ctx, len, head, i, s);
        size_t lim = causal ? i + 1 : len;
        float inv = cm_exp_row(s, lim);
        for (size_t j = 0; j < lim; j++) s[j] *= inv;
        float *o = out + i * ldo;
        if (dh == 32) weigh_row(s, v, ld, lim, 32, o);
        else if (dh == 64) weigh_row(s, v, ld, lim, 64, o);
        else if (dh == 128) weigh_row(s, v, ld, lim, 128, o);
        else {
            for (size_t d = 0; d < dh; d++) o[d] = 0;
            for (size_t j = 0; j < lim; j++) {
                float p = s[j];
                const float *vj = v + j * ld;
#pragma omp simd
                for (size_t d = 0; d < dh; d++) o[d] += p * vj[d];
            }
        }
    }
}

/* Long sequences: two single-threaded sgemm calls per (sequence, head),
 * S = scale * Q K^T (len, len) then O = exp(S - max) V, each output row
 * divided by its sum afterwards (len x dh work instead of len x len).
 * S: (len, len) scratch followed by (len) row sums. */
static void attend_gemm(const float *q, const float *k, const float *v, size_t ld, size_t len, size_t dh,
                        float scale, int causal, cm_attn_bias_fn bias_fn, const void *bias_ctx, size_t head,
                        float *out, size_t ldo, float *S) {
    float *inv = S + len * len;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)len, (blasint)len, (blasint)dh, scale, q,
                (blasint)ld, k, (blasint)ld, 0.0f, S, (blasint)len);
    for (size_t i = 0; i < len; i++) {
        float *s = S + i * len;
        if (bias_fn) bias_fn(bias_ctx, len, head, i, s);
        size_t lim = causal ? i + 1 : len;
        inv[i] = cm_exp_row(s, lim);
        for (size_t j = lim; j < len; j++) s[j] = 0;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)len, (blasint)dh, (blasint)len, 1.0f, S,
                (blasint)len, v, (blasint)ld, 0.0f, out, (blasint)ldo);
    for (size_t i = 0; i < len; i++) {
        float *o = out + i * ldo, f = inv[i];
#pragma omp simd
        for (size_t d = 0; d < dh; d++) o[d] *= f;
    }
}

static size_t per_thread_floats(size_t dh, size_t max_len) {
    size_t shrt = dh * SHORT_MAX + SHORT_MAX, lng = max_len > SHORT_MAX ? max_len * max_len + max_len : 0;
    return lng > shrt ? lng : shrt;   /* a batch can mix both paths: short rows need shrt even when max_len > 48 */
}

size_t cm_ops_attention_scratch(size_t hidden, size_t n_heads, size_t max_len, int threads) {
    return (size_t)(threads < 1 ? 1 : threads) * per_thread_floats(hidden / n_heads, max_len);
}

int cm_ops_attention(const float *qkv, size_t ld_qkv, size_t hidden, size_t n_heads, const size_t *offset,
                     const size_t *length, size_t n_seqs, int causal, cm_attn_bias_fn bias_fn, const void *bias_ctx,
                     float *out, float *scratch, int threads) {
    size_t dh = hidden / n_heads, max_len = 0;
    for (size_t s = 0; s < n_seqs; s++) max_len = length[s] > max_len ? length[s] : max_len;
    if (!max_len) return CM_OK;
    float scale = 1.0f / sqrtf((float)dh);
    size_t pairs = n_seqs * n_heads;
    int nt = threads < 1 ? 1 : threads;
    if ((size_t)nt > pairs) nt = (int)pairs;
    size_t per = per_thread_floats(dh, max_len);
    float *own = NULL;
    if (!scratch) {
        scratch = own = cm_malloc((size_t)nt * per * sizeof *scratch);
        if (!own) return CM_ERR_NOMEM;
    }
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        float *sc = scratch + (size_t)omp_get_thread_num() * per;
#pragma omp for schedule(dynamic, 4)
        for (size_t p = 0; p < pairs; p++) {
            /* longest sequences first (callers sort ascending) for balance */
            size_t s = n_seqs - 1 - p / n_heads, h = p % n_heads;
            const float *base = qkv + offset[s] * ld_qkv + h * dh;
            if (length[s] <= SHORT_MAX)
                attend_short(base, base + hidden, base + 2 * hidden, ld_qkv, length[s], dh, scale, causal, bias_fn,
                             bias_ctx, h, out + offset[s] * hidden + h * dh, hidden, sc);
            else
                attend_gemm(base, base + hidden, base + 2 * hidden, ld_qkv, length[s], dh, scale, causal, bias_fn,
                            bias_ctx, h, out + offset[s] * hidden + h * dh, hidden, sc);
        }
    }
    free(own);
    return CM_OK;
}
