/*
 * gpu_pool.cu: the generic poolings of model.h on the device (CLS, LAST,
 * MAX, MEAN, MEAN_SQRT, WEIGHTEDMEAN, as cm_hf_pool computes them), the
 * sentence-transformers Dense modules (st_dense.h: act(x W^T + b)) and the
 * L2 normalisation (cm_l2_normalize_rows: double norm, rows of norm 0 kept).
 */
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

int gpu_pool_generic(cm_gpu_model *g, cm_pool_kind kind, const float *hidden, size_t d, const int32_t *offset,
                     const int32_t *length, const int32_t *first_tok, size_t ns, float *out) {
    switch (kind) {
    case CM_POOL_CLS: case CM_POOL_LAST: case CM_POOL_MAX: case CM_POOL_MEAN: case CM_POOL_MEAN_SQRT:
    case CM_POOL_WEIGHTEDMEAN: break;
    default:
        return cm_error(CM_ERR_ARG, "pooling '%s' is not a generic pooling (the architecture provides it)",
                        cm_pool_name(kind));
    }
    if (!ns || !d) return CM_OK;
    if (ns > 0x7fffffffu) return cm_error(CM_ERR_ARG, "CUDA pooling: %zu sequences in one batch is too many", ns);
    dim3 grid((unsigned)ns, gpu_blocks(d, 128));
    k_pool<<<grid, 128, 0, g->stream>>>((int)kind, hidden, d, offset, length, first_tok, out);
    GPU_LAUNCHED(g->device, "k_pool");
    return CM_OK;
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

int gpu_dense_apply(cm_gpu_model *g, const gpu_dense *m, const float *x, size_t n, float *y) {
    if (!n) return CM_OK;
    CM_TRY(gpu_linear(g, x, CUDA_R_32F, m->in, m->W, n, m->in, m->out, y, m->out, 0.0f));
    if (!m->b && m->act == CM_DENSE_IDENTITY) return CM_OK;
    k_dense_act<<<gpu_blocks(n * m->out, 256), 256, 0, g->stream>>>(y, n, m->out, m->b, (int)m->act);
    GPU_LAUNCHED(g->device, "k_dense_act");
    return CM_OK;
}

__global__ void k_l2(float *x, size_t d) {
    float *r = x + (size_t)blockIdx.x * d;
    double ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) ss += (double)r[j] * r[j];
    double nn = sqrt(gpu_block_sum(ss));
    if (nn > 0)
        for (size_t j = threadIdx.x; j < d; j += blockDim.x) r[j] = (float)(r[j] / nn);
}

int gpu_l2_normalize(cm_gpu_model *g, float *x, size_t n, size_t d) {
    if (!n || !d) return CM_OK;
    k_l2<<<(unsigned)n, 256, 0, g->stream>>>(x, d);
    GPU_LAUNCHED(g->device, "k_l2");
    return CM_OK;
}
