/*
 * gpu_norm.cu: the row-wise and elementwise kernels of the CUDA engine
 * (gpu_internal.cuh): embedding gathers, LayerNorm, RMSNorm, bias +
 * activation, Qwen3's per-head q/k RMSNorm with RoPE, SwiGLU, GEGLU, the
 * float32 -> T conversion and a row softmax. The math follows the CPU
 * kernels (engine/nn/ops.c, engine/arch/decoder_ops.c): the same eps, the
 * same activation variants, reductions in double where the CPU uses double.
 */
#include "engine/cuda/gpu_norm_kernels.cuh"

int gpu_embed_bert(cm_gpu_model *g, const int32_t *ids, const int32_t *pos_ids, size_t n, float *x) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_embed_bert<T><<<(unsigned)n, 128, 0, g->stream>>>(
                               ids, pos_ids, (const T *)g->word, (const T *)g->pos, g->type0, n, g->hidden, x)));
    GPU_LAUNCHED(g->device, "k_embed_bert");
    return CM_OK;
}

int gpu_embed_dec(cm_gpu_model *g, const int32_t *ids, size_t n, float *x) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_embed_dec<T><<<(unsigned)n, 128, 0, g->stream>>>(ids, (const T *)g->embed, n,
                                                                               g->hidden, x)));
    GPU_LAUNCHED(g->device, "k_embed_dec");
    return CM_OK;
}

int gpu_layernorm(cm_gpu_model *g, const float *in, const float *r, const float *b, const float *gam, const float *bet,
                  float eps, size_t n, size_t d, float *x_out, void *t_out) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_layernorm<T><<<(unsigned)n, ROW_THREADS, 0, g->stream>>>(in, r, b, gam, bet, eps, d,
                                                                                       x_out, (T *)t_out)));
    GPU_LAUNCHED(g->device, "k_layernorm");
    return CM_OK;
}

int gpu_rmsnorm(cm_gpu_model *g, const float *x, const float *w, float eps, size_t n, size_t d, void *out, int to_t) {
    if (!n) return CM_OK;
    if (to_t) {
        GPU_DISPATCH(g->dtype, (k_rmsnorm<T><<<(unsigned)n, ROW_THREADS, 0, g->stream>>>(x, w, eps, d, (T *)out)));
    } else {
        k_rmsnorm<float><<<(unsigned)n, ROW_THREADS, 0, g->stream>>>(x, w, eps, d, (float *)out);
    }
    GPU_LAUNCHED(g->device, "k_rmsnorm");
    return CM_OK;
}

int gpu_bias_act(cm_gpu_model *g, float *y, size_t n, size_t d, size_t ld, const float *b, cm_act act, void *t_out) {
    if (!n || !d || (!b && act == CM_ACT_NONE && !t_out)) return CM_OK;
    unsigned nb = gpu_blocks(n * d, EW_THREADS);
    if (t_out) {
        GPU_DISPATCH(g->dtype, (k_bias_act<T><<<nb, EW_THREADS, 0, g->stream>>>(y, n, d, ld, b, (int)act,
                                                                                 (T *)t_out)));
    } else {
        k_bias_act<float><<<nb, EW_THREADS, 0, g->stream>>>(y, n, d, ld, b, (int)act, (float *)nullptr);
    }
    GPU_LAUNCHED(g->device, "k_bias_act");
    return CM_OK;
}

int gpu_qk_norm_rope(cm_gpu_model *g, float *qkv, size_t ld, size_t k_col, size_t n, size_t nh, size_t nkv,
                     size_t dh, const float *qn, const float *kn, float eps, const int32_t *pos, const float *cs,
                     const float *sn) {
    if (!n) return CM_OK;
    size_t warps = n * (nh + nkv);
    k_qk_norm_rope<<<gpu_blocks(warps * 32, 256), 256, 0, g->stream>>>(qkv, ld, k_col, n, nh, nkv, dh, qn, kn, eps,
                                                                        pos, cs, sn);
    GPU_LAUNCHED(g->device, "k_qk_norm_rope");
    return CM_OK;
}

int gpu_swiglu(cm_gpu_model *g, const float *gu, const float *b, size_t n, size_t d, void *out) {
    if (!n || !d) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_swiglu<T><<<gpu_blocks(n * d, EW_THREADS), EW_THREADS, 0, g->stream>>>(gu, b, n, d,
                                                                                                     (T *)out)));
    GPU_LAUNCHED(g->device, "k_swiglu");
    return CM_OK;
}

int gpu_geglu(cm_gpu_model *g, const float *u, const float *b, size_t n, size_t d, void *out) {
    if (!n || !d) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_geglu<T><<<gpu_blocks(n * d, EW_THREADS), EW_THREADS, 0, g->stream>>>(u, b, n, d,
                                                                                                    (T *)out)));
    GPU_LAUNCHED(g->device, "k_geglu");
    return CM_OK;
}

int gpu_to_t(cm_gpu_model *g, const float *x, size_t n, void *out) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_to_t<T><<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, g->stream>>>(x, n, (T *)out)));
    GPU_LAUNCHED(g->device, "k_to_t");
    return CM_OK;
}

int gpu_softmax_rows(cm_gpu_model *g, float *S, size_t rows, size_t cols) {
    if (!rows || !cols) return CM_OK;
    if (rows > 0x7fffffffu) return cm_error(CM_ERR_ARG, "softmax over %zu rows: too many for one launch", rows);
    k_softmax_rows<<<(unsigned)rows, 128, 0, g->stream>>>(S, cols);
    GPU_LAUNCHED(g->device, "k_softmax_rows");
    return CM_OK;
}