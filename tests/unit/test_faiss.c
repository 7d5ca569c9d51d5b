/*
 * test_faiss.c: the FAISS C API shim and the chunked top-k search
 * (tasks/retrieval/search.c) against a brute-force search in double
 * precision written here: same hits and scores, whatever the chunk size;
 * self-hits dropped; ties kept by larger id as Python's heapq over
 * (score, id) keeps them; approximate indexes through faiss_index_factory.
 */
#include "check.h"
#include "tasks/retrieval/search.h"
#include "cmteb/util.h"

#include <faiss/c_api/IndexFlat_c.h>
#include <faiss/c_api/Index_c.h>
#include <faiss/c_api/error_c.h>
#include <faiss/c_api/index_factory_c.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 88172645463325252ull;
static double urand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_unit(float *x, size_t n, size_t d) {
    for (size_t i = 0; i < n * d; i++) x[i] = (float)(urand() * 2 - 1);
    cm_l2_normalize_rows(x, n, d);
}

typedef struct { double s; size_t i; } bf;
static int cmp_bf(const void *a, const void *b) {
    const bf *x = a, *y = b;
    return (x->s < y->s) - (x->s > y->s);
}

/* Direct FAISS C API use: the shim's IndexFlatIP equals a dot product. */
static void test_shim(void) {
    size_t d = 16, n = 200;
    float *x = malloc(n * d * sizeof *x);
    random_unit(x, n, d);
    FaissIndexFlatIP *ix = NULL;
    CHECK(faiss_IndexFlatIP_new_with(&ix, (idx_t)d) == 0);
    CHECK(faiss_Index_d(ix) == (int)d);
    CHECK(faiss_Index_is_trained(ix) == 1);
    CHECK(faiss_Index_add(ix, (idx_t)n, x) == 0);
    CHECK(faiss_Index_ntotal(ix) == (idx_t)n);
    float D[5];
    idx_t I[5];
    CHECK(faiss_Index_search(ix, 1, x + 7 * d, 5, D, I) == 0);
    CHECK(I[0] == 7);
    CHECK_NEAR(D[0], 1.0, 1e-5);
    for (int j = 1; j < 5; j++) CHECK_NEAR(D[j], cm_dot(x + 7 * d, x + I[j] * d, d), 1e-5);
    faiss_Index_free(ix);
    /* A bad factory string fails with a FAISS message, not an abort. */
    FaissIndex *bad = NULL;
    CHECK(faiss_index_factory(&bad, (int)d, "NoSuchIndex42", METRIC_INNER_PRODUCT) != 0);
    CHECK(strlen(faiss_get_last_error()) > 0);
    free(x);
}

static void make_ids(char **ids, size_t n, const char *fmt) {
    for (size_t i = 0; i < n; i++) ids[i] = cm_asprintf(fmt, i);
}

static void free_ids(char **ids, size_t n) {
    for (size_t i = 0; i < n; i++) free(ids[i]);
    free(ids);
}

/* Runs a search over docs added in pieces of `piece`. */
static cm_search *run_search(const float *q, char **qids, size_t nq, const float *docs, char **dids, size_t nd,
                             size_t d, cm_search_params *p, size_t piece) {
    cm_search *s = NULL;
    CHECK_OK(cm_search_init(&s, q, (const char *const *)qids, nq, d, p));
    if (!s) return NULL;
    for (size_t i = 0; i < nd; i += piece) {
        size_t n = nd - i < piece ? nd - i : piece;
        CHECK_OK(cm_search_add(s, docs + i * d, (const char *const *)dids + i, n));
    }
    CHECK_OK(cm_search_finish(s));
    return s;
}

static void test_exact_vs_bruteforce(void) {
    size_t d = 24, nd = 3000, nq = 40, k = 50;
    float *docs = malloc(nd * d * sizeof *docs), *q = malloc(nq * d * sizeof *q);
    random_unit(docs, nd, d);
    random_unit(q, nq, d);
    char **dids = malloc(nd * sizeof *dids), **qids = malloc(nq * sizeof *qids);
    make_ids(dids, nd, "doc%zu");
    make_ids(qids, nq, "q%zu");
    free(dids[123]);
    dids[123] = cm_strdup("q5"); /* query q5's own id is in the corpus: it must not be a hit */
    memcpy(docs + 123 * d, q + 5 * d, d * sizeof *q);

    cm_search_params p = cm_search_default_params();
    p.top_k = k;
    p.chunk_size = 700; /* 5 chunks, the last one short */
    p.query_block = 16;
    cm_search *s1 = run_search(q, qids, nq, docs, dids, nd, d, &p, 333);
    p.chunk_size = 50000;
    cm_search *s2 = run_search(q, qids, nq, docs, dids, nd, d, &p, nd);
    CHECK(s1 && s2);
    if (!s1 || !s2) return;
    CHECK(!strcmp(cm_search_index_name(s1), "Flat"));
    CHECK(cm_search_n_docs(s1) == nd);

    bf *all = malloc(nd * sizeof *all);
    int same_chunking = 1, same_bf = 1, self_seen = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        size_t m = 0;
        for (size_t i = 0; i < nd; i++) {
            if (!strcmp(dids[i], qids[qi])) continue;
            all[m].s = cm_dot(q + qi * d, docs + i * d, d);
            all[m++].i = i;
        }
        qsort(all, m, sizeof *all, cmp_bf);
        const char *const *ids1, *const *ids2;
        const float *sc1, *sc2;
        size_t n1 = cm_search_hits(s1, qi, &ids1, &sc1);
        size_t n2 = cm_search_hits(s2, qi, &ids2, &sc2);
        CHECK(n1 == k && n2 == k);
        for (size_t j = 0; j < k && j < n1 && j < n2; j++) {
            if (strcmp(ids1[j], ids2[j]) || sc1[j] != sc2[j]) same_chunking = 0;
            if (strcmp(ids1[j], dids[all[j].i]) || fabs(sc1[j] - all[j].s) > 1e-5) same_bf = 0;
            if (!strcmp(ids1[j], qids[qi])) self_seen = 1;
            if (j && sc1[j] > sc1[j - 1]) same_bf = 0; /* best first */
        }
    }
    CHECK(same_chunking);
    CHECK(same_bf);
    CHECK(!self_seen);
    free(all);

    /* Without skip_self, q5 finds its twin first with score 1. */
    p.skip_self = 0;
    cm_search *s3 = run_search(q, qids, nq, docs, dids, nd, d, &p, 1000);
    if (s3) {
        const char *const *ids;
        const float *sc;
        cm_search_hits(s3, 5, &ids, &sc);
        CHECK(!strcmp(ids[0], "q5"));
        CHECK_NEAR(sc[0], 1.0, 1e-5);
    }
    cm_search_free(s3);

    /* Approximate: IVF with every list probed is exact; HNSW recalls most. */
    p.skip_self = 1;
    p.index = "IVF8,Flat";
    p.index_params = "nprobe=8";
    p.chunk_size = 1000; /* training sample */
    cm_search *s4 = run_search(q, qids, nq, docs, dids, nd, d, &p, 400);
    p.index = "HNSW32";
    p.index_params = "efSearch=128";
    cm_search *s5 = run_search(q, qids, nq, docs, dids, nd, d, &p, 400);
    if (s4 && s5) {
        CHECK(!strcmp(cm_search_index_name(s4), "IVF8,Flat"));
        size_t agree4 = 0, agree5 = 0, total = 0;
        for (size_t qi = 0; qi < nq; qi++) {
            const char *const *e, *const *a4, *const *a5;
            const float *se, *x4, *x5;
            size_t ne = cm_search_hits(s2, qi, &e, &se);
            size_t n4 = cm_search_hits(s4, qi, &a4, &x4);
            size_t n5 = cm_search_hits(s5, qi, &a5, &x5);
            for (size_t j = 0; j < 10 && j < ne; j++) {
                total++;
                for (size_t t = 0; t < 10 && t < n4; t++) agree4 += !strcmp(e[j], a4[t]);
                for (size_t t = 0; t < 10 && t < n5; t++) agree5 += !strcmp(e[j], a5[t]);
            }
        }
        printf("top-10 agreement with exact: IVF8 nprobe=8 %zu/%zu, HNSW32 %zu/%zu\n", agree4, total, agree5, total);
        CHECK(agree4 == total);
        CHECK(agree5 >= total * 9 / 10);
    }
    cm_search_free(s4);
    cm_search_free(s5);

    /* Bad descriptions and parameters are argument errors that say what was expected. */
    cm_search *bad = NULL;
    p.index = "NoSuchIndex42";
    p.index_params = NULL;
    CHECK(cm_search_init(&bad, q, (const char *const *)qids, nq, d, &p) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "index_factory") != NULL);
    p.index = NULL;
    p.index_params = "nprobe=4";
    CHECK(cm_search_init(&bad, q, (const char *const *)qids, nq, d, &p) == CM_ERR_ARG);
    /* Too few vectors to train 64 lists. */
    p.index = "IVF64,Flat";
    p.index_params = NULL;
    cm_search *s6 = NULL;
    CHECK_OK(cm_search_init(&s6, q, (const char *const *)qids, nq, d, &p));
    if (s6) {
        CHECK_OK(cm_search_add(s6, docs, (const char *const *)dids, 10));
        CHECK(cm_search_finish(s6) == CM_ERR_ARG);
        cm_search_free(s6);
    }

    cm_search_free(s1);
    cm_search_free(s2);
    free_ids(dids, nd);
    free_ids(qids, nq);
    free(docs);
    free(q);
}

/* Equal scores at the heap boundary: the larger ids stay, as heapq keeps them.
 * (Inside one chunk FAISS, like torch.topk in BEIR, picks which of the tied
 * documents are candidates; with one document per chunk all of them are.) */
static void test_ties(void) {
    size_t d = 8, nd = 30, k = 4;
    float *docs = malloc(nd * d * sizeof *docs), q[8];
    random_unit(q, 1, d);
    for (size_t i = 0; i < nd; i++) memcpy(docs + i * d, q, sizeof q); /* all identical */
    char **dids = malloc(nd * sizeof *dids), *qid = "query";
    make_ids(dids, nd, "d%02zu");
    cm_search_params p = cm_search_default_params();
    p.top_k = k;
    p.chunk_size = 1;
    cm_search *s = run_search(q, &qid, 1, docs, dids, nd, d, &p, 5);
    if (s) {
        const char *const *ids;
        const float *sc;
        size_t n = cm_search_hits(s, 0, &ids, &sc);
        CHECK(n == k);
        CHECK(n == k && !strcmp(ids[0], "d29") && !strcmp(ids[1], "d28") && !strcmp(ids[2], "d27") &&
              !strcmp(ids[3], "d26"));
    }
    cm_search_free(s);
    free_ids(dids, nd);
    free(docs);
}

static void test_estimate(void) {
    cm_search_params p = cm_search_default_params();
    size_t small = cm_search_mem_estimate(1000, 384, 100000, &p);
    size_t big = cm_search_mem_estimate(1000, 384, 10000000, &p);
    /* Exact search holds one block of at most 8,192 documents: 100x the corpus adds only the id offsets. */
    CHECK(big - small == (10000000 - 100000) * sizeof(size_t));
    CHECK(small > (size_t)8192 * 384 * 4 && small < (size_t)50000 * 384 * 4);
    p.faiss_exact = 1;   /* FAISS's exact index holds one whole chunk (50,000 by default) */
    CHECK(cm_search_mem_estimate(1000, 384, 100000, &p) > (size_t)50000 * 384 * 4);
    p.faiss_exact = 0;
    p.index = "HNSW32";
    CHECK(cm_search_mem_estimate(1000, 384, 10000000, &p) > (size_t)10000000 * 384 * 4);
}

int main(void) {
    test_shim();
    test_exact_vs_bruteforce();
    test_ties();
    test_estimate();
    return check_report();
}
