/*
 * lowp.h: the bf16 and int8 matrix products behind cm_wmat_prepare and
 * cm_wlinear_bias (bf16.h), and their helpers.
 *
 * int8 scheme (every CPU, every kernel): weights per output row
 * q_w = clamp(rint(w / scale), -63, 63) with scale = max|w_row| / 63 (7 bits),
 * activations per row of x q_x = clamp(rint(x / s), -127, 127) with
 * s = max|x_row| / 127, stored as u = q_x + 128 (uint8). Why 7-bit weights:
 * without VNNI, oneDNN sums pairs of u8 x s8 products in saturating int16
 * (vpmaddubsw); 2 * 255 * 63 = 32130 <= 32767 never saturates, so the int32
 * sums are exact on every ISA, and oneDNN and the portable kernel give the
 * same int32 values, hence the same vectors on every machine.
 * acc[m][r] = sum_k u[m][k] * q_w[r][k] + comp[r], comp[r] = -128 * sum_k
 * q_w[r][k], equals sum_k q_x * q_w exactly; y = ((float)acc * s[m]) *
 * scale[r] (+ bias[r]) (+ beta * y), in that order, compiled without FMA
 * contraction (CMakeLists.txt), so tests can compare with numpy bit for bit.
 * A row of x that is all zero has s = 0 and u = 128; a row with a NaN or an
 * infinity gives a row of NaN.
 *
 * Ownership: the functions borrow their inputs; scratch comes from the
 * caller's cm_wscratch (grown with cm_malloc) and stays there.
 */
#ifndef CMTEB_ENGINE_NN_LOWP_H
#define CMTEB_ENGINE_NN_LOWP_H

#include <stddef.h>
#include <stdint.h>

#include "engine/nn/bf16.h"

/* float32 -> bf16 bits, round-to-nearest-even; NaN stays NaN (quiet): core's cm_f32_to_bf16, inlined
 * for the conversion loops. */
static inline uint16_t cm_lowp_bf16(float f) {
    union { float f; uint32_t u; } v = {f};
    if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u);
    return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

/* Quantizes one row of n floats as the int8 scheme above: u (n) uint8 and
 * the row's scale *s (0 for a zero row, NaN for a row with NaN/Inf). */
void cm_lowp_quantize_row(const float *x, size_t n, uint8_t *u, float *s);

/* The I8 product of cm_wlinear_bias (w->type == CM_W_I8). */
int cm_lowp_linear_i8(const float *x, size_t ldx, const cm_wmat *w, const float *bias, size_t n, float *y,
                      size_t ldy, float beta, int threads, cm_wscratch *ws);

/* Rounds x (n, cols), row stride ldx, to bf16 values kept as float32 into
 * scratch from ws; *xr points there (row stride cols). CM_ERR_NOMEM. */
int cm_lowp_round_x_bf16(const float *x, size_t ldx, size_t n, size_t cols, int threads, cm_wscratch *ws,
                         float **xr);

/* y (n, w->rows) = beta * y + bf16(x) . W^T for BF16 weights through
 * oneDNN's bf16 matmul (x rounded to bf16 bits, RNE, into ws->lp; the
 * product into ws->buf when beta is 1). CM_ERR_UNSUPPORTED when this CPU or
 * build has none (the caller falls back); CM_ERR_NOMEM; CM_ERR_INTERNAL.
 * Bias is the caller's. */
int cm_lowp_linear_bf16_dnnl(const float *x, size_t ldx, const cm_wmat *w, size_t n, float *y, size_t ldy,
                             float beta, int threads, cm_wscratch *ws);

/* The int32 sums acc (n, w->rows), row stride ldc, of u (n, w->cols, row
 * stride w->cols) and the I8 weights w, with the portable kernel (dnnl 0) or
 * oneDNN (dnnl 1: CM_ERR_UNSUPPORTED when not available). For the tests. */
int cm_lowp_gemm_i8(int dnnl, const uint8_t *u, const cm_wmat *w, size_t n, int32_t *acc, size_t ldc, int threads);

#endif
