/* decoder_ops.c: implements decoder_ops.h (RMSNorm, LayerNorm, RoPE, packed grouped-query attention with
 * sgemm score blocks, SwiGLU, GEGLU). */
/* The softmax and gate loops must vectorise: allow if-conversion of fastmath.h's clamps. */
#if !defined(__clang__)   /* clang has no optimize pragma (and does not need it) */
#pragma GCC optimize("no-trapping-math", "no-math-errno")
#endif

#include "engine/arch/decoder_ops.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/ops.h"
#include "engine/nn/fastmath.h"

void cm_dec_rmsnorm(const float *x, float *y, const float *w, size_t n, size_t d, float eps, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        const float *xr = x + i * d;
        float *yr = y + i * d;
        double ss = 0;
        for (size_t j = 0; j < d; j++) ss += (double)xr[j] * xr[j];
        float r = (float)(1.0 / sqrt(ss / (double)d + (double)eps));
#pragma omp simd
        for (size_t j = 0; j < d; j++) yr[j] = w[j] * (xr[j] * r);
    }
}

void cm_dec_layernorm(const float *x, float *y, const float *g, const float *b, size_t n, size_t d, float eps,
                      int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        const float *xr = x + i * d;
        float *yr = y + i * d;
        double s = 0, ss = 0;
        for (size_t j = 0; j < d; j++) s += xr[j];
        double mu = s / (double)d;
        for (size_t j = 0; j < d; j++) ss += ((double)xr[j] - mu) * ((double)xr[j] - mu);
        float r = (float)(1.0 / sqrt(ss / (double)d + (double)eps)), m = (float)mu;
#pragma omp simd
        for (size_t j = 0; j < d; j++) yr[j] = (xr[j] - m) * r * g[j] + b[j];
    }
}

void cm_dec_rope_table(double theta, size_t head_dim, size_t max_len, float *cos_t, float *sin_t) {
    size_t half = head_dim / 2;
    for (size_t i = 0; i < half; i++) {
        double inv = pow(theta, -(double)(2 * i) / (double)head_dim);
        for (size_t p = 0; p < max_len; p++) {
            double a = (double)p * inv;
            cos_t[p * half + i] = (float)cos(a);
            sin_t[p * half + i] = (float)sin(a);
        }
    }
}

void cm_dec_rope_apply(float *x, size_t ld, size_t n_tokens, size_t n_heads, size_t head_dim, const size_t *pos,
                       const float *cos_t, const float *sin_t, int threads) {
    size_t half = head_dim / 2;
#pragma omp parallel for num_threads(threads) schedule(static) if (n_tokens * n_heads * head_dim > 32768)
    for (size_t t = 0; t < n_tokens; t++) {
        const float *c = cos_t + pos[t] * half, *s = sin_t + pos[t] * half;
        for (size_t h = 0; h < n_heads; h++) {
            float *a = x + t * ld + h * head_dim, *b = a + half;
#pragma omp simd
            for (size_t i = 0; i < half; i++) {
                float x1 = a[i], x2 = b[i];
                a[i] = x1 * c[i] - x2 * s[i];
                b[i] = x2 * c[i] + x1 * s[i];
            }
        }
    }
}

enum { QBLK = 64 };

int cm_dec_attention(const float *q, size_t ldq, const float *k, const float *v, size_t ldkv, float *out,
                     size_t ldo, size_t n_heads, size_t n_kv_heads, size_t head_dim, const size_t *offset,
                     const size_t *length, size_t n_seqs, int causal, size_t window, int threads) {
    size_t max_len = 0, ntasks = 0, work = 0;
    for (size_t s = 0; s < n_seqs; s++) {
        if (length[s] > max_len) max_len = length[s];
        ntasks += (length[s] + QBLK - 1) / QBLK;
        work += length[s] * length[s];
    }
    if (!max_len) return CM_OK;
    ntasks *= n_heads;
    int nt = threads < 1 ? 1 : threads;
    if ((size_t)nt > ntasks) nt = (int)ntasks;
    if (work * n_heads * head_dim < ((size_t)1 << 21)) nt = 1;   /* too little work to wake another thread */
    float *scratch = cm_malloc((size_t)nt * QBLK * max_len * sizeof(float));
    if (!scratch) return CM_ERR_NOMEM;
    /* task list: (seq, head, block) flattened */
    size_t *task_seq = cm_malloc(ntasks / n_heads * 2 * sizeof(size_t));
    if (!task_seq) { free(scratch); return CM_ERR_NOMEM; }
    size_t nb = 0;
    for (size_t s = 0; s < n_seqs; s++)
        for (size_t r0 = 0; r0 < length[s]; r0 += QBLK) { task_seq[2 * nb] = s; task_seq[2 * nb + 1] = r0; nb++; }
    const size_t group = n_heads / n_kv_heads;
    const float scale = (float)(1.0 / sqrt((double)head_dim));
    cm_ops_set_threads(1);
#pragma omp parallel num_threads(nt)
    {
        float *S = scratch + (size_t)omp_get_thread_num() * QBLK * max_len;
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < ntasks; t++) {
            size_t b = t / n_heads, h = t % n_heads, s = task_seq[2 * b], r0 = task_seq[2 * b + 1];
            size_t L = length[s], base = offset[s], rows = L - r0 < QBLK ? L - r0 : QBLK;
            size_t g = h / group;
            /* key range for this block: [k0, k1) */
            size_t k0 = 0, k1 = causal ? r0 + rows : L;
            if (causal && window > 0 && r0 + 1 > window) k0 = r0 + 1 - window;
            size_t nk = k1 - k0;
            const float *Q = q + (base + r0) * ldq + h * head_dim;
            const float *K = k + (base + k0) * ldkv + g * head_dim;
            const float *V = v + (base + k0) * ldkv + g * head_dim;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)nk, (blasint)head_dim, scale,
                        Q, (blasint)ldq, K, (blasint)ldkv, 0.0f, S, (blasint)nk);
            for (size_t i = 0; i < rows; i++) {
                float *sr = S + i * nk;
                size_t qi = r0 + i;
                /* visible keys [lo, hi) relative to k0 */
                size_t lo = 0, hi = nk;
                if (causal) {
                    hi = qi + 1 - k0;
                    if (window > 0 && qi + 1 > window && qi + 1 - window > k0) lo = qi + 1 - window - k0;
                }
                /* hi > lo: k0 <= qi, so the query sees at least itself */
                float inv = cm_exp_row(sr + lo, hi - lo);
                for (size_t j = 0; j < lo; j++) sr[j] = 0;
                for (size_t j = hi; j < nk; j++) sr[j] = 0;
                for (size_t j = lo; j < hi; j++) sr[j] *= inv;
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)rows, (blasint)head_dim, (blasint)nk, 1.0f,
                        S, (blasint)nk, V, (blasint)ldkv, 0.0f, out + (base + r0) * ldo + h * head_dim, (blasint)ldo);
        }
    }
    free(task_seq);
    free(scratch);
    return CM_OK;
}

void cm_dec_swiglu(float *g, size_t ldg, const float *u, size_t ldu, size_t n, size_t d, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        float *gr = g + i * ldg;
        const float *ur = u + i * ldu;
#pragma omp simd
        for (size_t j = 0; j < d; j++) gr[j] = gr[j] / (1.0f + cm_fexp(-gr[j])) * ur[j];
    }
}

void cm_dec_geglu(const float *u, const float *b, float *out, size_t n, size_t d, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        const float *ur = u + i * 2 * d;
        float *o = out + i * d;
#pragma omp simd
        for (size_t j = 0; j < d; j++) {
            float a = ur[j] + (b ? b[j] : 0.0f), g = ur[d + j] + (b ? b[d + j] : 0.0f);
            o[j] = a * (0.5f * g * (1.0f + cm_ferf(g * 0.70710678118654752f)));
        }
    }
}
