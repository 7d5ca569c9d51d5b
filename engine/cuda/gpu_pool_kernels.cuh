/*
 * gpu_pool_kernels.cuh: the kernels of gpu_pool.cu (generic poolings, Dense
 * activation, L2 normalisation), in a header so that
 * tests/unit/test_cuda_emu_kernels.cpp runs the same code on the host.
 * Ownership: kernels borrow every pointer they are given.
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_POOL_KERNELS_CUH
#define CMTEB_ENGINE_CUDA_GPU_POOL_KERNELS_CUH

#include "engine/cuda/gpu_internal.cuh"

/* Grid (ns, column blocks); one thread per (sequence, column). Sums in double like cm_hf_pool. */
__global__ void k_pool(int kind, const float *hidden, size_t d, const int32_t *offset, const int32_t *length,
                       const int32_t *first_tok, float *out) {
    size_t s = blockIdx.x, j = (size_t)blockIdx.y * blockDim.x + threadIdx.x;
    if (j >= d) return;
    const float *h = hidden + (size_t)offset[s] * d + j;
    size_t len = (size_t)length[s], first = (size_t)first_tok[s];
    float r;
    if (kind == CM_POOL_CLS) {
        r = h[0];
    } else if (kind == CM_POOL_LAST) {
        r = h[(len - 1) * d];
    } else if (kind == CM_POOL_MAX) {
        r = h[first * d];
        for (size_t t = first + 1; t < len; t++) r = h[t * d] > r ? h[t * d] : r;
    } else {
        double acc = 0, wsum = 0;
        for (size_t t = first; t < len; t++) {
            double w = kind == CM_POOL_WEIGHTEDMEAN ? (double)(t + 1) : 1.0;
            acc += w * h[t * d];
            wsum += w;
        }
        double div = kind == CM_POOL_MEAN_SQRT ? sqrt(wsum) : wsum;
        r = (float)(acc / div);
    }
    out[s * d + j] = r;
}

__global__ void k_dense_act(float *y, size_t n, size_t d, const float *b, int act) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * d) return;
    float v = y[i] + (b ? b[i % d] : 0.0f);
    switch (act) {
    case CM_DENSE_TANH: v = tanhf(v); break;
    case CM_DENSE_RELU: v = v > 0 ? v : 0; break;
    case CM_DENSE_SIGMOID: v = 1.0f / (1.0f + expf(-v)); break;
    case CM_DENSE_GELU: v = 0.5f * v * (1.0f + erff(v * 0.70710678118654752f)); break;
    default: break;
    }
    y[i] = v;
}

__global__ void k_l2(float *x, size_t d) {
    float *r = x + (size_t)blockIdx.x * d;
    double ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) ss += (double)r[j] * r[j];
    double nn = sqrt(gpu_block_sum(ss));
    if (nn > 0)
        for (size_t j = threadIdx.x; j < d; j += blockDim.x) r[j] = (float)(r[j] / nn);
}

#endif
