/*
 * gpu_model.cu: the forward pass of a replica over one packed batch and the
 * poolings after it (gpu.h cm_gpu_model_encode, cm_gpu_batch_bytes),
 * reproducing the CPU engine step by step:
 *   BERT family  (engine/arch/bert.c): embeddings (+ RoBERTa positions) ->
 *                LN -> per layer: QKV (+bias) -> attention (+ MPNet bias) ->
 *                Wo -> LN(x + . + bo) -> act(Wi . + bi) -> Wo2 -> LN(x + . + bo2)
 *   decoders     (engine/arch/decoder_forward.c): embed -> per layer:
 *                RMSNorm -> QKV (+bias) -> [q/k RMSNorm] -> RoPE -> GQA
 *                attention (causal + sliding window, or bidirectional) ->
 *                x += Wo . (+bo) -> RMSNorm -> SwiGLU -> x += Wdown . (+bdown);
 *                final RMSNorm
 *   then per pool spec (engine/hf/hf_model.c cm_hf_encode_multi): pool ->
 *   Dense modules -> optional L2 -> host.
 * Positions, the attention tiles, the pooled-token lists and the rotary
 * tables are computed on the host (exactly as the CPU does) and uploaded
 * with the token ids.
 *
 * Device scratch: one arena per replica, laid out by `layout` (the same
 * function answers cm_gpu_batch_bytes), grown when a batch needs more.
 */
#include "engine/cuda/gpu_internal.cuh"

extern "C" {
#include "engine/arch/decoder_ops.h"
}

#include <stdlib.h>
#include <string.h>

enum { LAT_CHUNK = 1024 };   /* tokens per latent-attention chunk */

typedef struct bufs {
    float   *x;          /* (N, h) residual stream, then the last hidden states */
    void    *t;          /* (N, max(h, I)) T: inputs of the GEMMs */
    float   *qkv;        /* (N, qkv width) */
    void    *att;        /* (N, qd) T: attention output */
    float   *mid;        /* (N, I) BERT intermediate, (N, 2 I) decoder gate|up */
    float   *tmp;        /* (N, h) BERT projection outputs */
    int32_t *ids, *pos, *off, *len, *first, *tile_seq, *tile_q0;
    float   *cs, *sn;    /* (max_len, head_dim / 2) decoder rotary tables */
    float   *pooled, *dbuf;   /* (ns, wmax) */
    gpu_latent_ws lat;
    size_t   tile_cap, wmax;
} bufs;

typedef struct sizes {
    size_t h, I, qd, kvd, qkvw, midw, hd;
} sizes;

static sizes sizes_of(const cm_gpu_model *g) {
    const cm_hf_config *c = &g->cfg;
    sizes z;
    z.h = (size_t)c->hidden;
    z.I = (size_t)c->intermediate;
    z.hd = (size_t)c->head_dim;
    z.qd = (size_t)c->n_heads * z.hd;
    z.kvd = (size_t)c->n_kv_heads * z.hd;
    z.qkvw = z.qd + 2 * z.kvd;
    z.midw = g->arch == GPU_ARCH_BERT ? z.I : 2 * z.I;
    return z;
}

/* Lays the arena out at base (NULL: count only); returns the bytes needed. */
static size_t layout(const cm_gpu_model *g, size_t N, size_t ns, size_t max_len, char *base, bufs *B) {
    sizes z = sizes_of(g);
    size_t off = 0, te = gpu_elt(g->dtype);
#define TAKE(field, type, bytes)                                                                               \
    do {                                                                                                       \
        B->field = base ? (type)(base + off) : (type)NULL;                                                     \
        off += gpu_align(bytes);                                                                               \
    } while (0)
    memset(B, 0, sizeof *B);
    B->tile_cap = N / GPU_ATT_BQ + ns + 1;
    B->wmax = g->pool_dim;
    for (size_t i = 0; i < g->n_dense; i++) B->wmax = g->dense[i].out > B->wmax ? g->dense[i].out : B->wmax;
    TAKE(x, float *, N * z.h * 4);
    TAKE(t, void *, N * (z.h > z.I ? z.h : z.I) * te);
    TAKE(qkv, float *, N * z.qkvw * 4);
    TAKE(att, void *, N * z.qd * te);
    TAKE(mid, float *, N * z.midw * 4);
    if (g->arch == GPU_ARCH_BERT) TAKE(tmp, float *, N * z.h * 4);
    TAKE(ids, int32_t *, N * 4);
    TAKE(pos, int32_t *, N * 4);
    TAKE(off, int32_t *, ns * 4);
    TAKE(len, int32_t *, ns * 4);
    TAKE(first, int32_t *, ns * 4);
    TAKE(tile_seq, int32_t *, B->tile_cap * 4);
    TAKE(tile_q0, int32_t *, B->tile_cap * 4);
    if (g->arch == GPU_ARCH_DECODER) {
        TAKE(cs, float *, max_len * (z.hd / 2) * 4);
        TAKE(sn, float *, max_len * (z.hd / 2) * 4);
    }
    TAKE(pooled, float *, ns * B->wmax * 4);
    TAKE(dbuf, float *, ns * B->wmax * 4);
    if (g->has_latent) {
        const gpu_latent *l = &g->lat;
        size_t d = (size_t)l->d, inner = (size_t)(l->heads * l->dh), ff = (size_t)l->ff, r = (size_t)l->r;
        size_t tw = d > inner ? d : inner, c = N < (size_t)LAT_CHUNK ? N : (size_t)LAT_CHUNK;
        tw = tw > ff ? tw : ff;
        c = c ? c : 1;
        B->lat.chunk = c;
        TAKE(lat.x, float *, c * d * 4);
        TAKE(lat.t, void *, c * tw * te);
        TAKE(lat.q, float *, c * inner * 4);
        TAKE(lat.S, float *, (size_t)l->heads * c * r * 4);
        TAKE(lat.o, float *, c * inner * 4);
        TAKE(lat.u, float *, c * 2 * ff * 4);
        TAKE(lat.acc, double *, ns * d * 8);
        TAKE(lat.rows, int32_t *, (2 * N + ns) * 4);
    }
#undef TAKE
    return off;
}

size_t cm_gpu_batch_bytes(const cm_gpu_model *g, size_t n_tokens, size_t n_seqs, size_t max_len) {
    bufs B;
    if (!g) return 0;
    return layout(g, n_tokens, n_seqs, max_len, NULL, &B);
}

/* Makes the arena at least `need` bytes; CM_ERR_NOMEM (the replica stays usable) when the device has no room. */
static int grow_arena(cm_gpu_model *g, size_t need, size_t n_tokens) {
    if (need <= g->arena_cap) return CM_OK;
    GPU_CU(g->device, cudaStreamSynchronize(g->stream));
    GPU_CU(g->device, cudaFree(g->arena));
    g->arena = NULL;
    g->arena_cap = 0;
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, need);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();   /* allocation failures are not sticky: the replica stays usable */
        size_t fr = 0, tot = 0;
        if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) (void)cudaGetLastError();
        if (e == cudaErrorMemoryAllocation)
            return cm_error(CM_ERR_NOMEM, "CUDA device %d (%s): a batch of %zu tokens needs %zu bytes of activations; "
                            "%zu bytes are free", g->device, g->device_name, n_tokens, need, fr);
        return gpu_cuda_fail(e, g->device, "cudaMalloc (activations)", __FILE__, __LINE__);
    }
    g->arena = p;
    g->arena_cap = need;
    return CM_OK;
}

/* ---- host-side checks and index arrays -------------------------------------------------------------------- */

static int check_batch(const cm_gpu_model *g, const cm_hf_batch *b, size_t *max_len) {
    const cm_hf_config *c = &g->cfg;
    if (b->n_tokens > 0x7fffffffu || b->n_seqs > 0x7fffffffu)
        return cm_error(CM_ERR_ARG, "CUDA batch of %zu tokens / %zu sequences is too large", b->n_tokens, b->n_seqs);
    int64_t pos_base = g->arch == GPU_ARCH_BERT && g->bert_kind != CM_BERT_KIND_BERT ? c->pad_token_id + 1 : 0;
    size_t ml = 0, tot = 0;
    for (size_t s = 0; s < b->n_seqs; s++) {
        if (!b->length[s] || b->offset[s] != tot)
            return cm_error(CM_ERR_ARG, "CUDA batch: sequence %zu has %zu tokens at row %zu (expected >= 1 at row %zu)",
                            s, b->length[s], b->offset[s], tot);
        if (g->arch == GPU_ARCH_BERT && (int64_t)b->length[s] + pos_base > c->max_positions)
            return cm_error(CM_ERR_ARG, "sequence of %zu tokens exceeds the model's %lld positions", b->length[s],
                            (long long)(c->max_positions - pos_base));
        tot += b->length[s];
        ml = b->length[s] > ml ? b->length[s] : ml;
    }
    if (tot != b->n_tokens)
        return cm_error(CM_ERR_ARG, "CUDA batch: the sequences hold %zu tokens, n_tokens says %zu", tot, b->n_tokens);
    for (size_t t = 0; t < b->n_tokens; t++)
        if (b->ids[t] < 0 || b->ids[t] >= c->vocab_size)
            return cm_error(CM_ERR_ARG, "token id %d outside the vocabulary (%lld): tokenizer and model do not match",
                            b->ids[t], (long long)c->vocab_size);
    *max_len = ml;
    return CM_OK;
}

/* Host staging: pos (N), off, len, first (ns), tiles (2 tile_cap), latent lists (2 N + ns) int32; rotary
 * tables (2 max_len hd/2) float. */
typedef struct staging {
    int32_t *pos, *off, *len, *first, *tile_seq, *tile_q0, *lat;
    float   *cs, *sn;
    size_t   n_tiles;
} staging;

static int stage(cm_gpu_model *g, const cm_hf_batch *b, size_t max_len, const bufs *B, staging *S) {
    size_t N = b->n_tokens, ns = b->n_seqs, half = (size_t)g->cfg.head_dim / 2;
    size_t ints = N + 3 * ns + 2 * B->tile_cap + 2 * N + ns;
    size_t floats = g->arch == GPU_ARCH_DECODER ? 2 * max_len * half : 0;
    size_t need = ints * 4 + floats * 4;
    if (need > g->host_cap) {
        free(g->host);
        g->host = cm_malloc(need);
        g->host_cap = g->host ? need : 0;
        if (!g->host) return CM_ERR_NOMEM;
    }
    int32_t *p = (int32_t *)g->host;
    S->pos = p;
    S->off = S->pos + N;
    S->len = S->off + ns;
    S->first = S->len + ns;
    S->tile_seq = S->first + ns;
    S->tile_q0 = S->tile_seq + B->tile_cap;
    S->lat = S->tile_q0 + B->tile_cap;
    S->cs = (float *)(S->lat + 2 * N + ns);
    S->sn = S->cs + max_len * half;
    const cm_hf_config *c = &g->cfg;
    int roberta = g->arch == GPU_ARCH_BERT && g->bert_kind != CM_BERT_KIND_BERT;
    size_t nt = 0;
    for (size_t s = 0; s < ns; s++) {
        S->off[s] = (int32_t)b->offset[s];
        S->len[s] = (int32_t)b->length[s];
        int64_t p = c->pad_token_id;   /* RoBERTa: cumsum of non-pad tokens + padding_idx */
        for (size_t i = 0; i < b->length[s]; i++) {
            size_t t = b->offset[s] + i;
            if (roberta) S->pos[t] = (int32_t)(b->ids[t] == c->pad_token_id ? c->pad_token_id : ++p);
            else S->pos[t] = (int32_t)i;
        }
        for (size_t q0 = 0; q0 < b->length[s]; q0 += GPU_ATT_BQ) {
            S->tile_seq[nt] = (int32_t)s;
            S->tile_q0[nt++] = (int32_t)q0;
        }
    }
    S->n_tiles = nt;
    if (g->arch == GPU_ARCH_DECODER) cm_dec_rope_table(g->rope_theta, (size_t)c->head_dim, max_len, S->cs, S->sn);
    cudaStream_t st = g->stream;
    int dev = g->device;
    GPU_CU(dev, cudaMemcpyAsync(B->ids, b->ids, N * 4, cudaMemcpyHostToDevice, st));
    GPU_CU(dev, cudaMemcpyAsync(B->pos, S->pos, N * 4, cudaMemcpyHostToDevice, st));
    GPU_CU(dev, cudaMemcpyAsync(B->off, S->off, ns * 4, cudaMemcpyHostToDevice, st));
    GPU_CU(dev, cudaMemcpyAsync(B->len, S->len, ns * 4, cudaMemcpyHostToDevice, st));
    GPU_CU(dev, cudaMemcpyAsync(B->tile_seq, S->tile_seq, nt * 4, cudaMemcpyHostToDevice, st));
    GPU_CU(dev, cudaMemcpyAsync(B->tile_q0, S->tile_q0, nt * 4, cudaMemcpyHostToDevice, st));
    if (g->arch == GPU_ARCH_DECODER && half) {
        GPU_CU(dev, cudaMemcpyAsync(B->cs, S->cs, max_len * half * 4, cudaMemcpyHostToDevice, st));
        GPU_CU(dev, cudaMemcpyAsync(B->sn, S->sn, max_len * half * 4, cudaMemcpyHostToDevice, st));
    }
    return CM_OK;
}

/* ---- forward passes --------------------------------------------------------------------------------------- */

static gpu_attn attn_args(const cm_gpu_model *g, const bufs *B, const staging *S, int causal) {
    sizes z = sizes_of(g);
    gpu_attn a;
    memset(&a, 0, sizeof a);
    a.q = B->qkv;
    a.k = B->qkv + z.qd;
    a.v = B->qkv + z.qd + z.kvd;
    a.ldq = a.ldkv = z.qkvw;
    a.out = B->att;
    a.ldo = z.qd;
    a.tile_seq = B->tile_seq;
    a.tile_q0 = B->tile_q0;
    a.n_tiles = S->n_tiles;
    a.offset = B->off;
    a.length = B->len;
    a.n_heads = (size_t)g->cfg.n_heads;
    a.n_kv_heads = (size_t)g->cfg.n_kv_heads;
    a.dh = z.hd;
    a.causal = causal;
    return a;
}

static int forward_bert(cm_gpu_model *g, size_t N, const bufs *B, const staging *S, int causal) {
    sizes z = sizes_of(g);
    float eps = (float)g->cfg.norm_eps;
    cudaDataType tt = gpu_cuda_type(g->dtype);
    CM_TRY(gpu_embed_bert(g, B->ids, B->pos, N, B->x));
    CM_TRY(gpu_layernorm(g, B->x, NULL, NULL, g->emb_ln_g, g->emb_ln_b, eps, N, z.h, B->x, B->t));
    gpu_attn a = attn_args(g, B, S, causal);
    if (g->bert_kind == CM_BERT_KIND_MPNET) {
        a.rel_bias = g->rel_bias;
        a.bucket = g->bucket;
        a.bucket_center = (size_t)g->cfg.max_positions;
    }
    for (int64_t li = 0; li < g->cfg.n_layers; li++) {
        const gpu_bert_layer *l = &g->blayers[li];
        CM_TRY(gpu_linear(g, B->t, tt, z.h, l->wqkv, N, z.h, 3 * z.h, B->qkv, 3 * z.h, 0.0f));
        CM_TRY(gpu_bias_act(g, B->qkv, N, 3 * z.h, 3 * z.h, l->bqkv, CM_ACT_NONE, NULL));
        CM_TRY(gpu_attention(g, &a));
        CM_TRY(gpu_linear(g, B->att, tt, z.h, l->wo, N, z.h, z.h, B->tmp, z.h, 0.0f));
        CM_TRY(gpu_layernorm(g, B->x, B->tmp, l->bo, l->ln1_g, l->ln1_b, eps, N, z.h, B->x, B->t));
        CM_TRY(gpu_linear(g, B->t, tt, z.h, l->wi, N, z.h, z.I, B->mid, z.I, 0.0f));
        CM_TRY(gpu_bias_act(g, B->mid, N, z.I, z.I, l->bi, g->act, B->t));
        CM_TRY(gpu_linear(g, B->t, tt, z.I, l->wo2, N, z.I, z.h, B->tmp, z.h, 0.0f));
        CM_TRY(gpu_layernorm(g, B->x, B->tmp, l->bo2, l->ln2_g, l->ln2_b, eps, N, z.h, B->x, B->t));
    }
    return CM_OK;
}

static int forward_decoder(cm_gpu_model *g, size_t N, const bufs *B, const staging *S, int causal) {
    sizes z = sizes_of(g);
    float eps = (float)g->cfg.norm_eps;
    cudaDataType tt = gpu_cuda_type(g->dtype);
    size_t nh = (size_t)g->cfg.n_heads, nkv = (size_t)g->cfg.n_kv_heads;
    gpu_attn a = attn_args(g, B, S, causal);
    a.window = causal && g->sliding_window > 0 ? (size_t)g->sliding_window : 0;
    CM_TRY(gpu_embed_dec(g, B->ids, N, B->x));
    for (int64_t li = 0; li < g->cfg.n_layers; li++) {
        const gpu_dec_layer *l = &g->dlayers[li];
        CM_TRY(gpu_rmsnorm(g, B->x, l->ln_in, eps, N, z.h, B->t, 1));
        CM_TRY(gpu_linear(g, B->t, tt, z.h, l->wqkv, N, z.h, z.qkvw, B->qkv, z.qkvw, 0.0f));
        CM_TRY(gpu_bias_act(g, B->qkv, N, z.qkvw, z.qkvw, l->bqkv, CM_ACT_NONE, NULL));
        CM_TRY(gpu_qk_norm_rope(g, B->qkv, z.qkvw, z.qd, N, nh, nkv, z.hd, l->q_norm, l->k_norm, eps, B->pos, B->cs,
                                B->sn));
        CM_TRY(gpu_attention(g, &a));
        CM_TRY(gpu_linear(g, B->att, tt, z.qd, l->wo, N, z.qd, z.h, B->x, z.h, 1.0f));
        CM_TRY(gpu_bias_act(g, B->x, N, z.h, z.h, l->bo, CM_ACT_NONE, NULL));
        CM_TRY(gpu_rmsnorm(g, B->x, l->ln_post, eps, N, z.h, B->t, 1));
        CM_TRY(gpu_linear(g, B->t, tt, z.h, l->wgu, N, z.h, 2 * z.I, B->mid, 2 * z.I, 0.0f));
        CM_TRY(gpu_swiglu(g, B->mid, l->bgu, N, z.I, B->t));
        CM_TRY(gpu_linear(g, B->t, tt, z.I, l->wdown, N, z.I, z.h, B->x, z.h, 1.0f));
        CM_TRY(gpu_bias_act(g, B->x, N, z.h, z.h, l->bdown, CM_ACT_NONE, NULL));
    }
    return gpu_rmsnorm(g, B->x, g->norm, eps, N, z.h, B->x, 0);
}

/* ---- encode ------------------------------------------------------------------------------------------------ */

static int check_args(const cm_gpu_model *g, const cm_hf_batch *b, cm_attn_kind attention, const cm_pool_spec *pools,
                      size_t npools, float *const *outs) {
    if (!g || !b || (npools && (!pools || !outs)))
        return cm_error(CM_ERR_ARG, "cm_gpu_model_encode: NULL replica, batch, pools or outputs");
    if (attention != CM_ATTN_BIDIRECTIONAL && attention != CM_ATTN_CAUSAL)
        return cm_error(CM_ERR_ARG, "cm_gpu_model_encode: attention must be resolved (bidirectional or causal), got %d",
                        (int)attention);
    for (size_t k = 0; k < npools; k++) {
        cm_pool_kind kind = pools[k].kind;
        if (kind == CM_POOL_DEFAULT || kind < CM_POOL_CLS || kind > CM_POOL_MEAN_SQRT)
            return cm_error(CM_ERR_ARG, "cm_gpu_model_encode: pool %zu: kind %d is not a resolved pooling", k,
                            (int)kind);
        if (kind == CM_POOL_LATENT && !g->has_latent)
            return cm_error(CM_ERR_ARG, "pooling 'latent' needs a latent-attention model (NV-Embed)");
        if (!outs[k]) return cm_error(CM_ERR_ARG, "cm_gpu_model_encode: output %zu is NULL", k);
    }
    return CM_OK;
}

static int encode(cm_gpu_model *g, const cm_hf_batch *b, int causal, const cm_pool_spec *pools, size_t npools,
                  float *const *outs, size_t max_len) {
    size_t N = b->n_tokens, ns = b->n_seqs, h = g->hidden, od = g->out_dim;
    bufs B;
    size_t need = layout(g, N, ns, max_len, NULL, &B);
    CM_TRY(grow_arena(g, need, N));
    layout(g, N, ns, max_len, (char *)g->arena, &B);
    staging S;
    CM_TRY(stage(g, b, max_len, &B, &S));
    if (g->arch == GPU_ARCH_BERT) CM_TRY(forward_bert(g, N, &B, &S, causal));
    else CM_TRY(forward_decoder(g, N, &B, &S, causal));
    for (size_t k = 0; k < npools; k++) {
        const cm_pool_spec *p = &pools[k];
        if (p->kind == CM_POOL_LATENT) {
            CM_TRY(gpu_latent_pool(g, b, B.x, p->exclude_instr, &B.lat, S.lat, B.pooled));
        } else {
            for (size_t s = 0; s < ns; s++) {
                S.first[s] = (int32_t)cm_hf_batch_first_pooled(b, s, p->exclude_instr);
            }
            GPU_CU(g->device, cudaMemcpyAsync(B.first, S.first, ns * 4, cudaMemcpyHostToDevice, g->stream));
            CM_TRY(gpu_pool_generic(g, p->kind, B.x, h, B.off, B.len, B.first, ns, B.pooled));
        }
        float *v = B.pooled;
        for (size_t i = 0; i < g->n_dense; i++) {
            float *dst = v == B.pooled ? B.dbuf : B.pooled;
            CM_TRY(gpu_dense_apply(g, &g->dense[i], v, ns, dst));
            v = dst;
        }
        if (p->normalize) CM_TRY(gpu_l2_normalize(g, v, ns, od));
        /* device -> pageable host memory: returns when the copy is done */
        GPU_CU(g->device, cudaMemcpyAsync(outs[k], v, ns * od * sizeof(float), cudaMemcpyDeviceToHost, g->stream));
    }
    GPU_CU(g->device, cudaStreamSynchronize(g->stream));
    GPU_CU(g->device, cudaGetLastError());
    return CM_OK;
}

int cm_gpu_model_encode(cm_gpu_model *g, const cm_hf_batch *b, cm_attn_kind attention, const cm_pool_spec *pools,
                        size_t npools, float *const *outs) {
    CM_TRY(check_args(g, b, attention, pools, npools, outs));
    if (!b->n_seqs) return CM_OK;
    size_t max_len = 0;
    CM_TRY(check_batch(g, b, &max_len));
    GPU_CU(g->device, cudaSetDevice(g->device));
    int rc = encode(g, b, attention == CM_ATTN_CAUSAL, pools, npools, outs, max_len);
    if (rc != CM_OK && g->stream) {
        /* leave the stream idle for the caller's retry; an error here is reported by the next call */
        if (cudaStreamSynchronize(g->stream) != cudaSuccess) (void)cudaGetLastError();
    }
    return rc;
}
