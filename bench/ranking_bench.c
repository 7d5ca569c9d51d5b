/*
 * ranking_bench.c: times cmteb's retrieval scoring (tasks/retrieval/search.c
 * over FAISS + tasks/retrieval/trec_metrics.c) on vectors made by
 * bench/ranking_bench.py: exact top-1000 cosine search of Q queries against
 * N documents in chunks of 50,000 (self-hits dropped), then ndcg/map/recall/
 * precision/MRR at 1,3,5,10,20,100,1000 averaged and rounded as MTEB does.
 * usage: ranking_bench DIR   (DIR/docs.npy, DIR/queries.npy, DIR/qrels.tsv)
 * Prints one JSON line: seconds per stage and the metric means.
 */
#include "cmteb/records.h"
#include "cmteb/evaluator.h"
#include "cmteb/status.h"
#include "cmteb/util.h"
#include "tasks/retrieval/search.h"
#include "tasks/retrieval/trec_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: ranking_bench DIR\n");
        return 2;
    }
    char *pd = cm_path_join(argv[1], "docs.npy"), *pq = cm_path_join(argv[1], "queries.npy");
    char *pr = cm_path_join(argv[1], "qrels.tsv");
    float *docs = NULL, *q = NULL;
    size_t nd, dim, nq, dq;
    if (cm_npy_read_f32(pd, &docs, &nd, &dim) || cm_npy_read_f32(pq, &q, &nq, &dq) || dq != dim) {
        fprintf(stderr, "ranking_bench: %s\n", cm_last_error());
        return 1;
    }
    char **dids = malloc(nd * sizeof *dids), **qids = malloc(nq * sizeof *qids);
    for (size_t i = 0; i < nd; i++) dids[i] = cm_asprintf("d%zu", i);
    for (size_t i = 0; i < nq; i++) qids[i] = cm_asprintf("q%zu", i);
    /* qrels: rows "q<i>\td<j>\trel" after a header; per query, in file order */
    cm_judged *judged = calloc(nq * 16, sizeof *judged);
    size_t *nj = calloc(nq, sizeof *nj);
    cm_records *r = NULL;
    cJSON *obj;
    char **keep = NULL;
    size_t nkeep = 0, capkeep = 0;
    if (cm_records_open(&r, pr)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
    while (cm_records_next(r, &obj) == 1) {
        const char *qid, *doc;
        double rel;
        cm_rec_string(r, obj, "query-id", &qid);
        cm_rec_string(r, obj, "corpus-id", &doc);
        cm_rec_number(r, obj, "score", &rel);
        size_t qi = (size_t)strtoul(qid + 1, NULL, 10);
        if (nkeep == capkeep) keep = realloc(keep, (capkeep = capkeep ? capkeep * 2 : 1024) * sizeof *keep);
        keep[nkeep] = cm_strdup(doc);
        if (nj[qi] < 16) {
            judged[qi * 16 + nj[qi]].doc = keep[nkeep];
            judged[qi * 16 + nj[qi]++].rel = (int)rel;
        }
        nkeep++;
    }
    cm_records_close(r);

    double t0 = cm_now();
    cm_l2_normalize_rows(q, nq, dim);
    cm_search_params sp = cm_search_default_params();
    /* topk.c; CMTEB_FAISS_EXACT=1: the FAISS IndexFlatIP kernel (cm_search's default), for comparison */
    sp.faiss_exact = getenv("CMTEB_FAISS_EXACT") && !strcmp(getenv("CMTEB_FAISS_EXACT"), "1");
    cm_search *s = NULL;
    if (cm_search_init(&s, q, (const char *const *)qids, nq, dim, &sp)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
    /* documents arrive in batches of 4096 as the evaluator feeds them (normalised per batch) */
    for (size_t i = 0; i < nd; i += 4096) {
        size_t n = nd - i < 4096 ? nd - i : 4096;
        cm_l2_normalize_rows(docs + i * dim, n, dim);
        if (cm_search_add(s, docs + i * dim, (const char *const *)dids + i, n)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
    }
    if (cm_search_finish(s)) { fprintf(stderr, "%s\n", cm_last_error()); return 1; }
    double t1 = cm_now();

    size_t ks[] = {1, 3, 5, 10, 20, 100, 1000}, nk = 7;
    double sums[CM_RANK_NMETRICS * 7] = {0}, vals[CM_RANK_NMETRICS * 7];
    cm_hit *hits = malloc(1000 * sizeof *hits);
    size_t n_eval = 0, n_qrels = 0;
    for (size_t qi = 0; qi < nq; qi++) {
        if (!nj[qi]) continue;
        n_qrels++;
        cm_judged_normalize(judged + qi * 16, &nj[qi]);
        const char *const *ids;
        const float *sc;
        size_t n = cm_search_hits(s, qi, &ids, &sc);
        for (size_t i = 0; i < n; i++) {
            hits[i].doc = ids[i];
            hits[i].score = sc[i];
        }
        cm_trec_eval_query(hits, n, judged + qi * 16, nj[qi], ks, nk, NULL, vals);
        for (size_t i = 0; i < CM_RANK_NMETRICS * nk; i++) sums[i] += vals[i];
        n_eval++;
    }
    printf("{\"n_docs\": %zu, \"n_queries\": %zu, \"dim\": %zu, \"search_s\": %.4f, \"metrics_s\": %.4f", nd, nq, dim,
           t1 - t0, cm_now() - t1);
    for (int m = 0; m < CM_RANK_NMETRICS; m++)
        for (size_t j = 0; j < nk; j++)
            printf(", \"%s%zu\": %.5f", cm_rank_metric_key(m), ks[j],
                   cm_round5(sums[m * nk + j] / (double)(m == CM_RANK_MRR ? n_qrels : n_eval)));
    printf("}\n");
    cm_search_free(s);
    for (size_t i = 0; i < nd; i++) free(dids[i]);
    for (size_t i = 0; i < nq; i++) free(qids[i]);
    for (size_t i = 0; i < nkeep; i++) free(keep[i]);
    free(keep); free(dids); free(qids); free(judged); free(nj); free(hits); free(docs); free(q);
    free(pd); free(pq); free(pr);
    return 0;
}
