/* latent.c: NV-Embed latent-attention pooling (latent.h): loading, the latents' K/V precomputed at load,
 * and the per-token cross-attention + GEGLU feed-forward + masked mean + L2 norm. */
/* The softmax and gate loops must vectorise: allow if-conversion of fastmath.h's clamps. */
#if !defined(__clang__)   /* clang has no optimize pragma (and does not need it) */
#pragma GCC optimize("no-trapping-math", "no-math-errno")
#endif

#include "engine/arch/latent.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/arch/decoder_ops.h"
#include "engine/nn/ops.h"
#include "engine/nn/fastmath.h"

#define LP "latent_attention_model."
#define B0 LP "cross_attend_blocks.0."
#define B1 LP "cross_attend_blocks.1."

int64_t cm_latent_n_params(const cm_latent_config *lc) {
    int64_t d = lc->hidden, inner = lc->heads * lc->head_dim, ff = 4 * d;
    return lc->n_latents * d + 4 * d + inner * d + 2 * inner * d + d * inner + 2 * d + 2 * ff * d + 2 * ff + d * ff + d;
}

void cm_latent_free(cm_latent *l) {
    if (!l) return;
    free(l->ln0_g); free(l->ln0_b); free(l->ln1_g); free(l->ln1_b);
    free(l->kv); free(l->b0); free(l->b2);
    cm_wmat_free(&l->to_q); cm_wmat_free(&l->to_out); cm_wmat_free(&l->net0); cm_wmat_free(&l->net2);
    free(l);
}

int cm_latent_load(cm_latent **out, const cm_latent_config *lc, int64_t hidden, const cm_safetensors *st,
                   int threads, const cm_wlinear_params *lp) {
    *out = NULL;
    if (lc->hidden != hidden || lc->latent_dim != hidden)
        return cm_error(CM_ERR_UNSUPPORTED, "%s: latent_attention_config hidden_dim %lld / latent_dim %lld must both "
                        "equal the text model's hidden_size %lld (as in NV-Embed)", cm_st_path(st),
                        (long long)lc->hidden, (long long)lc->latent_dim, (long long)hidden);
    cm_latent *l = cm_calloc(1, sizeof *l);
    if (!l) return CM_ERR_NOMEM;
    l->d = hidden;
    l->linear = lp ? *lp : cm_wlinear_default_params();
    l->r = lc->n_latents;
    l->heads = lc->heads;
    l->dh = lc->head_dim;
    l->ff = 4 * hidden;
    l->normalize = lc->normalize;
    int64_t d = l->d, inner = l->heads * l->dh;
    float *lat = NULL, *ctx_g = NULL, *ctx_b = NULL;
    cm_wmat to_kv = {0};
    int rc = CM_OK;
    if (rc == CM_OK) rc = cm_weight_vector(st, B0 "norm.weight", d, &l->ln0_g);
    if (rc == CM_OK) rc = cm_weight_vector(st, B0 "norm.bias", d, &l->ln0_b);
    if (rc == CM_OK) rc = cm_weight_vector(st, B0 "norm_context.weight", d, &ctx_g);
    if (rc == CM_OK) rc = cm_weight_vector(st, B0 "norm_context.bias", d, &ctx_b);
    if (rc == CM_OK) rc = cm_weight_vector(st, B1 "norm.weight", d, &l->ln1_g);
    if (rc == CM_OK) rc = cm_weight_vector(st, B1 "norm.bias", d, &l->ln1_b);
    if (rc == CM_OK) rc = cm_weight_matrix(st, B0 "fn.to_q.weight", inner, d, &l->to_q);
    if (rc == CM_OK) rc = cm_weight_matrix(st, B0 "fn.to_kv.weight", 2 * inner, d, &to_kv);
    if (rc == CM_OK) rc = cm_weight_matrix(st, B0 "fn.to_out.weight", d, inner, &l->to_out);
    if (rc == CM_OK) rc = cm_weight_matrix(st, B1 "fn.net.0.weight", 2 * l->ff, d, &l->net0);
    if (rc == CM_OK) rc = cm_weight_vector(st, B1 "fn.net.0.bias", 2 * l->ff, &l->b0);
    if (rc == CM_OK) rc = cm_weight_matrix(st, B1 "fn.net.2.weight", d, l->ff, &l->net2);
    if (rc == CM_OK) rc = cm_weight_vector(st, B1 "fn.net.2.bias", d, &l->b2);
    if (rc == CM_OK) {
        const cm_st_tensor *t = NULL;
        int64_t shape[2] = {l->r, d};
        rc = cm_st_expect(st, LP "latents", 2, shape, &t);
        if (rc == CM_OK) rc = cm_st_to_f32(t, &lat);
    }
    /* K/V of the latents, once: kv = LN_ctx(latents) . Wkv^T  (r, 2 inner) */
    if (rc == CM_OK) {
        cm_dec_layernorm(lat, lat, ctx_g, ctx_b, (size_t)l->r, (size_t)d, 1e-5f, threads);
        l->kv = cm_malloc((size_t)l->r * (size_t)(2 * inner) * sizeof(float));
        if (!l->kv) rc = CM_ERR_NOMEM;
        else rc = cm_wlinear(lat, (size_t)d, &to_kv, (size_t)l->r, l->kv, (size_t)(2 * inner), 0.0f, threads,
                             &l->linear, NULL);
    }
    free(lat); free(ctx_g); free(ctx_b);
    cm_wmat_free(&to_kv);
    /* --dtype bf16/int8: the per-text matrices in the compute dtype (to_kv ran once, above, as loaded) */
    cm_wmat *w[] = {&l->to_q, &l->to_out, &l->net0, &l->net2};
    for (size_t k = 0; rc == CM_OK && k < sizeof w / sizeof w[0]; k++) rc = cm_wmat_prepare(w[k], l->linear.dtype);
    if (rc != CM_OK) { cm_latent_free(l); return rc; }
    *out = l;
    return CM_OK;
}

enum { CHUNK = 64 };

int cm_latent_pool(const cm_latent *l, const cm_hf_batch *b, const float *hidden, int exclude_instr, int threads,
                   float *out) {
    size_t d = (size_t)l->d, inner = (size_t)(l->heads * l->dh), ff = (size_t)l->ff, r = (size_t)l->r;
    size_t dh = (size_t)l->dh, H = (size_t)l->heads;
    if (threads < 1) threads = 1;
    float *x = cm_malloc(CHUNK * d * sizeof(float));          /* gathered token states H */
    float *t = cm_malloc(CHUNK * d * sizeof(float));          /* LN outputs */
    float *q = cm_malloc(CHUNK * inner * sizeof(float));
    float *o = cm_malloc(CHUNK * inner * sizeof(float));
    float *u = cm_malloc(CHUNK * 2 * ff * sizeof(float));
    float *g = cm_malloc(CHUNK * ff * sizeof(float));
    float *S = cm_malloc((size_t)threads * CHUNK * r * sizeof(float));
    size_t *owner = cm_malloc(CHUNK * sizeof(size_t));
    double *acc = cm_calloc(b->n_seqs * d, sizeof(double));
    size_t *cnt = cm_calloc(b->n_seqs, sizeof(size_t));
    cm_wscratch ws = {0};
    int rc = CM_OK;
    if (!x || !t || !q || !o || !u || !g || !S || !owner || !acc || !cnt) rc = CM_ERR_NOMEM;
    const float scale = (float)(1.0 / sqrt((double)dh));
    size_t s = 0, pos = 0;            /* next token to gather: sequence s, position pos */
    while (rc == CM_OK) {
        /* gather up to CHUNK pooled tokens */
        size_t c = 0;
        while (c < CHUNK && s < b->n_seqs) {
            size_t start = cm_hf_batch_first_pooled(b, s, exclude_instr);
            if (pos < start) pos = start;
            if (pos >= b->length[s]) { s++; pos = 0; continue; }
            memcpy(x + c * d, hidden + (b->offset[s] + pos) * d, d * sizeof(float));
            owner[c++] = s;
            pos++;
        }
        if (c == 0) break;
        /* cross-attention to the latents */
        cm_dec_layernorm(x, t, l->ln0_g, l->ln0_b, c, d, 1e-5f, threads);
        if ((rc = cm_wlinear(t, d, &l->to_q, c, q, inner, 0.0f, threads, &l->linear, &ws)) != CM_OK) break;
        cm_ops_set_threads(1);
        int nt = (size_t)threads > H ? (int)H : threads;
        if (c * r * dh * H < ((size_t)1 << 21)) nt = 1;   /* too little work to wake another thread */
#pragma omp parallel num_threads(nt)
        {
            float *Sc = S + (size_t)omp_get_thread_num() * CHUNK * r;
#pragma omp for schedule(dynamic, 1)
            for (size_t h = 0; h < H; h++) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)c, (blasint)r, (blasint)dh, scale,
                            q + h * dh, (blasint)inner, l->kv + h * dh, (blasint)(2 * inner), 0.0f, Sc, (blasint)r);
                for (size_t i = 0; i < c; i++) {
                    float *sr = Sc + i * r, inv = cm_exp_row(sr, r);
                    for (size_t j = 0; j < r; j++) sr[j] *= inv;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)c, (blasint)dh, (blasint)r, 1.0f, Sc,
                            (blasint)r, l->kv + inner + h * dh, (blasint)(2 * inner), 0.0f, o + h * dh, (blasint)inner);
            }
        }
        /* H1 = O Wo^T + H (into x) */
        if ((rc = cm_wlinear(o, inner, &l->to_out, c, x, d, 1.0f, threads, &l->linear, &ws)) != CM_OK) break;
        /* H2 = GEGLU(LN1(H1) W0^T + b0) W2^T + b2 + H1 (into x) */
        cm_dec_layernorm(x, t, l->ln1_g, l->ln1_b, c, d, 1e-5f, threads);
        if ((rc = cm_wlinear(t, d, &l->net0, c, u, 2 * ff, 0.0f, threads, &l->linear, &ws)) != CM_OK) break;
        cm_dec_geglu(u, l->b0, g, c, ff, threads);
        if ((rc = cm_wlinear(g, ff, &l->net2, c, x, d, 1.0f, threads, &l->linear, &ws)) != CM_OK) break;
        for (size_t i = 0; i < c; i++) {
            double *a = acc + owner[i] * d;
            const float *xr = x + i * d;
            for (size_t j = 0; j < d; j++) a[j] += (double)xr[j] + (double)l->b2[j];
            cnt[owner[i]]++;
        }
    }
    if (rc == CM_OK) {
        for (size_t k = 0; k < b->n_seqs; k++) {
            double nn = 0;
            for (size_t j = 0; j < d; j++) {
                acc[k * d + j] /= (double)(cnt[k] ? cnt[k] : 1);
                nn += acc[k * d + j] * acc[k * d + j];
            }
            double inv = l->normalize && nn > 0 ? 1.0 / sqrt(nn) : 1.0;
            for (size_t j = 0; j < d; j++) out[k * d + j] = (float)(acc[k * d + j] * inv);
        }
    }
    cm_wscratch_free(&ws);
    free(x); free(t); free(q); free(o); free(u); free(g); free(S); free(owner); free(acc); free(cnt);
    return rc;
}
