/*
 * precomputed_backend.c: `precomputed:DIR`, vectors made elsewhere.
 *
 * DIR holds texts.jsonl (one object per line: {"text": ...} with an optional
 * "role": "query"|"document") and embeddings.npy (float32 or float16, shape
 * (n, dim), rows in the order of texts.jsonl), or is itself a vector store
 * (cmteb/store.h). The first use indexes the two files into a store
 * (precomputed_index.c) in DIR/.cmteb-store, or, when DIR is not writable,
 * in $XDG_CACHE_HOME/cmteb/precomputed/<hash of DIR> (~/.cache when unset);
 * later runs map it, and a changed file (size, mtime, inode) is indexed
 * again. A text is looked up by (role, text) first, then as a line without
 * a role, then as a line of the other role. Every text a task asks for
 * must be found: a miss is an error that says how many of the requested
 * texts are missing and shows one. Vectors are checked for NaN/Inf when a
 * task reads them.
 */
#include "engine/backend.h"
#include "engine/precomputed/precomputed_index.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/store.h"
#include "cmteb/util.h"

#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    cm_store *store;
    size_t    dim;
    char      name[256];
    char      fingerprint[96];
    char     *label;   /* DIR/embeddings.npy or the store folder: what errors name */
} pre_state;

static void pre_free(void *state) {
    pre_state *s = state;
    if (!s) return;
    cm_store_close(s->store);
    free(s->label);
    free(s);
}

/* Where DIR's store lives: DIR/.cmteb-store, or a cache folder when DIR is read-only. */
static char *store_dir_for(const char *dir) {
    if (access(dir, W_OK) == 0) return cm_path_join(dir, ".cmteb-store");
    char *abs = realpath(dir, NULL);
    char hex[17];
    cm_hex64(cm_hash64(abs ? abs : dir, strlen(abs ? abs : dir), 0x57), hex);
    free(abs);
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    char *d = xdg && *xdg ? cm_asprintf("%s/cmteb/precomputed/%s", xdg, hex)
                          : cm_asprintf("%s/.cache/cmteb/precomputed/%s", home && *home ? home : "/tmp", hex);
    char *parent = d ? cm_path_dirname(d) : NULL;
    if (parent && cm_mkdir_p(parent)) { free(d); d = NULL; }
    free(parent);
    if (d) cm_log(CM_LOG_INFO, "%s is read-only: its vector store lives in %s", dir, d);
    return d;
}

/* Opens DIR's store, indexing the files first when it is missing or out of date. */
static int open_indexed(pre_state *s, const char *dir) {
    char *stamp = NULL, *sdir = NULL;
    CM_TRY(pre_source_stamp(dir, &stamp));
    int rc = (sdir = store_dir_for(dir)) ? CM_OK : CM_ERR_NOMEM;
    cm_store_params p = cm_store_default_params();
    for (int attempt = 0; !rc && attempt < 2; attempt++) {
        if (cm_store_exists(sdir)) {
            rc = cm_store_open(&s->store, sdir, &p);
            const char *tag = rc ? NULL : cm_store_tag(s->store);
            const char *nl = tag ? strchr(tag, '\n') : NULL;
            if (!rc && nl && !strcmp(nl + 1, stamp)) break;   /* up to date */
            if (!rc) cm_log(CM_LOG_INFO, "%s: texts.jsonl or embeddings.npy changed since %s was built; indexing again",
                            dir, sdir);
            else cm_log(CM_LOG_WARN, "%s: unusable vector store (%s); indexing again", sdir, cm_last_error());
            cm_store_close(s->store);
            s->store = NULL;
            rc = CM_OK;
        }
        if (attempt == 0) rc = pre_build_store(dir, sdir, stamp);
        else rc = cm_error(CM_ERR_INTERNAL, "%s: the vector store just built does not open as up to date", sdir);
    }
    free(stamp);
    free(sdir);
    return rc;
}

static int pre_init(void **state, const char *arg, const cm_encoder_params *params, cm_encoder_info *info) {
    if (!arg || !*arg)
        return cm_error(CM_ERR_ARG, "precomputed:DIR needs a folder with texts.jsonl and embeddings.npy");
    pre_state *s = cm_calloc(1, sizeof *s);
    if (!s) return CM_ERR_NOMEM;
    int direct = cm_store_exists(arg);
    int rc = CM_OK;
    if (direct) {
        cm_store_params p = cm_store_default_params();
        rc = cm_store_open(&s->store, arg, &p);
        s->label = cm_asprintf("%s/rows.bin", arg);
    } else {
        rc = open_indexed(s, arg);
        s->label = cm_path_join(arg, "embeddings.npy");
    }
    if (!rc && !s->label) rc = CM_ERR_NOMEM;
    if (!rc) rc = cm_store_set_label(s->store, s->label);
    if (rc) { pre_free(s); return rc; }
    s->dim = cm_store_dim(s->store);
    if (params && params->model_name) snprintf(s->name, sizeof s->name, "%s", params->model_name);
    else snprintf(s->name, sizeof s->name, "precomputed/%s", cm_path_basename(arg));
    const char *tag = cm_store_tag(s->store);
    size_t fl = strcspn(tag, "\n");
    if (fl) snprintf(s->fingerprint, sizeof s->fingerprint, "%.*s", (int)(fl < 95 ? fl : 95), tag);
    else {   /* a store made by other means: its size and place */
        char hex[17];
        cm_hex64(cm_hash64(arg, strlen(arg), 0x77), hex);
        snprintf(s->fingerprint, sizeof s->fingerprint, "precomputed-store-%zu-%zu-%s", cm_store_rows(s->store),
                 s->dim, hex);
    }
    info->name = s->name;
    info->loader = "precomputed";
    info->fingerprint = s->fingerprint;
    info->dim = s->dim;
    info->max_tokens = -1;
    info->n_parameters = -1;
    info->uses_instructions = 0;
    info->chunk = SIZE_MAX;
    info->stored = 1;
    *state = s;
    return CM_OK;
}

/* Requests of fewer than twice this many texts are looked up on one thread (a team costs more than it saves;
 * retrieval asks for its corpus 4,096 texts at a time, which a team halves: 0.08 s of a 100k-document run). */
#define PRE_PAR_MIN 1024

/* Texts per lookup block: their keys are hashed and their index slots prefetched first, then found and their
 * rows prefetched, then copied, so that a block's cache and TLB misses overlap instead of following each other
 * (each lookup of a scattered key was a miss into a large index: 8% of a clustering run's samples). */
#define PRE_BLOCK 16

/* The store is read-only here (lookups in its index, rows copied out of its map or lent), so the texts are
 * looked up on all threads; the outcome is the sequential loop's: the missing texts counted, the first one named,
 * and on a non-finite row the error of the first such text. Exactly one of out (copies: (n, dim)) and views
 * (pointers into the store's map) is non-NULL; with views, a row the store cannot lend makes the whole call
 * CM_ERR_UNSUPPORTED (no message: the caller copies instead). */
static int pre_lookup(const pre_state *s, const char *const *texts, size_t n, cm_role role, float *out,
                      const float **views) {
    size_t missing = 0, first = SIZE_MAX, bad = SIZE_MAX, bad_row = 0;
    int bad_rc = CM_OK, unlendable = 0;
    char bad_msg[2048] = "";
    const int order[3] = {(int)role, -1, role == CM_ROLE_QUERY ? CM_ROLE_DOCUMENT : CM_ROLE_QUERY};
    const int nt = n >= 2 * PRE_PAR_MIN ? omp_get_max_threads() : 1;
    const size_t n_blocks = (n + PRE_BLOCK - 1) / PRE_BLOCK;
#pragma omp parallel for num_threads(nt) schedule(static) reduction(+ : missing, unlendable) if (nt > 1)
    for (size_t b = 0; b < n_blocks; b++) {
        const size_t i0 = b * PRE_BLOCK, m = n - i0 < PRE_BLOCK ? n - i0 : PRE_BLOCK;
        cm_store_key key[PRE_BLOCK];
        size_t row[PRE_BLOCK];
        int found[PRE_BLOCK];
        for (size_t t = 0; t < m; t++) {
            key[t] = cm_store_key_text(order[0], NULL, texts[i0 + t]);
            cm_store_prefetch_key(s->store, key[t]);
        }
        for (size_t t = 0; t < m; t++) {
            found[t] = cm_store_find(s->store, key[t], &row[t]);
            for (int k = 1; k < 3 && !found[t]; k++)
                found[t] = cm_store_find(s->store, cm_store_key_text(order[k], NULL, texts[i0 + t]), &row[t]);
            if (found[t]) cm_store_prefetch_row(s->store, row[t]);
        }
        for (size_t t = 0; t < m; t++) {
            const size_t i = i0 + t;
            if (!found[t]) {
                missing++;
#pragma omp critical(pre_first_missing)
                if (i < first) first = i;
                continue;
            }
            int rc = views ? cm_store_view(s->store, row[t], &views[i])
                           : cm_store_read(s->store, row[t], 1, out + i * s->dim);
            if (rc == CM_ERR_UNSUPPORTED && views) {
                unlendable++;
            } else if (rc) {
#pragma omp critical(pre_first_bad)
                if (i < bad) {   /* the message is this thread's: keep it with the index */
                    bad = i;
                    bad_row = row[t];
                    bad_rc = rc;
                    snprintf(bad_msg, sizeof bad_msg, "%s", cm_last_error());
                }
            }
        }
    }
    if (unlendable) return CM_ERR_UNSUPPORTED;
    if (bad != SIZE_MAX) {
        if (bad_rc == CM_ERR_NUMERIC)
            return cm_error(bad_rc, "%s text \"%.80s\" (texts.jsonl line %zu): %s", cm_role_name(role), texts[bad],
                            bad_row + 1, bad_msg);
        return cm_error(bad_rc, "%s", bad_msg);
    }
    if (missing)
        return cm_error(CM_ERR_NOTFOUND, "%zu of %zu requested %s texts are not in texts.jsonl, e.g. \"%.120s\"",
                        missing, n, cm_role_name(role), texts[first]);
    return CM_OK;
}

static int pre_encode(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                      float *out) {
    (void)instruction;
    return pre_lookup(state, texts, n, role, out, NULL);
}

static int pre_view(void *state, const char *const *texts, size_t n, cm_role role, const char *instruction,
                    const float **rows) {
    (void)instruction;
    return pre_lookup(state, texts, n, role, NULL, rows);
}

const cm_backend_i cm_backend_precomputed = {
    .scheme = "precomputed",
    .usage = "precomputed:DIR     vectors made elsewhere (DIR/texts.jsonl + DIR/embeddings.npy, or a vector store)",
    .supported = 0,   /* no encoder options: vectors made elsewhere */
    .init = pre_init, .encode = pre_encode, .free = pre_free, .view = pre_view,
};
