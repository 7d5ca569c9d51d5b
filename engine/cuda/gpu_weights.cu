/*
 * gpu_weights.cu: a replica's weights on the device (gpu.h
 * cm_gpu_weight_bytes, cm_gpu_model_load, cm_gpu_model_free).
 *
 * One walk over the loaded CPU model (cm_hf_model_state: a cm_bert or a
 * cm_decoder, plus the Dense modules) lays every tensor out in one device
 * allocation (256-byte aligned): in count mode it only adds up the bytes
 * (cm_gpu_weight_bytes: exactly what load allocates), in upload mode it
 * copies, converting on the host: weight matrices to the replica's dtype
 * (float32 -> bf16 / fp16 rounded to nearest even), vectors kept float32.
 * Decoders get q/k/v fused into one matrix and gate/up into another.
 */
#include "engine/cuda/gpu_internal.cuh"

#include <stdlib.h>
#include <string.h>

/* ---- the walk --------------------------------------------------------------------------------------------- */

typedef struct walk {
    int          upload;        /* 0: count bytes only */
    cm_gpu_dtype dt;
    char        *base;          /* device allocation (upload mode) */
    size_t       off;
    int          device;
    void        *tmp;           /* host conversion buffer */
    size_t       tmp_cap;
    int          rc;
} walk;

enum { CONVERT_CHUNK = 1 << 22 };   /* elements converted per host pass */

static void *take(walk *w, size_t bytes) {
    size_t at = w->off;
    w->off += gpu_align(bytes);
    return w->upload ? w->base + at : NULL;
}

static uint16_t f32_to_bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1);                                              /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static float bf16_bits_to_f32(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* Copies n elements of src (F32 or BF16 bits) to dst on the device as `to` (element size 2 or 4). */
static void put(walk *w, void *dst, const void *src, cm_wtype st, size_t n, cm_gpu_dtype to) {
    if (!w->upload || w->rc || !n) return;
    int same = (st == CM_W_F32 && to == CM_GPU_FP32) || (st == CM_W_BF16 && to == CM_GPU_BF16);
    size_t out_elt = gpu_elt(to);
    if (same) {
        cudaError_t e = cudaMemcpy(dst, src, n * out_elt, cudaMemcpyHostToDevice);
        if (e != cudaSuccess) w->rc = gpu_cuda_fail(e, w->device, "cudaMemcpy (weights)", __FILE__, __LINE__);
        return;
    }
    if (!w->tmp) {
        w->tmp = cm_malloc((size_t)CONVERT_CHUNK * 4);
        if (!w->tmp) { w->rc = CM_ERR_NOMEM; return; }
    }
    for (size_t i0 = 0; i0 < n && !w->rc; i0 += CONVERT_CHUNK) {
        size_t k = n - i0 < (size_t)CONVERT_CHUNK ? n - i0 : (size_t)CONVERT_CHUNK;
        for (size_t i = 0; i < k; i++) {
            float f = st == CM_W_F32 ? ((const float *)src)[i0 + i] : bf16_bits_to_f32(((const uint16_t *)src)[i0 + i]);
            if (to == CM_GPU_FP32) ((float *)w->tmp)[i] = f;
            else if (to == CM_GPU_BF16) ((uint16_t *)w->tmp)[i] = f32_to_bf16_bits(f);
            else ((__half *)w->tmp)[i] = __float2half_rn(f);
        }
        cudaError_t e = cudaMemcpy((char *)dst + i0 * out_elt, w->tmp, k * out_elt, cudaMemcpyHostToDevice);
        if (e != cudaSuccess) w->rc = gpu_cuda_fail(e, w->device, "cudaMemcpy (weights)", __FILE__, __LINE__);
    }
}

/* A float32 vector (NULL stays NULL). */
static float *vec(walk *w, const float *src, size_t n) {
    if (!src) return NULL;
    float *d = (float *)take(w, n * 4);
    put(w, d, src, CM_W_F32, n, CM_GPU_FP32);
    return d;
}

/* A float32 matrix or table stored in the replica's dtype. */
static void *mat_f32(walk *w, const float *src, size_t n) {
    void *d = take(w, n * gpu_elt(w->dt));
    put(w, d, src, CM_W_F32, n, w->dt);
    return d;
}

/* Several cm_wmat stacked by rows into one matrix in the replica's dtype. */
static void *mats(walk *w, const cm_wmat *const *m, size_t k) {
    size_t n = 0;
    for (size_t i = 0; i < k; i++) n += m[i]->rows * m[i]->cols;
    char *d = (char *)take(w, n * gpu_elt(w->dt));
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        put(w, d ? d + at * gpu_elt(w->dt) : NULL, m[i]->data, m[i]->type, m[i]->rows * m[i]->cols, w->dt);
        at += m[i]->rows * m[i]->cols;
    }
    return d;
}

static void *mat1(walk *w, const cm_wmat *m) { return mats(w, &m, 1); }

/* Several float32 vectors concatenated (NULL when the first is NULL: biases come all or none). */
static float *vecs(walk *w, const float *const *v, const size_t *n, size_t k) {
    if (!v[0]) return NULL;
    size_t tot = 0;
    for (size_t i = 0; i < k; i++) tot += n[i];
    float *d = (float *)take(w, tot * 4);
    size_t at = 0;
    for (size_t i = 0; i < k; i++) {
        put(w, d ? d + at : NULL, v[i], CM_W_F32, n[i], CM_GPU_FP32);
        at += n[i];
    }
    return d;
}

static void walk_bert(walk *w, cm_gpu_model *g, const cm_bert *m) {
    const cm_hf_config *c = &m->cfg;
    size_t h = (size_t)c->hidden, I = (size_t)c->intermediate;
    g->word = mat_f32(w, m->word, (size_t)c->vocab_size * h);
    g->pos = mat_f32(w, m->pos, (size_t)c->max_positions * h);
    g->type0 = vec(w, m->type0, h);
    g->emb_ln_g = vec(w, m->emb_ln_g, h);
    g->emb_ln_b = vec(w, m->emb_ln_b, h);
    for (int64_t i = 0; i < c->n_layers; i++) {
        const cm_bert_layer *s = &m->layers[i];
        gpu_bert_layer *d = &g->blayers[i];
        d->wqkv = mat_f32(w, s->wqkv, 3 * h * h);
        d->bqkv = vec(w, s->bqkv, 3 * h);
        d->wo = mat_f32(w, s->wo, h * h);
        d->bo = vec(w, s->bo, h);
        d->ln1_g = vec(w, s->ln1_g, h);
        d->ln1_b = vec(w, s->ln1_b, h);
        d->wi = mat_f32(w, s->wi, I * h);
        d->bi = vec(w, s->bi, I);
        d->wo2 = mat_f32(w, s->wo2, h * I);
        d->bo2 = vec(w, s->bo2, h);
        d->ln2_g = vec(w, s->ln2_g, h);
        d->ln2_b = vec(w, s->ln2_b, h);
    }
    if (m->kind == CM_BERT_KIND_MPNET) {
        g->rel_bias = vec(w, m->rel_bias, (size_t)(m->n_buckets * c->n_heads));
        size_t nb = (size_t)(2 * c->max_positions + 1);
        g->bucket = (int32_t *)take(w, nb * 4);
        put(w, g->bucket, m->bucket, CM_W_F32, nb, CM_GPU_FP32);   /* 4-byte elements copied as they are */
    }
}

static void walk_decoder(walk *w, cm_gpu_model *g, const cm_decoder *m) {
    const cm_hf_config *c = &m->cfg;
    size_t h = (size_t)c->hidden, hd = (size_t)c->head_dim, I = (size_t)c->intermediate;
    size_t qd = (size_t)c->n_heads * hd, kvd = (size_t)c->n_kv_heads * hd;
    g->embed = mat1(w, &m->embed);
    for (int64_t i = 0; i < c->n_layers; i++) {
        const cm_dec_layer *s = &m->layers[i];
        gpu_dec_layer *d = &g->dlayers[i];
        const cm_wmat *qkv[3] = {&s->q, &s->k, &s->v}, *gu[2] = {&s->gate, &s->up};
        d->wqkv = mats(w, qkv, 3);
        d->wo = mat1(w, &s->o);
        d->wgu = mats(w, gu, 2);
        d->wdown = mat1(w, &s->down);
        const float *bqkv[3] = {s->bq, s->bk, s->bv}, *bgu[2] = {s->bgate, s->bup};
        const size_t nqkv[3] = {qd, kvd, kvd}, ngu[2] = {I, I};
        d->bqkv = vecs(w, bqkv, nqkv, 3);
        d->bo = vec(w, s->bo, h);
        d->bgu = vecs(w, bgu, ngu, 2);
        d->bdown = vec(w, s->bdown, h);
        d->ln_in = vec(w, s->ln_in, h);
        d->ln_post = vec(w, s->ln_post, h);
        d->q_norm = vec(w, s->q_norm, hd);
        d->k_norm = vec(w, s->k_norm, hd);
    }
    g->norm = vec(w, m->norm, h);
    g->rope_theta = m->dc.rope_theta;
    g->sliding_window = m->dc.sliding_window;
    if (m->latent) {
        const cm_latent *s = m->latent;
        gpu_latent *l = &g->lat;
        g->has_latent = 1;
        l->d = s->d;
        l->r = s->r;
        l->heads = s->heads;
        l->dh = s->dh;
        l->ff = s->ff;
        l->normalize = s->normalize;
        size_t d = (size_t)s->d, inner = (size_t)(s->heads * s->dh), ff = (size_t)s->ff;
        l->ln0_g = vec(w, s->ln0_g, d);
        l->ln0_b = vec(w, s->ln0_b, d);
        l->ln1_g = vec(w, s->ln1_g, d);
        l->ln1_b = vec(w, s->ln1_b, d);
        l->kv = vec(w, s->kv, (size_t)s->r * 2 * inner);
        l->to_q = mat1(w, &s->to_q);
        l->to_out = mat1(w, &s->to_out);
        l->net0 = mat1(w, &s->net0);
        l->net2 = mat1(w, &s->net2);
        l->b0 = vec(w, s->b0, 2 * ff);
        l->b2 = vec(w, s->b2, d);
    }
}

/* Lays out (and in upload mode copies) everything of m into g's fields; g->blayers / g->dlayers allocated. */
static int walk_model(walk *w, cm_gpu_model *g, const cm_hf_model *m) {
    const void *state = cm_hf_model_state(m);
    if (g->arch == GPU_ARCH_BERT) walk_bert(w, g, (const cm_bert *)state);
    else walk_decoder(w, g, (const cm_decoder *)state);
    const cm_dense *dn = NULL;
    g->n_dense = cm_hf_model_dense(m, &dn);
    for (size_t i = 0; i < g->n_dense; i++) {
        g->dense[i].in = dn[i].in;
        g->dense[i].out = dn[i].out;
        g->dense[i].act = dn[i].act;
        g->dense[i].W = vec(w, dn[i].W, dn[i].in * dn[i].out);
        g->dense[i].b = vec(w, dn[i].b, dn[i].out);
    }
    return w->rc;
}

/* Fills the host-side description of g from m (no device work); allocates the layer arrays. */
static int describe(cm_gpu_model *g, const cm_hf_model *m, cm_gpu_dtype dtype) {
    const cm_hf_arch *arch = cm_hf_model_arch(m);
    const void *state = cm_hf_model_state(m);
    if (!state) return cm_error(CM_ERR_ARG, "%s: model loaded without weights (nothing to upload)", cm_hf_model_dir(m));
    if (dtype != CM_GPU_BF16 && dtype != CM_GPU_FP16 && dtype != CM_GPU_FP32)
        return cm_error(CM_ERR_ARG, "unknown GPU dtype %d (expected bf16, fp16 or fp32)", (int)dtype);
    if (arch == &cm_hf_arch_bert) {
        const cm_bert *b = (const cm_bert *)state;
        g->arch = GPU_ARCH_BERT;
        g->cfg = b->cfg;
        g->bert_kind = b->kind;
        g->act = b->act;
        g->blayers = (gpu_bert_layer *)cm_calloc((size_t)b->cfg.n_layers, sizeof *g->blayers);
        if (!g->blayers) return CM_ERR_NOMEM;
    } else if (arch == &cm_hf_arch_decoder) {
        const cm_decoder *d = (const cm_decoder *)state;
        if (d->dc.gemma3 || d->dc.rope.kind != CM_ROPE_DEFAULT || d->dc.per_layer_window)   /* CPU engine only */
            return cm_error(CM_ERR_UNSUPPORTED, "%s: the CUDA engine does not run %s (use --device cpu)",
                            cm_hf_model_dir(m), d->dc.gemma3 ? "Gemma 3 (model_type gemma3_text)"
                            : d->dc.rope.kind != CM_ROPE_DEFAULT ? "rotary scaling (config.json rope_scaling)"
                                                                  : "per-layer sliding windows (max_window_layers)");
        g->arch = GPU_ARCH_DECODER;
        g->cfg = d->cfg;
        g->dlayers = (gpu_dec_layer *)cm_calloc((size_t)d->cfg.n_layers, sizeof *g->dlayers);
        if (!g->dlayers) return CM_ERR_NOMEM;
    } else {
        return cm_error(CM_ERR_UNSUPPORTED, "%s: the CUDA engine does not run the '%s' architecture",
                        cm_hf_model_dir(m), arch ? arch->name : "?");
    }
    g->hf = m;
    g->dtype = dtype;
    g->hidden = (size_t)g->cfg.hidden;
    g->pool_dim = g->hidden;
    g->out_dim = (size_t)cm_hf_model_config(m)->out_dim;
    const cm_dense *dn = NULL;
    size_t nd = cm_hf_model_dense(m, &dn);
    if (nd > CM_HF_MAX_DENSE) return cm_error(CM_ERR_ARG, "%zu Dense modules (at most %d)", nd, CM_HF_MAX_DENSE);
    for (size_t i = 0, wdt = g->pool_dim; i < nd; wdt = dn[i++].out)
        if (dn[i].in != wdt || !dn[i].W)
            return cm_error(CM_ERR_FORMAT, "%s: Dense module %zu takes %zu values but gets %zu%s", dn[i].dir, i,
                            dn[i].in, wdt, dn[i].W ? "" : " (weights not loaded)");
    return CM_OK;
}

static void release(cm_gpu_model *g) {
    free(g->blayers);
    free(g->dlayers);
    free(g->host);
    free(g);
}

int cm_gpu_weight_bytes(const cm_hf_model *m, cm_gpu_dtype dtype, size_t *bytes) {
    cm_gpu_model *g = (cm_gpu_model *)cm_calloc(1, sizeof *g);
    if (!g) return CM_ERR_NOMEM;
    int rc = describe(g, m, dtype);
    walk w;
    memset(&w, 0, sizeof w);
    w.dt = dtype;
    if (rc == CM_OK) rc = walk_model(&w, g, m);
    if (rc == CM_OK) *bytes = w.off;
    release(g);
    return rc;
}

int cm_gpu_model_load(cm_gpu_model **out, const cm_hf_model *m, int device, cm_gpu_dtype dtype) {
    *out = NULL;
    int n = 0;
    cm_gpu_count(&n);
    if (device < 0 || device >= n)
        return cm_error(CM_ERR_ARG, "CUDA device %d does not exist (%d visible)", device, n);
    cm_gpu_model *g = (cm_gpu_model *)cm_calloc(1, sizeof *g);
    if (!g) return CM_ERR_NOMEM;
    g->device = device;
    int rc = describe(g, m, dtype);
    walk w;
    memset(&w, 0, sizeof w);
    w.dt = dtype;
    w.device = device;
    if (rc == CM_OK) rc = walk_model(&w, g, m);   /* count */
    if (rc != CM_OK) {
        release(g);
        return rc;
    }
    g->weight_bytes = w.off;
    cudaDeviceProp p;
    cudaError_t e = cudaSetDevice(device);
    if (e == cudaSuccess) e = cudaGetDeviceProperties(&p, device);
    size_t fr = 0, tot = 0;
    if (e == cudaSuccess) e = cudaMemGetInfo(&fr, &tot);
    if (e != cudaSuccess) {
        rc = gpu_cuda_fail(e, device, "cudaSetDevice / cudaMemGetInfo", __FILE__, __LINE__);
        release(g);
        return rc;
    }
    snprintf(g->device_name, sizeof g->device_name, "%.127s", p.name);
    size_t need = g->weight_bytes + GPU_BLAS_WS;
    if (need > fr) {
        rc = cm_error(CM_ERR_NOMEM, "%s does not fit on CUDA device %d (%s) in %s: it needs %zu bytes (%.2f GiB: "
                      "weights %zu + cuBLAS workspace %d), %zu bytes (%.2f GiB) are free of %zu",
                      cm_hf_model_dir(m), device, g->device_name, gpu_dtype_name(dtype), need,
                      (double)need / 1073741824.0, g->weight_bytes, (int)GPU_BLAS_WS, fr, (double)fr / 1073741824.0,
                      tot);
        release(g);
        return rc;
    }
    /* from here on cm_gpu_model_free releases whatever exists */
    e = cudaMalloc(&g->weights, g->weight_bytes ? g->weight_bytes : 256);
    if (e != cudaSuccess) {
        g->weights = NULL;
        (void)cudaGetLastError();
        rc = cm_error(CM_ERR_NOMEM, "CUDA device %d (%s): cudaMalloc of %zu bytes of weights failed: %s", device,
                      g->device_name, g->weight_bytes, cudaGetErrorString(e));
    }
    if (rc == CM_OK && (e = cudaMalloc(&g->blas_ws, GPU_BLAS_WS)) != cudaSuccess) {
        g->blas_ws = NULL;
        rc = gpu_cuda_fail(e, device, "cudaMalloc (cuBLAS workspace)", __FILE__, __LINE__);
    }
    if (rc == CM_OK && (e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking)) != cudaSuccess) {
        g->stream = NULL;
        rc = gpu_cuda_fail(e, device, "cudaStreamCreate", __FILE__, __LINE__);
    }
    if (rc == CM_OK) rc = gpu_blas_load();
    cublasStatus_t bs = CUBLAS_STATUS_SUCCESS;
    if (rc == CM_OK && (bs = gpu_blas.cublasCreate(&g->blas)) != CUBLAS_STATUS_SUCCESS) {
        g->blas = NULL;
        rc = gpu_blas_fail(bs, device, "cublasCreate", __FILE__, __LINE__);
    }
    if (rc == CM_OK && (bs = gpu_blas.cublasSetStream(g->blas, g->stream)) != CUBLAS_STATUS_SUCCESS)
        rc = gpu_blas_fail(bs, device, "cublasSetStream", __FILE__, __LINE__);
    if (rc == CM_OK && (bs = gpu_blas.cublasSetWorkspace(g->blas, g->blas_ws, GPU_BLAS_WS)) != CUBLAS_STATUS_SUCCESS)
        rc = gpu_blas_fail(bs, device, "cublasSetWorkspace", __FILE__, __LINE__);
    /* default math: float32 GEMMs stay float32 (no TF32); 16-bit operands use tensor cores */
    if (rc == CM_OK && (bs = gpu_blas.cublasSetMathMode(g->blas, CUBLAS_DEFAULT_MATH)) != CUBLAS_STATUS_SUCCESS)
        rc = gpu_blas_fail(bs, device, "cublasSetMathMode", __FILE__, __LINE__);
    if (rc == CM_OK) {
        w.upload = 1;
        w.base = (char *)g->weights;
        w.off = 0;
        rc = walk_model(&w, g, m);
        if (rc == CM_OK && w.off != g->weight_bytes)
            rc = cm_error(CM_ERR_INTERNAL, "CUDA upload laid out %zu bytes, counted %zu", w.off, g->weight_bytes);
        /* cudaMemcpy from pageable memory may return before its DMA lands, and g->stream (non-blocking) does not
         * wait for the legacy stream: the weights must be on the device before the first kernel reads them */
        if (rc == CM_OK && (e = cudaDeviceSynchronize()) != cudaSuccess)
            rc = gpu_cuda_fail(e, device, "cudaDeviceSynchronize (weights)", __FILE__, __LINE__);
    }
    free(w.tmp);
    if (rc != CM_OK) {
        cm_gpu_model_free(g);
        return rc;
    }
    cm_log(CM_LOG_INFO, "CUDA device %d (%s): %s weights uploaded in %s, %zu bytes", device, g->device_name,
           cm_hf_model_dir(m), gpu_dtype_name(dtype), g->weight_bytes);
    *out = g;
    return CM_OK;
}

void cm_gpu_model_free(cm_gpu_model *g) {
    if (!g) return;
    if (cudaSetDevice(g->device) == cudaSuccess) {
        if (g->stream) (void)cudaStreamSynchronize(g->stream);
        if (g->blas) (void)gpu_blas.cublasDestroy(g->blas);
        if (g->stream) (void)cudaStreamDestroy(g->stream);
        (void)cudaFree(g->arena);
        (void)cudaFree(g->blas_ws);
        (void)cudaFree(g->weights);
    }
    (void)cudaGetLastError();
    release(g);
}
