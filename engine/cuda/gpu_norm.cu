/*
 * gpu_norm.cu: the row-wise and elementwise kernels of the CUDA engine
 * (gpu_internal.cuh): embedding gathers, LayerNorm, RMSNorm, bias +
 * activation, Qwen3's per-head q/k RMSNorm with RoPE, SwiGLU, GEGLU, the
 * float32 -> T conversion and a row softmax. The math follows the CPU
 * kernels (engine/nn/ops.c, engine/arch/decoder_ops.c): the same eps, the
 * same activation variants, reductions in double where the CPU uses double.
 */
#include "engine/cuda/gpu_internal.cuh"

enum { ROW_THREADS = 256, EW_THREADS = 256 };

/* ---- embeddings ------------------------------------------------------------------------------------------ */

template <typename T>
__global__ void k_embed_bert(const int32_t *ids, const int32_t *pos, const T *word, const T *pe, const float *type0,
                             size_t n, size_t h, float *x) {
    size_t t = blockIdx.x;
    if (t >= n) return;
    const T *w = word + (size_t)ids[t] * h, *p = pe + (size_t)pos[t] * h;
    float *xt = x + t * h;
    for (size_t j = threadIdx.x; j < h; j += blockDim.x) {
        float v = gpu_to_f<T>(w[j]) + gpu_to_f<T>(p[j]);
        xt[j] = type0 ? v + type0[j] : v;
    }
}

int gpu_embed_bert(cm_gpu_model *g, const int32_t *ids, const int32_t *pos_ids, size_t n, float *x) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_embed_bert<T><<<(unsigned)n, 128, 0, g->stream>>>(
                               ids, pos_ids, (const T *)g->word, (const T *)g->pos, g->type0, n, g->hidden, x)));
    GPU_LAUNCHED(g->device, "k_embed_bert");
    return CM_OK;
}

template <typename T> __global__ void k_embed_dec(const int32_t *ids, const T *emb, size_t n, size_t h, float *x) {
    size_t t = blockIdx.x;
    if (t >= n) return;
    const T *w = emb + (size_t)ids[t] * h;
    for (size_t j = threadIdx.x; j < h; j += blockDim.x) x[t * h + j] = gpu_to_f<T>(w[j]);
}

int gpu_embed_dec(cm_gpu_model *g, const int32_t *ids, size_t n, float *x) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_embed_dec<T><<<(unsigned)n, 128, 0, g->stream>>>(ids, (const T *)g->embed, n,
                                                                               g->hidden, x)));
    GPU_LAUNCHED(g->device, "k_embed_dec");
    return CM_OK;
}

/* ---- LayerNorm / RMSNorm: one block per row ---------------------------------------------------------------- */

template <typename T>
__global__ void k_layernorm(const float *in, const float *r, const float *b, const float *gam, const float *bet,
                            float eps, size_t d, float *x_out, T *t_out) {
    size_t row = blockIdx.x;
    const float *xi = in + row * d, *ri = r ? r + row * d : nullptr;
    double s = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) {
        float v = xi[j];
        if (ri) v += ri[j];
        if (b) v += b[j];
        s += v;
    }
    double mean = gpu_block_sum(s) / (double)d;
    double ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) {
        float v = xi[j];
        if (ri) v += ri[j];
        if (b) v += b[j];
        double t = (double)v - mean;
        ss += t * t;
    }
    double var = gpu_block_sum(ss) / (double)d;
    float inv = (float)(1.0 / sqrt(var + (double)eps)), m = (float)mean;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) {
        float v = xi[j];
        if (ri) v += ri[j];
        if (b) v += b[j];
        float y = (v - m) * inv * gam[j] + bet[j];
        if (x_out) x_out[row * d + j] = y;   /* same thread read xi[j] above: aliasing in/x_out is safe */
        if (t_out) t_out[row * d + j] = gpu_from_f<T>(y);
    }
}

int gpu_layernorm(cm_gpu_model *g, const float *in, const float *r, const float *b, const float *gam, const float *bet,
                  float eps, size_t n, size_t d, float *x_out, void *t_out) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_layernorm<T><<<(unsigned)n, ROW_THREADS, 0, g->stream>>>(in, r, b, gam, bet, eps, d,
                                                                                       x_out, (T *)t_out)));
    GPU_LAUNCHED(g->device, "k_layernorm");
    return CM_OK;
}

template <typename O> __global__ void k_rmsnorm(const float *x, const float *w, float eps, size_t d, O *out) {
    size_t row = blockIdx.x;
    const float *xr = x + row * d;
    double ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) ss += (double)xr[j] * xr[j];
    ss = gpu_block_sum(ss);
    float r = (float)(1.0 / sqrt(ss / (double)d + (double)eps));
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) out[row * d + j] = gpu_from_f<O>(w[j] * (xr[j] * r));
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

/* ---- activations ------------------------------------------------------------------------------------------- */

__device__ __forceinline__ float act_f(float v, int act) {
    switch (act) {
    case CM_ACT_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case CM_ACT_GELU_TANH: {
        float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        return 0.5f * v * (1.0f + tanhf(u));
    }
    case CM_ACT_RELU: return v > 0.0f ? v : 0.0f;
    case CM_ACT_SILU: return v / (1.0f + expf(-v));
    default: return v;
    }
}

template <typename O>
__global__ void k_bias_act(float *y, size_t n, size_t d, size_t ld, const float *b, int act, O *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * d) return;
    size_t r = i / d, c = i % d;
    float v = y[r * ld + c];
    if (b) v += b[c];
    v = act_f(v, act);
    if (out) out[r * d + c] = gpu_from_f<O>(v);
    else y[r * ld + c] = v;
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

/* One warp per (token, head): heads [0, nh) are q heads at column h dh, heads [nh, nh + nkv) k heads at
 * k_col + (h - nh) dh. Optional RMSNorm over the head (weights w), then RoPE on pairs (i, i + dh/2). */
__global__ void k_qk_norm_rope(float *qkv, size_t ld, size_t k_col, size_t n, size_t nh, size_t nkv, size_t dh,
                               const float *qn, const float *kn, float eps, const int32_t *pos, const float *cs,
                               const float *sn) {
    size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x & 31;
    size_t heads = nh + nkv;
    if (warp >= n * heads) return;   /* whole warps leave together: n * heads is per warp */
    size_t t = warp / heads, h = warp % heads;
    int is_q = h < nh;
    float *a = qkv + t * ld + (is_q ? h * dh : k_col + (h - nh) * dh);
    const float *w = is_q ? qn : kn;
    float r = 1.0f;
    if (w) {
        double ss = 0;
        for (size_t j = (size_t)lane; j < dh; j += 32) ss += (double)a[j] * a[j];
        for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
        r = (float)(1.0 / sqrt(ss / (double)dh + (double)eps));
    }
    size_t half = dh / 2;
    const float *c = cs + (size_t)pos[t] * half, *s = sn + (size_t)pos[t] * half;
    for (size_t i = (size_t)lane; i < half; i += 32) {
        float x1 = a[i], x2 = a[i + half];
        if (w) {
            x1 = w[i] * (x1 * r);
            x2 = w[i + half] * (x2 * r);
        }
        a[i] = x1 * c[i] - x2 * s[i];
        a[i + half] = x2 * c[i] + x1 * s[i];
    }
    if (w && (dh & 1) && lane == 0) a[dh - 1] = w[dh - 1] * (a[dh - 1] * r);   /* odd width: last value unrotated */
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

template <typename T> __global__ void k_swiglu(const float *gu, const float *b, size_t n, size_t d, T *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * d) return;
    size_t r = i / d, c = i % d;
    float a = gu[r * 2 * d + c], u = gu[r * 2 * d + d + c];
    if (b) {
        a += b[c];
        u += b[d + c];
    }
    out[i] = gpu_from_f<T>(a / (1.0f + expf(-a)) * u);
}

int gpu_swiglu(cm_gpu_model *g, const float *gu, const float *b, size_t n, size_t d, void *out) {
    if (!n || !d) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_swiglu<T><<<gpu_blocks(n * d, EW_THREADS), EW_THREADS, 0, g->stream>>>(gu, b, n, d,
                                                                                                     (T *)out)));
    GPU_LAUNCHED(g->device, "k_swiglu");
    return CM_OK;
}

template <typename T> __global__ void k_geglu(const float *u, const float *b, size_t n, size_t d, T *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * d) return;
    size_t r = i / d, c = i % d;
    float a = u[r * 2 * d + c] + (b ? b[c] : 0.0f), gt = u[r * 2 * d + d + c] + (b ? b[d + c] : 0.0f);
    out[i] = gpu_from_f<T>(a * (0.5f * gt * (1.0f + erff(gt * 0.70710678118654752f))));
}

int gpu_geglu(cm_gpu_model *g, const float *u, const float *b, size_t n, size_t d, void *out) {
    if (!n || !d) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_geglu<T><<<gpu_blocks(n * d, EW_THREADS), EW_THREADS, 0, g->stream>>>(u, b, n, d,
                                                                                                    (T *)out)));
    GPU_LAUNCHED(g->device, "k_geglu");
    return CM_OK;
}

template <typename T> __global__ void k_to_t(const float *x, size_t n, T *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = gpu_from_f<T>(x[i]);
}

int gpu_to_t(cm_gpu_model *g, const float *x, size_t n, void *out) {
    if (!n) return CM_OK;
    GPU_DISPATCH(g->dtype, (k_to_t<T><<<gpu_blocks(n, EW_THREADS), EW_THREADS, 0, g->stream>>>(x, n, (T *)out)));
    GPU_LAUNCHED(g->device, "k_to_t");
    return CM_OK;
}

/* One block per row: max, then sum of exp, then scale (float32 like cm_exp_row; sums in double). */
__global__ void k_softmax_rows(float *S, size_t cols) {
    float *s = S + (size_t)blockIdx.x * cols;
    __shared__ float red[32];
    float m = -INFINITY;
    for (size_t j = threadIdx.x; j < cols; j += blockDim.x) m = fmaxf(m, s[j]);
    for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    m = -INFINITY;
    for (int w = 0; w < (int)((blockDim.x + 31) >> 5); w++) m = fmaxf(m, red[w]);
    double sum = 0;
    for (size_t j = threadIdx.x; j < cols; j += blockDim.x) {
        float e = expf(s[j] - m);
        s[j] = e;
        sum += e;
    }
    sum = gpu_block_sum(sum);
    float inv = (float)(1.0 / sum);
    for (size_t j = threadIdx.x; j < cols; j += blockDim.x) s[j] *= inv;
}

int gpu_softmax_rows(cm_gpu_model *g, float *S, size_t rows, size_t cols) {
    if (!rows || !cols) return CM_OK;
    if (rows > 0x7fffffffu) return cm_error(CM_ERR_ARG, "softmax over %zu rows: too many for one launch", rows);
    k_softmax_rows<<<(unsigned)rows, 128, 0, g->stream>>>(S, cols);
    GPU_LAUNCHED(g->device, "k_softmax_rows");
    return CM_OK;
}
