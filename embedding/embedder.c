/*
 * embedder.c: de-duplication, the embedding cache, batching, finite checks
 * and progress around an encoder (see embedder.h).
 */
#include "cmteb/embedder.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "embedding/embed_cache.h"
#include "cmteb/interrupt.h"
#include "cmteb/progress.h"
#include "cmteb/store.h"

#include <math.h>
#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Pending cache vectors are written at least this often during a long call. */
#define FLUSH_SECONDS 30.0
#define FLUSH_VECTORS 16384

struct cm_embedder {
    cm_encoder        *enc;
    cm_embedder_params p;
    cm_cache          *cache;   /* NULL without --cache-dir */
    cm_embedder_stats  st;
    double             last_flush;
    long               delay_ms;  /* CMTEB_TEST_ENCODE_DELAY_MS: slows encoding so tests can interrupt a run */
    cm_store          *slice;     /* slice mode (cm_embedder_slice_begin): this slice's vectors go there */
    size_t             slice_i, slice_n;
    double             slice_commit;   /* when the slice's store was last committed */
};

cm_embedder_params cm_embedder_default_params(void) {
    cm_embedder_params p;
    p.cache_dir = NULL;
    p.batch_size = 64;
    p.quiet = 0;
    p.use_instructions = -1;
    return p;
}

int cm_embedder_init(cm_embedder **out, cm_encoder *enc, const cm_embedder_params *params) {
    *out = NULL;
    cm_embedder *e = cm_calloc(1, sizeof *e);
    if (!e) return CM_ERR_NOMEM;
    e->enc = enc;
    e->p = params ? *params : cm_embedder_default_params();
    if (e->p.batch_size <= 0) e->p.batch_size = 64;
    if (e->p.cache_dir && *e->p.cache_dir) {
        const cm_encoder_info *info = cm_encoder_get_info(enc);
        int rc = cm_cache_open(&e->cache, e->p.cache_dir, info->fingerprint, info->dim);
        if (rc) { free(e); return rc; }
    }
    e->last_flush = cm_now();
    const char *delay = getenv("CMTEB_TEST_ENCODE_DELAY_MS");
    e->delay_ms = delay ? strtol(delay, NULL, 10) : 0;
    *out = e;
    return CM_OK;
}

/* Whether key belongs to the embedder's slice. */
static int slice_owns(const cm_embedder *e, cm_store_key k) {
    return (size_t)((k.lo ^ (k.hi >> 17)) % (uint64_t)e->slice_n) == e->slice_i;
}

/* A stand-in for a vector of another slice: finite, unit length, a function of the key. */
static void placeholder(cm_store_key k, float *v, size_t dim) {
    uint64_t s = k.lo ^ (k.hi * 0x9e3779b97f4a7c15ULL);
    double norm = 0;
    for (size_t j = 0; j < dim; j++) {
        s += 0x9e3779b97f4a7c15ULL;
        uint64_t z = s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        v[j] = (float)((double)(z >> 11) / 9007199254740992.0 - 0.5);
        norm += (double)v[j] * v[j];
    }
    norm = norm > 0 ? sqrt(norm) : 1;
    for (size_t j = 0; j < dim; j++) v[j] = (float)(v[j] / norm);
}

/* Commits the slice's staged vectors when 64 MiB are staged or the last commit is FLUSH_SECONDS old (as often
 * as the cache is flushed: an interrupted or killed shard run loses at most that much). */
static int slice_commit_due(cm_embedder *e) {
    if (!cm_store_staged(e->slice) ||
        (cm_store_staged_bytes(e->slice) < ((size_t)64 << 20) && cm_now() - e->slice_commit < FLUSH_SECONDS))
        return CM_OK;
    e->slice_commit = cm_now();
    return cm_store_commit(e->slice);
}

int cm_embedder_slice_begin(cm_embedder *e, size_t i, size_t n, const char *store_dir) {
    if (e->slice) return cm_error(CM_ERR_ARG, "embedder: already in slice mode");
    if (n == 0 || i >= n) return cm_error(CM_ERR_ARG, "embedder: slice %zu of %zu", i, n);
    const cm_encoder_info *info = cm_encoder_get_info(e->enc);
    cm_store_params sp = cm_store_default_params();
    sp.dim = info->dim;
    sp.tag = info->fingerprint;   /* a slice of another model's vectors is refused, not mixed in */
    sp.writable = 1;
    CM_TRY(cm_store_open(&e->slice, store_dir, &sp));
    e->slice_i = i;
    e->slice_n = n;
    e->slice_commit = cm_now();
    return CM_OK;
}

int cm_embedder_slice_end(cm_embedder *e, size_t *n_stored) {
    if (!e->slice) return CM_OK;
    int rc = cm_store_reindex(e->slice);
    if (n_stored) *n_stored = cm_store_keys(e->slice);
    cm_store_close(e->slice);
    e->slice = NULL;
    return rc;
}

/* Hash set from key to the first index holding it, for de-duplication. */
typedef struct { cm_cache_key k; size_t idx; int used; } dslot;

static size_t dfind(dslot *t, size_t cap, cm_cache_key k) {
    size_t i = (size_t)(k.lo ^ (k.hi >> 11)) & (cap - 1);
    while (t[i].used && (t[i].k.lo != k.lo || t[i].k.hi != k.hi)) i = (i + 1) & (cap - 1);
    return i;
}

/* Requests of at least this many texts hash them on all threads. */
#define KEYS_PAR_MIN 2048

/* cm_check_finite over x (n, dim), the rows scanned on all threads when there are many: the same error (the
 * first non-finite value) as one scan. */
static int check_finite(const float *x, size_t n, size_t dim, const char *what) {
    const size_t rows = 256;   /* rows per piece */
    size_t first = SIZE_MAX;
#pragma omp parallel for schedule(static) reduction(min : first) if (n * dim >= ((size_t)1 << 20))
    for (size_t r = 0; r < n; r += rows) {
        const size_t len = (n - r < rows ? n - r : rows) * dim, j = cm_first_nonfinite(x + r * dim, len);
        if (j < len && r * dim + j < first) first = r * dim + j;
    }
    return first == SIZE_MAX ? CM_OK : cm_check_finite(x, first + 1, what);
}

/* The instruction the encoder gets: the task's when the embedder (or, by default, the model) uses instructions,
 * NULL for none. */
static const char *encoder_instruction(const cm_embedder *e, const char *instruction) {
    const cm_encoder_info *info = cm_encoder_get_info(e->enc);
    int use = e->p.use_instructions < 0 ? info->uses_instructions : e->p.use_instructions;
    return use && instruction && *instruction ? instruction : NULL;
}

int cm_embed(cm_embedder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
             const char *label, float *out) {
    if (n == 0) return CM_OK;
    const cm_encoder_info *info = cm_encoder_get_info(e->enc);
    const char *instr = encoder_instruction(e, instruction);
    size_t dim = info->dim;
    int rc = CM_OK;

    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    dslot *tab = cm_calloc(cap, sizeof *tab);
    size_t *src = cm_malloc(n * sizeof *src);      /* src[i]: index whose vector text i copies */
    size_t *todo = cm_malloc(n * sizeof *todo);    /* unique indices to encode */
    cm_store_key *skeys = NULL;                     /* slice mode: each unique text's store key */
    cm_cache_key *keys = cm_malloc(n * sizeof *keys);
    if (!tab || !src || !todo || !keys) { rc = CM_ERR_NOMEM; goto done; }

    size_t n_todo = 0, n_unique = 0, hits = 0;
#pragma omp parallel for schedule(static) if (n >= KEYS_PAR_MIN)
    for (size_t i = 0; i < n; i++)   /* the keys (a hash of each text) on all threads; the table below in order */
        if (texts[i]) keys[i] = cm_cache_make_key((int)role, instr, texts[i]);
    for (size_t i = 0; i < n; i++) {
        if (!texts[i]) { rc = cm_error(CM_ERR_ARG, "%s: text %zu is NULL", label ? label : "embed", i); goto done; }
        size_t s = dfind(tab, cap, keys[i]);
        if (tab[s].used && !strcmp(texts[tab[s].idx], texts[i])) { src[i] = tab[s].idx; continue; }
        if (tab[s].used) { /* 128-bit collision between different texts: treat as unique, uncached */
            src[i] = i;
            todo[n_todo++] = i;
            n_unique++;
            continue;
        }
        tab[s].used = 1;
        tab[s].k = keys[i];
        tab[s].idx = i;
        src[i] = i;
        n_unique++;
        int got = e->cache ? cm_cache_get(e->cache, keys[i], out + i * dim) : 0;
        if (got < 0) { rc = cm_error_wrap(got, "%s: embedding cache", label ? label : "embed"); goto done; }
        if (got) hits++;
        else todo[n_todo++] = i;
    }

    e->st.requested += n;
    e->st.unique += n_unique;
    e->st.cache_hits += hits;

    /* slice mode: only this slice's texts are encoded; the others get placeholders, neither cached nor stored */
    if (e->slice) {
        if (!(skeys = cm_malloc(n * sizeof *skeys))) { rc = CM_ERR_NOMEM; goto done; }
        for (size_t i = 0; i < n; i++)
            if (src[i] == i) skeys[i] = cm_store_key_text((int)role, NULL, texts[i]);
        size_t kept = 0, row;
        for (size_t j = 0; j < n_todo && !rc; j++) {
            size_t i = todo[j];
            if (!slice_owns(e, skeys[i])) placeholder(skeys[i], out + i * dim, dim);
            else if (cm_store_find(e->slice, skeys[i], &row)) rc = cm_store_read(e->slice, row, 1, out + i * dim);
            else todo[kept++] = i;   /* (in the store already: an interrupted shard run resumes without encoding) */
        }
        if (rc) goto done;
        n_todo = kept;
    }

    if (n_todo) {
        cm_progress prog;
        cm_progress_begin(&prog, label ? label : "embedding", n_todo, e->p.quiet);
        /* Chunks several batches long so engines can sort and pack by length. */
        size_t chunk = (size_t)e->p.batch_size * 8;
        if (chunk < 256) chunk = 256;
        if (info->chunk) chunk = info->chunk < n_todo ? info->chunk : n_todo;
        /* every text is new (no repeat, no cache hit): todo is 0..n-1 and vectors go straight to out */
        const int direct = n_todo == n;
        const char **bt = direct ? NULL : cm_malloc(chunk * sizeof *bt);
        float *bv = direct ? NULL : cm_malloc(chunk * dim * sizeof *bv);
        if (!direct && (!bt || !bv)) { free(bt); free(bv); rc = CM_ERR_NOMEM; goto done; }
        for (size_t s = 0; s < n_todo && !rc; s += chunk) {
            size_t m = n_todo - s < chunk ? n_todo - s : chunk;
            const char *const *tx = texts + s;
            float *vx = out + s * dim;
            if (!direct) {
                for (size_t j = 0; j < m; j++) bt[j] = texts[todo[s + j]];
                tx = bt;
                vx = bv;
            }
            if (cm_interrupted()) {
                rc = cm_error(CM_ERR_INTERRUPTED, "%s: interrupted; embeddings so far are cached",
                              label ? label : "embedding");
                break;
            }
            double t0 = cm_now();
            if (e->delay_ms > 0) usleep((useconds_t)e->delay_ms * 1000u);
            rc = cm_encoder_encode(e->enc, tx, m, role, instr, vx);
            e->st.encode_seconds += cm_now() - t0;
            if (rc) { rc = cm_error_wrap(rc, "%s", label ? label : "embedding"); break; }
            char what[160];
            snprintf(what, sizeof what, "%s: vectors %zu..%zu from the encoder", label ? label : "embedding", s, s + m);
            if ((rc = check_finite(vx, m, dim, what))) break;
            for (size_t j = 0; j < m && !rc; j++) {
                size_t i = todo[s + j];
                if (!direct) memcpy(out + i * dim, bv + j * dim, dim * sizeof *out);
                if (e->cache) rc = cm_cache_put(e->cache, keys[i], vx + j * dim);
                if (!rc && e->slice) rc = cm_store_add(e->slice, vx + j * dim, &skeys[i], 1, NULL);
            }
            if (!rc && e->slice) rc = slice_commit_due(e);
            e->st.encoded += m;
            cm_progress_update(&prog, s + m);
            if (!rc && e->cache &&
                (cm_cache_pending(e->cache) >= FLUSH_VECTORS || cm_now() - e->last_flush >= FLUSH_SECONDS)) {
                rc = cm_cache_flush(e->cache);
                e->last_flush = cm_now();
            }
        }
        free(bt);
        free(bv);
        cm_progress_end(&prog);
        if (e->cache && (!rc || rc == CM_ERR_INTERRUPTED)) {
            int frc = cm_cache_flush(e->cache);
            if (!rc) rc = frc;
            e->last_flush = cm_now();
        }
    }
    for (size_t i = 0; e->slice && i < n && !rc; i++) {   /* this slice's vectors that came from the cache */
        size_t row;
        if (src[i] != i || !slice_owns(e, skeys[i]) || cm_store_find(e->slice, skeys[i], &row)) continue;
        rc = cm_store_add(e->slice, out + i * dim, &skeys[i], 1, NULL);
    }
    if (e->slice && !rc) rc = slice_commit_due(e);
    for (size_t i = 0; i < n && !rc; i++)
        if (src[i] != i) memcpy(out + i * dim, out + src[i] * dim, dim * sizeof *out);
done:
    free(skeys);
    free(tab);
    free(src);
    free(todo);
    free(keys);
    return rc;
}

/* Distinct pointers among rows[0..n) (the unique texts of a lent call: one text, one row). */
static size_t distinct_rows(const float *const *rows, size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    const float **set = cm_calloc(cap, sizeof *set);
    if (!set) return n;
    size_t d = 0;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)(((uintptr_t)rows[i] >> 2) * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        while (set[h] && set[h] != rows[i]) h = (h + 1) & (cap - 1);
        if (!set[h]) { set[h] = rows[i]; d++; }
    }
    free(set);
    return d;
}

int cm_embed_view(cm_embedder *e, const char *const *texts, size_t n, cm_role role, const char *instruction,
                  const char *label, float *buf, const float **rows) {
    if (n == 0) return CM_OK;
    if (!e->cache && !e->slice && e->delay_ms <= 0) {
        const char *instr = encoder_instruction(e, instruction);
        for (size_t i = 0; i < n; i++)
            if (!texts[i]) return cm_error(CM_ERR_ARG, "%s: text %zu is NULL", label ? label : "embed", i);
        if (cm_interrupted())
            return cm_error(CM_ERR_INTERRUPTED, "%s: interrupted; embeddings so far are cached",
                            label ? label : "embedding");
        double t0 = cm_now();
        int rc = cm_encoder_view(e->enc, texts, n, role, instr, rows);
        if (rc != CM_ERR_UNSUPPORTED) {
            if (rc) return cm_error_wrap(rc, "%s", label ? label : "embedding");
            size_t d = distinct_rows(rows, n);
            e->st.requested += n;
            e->st.unique += d;
            e->st.encoded += d;
            e->st.encode_seconds += cm_now() - t0;
            return CM_OK;
        }
    }
    if (!buf) return CM_ERR_UNSUPPORTED;
    CM_TRY(cm_embed(e, texts, n, role, instruction, label, buf));
    const size_t dim = cm_encoder_dim(e->enc);
    for (size_t i = 0; i < n; i++) rows[i] = buf + i * dim;
    return CM_OK;
}

size_t cm_embedder_dim(const cm_embedder *e) { return cm_encoder_dim(e->enc); }
size_t cm_embedder_reserve_bytes(const cm_embedder *e) {
    return e->cache ? (size_t)FLUSH_VECTORS * cm_encoder_dim(e->enc) * sizeof(float) : 0;
}
const cm_encoder_info *cm_embedder_info(const cm_embedder *e) { return cm_encoder_get_info(e->enc); }
cm_embedder_stats cm_embedder_get_stats(const cm_embedder *e) { return e->st; }

int cm_embedder_flush(cm_embedder *e) {
    if (!e->cache) return CM_OK;
    e->last_flush = cm_now();
    return cm_cache_flush(e->cache);
}

int cm_embedder_put(cm_embedder *e, cm_role role, const char *instruction, const char *text, const float *vec) {
    if (!e->cache) return 0;
    cm_cache_key k = cm_cache_make_key((int)role, instruction && *instruction ? instruction : NULL, text);
    if (cm_cache_has(e->cache, k)) return 0;
    size_t dim = cm_encoder_get_info(e->enc)->dim;
    CM_TRY(cm_check_finite(vec, dim, "a shared-pass vector for the embedding cache"));
    CM_TRY(cm_cache_put(e->cache, k, vec));
    if (cm_cache_pending(e->cache) >= FLUSH_VECTORS || cm_now() - e->last_flush >= FLUSH_SECONDS)
        CM_TRY(cm_embedder_flush(e));
    return 1;
}

void cm_embedder_free(cm_embedder *e) {
    if (!e) return;
    if (e->cache) {
        int rc = cm_cache_flush(e->cache);
        if (rc) cm_log(CM_LOG_WARN, "embedding cache not saved: %s", cm_last_error());
        cm_cache_close(e->cache);
    }
    if (e->slice && cm_embedder_slice_end(e, NULL))
        cm_log(CM_LOG_WARN, "sharded run: vectors of this slice not saved: %s", cm_last_error());
    free(e);
}
