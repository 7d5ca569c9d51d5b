/*
 * precomputed_index.c: indexes texts.jsonl + embeddings.npy into a vector
 * store, streaming both files (memory: one commit's rows, 64 MiB, and the
 * key table), checking counts and ambiguous duplicates as it goes.
 */
#include "engine/precomputed/precomputed_index.h"
#include "cmteb/log.h"
#include "cmteb/records.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#define COMMIT_BYTES ((size_t)64 << 20)

int pre_source_stamp(const char *dir, char **out) {
    *out = NULL;
    const char *names[2] = {"texts.jsonl", "embeddings.npy"};
    unsigned long long v[6];
    for (int i = 0; i < 2; i++) {
        char *p = cm_path_join(dir, names[i]);
        if (!p) return CM_ERR_NOMEM;
        struct stat st;
        int ok = stat(p, &st) == 0;
        free(p);
        if (!ok) return cm_error(CM_ERR_NOTFOUND, "%s/%s: not found (precomputed:DIR needs texts.jsonl and "
                                 "embeddings.npy, or a vector store folder)", dir, names[i]);
        v[3 * i] = (unsigned long long)st.st_size;
        v[3 * i + 1] = (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL + (unsigned long long)st.st_mtim.tv_nsec;
        v[3 * i + 2] = (unsigned long long)st.st_ino;
    }
    *out = cm_asprintf("texts %llu %llu %llu npy %llu %llu %llu", v[0], v[1], v[2], v[3], v[4], v[5]);
    return *out ? CM_OK : CM_ERR_NOMEM;
}

/* Reads role into *role (-1 none, 0 query, 1 document). */
static int line_role(cm_records *r, const cJSON *o, int *role) {
    *role = -1;
    const cJSON *jr = cJSON_GetObjectItemCaseSensitive(o, "role");
    if (!jr || cJSON_IsNull(jr)) return CM_OK;
    if (cJSON_IsString(jr) && !strcmp(jr->valuestring, "query")) *role = 0;
    else if (cJSON_IsString(jr) && (!strcmp(jr->valuestring, "document") || !strcmp(jr->valuestring, "passage")))
        *role = 1;
    else return cm_rec_error(r, "role", "expected \"query\" or \"document\"");
    return CM_OK;
}

static int build(const char *dir, const char *tmp, const char *stamp) {
    char *tpath = cm_path_join(dir, "texts.jsonl"), *npath = cm_path_join(dir, "embeddings.npy");
    FILE *f = NULL;
    size_t rows = 0, dim = 0, n = 0;
    int esize = 4;
    cm_records *r = NULL;
    cm_store *s = NULL;
    unsigned char *raw = NULL;
    float *v = NULL, *w = NULL;
    int rc = tpath && npath ? CM_OK : CM_ERR_NOMEM;
    if (!rc) rc = cm_npy_open(npath, &f, &rows, &dim, &esize);
    if (!rc && dim == 0) rc = cm_error(CM_ERR_FORMAT, "%s: dimension is 0", npath);
    if (!rc && dim > (1u << 20)) rc = cm_error(CM_ERR_FORMAT, "%s: dimension %zu is too large", npath, dim);
    if (!rc) rc = cm_records_open(&r, tpath);
    cm_store_params sp = cm_store_default_params();
    sp.dim = dim;
    sp.dtype = esize == 2 ? CM_STORE_F16 : CM_STORE_F32;
    sp.writable = 1;
    sp.index_every = (size_t)-1;   /* one index, built at the end */
    if (!rc) rc = cm_store_open(&s, tmp, &sp);
    if (!rc) {
        raw = cm_malloc(dim * (size_t)esize);
        v = cm_malloc(dim * sizeof *v);
        w = cm_malloc(dim * sizeof *w);
        if (!raw || !v || !w) rc = CM_ERR_NOMEM;
    }
    uint64_t h = 5;
    cJSON *o;
    while (!rc && (rc = cm_records_next(r, &o)) == 1) {
        const char *t;
        int role;
        if ((rc = cm_rec_string(r, o, "text", &t)) || (rc = line_role(r, o, &role))) break;
        if (n >= rows) {
            rc = cm_error(CM_ERR_FORMAT, "%s:%zu: more texts than the %zu rows of %s", tpath, cm_records_line(r), rows,
                          npath);
            break;
        }
        if (fread(raw, (size_t)esize, dim, f) != dim) { rc = cm_error(CM_ERR_IO, "%s: read failed", npath); break; }
        if (esize == 4) memcpy(v, raw, dim * sizeof *v);
        else
            for (size_t j = 0; j < dim; j++) {
                uint16_t x;
                memcpy(&x, raw + 2 * j, 2);
                v[j] = cm_f16_to_f32(x);
            }
        h = cm_hash64(v, dim * sizeof *v, h);
        cm_store_key k = cm_store_key_text(role, NULL, t);
        size_t j;
        if (cm_store_find(s, k, &j)) {
            /* the same (role, text) twice: fine with the same vector, ambiguous otherwise (raw compare: NaN too) */
            if ((rc = cm_store_read(s, j, 1, w)) == CM_ERR_NUMERIC) rc = CM_OK;
            if (!rc && memcmp(v, w, dim * sizeof *v))
                rc = cm_error(CM_ERR_FORMAT,
                              "%s: texts %zu and %zu are the same text%s%s but rows %zu and %zu of %s differ "
                              "(which vector is meant?)",
                              tpath, j + 1, n + 1, role < 0 ? "" : " for role ",
                              role < 0 ? "" : (role ? "document" : "query"), j, n, npath);
            if (rc) break;
        }
        if ((rc = cm_store_add_raw(s, raw, &k, 1, NULL))) break;
        n++;
        if (cm_store_staged_bytes(s) >= COMMIT_BYTES && (rc = cm_store_commit(s))) break;
    }
    if (rc == 0 && n != rows)
        rc = cm_error(CM_ERR_FORMAT, "%s has %zu texts but %s has %zu rows (expected the same count)", tpath, n,
                      npath, rows);
    char hex[17];
    cm_hex64(h ^ (uint64_t)n, hex);
    char *tag = rc ? NULL : cm_asprintf("precomputed-v2-%zu-%zu-%s\n%s", n, dim, hex, stamp);
    if (!rc && !tag) rc = CM_ERR_NOMEM;
    if (!rc) rc = cm_store_set_tag(s, tag);
    if (!rc) rc = cm_store_reindex(s);
    free(tag);
    cm_store_close(s);
    cm_records_close(r);
    if (f) fclose(f);
    free(raw);
    free(v);
    free(w);
    free(tpath);
    free(npath);
    return rc;
}

int pre_build_store(const char *dir, const char *store_dir, const char *stamp) {
    char *tmp = cm_asprintf("%s.tmp.%d", store_dir, (int)getpid());
    if (!tmp) return CM_ERR_NOMEM;
    cm_store_remove(tmp);
    double t0 = cm_now();
    int rc = build(dir, tmp, stamp);
    if (!rc) {
        cm_store_remove(store_dir);   /* an out-of-date store */
        if (rename(tmp, store_dir) != 0 && !cm_store_exists(store_dir))   /* else a concurrent build won */
            rc = cm_error(CM_ERR_IO, "%s: cannot rename the new store into place", store_dir);
    }
    if (!rc) cm_log(CM_LOG_INFO, "%s: indexed into the vector store %s in %.1f s (done once; later runs map it)", dir,
                    store_dir, cm_now() - t0);
    cm_store_remove(tmp);
    free(tmp);
    return rc;
}
