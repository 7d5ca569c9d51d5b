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
#ifndef CMTEB_ENGINE_HF_BF16_H
#define CMTEB_ENGINE_HF_BF16_H

#include <stddef.h>
#include <stdint.h>

#include "engine/hf/safetensors.h"

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

/* y (n, w->rows) = beta * y + x (n, w->cols) . W^T with row strides ldx, ldy;
 * beta is 0 (overwrite) or 1 (accumulate, e.g. into a residual stream).
 * F32 weights go to one multi-threaded sgemm. BF16 weights are converted to
 * float32 one tile of rows at a time: with many rows of x (n >= 64), large
 * tiles (up to CMTEB_BF16_TILE_MB, default 32 MB of float32) converted by all
 * threads, then one multi-threaded sgemm per tile; with few rows, small tiles
 * that each thread converts and multiplies on its own (single-threaded
 * sgemm). ws may be NULL (scratch allocated per call). Returns CM_ERR_NOMEM
 * if the scratch cannot be allocated. */
int cm_wlinear(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
               int threads, cm_wscratch *ws);

#endif
