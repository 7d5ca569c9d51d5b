/* lowp.c: the bf16 and int8 products of the CPU engine (lowp.h): dtype names, weight preparation, kernels. */
#include "engine/nn/lowp.h"

#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/dnnl_dl.h"

/* ---- dtype names ------------------------------------------------------------------------------------------- */

int cm_cpu_dtype_parse(const char *s, cm_cpu_dtype *out) {
    static const struct { const char *name; cm_cpu_dtype d; } names[] = {
        {"fp32", CM_CPU_FP32}, {"float32", CM_CPU_FP32}, {"bf16", CM_CPU_BF16},
        {"bfloat16", CM_CPU_BF16}, {"int8", CM_CPU_INT8},
    };
    for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].d;
            return CM_OK;
        }
    return cm_error(CM_ERR_ARG, "dtype '%s': expected fp32 (or float32), bf16 (or bfloat16) or int8",
                    s ? s : "(null)");
}

const char *cm_cpu_dtype_name(cm_cpu_dtype d) {
    switch (d) {
    case CM_CPU_BF16: return "bf16";
    case CM_CPU_INT8: return "int8";
    default: return "fp32";
    }
}

static pthread_once_t names_once = PTHREAD_ONCE_INIT;
static char           bf16_dnnl_name[96], i8_dnnl_name[96];
static void names_build(void) {
    snprintf(bf16_dnnl_name, sizeof bf16_dnnl_name, "oneDNN %s bf16 matmul (%s)", cm_dnnl_version(), cm_dnnl_isa());
    snprintf(i8_dnnl_name, sizeof i8_dnnl_name, "oneDNN %s u8s8s32 (%s)", cm_dnnl_version(), cm_dnnl_isa());
}

const char *cm_cpu_dtype_backend(cm_cpu_dtype d) {
    int dnnl = cm_dnnl_available();   /* (CMTEB_ONEDNN=off: the portable kernels) */
    if (dnnl) pthread_once(&names_once, names_build);
    switch (d) {
    case CM_CPU_BF16: return dnnl && cm_dnnl_matmul_ok(CM_DNNL_BF16) ? bf16_dnnl_name : "convert + OpenBLAS sgemm";
    case CM_CPU_INT8: return dnnl ? i8_dnnl_name : "portable C";
    default: return "OpenBLAS sgemm";
    }
}

/* ---- weight preparation ------------------------------------------------------------------------------------ */

/* max |x[k]| over n values, or NaN when one of them is NaN (the quantizers' range). */
static float row_absmax(const float *x, size_t n) {
    float m = 0.0f;
    int nan = 0;
    for (size_t k = 0; k < n; k++) {
        float a = fabsf(x[k]);
        if (a > m) m = a;
        nan |= a != a;
    }
    return nan ? NAN : m;
}

/* Quantizes one weight row (cols floats) to q with *scale and *comp (lowp.h). */
static void quantize_wrow(const float *w, size_t cols, int8_t *q, float *scale, int32_t *comp) {
    float s = row_absmax(w, cols) / 63.0f;
    int32_t sum = 0;
    if (s == 0.0f || !isfinite(s)) {
        memset(q, 0, cols);
        s = s == 0.0f ? 0.0f : NAN;
    } else {
        for (size_t k = 0; k < cols; k++) {
            float v = rintf(w[k] / s);
            v = v < -63.0f ? -63.0f : v > 63.0f ? 63.0f : v;
            q[k] = (int8_t)v;
            sum += q[k];
        }
    }
    *scale = s;
    *comp = -128 * sum;
}

int cm_wmat_prepare(cm_wmat *w, cm_cpu_dtype dt) {
    size_t rows = w->rows, cols = w->cols, n = rows * cols;
    if (dt == CM_CPU_FP32) return CM_OK;
    if (dt == CM_CPU_BF16) {
        if (w->type == CM_W_BF16) return CM_OK;
        if (w->type != CM_W_F32)
            return cm_error(CM_ERR_ARG, "weight (%zu, %zu): int8 weights cannot be prepared for bf16", rows, cols);
        uint16_t *b = cm_malloc(n ? n * sizeof *b : 1);
        if (!b) return cm_error(CM_ERR_NOMEM, "weight (%zu, %zu): no memory for its bf16 copy", rows, cols);
        const float *f = w->data;
#pragma omp parallel for schedule(static) if (n >= ((size_t)1 << 20))
        for (size_t i = 0; i < n; i++) b[i] = cm_lowp_bf16(f[i]);
        free(w->owned);
        w->type = CM_W_BF16;
        w->data = w->owned = b;
        return CM_OK;
    }
    if (dt != CM_CPU_INT8) return cm_error(CM_ERR_ARG, "cm_wmat_prepare: unknown dtype %d", (int)dt);
    if (w->type == CM_W_I8) return CM_OK;
    /* rows in parallel (a 7B decoder has 7e9 weights to quantize at load); one bf16 -> f32 row buffer per thread */
    int nt = n >= ((size_t)1 << 20) ? omp_get_max_threads() : 1;
    if (nt < 1) nt = 1;
    int8_t *q = cm_malloc(n ? n : 1);
    float *scale = cm_malloc((rows ? rows : 1) * sizeof *scale);
    int32_t *comp = cm_malloc((rows ? rows : 1) * sizeof *comp);
    float *row = w->type == CM_W_BF16 ? cm_malloc((size_t)nt * (cols ? cols : 1) * sizeof *row) : NULL;
    if (!q || !scale || !comp || (w->type == CM_W_BF16 && !row)) {
        free(q); free(scale); free(comp); free(row);
        return cm_error(CM_ERR_NOMEM, "weight (%zu, %zu): no memory for its int8 copy", rows, cols);
    }
#pragma omp parallel for num_threads(nt) schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *src = (const float *)w->data + r * cols;
        if (row) {
            float *mine = row + (size_t)omp_get_thread_num() * cols;
            cm_bf16_rows_to_f32((const uint16_t *)w->data + r * cols, cols, mine);
            src = mine;
        }
        quantize_wrow(src, cols, q + r * cols, &scale[r], &comp[r]);
    }
    free(row);
    free(w->owned);
    w->type = CM_W_I8;
    w->data = w->owned = q;
    w->scale = scale;
    w->comp = comp;
    return CM_OK;
}

/* ---- scratch ----------------------------------------------------------------------------------------------- */

static void *lp_get(cm_wscratch *ws, size_t bytes) {
    if (ws->lp_cap >= bytes) return ws->lp;
    free(ws->lp);
    ws->lp = cm_malloc(bytes);
    ws->lp_cap = ws->lp ? bytes : 0;
    return ws->lp;
}

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

/* ---- int8 ---------------------------------------------------------------------------------------------------- */

void cm_lowp_quantize_row(const float *x, size_t n, uint8_t *u, float *s) {
    float sc = row_absmax(x, n) / 127.0f;
    if (sc == 0.0f || !isfinite(sc)) {
        memset(u, 128, n);
        *s = sc == 0.0f ? 0.0f : NAN;
        return;
    }
    for (size_t k = 0; k < n; k++) {
        float v = rintf(x[k] / sc);
        v = v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v;
        u[k] = (uint8_t)((int)v + 128);
    }
    *s = sc;
}

/* sum_k a[k] * b[k] over K: u8 x s8 products (each fits int16) summed in int32; GCC vectorises it (pmaddwd). */
static inline int32_t dot_u8s8(const uint8_t *a, const int8_t *b, size_t K) {
    int32_t s = 0;
    for (size_t k = 0; k < K; k++) s += (int32_t)((int16_t)a[k] * (int16_t)b[k]);
    return s;
}

/* Four dot products of a with rows b, b + K, b + 2K, b + 3K at once (a is read once). */
static inline void dot4_u8s8(const uint8_t *a, const int8_t *b, size_t K, int32_t *out) {
    const int8_t *b1 = b + K, *b2 = b + 2 * K, *b3 = b + 3 * K;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t k = 0; k < K; k++) {
        int16_t av = (int16_t)a[k];
        s0 += (int32_t)(av * (int16_t)b[k]);
        s1 += (int32_t)(av * (int16_t)b1[k]);
        s2 += (int32_t)(av * (int16_t)b2[k]);
        s3 += (int32_t)(av * (int16_t)b3[k]);
    }
    out[0] = s0; out[1] = s1; out[2] = s2; out[3] = s3;
}

/* Portable kernel: blocks of RB weight rows (kept in cache) times blocks of MB rows of u, over the threads. */
static void gemm_i8_portable(const uint8_t *u, const cm_wmat *w, size_t n, int32_t *acc, size_t ldc, int threads) {
    enum { RB = 32, MB = 16 };
    size_t N = w->rows, K = w->cols;
    const int8_t *W = w->data;
    size_t nrb = (N + RB - 1) / RB, nmb = (n + MB - 1) / MB, nt = nrb * nmb;
    int nthr = threads;
    if ((size_t)nthr > nt) nthr = (int)nt;
    if (n * N * K < ((size_t)1 << 20)) nthr = 1;   /* too little work to wake another thread */
#pragma omp parallel for num_threads(nthr) schedule(static)
    for (size_t t = 0; t < nt; t++) {
        size_t r0 = (t / nmb) * RB, m0 = (t % nmb) * MB;
        size_t r1 = r0 + RB < N ? r0 + RB : N, m1 = m0 + MB < n ? m0 + MB : n;
        for (size_t m = m0; m < m1; m++) {
            const uint8_t *um = u + m * K;
            int32_t *am = acc + m * ldc;
            size_t r = r0;
            for (; r + 4 <= r1; r += 4) {
                int32_t d[4];
                dot4_u8s8(um, W + r * K, K, d);
                for (int i = 0; i < 4; i++) am[r + i] = d[i] + w->comp[r + i];
            }
            for (; r < r1; r++) am[r] = dot_u8s8(um, W + r * K, K) + w->comp[r];
        }
    }
}

int cm_lowp_gemm_i8(int dnnl, const uint8_t *u, const cm_wmat *w, size_t n, int32_t *acc, size_t ldc, int threads) {
    if (w->type != CM_W_I8)
        return cm_error(CM_ERR_ARG, "int8 product: weight (%zu, %zu) is not int8 (cm_wmat_prepare first)", w->rows,
                        w->cols);
    if (n == 0 || w->rows == 0) return CM_OK;
    if (dnnl)
        return cm_dnnl_gemm_u8s8s32(n, w->rows, w->cols, u, w->cols, w->data, w->cols, acc, ldc, w->comp, threads);
    gemm_i8_portable(u, w, n, acc, ldc, threads);
    return CM_OK;
}

int cm_lowp_linear_i8(const float *x, size_t ldx, const cm_wmat *w, const float *bias, size_t n, float *y,
                      size_t ldy, float beta, int threads, cm_wscratch *ws) {
    size_t N = w->rows, K = w->cols;
    if (n == 0 || N == 0) return CM_OK;
    if (threads < 1) threads = 1;
    size_t acc_b = align64(n * N * sizeof(int32_t)), s_b = align64(n * sizeof(float)), u_b = align64(n * K);
    char *base = lp_get(ws, acc_b + s_b + u_b);
    if (!base)
        return cm_error(CM_ERR_NOMEM, "int8 product (%zu x %zu x %zu): no memory for %zu bytes of scratch", n, K, N,
                        acc_b + s_b + u_b);
    int32_t *acc = (int32_t *)base;
    float *s = (float *)(base + acc_b);
    uint8_t *u = (uint8_t *)(base + acc_b + s_b);
    int small = n * K < 65536;
#pragma omp parallel for num_threads(threads) schedule(static) if (!small)
    for (size_t m = 0; m < n; m++) cm_lowp_quantize_row(x + m * ldx, K, u + m * K, &s[m]);
    int rc = CM_ERR_UNSUPPORTED;
    if (cm_dnnl_available()) rc = cm_lowp_gemm_i8(1, u, w, n, acc, N, threads);
    if (rc == CM_ERR_UNSUPPORTED) rc = cm_lowp_gemm_i8(0, u, w, n, acc, N, threads);
    if (rc != CM_OK) return rc;
    const float *scale = w->scale;
    int accumulate = beta != 0.0f;
#pragma omp parallel for num_threads(threads) schedule(static) if (n * N >= 65536)
    for (size_t m = 0; m < n; m++) {
        const int32_t *am = acc + m * N;
        float sm = s[m], *ym = y + m * ldy;
        for (size_t r = 0; r < N; r++) {
            float v = (float)am[r] * sm;
            v = v * scale[r];
            if (bias) v = v + bias[r];
            if (accumulate) v = v + beta * ym[r];
            ym[r] = v;
        }
    }
    return CM_OK;
}

/* ---- bf16 ---------------------------------------------------------------------------------------------------- */

int cm_lowp_round_x_bf16(const float *x, size_t ldx, size_t n, size_t cols, int threads, cm_wscratch *ws,
                         float **xr) {
    float *r = lp_get(ws, align64(n * cols * sizeof(float)));
    if (!r) return cm_error(CM_ERR_NOMEM, "bf16 product: no memory for %zu rounded activations", n * cols);
    if (threads < 1) threads = 1;
#pragma omp parallel for num_threads(threads) schedule(static) if (n * cols >= 65536)
    for (size_t m = 0; m < n; m++) {
        const float *xm = x + m * ldx;
        uint32_t *rm = (uint32_t *)(r + m * cols);
        for (size_t k = 0; k < cols; k++) rm[k] = (uint32_t)cm_lowp_bf16(xm[k]) << 16;
    }
    *xr = r;
    return CM_OK;
}

int cm_lowp_linear_bf16_dnnl(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy,
                             float beta, int threads, cm_wscratch *ws) {
    size_t N = w->rows, K = w->cols;
    if (w->type != CM_W_BF16)
        return cm_error(CM_ERR_ARG, "bf16 product: weight (%zu, %zu) is not bf16 (cm_wmat_prepare first)", N, K);
    if (!cm_dnnl_matmul_ok(CM_DNNL_BF16))
        return cm_error(CM_ERR_UNSUPPORTED, "oneDNN has no bf16 matmul on this CPU%s%s", *cm_dnnl_why() ? ": " : "",
                        cm_dnnl_why());
    if (n == 0 || N == 0) return CM_OK;
    if (threads < 1) threads = 1;
    uint16_t *xb = lp_get(ws, align64(n * K * sizeof(uint16_t)));
    if (!xb) return cm_error(CM_ERR_NOMEM, "bf16 product: no memory for %zu bf16 activations", n * K);
#pragma omp parallel for num_threads(threads) schedule(static) if (n * K >= 65536)
    for (size_t m = 0; m < n; m++)
        for (size_t k = 0; k < K; k++) xb[m * K + k] = cm_lowp_bf16(x[m * ldx + k]);
    if (beta == 0.0f) return cm_dnnl_matmul(CM_DNNL_BF16, n, N, K, xb, K, w->data, K, y, ldy, threads);
    float *t = cm_wscratch_floats(ws, n * N);
    if (!t) return cm_error(CM_ERR_NOMEM, "bf16 product: no memory for a (%zu, %zu) result", n, N);
    CM_TRY(cm_dnnl_matmul(CM_DNNL_BF16, n, N, K, xb, K, w->data, K, t, N, threads));
    for (size_t m = 0; m < n; m++)
        for (size_t r = 0; r < N; r++) y[m * ldy + r] = beta * y[m * ldy + r] + t[m * N + r];
    return CM_OK;
}
