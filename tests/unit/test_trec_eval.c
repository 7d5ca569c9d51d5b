/*
 * test_trec_eval.c: cmteb's ranking metrics (tasks/retrieval/trec_metrics.c)
 * against trec_eval's own expected outputs in $CMTEB_SHARED/data/trec_eval
 * (qrels, runs and the stdout trec_eval printed for them, 4 decimals).
 *
 * Every ndcg_cut_K, map_cut_K, P_K and recall_K line of the expected output,
 * per query and the "all" average, must equal our value printed with %.4f.
 * Cases (see that folder's README): out.test.aq (defaults), out.test.aqc
 * (-c: average over every qrels query, truncated run), out.test.aqcM (-c
 * -M100), out.test.aql (-l2: graded qrels, level 2 is relevant) and
 * out.test.meas_params (non-default cutoffs such as ndcg_cut.23, P.7).
 */
#include "check.h"
#include "tasks/retrieval/trec_metrics.h"
#include "cmteb/util.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *qid;
    cm_judged *judged;
    size_t n_judged, cap_judged;
    cm_hit *hits;
    size_t n_hits, cap_hits;
    int in_qrels, in_run;
} tq;

typedef struct {
    tq *q;
    size_t n, cap;
    char **strings; /* every docno we allocated */
    size_t n_str, cap_str;
} tset;

static char *keep(tset *s, const char *str) {
    if (s->n_str == s->cap_str) {
        s->cap_str = s->cap_str ? s->cap_str * 2 : 1024;
        s->strings = realloc(s->strings, s->cap_str * sizeof *s->strings);
    }
    return s->strings[s->n_str++] = strdup(str);
}

static tq *get_query(tset *s, const char *qid) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->q[i].qid, qid)) return &s->q[i];
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->q = realloc(s->q, s->cap * sizeof *s->q);
    }
    tq *q = &s->q[s->n++];
    memset(q, 0, sizeof *q);
    q->qid = keep(s, qid);
    return q;
}

static int load_qrels(tset *s, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048], qid[256], zero[64], doc[256];
    int rel;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%255s %63s %255s %d", qid, zero, doc, &rel) != 4) continue;
        tq *q = get_query(s, qid);
        q->in_qrels = 1;
        if (q->n_judged == q->cap_judged) {
            q->cap_judged = q->cap_judged ? q->cap_judged * 2 : 64;
            q->judged = realloc(q->judged, q->cap_judged * sizeof *q->judged);
        }
        q->judged[q->n_judged].doc = keep(s, doc);
        q->judged[q->n_judged++].rel = rel;
    }
    fclose(f);
    return 0;
}

static int load_run(tset *s, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048], qid[256], q0[64], doc[256], tag[256];
    long rank;
    double score;
    while (fgets(line, sizeof line, f)) { /* trailing words after the tag are allowed, as in trec_eval */
        if (sscanf(line, "%255s %63s %255s %ld %lf %255s", qid, q0, doc, &rank, &score, tag) != 6) continue;
        tq *q = get_query(s, qid);
        q->in_run = 1;
        if (q->n_hits == q->cap_hits) {
            q->cap_hits = q->cap_hits ? q->cap_hits * 2 : 64;
            q->hits = realloc(q->hits, q->cap_hits * sizeof *q->hits);
        }
        q->hits[q->n_hits].doc = keep(s, doc);
        q->hits[q->n_hits++].score = (float)score; /* pytrec_eval's trec_eval keeps float32 */
    }
    fclose(f);
    return 0;
}

static void free_set(tset *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->q[i].judged);
        free(s->q[i].hits);
    }
    for (size_t i = 0; i < s->n_str; i++) free(s->strings[i]);
    free(s->q);
    free(s->strings);
}

/* Parses "ndcg_cut_10" etc.: metric index and cutoff; 0 if not one of ours. */
static int parse_measure(const char *name, int *metric, size_t *k) {
    static const struct { const char *prefix; int metric; } m[] = {
        {"ndcg_cut_", CM_RANK_NDCG}, {"map_cut_", CM_RANK_MAP}, {"P_", CM_RANK_P}, {"recall_", CM_RANK_RECALL},
    };
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++) {
        size_t l = strlen(m[i].prefix);
        if (strncmp(name, m[i].prefix, l) != 0) continue;
        const char *d = name + l;
        if (!*d) return 0;
        for (const char *c = d; *c; c++)
            if (!isdigit((unsigned char)*c)) return 0;
        *metric = m[i].metric;
        *k = (size_t)strtoul(d, NULL, 10);
        return 1;
    }
    return 0;
}

typedef struct {
    const char *out, *qrels, *run;
    int complete;       /* -c */
    size_t max_ret;     /* -M */
    int level;          /* -l */
} tcase;

static void run_case(const char *dir, const tcase *c) {
    char p_out[1200], p_qrels[1200], p_run[1200];
    snprintf(p_out, sizeof p_out, "%s/%s", dir, c->out);
    snprintf(p_qrels, sizeof p_qrels, "%s/%s", dir, c->qrels);
    snprintf(p_run, sizeof p_run, "%s/%s", dir, c->run);
    tset s = {0};
    CHECK(load_qrels(&s, p_qrels) == 0);
    CHECK(load_run(&s, p_run) == 0);

    /* Cutoffs: every K the expected output mentions. */
    size_t ks[64], nk = 0;
    FILE *f = fopen(p_out, "r");
    CHECK(f != NULL);
    if (!f) { free_set(&s); return; }
    char name[128], qid[128], val[64];
    while (fscanf(f, "%127s %127s %63s", name, qid, val) == 3) {
        int m;
        size_t k;
        if (!parse_measure(name, &m, &k)) continue;
        int seen = 0;
        for (size_t j = 0; j < nk; j++) seen |= ks[j] == k;
        if (!seen && nk < 64) ks[nk++] = k;
    }

    /* Our per-query values, and the averages trec_eval prints as "all". */
    cm_trec_params tp = cm_trec_default_params();
    tp.relevance_level = c->level;
    tp.max_ret = c->max_ret ? c->max_ret : SIZE_MAX;
    double *vals = calloc(s.n * CM_RANK_NMETRICS * nk, sizeof *vals);
    double *sum = calloc(CM_RANK_NMETRICS * nk, sizeof *sum);
    size_t n_eval = 0, n_qrels = 0;
    for (size_t i = 0; i < s.n; i++) {
        tq *q = &s.q[i];
        n_qrels += q->in_qrels;
        if (!q->in_qrels || !q->in_run) continue;
        CHECK_OK(cm_judged_normalize(q->judged, &q->n_judged));
        CHECK_OK(cm_trec_eval_query(q->hits, q->n_hits, q->judged, q->n_judged, ks, nk, &tp,
                                    vals + i * CM_RANK_NMETRICS * nk));
        for (size_t j = 0; j < CM_RANK_NMETRICS * nk; j++) sum[j] += vals[i * CM_RANK_NMETRICS * nk + j];
        n_eval++;
    }
    size_t denom = c->complete ? n_qrels : n_eval;

    rewind(f);
    int compared = 0, mismatched = 0;
    while (fscanf(f, "%127s %127s %63s", name, qid, val) == 3) {
        int m;
        size_t k, j;
        if (!parse_measure(name, &m, &k)) continue;
        for (j = 0; j < nk && ks[j] != k; j++) {}
        double ours;
        if (!strcmp(qid, "all")) {
            ours = sum[m * nk + j] / (double)denom;
        } else {
            size_t i;
            for (i = 0; i < s.n && strcmp(s.q[i].qid, qid); i++) {}
            CHECK(i < s.n);
            if (i >= s.n) continue;
            ours = vals[i * CM_RANK_NMETRICS * nk + m * nk + j];
        }
        char buf[64];
        snprintf(buf, sizeof buf, "%.4f", ours);
        compared++;
        if (strcmp(buf, val) != 0) {
            mismatched++;
            fprintf(stderr, "%s: %s %s: ours %s (%.8f), trec_eval %s\n", c->out, name, qid, buf, ours, val);
        }
    }
    fclose(f);
    printf("%s: %d values compared, %d mismatched\n", c->out, compared, mismatched);
    CHECK(compared >= 30); /* 144 for the all_trec outputs, 32 for meas_params */
    CHECK(mismatched == 0);
    free(vals);
    free(sum);
    free_set(&s);
}

/* Hand-made cases for what the files do not exercise. */
static void test_edges(void) {
    size_t ks[] = {1, 3, 5};
    double out[CM_RANK_NMETRICS * 3];
    /* Ties: equal scores rank the larger doc id first. d2 (rel 2) ties with d1 (rel 0). */
    cm_judged j[] = {{"d1", 0}, {"d2", 2}, {"d3", 1}, {"d2", 1}}; /* the later d2 row (rel 1) wins */
    size_t nj = 4;
    CHECK_OK(cm_judged_normalize(j, &nj));
    CHECK(nj == 3);
    cm_hit h[] = {{"d1", 0.5f}, {"d2", 0.5f}, {"d9", 0.9f}};
    CHECK_OK(cm_trec_eval_query(h, 3, j, nj, ks, 3, NULL, out));
    CHECK(!strcmp(h[0].doc, "d9") && !strcmp(h[1].doc, "d2") && !strcmp(h[2].doc, "d1"));
    /* ranks: d9 (0), d2 (1), d1 (0); ideal: 1, 1 (d2 and d3 both rel 1) */
    double idcg3 = 1.0 + 1.0 / log2(3.0);
    CHECK_NEAR(out[CM_RANK_NDCG * 3 + 0], 0.0, 1e-15);
    CHECK_NEAR(out[CM_RANK_NDCG * 3 + 1], (1.0 / log2(3.0)) / idcg3, 1e-15);
    CHECK_NEAR(out[CM_RANK_MAP * 3 + 2], (1.0 / 2.0) / 2.0, 1e-15);
    CHECK_NEAR(out[CM_RANK_RECALL * 3 + 2], 0.5, 1e-15);
    CHECK_NEAR(out[CM_RANK_P * 3 + 2], 1.0 / 5.0, 1e-15); /* k fixed at 5 with 3 hits */
    CHECK_NEAR(out[CM_RANK_MRR * 3 + 0], 0.0, 1e-15);
    CHECK_NEAR(out[CM_RANK_MRR * 3 + 1], 0.5, 1e-15);
    /* Only zero judgments: everything 0. */
    cm_judged z[] = {{"d1", 0}};
    cm_hit h2[] = {{"d1", 1.0f}};
    CHECK_OK(cm_trec_eval_query(h2, 1, z, 1, ks, 3, NULL, out));
    for (size_t i = 0; i < CM_RANK_NMETRICS * 3; i++) CHECK(out[i] == 0.0);
    /* A duplicate hit is an error naming the document. */
    cm_hit h3[] = {{"d1", 1.0f}, {"d1", 0.5f}};
    CHECK(cm_trec_eval_query(h3, 2, z, 1, ks, 3, NULL, out) == CM_ERR_FORMAT);
    CHECK(strstr(cm_last_error(), "d1") != NULL);
    /* Scores equal only after the float32 cast tie, and then the id decides. */
    cm_hit h4[] = {{"a", (float)0.10000000001}, {"b", (float)0.1}};
    cm_hits_sort(h4, 2);
    CHECK(!strcmp(h4[0].doc, "b"));
}

int main(void) {
    test_edges();
    const char *shared = check_env("CMTEB_SHARED");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/data/trec_eval/test", shared);
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/qrels.test", dir);
    if (!*shared || !cm_file_exists(probe)) {
        printf("trec_eval files not found under $CMTEB_SHARED/data/trec_eval: only the hand-made cases ran\n");
        int rc = check_report();
        if (rc) return rc;
        SKIP("$CMTEB_SHARED/data/trec_eval is absent");
    }
    const tcase cases[] = {
        {"out.test.aq", "qrels.test", "results.test", 0, 0, 1},
        {"out.test.aqc", "qrels.test", "results.trunc", 1, 0, 1},
        {"out.test.aqcM", "qrels.test", "results.trunc", 1, 100, 1},
        {"out.test.aql", "qrels.rel_level", "results.test", 0, 0, 2},
        {"out.test.meas_params", "qrels.test", "results.test", 0, 0, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(dir, &cases[i]);
    return check_report();
}
