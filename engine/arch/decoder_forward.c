/* decoder_forward.c: the decoder forward pass over a packed batch (decoder.h): embeddings (x sqrt(hidden) for
 * Gemma 3), then per layer RMSNorm -> q/k/v (+bias) -> [Qwen3 / Gemma 3 q/k norm] -> RoPE (the layer's theta and
 * scaling) -> grouped-query attention (the layer's window, scale, softcap) -> o_proj [-> Gemma 3 post-attention
 * norm] into the residual stream -> RMSNorm -> SwiGLU (GeGLU for Gemma 3) MLP [-> Gemma 3 post-feed-forward norm]
 * into the residual stream; final RMSNorm. */
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/decoder.h"
#include "engine/arch/decoder_ops.h"
#include "engine/nn/ops.h"

/* x += y, (n) floats. */
static void add_into(float *x, const float *y, size_t n, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) x[i] += y[i];
}

/* Rotary tables for the batch: positions index rows of (cos, sin) (*rows, head_dim / 2). For dynamic scaling every
 * sequence longer than the original context gets rows of its own (HF computes its theta from the sequence length),
 * others share rows [0, max_len). pos (n_tokens) is filled; *cs / *sn are allocated (caller frees). */
static int rope_tables(const cm_dec_rope *r, const cm_hf_batch *b, size_t hd, size_t max_len, size_t *pos,
                       float **cs, float **sn) {
    size_t half = hd / 2, rows = max_len;
    int dyn = r->kind == CM_ROPE_DYNAMIC;
    for (size_t s = 0; dyn && s < b->n_seqs; s++)
        if ((double)b->length[s] > r->original_max) rows += b->length[s];
    *cs = cm_malloc(rows * half * sizeof(float));
    *sn = cm_malloc(rows * half * sizeof(float));
    if (!*cs || !*sn) return CM_ERR_NOMEM;
    cm_dec_rope_table_ex(r, hd, 0, max_len, *cs, *sn);
    size_t next = max_len;
    for (size_t s = 0; s < b->n_seqs; s++) {
        size_t base = 0, L = b->length[s];
        if (dyn && (double)L > r->original_max) {
            cm_dec_rope_table_ex(r, hd, L, L, *cs + next * half, *sn + next * half);
            base = next;
            next += L;
        }
        for (size_t p = 0; p < L; p++) pos[b->offset[s] + p] = base + p;
    }
    return CM_OK;
}

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
    size_t max_len;
    CM_TRY(cm_hf_batch_check(b, c->vocab_size, &max_len));
    float *t = cm_malloc(N * h * sizeof(float));
    float *q = cm_malloc(N * qd * sizeof(float));
    float *kb = cm_malloc(N * kvd * sizeof(float));
    float *vb = cm_malloc(N * kvd * sizeof(float));
    float *att = cm_malloc(N * qd * sizeof(float));
    float *gate = cm_malloc(N * I * sizeof(float));
    float *up = cm_malloc(N * I * sizeof(float));
    size_t *pos = cm_malloc(N * sizeof(size_t)), *pos_l = cm_malloc(N * sizeof(size_t));
    float *cs = NULL, *sn = NULL, *cs_l = NULL, *sn_l = NULL;
    cm_wscratch ws = {0};
    const cm_dec_config *dc = &m->dc;
    int rc = CM_OK;
    if (!t || !q || !kb || !vb || !att || !gate || !up || !pos || !pos_l) rc = CM_ERR_NOMEM;
    if (rc == CM_OK) rc = rope_tables(&dc->rope, b, hd, max_len, pos, &cs, &sn);
    if (rc == CM_OK && dc->gemma3) rc = rope_tables(&dc->rope_local, b, hd, max_len, pos_l, &cs_l, &sn_l);
    if (rc == CM_OK) {
        float es = m->embed_scale;
#pragma omp parallel for num_threads(threads) schedule(static) if (N * h > 65536)
        for (size_t i = 0; i < N; i++) {
            cm_wmat_row(&m->embed, (size_t)b->ids[i], x + i * h);
            if (es != 1.0f)
                for (size_t j = 0; j < h; j++) x[i * h + j] *= es;
        }
    }
    for (int64_t li = 0; rc == CM_OK && li < c->n_layers; li++) {
        const cm_dec_layer *L = &m->layers[li];
        int sliding = dc->layer_sliding[li] && dc->sliding_window > 0;
        cm_dec_attn_opts ao = {0};
        ao.scale = (float)dc->attn_scale;
        ao.causal = causal;
        ao.softcap = (float)dc->softcap;
        /* Mistral / Qwen2 windows bound causal attention only; Gemma 3's also bound bidirectional attention */
        if (sliding && (causal || dc->window_both)) ao.window = (size_t)dc->sliding_window;
        ao.window_both = dc->window_both;
        int local = dc->gemma3 && sliding;
        const size_t *lp = local ? pos_l : pos;
        const float *lc = local ? cs_l : cs, *ls = local ? sn_l : sn;
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
        cm_dec_rope_apply(q, qd, N, nh, hd, lp, lc, ls, threads);
        cm_dec_rope_apply(kb, kvd, N, kv, hd, lp, lc, ls, threads);
        if ((rc = cm_dec_attention_ex(q, qd, kb, vb, kvd, att, qd, nh, kv, hd, b->offset, b->length, b->n_seqs, &ao,
                                      threads)) != CM_OK)
            break;
        if (dc->gemma3) {   /* Gemma: o_proj -> post_attention_layernorm -> residual */
            if ((rc = cm_wlinear(att, qd, &L->o, N, t, h, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
            add_bias(t, N, h, h, L->bo, threads);
            cm_dec_rmsnorm(t, t, L->ln_post, N, h, eps, threads);
            add_into(x, t, N * h, threads);
            cm_dec_rmsnorm(x, t, L->ln_pre_ff, N, h, eps, threads);
        } else {
            if ((rc = cm_wlinear(att, qd, &L->o, N, x, h, 1.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
            add_bias(x, N, h, h, L->bo, threads);
            cm_dec_rmsnorm(x, t, L->ln_post, N, h, eps, threads);
        }
        if ((rc = cm_wlinear(t, h, &L->gate, N, gate, I, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        if ((rc = cm_wlinear(t, h, &L->up, N, up, I, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
        add_bias(gate, N, I, I, L->bgate, threads);
        add_bias(up, N, I, I, L->bup, threads);
        if (dc->gemma3) {
            cm_dec_gelu_gate(gate, up, N, I, dc->gelu_tanh, threads);
            if ((rc = cm_wlinear(gate, I, &L->down, N, t, h, 0.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
            cm_dec_rmsnorm(t, t, L->ln_post_ff, N, h, eps, threads);
            add_into(x, t, N * h, threads);
        } else {
            cm_dec_swiglu(gate, I, up, I, N, I, threads);
            if ((rc = cm_wlinear(gate, I, &L->down, N, x, h, 1.0f, threads, &m->cfg.linear, &ws)) != CM_OK) break;
            add_bias(x, N, h, h, L->bdown, threads);
        }
    }
    if (rc == CM_OK) cm_dec_rmsnorm(x, x, m->norm, N, h, eps, threads);
    cm_wscratch_free(&ws);
    free(t); free(q); free(kb); free(vb); free(att); free(gate); free(up);
    free(pos); free(pos_l); free(cs); free(sn); free(cs_l); free(sn_l);
    return rc;
}
