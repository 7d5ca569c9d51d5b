/*
 * test_topk.c: the exact top-k kernel (tasks/retrieval/topk.c, through
 * cm_search's exact mode) against
 *   - a brute-force reference written here: every (score, id) pair sorted by
 *     score descending then id descending (strcmp), self-hits dropped, cut at
 *     k; on small-integer vectors, whose inner products are exact in float
 *     whatever the summation order, so the scores tie a lot and the tie order
 *     is what is tested; ids whose strcmp order is not their numeric order;
 *     k below and above the number of documents; ids shared by two
 *     documents and by two queries (skip_self drops every document with the
 *     query's id); chunk sizes 7, 333, the
 *     panel size +- 1 and everything (the same scores, bit for bit, whatever
 *     the chunking: test_faiss checks that too); documents added in uneven pieces;
 *   - the portable kernel (CMTEB_TOPK_PORTABLE=1) and a chunking of 37
 *     documents against the dispatched kernel in one chunk: the same hits
 *     and the same score bits; so do 1, 5 and 7 queries searched alone;
 *   - the earlier kernel (FAISS IndexFlatIP per chunk, faiss_exact = 1) on
 *     random Gaussian unit vectors: 1,000 hits over 9,000 documents in 3
 *     chunks; scores within 1e-6 (FAISS's sgemm and this kernel round a few products
 *     an ulp apart), ids the same except where two hits are that close.
 */
#include "check.h"
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/topk.h"

#include <stdint.h>
#include <string.h>

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static double urand(void) {
    rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
    return (double)((rs * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}
static double nrand(void) {
    double u = urand() + 1e-12, v = urand();
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

typedef struct { double score; const char *id; } pair;
static int cmp_pair(const void *a, const void *b) {
    const pair *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return strcmp(y->id, x->id);
}

static cm_search *run(const float *Q, const char *const *qids, size_t nq, const float *D, const char *const *dids,
                      size_t nd, size_t dim, size_t k, size_t chunk, int faiss, int skip_self) {
    cm_search_params p = cm_search_default_params();
    p.top_k = k;
    p.chunk_size = chunk;
    p.faiss_exact = faiss;
    p.skip_self = skip_self;
    cm_search *s = NULL;
    CHECK_OK(cm_search_init(&s, Q, qids, nq, dim, &p));
    for (size_t o = 0, step = 1; o < nd; o += step, step = step * 3 % 1000 + 1)
        CHECK_OK(cm_search_add(s, D + o * dim, dids + o, nd - o < step ? nd - o : step));
    CHECK_OK(cm_search_finish(s));
    return s;
}

static void brute_force(void) {
    const size_t dim = 6, nq = 70, nd = 2100;
    float *Q = malloc(nq * dim * sizeof *Q), *D = malloc(nd * dim * sizeof *D);
    char **qids = malloc(nq * sizeof *qids), **dids = malloc(nd * sizeof *dids);
    for (size_t i = 0; i < nq * dim; i++) Q[i] = (float)((int)(urand() * 5) - 2);
    for (size_t i = 0; i < nd * dim; i++) D[i] = (float)((int)(urand() * 5) - 2);
    for (size_t i = 0; i < nd; i++) {
        dids[i] = malloc(16);
        snprintf(dids[i], 16, "d%zu", (i * 7919) % nd);   /* strcmp order != numeric order != position */
        if (i % 97 == 0 && i > 0) snprintf(dids[i], 16, "%s", dids[i - 1]);   /* an id twice in the corpus */
    }
    for (size_t q = 0; q < nq; q++) {
        qids[q] = malloc(16);
        snprintf(qids[q], 16, "d%zu", (q * 31) % nd);     /* some queries share an id with a document */
        if (q % 10 == 9) snprintf(qids[q], 16, "%s", qids[q - 1]);   /* and some with another query */
    }
    pair *all = malloc(nd * sizeof *all);
    size_t ks[] = {1, 10, 1000, 2099, 2101, 5000};
    size_t chunks[] = {7, 333, CM_TOPK_PANEL - 1, CM_TOPK_PANEL + 1, 100000};
    for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
        for (size_t ci = 0; ci < sizeof chunks / sizeof *chunks; ci++) {
            if (ks[ki] != 10 && chunks[ci] < 8) continue;   /* a flush per 7 documents: slow, adds nothing */
            int skip_self = ci % 2 == 0;
            cm_search *s = run(Q, (const char *const *)qids, nq, D, (const char *const *)dids, nd, dim, ks[ki],
                               chunks[ci], 0, skip_self);
            size_t bad = 0, ties = 0;
            for (size_t q = 0; q < nq; q++) {
                size_t m = 0;
                for (size_t j = 0; j < nd; j++) {
                    if (skip_self && !strcmp(dids[j], qids[q])) continue;
                    double v = 0;
                    for (size_t f = 0; f < dim; f++) v += (double)Q[q * dim + f] * D[j * dim + f];
                    all[m].score = v;
                    all[m].id = dids[j];
                    m++;
                }
                qsort(all, m, sizeof *all, cmp_pair);
                size_t want = m < ks[ki] ? m : ks[ki];
                const char *const *ids;
                const float *sc;
                size_t n = cm_search_hits(s, q, &ids, &sc);
                if (n != want) bad++;
                for (size_t j = 0; j < n && j < want; j++) {
                    if (strcmp(ids[j], all[j].id) || (double)sc[j] != all[j].score) bad++;
                    if (j + 1 < want && all[j].score == all[j + 1].score) ties++;
                }
            }
            if (bad)
                fprintf(stderr, "brute force k=%zu chunk=%zu skip_self=%d: %zu mismatches\n", ks[ki], chunks[ci],
                        skip_self, bad);
            CHECK(bad == 0);
            if (ks[ki] >= 10) CHECK(ties > 0);
            cm_search_free(s);
        }
    printf("brute force: integer vectors, %zu queries x %zu documents, k up to 5000, chunks 1..all: checked\n", nq,
           nd);
    for (size_t i = 0; i < nd; i++) free(dids[i]);
    for (size_t q = 0; q < nq; q++) free(qids[q]);
    free(all); free(Q); free(D); free(qids); free(dids);
}

static void against_faiss(void) {
    const size_t dim = 96, nq = 150, nd = 9000, k = 1000;
    float *Q = malloc(nq * dim * sizeof *Q), *D = malloc(nd * dim * sizeof *D);
    char **qids = malloc(nq * sizeof *qids), **dids = malloc(nd * sizeof *dids);
    for (size_t r = 0; r < nq + nd; r++) {
        float *v = r < nq ? Q + r * dim : D + (r - nq) * dim;
        double s = 0;
        for (size_t f = 0; f < dim; f++) { v[f] = (float)nrand(); s += (double)v[f] * v[f]; }
        for (size_t f = 0; f < dim; f++) v[f] = (float)(v[f] / sqrt(s));
    }
    for (size_t i = 0; i < nd; i++) { dids[i] = malloc(16); snprintf(dids[i], 16, "doc%zu", i); }
    for (size_t q = 0; q < nq; q++) { qids[q] = malloc(16); snprintf(qids[q], 16, "doc%zu", q * 50); }
    cm_search *a = run(Q, (const char *const *)qids, nq, D, (const char *const *)dids, nd, dim, k, 3000, 0, 1);
    cm_search *b = run(Q, (const char *const *)qids, nq, D, (const char *const *)dids, nd, dim, k, 3000, 1, 1);
    /* FAISS's sgemm and this kernel round some products differently (by an ulp or two), so two hits whose scores are
     * that close may swap places or, at the k-th place, swap in and out: allowed only for such near-ties. */
    size_t id_diff = 0, score_diff = 0, n_total = 0, unexplained = 0;
    double max_abs = 0;
    for (size_t q = 0; q < nq; q++) {
        const char *const *ia, *const *ib;
        const float *sa, *sb;
        size_t na = cm_search_hits(a, q, &ia, &sa), nb = cm_search_hits(b, q, &ib, &sb);
        CHECK(na == k && nb == k);
        for (size_t j = 0; j < na && j < nb; j++) {
            n_total++;
            score_diff += sa[j] != sb[j];
            if (fabs((double)sa[j] - sb[j]) > max_abs) max_abs = fabs((double)sa[j] - sb[j]);
            if (!strcmp(ia[j], ib[j])) continue;
            id_diff++;
            /* where is ia[j] in b's list? */
            size_t at = nb;
            for (size_t t = 0; t < nb; t++)
                if (!strcmp(ib[t], ia[j])) { at = t; break; }
            double other = at < nb ? (double)sb[at] : (double)sb[nb - 1];
            if (fabs((double)sa[j] - other) > 1e-6) unexplained++;
        }
    }
    printf("against FAISS IndexFlatIP: %zu hits, %zu places with another id (all near-ties: %s), %zu scores differ "
           "(max %.3g)\n", n_total, id_diff, unexplained ? "NO" : "yes", score_diff, max_abs);
    CHECK(unexplained == 0);
    CHECK(id_diff * 1000 < n_total);
    CHECK(max_abs <= 1e-6);
    /* The portable kernel (CMTEB_TOPK_PORTABLE) against the one the CPU dispatches to: the same fused
     * multiply-add chains, so the same scores bit for bit, whatever the chunking (one chunk of all, 37). */
    setenv("CMTEB_TOPK_PORTABLE", "1", 1);
    cm_search *c = run(Q, (const char *const *)qids, nq, D, (const char *const *)dids, nd, dim, k, nd, 0, 1);
    unsetenv("CMTEB_TOPK_PORTABLE");
    cm_search *e = run(Q, (const char *const *)qids, nq, D, (const char *const *)dids, nd, dim, k, 37, 0, 1);
    size_t differ = 0;
    for (size_t q = 0; q < nq; q++) {
        const char *const *ia, *const *ic, *const *ie;
        const float *sa, *sc, *se;
        size_t na = cm_search_hits(a, q, &ia, &sa), nc = cm_search_hits(c, q, &ic, &sc),
               ne = cm_search_hits(e, q, &ie, &se);
        if (na != nc || na != ne) { differ++; continue; }
        for (size_t j = 0; j < na; j++)
            differ += strcmp(ia[j], ic[j]) || strcmp(ia[j], ie[j]) || memcmp(&sa[j], &sc[j], sizeof(float)) ||
                      memcmp(&sa[j], &se[j], sizeof(float));
    }
    printf("portable kernel and chunks of 37: %zu of %zu hits differ from the dispatched kernel's\n", differ,
           nq * k);
    CHECK(differ == 0);
    /* A query's hits do not depend on the other queries (blocks of 6, a short last block, the thread split):
     * 1, 5 and 7 queries from the middle of the set searched alone give the full search's hits and bits. */
    const size_t subs[] = {1, 5, 7};
    size_t sub_differ = 0;
    for (size_t si = 0; si < 3; si++) {
        const size_t q0 = 41, m = subs[si];
        cm_search *f = run(Q + q0 * dim, (const char *const *)qids + q0, m, D, (const char *const *)dids, nd, dim, k,
                           3000, 0, 1);
        for (size_t q = 0; q < m; q++) {
            const char *const *ia, *const *ifw;
            const float *sa, *sf;
            size_t na = cm_search_hits(a, q0 + q, &ia, &sa), nf = cm_search_hits(f, q, &ifw, &sf);
            if (na != nf) { sub_differ++; continue; }
            for (size_t j = 0; j < na; j++)
                sub_differ += strcmp(ia[j], ifw[j]) || memcmp(&sa[j], &sf[j], sizeof(float));
        }
        cm_search_free(f);
    }
    printf("1, 5 and 7 queries searched alone: %zu hits differ from the full search's\n", sub_differ);
    CHECK(sub_differ == 0);
    cm_search_free(c);
    cm_search_free(e);
    cm_search_free(a);
    cm_search_free(b);
    for (size_t i = 0; i < nd; i++) free(dids[i]);
    for (size_t q = 0; q < nq; q++) free(qids[q]);
    free(Q); free(D); free(qids); free(dids);
}

int main(void) {
    brute_force();
    against_faiss();
    /* no queries, no documents */
    {
        float v[4] = {1, 0, 0, 0};
        const char *id = "x";
        cm_search *s = run(v, &id, 0, v, &id, 1, 4, 10, 100, 0, 1);
        cm_search_free(s);
        s = run(v, &id, 1, v, &id, 0, 4, 10, 100, 0, 0);
        const char *const *ids;
        const float *sc;
        CHECK(cm_search_hits(s, 0, &ids, &sc) == 0);
        cm_search_free(s);
    }
    return check_report();
}
