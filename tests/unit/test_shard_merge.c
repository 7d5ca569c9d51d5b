/*
 * test_shard_merge.c: the top-k merge of sharded retrieval
 * (tasks/retrieval/shard.c). Integer-valued vectors make many scores tie
 * exactly; the corpus is searched whole (cm_search, as the single run does)
 * and in 2, 3 and 7 shards (slices from cm_shard_slice, documents fed
 * through cm_shard_clip in odd batches, hits written and read back through
 * the hits files in reverse order), and both are compared with a brute-force
 * ranking in double precision written here: score descending, then doc id
 * descending (Python's heapq over (score, id), as BEIR keeps ties), self-hits
 * dropped. Also: slices cover the corpus in whole chunks, and a missing
 * shard, another query set or a cut file is an error naming the file.
 */
#include "check.h"
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/shard.h"
#include "cmteb/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ND = 203, NQ = 25, DIM = 4, TOPK = 20, CHUNK = 16 };

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static unsigned urand(unsigned m) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % m);
}

static float docs[ND * DIM], queries[NQ * DIM];
static char doc_ids[ND][16], q_ids[NQ][16];
static const char *dids[ND], *qids[NQ];

typedef struct { double s; const char *id; } ref_hit;
static int cmp_ref(const void *a, const void *b) {
    const ref_hit *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return strcmp(y->id, x->id);
}

/* The reference top TOPK of query q: *n hits into out. */
static void reference(size_t q, ref_hit *out, size_t *n) {
    ref_hit all[ND];
    size_t m = 0;
    for (size_t d = 0; d < ND; d++) {
        if (!strcmp(dids[d], qids[q])) continue;
        double s = 0;
        for (size_t j = 0; j < DIM; j++) s += (double)queries[q * DIM + j] * docs[d * DIM + j];
        all[m].s = s;
        all[m++].id = dids[d];
    }
    qsort(all, m, sizeof *all, cmp_ref);
    *n = m < TOPK ? m : TOPK;
    memcpy(out, all, *n * sizeof *out);
}

/* Searches the documents [lo, hi) fed in batches of 7 through cm_shard_clip (whole corpus when n_shards is 0). */
static cm_search *search_slice(size_t i, size_t n_shards, size_t grid) {
    cm_search_params p = cm_search_default_params();
    p.top_k = TOPK;
    p.chunk_size = CHUNK;
    cm_search *s = NULL;
    if (cm_search_init(&s, queries, qids, NQ, DIM, &p)) return NULL;
    size_t seen = 0;
    for (size_t b = 0; b < ND; b += 7) {
        size_t n = ND - b < 7 ? ND - b : 7;
        const char *const *ids = dids + b, *const *texts = dids + b;   /* texts: any parallel array */
        size_t keep = n_shards ? cm_shard_clip(i, n_shards, ND, grid, &seen, &ids, &texts, n) : n;
        if (keep && cm_search_add(s, docs + (size_t)(ids - dids) * DIM, ids, keep)) {
            cm_search_free(s);
            return NULL;
        }
    }
    if (cm_search_finish(s)) {
        cm_search_free(s);
        return NULL;
    }
    return s;
}

static char tmpdir[256];

static void check_sharded(size_t n_shards, size_t grid) {
    char *paths[8] = {0};
    const char *rev[8];
    size_t covered = 0;
    for (size_t i = 0; i < n_shards; i++) {
        size_t lo, hi;
        cm_shard_slice(ND, grid, i, n_shards, &lo, &hi);
        CHECK(lo == covered && hi >= lo && (lo % grid == 0 || lo == ND));
        covered = hi;
        cm_search *s = search_slice(i, n_shards, grid);
        CHECK(s != NULL);
        if (!s) return;
        CHECK(cm_search_n_docs(s) == hi - lo);
        paths[i] = cm_asprintf("%s/n%zu_g%zu_s%zu.hits", tmpdir, n_shards, grid, i);
        CHECK_OK(cm_shard_hits_write(paths[i], s, qids, NQ, TOPK, i, n_shards, lo, hi));
        cm_search_free(s);
    }
    CHECK(covered == ND);
    for (size_t i = 0; i < n_shards; i++) rev[i] = paths[n_shards - 1 - i];
    cm_shard_hits *h = NULL;
    CHECK_OK(cm_shard_hits_read(&h, rev, n_shards, qids, NQ, TOPK));
    cm_search *whole = search_slice(0, 0, 1);
    size_t diffs = 0, ties = 0;
    for (size_t q = 0; h && whole && q < NQ; q++) {
        ref_hit ref[TOPK];
        size_t nr;
        reference(q, ref, &nr);
        const char *const *mi, *const *wi;
        const float *ms, *ws;
        size_t nm = cm_shard_hits_get(h, q, &mi, &ms), nw = cm_search_hits(whole, q, &wi, &ws);
        diffs += nm != nr || nw != nr;
        for (size_t j = 0; j < nr && j < nm && j < nw; j++) {
            diffs += strcmp(mi[j], ref[j].id) || strcmp(wi[j], ref[j].id) || ms[j] != (float)ref[j].s || ws[j] != ms[j];
            ties += j > 0 && ref[j].s == ref[j - 1].s;
        }
    }
    CHECK(diffs == 0);
    CHECK(ties > 50);   /* the case the merge must order like the single run */
    printf("%zu shards (grid %zu): %zu queries x %d hits equal to the single run and the reference; %zu ties\n",
           n_shards, grid, (size_t)NQ, TOPK, ties);
    cm_search_free(whole);
    cm_shard_hits_free(h);
    /* errors: a shard missing, other queries, a cut file */
    if (n_shards >= 2) {
        CHECK(cm_shard_hits_read(&h, rev, n_shards - 1, qids, NQ, TOPK) == CM_ERR_FORMAT && !h);
        CHECK(strstr(cm_last_error(), "shard folders were given") != NULL);
        const char *other[NQ];
        memcpy(other, qids, sizeof other);
        other[3] = "no-such-query";
        CHECK(cm_shard_hits_read(&h, rev, n_shards, other, NQ, TOPK) == CM_ERR_FORMAT && !h);
        CHECK(strstr(cm_last_error(), "no-such-query") != NULL);
        char *text = NULL;
        size_t len = 0;
        CHECK_OK(cm_read_file(paths[0], &text, &len));
        CHECK_OK(cm_write_file_atomic(paths[0], text, len / 2));
        free(text);
        CHECK(cm_shard_hits_read(&h, rev, n_shards, qids, NQ, TOPK) == CM_ERR_FORMAT && !h);
        CHECK(strstr(cm_last_error(), paths[0]) != NULL);
    }
    for (size_t i = 0; i < n_shards; i++) {
        unlink(paths[i]);
        free(paths[i]);
    }
}

int main(void) {
    const char *base = getenv("CMTEB_TMP") ? getenv("CMTEB_TMP") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_shard_merge.XXXXXX", base);
    if (!mkdtemp(tmpdir)) SKIP("cannot create a temporary folder");
    /* ids whose order is not the corpus order; a few query ids equal doc ids (self-hits) */
    for (size_t d = 0; d < ND; d++) {
        snprintf(doc_ids[d], sizeof doc_ids[d], "d%03u", (unsigned)((d * 89) % ND));
        dids[d] = doc_ids[d];
        for (size_t j = 0; j < DIM; j++) docs[d * DIM + j] = (float)urand(3);
    }
    for (size_t q = 0; q < NQ; q++) {
        if (q % 5 == 0) memcpy(q_ids[q], doc_ids[q * 7], sizeof q_ids[q]);
        else snprintf(q_ids[q], sizeof q_ids[q], "q%02zu", q);
        qids[q] = q_ids[q];
        for (size_t j = 0; j < DIM; j++) queries[q * DIM + j] = (float)urand(3);
    }
    check_sharded(1, CHUNK);
    check_sharded(2, CHUNK);
    check_sharded(3, CHUNK);
    check_sharded(7, CHUNK);
    check_sharded(3, 1);
    check_sharded(7, 1);
    /* more shards than chunks: the last ones are empty, the slices still cover the corpus */
    size_t lo, hi;
    cm_shard_slice(ND, CHUNK, 19, 20, &lo, &hi);
    CHECK(hi == ND);
    cm_shard_slice(ND, CHUNK, 0, 20, &lo, &hi);
    CHECK(lo == 0 && hi == 0);
    rmdir(tmpdir);
    return check_report();
}
