/*
 * hash_backend.c: `hash[:DIM]`, the lexical baseline that needs no weights.
 *
 * Each text is lowercased and split into words (runs of letters and digits,
 * UTF-8 bytes >= 0x80 count as letters). Features are the words and the
 * character 3- to 5-grams of "<word>"; each feature is hashed (cm_hash64) to
 * a bucket and a sign. Weights: 1 + log(count) per feature (sublinear TF),
 * word features weighted 1, n-grams 0.5. The vector is L2-normalised. Fully
 * deterministic: same text, same vector, on every machine.
 */
#include "engine/backend.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t dim;
    char   name[64];
    char   fingerprint[64];
} hash_state;

static int hash_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    size_t dim = 512;
    if (arg && *arg) {
        char *end;
        long v = strtol(arg, &end, 10);
        if (*end || v < 8 || v > 1 << 20)
            return cm_error(CM_ERR_ARG, "hash:DIM expects a dimension from 8 to 1048576, got '%s'", arg);
        dim = (size_t)v;
    }
    hash_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    s->dim = dim;
    if (params && params->model_name) snprintf(s->name, sizeof s->name, "%s", params->model_name);
    else snprintf(s->name, sizeof s->name, "cmteb/hash-%zu", dim);
    snprintf(s->fingerprint, sizeof s->fingerprint, "hash-v1-%zu", dim);
    info->name = s->name;
    info->revision = "1";
    info->loader = "hash";
    info->fingerprint = s->fingerprint;
    info->dim = dim;
    info->max_tokens = -1;
    info->n_parameters = 0;
    info->uses_instructions = 0;
    *state = s;
    return CM_OK;
}

/* A feature table for one text: open addressing over hashes, counting. */
typedef struct { uint64_t h; float w; int count; } feat;

static void add_feature(feat *tab, size_t cap, uint64_t h, float w) {
    size_t i = (size_t)(h & (cap - 1));
    for (;;) {
        if (tab[i].count == 0) { tab[i].h = h; tab[i].w = w; tab[i].count = 1; return; }
        if (tab[i].h == h) { tab[i].count++; return; }
        i = (i + 1) & (cap - 1);
    }
}

static int is_word_byte(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* The vector sums the features in the slot order of a linear-probing table of
 * `cap` slots (cap from the text length). Short texts use that table itself;
 * long ones (a 10 MB field would need a 2 GB table) simulate it: the features
 * live in a table sized by how many distinct features there are, each with
 * the slot it would have in the big table (the first free slot from its home:
 * a set of the occupied slots says which are taken), and are summed sorted by
 * that slot. Same features, same order, same floats; memory grows with the
 * distinct features only (at most 4 per input byte, few in real text). */
#define DENSE_MAX_CAP ((size_t)1 << 16)

typedef struct { uint64_t h, slot; float w; uint32_t count; } sfeat;

typedef struct {
    sfeat    *f;        /* features, open addressing on h; count 0: empty */
    size_t    fcap, n;
    uint64_t *occ;      /* occupied virtual slots + 1; 0: empty */
    size_t    ocap;
    uint64_t  vmask;    /* virtual table size - 1 */
} sparse_tab;

static size_t mix(uint64_t x) { return (size_t)((x ^ (x >> 29)) * 0x9E3779B97F4A7C15ull >> 17); }

static int occ_has(const sparse_tab *t, uint64_t slot) {
    for (size_t i = mix(slot) & (t->ocap - 1);; i = (i + 1) & (t->ocap - 1)) {
        if (!t->occ[i]) return 0;
        if (t->occ[i] == slot + 1) return 1;
    }
}

static void occ_put(uint64_t *occ, size_t ocap, uint64_t slot) {
    size_t i = mix(slot) & (ocap - 1);
    while (occ[i]) i = (i + 1) & (ocap - 1);
    occ[i] = slot + 1;
}

static void feat_put(sfeat *f, size_t fcap, const sfeat *e) {
    size_t i = mix(e->h) & (fcap - 1);
    while (f[i].count) i = (i + 1) & (fcap - 1);
    f[i] = *e;
}

static int sparse_grow(sparse_tab *t) {
    size_t cap = t->fcap * 2;
    sfeat *f = cm_calloc(cap, sizeof *f);
    uint64_t *occ = cm_calloc(cap, sizeof *occ);
    if (!f || !occ) { free(f); free(occ); return CM_ERR_NOMEM; }
    for (size_t i = 0; i < t->fcap; i++)
        if (t->f[i].count) feat_put(f, cap, &t->f[i]);
    for (size_t i = 0; i < t->ocap; i++)
        if (t->occ[i]) occ_put(occ, cap, t->occ[i] - 1);
    free(t->f);
    free(t->occ);
    t->f = f;
    t->occ = occ;
    t->fcap = t->ocap = cap;
    return CM_OK;
}

static int sparse_add(sparse_tab *t, uint64_t h, float w) {
    size_t i = mix(h) & (t->fcap - 1);
    for (; t->f[i].count; i = (i + 1) & (t->fcap - 1))
        if (t->f[i].h == h) { t->f[i].count++; return CM_OK; }
    if (2 * (t->n + 1) > t->fcap) {
        CM_TRY(sparse_grow(t));
        return sparse_add(t, h, w);
    }
    uint64_t slot = h & t->vmask;
    while (occ_has(t, slot)) slot = (slot + 1) & t->vmask;
    occ_put(t->occ, t->ocap, slot);
    sfeat e = {h, slot, w, 1};
    t->f[i] = e;
    t->n++;
    return CM_OK;
}

static int cmp_slot(const void *a, const void *b) {
    uint64_t x = ((const sfeat *)a)->slot, y = ((const sfeat *)b)->slot;
    return x < y ? -1 : x > y;
}

static void add_to(const hash_state *s, float *out, uint64_t h, float w, uint32_t count) {
    size_t bucket = (size_t)((h >> 1) % s->dim);
    float sign = (h & 1) ? 1.0f : -1.0f;
    out[bucket] += sign * w * (1.0f + logf((float)count));
}

static int hash_one(const hash_state *s, const char *text, float *out) {
    size_t len = strlen(text);
    /* at most len words and 3*(len+2) n-grams */
    size_t need = 4 * len + 16, cap = 64;
    while (cap < 2 * need) cap <<= 1;
    int dense = cap <= DENSE_MAX_CAP;
    feat *tab = dense ? cm_calloc(cap, sizeof *tab) : NULL;
    sparse_tab st = {0};
    if (!dense) {
        st.fcap = st.ocap = 1024;
        st.vmask = cap - 1;
        st.f = cm_calloc(st.fcap, sizeof *st.f);
        st.occ = cm_calloc(st.ocap, sizeof *st.occ);
    }
    char *low = cm_malloc(len + 3);
    int rc = CM_OK;
    if ((dense ? !tab : !st.f || !st.occ) || !low) rc = CM_ERR_NOMEM;
    size_t i = 0;
    while (!rc && i < len) {
        while (i < len && !is_word_byte((unsigned char)text[i])) i++;
        size_t start = i;
        while (i < len && is_word_byte((unsigned char)text[i])) i++;
        size_t wl = i - start;
        if (!wl) continue;
        low[0] = '<';
        for (size_t k = 0; k < wl; k++) low[k + 1] = (char)tolower((unsigned char)text[start + k]);
        low[wl + 1] = '>';
        if (dense) add_feature(tab, cap, cm_hash64(low + 1, wl, 1), 1.0f);
        else rc = sparse_add(&st, cm_hash64(low + 1, wl, 1), 1.0f);
        for (size_t n = 3; n <= 5 && !rc; n++)
            for (size_t k = 0; k + n <= wl + 2 && !rc; k++) {
                if (dense) add_feature(tab, cap, cm_hash64(low + k, n, 2 + n), 0.5f);
                else rc = sparse_add(&st, cm_hash64(low + k, n, 2 + n), 0.5f);
            }
    }
    if (!rc) {
        memset(out, 0, s->dim * sizeof *out);
        if (dense) {
            for (size_t k = 0; k < cap; k++)
                if (tab[k].count) add_to(s, out, tab[k].h, tab[k].w, (uint32_t)tab[k].count);
        } else {
            size_t m = 0;   /* compact, then sum in the big table's slot order */
            for (size_t k = 0; k < st.fcap; k++)
                if (st.f[k].count) st.f[m++] = st.f[k];
            qsort(st.f, m, sizeof *st.f, cmp_slot);
            for (size_t k = 0; k < m; k++) add_to(s, out, st.f[k].h, st.f[k].w, st.f[k].count);
        }
    }
    free(tab);
    free(st.f);
    free(st.occ);
    free(low);
    if (rc) return cm_error(CM_ERR_NOMEM, "out of memory hashing a text of %zu bytes", len);
    cm_l2_normalize_rows(out, 1, s->dim);
    return CM_OK;
}

static int hash_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                       float *out) {
    (void)role;
    (void)instruction;
    const hash_state *s = state;
    int rc = CM_OK;
    char msg[256] = "";   /* the error is thread-local: carry a worker's message back */
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; i++) {
        int r = hash_one(s, texts[i], out + i * s->dim);
        if (r) {
#pragma omp critical
            {
                rc = r;
                snprintf(msg, sizeof msg, "%s", cm_last_error());
            }
        }
    }
    return rc ? cm_error(rc, "%s", msg) : CM_OK;
}

static void hash_free(void *state) { free(state); }

const cm_backend_i cm_backend_hash = {
    .scheme = "hash",
    .usage = "hash[:DIM]          lexical feature-hashing baseline, no weights (default DIM 512)",
    .supported = 0,   /* no encoder options: a fixed lexical function */
    .init = hash_init, .encode = hash_encode, .free = hash_free,
};
