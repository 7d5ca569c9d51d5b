/*
 * gpu_bench.cu: cuBLAS's own bf16 GEMM peak on this GPU, the denominator of
 * the MFU figures of bench/gpu_check.sh.
 *
 *   gpu_bench [SECONDS]   prints "peak_tflops N" (the best of square GEMMs of
 *                         4096, 8192 and 16384, bf16 inputs and output, fp32
 *                         accumulation, cublasGemmEx with tensor ops) and one
 *                         "gemm N tflops T" line per size
 *
 * Build: nvcc -O2 -o gpu_bench bench/gpu_bench.cu -lcublas
 */
#include <cstdio>
#include <cstdlib>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <cublas_v2.h>

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "gpu_bench: %s: %s\n", #x, cudaGetErrorString(e_));                \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)
#define CB(x)                                                                                  \
    do {                                                                                       \
        cublasStatus_t s_ = (x);                                                               \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                     \
            fprintf(stderr, "gpu_bench: %s: cuBLAS status %d\n", #x, (int)s_);                 \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

__global__ void fill(__nv_bfloat16 *p, size_t n, unsigned seed) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        unsigned h = (unsigned)i * 2654435761u ^ seed;
        h ^= h >> 13;
        h *= 0x5bd1e995u;
        p[i] = __float2bfloat16(((float)(h & 0xffff) / 65536.0f - 0.5f) * 0.1f);
    }
}

int main(int argc, char **argv) {
    double budget = argc > 1 ? atof(argv[1]) : 20.0;   /* seconds over all sizes, roughly */
    int sizes[3] = {4096, 8192, 16384};
    cublasHandle_t h;
    CB(cublasCreate(&h));
    double best = 0;
    for (int k = 0; k < 3; k++) {
        int n = sizes[k];
        size_t elems = (size_t)n * n;
        size_t free_b = 0, total_b = 0;
        CK(cudaMemGetInfo(&free_b, &total_b));
        if (3 * elems * sizeof(__nv_bfloat16) > free_b / 2) continue;
        __nv_bfloat16 *a, *b, *c;
        CK(cudaMalloc(&a, elems * sizeof *a));
        CK(cudaMalloc(&b, elems * sizeof *b));
        CK(cudaMalloc(&c, elems * sizeof *c));
        fill<<<1024, 256>>>(a, elems, 1u);
        fill<<<1024, 256>>>(b, elems, 2u);
        CK(cudaGetLastError());
        float alpha = 1.0f, beta = 0.0f;
        auto gemm = [&]() {
            CB(cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a, CUDA_R_16BF, n, b, CUDA_R_16BF, n, &beta,
                            c, CUDA_R_16BF, n, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT_TENSOR_OP));
        };
        for (int i = 0; i < 3; i++) gemm();   /* warm up (heuristics, clocks) */
        CK(cudaDeviceSynchronize());
        cudaEvent_t e0, e1;
        CK(cudaEventCreate(&e0));
        CK(cudaEventCreate(&e1));
        /* iterations: about budget/3 seconds per size, from one timed GEMM */
        CK(cudaEventRecord(e0));
        gemm();
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        int iters = (int)(budget / 3.0 * 1000.0 / (ms > 0.01f ? ms : 0.01f));
        if (iters < 5) iters = 5;
        if (iters > 2000) iters = 2000;
        CK(cudaEventRecord(e0));
        for (int i = 0; i < iters; i++) gemm();
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        CK(cudaEventElapsedTime(&ms, e0, e1));
        double tflops = 2.0 * n * (double)n * n * iters / (ms / 1000.0) / 1e12;
        printf("gemm %d tflops %.1f (%d iterations)\n", n, tflops, iters);
        if (tflops > best) best = tflops;
        CK(cudaEventDestroy(e0));
        CK(cudaEventDestroy(e1));
        CK(cudaFree(a));
        CK(cudaFree(b));
        CK(cudaFree(c));
    }
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    printf("device %s\n", prop.name);
    printf("peak_tflops %.1f\n", best);
    CB(cublasDestroy(h));
    return best > 0 ? 0 : 1;
}
