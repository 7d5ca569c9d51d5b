/*
 * dnnl_dl.h: oneDNN (Debian's libdnnl 2.6) loaded on first use with dlopen
 * instead of linked: linking the 40 MB library costs every process about
 * 3 ms of start-up, GPU or CPU run, fp32 or not. This file is the only one
 * that touches oneDNN's API; the engine's low-precision kernels (lowp.c) call
 * the few entry points below and fall back to portable code when they say
 * CM_ERR_UNSUPPORTED.
 *
 * Availability: the build must have found oneapi/dnnl/dnnl.h (CMake defines
 * CMTEB_HAVE_DNNL_H), libdnnl.so.2 must load, and CMTEB_ONEDNN must not be
 * "off" (read at every call, so a test can switch between the kernels).
 * Loading happens once per process, thread-safely.
 *
 * Ownership: nothing here allocates memory the caller sees; all pointers are
 * borrowed for the duration of the call. Errors are recorded with cm_error.
 */
#ifndef CMTEB_ENGINE_NN_DNNL_DL_H
#define CMTEB_ENGINE_NN_DNNL_DL_H

#include <stddef.h>
#include <stdint.h>

/* 1 when oneDNN is usable now (header at build time, library loaded,
 * CMTEB_ONEDNN not "off"), else 0. Loads the library on the first call. */
int cm_dnnl_available(void);

/* Why oneDNN is not usable ("" when it is); static text. */
const char *cm_dnnl_why(void);

/* The loaded version ("2.6.3") and the ISA its kernels use ("avx2",
 * "avx512_core_amx", ...); "" when oneDNN is not available. Static text. */
const char *cm_dnnl_version(void);
const char *cm_dnnl_isa(void);

/* C (M, N) int32, row stride ldc = A (M, K) uint8 . B^T + co, where B is
 * (N, K) int8 row-major (a Linear weight) and co (N) is added to every row
 * (one offset per output column): oneDNN's dnnl_gemm_u8s8s32 with zero
 * offsets for A and B, run on `threads` OpenMP threads. The caller keeps the
 * values where no intermediate sum of two u8 x s8 products saturates int16
 * (lowp.h: 8-bit activations, 7-bit weights). CM_ERR_UNSUPPORTED when oneDNN
 * is not available, CM_ERR_INTERNAL when the call fails. */
int cm_dnnl_gemm_u8s8s32(size_t M, size_t N, size_t K, const uint8_t *A, size_t lda, const int8_t *B, size_t ldb,
                         int32_t *C, size_t ldc, const int32_t *co, int threads);

/* Element types of cm_dnnl_matmul. */
typedef enum cm_dnnl_dt { CM_DNNL_F32 = 0, CM_DNNL_BF16 = 1 } cm_dnnl_dt;

/* 1 when oneDNN has a matmul of dtype dt (src and weights dt, float32 dst)
 * on this CPU (probed once per dtype with a small shape), else 0. bf16 needs
 * avx512_core at least (native with avx512_bf16 or AMX). */
int cm_dnnl_matmul_ok(cm_dnnl_dt dt);

/* y (M, N) float32, row stride ldy = x (M, K) . W^T with x and W (N, K)
 * row-major of type dt (float or uint16 bf16 bits), row strides ldx, ldw;
 * oneDNN's matmul primitive on `threads` OpenMP threads. y is overwritten.
 * CM_ERR_UNSUPPORTED when oneDNN or this matmul is not available,
 * CM_ERR_INTERNAL when oneDNN fails. (The float32 variant exists to test the
 * plumbing on CPUs that lack bf16.) */
int cm_dnnl_matmul(cm_dnnl_dt dt, size_t M, size_t N, size_t K, const void *x, size_t ldx, const void *W,
                   size_t ldw, float *y, size_t ldy, int threads);

#endif
