/* bf16.c: BF16/F32/I8 weight matrices, the tiled convert-then-sgemm linear of bf16.h and its dtype dispatch. */
#include "engine/nn/bf16.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/nn/dnnl_dl.h"
#include "engine/nn/lowp.h"
#include "engine/nn/ops.h"

void cm_bf16_rows_to_f32(const uint16_t *src, size_t n, float *dst) {
    uint32_t *d = (uint32_t *)dst;
#pragma omp simd
    for (size_t i = 0; i < n; i++) d[i] = (uint32_t)src[i] << 16;
}

int cm_wmat_from_tensor(cm_wmat *w, const cm_st_tensor *t) {
    memset(w, 0, sizeof *w);
    if (t->ndim != 2)
        return cm_error(CM_ERR_FORMAT, "%s: tensor '%s': expected a 2-D weight matrix, got %d dimensions", t->file,
                        t->name, t->ndim);
    w->rows = (size_t)t->shape[0];
    w->cols = (size_t)t->shape[1];
    size_t n = w->rows * w->cols;
    if (t->dtype == CM_ST_BF16) {
        w->type = CM_W_BF16;
        const uint16_t *p = cm_st_bf16_ptr(t);
        if (p) { w->data = p; return CM_OK; }
        uint16_t *c = cm_malloc(n * sizeof *c);
        if (!c) return CM_ERR_NOMEM;
        memcpy(c, t->data, n * sizeof *c);
        w->data = w->owned = c;
        return CM_OK;
    }
    w->type = CM_W_F32;
    if (t->dtype == CM_ST_F32 && ((uintptr_t)t->data & 3) == 0) { w->data = t->data; return CM_OK; }
    float *c = NULL;
    CM_TRY(cm_st_to_f32(t, &c));
    w->data = w->owned = c;
    return CM_OK;
}

void cm_wmat_wrap_f32(cm_wmat *w, const float *data, size_t rows, size_t cols) {
    memset(w, 0, sizeof *w);
    w->type = CM_W_F32;
    w->data = data;
    w->rows = rows;
    w->cols = cols;
}

void cm_wmat_free(cm_wmat *w) {
    if (!w) return;
    free(w->owned);
    free(w->scale);
    free(w->comp);
    memset(w, 0, sizeof *w);
}

size_t cm_wmat_bytes(const cm_wmat *w) {
    if (w->type == CM_W_I8) return w->rows * w->cols + w->rows * (sizeof(float) + sizeof(int32_t));
    return w->rows * w->cols * (w->type == CM_W_BF16 ? 2 : 4);
}

void cm_wmat_row(const cm_wmat *w, size_t r, float *dst) {
    if (w->type == CM_W_BF16) cm_bf16_rows_to_f32((const uint16_t *)w->data + r * w->cols, w->cols, dst);
    else if (w->type == CM_W_I8) {
        const int8_t *q = (const int8_t *)w->data + r * w->cols;
        for (size_t k = 0; k < w->cols; k++) dst[k] = (float)q[k] * w->scale[r];
    } else memcpy(dst, (const float *)w->data + r * w->cols, w->cols * sizeof(float));
}

void cm_wscratch_free(cm_wscratch *ws) {
    if (!ws) return;
    free(ws->buf);
    free(ws->lp);
    memset(ws, 0, sizeof *ws);
}

float *cm_wscratch_floats(cm_wscratch *ws, size_t n) {
    if (ws->cap >= n) return ws->buf;
    free(ws->buf);
    ws->buf = cm_malloc(n * sizeof(float));
    ws->cap = ws->buf ? n : 0;
    return ws->buf;
}

cm_wlinear_params cm_wlinear_default_params(void) {
    cm_wlinear_params p = {.blas_mode = 0, .tile_mb = 8, .big_from = 64, .dtype = CM_CPU_FP32};
    return p;
}

/* Each thread converts its own tiles (about budget bytes of float32 each) and multiplies them with
 * single-threaded sgemm: no BLAS thread pool competing with the OpenMP threads. */
static int linear_tiles(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
                        int threads, cm_wscratch *ws, size_t budget) {
    size_t T = budget / 4 / (w->cols ? w->cols : 1);
    size_t per = w->rows / (2 * (size_t)threads);
    if (T > per) T = per;
    if (T < 16) T = 16;
    size_t ntiles = (w->rows + T - 1) / T;
    int nt = threads;
    if ((size_t)nt > ntiles) nt = (int)ntiles;
    if (n * w->rows * w->cols < ((size_t)1 << 22)) nt = 1;   /* too little work to wake another thread */
    float *scratch = cm_wscratch_floats(ws, (size_t)nt * T * w->cols);
    if (!scratch) return CM_ERR_NOMEM;
    cm_ops_set_threads(1);
    const uint16_t *W = (const uint16_t *)w->data;
#pragma omp parallel num_threads(nt)
    {
        float *tile = scratch + (size_t)omp_get_thread_num() * T * w->cols;
#pragma omp for schedule(dynamic, 1)
        for (size_t k = 0; k < ntiles; k++) {
            size_t r0 = k * T, rt = w->rows - r0 < T ? w->rows - r0 : T;
            cm_bf16_rows_to_f32(W + r0 * w->cols, rt * w->cols, tile);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)rt, (blasint)w->cols, 1.0f, x,
                        (blasint)ldx, tile, (blasint)w->cols, beta, y + r0, (blasint)ldy);
        }
    }
    return CM_OK;
}

/* Alternative (CMTEB_BF16_MODE=blas): big tiles converted by all threads, then one multi-threaded sgemm per tile. */
static int linear_big(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
                      int threads, cm_wscratch *ws, size_t tile_mb) {
    size_t budget = tile_mb << 22;
    size_t T = budget / 4 / (w->cols ? w->cols : 1);
    if (T < 64) T = 64;
    if (T > w->rows) T = w->rows;
    float *tile = cm_wscratch_floats(ws, T * w->cols);
    if (!tile) return CM_ERR_NOMEM;
    const uint16_t *W = (const uint16_t *)w->data;
    for (size_t r0 = 0; r0 < w->rows; r0 += T) {
        size_t rt = w->rows - r0 < T ? w->rows - r0 : T, cols = w->cols;
#pragma omp parallel for num_threads(threads) schedule(static) if (rt * cols > 65536)
        for (size_t r = 0; r < rt; r++) cm_bf16_rows_to_f32(W + (r0 + r) * cols, cols, tile + r * cols);
        cm_ops_set_threads(threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)rt, (blasint)cols, 1.0f, x,
                    (blasint)ldx, tile, (blasint)cols, beta, y + r0, (blasint)ldy);
    }
    return CM_OK;
}

/* The F32 and BF16 products of cm_wlinear (x already rounded for dtype BF16). */
static int linear_f32_bf16(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
                           int threads, const cm_wlinear_params *lp, cm_wscratch *ws) {
    if (w->type == CM_W_F32) {
        cm_ops_set_threads(threads);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)n, (blasint)w->rows, (blasint)w->cols, 1.0f, x,
                    (blasint)ldx, (const float *)w->data, (blasint)w->cols, beta, y, (blasint)ldy);
        return CM_OK;
    }
    cm_wscratch local = {0};
    cm_wscratch *s = ws ? ws : &local;
    cm_wlinear_params d = cm_wlinear_default_params();
    size_t tile_mb = lp && lp->tile_mb ? lp->tile_mb : d.tile_mb;
    size_t big_from = lp && lp->big_from ? lp->big_from : d.big_from;
    int rc;
    if (n < big_from) rc = linear_tiles(x, ldx, w, n, y, ldy, beta, threads, s, 1u << 20);
    else if (lp && lp->blas_mode) rc = linear_big(x, ldx, w, n, y, ldy, beta, threads, s, tile_mb);
    else rc = linear_tiles(x, ldx, w, n, y, ldy, beta, threads, s, tile_mb << 20);
    cm_wscratch_free(&local);
    return rc;
}

int cm_wlinear_bias(const float *x, size_t ldx, const cm_wmat *w, const float *bias, size_t n, float *y,
                    size_t ldy, float beta, int threads, const cm_wlinear_params *lp, cm_wscratch *ws) {
    if (n == 0 || w->rows == 0) return CM_OK;
    if (threads < 1) threads = 1;
    cm_wscratch local = {0};
    cm_wscratch *s = ws ? ws : &local;
    int rc;
    if (w->type == CM_W_I8) {
        rc = cm_lowp_linear_i8(x, ldx, w, bias, n, y, ldy, beta, threads, s);   /* adds the bias itself */
        cm_wscratch_free(&local);
        return rc;
    }
    if (w->type == CM_W_BF16 && lp && lp->dtype == CM_CPU_BF16) {
        rc = CM_ERR_UNSUPPORTED;
        if (cm_dnnl_matmul_ok(CM_DNNL_BF16)) rc = cm_lowp_linear_bf16_dnnl(x, ldx, w, n, y, ldy, beta, threads, s);
        if (rc == CM_ERR_UNSUPPORTED) {
            float *xr = NULL;
            rc = cm_lowp_round_x_bf16(x, ldx, n, w->cols, threads, s, &xr);
            if (rc == CM_OK) rc = linear_f32_bf16(xr, w->cols, w, n, y, ldy, beta, threads, lp, s);
        }
    } else rc = linear_f32_bf16(x, ldx, w, n, y, ldy, beta, threads, lp, s);
    cm_wscratch_free(&local);
    if (rc != CM_OK || !bias) return rc;
#pragma omp parallel for num_threads(threads) schedule(static) if (n * w->rows >= 65536)
    for (size_t m = 0; m < n; m++)
        for (size_t r = 0; r < w->rows; r++) y[m * ldy + r] += bias[r];
    return CM_OK;
}

int cm_wlinear(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
               int threads, const cm_wlinear_params *lp, cm_wscratch *ws) {
    return cm_wlinear_bias(x, ldx, w, NULL, n, y, ldy, beta, threads, lp, ws);
}

int cm_weight_vector(const cm_safetensors *st, const char *name, int64_t n, float **out) {
    const cm_st_tensor *t = NULL;
    int64_t shape[1] = {n};
    *out = NULL;
    CM_TRY(cm_st_expect(st, name, 1, shape, &t));
    return cm_st_to_f32(t, out);
}

int cm_weight_matrix(const cm_safetensors *st, const char *name, int64_t rows, int64_t cols, cm_wmat *w) {
    const cm_st_tensor *t = NULL;
    int64_t shape[2] = {rows, cols};
    memset(w, 0, sizeof *w);
    CM_TRY(cm_st_expect(st, name, 2, shape, &t));
    return cm_wmat_from_tensor(w, t);
}
