/*
 * gpu_gemm.cu: the GEMMs of the CUDA engine through cuBLAS (gpu_internal.cuh):
 * Linear layers y = x . W^T with T operands and float32 output, and the
 * per-head products of NV-Embed's latent attention (float32, strided batched).
 *
 * Row-major to cuBLAS's column-major: y (n, out) row-major with stride ldy is
 * the column-major (out, n) matrix with leading dimension ldy, so
 * y = x . W^T is computed as Y_cm = op_T(W_cm) . X_cm with W_cm (in, out)
 * ld in and X_cm (in, n) ld ldx. Accumulation is float32
 * (CUBLAS_COMPUTE_32F); with bf16/fp16 operands cuBLAS picks tensor-core
 * kernels, with float32 operands the handle's default math mode keeps TF32
 * off (gpu_weights.cu sets it).
 */
#include "engine/cuda/gpu_internal.cuh"

#include <limits.h>

static int too_big(const cm_gpu_model *g, size_t a, size_t b, size_t c) {
    if (a > INT_MAX || b > INT_MAX || c > INT_MAX)
        return cm_error(CM_ERR_ARG, "CUDA device %d: GEMM of %zu x %zu x %zu exceeds cuBLAS's int dimensions",
                        g->device, a, b, c);
    return CM_OK;
}

int gpu_linear(cm_gpu_model *g, const void *x, cudaDataType xt, size_t ldx, const void *W, size_t n, size_t in,
               size_t out, float *y, size_t ldy, float beta) {
    if (!n || !out) return CM_OK;
    CM_TRY(too_big(g, n, in, out));
    if (ldx > INT_MAX || ldy > INT_MAX) CM_TRY(too_big(g, ldx, ldy, 0));
    const float alpha = 1.0f;
    GPU_BLAS(g->device, gpu_blas.cublasGemmEx(g->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)out, (int)n, (int)in, &alpha,
                                              W, xt, (int)in, x, xt, (int)ldx, &beta, y, CUDA_R_32F, (int)ldy,
                                              CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return CM_OK;
}

/* S[hh] (c, r) row-major = scale * Q_hh (c, dh) . K_hh (r, dh)^T: column-major S^T (r, c) ld r =
 * op_T(K_cm (dh, r) ld ldk) . Q_cm (dh, c) ld ldq; head hh at Q + hh dh, K + hh dh, S + hh c r. */
int gpu_latent_scores(cm_gpu_model *g, const float *Q, size_t ldq, const float *K, size_t ldk, size_t c, size_t r,
                      size_t heads, size_t dh, float scale, float *S) {
    if (!c) return CM_OK;
    CM_TRY(too_big(g, c, r, dh));
    CM_TRY(too_big(g, ldq, ldk, heads));
    const float beta = 0.0f;
    GPU_BLAS(g->device, gpu_blas.cublasGemmStridedBatchedEx(
                            g->blas, CUBLAS_OP_T, CUBLAS_OP_N, (int)r, (int)c, (int)dh, &scale, K, CUDA_R_32F,
                            (int)ldk, (long long)dh, Q, CUDA_R_32F, (int)ldq, (long long)dh, &beta, S, CUDA_R_32F,
                            (int)r, (long long)(c * r), (int)heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return CM_OK;
}

/* O_hh (c, dh) row-major (ld ldo) = P_hh (c, r) . V_hh (r, dh): column-major O^T (dh, c) ld ldo =
 * V_cm (dh, r) ld ldk . P_cm (r, c) ld r; head hh at V + hh dh, P + hh c r, O + hh dh. */
int gpu_latent_mix(cm_gpu_model *g, const float *P, const float *V, size_t ldk, size_t c, size_t r, size_t heads,
                   size_t dh, float *O, size_t ldo) {
    if (!c) return CM_OK;
    CM_TRY(too_big(g, c, r, dh));
    CM_TRY(too_big(g, ldo, ldk, heads));
    const float alpha = 1.0f, beta = 0.0f;
    GPU_BLAS(g->device, gpu_blas.cublasGemmStridedBatchedEx(
                            g->blas, CUBLAS_OP_N, CUBLAS_OP_N, (int)dh, (int)c, (int)r, &alpha, V, CUDA_R_32F,
                            (int)ldk, (long long)dh, P, CUDA_R_32F, (int)r, (long long)(c * r), &beta, O, CUDA_R_32F,
                            (int)ldo, (long long)dh, (int)heads, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return CM_OK;
}
