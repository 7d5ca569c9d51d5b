/*
 * gpu_device.cu: the device list of gpu.h (cm_gpu_built, cm_gpu_count,
 * cm_gpu_device_info) and the CUDA/cuBLAS error helpers of
 * gpu_internal.cuh.
 */
#include "engine/cuda/gpu_internal.cuh"

#include <string.h>

/* This build has the CUDA engine: 1. */
int cm_gpu_built(void) { return 1; }

/* Visible devices into *n; 0 (and CM_OK) when the driver is missing or too old or no device is visible. */
int cm_gpu_count(int *n) {
    int c = 0;
    cudaError_t e = cudaGetDeviceCount(&c);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();   /* no driver / no device: not an error here */
        c = 0;
    }
    *n = c;
    return CM_OK;
}

/* Fills *out (caller-owned) for device index; CM_ERR_ARG for a bad index. */
int cm_gpu_device_info(int index, cm_gpu_device *out) {
    int n = 0;
    cm_gpu_count(&n);
    if (index < 0 || index >= n)
        return cm_error(CM_ERR_ARG, "CUDA device %d does not exist (%d visible)", index, n);
    memset(out, 0, sizeof *out);
    cudaDeviceProp p;
    GPU_CU(index, cudaGetDeviceProperties(&p, index));
    out->index = index;
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->sm_count = p.multiProcessorCount;
    out->mem_total = p.totalGlobalMem;
    int prev = 0;
    GPU_CU(index, cudaGetDevice(&prev));
    GPU_CU(index, cudaSetDevice(index));
    size_t fr = 0, tot = 0;
    cudaError_t e = cudaMemGetInfo(&fr, &tot);
    (void)cudaSetDevice(prev);
    if (e != cudaSuccess) return gpu_cuda_fail(e, index, "cudaMemGetInfo", __FILE__, __LINE__);
    out->mem_free = fr;
    return CM_OK;
}

const char *gpu_dtype_name(cm_gpu_dtype dt) {
    return dt == CM_GPU_BF16 ? "bf16" : dt == CM_GPU_FP16 ? "fp16" : dt == CM_GPU_FP32 ? "fp32" : "?";
}

int gpu_cuda_fail(cudaError_t e, int device, const char *call, const char *file, int line) {
    (void)cudaGetLastError();   /* clear the (non-sticky) error so that the replica stays usable */
    if (e == cudaErrorMemoryAllocation)
        return cm_error(CM_ERR_NOMEM, "CUDA device %d: out of memory in %s (%s:%d)", device, call, file, line);
    return cm_error(CM_ERR_INTERNAL, "CUDA device %d: %s failed: %s (%s) (%s:%d)", device, call,
                    cudaGetErrorString(e), cudaGetErrorName(e), file, line);
}

int gpu_blas_fail(cublasStatus_t s, int device, const char *call, const char *file, int line) {
    (void)cudaGetLastError();
    if (s == CUBLAS_STATUS_ALLOC_FAILED)
        return cm_error(CM_ERR_NOMEM, "CUDA device %d: cuBLAS out of memory in %s (%s:%d)", device, call, file, line);
    const char *what = gpu_blas.cublasGetStatusString ? gpu_blas.cublasGetStatusString(s) : "cuBLAS error";
    return cm_error(CM_ERR_INTERNAL, "CUDA device %d: %s failed: %s (%s:%d)", device, call, what, file, line);
}
