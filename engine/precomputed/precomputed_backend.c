/*
 * precomputed_backend.c: `precomputed:DIR`, vectors made elsewhere.
 *
 * DIR holds texts.jsonl (one object per line: {"text": ...} with an optional
 * "role": "query"|"document") and embeddings.npy (float32 or float16, shape
 * (n, dim), rows in the order of texts.jsonl). A text is looked up by (role,
 * text) first, then by text alone. Every text a task asks for must be found:
 * a miss is an error that says how many of the requested texts are missing
 * and shows one. Vectors are checked for NaN/Inf at load.
 */
#include "engine/backend.h"
#include "cmteb/records.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    float   *vecs;      /* (n, dim) */
    size_t   n, dim;
    char   **texts;     /* (n) */
    int     *roles;     /* (n): -1 none, 0 query, 1 document */
    int32_t *tab;       /* open addressing over (role, text): row + 1 */
    int32_t *tab_any;   /* over text alone: first row + 1 */
    size_t   cap;
    char     name[256];
    char     fingerprint[96];
} pre_state;

static uint64_t key_hash(int role, const char *t) { return cm_hash64(t, strlen(t), (uint64_t)(role + 2)); }

static size_t find_slot(const pre_state *s, const int32_t *tab, int role, const char *t, int by_role) {
    size_t i = (size_t)key_hash(by_role ? role : -5, t) & (s->cap - 1);
    for (;;) {
        int32_t v = tab[i];
        if (!v) return i;
        size_t r = (size_t)v - 1;
        if ((!by_role || s->roles[r] == role) && !strcmp(s->texts[r], t)) return i;
        i = (i + 1) & (s->cap - 1);
    }
}

static void pre_free(void *state) {
    pre_state *s = state;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->texts[i]);
    free(s->texts);
    free(s->roles);
    free(s->vecs);
    free(s->tab);
    free(s->tab_any);
    free(s);
}

static int pre_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    if (!arg || !*arg)
        return cm_error(CM_ERR_ARG, "precomputed:DIR needs a folder with texts.jsonl and embeddings.npy");
    pre_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    char *tpath = cm_path_join(arg, "texts.jsonl"), *npath = cm_path_join(arg, "embeddings.npy");
    int rc = tpath && npath ? CM_OK : CM_ERR_NOMEM;
    size_t rows = 0;
    if (!rc) rc = cm_npy_read_f32(npath, &s->vecs, &rows, &s->dim);
    if (!rc) rc = cm_check_finite(s->vecs, rows * s->dim, npath);
    if (!rc && s->dim == 0) rc = cm_error(CM_ERR_FORMAT, "%s: dimension is 0", npath);
    cm_records *r = NULL;
    if (!rc) rc = cm_records_open(&r, tpath);
    if (!rc) {
        s->texts = cm_calloc(rows + 1, sizeof *s->texts);
        s->roles = cm_calloc(rows + 1, sizeof *s->roles);
        if (!s->texts || !s->roles) rc = CM_ERR_NOMEM;
    }
    cJSON *o;
    while (!rc && (rc = cm_records_next(r, &o)) == 1) {
        rc = CM_OK;
        const char *t;
        if ((rc = cm_rec_string(r, o, "text", &t))) break;
        if (s->n >= rows) {
            rc = cm_error(CM_ERR_FORMAT, "%s:%zu: more texts than the %zu rows of %s", tpath, cm_records_line(r), rows,
                          npath);
            break;
        }
        int role = -1;
        const cJSON *jr = cJSON_GetObjectItemCaseSensitive(o, "role");
        if (jr && !cJSON_IsNull(jr)) {
            if (cJSON_IsString(jr) && !strcmp(jr->valuestring, "query")) role = 0;
            else if (cJSON_IsString(jr) &&
                     (!strcmp(jr->valuestring, "document") || !strcmp(jr->valuestring, "passage")))
                role = 1;
            else { rc = cm_rec_error(r, "role", "expected \"query\" or \"document\""); break; }
        }
        s->texts[s->n] = cm_strdup(t);
        s->roles[s->n] = role;
        if (!s->texts[s->n]) { rc = CM_ERR_NOMEM; break; }
        s->n++;
    }
    if (rc == 0 && s->n != rows)
        rc = cm_error(CM_ERR_FORMAT, "%s has %zu texts but %s has %zu rows (expected the same count)", tpath, s->n,
                      npath, rows);
    cm_records_close(r);
    if (!rc) {
        s->cap = 16;
        while (s->cap < 2 * s->n) s->cap <<= 1;
        s->tab = cm_calloc(s->cap, sizeof *s->tab);
        s->tab_any = cm_calloc(s->cap, sizeof *s->tab_any);
        if (!s->tab || !s->tab_any) rc = CM_ERR_NOMEM;
        for (size_t i = 0; !rc && i < s->n; i++) {
            size_t k = find_slot(s, s->tab, s->roles[i], s->texts[i], 1);
            if (!s->tab[k]) {
                s->tab[k] = (int32_t)(i + 1);
            } else {
                /* the same (role, text) twice: fine with the same vector, ambiguous otherwise */
                size_t j = (size_t)s->tab[k] - 1;
                if (memcmp(s->vecs + j * s->dim, s->vecs + i * s->dim, s->dim * sizeof *s->vecs))
                    rc = cm_error(CM_ERR_FORMAT,
                                  "%s: texts %zu and %zu are the same text%s%s but rows %zu and %zu of %s differ "
                                  "(which vector is meant?)",
                                  tpath, j + 1, i + 1, s->roles[i] < 0 ? "" : " for role ",
                                  s->roles[i] < 0 ? "" : (s->roles[i] ? "document" : "query"), j, i, npath);
            }
            k = find_slot(s, s->tab_any, 0, s->texts[i], 0);
            if (!s->tab_any[k]) s->tab_any[k] = (int32_t)(i + 1);
        }
    }
    free(tpath);
    free(npath);
    if (rc) { pre_free(s); return rc; }
    if (params && params->model_name) snprintf(s->name, sizeof s->name, "%s", params->model_name);
    else snprintf(s->name, sizeof s->name, "precomputed/%s", cm_path_basename(arg));
    char hex[17];
    cm_hex64(cm_hash64(s->vecs, s->n * s->dim * sizeof(float), 5) ^ (uint64_t)s->n, hex);
    snprintf(s->fingerprint, sizeof s->fingerprint, "precomputed-v1-%zu-%zu-%s", s->n, s->dim, hex);
    info->name = s->name;
    info->loader = "precomputed";
    info->fingerprint = s->fingerprint;
    info->dim = s->dim;
    info->max_tokens = -1;
    info->n_parameters = -1;
    info->uses_instructions = 0;
    info->chunk = SIZE_MAX;
    *state = s;
    return CM_OK;
}

static int pre_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                      float *out) {
    (void)instruction;
    const pre_state *s = state;
    size_t missing = 0, first = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t v = s->tab[find_slot(s, s->tab, (int)role, texts[i], 1)];
        if (!v) v = s->tab_any[find_slot(s, s->tab_any, 0, texts[i], 0)];
        if (!v) {
            if (!missing++) first = i;
            continue;
        }
        memcpy(out + i * s->dim, s->vecs + (size_t)(v - 1) * s->dim, s->dim * sizeof *out);
    }
    if (missing)
        return cm_error(CM_ERR_NOTFOUND, "%zu of %zu requested %s texts are not in texts.jsonl, e.g. \"%.120s\"",
                        missing, n, cm_role_name(role), texts[first]);
    return CM_OK;
}

const cm_backend_i cm_backend_precomputed = {
    .scheme = "precomputed",
    .usage = "precomputed:DIR     vectors made elsewhere (DIR/texts.jsonl + DIR/embeddings.npy)",
    .supported = 0,   /* no encoder options: vectors made elsewhere */
    .init = pre_init, .encode = pre_encode, .free = pre_free,
};
