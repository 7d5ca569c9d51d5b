/*
 * gpu_norm_kernels.cuh: the kernels of gpu_norm.cu (embedding gathers, LayerNorm,
 * RMSNorm, bias + activation, q/k norm + RoPE, SwiGLU, GEGLU, conversion, row
 * softmax), in a header so that tests/unit/test_cuda_emu_kernels.cpp runs the
 * same code on the host.
 * Ownership: kernels borrow every pointer they are given.
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_NORM_KERNELS_CUH
#define CMTEB_ENGINE_CUDA_GPU_NORM_KERNELS_CUH

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

template <typename T> __global__ void k_embed_dec(const int32_t *ids, const T *emb, size_t n, size_t h, float *x) {
    size_t t = blockIdx.x;
    if (t >= n) return;
    const T *w = emb + (size_t)ids[t] * h;
    for (size_t j = threadIdx.x; j < h; j += blockDim.x) x[t * h + j] = gpu_to_f<T>(w[j]);
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

template <typename O> __global__ void k_rmsnorm(const float *x, const float *w, float eps, size_t d, O *out) {
    size_t row = blockIdx.x;
    const float *xr = x + row * d;
    double ss = 0;
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) ss += (double)xr[j] * xr[j];
    ss = gpu_block_sum(ss);
    float r = (float)(1.0 / sqrt(ss / (double)d + (double)eps));
    for (size_t j = threadIdx.x; j < d; j += blockDim.x) out[row * d + j] = gpu_from_f<O>(w[j] * (xr[j] * r));
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

template <typename T> __global__ void k_geglu(const float *u, const float *b, size_t n, size_t d, T *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * d) return;
    size_t r = i / d, c = i % d;
    float a = u[r * 2 * d + c] + (b ? b[c] : 0.0f), gt = u[r * 2 * d + d + c] + (b ? b[d + c] : 0.0f);
    out[i] = gpu_from_f<T>(a * (0.5f * gt * (1.0f + erff(gt * 0.70710678118654752f))));
}

template <typename T> __global__ void k_to_t(const float *x, size_t n, T *out) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) out[i] = gpu_from_f<T>(x[i]);
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

#endif
