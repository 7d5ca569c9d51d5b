/* states.c: the frozen backbone of pooler training (pooler_train.h): its mean-pooled vectors for mining, and
 * its token hidden states computed once and cached in a file of our own:
 *   "CMTEBHS1" | u64 fingerprint hash | u64 n | u64 d | n x (u64 text hash, u64 len, u64 s0) | float32 rows
 * A cache whose header differs in any field is recomputed and replaced. */
#include "cmteb/pooler_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/log.h"
#include "cmteb/interrupt.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

struct cm_pooler_backbone {
    cm_hf_model *m;
};

int cm_pooler_backbone_open(cm_pooler_backbone **out, const char *dir, const cm_encoder_params *p) {
    *out = NULL;
    cm_encoder_params q = p ? *p : cm_encoder_default_params();
    q.device = "cpu";
    cm_pooler_backbone *b = cm_calloc(1, sizeof *b);
    if (!b) return CM_ERR_NOMEM;
    int rc = cm_hf_model_load(&b->m, dir, &q, 1);
    if (rc != CM_OK) {
        free(b);
        return rc;
    }
    *out = b;
    return CM_OK;
}

void cm_pooler_backbone_free(cm_pooler_backbone *b) {
    if (!b) return;
    cm_hf_model_free(b->m);
    free(b);
}

int64_t cm_pooler_backbone_dim(const cm_pooler_backbone *b) { return cm_hf_model_config(b->m)->hidden; }
const char *cm_pooler_backbone_fingerprint(const cm_pooler_backbone *b) { return cm_hf_model_fingerprint(b->m); }

int cm_pooler_backbone_mean(cm_pooler_backbone *b, const char *const *texts, size_t n, cm_role role,
                            const char *instruction, float *out) {
    cm_pool_spec ps = {CM_POOL_MEAN, -1, 1};
    float *outs[1] = {out};
    if (cm_hf_model_config(b->m)->out_dim != cm_pooler_backbone_dim(b))
        return cm_error(CM_ERR_UNSUPPORTED, "%s: Dense modules after pooling are not supported for pooler training",
                        cm_hf_model_dir(b->m));
    return cm_hf_encode_multi(b->m, texts, n, role, instruction, &ps, 1, outs);
}

void cm_pooler_states_free(cm_pooler_states *s) {
    if (!s) return;
    free(s->len); free(s->s0); free(s->off); free(s->x);
    memset(s, 0, sizeof *s);
}

static uint64_t text_hash(const char *t, cm_role role, const char *instr) {
    uint64_t h = cm_hash64(t ? t : "", t ? strlen(t) : 0, 0x7e57 + (uint64_t)role);
    if (role == CM_ROLE_QUERY && instr) h = cm_hash64(instr, strlen(instr), h);
    return h;
}

/* Reads the cache when it matches; *hit = 1 then. */
static int read_cache(const char *path, uint64_t fp, const uint64_t *hashes, size_t n, int64_t d,
                      cm_pooler_states *s, int *hit) {
    *hit = 0;
    if (!path || !cm_file_exists(path)) return CM_OK;
    FILE *f = fopen(path, "rb");
    if (!f) return CM_OK;
    char magic[8];
    uint64_t hd[3];
    int ok = fread(magic, 1, 8, f) == 8 && !memcmp(magic, "CMTEBHS1", 8) && fread(hd, 8, 3, f) == 3 &&
             hd[0] == fp && hd[1] == n && hd[2] == (uint64_t)d;
    size_t rows = 0;
    for (size_t i = 0; ok && i < n; i++) {
        uint64_t e[3];
        ok = fread(e, 8, 3, f) == 3 && e[0] == hashes[i] && e[1] >= 1 && e[1] < (1u << 20) && e[2] < e[1] + 1;
        if (ok) {
            s->len[i] = (size_t)e[1];
            s->s0[i] = (size_t)e[2];
            s->off[i] = rows;
            rows += (size_t)e[1];
        }
    }
    if (ok) {
        s->x = cm_malloc(rows * (size_t)d * sizeof(float) + 1);
        if (!s->x) {
            fclose(f);
            return CM_ERR_NOMEM;
        }
        ok = fread(s->x, sizeof(float) * (size_t)d, rows, f) == rows && fgetc(f) == EOF;
        if (!ok) {
            free(s->x);
            s->x = NULL;
        }
    }
    fclose(f);
    if (!ok) cm_log(CM_LOG_INFO, "%s: the token-state cache does not match these texts and model: recomputing", path);
    *hit = ok;
    return CM_OK;
}

static int write_cache(const char *path, uint64_t fp, const uint64_t *hashes, const cm_pooler_states *s) {
    size_t rows = s->n ? s->off[s->n - 1] + s->len[s->n - 1] : 0;
    size_t bytes = 32 + 24 * s->n + rows * (size_t)s->d * sizeof(float);
    char *buf = cm_malloc(bytes);
    if (!buf) return CM_ERR_NOMEM;
    uint64_t hd[3] = {fp, s->n, (uint64_t)s->d};
    memcpy(buf, "CMTEBHS1", 8);
    memcpy(buf + 8, hd, 24);
    for (size_t i = 0; i < s->n; i++) {
        uint64_t e[3] = {hashes[i], s->len[i], s->s0[i]};
        memcpy(buf + 32 + 24 * i, e, 24);
    }
    memcpy(buf + 32 + 24 * s->n, s->x, rows * (size_t)s->d * sizeof(float));
    char *dir = cm_path_dirname(path);
    int rc = dir ? cm_mkdir_p(dir) : CM_ERR_NOMEM;
    free(dir);
    if (rc == CM_OK) rc = cm_write_file_atomic(path, buf, bytes);
    free(buf);
    return rc;
}

int cm_pooler_states_get(cm_pooler_backbone *b, const char *const *texts, const cm_role *roles, size_t n,
                         const char *instruction, const char *cache_path, cm_pooler_states *out) {
    memset(out, 0, sizeof *out);
    cm_hf_model *m = b->m;
    int64_t d = cm_pooler_backbone_dim(b);
    const char *fps = cm_hf_model_fingerprint(m);
    uint64_t fp = cm_hash64(fps, strlen(fps), 0x5157);
    uint64_t *hashes = cm_malloc((n + 1) * sizeof *hashes);
    out->n = n;
    out->d = d;
    out->len = cm_calloc(n + 1, sizeof(size_t));
    out->s0 = cm_calloc(n + 1, sizeof(size_t));
    out->off = cm_calloc(n + 1, sizeof(size_t));
    if (!hashes || !out->len || !out->s0 || !out->off) {
        free(hashes);
        cm_pooler_states_free(out);
        return CM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++) hashes[i] = text_hash(texts[i], roles[i], instruction);
    int hit = 0;
    int rc = read_cache(cache_path, fp, hashes, n, d, out, &hit);
    if (rc == CM_OK && hit) {
        cm_log(CM_LOG_INFO, "token states of %zu texts read from %s", n, cache_path);
        free(hashes);
        return CM_OK;
    }
    /* compute: tokenize every text, then one forward pass per text (lengths differ; texts are few) */
    cm_hf_item *items = cm_calloc(n + 1, sizeof *items);
    cm_hf_tok_scratch ts = {0};
    rc = items ? rc : CM_ERR_NOMEM;
    size_t rows = 0;
    for (size_t i = 0; rc == CM_OK && i < n; i++) {
        const char *instr = roles[i] == CM_ROLE_QUERY ? instruction : NULL;
        rc = cm_hf_tokenize(m, &ts, texts[i], roles[i], instr, i, &items[i]);
        if (rc == CM_OK) {
            out->len[i] = items[i].n;
            out->s0[i] = items[i].n_instr < items[i].n ? items[i].n_instr : 0;
            out->off[i] = rows;
            rows += items[i].n;
        }
    }
    cm_hf_tok_scratch_free(&ts);
    if (rc == CM_OK && !(out->x = cm_malloc(rows * (size_t)d * sizeof(float) + 1))) rc = CM_ERR_NOMEM;
    const cm_hf_arch *arch = cm_hf_model_arch(m);
    const cm_hf_settings *set = cm_hf_model_settings(m);
    cm_hf_forward_opts fo = {set->attention, set->threads};
    cm_hf_batch batch = {0};
    double t0 = cm_now();
    cm_progress_event ev = {"token states", 0, n, 0, 0};
    for (size_t i = 0; rc == CM_OK && i < n;) {
        /* a batch of consecutive texts up to ~8192 tokens: forward gives the same rows whatever else is in it */
        cm_hf_batch_clear(&batch);
        size_t i1 = i;
        while (rc == CM_OK && i1 < n && (i1 == i || batch.n_tokens + items[i1].n <= 8192)) {
            rc = cm_hf_batch_add(&batch, items[i1].ids, items[i1].n, items[i1].n_instr);
            i1++;
        }
        if (rc == CM_OK)
            rc = arch->forward((void *)cm_hf_model_state(m), &batch, &fo, out->x + out->off[i] * (size_t)d);
        if (rc == CM_OK && cm_interrupted()) rc = cm_error(CM_ERR_INTERRUPTED, "interrupted computing token states");
        i = i1;
        ev.done = i;
        ev.elapsed = cm_now() - t0;
        ev.final = i == n;
        cm_progress_report(&ev);
    }
    cm_hf_batch_free(&batch);
    for (size_t i = 0; items && i < n; i++) free(items[i].ids);
    free(items);
    if (rc == CM_OK && cache_path) rc = write_cache(cache_path, fp, hashes, out);
    free(hashes);
    if (rc != CM_OK) cm_pooler_states_free(out);
    return rc;
}
