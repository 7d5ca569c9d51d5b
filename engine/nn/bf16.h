/*
 * bf16.h: weight matrices of the decoder engine kept in their stored dtype
 * (BF16 stays BF16: a 7B model needs 2 bytes per parameter, ~14.5 GB, not 29)
 * and used through y = x . W^T with W converted to float32 one tile of rows
 * at a time, each tile multiplied with OpenBLAS sgemm.
 *
 * A cm_wmat either borrows the checkpoint's mapping (BF16 or F32 data that
 * is suitably aligned: zero copy) or owns a converted copy (F16, unaligned).
 *
 * Ownership: cm_wmat_from_tensor may allocate (w->owned); cm_wmat_free
 * releases that (a borrowed mapping is left alone; NULL is fine). Functions
 * that take x/y borrow them.
 */
#ifndef CMTEB_ENGINE_NN_BF16_H
#define CMTEB_ENGINE_NN_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "engine/nn/safetensors.h"

typedef enum cm_wtype { CM_W_F32 = 0, CM_W_BF16 = 1 } cm_wtype;

typedef struct cm_wmat {
    cm_wtype    type;
    const void *data;    /* (rows, cols) row-major: const float* or const uint16_t* (bf16 bits) */
    size_t      rows;    /* out features of a Linear */
    size_t      cols;    /* in features */
    void       *owned;   /* non-NULL when data is our own copy */
} cm_wmat;

/* Wraps a 2-D tensor (rows, cols) of the checkpoint; F16 is converted to
 * F32 (owned copy), BF16/F32 are borrowed when aligned, copied otherwise. */
int  cm_wmat_from_tensor(cm_wmat *w, const cm_st_tensor *t);
void cm_wmat_free(cm_wmat *w);
/* Bytes the matrix occupies in memory (borrowed mappings included). */
size_t cm_wmat_bytes(const cm_wmat *w);

/* Converts n bf16 values to float32 (vectorised). */
void cm_bf16_rows_to_f32(const uint16_t *src, size_t n, float *dst);
/* Row r of w as float32 into dst (cols floats). */
void cm_wmat_row(const cm_wmat *w, size_t r, float *dst);

/* Reusable float32 scratch for the converted tiles (caller-owned; grows on
 * demand; release with cm_wscratch_free). */
typedef struct cm_wscratch { float *buf; size_t cap; } cm_wscratch;
void cm_wscratch_free(cm_wscratch *ws);

/* How cm_wlinear multiplies BF16 weights (speed only; the results are the
 * same up to float rounding). Resolved once at model load: hf_model.c starts
 * from cm_wlinear_default_params() and applies the documented environment
 * variables (bench/RESULTS.md). A zero field means its default. */
typedef struct cm_wlinear_params {
    int    blas_mode;   /* 0: per-thread tiles (default); 1: shared tiles + threaded BLAS (CMTEB_BF16_MODE=blas) */
    size_t tile_mb;     /* large-tile budget in MB of float32, default 8 (CMTEB_BF16_TILE_MB) */
    size_t big_from;    /* rows of x from which large tiles are used, default 64 (CMTEB_BF16_BIG_FROM) */
} cm_wlinear_params;

cm_wlinear_params cm_wlinear_default_params(void);

/* y (n, w->rows) = beta * y + x (n, w->cols) . W^T with row strides ldx, ldy;
 * beta is 0 (overwrite) or 1 (accumulate, e.g. into a residual stream).
 * F32 weights go to one multi-threaded sgemm. BF16 weights are converted to
 * float32 one tile of rows at a time: with many rows of x (n >= 64), large
 * tiles (lp->tile_mb) converted by each thread or, with lp->blas_mode, by all
 * threads then one multi-threaded sgemm per tile; with few rows
 * (n < lp->big_from), small tiles that each thread converts and multiplies on
 * its own (single-threaded sgemm). lp may be NULL (defaults); ws may be NULL
 * (scratch allocated per call). Returns CM_ERR_NOMEM if the scratch cannot be
 * allocated. */
int cm_wlinear(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
               int threads, const cm_wlinear_params *lp, cm_wscratch *ws);

/* Reads a float vector tensor (n values) into a new array (caller frees);
 * CM_ERR_NOTFOUND / CM_ERR_FORMAT name the tensor and shape. */
int cm_weight_vector(const cm_safetensors *st, const char *name, int64_t n, float **out);
/* Wraps a 2-D weight (rows, cols) into *w, checking its shape (release with
 * cm_wmat_free). */
int cm_weight_matrix(const cm_safetensors *st, const char *name, int64_t rows, int64_t cols, cm_wmat *w);

#endif
