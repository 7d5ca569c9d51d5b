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

void cm_dec_rope_table_ex(const cm_dec_rope *r, size_t head_dim, size_t seq_len, size_t n_pos, float *cos_t,
                          float *sin_t) {
    size_t half = head_dim / 2;
    double theta = r->theta, hd = (double)head_dim;
    if (r->kind == CM_ROPE_DYNAMIC && (double)seq_len > r->original_max)
        theta *= pow(r->factor * (double)seq_len / r->original_max - (r->factor - 1.0), hd / (hd - 2.0));
    for (size_t i = 0; i < half; i++) {
        double inv = pow(theta, -(double)(2 * i) / hd);
        if (r->kind == CM_ROPE_LINEAR) {
            inv /= r->factor;
        } else if (r->kind == CM_ROPE_LLAMA3) {
            double wl = 2.0 * 3.14159265358979323846 / inv, low_wl = r->original_max / r->low_freq_factor;
            double high_wl = r->original_max / r->high_freq_factor;
            if (wl > low_wl) {
                inv /= r->factor;
            } else if (!(wl < high_wl)) {
                double sm = (r->original_max / wl - r->low_freq_factor) / (r->high_freq_factor - r->low_freq_factor);
                inv = (1.0 - sm) * inv / r->factor + sm * inv;
            }
        }
        for (size_t p = 0; p < n_pos; p++) {
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
    cm_dec_attn_opts o = {0};
    o.causal = causal;
    o.window = causal ? window : 0;
    return cm_dec_attention_ex(q, ldq, k, v, ldkv, out, ldo, n_heads, n_kv_heads, head_dim, offset, length, n_seqs,
                               &o, threads);
}

/* Visible keys [lo, hi) of query qi in a sequence of L tokens under o. */
static void key_range(const cm_dec_attn_opts *o, size_t qi, size_t L, size_t *lo, size_t *hi) {
    *lo = 0;
    *hi = o->causal ? qi + 1 : L;
    if (o->window > 0) {
        if (qi + 1 > o->window) *lo = qi + 1 - o->window;
        if (o->window_both && !o->causal && qi + o->window < L) *hi = qi + o->window;
    }
}

int cm_dec_attention_ex(const float *q, size_t ldq, const float *k, const float *v, size_t ldkv, float *out,
                        size_t ldo, size_t n_heads, size_t n_kv_heads, size_t head_dim, const size_t *offset,
                        const size_t *length, size_t n_seqs, const cm_dec_attn_opts *o, int threads) {
    size_t max_len = 0, ntasks = 0, work = 0;
    for (size_t s = 0; s < n_seqs; s++) {
        if (length[s] > max_len) max_len = length[s];
        ntasks += (length[s] + QBLK - 1) / QBLK;
        work += length[s] * length[s];
    }
    if (!max_len) return CM_OK;
    if (o->rel_bias && max_len > o->rel_span)
        return cm_error(CM_ERR_INTERNAL, "attention: a sequence of %zu tokens exceeds the relative-bias table (%zu)",
                        max_len, o->rel_span);
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
    const float scale = o->scale > 0 ? o->scale : (float)(1.0 / sqrt((double)head_dim));
    const size_t span = 2 * o->rel_span - 1;
    cm_ops_set_threads(1);
#pragma omp parallel num_threads(nt)
    {
        float *S = scratch + (size_t)omp_get_thread_num() * QBLK * max_len;
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < ntasks; t++) {
            size_t b = t / n_heads, h = t % n_heads, s = task_seq[2 * b], r0 = task_seq[2 * b + 1];
            size_t L = length[s], base = offset[s], rows = L - r0 < QBLK ? L - r0 : QBLK;
            size_t g = h / group;
            /* key range for this block: [k0, k1) = union of its rows' ranges */
            size_t k0, k1, lo_last, hi_first;
            key_range(o, r0, L, &k0, &hi_first);
            key_range(o, r0 + rows - 1, L, &lo_last, &k1);
            size_t nk = k1 - k0;
            const float *Q = q + (base + r0) * ldq + h * head_dim;
            const float *K = k + (base + k0) * ldkv + g * head_dim;
            const float *V = v + (base + k0) * ldkv + g * head_dim;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)rows, (blasint)nk, (blasint)head_dim, scale,
                        Q, (blasint)ldq, K, (blasint)ldkv, 0.0f, S, (blasint)nk);
            for (size_t i = 0; i < rows; i++) {
                float *sr = S + i * nk;
                size_t qi = r0 + i, lo, hi;
                key_range(o, qi, L, &lo, &hi);
                lo -= k0;   /* relative to k0; hi > lo: the query sees at least itself */
                hi -= k0;
                if (o->softcap > 0) {
                    float c = o->softcap, ic = 1.0f / o->softcap;
                    for (size_t j = lo; j < hi; j++) sr[j] = c * tanhf(sr[j] * ic);
                }
                if (o->rel_bias) {   /* bias of relative position (key - query) */
                    const float *rb = o->rel_bias + h * span + (o->rel_span - 1) - qi + k0;
                    for (size_t j = lo; j < hi; j++) sr[j] += rb[j];
                }
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

void cm_dec_gelu_gate(float *g, const float *u, size_t n, size_t d, int tanh_approx, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n; i++) {
        float *gr = g + i * d;
        const float *ur = u ? u + i * d : NULL;
        for (size_t j = 0; j < d; j++) {
            float x = gr[j], y;
            if (tanh_approx) y = 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
            else y = 0.5f * x * (1.0f + cm_ferf(x * 0.70710678118654752f));
            gr[j] = ur ? y * ur[j] : y;
        }
    }
}

void cm_dec_relu(float *g, size_t n, size_t d, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n * d > 32768)
    for (size_t i = 0; i < n * d; i++) g[i] = g[i] > 0 ? g[i] : 0.0f;
}
