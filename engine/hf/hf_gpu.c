/*
 * hf_gpu.c: implements hf_gpu.h: the replicas of an hf model on the GPUs and
 * the tokenize -> plan -> deal -> pool pipeline over them.
 */
#include "engine/hf/hf_gpu.h"

#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Texts per tokenization window: a small first one so that the GPUs start
 * early, then larger ones (tokenized while the GPUs run the previous one). */
enum { FIRST_WINDOW = 1024, WINDOW = 4096 };

struct cm_hf_gpu {
    int            n;                         /* replicas */
    int            dev[CM_GPU_MAX_DEVICES];   /* their CUDA ordinals */
    cm_gpu_model  *rep[CM_GPU_MAX_DEVICES];
    cm_gpu_dtype   dtype;
    cm_plan_params plan;                      /* token budget, sequence cap, memory model */
    int            threads;                   /* CPU threads tokenizing */
};

/* cm_gpu_batch_bytes as a cm_plan_bytes_fn (ctx: the replica). */
static size_t replica_bytes(const void *ctx, size_t n_tokens, size_t n_seqs, size_t max_len) {
    return cm_gpu_batch_bytes(ctx, n_tokens, n_seqs, max_len);
}

void cm_hf_gpu_free(cm_hf_gpu *g) {
    if (!g) return;
    for (int k = 0; k < g->n; k++) cm_gpu_model_free(g->rep[k]);
    free(g);
}

int cm_hf_gpu_open(cm_hf_gpu **out, const cm_hf_model *m, const cm_device_spec *dev, cm_gpu_dtype dtype,
                   size_t batch_seqs) {
    *out = NULL;
    if (dev->kind != CM_DEVICE_CUDA || dev->n_ids < 1)
        return cm_error(CM_ERR_INTERNAL, "hf: GPU replicas asked for a device spec that is not resolved to CUDA");
    cm_hf_gpu *g = cm_calloc(1, sizeof *g);
    if (!g) return CM_ERR_NOMEM;
    g->dtype = dtype;
    const cm_hf_settings *set = cm_hf_model_settings(m);
    g->threads = set->threads;
    for (int k = 0; k < dev->n_ids; k++) {
        int rc = cm_gpu_model_load(&g->rep[k], m, dev->ids[k], dtype);
        if (rc) {
            cm_hf_gpu_free(g);
            return cm_error_wrap(rc, "%s on cuda:%d (%s)", cm_hf_model_dir(m), dev->ids[k], cm_gpu_dtype_name(dtype));
        }
        g->dev[k] = dev->ids[k];
        g->n = k + 1;
    }
    /* The memory a batch may use: the least free memory over the replicas' devices after the weights, less
     * 10% and 512 MiB for the CUDA context, cuBLAS workspaces and fragmentation. Unknown: no memory model
     * (batches the device cannot hold are still split when they fail). */
    size_t free_min = (size_t)-1;
    for (int k = 0; k < g->n; k++) {
        cm_gpu_device info;
        if (cm_gpu_device_info(g->dev[k], &info) != CM_OK) {
            cm_error_clear();
            free_min = 0;
            break;
        }
        if (info.mem_free < free_min) free_min = info.mem_free;
    }
    size_t reserve = (size_t)512 << 20;
    g->plan = cm_plan_default_params();
    if (g->plan.max_tokens < set->max_length) g->plan.max_tokens = set->max_length;
    g->plan.max_seqs = batch_seqs;
    if (free_min && free_min != (size_t)-1) {
        g->plan.mem_budget = free_min > 2 * reserve ? free_min - free_min / 10 - reserve : free_min / 2;
        g->plan.bytes_fn = replica_bytes;
        g->plan.bytes_ctx = g->rep[0];
    }
    cm_log(CM_LOG_DEBUG, "hf: %d GPU replica(s) in %s; batches up to %zu tokens, %zu bytes of device memory each",
           g->n, cm_gpu_dtype_name(dtype), g->plan.max_tokens, g->plan.mem_budget);
    *out = g;
    return CM_OK;
}

/* ---- one call ------------------------------------------------------------ */

typedef struct window {
    cm_hf_item    *items;   /* (n) sorted by length */
    size_t        *lens;    /* (n) their lengths */
    size_t         n;
    struct window *next;
} window;

/* One replica's host buffers, reused over its batches. */
typedef struct slot {
    cm_hf_batch batch;
    float      *buf;    /* (npools, rows, od) */
    size_t      rows;   /* rows buf holds per pooling */
    float     **ptrs;   /* (npools) into buf */
} slot;

typedef struct call {
    cm_hf_gpu          *g;
    cm_attn_kind        attention;
    const cm_pool_spec *pools;
    size_t              npools, od;
    float *const       *outs;   /* (npools) of (n, od), input order */
    slot                slots[CM_GPU_MAX_DEVICES];
} call;

typedef struct exec_ctx {
    call   *c;
    window *w;
} exec_ctx;

/* cm_plan_exec_fn: sequences [begin, end) of a window on replica r, pooled rows scattered to their input rows.
 * The slot was sized for the whole job (job_run), so nothing is allocated here and CM_ERR_NOMEM can only be
 * the device's. */
static int exec_batch(void *ctx, int r, size_t begin, size_t end) {
    exec_ctx *x = ctx;
    call *c = x->c;
    slot *s = &c->slots[r];
    cm_hf_batch_clear(&s->batch);
    for (size_t i = begin; i < end; i++) {
        const cm_hf_item *it = &x->w->items[i];
        int rc = cm_hf_batch_add(&s->batch, it->ids, it->n, it->n_instr);
        if (rc) return rc == CM_ERR_NOMEM ? cm_error(CM_ERR_INTERNAL, "hf: batch buffer not reserved") : rc;
    }
    CM_TRY(cm_gpu_model_encode(c->g->rep[r], &s->batch, c->attention, c->pools, c->npools, s->ptrs));
    for (size_t k = 0; k < c->npools; k++)
        for (size_t i = begin; i < end; i++)
            memcpy(c->outs[k] + x->w->items[i].index * c->od, s->ptrs[k] + (i - begin) * c->od, c->od * sizeof(float));
    return CM_OK;
}

/* cm_plan_job_fn: reserves replica r's host buffers for the job, then runs it, split on device OOM. */
static int job_run(void *ctx, int r, const cm_plan_job *job) {
    call *c = ctx;
    window *w = job->owner;
    slot *s = &c->slots[r];
    size_t rows = job->end - job->begin;
    if (rows > s->rows) {
        free(s->buf);
        s->buf = cm_malloc(c->npools * rows * c->od * sizeof *s->buf);
        s->rows = s->buf ? rows : 0;
        if (!s->buf) return cm_error(CM_ERR_NOMEM, "out of memory for %zu pooled rows", rows);
        for (size_t k = 0; k < c->npools; k++) s->ptrs[k] = s->buf + k * rows * c->od;
    }
    cm_hf_batch_clear(&s->batch);   /* grow the batch to the whole job once: its halves then fit */
    for (size_t i = job->begin; i < job->end; i++)
        CM_TRY(cm_hf_batch_add(&s->batch, w->items[i].ids, w->items[i].n, w->items[i].n_instr));
    exec_ctx x = {c, w};
    return cm_plan_exec_split(exec_batch, &x, r, w->lens, job->begin, job->end, &c->g->plan, NULL);
}

/* Tokenizes texts[0..n) (input positions base + j) into items on threads CPU threads. */
static int tokenize_window(const cm_hf_model *m, int threads, const char *const *texts, size_t n, size_t base,
                           cm_role role, const char *instruction, cm_hf_item *items) {
    int rc = CM_OK;
    char msg[1024] = "";
#pragma omp parallel num_threads(threads)
    {
        cm_hf_tok_scratch ts = {0};
#pragma omp for schedule(dynamic, 32)
        for (long j = 0; j < (long)n; j++) {
            int stop;
#pragma omp atomic read
            stop = rc;
            if (stop) continue;
            int r = cm_hf_tokenize(m, &ts, texts[j], role, instruction, base + (size_t)j, &items[j]);
            if (r) {
#pragma omp critical(cm_hf_gpu_tokenize)
                {
                    if (!rc) snprintf(msg, sizeof msg, "%s", cm_last_error());
#pragma omp atomic write
                    rc = r;
                }
            }
        }
        cm_hf_tok_scratch_free(&ts);
    }
    return rc ? cm_error(rc, "%s", msg) : CM_OK;
}

int cm_hf_gpu_encode(cm_hf_gpu *g, const cm_hf_model *m, const char *const *texts, size_t n, cm_role role,
                     const char *instruction, const cm_pool_spec *pools, size_t npools, float *const *outs) {
    if (!n || !npools) return CM_OK;
    call c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.attention = cm_hf_model_settings(m)->attention;
    c.pools = pools;
    c.npools = npools;
    c.od = (size_t)cm_hf_model_config(m)->out_dim;
    c.outs = outs;
    int rc = CM_OK;
    for (int r = 0; r < g->n && rc == CM_OK; r++)
        if (!(c.slots[r].ptrs = cm_calloc(npools, sizeof *c.slots[r].ptrs))) rc = CM_ERR_NOMEM;
    cm_plan_dealer *d = NULL;
    if (rc == CM_OK) rc = cm_plan_dealer_start(&d, g->n, 4 * (size_t)g->n, job_run, &c);
    window *windows = NULL, **tail = &windows;
    for (size_t w0 = 0, wn = 0; rc == CM_OK && w0 < n; w0 += wn) {
        wn = n - w0 < (w0 ? WINDOW : FIRST_WINDOW) ? n - w0 : (w0 ? WINDOW : FIRST_WINDOW);
        window *w = cm_calloc(1, sizeof *w);
        if (!w) { rc = CM_ERR_NOMEM; break; }
        *tail = w;
        tail = &w->next;
        w->items = cm_calloc(wn, sizeof *w->items);
        w->lens = cm_malloc(wn * sizeof *w->lens);
        if (!w->items || !w->lens) { rc = CM_ERR_NOMEM; break; }
        w->n = wn;
        rc = tokenize_window(m, g->threads, texts + w0, wn, w0, role, instruction, w->items);
        if (rc) break;
        qsort(w->items, wn, sizeof *w->items, cm_hf_item_cmp);
        for (size_t i = 0; i < wn; i++) w->lens[i] = w->items[i].n;
        cm_batch_plan plan;
        if ((rc = cm_batch_plan_make(w->lens, wn, &g->plan, &plan))) break;
        for (size_t b = plan.n; b-- > 0 && rc == CM_OK;) {   /* longest first: the last batches are short */
            cm_plan_job job = {w, plan.batches[b].begin, plan.batches[b].end};
            rc = cm_plan_dealer_push(d, &job);
        }
        cm_batch_plan_free(&plan);
    }
    char msg[1024] = "";
    if (rc) snprintf(msg, sizeof msg, "%s", cm_last_error());
    int frc = cm_plan_dealer_finish(d, NULL);   /* waits for the queued batches (or drops them after an error) */
    if (rc) cm_error(rc, "%s", msg);   /* the producer's failure came first */
    else rc = frc;
    while (windows) {
        window *w = windows;
        windows = w->next;
        for (size_t i = 0; w->items && i < w->n; i++) free(w->items[i].ids);
        free(w->items);
        free(w->lens);
        free(w);
    }
    for (int r = 0; r < g->n; r++) {
        cm_hf_batch_free(&c.slots[r].batch);
        free(c.slots[r].buf);
        free(c.slots[r].ptrs);
    }
    return rc;
}
