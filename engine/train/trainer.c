/* trainer.c: the pooler training loop (pooler_train.h): shuffled batches, head forward over the cached token
 * states, InfoNCE, backward, AdamW; checkpoints (head + optimiser moments + step) and resume; progress with
 * the loss. */
#include "engine/train/head_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/interrupt.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

cm_pooler_train_params cm_pooler_train_default_params(void) {
    cm_pooler_train_params p;
    memset(&p, 0, sizeof p);
    p.opt = cm_adamw_default_params();
    p.epochs = 1;
    p.batch = 16;
    p.in_batch = 1;
    p.temperature = 0.05f;
    p.seed = 42;
    p.checkpoint_every = 50;
    return p;
}

static uint64_t mix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The order of epoch e: a Fisher-Yates shuffle seeded by (seed, e) only. */
static void shuffle(size_t *ord, size_t n, uint64_t seed, int e) {
    uint64_t s = seed * 0x100000001B3ull + (uint64_t)e;
    for (size_t i = 0; i < n; i++) ord[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(mix(&s) % i), t = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = t;
    }
}

/* checkpoint: DIR/head/ (cm_head_save) + DIR/optim.bin ("CMTEBOPT" | i64 step | u64 n | m | v) */
static int save_ckpt(const cm_head *h, const char *dir, long step, const float *m, const float *v) {
    char *hd = cm_path_join(dir, "head"), *op = cm_path_join(dir, "optim.bin");
    size_t n = h->n, bytes = 24 + 2 * n * sizeof(float);
    char *buf = cm_malloc(bytes);
    int rc = hd && op && buf ? CM_OK : CM_ERR_NOMEM;
    if (rc == CM_OK) rc = cm_head_save(h, hd);
    if (rc == CM_OK) {
        int64_t st = step;
        uint64_t nn = n;
        memcpy(buf, "CMTEBOPT", 8);
        memcpy(buf + 8, &st, 8);
        memcpy(buf + 16, &nn, 8);
        memcpy(buf + 24, m, n * sizeof(float));
        memcpy(buf + 24 + n * sizeof(float), v, n * sizeof(float));
        rc = cm_write_file_atomic(op, buf, bytes);   /* written last: its presence marks a whole checkpoint */
    }
    free(hd); free(op); free(buf);
    return rc;
}

/* Loads a checkpoint of the same head into h, m, v; *step = its step (0 when there is none). */
static int load_ckpt(cm_head *h, const char *dir, long *step, float *m, float *v) {
    *step = 0;
    char *hd = cm_path_join(dir, "head"), *op = cm_path_join(dir, "optim.bin");
    int rc = hd && op ? CM_OK : CM_ERR_NOMEM;
    char *buf = NULL;
    size_t len = 0;
    if (rc == CM_OK && cm_file_exists(op)) {
        rc = cm_read_file(op, &buf, &len);
        cm_head *c = NULL;
        if (rc == CM_OK) rc = cm_head_load(&c, hd, h->p.d);
        if (rc == CM_OK && (c->p.kind != h->p.kind || c->n != h->n))
            rc = cm_error(CM_ERR_FORMAT, "%s: the checkpoint is of a %s head of %zu parameters, this run trains a %s "
                          "head of %zu (use another --output or delete it)", dir, cm_head_kind_name(c->p.kind), c->n,
                          cm_head_kind_name(h->p.kind), h->n);
        uint64_t nn = 0;
        int64_t st = 0;
        if (rc == CM_OK) {
            if (len != 24 + 2 * h->n * sizeof(float) || memcmp(buf, "CMTEBOPT", 8))
                rc = cm_error(CM_ERR_FORMAT, "%s: truncated or not an optimiser checkpoint", op);
            else {
                memcpy(&st, buf + 8, 8);
                memcpy(&nn, buf + 16, 8);
                if (nn != h->n || st < 0) rc = cm_error(CM_ERR_FORMAT, "%s: inconsistent header", op);
            }
        }
        if (rc == CM_OK) {
            memcpy(h->w, c->w, h->n * sizeof(float));
            memcpy(m, buf + 24, h->n * sizeof(float));
            memcpy(v, buf + 24 + h->n * sizeof(float), h->n * sizeof(float));
            *step = (long)st;
        }
        cm_head_free(c);
    }
    free(buf); free(hd); free(op);
    return rc;
}

/* One step over examples ord[0..B): forward all sequences, loss, backward, AdamW at step t. */
static int train_step(cm_head *h, const cm_pooler_states *st, const cm_pooler_example *ex, const size_t *ord,
                      size_t B, const cm_pooler_train_params *p, long t, float *m, float *v, double *loss) {
    size_t d = (size_t)h->p.d, k = p->k, ns = B * (2 + k);
    float *E = cm_malloc(ns * d * sizeof(float)), *dE = cm_malloc(ns * d * sizeof(float));
    size_t *seq = cm_malloc(ns * sizeof(size_t));
    int rc = E && dE && seq ? CM_OK : CM_ERR_NOMEM;
    for (size_t i = 0; rc == CM_OK && i < B; i++) {
        const cm_pooler_example *e = &ex[ord[i]];
        seq[i] = e->q;
        seq[B + i] = e->pos;
        for (size_t j = 0; j < k; j++) seq[2 * B + i * k + j] = e->neg[j];
    }
    for (size_t i = 0; rc == CM_OK && i < ns; i++)
        rc = cm_head_forward(h, st->x + st->off[seq[i]] * d, st->len[seq[i]], st->s0[seq[i]], E + i * d);
    if (rc == CM_OK)
        rc = cm_infonce(E, E + B * d, E + 2 * B * d, B, k, d, p->in_batch, p->temperature, loss, dE, dE + B * d,
                        dE + 2 * B * d);
    if (rc == CM_OK && !isfinite(*loss)) rc = cm_error(CM_ERR_NUMERIC, "step %ld: the loss is not finite", t);
    if (rc == CM_OK) cm_head_zero_grad(h);
    for (size_t i = 0; rc == CM_OK && i < ns; i++)
        rc = cm_head_backward(h, st->x + st->off[seq[i]] * d, st->len[seq[i]], st->s0[seq[i]], dE + i * d);
    if (rc == CM_OK) cm_adamw_step(h, &p->opt, t, m, v);
    free(E); free(dE); free(seq);
    return rc;
}

/* One "step<TAB>epoch<TAB>loss" line of the training log; 0 when it is not one. */
static int log_line(const char *line, long *step, int *epoch, double *loss) {
    char tail;
    return sscanf(line, "%ld\t%d\t%lf%c", step, epoch, loss, &tail) >= 3 && *step > 0 && *epoch > 0;
}

/* A resumed run restarts after step `done` (the checkpoint): lines of later steps, logged by a run that died
 * before its next checkpoint, are dropped so that every step is in the log once. */
static int log_keep_upto(const char *path, long done) {
    char *buf = NULL;
    size_t len = 0;
    if (!cm_file_exists(path)) return CM_OK;
    CM_TRY(cm_read_file(path, &buf, &len));
    size_t w = 0;   /* kept lines are moved down to buf[0..w) */
    for (char *p = buf, *end = buf + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = '\0';
        long step;
        int epoch;
        double loss;
        size_t l = strlen(p);
        if (log_line(p, &step, &epoch, &loss) && step <= done) {
            memmove(buf + w, p, l);
            w += l;
            buf[w++] = '\n';
        }
        p = nl ? nl + 1 : end;
    }
    int rc = cm_write_file_atomic(path, buf, w);
    free(buf);
    return rc;
}

int cm_pooler_log_means(const char *log_path, double *first, double *last) {
    *first = *last = NAN;
    char *buf = NULL;
    size_t len = 0;
    CM_TRY(cm_read_file(log_path, &buf, &len));
    int e_lo = 0, e_hi = 0;
    double s_lo = 0, s_hi = 0;
    long n_lo = 0, n_hi = 0, line_no = 0;
    int rc = CM_OK;
    for (char *p = buf, *end = buf + len; p < end && rc == CM_OK;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl) *nl = '\0';
        line_no++;
        long step;
        int epoch;
        double loss;
        if (*p && !log_line(p, &step, &epoch, &loss))
            rc = cm_error(CM_ERR_FORMAT, "%s:%ld: expected \"step<TAB>epoch<TAB>loss\"", log_path, line_no);
        else if (*p) {
            if (!n_lo || epoch < e_lo) { e_lo = epoch; s_lo = 0; n_lo = 0; }
            if (!n_hi || epoch > e_hi) { e_hi = epoch; s_hi = 0; n_hi = 0; }
            if (epoch == e_lo) { s_lo += loss; n_lo++; }
            if (epoch == e_hi) { s_hi += loss; n_hi++; }
        }
        p = nl ? nl + 1 : end;
    }
    free(buf);
    if (rc == CM_OK && n_lo) {
        *first = s_lo / (double)n_lo;
        *last = s_hi / (double)n_hi;
    }
    return rc;
}

int cm_pooler_train(cm_head *h, const cm_pooler_states *st, const cm_pooler_example *ex, size_t n_ex,
                    const cm_pooler_train_params *p, double *mean_first, double *mean_last) {
    if (!n_ex) return cm_error(CM_ERR_ARG, "train-pooler: no training examples");
    if (p->k > CM_POOLER_MAX_NEG) return cm_error(CM_ERR_ARG, "at most %d hard negatives", CM_POOLER_MAX_NEG);
    if (st->d != h->p.d)
        return cm_error(CM_ERR_ARG, "head width %lld != token states' %lld", (long long)h->p.d, (long long)st->d);
    if (p->batch < 1 || p->epochs < 0) return cm_error(CM_ERR_ARG, "batch size must be >= 1 and epochs >= 0");
    size_t B = p->batch < n_ex ? p->batch : n_ex, steps_per_epoch = n_ex / B;
    long total = (long)steps_per_epoch * p->epochs;
    if (p->max_steps > 0 && p->max_steps < total) total = p->max_steps;
    float *m = cm_calloc(h->n, sizeof(float)), *v = cm_calloc(h->n, sizeof(float));
    size_t *ord = cm_malloc(n_ex * sizeof(size_t));
    int rc = m && v && ord ? CM_OK : CM_ERR_NOMEM;
    long done = 0;
    if (rc == CM_OK && p->checkpoint_dir) rc = load_ckpt(h, p->checkpoint_dir, &done, m, v);
    if (rc == CM_OK && done)
        cm_log(CM_LOG_INFO, "resuming from %s at step %ld of %ld", p->checkpoint_dir, done, total);
    FILE *log = NULL;
    if (rc == CM_OK && p->log_path && done) rc = log_keep_upto(p->log_path, done);
    if (rc == CM_OK && p->log_path && !(log = fopen(p->log_path, done ? "a" : "w")))
        rc = cm_error(CM_ERR_IO, "%s: cannot write the training log", p->log_path);
    double sum = 0, first = NAN, last = NAN, run = NAN;
    long cnt = 0;
    int cur_epoch = -1;
    char label[96];
    cm_progress_event ev = {label, (size_t)done, (size_t)total, 0, 0};
    double t0 = cm_now();
    for (long t = done; rc == CM_OK && t < total; t++) {
        int e = (int)(t / (long)steps_per_epoch);
        if (e != cur_epoch) {
            if (cnt) {
                last = sum / (double)cnt;
                if (isnan(first)) first = last;
            }
            sum = 0;
            cnt = 0;
            cur_epoch = e;
            shuffle(ord, n_ex, p->seed, e);
        }
        size_t at = (size_t)(t % (long)steps_per_epoch) * B;
        double loss = 0;
        rc = train_step(h, st, ex, ord + at, B, p, t + 1, m, v, &loss);
        if (rc != CM_OK) break;
        sum += loss;
        cnt++;
        run = isnan(run) ? loss : 0.9 * run + 0.1 * loss;
        if (log) fprintf(log, "%ld\t%d\t%.6f\n", t + 1, e + 1, loss);
        snprintf(label, sizeof label, "train %s (loss %.4f)", cm_head_kind_name(h->p.kind), run);
        ev.done = (size_t)(t + 1);
        ev.elapsed = cm_now() - t0;
        ev.final = t + 1 == total;
        cm_progress_report(&ev);
        int stop = cm_interrupted();
        if (p->checkpoint_dir && (stop || (p->checkpoint_every > 0 && (t + 1) % p->checkpoint_every == 0) ||
                                  t + 1 == total))
            rc = save_ckpt(h, p->checkpoint_dir, t + 1, m, v);
        if (rc == CM_OK && stop) rc = cm_error(CM_ERR_INTERRUPTED, "interrupted at step %ld of %ld (checkpoint in %s)",
                                               t + 1, total, p->checkpoint_dir ? p->checkpoint_dir : "-");
    }
    if (cnt) {
        last = sum / (double)cnt;
        if (isnan(first)) first = last;
    }
    if (log) fclose(log);
    if (mean_first) *mean_first = first;
    if (mean_last) *mean_last = last;
    free(m); free(v); free(ord);
    return rc;
}
