/*
 * test_retrieval.c: the retrieval data loader, search + metrics against the
 * Python reference (tests/reference/ref_rank_retrieval.py ->
 * tests/fixtures/ranking/retrieval_ref.json), and the evaluator end to end
 * with the hash model on a tiny BEIR folder and (when $CMTEB_SHARED/data is
 * there) on SciFact.
 */
#include "check.h"
#include "cmteb/embedder.h"
#include "cmteb/encoder.h"
#include "cmteb/evaluator.h"
#include "cmteb/util.h"
#include "datasets/retrieval_data.h"
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/topk.h"
#include "tasks/retrieval/trec_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_strip(void) {
    struct { const char *title, *text, *want; } c[] = {
        {"T", " body ", "T  body"},
        {"", "  x\n", "x"},
        {NULL, "\t\x1c text \r\n", "text"},
        {NULL, "\xc2\xa0nbsp\xe2\x80\x83", "nbsp"},             /* U+00A0 ... U+2003 are Python whitespace */
        {NULL, "\xe2\x80\x8bzwsp\xe2\x80\x8b", "\xe2\x80\x8bzwsp\xe2\x80\x8b"}, /* U+200B is not */
        {"  ", "", ""},
        {"Title", "", "Title"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char *got = cm_corpus_text(c[i].title, c[i].text);
        CHECK(got && !strcmp(got, c[i].want));
        if (got && strcmp(got, c[i].want)) fprintf(stderr, "strip case %zu: got [%s]\n", i, got);
        free(got);
    }
}

static void test_loader(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "beir_tiny");
    cm_retrieval_data *d = NULL;
    CHECK_OK(cm_retrieval_data_load(&d, dir, "test"));
    if (d) {
        CHECK(d->n_queries == 3 && d->n_with_text == 2 && d->n_qrels_rows == 6);
        CHECK(!strcmp(d->queries[0].id, "q1") && !strcmp(d->queries[1].id, "q2") && !strcmp(d->queries[2].id, "q3"));
        CHECK(d->queries[2].text == NULL);
        CHECK(d->queries[1].n_judged == 2);  /* the duplicated (q2, d4) row counts once, the last value */
        if (d->queries[1].n_judged == 2) {
            CHECK(!strcmp(d->queries[1].judged[0].doc, "2") && d->queries[1].judged[0].rel == 1);
            CHECK(!strcmp(d->queries[1].judged[1].doc, "d4") && d->queries[1].judged[1].rel == 2);
        }
        cm_corpus_reader *r = NULL;
        CHECK_OK(cm_corpus_open(&r, d->corpus_path, NULL));
        const char *const *ids, *const *texts;
        size_t n;
        CHECK_OK(cm_corpus_next(r, 3, &ids, &texts, &n));
        CHECK(n == 3);
        if (n == 3) {
            CHECK(!strcmp(ids[0], "d1") && !strcmp(texts[0], "Solar power   Solar panels convert sunlight into electricity."));
            CHECK(!strcmp(ids[1], "2") && !strcmp(texts[1], "Wind turbines generate power from moving air."));
            CHECK(!strcmp(texts[2], "Bees pollinate flowering plants."));
        }
        CHECK_OK(cm_corpus_next(r, 3, &ids, &texts, &n));
        CHECK(n == 2);
        CHECK_OK(cm_corpus_next(r, 3, &ids, &texts, &n));
        CHECK(n == 0 && cm_corpus_count(r) == 5);
        cm_corpus_close(r);
        size_t count = 0;
        CHECK_OK(cm_corpus_count_file(d->corpus_path, &count));
        CHECK(count == 5);
    }
    cm_retrieval_data_free(d);

    /* Errors name the file and what was expected. */
    CHECK(cm_retrieval_data_load(&d, fixtures, "test") == CM_ERR_NOTFOUND);
    CHECK(strstr(cm_last_error(), "qrels") != NULL);
    const char *tmp = check_env("CMTEB_TMP");
    if (*tmp) {
        char *bad = cm_path_join(tmp, "beir_bad");
        char *qd = cm_path_join(bad, "qrels");
        cm_mkdir_p(qd);
        char *f = cm_path_join(qd, "test.tsv");
        const char *q = "query-id\tcorpus-id\tscore\nq1\td1\tyes\n";
        cm_write_file_atomic(f, q, strlen(q));
        free(f);
        f = cm_path_join(bad, "queries.jsonl");
        cm_write_file_atomic(f, "{\"_id\":\"q1\",\"text\":\"x\"}\n", 24);
        free(f);
        f = cm_path_join(bad, "corpus.jsonl");
        cm_write_file_atomic(f, "{\"_id\":\"d1\",\"text\":\"x\"}\n", 24);
        free(f);
        CHECK(cm_retrieval_data_load(&d, bad, "test") == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), "test.tsv:2") && strstr(cm_last_error(), "score"));
        free(qd);
        free(bad);
    }
    free(dir);
}

/* Search + metrics on the reference's vectors; returns 0 if the fixture is missing. */
static void test_reference(const char *fixtures) {
    char *path = cm_path_join(fixtures, "retrieval_ref.json");
    cJSON *fx = check_load_json(path);
    free(path);
    CHECK(fx != NULL);
    if (!fx) return;
    size_t dim = (size_t)cJSON_GetObjectItem(fx, "dim")->valuedouble;
    const cJSON *jk = cJSON_GetObjectItem(fx, "k_values");
    size_t ks[16], nk = 0, top_k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, jk) {
        ks[nk] = (size_t)it->valuedouble;
        if (ks[nk] > top_k) top_k = ks[nk];
        nk++;
    }
    const cJSON *jdid = cJSON_GetObjectItem(fx, "doc_ids"), *jdocs = cJSON_GetObjectItem(fx, "docs");
    const cJSON *jqid = cJSON_GetObjectItem(fx, "query_ids"), *jq = cJSON_GetObjectItem(fx, "queries");
    size_t nd = (size_t)cJSON_GetArraySize(jdid), nq = (size_t)cJSON_GetArraySize(jqid);
    float *docs = malloc(nd * dim * sizeof *docs), *qv = malloc(nq * dim * sizeof *qv);
    const char **dids = malloc(nd * sizeof *dids), **qids = malloc(nq * sizeof *qids);
    size_t i = 0;
    cJSON_ArrayForEach(it, jdid) dids[i++] = it->valuestring;
    i = 0;
    cJSON_ArrayForEach(it, jqid) qids[i++] = it->valuestring;
    i = 0;
    cJSON_ArrayForEach(it, jdocs) {
        const cJSON *x;
        cJSON_ArrayForEach(x, it) docs[i++] = (float)x->valuedouble;
    }
    i = 0;
    cJSON_ArrayForEach(it, jq) {
        const cJSON *x;
        cJSON_ArrayForEach(x, it) qv[i++] = (float)x->valuedouble;
    }
    cm_l2_normalize_rows(docs, nd, dim);
    cm_l2_normalize_rows(qv, nq, dim);

    /* qrels rows -> per-query judged lists */
    const cJSON *rows = cJSON_GetObjectItem(fx, "qrels");
    size_t nr = (size_t)cJSON_GetArraySize(rows);
    cm_judged *jall = malloc(nr * sizeof *jall);
    const char **jq_of = malloc(nr * sizeof *jq_of);
    i = 0;
    cJSON_ArrayForEach(it, rows) {
        jq_of[i] = cJSON_GetArrayItem(it, 0)->valuestring;
        jall[i].doc = cJSON_GetArrayItem(it, 1)->valuestring;
        jall[i].rel = (int)cJSON_GetArrayItem(it, 2)->valuedouble;
        i++;
    }
    size_t n_qrels_q = (size_t)cJSON_GetObjectItem(fx, "n_qrels_queries")->valuedouble;
    const cJSON *exp_hits = cJSON_GetObjectItem(fx, "expected_hits");
    const cJSON *exp_pq = cJSON_GetObjectItem(fx, "expected_per_query");
    const cJSON *exp_means = cJSON_GetObjectItem(fx, "expected_means");

    /* chunk 1: every document is a candidate, so ties follow heapq exactly;
     * larger chunks let FAISS choose among tied candidates inside a chunk. */
    size_t chunks[] = {1, 64, 100000};
    for (size_t ci = 0; ci < 3; ci++) {
        cm_search_params p = cm_search_default_params();
        p.top_k = top_k;
        p.chunk_size = chunks[ci];
        p.query_block = 5;
        cm_search *s = NULL;
        CHECK_OK(cm_search_init(&s, qv, qids, nq, dim, &p));
        if (!s) continue;
        for (size_t o = 0; o < nd; o += 37)
            CHECK_OK(cm_search_add(s, docs + o * dim, dids + o, nd - o < 37 ? nd - o : 37));
        CHECK_OK(cm_search_finish(s));
        double sums[CM_RANK_NMETRICS * 16] = {0};
        size_t n_eval = 0, hit_mismatch = 0, metric_mismatch = 0;
        for (size_t q = 0; q < nq; q++) {
            const char *const *ids;
            const float *sc;
            size_t n = cm_search_hits(s, q, &ids, &sc);
            const cJSON *eh = cJSON_GetObjectItem(exp_hits, qids[q]);
            CHECK(n == (size_t)cJSON_GetArraySize(eh));
            size_t j = 0;
            cJSON_ArrayForEach(it, eh) {
                if (j < n && (strcmp(ids[j], cJSON_GetArrayItem(it, 0)->valuestring) ||
                              fabs(sc[j] - cJSON_GetArrayItem(it, 1)->valuedouble) > 1e-6))
                    hit_mismatch++;
                j++;
            }
            const cJSON *pq = cJSON_GetObjectItem(exp_pq, qids[q]);
            if (!pq) continue;
            cm_judged judged[64];
            size_t nj = 0;
            for (size_t r = 0; r < nr; r++)
                if (!strcmp(jq_of[r], qids[q]) && nj < 64) judged[nj++] = jall[r];
            CHECK_OK(cm_judged_normalize(judged, &nj));
            cm_hit *h = malloc((n ? n : 1) * sizeof *h);
            for (j = 0; j < n; j++) {
                h[j].doc = ids[j];
                h[j].score = sc[j];
            }
            double vals[CM_RANK_NMETRICS * 16];
            CHECK_OK(cm_trec_eval_query(h, n, judged, nj, ks, nk, NULL, vals));
            free(h);
            for (int m = 0; m < CM_RANK_NMETRICS; m++)
                for (j = 0; j < nk; j++) {
                    char key[64];
                    snprintf(key, sizeof key, "%s%zu", cm_rank_metric_key(m), ks[j]);
                    const cJSON *e = cJSON_GetObjectItem(pq, key);
                    if (!e || fabs(e->valuedouble - vals[m * nk + j]) > 1e-9) metric_mismatch++;
                    sums[m * nk + j] += vals[m * nk + j];
                }
            n_eval++;
        }
        size_t mean_mismatch = 0;
        for (int m = 0; m < CM_RANK_NMETRICS; m++)
            for (size_t j = 0; j < nk; j++) {
                char key[64];
                snprintf(key, sizeof key, "%s%zu", cm_rank_metric_key(m), ks[j]);
                double mean = cm_round5(sums[m * nk + j] / (double)(m == CM_RANK_MRR ? n_qrels_q : n_eval));
                if (mean != cJSON_GetObjectItem(exp_means, key)->valuedouble) {
                    mean_mismatch++;
                    fprintf(stderr, "chunk %zu: %s = %.5f, reference %.5f\n", chunks[ci], key, mean,
                            cJSON_GetObjectItem(exp_means, key)->valuedouble);
                }
            }
        printf("reference fixture, chunk %zu: %zu hit, %zu per-query, %zu mean mismatches\n", chunks[ci],
               hit_mismatch, metric_mismatch, mean_mismatch);
        CHECK(hit_mismatch == 0);
        CHECK(metric_mismatch == 0);
        CHECK(mean_mismatch == 0);
        cm_search_free(s);
    }
    free(docs); free(qv); free(dids); free(qids); free(jall); free(jq_of);
    cJSON_Delete(fx);
}

/* Runs the evaluator on folder with the hash model; returns the scores (caller deletes). */
static cJSON *run_eval_chunk(const char *task_json, const char *folder, cJSON **items, const char *index, double chunk) {
    *items = cJSON_CreateObject();
    cm_eval_options opts = cm_eval_default_options();
    opts.retrieval_index = index;
    if (chunk > 0) opts.corpus_chunk_size = (size_t)chunk;
    cJSON *scores = check_run_task(cm_eval_retrieval, task_json, "hash:256", folder, &opts, *items);
    return scores;
}

static cJSON *run_eval(const char *task_json, const char *folder, cJSON **items, const char *index) {
    return run_eval_chunk(task_json, folder, items, index, 0);
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void test_evaluator_tiny(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "beir_tiny");
    cJSON *items = NULL;
    cJSON *s = run_eval("{\"name\":\"Tiny\",\"type\":\"Retrieval\",\"data\":\"x\",\"instruction\":\"Find it\"}", dir,
                        &items, NULL);
    if (s) {
        /* 35 metric keys + main_score + cmteb_index */
        CHECK(cJSON_GetArraySize(s) == 37);
        CHECK(num(s, "main_score") == num(s, "ndcg_at_10"));
        CHECK(!strcmp(cJSON_GetObjectItem(s, "cmteb_index")->valuestring, "Flat"));
        /* q1's only relevant doc d1 shares words with it; q1 must not retrieve the
         * document whose id is "q1"; q3 has no text: MRR is divided by 3 queries. */
        CHECK(num(s, "recall_at_1000") == 1.0);
        CHECK(num(s, "mrr_at_1000") <= 2.0 / 3.0 + 1e-5); /* rounded to 5 decimals */
        const cJSON *ids = cJSON_GetObjectItem(items, "ids"), *vals = cJSON_GetObjectItem(items, "values");
        CHECK(!strcmp(cJSON_GetObjectItem(items, "kind")->valuestring, "mean"));
        CHECK(cJSON_GetArraySize(ids) == 2 && cJSON_GetArraySize(vals) == 2);
        double mean = (cJSON_GetArrayItem(vals, 0)->valuedouble + cJSON_GetArrayItem(vals, 1)->valuedouble) / 2;
        CHECK_NEAR(cm_round5(mean), num(s, "ndcg_at_10"), 1e-12);
        for (int k = 0; k < cJSON_GetArraySize(s); k++) {
            const cJSON *v = cJSON_GetArrayItem(s, k);
            if (cJSON_IsNumber(v)) CHECK(v->valuedouble >= 0 && v->valuedouble <= 1);
        }
    }
    /* The same task through an approximate index says so, and agrees here. */
    cJSON *items2 = NULL;
    cJSON *s2 = run_eval("{\"name\":\"Tiny\",\"type\":\"Retrieval\",\"data\":\"x\"}", dir, &items2, "HNSW16");
    if (s && s2) {
        CHECK(!strcmp(cJSON_GetObjectItem(s2, "cmteb_index")->valuestring, "HNSW16"));
        CHECK(num(s2, "ndcg_at_10") == num(s, "ndcg_at_10"));
    }
    cJSON_Delete(s2);
    cJSON_Delete(items2);
    /* The run-wide chunk size (2 documents per FAISS index here) changes nothing but memory. */
    cJSON *items5 = NULL;
    cJSON *s5 = run_eval_chunk("{\"name\":\"Tiny\",\"type\":\"Retrieval\",\"data\":\"x\",\"instruction\":\"Find it\"}",
                               dir, &items5, NULL, 2);
    if (s && s5)
        for (int k = 0; k < cJSON_GetArraySize(s); k++) {
            const cJSON *v = cJSON_GetArrayItem(s, k);
            if (cJSON_IsNumber(v)) CHECK(num(s5, v->string) == v->valuedouble);
        }
    cJSON_Delete(s5);
    cJSON_Delete(items5);
    /* CQADupstack-style subsets: the same folder twice averages to itself. */
    cJSON *items3 = NULL;
    char *tj = cm_asprintf("{\"name\":\"Multi\",\"type\":\"Retrieval\",\"data\":\"x\",\"instruction\":\"Find it\","
                           "\"settings\":{\"subsets\":[\"%s\",\"beir_tiny\"]}}", dir);
    cJSON *s3 = run_eval(tj, fixtures, &items3, NULL);
    if (s && s3) {
        CHECK(num(s3, "cmteb_subsets") == 2);
        CHECK_NEAR(num(s3, "ndcg_at_10"), num(s, "ndcg_at_10"), 1e-12);
        CHECK(cJSON_GetArraySize(items3) == 0);
    }
    free(tj);
    cJSON_Delete(s3);
    cJSON_Delete(items3);
    /* Catalog-style subsets: dataset "mteb/cqadupstack" with data folder
     * DATA/mteb/cqadupstack (which need not exist) finds DATA/mteb/cqadupstack-tiny. */
    const char *tmp = check_env("CMTEB_TMP");
    if (*tmp && s) {
        char *root = cm_path_join(tmp, "cqa_data");
        const char *files[] = {"corpus.jsonl", "queries.jsonl", "qrels/test.tsv"};
        for (size_t i = 0; i < 3; i++) {
            char *from = cm_path_join(dir, files[i]);
            char *to = cm_asprintf("%s/mteb/cqadupstack-tiny/%s", root, files[i]);
            char *todir = cm_path_dirname(to);
            cm_mkdir_p(todir);
            char *text = NULL;
            size_t len = 0;
            CHECK_OK(cm_read_file(from, &text, &len));
            if (text) CHECK_OK(cm_write_file_atomic(to, text, len));
            free(text); free(from); free(to); free(todir);
        }
        char *folder = cm_asprintf("%s/mteb/cqadupstack", root);
        cJSON *items4 = NULL;
        cJSON *s4 = run_eval("{\"name\":\"CQA\",\"type\":\"Retrieval\",\"dataset\":\"mteb/cqadupstack\","
                             "\"instruction\":\"Find it\",\"settings\":{\"subsets\":[\"mteb/cqadupstack-tiny\"]}}",
                             folder, &items4, NULL);
        if (s4) CHECK_NEAR(num(s4, "ndcg_at_10"), num(s, "ndcg_at_10"), 1e-12);
        cJSON_Delete(s4);
        cJSON_Delete(items4);
        free(folder);
        free(root);
    }
    cJSON_Delete(s);
    cJSON_Delete(items);
    free(dir);
}

/* The evaluator end to end on the reference's vectors (precomputed backend):
 * every rounded metric equals the Python reference of BEIR + pytrec_eval. */
static void test_precomputed(const char *fixtures) {
    char *dir = cm_path_join(fixtures, "retrieval_e2e");
    char *ep = cm_path_join(dir, "expected.json"), *data = cm_path_join(dir, "data");
    char *spec = cm_asprintf("precomputed:%s/model", dir);
    cJSON *exp = check_load_json(ep);
    CHECK(exp != NULL);
    if (exp) {
        cJSON *items = cJSON_CreateObject();
        cJSON *scores = check_run_task(cm_eval_retrieval, "{\"name\":\"E2E\",\"type\":\"Retrieval\",\"data\":\"x\","
                                       "\"settings\":{\"k_values\":[1,3,5,10,20,50]}}", spec, data, NULL, items);
        if (scores) {
            const cJSON *e;
            size_t n = 0, bad = 0;
            cJSON_ArrayForEach(e, cJSON_GetObjectItem(exp, "scores")) {
                const cJSON *v = cJSON_GetObjectItem(scores, e->string);
                if (!cJSON_IsNumber(v) || v->valuedouble != e->valuedouble) {
                    bad++;
                    fprintf(stderr, "e2e %s: %.5f, reference %.5f\n", e->string, v ? v->valuedouble : -1, e->valuedouble);
                }
                n++;
            }
            printf("retrieval e2e (precomputed): %zu metrics, %zu differ; ndcg_at_10 %.5f\n", n, bad,
                   num(scores, "ndcg_at_10"));
            CHECK(n == 30 && bad == 0);
            /* per-query ndcg@10 items match the reference's per-query values */
            const cJSON *ids = cJSON_GetObjectItem(items, "ids"), *vals = cJSON_GetObjectItem(items, "values");
            const cJSON *pq = cJSON_GetObjectItem(exp, "ndcg_at_10_per_query");
            CHECK(cJSON_GetArraySize(ids) == cJSON_GetArraySize(pq));
            for (int i = 0; i < cJSON_GetArraySize(ids); i++) {
                const cJSON *want = cJSON_GetObjectItem(pq, cJSON_GetArrayItem(ids, i)->valuestring);
                CHECK(want && fabs(want->valuedouble - cJSON_GetArrayItem(vals, i)->valuedouble) < 1e-9);
            }
        }
        cJSON_Delete(scores);
        cJSON_Delete(items);
    }
    cJSON_Delete(exp);
    free(dir); free(ep); free(data); free(spec);
}

static void test_scifact(void) {
    const char *shared = check_env("CMTEB_SHARED");
    char *dir = cm_asprintf("%s/data/mteb/scifact", shared);
    if (!*shared || !cm_dir_exists(dir)) {
        printf("SciFact not found under $CMTEB_SHARED/data: skipped that part\n");
        free(dir);
        return;
    }
    cJSON *items = NULL;
    cJSON *s = run_eval("{\"name\":\"SciFact\",\"type\":\"Retrieval\",\"dataset\":\"mteb/scifact\"}", dir, &items, NULL);
    if (s) {
        printf("SciFact with hash:256: ndcg_at_10 %.5f, recall_at_100 %.5f, mrr_at_10 %.5f\n", num(s, "ndcg_at_10"),
               num(s, "recall_at_100"), num(s, "mrr_at_10"));
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(items, "ids")) == 300);
        /* A lexical baseline is far from random (random would be ~0.001) on SciFact. */
        CHECK(num(s, "ndcg_at_10") > 0.2 && num(s, "ndcg_at_10") < 0.9);
    }
    cJSON_Delete(s);
    cJSON_Delete(items);
    free(dir);
}

/* The budgeted chunk is the largest whose estimate fits. FAISS's exact
 * index grows with every document of the chunk: exact at the boundary, one
 * less a byte below it, the whole corpus when all fits, 0 when nothing does.
 * topk.c (the default) packs documents 16 to a panel and scores at most
 * 8,192 at a time: a panel less a byte below the boundary, a whole panel for
 * the budget of one document, and past 8,192 a larger chunk costs nothing
 * more (the whole corpus). */
static void test_chunk_budget(void) {
    cm_search_params p = cm_search_default_params();
    size_t nq = 300, dim = 384, n_docs = 100000;
    p.faiss_exact = 1;
    p.chunk_size = 20000;
    size_t at = cm_search_mem_estimate(nq, dim, n_docs, &p);
    CHECK(cm_search_chunk_for_budget(at, nq, dim, n_docs, &p) == 20000);
    CHECK(cm_search_chunk_for_budget(at - 1, nq, dim, n_docs, &p) == 19999);
    p.chunk_size = n_docs;
    CHECK(cm_search_chunk_for_budget((size_t)1 << 40, nq, dim, n_docs, &p) == n_docs);
    p.chunk_size = 1;
    size_t one = cm_search_mem_estimate(nq, dim, n_docs, &p);
    CHECK(cm_search_chunk_for_budget(one, nq, dim, n_docs, &p) == 1);
    CHECK(cm_search_chunk_for_budget(one - 1, nq, dim, n_docs, &p) == 0);

    p.faiss_exact = 0;
    p.chunk_size = 4000;
    at = cm_search_mem_estimate(nq, dim, n_docs, &p);
    CHECK(cm_search_chunk_for_budget(at, nq, dim, n_docs, &p) == 4000);
    CHECK(cm_search_chunk_for_budget(at - 1, nq, dim, n_docs, &p) == 4000 - CM_TOPK_PANEL);
    p.chunk_size = 8192;
    at = cm_search_mem_estimate(nq, dim, n_docs, &p);
    CHECK(cm_search_chunk_for_budget(at, nq, dim, n_docs, &p) == n_docs);
    CHECK(cm_search_chunk_for_budget(at - 1, nq, dim, n_docs, &p) == 8192 - CM_TOPK_PANEL);
    p.chunk_size = 1;
    one = cm_search_mem_estimate(nq, dim, n_docs, &p);
    CHECK(cm_search_chunk_for_budget(one, nq, dim, n_docs, &p) == CM_TOPK_PANEL);
    CHECK(cm_search_chunk_for_budget(one - 1, nq, dim, n_docs, &p) == 0);
}

/* cm_corpus_count_file (it jumps from a line's first character to its end) against the byte-by-byte rule
 * written here: a line counts when it holds a character other than ' ', '\t', '\r'. Lines that are blank,
 * blanks only, CRLF-ended, longer than the reader's 64 KB buffer, or cut by it; with and without a last '\n'. */
static void test_count_file(void) {
    static const char *const pieces[] = {"{\"_id\": \"a\", \"text\": \"x\"}\n", "\n", "   \n", "\t \r\n", "  {\"_id\": 1}\r\n",
                                         " \r", "x\n", "\r\n"};
    const size_t np = sizeof pieces / sizeof *pieces;
    uint64_t r = 88172645463325252ull;
    for (int round = 0; round < 6; round++) {
        cm_str body = {0};
        for (int i = 0; i < 20000; i++) {
            r ^= r << 13; r ^= r >> 7; r ^= r << 17;
            if (r % 997 == 0) {   /* a line longer than the buffer, starting with blanks */
                CHECK_OK(cm_str_printf(&body, "  "));
                for (int j = 0; j < 9000; j++) cm_str_append(&body, "long line ");
                CHECK_OK(cm_str_printf(&body, "\n"));
            } else {
                CHECK_OK(cm_str_printf(&body, "%s", pieces[r % np]));
            }
        }
        if (round % 2) CHECK_OK(cm_str_printf(&body, round % 4 == 1 ? "{\"last\": 1}" : "  \t"));   /* no last '\n' */
        size_t want = 0;
        int content = 0;
        for (size_t i = 0; i < body.len; i++) {
            char c = body.s[i];
            if (c == '\n') {
                want += (size_t)content;
                content = 0;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                content = 1;
            }
        }
        want += (size_t)content;
        char path[] = "/tmp/cmteb_count_XXXXXX.jsonl";
        int fd = mkstemps(path, 6);
        CHECK(fd >= 0);
        if (fd < 0) return;
        CHECK(write(fd, body.s, body.len) == (ssize_t)body.len);
        close(fd);
        size_t got = 0;
        CHECK_OK(cm_corpus_count_file(path, &got));
        if (got != want) fprintf(stderr, "count_file round %d: %zu, expected %zu\n", round, got, want);
        CHECK(got == want && want > 5000);
        unlink(path);
        cm_str_free(&body);
    }
}

/* The corpus reader's read-ahead (a thread parses the next batch): a corpus of 10,007 documents read in batches
 * of 4,096 (the retrieval loop's), of sizes that change from call to call, and of one more than the file; every
 * id and text in order against a plain pass; the end reported at every call after it; a bad line deep in the file
 * reported with its line number at the call whose batch reaches it (after the batches before it, whole), and at
 * every call after; closing with a batch in flight. The same without read-ahead (what --threads 1 uses). */
static void test_corpus_readahead(int read_ahead) {
    cm_corpus_params cp = cm_corpus_default_params();
    cp.read_ahead = read_ahead;
    char path[] = "/tmp/cmteb_corpus_XXXXXX.jsonl", bad[] = "/tmp/cmteb_corpus_bad_XXXXXX.jsonl";
    int fd = mkstemps(path, 6), fb = mkstemps(bad, 6);
    CHECK(fd >= 0 && fb >= 0);
    if (fd < 0 || fb < 0) return;
    const size_t N = 10007, BAD = 9000;   /* BAD: the 1-based line of the bad record */
    FILE *f = fdopen(fd, "w"), *g = fdopen(fb, "w");
    for (size_t i = 0; i < N; i++) {
        fprintf(f, "{\"_id\": \"d%zu\", \"title\": \"t%zu\", \"text\": \" body %zu \"}\n", i, i % 7, i * 31);
        if (i + 1 == BAD) fprintf(g, "{\"_id\": \"d%zu\", \"text\": \"unterminated}\n", i);
        else fprintf(g, "{\"_id\": \"d%zu\", \"text\": \"b\"}\n", i);
    }
    fclose(f);
    fclose(g);
    const size_t plans[][4] = {{4096, 4096, 4096, 4096}, {1000, 3, 4096, 1}, {N + 1, N + 1, N + 1, N + 1}};
    for (size_t pi = 0; pi < 3; pi++) {
        cm_corpus_reader *r = NULL;
        CHECK_OK(cm_corpus_open(&r, path, &cp));
        if (!r) continue;
        size_t seen = 0, bad_rows = 0, calls = 0, n = 0;
        do {
            const char *const *ids, *const *texts;
            size_t max = plans[pi][calls++ % 4];
            CHECK_OK(cm_corpus_next(r, max, &ids, &texts, &n));
            CHECK(n <= max);
            for (size_t i = 0; i < n; i++, seen++) {
                char want_id[32], want_text[64];
                snprintf(want_id, sizeof want_id, "d%zu", seen);
                snprintf(want_text, sizeof want_text, "t%zu  body %zu", seen % 7, seen * 31);
                bad_rows += strcmp(ids[i], want_id) != 0 || strcmp(texts[i], want_text) != 0;
            }
        } while (n > 0);
        CHECK(seen == N && bad_rows == 0 && cm_corpus_count(r) == N);
        const char *const *ids, *const *texts;
        CHECK_OK(cm_corpus_next(r, 4096, &ids, &texts, &n));   /* the end, again */
        CHECK(n == 0);
        cm_corpus_close(r);
    }
    cm_corpus_reader *r = NULL;
    CHECK_OK(cm_corpus_open(&r, bad, &cp));
    size_t n = 0, total = 0;
    const char *const *ids, *const *texts;
    for (int call = 0; call < 2; call++) {
        CHECK_OK(cm_corpus_next(r, 4096, &ids, &texts, &n));
        CHECK(n == 4096);
        total += n;
    }
    char line[32];
    snprintf(line, sizeof line, ":%zu:", BAD);
    for (int again = 0; again < 2; again++) {
        CHECK(cm_corpus_next(r, 4096, &ids, &texts, &n) == CM_ERR_FORMAT);
        CHECK(strstr(cm_last_error(), line) && strstr(cm_last_error(), bad));
    }
    CHECK(total == 8192);
    cm_corpus_close(r);
    CHECK_OK(cm_corpus_open(&r, path, &cp));   /* closed while the thread fills the next batch */
    CHECK_OK(cm_corpus_next(r, 100, &ids, &texts, &n));
    CHECK(n == 100);
    cm_corpus_close(r);
    unlink(path);
    unlink(bad);
}

int main(void) {
    test_corpus_readahead(1);
    test_corpus_readahead(0);
    test_count_file();
    test_chunk_budget();
    char *fixtures = cm_asprintf("%s/tests/fixtures/ranking", check_env("CMTEB_SRC"));
    test_strip();
    test_loader(fixtures);
    test_reference(fixtures);
    test_evaluator_tiny(fixtures);
    test_precomputed(fixtures);
    test_scifact();
    free(fixtures);
    return check_report();
}
