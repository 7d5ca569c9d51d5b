/*
 * bf16.h: weight matrices of the decoder engine kept in their stored dtype
 * (BF16 stays BF16: a 7B model needs 2 bytes per parameter, ~14.5 GB, not 29)
 * and used through y = x . W^T with W converted to float32 one tile of rows
 * at a time, each tile multiplied with OpenBLAS sgemm.
 *
 * A cm_wmat either borrows the checkpoint's mapping (BF16 or F32 data that
 * is suitably aligned: zero copy) or owns a converted copy (F16, unaligned).
 *
 * Compute dtypes (--dtype, issue #18): cm_wmat_prepare turns a matrix into
 * the form a dtype multiplies (bf16 weights; or int8 weights quantized per
 * output row), and cm_wlinear_bias runs the product of that form: fp32 and
 * the convert-then-sgemm path as before, bf16 activations, or int8 x int8
 * with int32 accumulation (the kernels are in lowp.c; lowp.h says how).
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

typedef enum cm_wtype { CM_W_F32 = 0, CM_W_BF16 = 1, CM_W_I8 = 2 } cm_wtype;

/* The compute dtype of the CPU engine's Linear layers. */
typedef enum cm_cpu_dtype { CM_CPU_FP32 = 0, CM_CPU_BF16 = 1, CM_CPU_INT8 = 2 } cm_cpu_dtype;

/* "fp32"/"float32", "bf16"/"bfloat16", "int8" into *out; else CM_ERR_ARG
 * naming the value and the choices. */
int         cm_cpu_dtype_parse(const char *s, cm_cpu_dtype *out);
/* "fp32", "bf16", "int8" (static). */
const char *cm_cpu_dtype_name(cm_cpu_dtype d);
/* What runs the products of dtype d on this machine now, e.g. "oneDNN 2.6.3
 * u8s8s32 (avx2)", "portable C", "convert + OpenBLAS sgemm" (for `cmteb
 * info`, provenance and logs; static text, valid for the process). */
const char *cm_cpu_dtype_backend(cm_cpu_dtype d);

typedef struct cm_wmat {
    cm_wtype    type;
    const void *data;    /* (rows, cols) row-major: const float*, const uint16_t* (bf16 bits) or const int8_t* */
    size_t      rows;    /* out features of a Linear */
    size_t      cols;    /* in features */
    void       *owned;   /* non-NULL when data is our own copy */
    float      *scale;   /* I8: (rows) dequantisation scale per output row (owned), else NULL */
    int32_t    *comp;    /* I8: (rows) -128 * sum of the row's int8 values (the u8 offset, owned), else NULL */
} cm_wmat;

/* Wraps a 2-D tensor (rows, cols) of the checkpoint; F16 is converted to
 * F32 (owned copy), BF16/F32 are borrowed when aligned, copied otherwise. */
int  cm_wmat_from_tensor(cm_wmat *w, const cm_st_tensor *t);
/* Wraps a float32 (rows, cols) matrix without copying (w borrows data). */
void cm_wmat_wrap_f32(cm_wmat *w, const float *data, size_t rows, size_t cols);
/* Prepares w for compute dtype dt, in place. FP32 leaves it as is. BF16
 * rounds F32 weights to bf16 (round-to-nearest-even, an owned copy); BF16
 * weights are kept. INT8 quantizes F32 or BF16 weights per output row,
 * symmetric: scale = max|w_row| / 63, q = clamp(rint(w / scale), -63, 63)
 * (scale 0 and q 0 for an all-zero row), owned, plus comp; I8 weights are
 * kept. A borrowed input stays valid (the caller may free it afterwards);
 * the previous owned copy is freed. CM_ERR_NOMEM on allocation failure (w
 * unchanged); CM_ERR_ARG for I8 weights asked to become bf16. */
int  cm_wmat_prepare(cm_wmat *w, cm_cpu_dtype dt);
/* Releases the owned copy and the I8 scale/comp arrays (NULL is fine). */
void cm_wmat_free(cm_wmat *w);
/* Bytes the matrix occupies in memory (borrowed mappings included; I8: one
 * byte per value plus the per-row scale and comp). */
size_t cm_wmat_bytes(const cm_wmat *w);

/* Converts n bf16 values to float32 (vectorised). */
void cm_bf16_rows_to_f32(const uint16_t *src, size_t n, float *dst);
/* Row r of w as float32 into dst (cols floats); I8 rows are dequantized
 * (q * scale[r]). */
void cm_wmat_row(const cm_wmat *w, size_t r, float *dst);

/* Reusable scratch of cm_wlinear (caller-owned, zero-initialised; grows on
 * demand; release with cm_wscratch_free): float32 tiles of converted
 * weights, and the staging of the bf16/int8 products (rounded or quantized
 * activations, their per-row scales, int32 sums; lowp.c carves it). */
typedef struct cm_wscratch {
    float *buf;    size_t cap;      /* floats */
    void  *lp;     size_t lp_cap;   /* bytes */
} cm_wscratch;
void cm_wscratch_free(cm_wscratch *ws);
/* ws->buf grown to at least n floats (its contents are not kept); NULL when out of memory. */
float *cm_wscratch_floats(cm_wscratch *ws, size_t n);

/* How cm_wlinear multiplies BF16 weights (speed only; the results are the
 * same up to float rounding). Resolved once at model load: hf_model.c starts
 * from cm_wlinear_default_params() and applies the documented environment
 * variables (bench/RESULTS.md). A zero field means its default. */
typedef struct cm_wlinear_params {
    int    blas_mode;   /* 0: per-thread tiles (default); 1: shared tiles + threaded BLAS (CMTEB_BF16_MODE=blas) */
    size_t tile_mb;     /* large-tile budget in MB of float32, default 8 (CMTEB_BF16_TILE_MB) */
    size_t big_from;    /* rows of x from which large tiles are used, default 64 (CMTEB_BF16_BIG_FROM) */
    cm_cpu_dtype dtype; /* compute dtype (default CM_CPU_FP32): BF16 rounds x to bf16 for BF16 weights */
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
 * allocated. Same as cm_wlinear_bias with bias NULL (I8 weights and
 * lp->dtype BF16 included). */
int cm_wlinear(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy, float beta,
               int threads, const cm_wlinear_params *lp, cm_wscratch *ws);

/* y (n, w->rows) = beta * y + x (n, w->cols) . W^T + bias; bias (w->rows)
 * may be NULL; beta 0 or 1. By weight type and lp->dtype:
 *  - F32 weights: the sgemm of cm_wlinear, then + bias.
 *  - BF16 weights, dtype FP32 (or INT8): cm_wlinear's tiles, then + bias.
 *  - BF16 weights, dtype BF16: x rounded to bf16 (RNE) first, then oneDNN's
 *    bf16 matmul (f32 dst) where this CPU has it (probed once), else the
 *    convert-tile-then-sgemm path on the rounded x; then + bias.
 *  - I8 weights (any dtype): x quantized per row, s = max|x_row| / 127,
 *    q = clamp(rint(x / s), -127, 127), u = q + 128; acc = u . W^T + comp
 *    (int32, exact: = q . W^T); y = (float)acc * s[m] * scale[r] + bias[r]
 *    + beta * y, float arithmetic in that order (lowp.h). oneDNN's
 *    dnnl_gemm_u8s8s32, else a portable C kernel: the same int32 sums, so
 *    the same y bit for bit.
 * threads: OpenMP threads. lp NULL = defaults; ws NULL = scratch allocated
 * per call. CM_ERR_NOMEM if scratch cannot be had. */
int cm_wlinear_bias(const float *x, size_t ldx, const cm_wmat *w, const float *bias, size_t n, float *y,
                    size_t ldy, float beta, int threads, const cm_wlinear_params *lp, cm_wscratch *ws);

/* Reads a float vector tensor (n values) into a new array (caller frees);
 * CM_ERR_NOTFOUND / CM_ERR_FORMAT name the tensor and shape. */
int cm_weight_vector(const cm_safetensors *st, const char *name, int64_t n, float **out);
/* Wraps a 2-D weight (rows, cols) into *w, checking its shape (release with
 * cm_wmat_free). */
int cm_weight_matrix(const cm_safetensors *st, const char *name, int64_t rows, int64_t cols, cm_wmat *w);

#endif
