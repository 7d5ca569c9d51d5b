/* decoder_forward.c: the decoder forward pass over a packed batch (decoder.h): embeddings, then per layer
 * RMSNorm -> q/k/v (+bias) -> [Qwen3 q/k norm] -> RoPE -> grouped-query attention -> o_proj into the residual
 * stream -> RMSNorm -> SwiGLU MLP into the residual stream; final RMSNorm. */
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/decoder.h"
#include "engine/arch/decoder_ops.h"
#include "engine/nn/ops.h"

static void add_bias(float *y, size_t n, size_t d, size_t ld, const float *b, int threads) {
    if (b) cm_ops_bias_act(y, n, d, ld, b, CM_ACT_NONE, threads);
}

int cm_decoder_forward(const cm_decoder *m, const cm_hf_batch *b, int causal, int threads, float *x) {
    const cm_hf_config *c = &m->cfg;
    size_t N = b->n_tokens, h = (size_t)c->hidden, hd = (size_t)c->head_dim;
    size_t nh = (size_t)c->n_heads, kv = (size_t)c->n_kv_heads, qd = nh * hd, kvd = kv * hd;
    size_t I = (size_t)c->intermediate;
    float eps = (float)c->norm_eps;
    if (threads < 1) threads = 1;
    if (N == 0) return CM_OK;
    size_t max_len = 0;
    for (size_t s = 0; s < b->n_seqs; s++) max_len = b->length[s] > max_len ? b->length[s] : max_len;
    for (size_t i = 0; i < N; i++)
        if (b->ids[i] < 0 || b->ids[i] >= c->vocab_size)
            return cm_error(CM_ERR_ARG, "token id %d is outside the model's vocabulary (vocab_size %lld): tokenizer "
                            "and model do not match", b->ids[i], (long long)c->vocab_size);
    float *t = cm_malloc(N * h * sizeof(float));
    float *q = cm_malloc(N * qd * sizeof(float));
    float *kb = cm_malloc(N * kvd * sizeof(float));
    float *vb = cm_malloc(N * kvd * sizeof(float));
    float *att = cm_malloc(N * qd * sizeof(float));
    float *gate = cm_malloc(N * I * sizeof(float));
    float *up = cm_malloc(N * I * sizeof(float));
    size_t *pos = cm_malloc(N * sizeof(size_t));
    float *cs = cm_malloc(max_len * (hd / 2) * sizeof(float));
    float *sn = cm_malloc(max_len * (hd / 2) * sizeof(float));
    cm_wscratch ws = {0};
    int rc = CM_OK;
    if (!t || !q || !kb || !vb || !att || !gate || !up || !pos || !cs || !sn) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) {
        for (size_t s = 0; s < b->n_seqs; s++)
            for (size_t p = 0; p < b->length[s]; p++) pos[b->offset[s] + p] = p;
        cm_dec_rope_table(m->dc.rope_theta, hd, max_len, cs, sn);
#pragma omp parallel for num_threads(threads) schedule(static) if (N * h > 65536)
        for (size_t i = 0; i < N; i++) cm_wmat_row(&m->embed, (size_t)b->ids[i], x + i * h);
    }
    size_t window = causal && m->dc.sliding_window > 0 ? (size_t)m->dc.sliding_window : 0;
    for (int64_t li = 0; rc == CM_OK && li < c->n_layers; li++) {
        const cm_dec_layer *L = &m->layers[li];
        cm_dec_rmsnorm(x, t, L->ln_in, N, h, eps, threads);
        if ((rc = cm_wlinear(t, h, &L->q, N, q, qd, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->k, N, kb, kvd, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->v, N, vb, kvd, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        add_bias(q, N, qd, qd, L->bq, threads);
        add_bias(kb, N, kvd, kvd, L->bk, threads);
        add_bias(vb, N, kvd, kvd, L->bv, threads);
        if (L->q_norm) {
            cm_dec_rmsnorm(q, q, L->q_norm, N * nh, hd, eps, threads);
            cm_dec_rmsnorm(kb, kb, L->k_norm, N * kv, hd, eps, threads);
        }
        cm_dec_rope_apply(q, qd, N, nh, hd, pos, cs, sn, threads);
        cm_dec_rope_apply(kb, kvd, N, kv, hd, pos, cs, sn, threads);
        if ((rc = cm_dec_attention(q, qd, kb, vb, kvd, att, qd, nh, kv, hd, b->offset, b->length, b->n_seqs, causal,
                                   window, threads)) != CM_OK)
            break;
        if ((rc = cm_wlinear(att, qd, &L->o, N, x, h, 1.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        add_bias(x, N, h, h, L->bo, threads);
        cm_dec_rmsnorm(x, t, L->ln_post, N, h, eps, threads);
        if ((rc = cm_wlinear(t, h, &L->gate, N, gate, I, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->up, N, up, I, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        add_bias(gate, N, I, I, L->bgate, threads);
        add_bias(up, N, I, I, L->bup, threads);
        cm_dec_swiglu(gate, I, up, I, N, I, threads);
        if ((rc = cm_wlinear(gate, I, &L->down, N, x, h, 1.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        add_bias(x, N, h, h, L->bdown, threads);
    }
    if (rc == CM_OK) cm_dec_rmsnorm(x, x, m->norm, N, h, eps, threads);
    cm_wscratch_free(&ws);
    free(t); free(q); free(kb); free(vb); free(att); free(gate); free(up); free(pos); free(cs); free(sn);
    return rc;
}
