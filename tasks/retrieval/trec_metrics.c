/* trec_metrics.c: per-query ndcg/map/recall/P at cutoffs with trec_eval semantics and BEIR MRR (see trec_metrics.h). */
#include "tasks/retrieval/trec_metrics.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *cm_rank_metric_key(int metric) {
    static const char *const keys[CM_RANK_NMETRICS] = {"ndcg_at_", "map_at_", "recall_at_", "precision_at_", "mrr_at_"};
    return metric >= 0 && metric < CM_RANK_NMETRICS ? keys[metric] : "";
}

cm_trec_params cm_trec_default_params(void) {
    cm_trec_params p = {1, SIZE_MAX};
    return p;
}

static int cmp_hit(const void *a, const void *b) {
    const cm_hit *x = a, *y = b;
    if (x->score > y->score) return -1;
    if (x->score < y->score) return 1;
    return strcmp(y->doc, x->doc);
}

/* Hits from cm_search arrive in this order already: one pass finds that, and the sort is skipped (a stable
 * sort would leave a sorted array as it is). */
void cm_hits_sort(cm_hit *hits, size_t n) {
    size_t i = 1;
    while (i < n && cmp_hit(&hits[i - 1], &hits[i]) <= 0) i++;
    if (i < n) qsort(hits, n, sizeof *hits, cmp_hit);
}

/* The judged rel of doc, or -1 when it is not judged. judged is sorted by doc. */
static int lookup_rel(const cm_judged *judged, size_t n, const char *doc) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(judged[mid].doc, doc);
        if (c == 0) return judged[mid].rel;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

int cm_trec_eval_query(cm_hit *hits, size_t n_hits, const cm_judged *judged, size_t n_judged,
                       const size_t *ks, size_t nk, const cm_trec_params *params, double *out) {
    cm_trec_params p = params ? *params : cm_trec_default_params();
    int level = p.relevance_level;
    cm_hits_sort(hits, n_hits);
    size_t n_ret = n_hits < p.max_ret ? n_hits : p.max_ret;

    if (n_ret > 1) { /* a document retrieved twice is an error, as in trec_eval (a hash set: O(n)) */
        cm_strmap_params mp = cm_strmap_default_params();
        mp.expected = n_ret;
        cm_strmap *seen = NULL;
        int rc = cm_strmap_init(&seen, &mp);
        for (size_t i = 0; !rc && i < n_ret; i++) {
            uint64_t v = i;
            int fresh = cm_strmap_insertn(seen, hits[i].doc, strlen(hits[i].doc), &v);
            if (fresh < 0) rc = fresh;
            else if (!fresh)
                rc = cm_error(CM_ERR_FORMAT, "document '%s' is retrieved twice for one query", hits[i].doc);
        }
        cm_strmap_free(seen);
        if (rc) return rc;
    }

    size_t maxk = 0;
    for (size_t j = 0; j < nk; j++) {
        CM_ASSERT(ks[j] >= 1);
        if (ks[j] > maxk) maxk = ks[j];
    }

    /* Judged rel levels: the count of relevant documents and the ideal gains. */
    int max_rel = 0;
    size_t num_rel = 0;
    for (size_t i = 0; i < n_judged; i++) {
        if (judged[i].rel > max_rel) max_rel = judged[i].rel;
        if (judged[i].rel >= level) num_rel++;
    }
    size_t *level_count = cm_calloc((size_t)max_rel + 1, sizeof *level_count);
    if (!level_count) return CM_ERR_NOMEM;
    size_t n_gain = 0; /* judged documents with a positive gain */
    for (size_t i = 0; i < n_judged; i++)
        if (judged[i].rel > 0) {
            level_count[judged[i].rel]++;
            n_gain++;
        }

    /* Prefix sums up to the largest position any cutoff can reach. */
    size_t span_ret = n_ret < maxk ? n_ret : maxk;
    size_t span_ideal = n_gain < maxk ? n_gain : maxk;
    double *dcg = cm_calloc(span_ret + 1, sizeof *dcg);       /* dcg[i]: DCG of the top i */
    double *ap_sum = cm_calloc(span_ret + 1, sizeof *ap_sum); /* sum of P@r over relevant r <= i */
    size_t *relc = cm_calloc(span_ret + 1, sizeof *relc);     /* relevant among the top i */
    double *idcg = cm_calloc(span_ideal + 1, sizeof *idcg);
    if (!dcg || !ap_sum || !relc || !idcg) {
        free(level_count); free(dcg); free(ap_sum); free(relc); free(idcg);
        return CM_ERR_NOMEM;
    }
    size_t first_rel = 0; /* 1-based rank of the first hit with rel > 0 (BEIR MRR); 0: none */
    for (size_t i = 0; i < span_ret; i++) {
        int rel = lookup_rel(judged, n_judged, hits[i].doc);
        double gain = rel > 0 ? (double)rel : 0.0;
        dcg[i + 1] = dcg[i] + (gain > 0 ? gain / log2((double)(i + 2)) : 0.0);
        relc[i + 1] = relc[i] + (rel >= level && rel >= 0);
        ap_sum[i + 1] = ap_sum[i] + (rel >= level && rel >= 0 ? (double)relc[i + 1] / (double)(i + 1) : 0.0);
        if (rel > 0 && !first_rel) first_rel = i + 1;
    }
    {
        int lv = max_rel;
        size_t left = lv > 0 ? level_count[lv] : 0;
        for (size_t i = 0; i < span_ideal; i++) {
            while (lv > 0 && left == 0) {
                lv--;
                left = lv > 0 ? level_count[lv] : 0;
            }
            idcg[i + 1] = idcg[i] + (double)lv / log2((double)(i + 2));
            left--;
        }
    }

    for (size_t j = 0; j < nk; j++) {
        size_t k = ks[j];
        size_t r = k < span_ret ? k : span_ret;
        size_t id = k < span_ideal ? k : span_ideal;
        out[CM_RANK_NDCG * nk + j] = idcg[id] > 0 ? dcg[r] / idcg[id] : 0.0;
        out[CM_RANK_MAP * nk + j] = num_rel ? ap_sum[r] / (double)num_rel : 0.0;
        out[CM_RANK_RECALL * nk + j] = num_rel ? (double)relc[r] / (double)num_rel : 0.0;
        out[CM_RANK_P * nk + j] = (double)relc[r] / (double)k;
        out[CM_RANK_MRR * nk + j] = first_rel && first_rel <= k ? 1.0 / (double)first_rel : 0.0;
    }
    free(level_count); free(dcg); free(ap_sum); free(relc); free(idcg);
    return CM_OK;
}
