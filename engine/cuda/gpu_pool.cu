/*
 * gpu_pool.cu: the generic poolings of model.h on the device (CLS, LAST,
 * MAX, MEAN, MEAN_SQRT, WEIGHTEDMEAN, as cm_hf_pool computes them), the
 * sentence-transformers Dense modules (st_dense.h: act(x W^T + b)) and the
 * L2 normalisation (cm_l2_normalize_rows: double norm, rows of norm 0 kept).
 */
#include "engine/cuda/gpu_pool_kernels.cuh"

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

int gpu_dense_apply(cm_gpu_model *g, const gpu_dense *m, const float *x, size_t n, float *y) {
    if (!n) return CM_OK;
    CM_TRY(gpu_linear(g, x, CUDA_R_32F, m->in, m->W, n, m->in, m->out, y, m->out, 0.0f));
    if (!m->b && m->act == CM_DENSE_IDENTITY) return CM_OK;
    k_dense_act<<<gpu_blocks(n * m->out, 256), 256, 0, g->stream>>>(y, n, m->out, m->b, (int)m->act);
    GPU_LAUNCHED(g->device, "k_dense_act");
    return CM_OK;
}

int gpu_l2_normalize(cm_gpu_model *g, float *x, size_t n, size_t d) {
    if (!n || !d) return CM_OK;
    k_l2<<<(unsigned)n, 256, 0, g->stream>>>(x, d);
    GPU_LAUNCHED(g->device, "k_l2");
    return CM_OK;
}