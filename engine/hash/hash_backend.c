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

static int hash_one(const hash_state *s, const char *text, float *out) {
    size_t len = strlen(text);
    /* at most len words and 3*(len+2) n-grams */
    size_t need = 4 * len + 16, cap = 64;
    while (cap < 2 * need) cap <<= 1;
    feat *tab = cm_calloc(cap, sizeof *tab);
    char *low = cm_malloc(len + 3);
    if (!tab || !low) {
        free(tab);
        free(low);
        return cm_error(CM_ERR_NOMEM, "out of memory hashing a text of %zu bytes", len);
    }
    size_t i = 0;
    while (i < len) {
        while (i < len && !is_word_byte((unsigned char)text[i])) i++;
        size_t start = i;
        while (i < len && is_word_byte((unsigned char)text[i])) i++;
        size_t wl = i - start;
        if (!wl) continue;
        low[0] = '<';
        for (size_t k = 0; k < wl; k++) low[k + 1] = (char)tolower((unsigned char)text[start + k]);
        low[wl + 1] = '>';
        add_feature(tab, cap, cm_hash64(low + 1, wl, 1), 1.0f);
        for (size_t n = 3; n <= 5; n++)
            for (size_t k = 0; k + n <= wl + 2; k++)
                add_feature(tab, cap, cm_hash64(low + k, n, 2 + n), 0.5f);
    }
    memset(out, 0, s->dim * sizeof *out);
    for (size_t k = 0; k < cap; k++) {
        if (!tab[k].count) continue;
        uint64_t h = tab[k].h;
        size_t bucket = (size_t)((h >> 1) % s->dim);
        float sign = (h & 1) ? 1.0f : -1.0f;
        out[bucket] += sign * tab[k].w * (1.0f + logf((float)tab[k].count));
    }
    free(tab);
    free(low);
    cm_l2_normalize_rows(out, 1, s->dim);
    return CM_OK;
}

static int hash_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                       float *out) {
    (void)role;
    (void)instruction;
    const hash_state *s = state;
    int rc = CM_OK;
#pragma omp parallel for schedule(dynamic, 16)
    for (size_t i = 0; i < n; i++) {
        int r = hash_one(s, texts[i], out + i * s->dim);
        if (r) {
#pragma omp critical
            rc = r;
        }
    }
    return rc;
}

static void hash_free(void *state) { free(state); }

const cm_backend_i cm_backend_hash = {
    .scheme = "hash",
    .usage = "hash[:DIM]          lexical feature-hashing baseline, no weights (default DIM 512)",
    .supported = 0,   /* no encoder options: a fixed lexical function */
    .init = hash_init, .encode = hash_encode, .free = hash_free,
};
