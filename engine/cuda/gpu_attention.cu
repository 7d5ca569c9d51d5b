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
#include "engine/cuda/gpu_attention_kernel.cuh"

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
