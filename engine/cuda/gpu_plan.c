/*
 * gpu_plan.c: implements gpu_plan.h: device specs and dtype names, the batch
 * planner, splitting a batch on device out-of-memory, and the dealer (a
 * bounded job queue drained by one worker thread per replica).
 */
#include "engine/cuda/gpu_plan.h"
#include "engine/arch/model.h"

#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- devices ------------------------------------------------------------ */

#define DEVICE_FORMS "cpu, cuda, cuda:N, cuda:N,M,... or auto"

int cm_device_parse(const char *s, cm_device_spec *out) {
    memset(out, 0, sizeof *out);
    out->kind = CM_DEVICE_AUTO;
    if (!s || !*s || !strcmp(s, "auto")) return CM_OK;
    if (!strcmp(s, "cpu")) {
        out->kind = CM_DEVICE_CPU;
        return CM_OK;
    }
    if (strncmp(s, "cuda", 4) != 0 || (s[4] != '\0' && s[4] != ':'))
        return cm_error(CM_ERR_ARG, "unknown device '%s' (expected %s)", s, DEVICE_FORMS);
    out->kind = CM_DEVICE_CUDA;
    if (s[4] == '\0') return CM_OK;
    const char *p = s + 5;
    for (;;) {
        if (!isdigit((unsigned char)*p))
            return cm_error(CM_ERR_ARG, "device '%s': expected a GPU ordinal (0, 1, ...) at '%s' (forms: %s)", s, p,
                            DEVICE_FORMS);
        long v = 0;
        while (isdigit((unsigned char)*p) && v < 1000000) v = v * 10 + (*p++ - '0');
        if (v >= 1000000) return cm_error(CM_ERR_ARG, "device '%s': GPU ordinal too large", s);
        for (int k = 0; k < out->n_ids; k++)
            if (out->ids[k] == (int)v) return cm_error(CM_ERR_ARG, "device '%s': cuda:%ld listed twice", s, v);
        if (out->n_ids == CM_GPU_MAX_DEVICES)
            return cm_error(CM_ERR_ARG, "device '%s': more than %d GPUs listed", s, CM_GPU_MAX_DEVICES);
        out->ids[out->n_ids++] = (int)v;
        if (*p == '\0') return CM_OK;
        if (*p != ',')
            return cm_error(CM_ERR_ARG, "device '%s': unexpected '%c' (expected a comma-separated list of GPU "
                            "ordinals, e.g. cuda:0,1)", s, *p);
        p++;
    }
}

int cm_device_resolve(const cm_device_spec *in, int built, int n_visible, int cuda_ok, cm_device_spec *out) {
    cm_device_spec r = *in;
    if (r.kind == CM_DEVICE_AUTO) {
        if (!(cuda_ok && built && n_visible > 0)) {
            memset(&r, 0, sizeof r);
            r.kind = CM_DEVICE_CPU;
            *out = r;
            return CM_OK;
        }
        r.kind = CM_DEVICE_CUDA;
        r.n_ids = 0;
    }
    if (r.kind == CM_DEVICE_CPU) {
        memset(&r, 0, sizeof r);
        r.kind = CM_DEVICE_CPU;
        *out = r;
        return CM_OK;
    }
    if (!cuda_ok) return cm_error(CM_ERR_UNSUPPORTED, "--device cuda: this backend has no CUDA engine (hf: has)");
    if (!built)
        return cm_error(CM_ERR_UNSUPPORTED, "--device cuda: this cmteb was built without CUDA (configure with "
                        "-DCMTEB_CUDA=ON where the CUDA toolkit is installed); use --device cpu");
    if (n_visible <= 0)
        return cm_error(CM_ERR_UNSUPPORTED, "--device cuda: no GPU visible (no NVIDIA driver, no device, or "
                        "CUDA_VISIBLE_DEVICES hides them); use --device cpu");
    if (r.n_ids == 0) {
        r.n_ids = n_visible < CM_GPU_MAX_DEVICES ? n_visible : CM_GPU_MAX_DEVICES;
        for (int k = 0; k < r.n_ids; k++) r.ids[k] = k;
    }
    for (int k = 0; k < r.n_ids; k++)
        if (r.ids[k] >= n_visible)
            return cm_error(CM_ERR_ARG, "--device cuda:%d: only %d GPU%s visible (cuda:0%s%.0d)", r.ids[k], n_visible,
                            n_visible == 1 ? "" : "s", n_visible > 1 ? " to cuda:" : "",
                            n_visible > 1 ? n_visible - 1 : 0);
    *out = r;
    return CM_OK;
}

void cm_device_format(const cm_device_spec *d, char *buf, size_t cap) {
    if (!cap) return;
    if (d->kind == CM_DEVICE_CPU) { snprintf(buf, cap, "cpu"); return; }
    if (d->kind == CM_DEVICE_AUTO) { snprintf(buf, cap, "auto"); return; }
    size_t used = (size_t)snprintf(buf, cap, "cuda");
    for (int k = 0; k < d->n_ids && used < cap; k++)
        used += (size_t)snprintf(buf + used, cap - used, "%c%d", k ? ',' : ':', d->ids[k]);
}

/* ---- dtypes ------------------------------------------------------------- */

int cm_gpu_dtype_parse(const char *s, cm_gpu_dtype *out) {
    if (s && (!strcmp(s, "bf16") || !strcmp(s, "bfloat16"))) { *out = CM_GPU_BF16; return CM_OK; }
    if (s && (!strcmp(s, "fp16") || !strcmp(s, "float16") || !strcmp(s, "f16"))) { *out = CM_GPU_FP16; return CM_OK; }
    if (s && (!strcmp(s, "fp32") || !strcmp(s, "float32") || !strcmp(s, "f32"))) { *out = CM_GPU_FP32; return CM_OK; }
    return cm_error(CM_ERR_ARG, "unknown dtype '%s' (expected bf16, fp16 or fp32)", s ? s : "(null)");
}

const char *cm_gpu_dtype_name(cm_gpu_dtype d) {
    switch (d) {
    case CM_GPU_BF16: return "bf16";
    case CM_GPU_FP16: return "fp16";
    case CM_GPU_FP32: return "fp32";
    }
    return "?";
}

size_t cm_gpu_dtype_size(cm_gpu_dtype d) { return d == CM_GPU_FP32 ? 4 : 2; }

/* ---- planning ----------------------------------------------------------- */

cm_plan_params cm_plan_default_params(void) {
    cm_plan_params p;
    memset(&p, 0, sizeof p);
    p.max_tokens = 32768;
    return p;
}

void cm_batch_plan_free(cm_batch_plan *plan) {
    if (!plan) return;
    free(plan->batches);
    plan->batches = NULL;
    plan->n = 0;
}

/* 1 when a batch of ntok tokens in ns sequences, the longest maxlen, is within p's limits. */
static int within(const cm_plan_params *p, size_t ntok, size_t ns, size_t maxlen) {
    if (ntok > p->max_tokens) return 0;
    if (p->max_seqs && ns > p->max_seqs) return 0;
    if (p->bytes_fn && p->mem_budget && p->bytes_fn(p->bytes_ctx, ntok, ns, maxlen) > p->mem_budget) return 0;
    return 1;
}

int cm_batch_plan_make(const size_t *lens, size_t n, const cm_plan_params *p, cm_batch_plan *out) {
    out->batches = NULL;
    out->n = 0;
    if (!p->max_tokens) return cm_error(CM_ERR_ARG, "batch plan: a token budget of 0");
    for (size_t i = 0; i < n; i++) {
        if (!lens[i]) return cm_error(CM_ERR_ARG, "batch plan: sequence %zu has no tokens", i);
        if (i && lens[i] < lens[i - 1])
            return cm_error(CM_ERR_ARG, "batch plan: lengths not sorted (sequence %zu: %zu after %zu)", i, lens[i],
                            lens[i - 1]);
    }
    size_t cap = 0;
    for (size_t i0 = 0; i0 < n;) {
        size_t ntok = lens[i0], i1 = i0 + 1;
        while (i1 < n && within(p, ntok + lens[i1], i1 + 1 - i0, lens[i1])) ntok += lens[i1++];
        if (out->n == cap) {
            size_t nc = cap ? 2 * cap : 16;
            cm_plan_batch *nb = cm_realloc(out->batches, nc * sizeof *nb);
            if (!nb) {
                cm_batch_plan_free(out);
                return cm_error(CM_ERR_NOMEM, "out of memory planning %zu sequences", n);
            }
            out->batches = nb;
            cap = nc;
        }
        out->batches[out->n++] = (cm_plan_batch){i0, i1, ntok, lens[i1 - 1]};
        i0 = i1;
    }
    return CM_OK;
}

int cm_plan_exec_split(cm_plan_exec_fn exec, void *ctx, int replica, const size_t *lens, size_t begin, size_t end,
                       const cm_plan_params *p, size_t *n_splits) {
    if (begin >= end) return CM_OK;
    int rc = exec(ctx, replica, begin, end);
    if (rc != CM_ERR_NOMEM) return rc;
    if (end - begin == 1) {
        char why[512];
        snprintf(why, sizeof why, "%s", cm_last_error());
        size_t len = lens[begin];
        if (p && p->bytes_fn)
            return cm_error(CM_ERR_NOMEM, "a sequence of %zu tokens needs %zu bytes of device memory beyond the "
                            "weights and does not fit even alone (%s); use --max-length or a GPU with more memory",
                            len, p->bytes_fn(p->bytes_ctx, len, 1, len), why);
        return cm_error(CM_ERR_NOMEM, "a sequence of %zu tokens does not fit in device memory even alone (%s); use "
                        "--max-length or a GPU with more memory", len, why);
    }
    size_t mid = begin + (end - begin) / 2;
    if (n_splits) (*n_splits)++;
    cm_log(CM_LOG_DEBUG, "device out of memory on a batch of %zu sequences: splitting it in two", end - begin);
    cm_error_clear();
    CM_TRY(cm_plan_exec_split(exec, ctx, replica, lens, begin, mid, p, n_splits));
    return cm_plan_exec_split(exec, ctx, replica, lens, mid, end, p, n_splits);
}

/* ---- the dealer --------------------------------------------------------- */

typedef struct worker {
    cm_plan_dealer *d;
    int             replica;
} worker;

struct cm_plan_dealer {
    pthread_mutex_t mu;
    pthread_cond_t  not_empty, not_full;
    cm_plan_job    *q;          /* ring of cap jobs */
    size_t          cap, head, count;
    int             closed;
    int             rc;         /* first worker error */
    char            msg[1024];  /* its message */
    cm_plan_job_fn  fn;
    void           *ctx;
    int             n_replicas;
    int             n;          /* threads started */
    pthread_t      *threads;
    worker         *workers;
    size_t         *done;       /* (n) jobs run per replica */
};

static void *worker_main(void *arg) {
    worker *w = arg;
    cm_plan_dealer *d = w->d;
    for (;;) {
        pthread_mutex_lock(&d->mu);
        while (d->count == 0 && !d->closed) pthread_cond_wait(&d->not_empty, &d->mu);
        if (d->count == 0) {
            pthread_mutex_unlock(&d->mu);
            return NULL;
        }
        cm_plan_job job = d->q[d->head];
        d->head = (d->head + 1) % d->cap;
        d->count--;
        int failed = d->rc != CM_OK;
        pthread_cond_signal(&d->not_full);
        pthread_mutex_unlock(&d->mu);
        if (failed) continue;   /* after the first error the rest is dropped */
        int rc = d->fn(d->ctx, w->replica, &job);
        pthread_mutex_lock(&d->mu);
        if (rc == CM_OK) {
            d->done[w->replica]++;
        } else if (d->rc == CM_OK) {
            d->rc = rc;
            snprintf(d->msg, sizeof d->msg, "%s", cm_last_error()[0] ? cm_last_error() : cm_status_str(rc));
            pthread_cond_broadcast(&d->not_full);   /* a blocked producer sees the error */
        }
        pthread_mutex_unlock(&d->mu);
    }
}

/* Joins the started workers and frees d. */
static void dealer_free(cm_plan_dealer *d) {
    pthread_mutex_lock(&d->mu);
    d->closed = 1;
    pthread_cond_broadcast(&d->not_empty);
    pthread_mutex_unlock(&d->mu);
    for (int k = 0; k < d->n; k++) pthread_join(d->threads[k], NULL);
    pthread_cond_destroy(&d->not_empty);
    pthread_cond_destroy(&d->not_full);
    pthread_mutex_destroy(&d->mu);
    free(d->q);
    free(d->threads);
    free(d->workers);
    free(d->done);
    free(d);
}

int cm_plan_dealer_start(cm_plan_dealer **out, int n_replicas, size_t capacity, cm_plan_job_fn fn, void *ctx) {
    *out = NULL;
    if (n_replicas < 1 || capacity < 1)
        return cm_error(CM_ERR_ARG, "dealer: %d replicas, queue of %zu (need at least 1 of each)", n_replicas,
                        capacity);
    cm_plan_dealer *d = cm_calloc(1, sizeof *d);
    if (!d) return cm_error(CM_ERR_NOMEM, "out of memory starting the batch dealer");
    d->q = cm_calloc(capacity, sizeof *d->q);
    d->threads = cm_calloc((size_t)n_replicas, sizeof *d->threads);
    d->workers = cm_calloc((size_t)n_replicas, sizeof *d->workers);
    d->done = cm_calloc((size_t)n_replicas, sizeof *d->done);
    if (!d->q || !d->threads || !d->workers || !d->done) {
        free(d->q);
        free(d->threads);
        free(d->workers);
        free(d->done);
        free(d);
        return cm_error(CM_ERR_NOMEM, "out of memory starting the batch dealer");
    }
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->not_empty, NULL);
    pthread_cond_init(&d->not_full, NULL);
    d->cap = capacity;
    d->n_replicas = n_replicas;
    d->fn = fn;
    d->ctx = ctx;
    for (int k = 0; k < n_replicas; k++) {
        d->workers[k] = (worker){d, k};
        int e = pthread_create(&d->threads[k], NULL, worker_main, &d->workers[k]);
        if (e) {
            dealer_free(d);
            return cm_error(CM_ERR_INTERNAL, "could not start worker thread %d of %d (%s)", k + 1, n_replicas,
                            strerror(e));
        }
        d->n = k + 1;
    }
    *out = d;
    return CM_OK;
}

int cm_plan_dealer_push(cm_plan_dealer *d, const cm_plan_job *job) {
    pthread_mutex_lock(&d->mu);
    while (d->count == d->cap && d->rc == CM_OK) pthread_cond_wait(&d->not_full, &d->mu);
    int rc = d->rc;
    if (rc == CM_OK) {
        d->q[(d->head + d->count) % d->cap] = *job;
        d->count++;
        pthread_cond_signal(&d->not_empty);
        pthread_mutex_unlock(&d->mu);
        return CM_OK;
    }
    char msg[sizeof d->msg];
    memcpy(msg, d->msg, sizeof msg);
    pthread_mutex_unlock(&d->mu);
    return cm_error(rc, "%s", msg);
}

int cm_plan_dealer_finish(cm_plan_dealer *d, size_t *jobs_done) {
    if (!d) return CM_OK;
    pthread_mutex_lock(&d->mu);
    d->closed = 1;
    pthread_cond_broadcast(&d->not_empty);
    pthread_mutex_unlock(&d->mu);
    for (int k = 0; k < d->n; k++) pthread_join(d->threads[k], NULL);
    if (jobs_done) memcpy(jobs_done, d->done, (size_t)d->n_replicas * sizeof *d->done);
    d->n = 0;
    int rc = d->rc;
    char msg[sizeof d->msg];
    memcpy(msg, d->msg, sizeof msg);
    dealer_free(d);
    return rc == CM_OK ? CM_OK : cm_error(rc, "%s", msg);
}

/* cm_plan_deal's job function: one planned batch, split on out-of-memory. */
typedef struct deal_ctx {
    cm_plan_exec_fn       exec;
    void                 *ctx;
    const size_t         *lens;
    const cm_plan_params *p;
} deal_ctx;

static int deal_job(void *ctx, int replica, const cm_plan_job *job) {
    deal_ctx *c = ctx;
    return cm_plan_exec_split(c->exec, c->ctx, replica, c->lens, job->begin, job->end, c->p, NULL);
}

int cm_plan_deal(const cm_batch_plan *plan, const size_t *lens, const cm_plan_params *p, int n_replicas,
                 cm_plan_exec_fn exec, void *ctx, size_t *jobs_done) {
    deal_ctx c = {exec, ctx, lens, p};
    cm_plan_dealer *d = NULL;
    CM_TRY(cm_plan_dealer_start(&d, n_replicas, 2 * (size_t)n_replicas, deal_job, &c));
    for (size_t b = 0; b < plan->n; b++) {
        cm_plan_job job = {NULL, plan->batches[b].begin, plan->batches[b].end};
        if (cm_plan_dealer_push(d, &job) != CM_OK) break;   /* the error comes back from finish */
    }
    return cm_plan_dealer_finish(d, jobs_done);
}

/* ---- latent-attention pooling ------------------------------------------ */

size_t cm_gpu_latent_rows(const cm_hf_batch *b, int exclude_instr, int32_t *rows, int32_t *owner, int32_t *cnt) {
    size_t np = 0;
    for (size_t s = 0; s < b->n_seqs; s++) {
        const size_t start = cm_hf_batch_first_pooled(b, s, exclude_instr);
        for (size_t p = start; p < b->length[s]; p++) {
            rows[np] = (int32_t)(b->offset[s] + p);
            owner[np++] = (int32_t)s;
        }
        cnt[s] = (int32_t)(b->length[s] - start);
    }
    return np;
}
