/* head.c: the trainable heads of pooler_train.h: the parameter table, torch-style initialisation, and the
 * linear and self-attention heads' forward and backward (the latent head is in head_latent.c). */
#include "engine/train/head_int.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/status.h"
#include "cmteb/util.h"

static const char *const KIND_NAMES[] = {NULL, "mean-linear", "last-linear", "self-attention", "latent"};

int cm_head_kind_parse(const char *s, cm_head_kind *out) {
    for (int k = 1; k <= 4; k++)
        if (s && !strcmp(s, KIND_NAMES[k])) {
            *out = (cm_head_kind)k;
            return CM_OK;
        }
    return cm_error(CM_ERR_ARG, "unknown head '%s' (expected latent, mean-linear, last-linear or self-attention)",
                    s ? s : "");
}

const char *cm_head_kind_name(cm_head_kind k) { return k >= 1 && k <= 4 ? KIND_NAMES[k] : "?"; }

cm_head_params cm_head_default_params(void) {
    cm_head_params p = {CM_HEAD_MEAN_LINEAR, 0, 64, 4, 42};
    return p;
}

/* splitmix64: a fixed, platform-independent stream for initialisation. */
static uint64_t next_u64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double next_unit(uint64_t *s) { return (double)(next_u64(s) >> 11) * (1.0 / 9007199254740992.0); }

static int add_tensor(cm_head *h, const char *name, int ndim, int64_t r, int64_t c, int init, int decay) {
    if (h->n_t == CM_HEAD_MAX_TENSORS) return cm_error(CM_ERR_INTERNAL, "head: too many tensors");
    cm_head_slot *t = &h->t[h->n_t++];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = r;
    t->shape[1] = ndim == 2 ? c : 1;
    t->off = h->n;
    t->init = init;
    t->decay = decay;
    h->n += (size_t)(r * t->shape[1]);
    return CM_OK;
}

/* Initialisation of tensor t: init codes 0 zeros, 1 ones, 2 U(+-1/sqrt(fan_in)) with fan_in = cols (or
 * fan_in stored in init_fan for biases), 3 N(0, 1). */
static void init_tensor(cm_head *h, const cm_head_slot *t, uint64_t *rng) {
    size_t n = (size_t)(t->shape[0] * t->shape[1]);
    float *w = h->w + t->off;
    for (size_t i = 0; i < n; i++) {
        if (t->init == 0) w[i] = 0.0f;
        else if (t->init == 1) w[i] = 1.0f;
        else if (t->init == 3) {
            double u1 = next_unit(rng), u2 = next_unit(rng);
            w[i] = (float)(sqrt(-2.0 * log(u1 > 0 ? u1 : 1e-300)) * cos(6.283185307179586 * u2));
        } else {
            double bound = 1.0 / sqrt((double)t->fan_in);
            w[i] = (float)((2.0 * next_unit(rng) - 1.0) * bound);
        }
    }
}

static int build_table(cm_head *h) {
    int64_t d = h->p.d;
    int rc = CM_OK;
#define ADD(name, nd, r, c, init, decay) if (rc == CM_OK) rc = add_tensor(h, name, nd, r, c, init, decay)
    switch (h->p.kind) {
    case CM_HEAD_MEAN_LINEAR:
    case CM_HEAD_LAST_LINEAR:
        ADD("linear.weight", 2, d, d, 2, 1);
        ADD("linear.bias", 1, d, 1, 2, 0);
        break;
    case CM_HEAD_SELF_ATTN:
        ADD("query", 1, d, 1, 3, 1);
        ADD("to_k.weight", 2, d, d, 2, 1);
        ADD("to_v.weight", 2, d, d, 2, 1);
        ADD("to_out.weight", 2, d, d, 2, 1);
        ADD("to_out.bias", 1, d, 1, 2, 0);
        break;
    case CM_HEAD_LATENT: {
        int64_t inner = d, ff = 4 * d, r = h->p.n_latents;
        ADD("latents", 2, r, d, 3, 1);
        ADD("ln_ctx.weight", 1, d, 1, 1, 0);
        ADD("ln_ctx.bias", 1, d, 1, 0, 0);
        ADD("to_kv.weight", 2, 2 * inner, d, 2, 1);
        ADD("ln0.weight", 1, d, 1, 1, 0);
        ADD("ln0.bias", 1, d, 1, 0, 0);
        ADD("to_q.weight", 2, inner, d, 2, 1);
        ADD("to_out.weight", 2, d, inner, 2, 1);
        ADD("ln1.weight", 1, d, 1, 1, 0);
        ADD("ln1.bias", 1, d, 1, 0, 0);
        ADD("net0.weight", 2, 2 * ff, d, 2, 1);
        ADD("net0.bias", 1, 2 * ff, 1, 2, 0);
        ADD("net2.weight", 2, d, ff, 2, 1);
        ADD("net2.bias", 1, d, 1, 2, 0);
        break;
    }
    default:
        rc = cm_error(CM_ERR_ARG, "head: unknown kind %d", (int)h->p.kind);
    }
#undef ADD
    /* fan-in of each tensor: a matrix its columns, a bias the columns of the matrix before it */
    for (size_t i = 0; rc == CM_OK && i < h->n_t; i++)
        h->t[i].fan_in = h->t[i].ndim == 2 ? h->t[i].shape[1] : (i ? h->t[i - 1].shape[1] : 1);
    return rc;
}

int cm_head_init(cm_head **out, const cm_head_params *p) {
    *out = NULL;
    if (p->d < 1 || p->d > (1 << 16))
        return cm_error(CM_ERR_ARG, "head: width %lld out of range (1..65536)", (long long)p->d);
    if (p->kind == CM_HEAD_LATENT && (p->heads < 1 || p->d % p->heads || p->n_latents < 1 || p->n_latents > 65536))
        return cm_error(CM_ERR_ARG, "latent head: %lld heads must divide the width %lld, and latents (%lld) must be "
                        "in 1..65536", (long long)p->heads, (long long)p->d, (long long)p->n_latents);
    cm_head *h = cm_calloc(1, sizeof *h);
    if (!h) return CM_ERR_NOMEM;
    h->p = *p;
    int rc = build_table(h);
    if (rc == CM_OK) {
        h->w = cm_malloc(h->n * sizeof(float));
        h->g = cm_calloc(h->n, sizeof(float));
        if (!h->w || !h->g) rc = CM_ERR_NOMEM;
    }
    if (rc != CM_OK) {
        cm_head_free(h);
        return rc;
    }
    uint64_t rng = p->seed ^ 0x68656164ull;
    for (size_t i = 0; i < h->n_t; i++) init_tensor(h, &h->t[i], &rng);
    *out = h;
    return CM_OK;
}

void cm_head_free(cm_head *h) {
    if (!h) return;
    free(h->w);
    free(h->g);
    free(h);
}

const cm_head_params *cm_head_get_params(const cm_head *h) { return &h->p; }
size_t cm_head_n_tensors(const cm_head *h) { return h->n_t; }
size_t cm_head_n_params(const cm_head *h) { return h->n; }
float *cm_head_weights(cm_head *h) { return h->w; }
float *cm_head_grads(cm_head *h) { return h->g; }
void cm_head_zero_grad(cm_head *h) { memset(h->g, 0, h->n * sizeof(float)); }

cm_head_tensor cm_head_tensor_at(const cm_head *h, size_t i) {
    const cm_head_slot *t = &h->t[i];
    cm_head_tensor v = {t->name, t->ndim, {t->shape[0], t->ndim == 2 ? t->shape[1] : 0}, h->w + t->off,
                        h->g + t->off, t->decay};
    return v;
}

int cm_head_find(const cm_head *h, const char *name, cm_head_tensor *out) {
    for (size_t i = 0; i < h->n_t; i++)
        if (!strcmp(h->t[i].name, name)) {
            *out = cm_head_tensor_at(h, i);
            return 1;
        }
    return 0;
}

const float *cm_head_w(const cm_head *h, size_t i) { return h->w + h->t[i].off; }
float *cm_head_g(cm_head *h, size_t i) { return h->g + h->t[i].off; }

/* ---- linear heads ------------------------------------------------------------ */

/* The pooled input of a linear head: mean of rows [s0, L) or row L-1, into x (d); acc: (d) scratch. */
static void linear_input(const cm_head *h, const float *X, size_t L, size_t s0, float *x, double *acc) {
    size_t d = (size_t)h->p.d;
    if (h->p.kind == CM_HEAD_LAST_LINEAR) {
        memcpy(x, X + (L - 1) * d, d * sizeof(float));
        return;
    }
    memset(acc, 0, d * sizeof(double));
    for (size_t i = s0; i < L; i++)
        for (size_t j = 0; j < d; j++) acc[j] += X[i * d + j];
    for (size_t j = 0; j < d; j++) x[j] = (float)(acc[j] / (double)(L - s0));
}

/* ---- self-attention head ----------------------------------------------------- */

/* Forward of the self-attention head; keeps K, V (n, d), p (n) and c (d) in the caller's buffers. */
static void sa_forward(const cm_head *h, const float *Xp, size_t n, float *K, float *V, float *p, float *c,
                       float *e) {
    size_t d = (size_t)h->p.d;
    const float *q = cm_head_w(h, 0), *Wk = cm_head_w(h, 1), *Wv = cm_head_w(h, 2), *Wo = cm_head_w(h, 3);
    const float *bo = cm_head_w(h, 4);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0f, Xp, (int)d, Wk, (int)d, 0.0f,
                K, (int)d);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)d, (int)d, 1.0f, Xp, (int)d, Wv, (int)d, 0.0f,
                V, (int)d);
    float scale = (float)(1.0 / sqrt((double)d)), mx = -INFINITY;
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, scale, K, (int)d, q, 1, 0.0f, p, 1);
    for (size_t i = 0; i < n; i++) mx = p[i] > mx ? p[i] : mx;
    double z = 0;
    for (size_t i = 0; i < n; i++) z += (p[i] = expf(p[i] - mx));
    for (size_t i = 0; i < n; i++) p[i] = (float)(p[i] / z);
    cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0f, V, (int)d, p, 1, 0.0f, c, 1);
    memcpy(e, bo, d * sizeof(float));
    cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)d, 1.0f, Wo, (int)d, c, 1, 1.0f, e, 1);
}

static int sa_run(cm_head *hm, const cm_head *h, const float *Xp, size_t n, float *e, const float *dE) {
    size_t d = (size_t)h->p.d;
    float *K = cm_malloc(n * d * sizeof(float)), *V = cm_malloc(n * d * sizeof(float));
    float *p = cm_malloc(n * sizeof(float)), *dp = cm_malloc(n * sizeof(float));
    float *c = cm_malloc(d * sizeof(float)), *dc = cm_malloc(d * sizeof(float)), *tmp = cm_malloc(d * sizeof(float));
    float *dK = cm_malloc(n * d * sizeof(float)), *dV = cm_malloc(n * d * sizeof(float));
    float *eb = cm_malloc(d * sizeof(float));
    int rc = (K && V && p && dp && c && dc && tmp && dK && dV && eb) ? CM_OK : CM_ERR_NOMEM;
    if (rc == CM_OK) sa_forward(h, Xp, n, K, V, p, c, e ? e : eb);
    if (rc == CM_OK && dE) {
        const float *q = cm_head_w(h, 0), *Wo = cm_head_w(h, 3);
        float *gq = cm_head_g(hm, 0), *gWk = cm_head_g(hm, 1), *gWv = cm_head_g(hm, 2), *gWo = cm_head_g(hm, 3);
        float *gbo = cm_head_g(hm, 4);
        float scale = (float)(1.0 / sqrt((double)d));
        cblas_sger(CblasRowMajor, (int)d, (int)d, 1.0f, dE, 1, c, 1, gWo, (int)d);     /* dWo += dE c^T */
        for (size_t j = 0; j < d; j++) gbo[j] += dE[j];
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)d, (int)d, 1.0f, Wo, (int)d, dE, 1, 0.0f, dc, 1);
        /* dV = p dc^T; dp = V dc; ds = p (dp - p.dp) */
        memset(dV, 0, n * d * sizeof(float));
        cblas_sger(CblasRowMajor, (int)n, (int)d, 1.0f, p, 1, dc, 1, dV, (int)d);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0f, V, (int)d, dc, 1, 0.0f, dp, 1);
        double pdp = 0;
        for (size_t i = 0; i < n; i++) pdp += (double)p[i] * dp[i];
        for (size_t i = 0; i < n; i++) dp[i] = (float)(p[i] * (dp[i] - pdp));
        /* dq = scale K^T ds; dK = scale ds q^T */
        cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, scale, K, (int)d, dp, 1, 1.0f, gq, 1);
        memset(dK, 0, n * d * sizeof(float));
        cblas_sger(CblasRowMajor, (int)n, (int)d, scale, dp, 1, q, 1, dK, (int)d);
        /* dWk += dK^T Xp; dWv += dV^T Xp */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)n, 1.0f, dK, (int)d, Xp, (int)d,
                    1.0f, gWk, (int)d);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)d, (int)d, (int)n, 1.0f, dV, (int)d, Xp, (int)d,
                    1.0f, gWv, (int)d);
    }
    free(K); free(V); free(p); free(dp); free(c); free(dc); free(tmp); free(dK); free(dV); free(eb);
    return rc;
}

/* ---- dispatch --------------------------------------------------------------- */

static int run(cm_head *hm, const cm_head *h, const float *X, size_t L, size_t s0, float *e, const float *dE) {
    if (L == 0) return cm_error(CM_ERR_ARG, "head: a sequence with no tokens");
    if (s0 >= L) s0 = 0;
    size_t d = (size_t)h->p.d, n = L - s0;
    const float *Xp = X + s0 * d;
    if (h->p.kind == CM_HEAD_SELF_ATTN) return sa_run(hm, h, Xp, n, e, dE);
    if (h->p.kind == CM_HEAD_LATENT) return cm_head_latent_run(hm, h, Xp, n, e, dE);
    float *x = cm_malloc(d * sizeof(float));
    double *acc = cm_malloc(d * sizeof(double));
    if (!x || !acc) {
        free(x); free(acc);
        return CM_ERR_NOMEM;
    }
    linear_input(h, X, L, s0, x, acc);
    const float *W = cm_head_w(h, 0), *b = cm_head_w(h, 1);
    if (e) {
        memcpy(e, b, d * sizeof(float));
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)d, (int)d, 1.0f, W, (int)d, x, 1, 1.0f, e, 1);
    }
    if (dE) {
        cblas_sger(CblasRowMajor, (int)d, (int)d, 1.0f, dE, 1, x, 1, cm_head_g(hm, 0), (int)d);
        float *gb = cm_head_g(hm, 1);
        for (size_t j = 0; j < d; j++) gb[j] += dE[j];
    }
    free(x);
    free(acc);
    return CM_OK;
}

int cm_head_forward(const cm_head *h, const float *X, size_t L, size_t s0, float *e) {
    return run(NULL, h, X, L, s0, e, NULL);
}

int cm_head_backward(cm_head *h, const float *X, size_t L, size_t s0, const float *dE) {
    return run(h, h, X, L, s0, NULL, dE);
}
