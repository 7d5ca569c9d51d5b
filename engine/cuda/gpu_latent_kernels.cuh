/*
 * gpu_latent_kernels.cuh: the kernels of gpu_latent.cu (gathering the pooled tokens' rows, adding each token's
 * output row into its sequence's double accumulator, the mean and L2 normalisation), in a header so that
 * tests/unit/test_cuda_emu_kernels.cpp runs the same code on the host.
 * Ownership: kernels borrow every pointer they are given.
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_LATENT_KERNELS_CUH
#define CMTEB_ENGINE_CUDA_GPU_LATENT_KERNELS_CUH

#include "engine/cuda/gpu_internal.cuh"

/* One block per pooled token: x[i] = hidden[rows[i]] (c rows of d). */
__global__ void k_gather_rows(const float *hidden, const int32_t *rows, size_t c, size_t d, float *x) {
    size_t i = blockIdx.x;
    if (i >= c) return;
    const float *src = hidden + (size_t)rows[i] * d;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) x[i * d + j] = src[j];
}

/* One thread per value: acc[owner[r]] += x[r] + b2 (doubles, atomically: tokens of a sequence share a row). */
__global__ void k_latent_acc(const float *x, const float *b2, const int32_t *owner, size_t c, size_t d,
                             double *acc) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= c * d) return;
    size_t r = i / d, j = i % d;
    atomicAdd(acc + (size_t)owner[r] * d + j, (double)x[i] + (double)b2[j]);
}

/* One block per sequence: out = acc / cnt, then divided by its norm when normalize. */
__global__ void k_latent_finish(const double *acc, const int32_t *cnt, size_t d, int normalize, float *out) {
    size_t s = blockIdx.x;
    double n = cnt[s] ? (double)cnt[s] : 1.0, ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) {
        double v = acc[s * d + j] / n;
        ss += v * v;
    }
    ss = gpu_block_sum(ss);
    double inv = normalize && ss > 0 ? 1.0 / sqrt(ss) : 1.0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) out[s * d + j] = (float)(acc[s * d + j] / n * inv);
}

#endif
