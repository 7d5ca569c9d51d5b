/*
 * gpu_latent.cu: NV-Embed's latent-attention pooling on the device, the
 * formula of latent.h as latent.c computes it:
 *   q  = LN0(H) Wq^T                      (LayerNorm eps 1e-5)
 *   O  = softmax(q_h K_h^T / sqrt(dh)) V_h per head, K/V the latents' (kv, uploaded from the CPU's load)
 *   H1 = O Wo^T + H
 *   H2 = GEGLU(LN1(H1) W0^T + b0) W2^T + b2 + H1
 *   e  = mean of H2 over the pooled tokens of each sequence, L2-normalised when output_normalize.
 * Only the pooled tokens are computed (each token is independent here): the
 * host lists their rows (exclude_instr leaves the first n_instr tokens out,
 * all tokens when none would remain) and the chunks of ws->chunk tokens run
 * through the layer; each token's H2 row is added into its sequence's
 * double accumulator.
 */
#include "engine/cuda/gpu_latent_kernels.cuh"
extern "C" {
#include "engine/cuda/gpu_plan.h"
}

#include <math.h>

int gpu_latent_pool(cm_gpu_model *g, const cm_hf_batch *b, const float *hidden, int exclude_instr,
                    const gpu_latent_ws *ws, int32_t *host_tmp, float *out) {
    const gpu_latent *l = &g->lat;
    size_t d = (size_t)l->d, inner = (size_t)(l->heads * l->dh), ff = (size_t)l->ff, r = (size_t)l->r;
    size_t ns = b->n_seqs;
    int32_t *rows = host_tmp, *owner = host_tmp + b->n_tokens, *cnt = host_tmp + 2 * b->n_tokens;
    const size_t np = cm_gpu_latent_rows(b, exclude_instr, rows, owner, cnt);
    int32_t *d_rows = ws->rows, *d_owner = ws->rows + b->n_tokens, *d_cnt = ws->rows + 2 * b->n_tokens;
    GPU_CU(g->device, cudaMemcpyAsync(d_rows, rows, np * sizeof *rows, cudaMemcpyHostToDevice, g->stream));
    GPU_CU(g->device, cudaMemcpyAsync(d_owner, owner, np * sizeof *owner, cudaMemcpyHostToDevice, g->stream));
    GPU_CU(g->device, cudaMemcpyAsync(d_cnt, cnt, ns * sizeof *cnt, cudaMemcpyHostToDevice, g->stream));
    GPU_CU(g->device, cudaMemsetAsync(ws->acc, 0, ns * d * sizeof(double), g->stream));
    cudaDataType tt = gpu_cuda_type(g->dtype);
    const float scale = (float)(1.0 / sqrt((double)l->dh));
    for (size_t c0 = 0; c0 < np; c0 += ws->chunk) {
        size_t c = np - c0 < ws->chunk ? np - c0 : ws->chunk;
        k_gather_rows<<<(unsigned)c, 128, 0, g->stream>>>(hidden, d_rows + c0, c, d, ws->x);
        GPU_LAUNCHED(g->device, "k_gather_rows");
        /* q = LN0(H) Wq^T */
        CM_TRY(gpu_layernorm(g, ws->x, NULL, NULL, l->ln0_g, l->ln0_b, 1e-5f, c, d, NULL, ws->t));
        CM_TRY(gpu_linear(g, ws->t, tt, d, l->to_q, c, d, inner, ws->q, inner, 0.0f));
        /* O = softmax(q K^T * scale) V per head */
        CM_TRY(gpu_latent_scores(g, ws->q, inner, l->kv, 2 * inner, c, r, (size_t)l->heads, (size_t)l->dh, scale,
                                 ws->S));
        CM_TRY(gpu_softmax_rows(g, ws->S, (size_t)l->heads * c, r));
        CM_TRY(gpu_latent_mix(g, ws->S, l->kv + inner, 2 * inner, c, r, (size_t)l->heads, (size_t)l->dh, ws->o,
                              inner));
        /* H1 = O Wo^T + H */
        CM_TRY(gpu_to_t(g, ws->o, c * inner, ws->t));
        CM_TRY(gpu_linear(g, ws->t, tt, inner, l->to_out, c, inner, d, ws->x, d, 1.0f));
        /* H2 = GEGLU(LN1(H1) W0^T + b0) W2^T + H1 (b2 added with the accumulation) */
        CM_TRY(gpu_layernorm(g, ws->x, NULL, NULL, l->ln1_g, l->ln1_b, 1e-5f, c, d, NULL, ws->t));
        CM_TRY(gpu_linear(g, ws->t, tt, d, l->net0, c, d, 2 * ff, ws->u, 2 * ff, 0.0f));
        CM_TRY(gpu_geglu(g, ws->u, l->b0, c, ff, ws->t));
        CM_TRY(gpu_linear(g, ws->t, tt, ff, l->net2, c, ff, d, ws->x, d, 1.0f));
        k_latent_acc<<<gpu_blocks(c * d, 256), 256, 0, g->stream>>>(ws->x, l->b2, d_owner + c0, c, d, ws->acc);
        GPU_LAUNCHED(g->device, "k_latent_acc");
    }
    k_latent_finish<<<(unsigned)ns, 256, 0, g->stream>>>(ws->acc, d_cnt, d, l->normalize, out);
    GPU_LAUNCHED(g->device, "k_latent_finish");
    return CM_OK;
}
