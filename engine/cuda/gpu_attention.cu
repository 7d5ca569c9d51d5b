/*
 * gpu_attention.cu: self-attention over the packed variable-length batch
 * (gpu_internal.cuh gpu_attention), flash-attention style: no score matrix
 * in memory, an online softmax over tiles of keys, float32 throughout.
 *
 * Grid: (tile, head). A tile is GPU_ATT_BQ consecutive query rows of one
 * sequence (the host lists them: tile_seq / tile_q0). A block has
 * GPU_ATT_BQ * LANES threads: LANES threads per query row, lane `sub` holding
 * dimensions d = sub + LANES * i (i < PER) of the query and of the output
 * accumulator in registers. Keys and values come through shared memory BK
 * rows at a time; a score is the lane-partial dot product summed over the
 * row's LANES lanes with two xor shuffles (every lane ends with the same
 * value). Per tile: the scores of the BK keys, the running max m, the
 * rescale exp(m_old - m_new) of the sum l and of the accumulator, then the
 * value rows weighted by exp(s - m). The output is acc / l, written in T.
 *
 * Masks: a query sees the keys of its own sequence; causal: keys j <= i, and
 * with a sliding window only j > i - window (Mistral, causal only). MPNet's
 * relative position bias is added to the scaled score. Tensor cores are not
 * used here (the GEMMs around it are the bulk of the work for short
 * sequences; see the report in the issue).
 */
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

template <typename T, int PER, int BK> static void launch(cudaStream_t st, const gpu_attn *a) {
    dim3 grid((unsigned)a->n_tiles, (unsigned)a->n_heads);
    k_attention<T, PER, BK><<<grid, GPU_ATT_BQ * LANES, 0, st>>>(*a);
}

template <typename T> static int run(cm_gpu_model *g, const gpu_attn *a) {
    size_t per = (a->dh + LANES - 1) / LANES;
    if (per <= 2) launch<T, 2, 32>(g->stream, a);
    else if (per <= 4) launch<T, 4, 32>(g->stream, a);
    else if (per <= 8) launch<T, 8, 32>(g->stream, a);
    else if (per <= 16) launch<T, 16, 32>(g->stream, a);
    else if (per <= 32) launch<T, 32, 32>(g->stream, a);
    else if (per <= 64) launch<T, 64, 16>(g->stream, a);
    else
        return cm_error(CM_ERR_UNSUPPORTED, "CUDA attention: head_dim %zu is not supported (at most 256)", a->dh);
    GPU_LAUNCHED(g->device, "k_attention");
    return CM_OK;
}

int gpu_attention(cm_gpu_model *g, const gpu_attn *a) {
    if (!a->n_tiles || !a->n_heads) return CM_OK;
    if (!a->n_kv_heads || a->n_heads % a->n_kv_heads)
        return cm_error(CM_ERR_ARG, "CUDA attention: %zu heads are not a multiple of %zu kv heads", a->n_heads,
                        a->n_kv_heads);
    if (a->n_tiles > 0x7fffffffu || a->n_heads > 65535)
        return cm_error(CM_ERR_ARG, "CUDA attention: %zu tiles x %zu heads exceed the launch limits", a->n_tiles,
                        a->n_heads);
    GPU_DISPATCH(g->dtype, return run<T>(g, a));
    return CM_OK;
}
