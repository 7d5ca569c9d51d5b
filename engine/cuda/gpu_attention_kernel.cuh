/*
 * gpu_attention_kernel.cuh: the attention kernel of gpu_attention.cu (the
 * algorithm is described there), in a header of its own so that the host
 * emulation test (tests/unit/test_cuda_emu_kernels.cpp) runs the same code.
 * Ownership: the kernel borrows every pointer of its gpu_attn.
 */
#ifndef CMTEB_ENGINE_CUDA_GPU_ATTENTION_KERNEL_CUH
#define CMTEB_ENGINE_CUDA_GPU_ATTENTION_KERNEL_CUH

#include "engine/cuda/gpu_internal.cuh"

enum { LANES = 4 };

template <typename T, int PER, int BK> __global__ void __launch_bounds__(GPU_ATT_BQ *LANES) k_attention(gpu_attn a) {
    constexpr int DP = PER * LANES;   /* head width rounded up to a multiple of LANES */
    __shared__ float Ks[BK][DP];
    __shared__ float Vs[BK][DP];
    const int tile = blockIdx.x, h = blockIdx.y;
    const int s = a.tile_seq[tile], q0 = a.tile_q0[tile];
    const int L = a.length[s];
    const size_t base = (size_t)a.offset[s];
    const int dh = (int)a.dh, g = (int)((size_t)h / (a.n_heads / a.n_kv_heads));
    const int tid = threadIdx.x, qr = tid / LANES, sub = tid % LANES;
    const int qi = q0 + qr;
    const bool valid = qi < L;
    const float scale = 1.0f / sqrtf((float)dh);
    const int window = (int)a.window;

    float q[PER], o[PER];
#pragma unroll
    for (int i = 0; i < PER; i++) {
        int d = sub + LANES * i;
        q[i] = valid && d < dh ? a.q[(base + (size_t)qi) * a.ldq + (size_t)h * dh + d] : 0.0f;
        o[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;

    /* keys any row of this tile may see: [kbeg, kend) */
    int kbeg = 0, kend = L;
    if (a.causal) {
        kend = min(L, q0 + GPU_ATT_BQ);
        if (window > 0) kbeg = max(0, q0 + 1 - window);
    }
    const float *kb = a.k + (size_t)g * dh, *vb = a.v + (size_t)g * dh;
    for (int t0 = kbeg; t0 < kend; t0 += BK) {
        for (int idx = tid; idx < BK * DP; idx += GPU_ATT_BQ * LANES) {
            int j = idx / DP, d = idx % DP, key = t0 + j;
            bool in = key < kend && d < dh;
            size_t row = (base + (size_t)key) * a.ldkv;
            Ks[j][d] = in ? kb[row + d] : 0.0f;
            Vs[j][d] = in ? vb[row + d] : 0.0f;
        }
        __syncthreads();
        float sc[BK];
        float mt = -INFINITY;
#pragma unroll
        for (int j = 0; j < BK; j++) {
            float p = 0.0f;
#pragma unroll
            for (int i = 0; i < PER; i++) p += q[i] * Ks[j][sub + LANES * i];
            p += __shfl_xor_sync(0xffffffffu, p, 1);
            p += __shfl_xor_sync(0xffffffffu, p, 2);
            int key = t0 + j;
            bool ok = valid && key < kend;
            if (a.causal) ok = ok && key <= qi && (window <= 0 || key > qi - window);
            float v = -INFINITY;
            if (ok) {
                v = p * scale;
                if (a.rel_bias)
                    v += a.rel_bias[(size_t)a.bucket[(ptrdiff_t)a.bucket_center + key - qi] * a.n_heads + h];
            }
            sc[j] = v;
            mt = fmaxf(mt, v);
        }
        float mn = fmaxf(m, mt);
        if (mn != -INFINITY) {   /* else: no visible key so far for this row */
            float corr = expf(m - mn);   /* m = -inf: 0 */
            l *= corr;
#pragma unroll
            for (int i = 0; i < PER; i++) o[i] *= corr;
#pragma unroll
            for (int j = 0; j < BK; j++) {
                float p = expf(sc[j] - mn);   /* masked: exp(-inf) = 0 */
                l += p;
#pragma unroll
                for (int i = 0; i < PER; i++) o[i] += p * Vs[j][sub + LANES * i];
            }
            m = mn;
        }
        __syncthreads();
    }
    if (!valid) return;
    float inv = l > 0.0f ? 1.0f / l : 0.0f;
    T *out = (T *)a.out + (base + (size_t)qi) * a.ldo + (size_t)h * dh;
#pragma unroll
    for (int i = 0; i < PER; i++) {
        int d = sub + LANES * i;
        if (d < dh) out[d] = gpu_from_f<T>(o[i] * inv);
    }
}

#endif
