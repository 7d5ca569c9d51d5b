/* reranking_data.c: loads reranking samples {query, positive, negative} (see reranking_data.h). */
#include "datasets/reranking_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

static void free_strv(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void cm_rerank_data_free(cm_rerank_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_samples; i++) {
        free_strv(d->samples[i].queries, d->samples[i].n_queries);
        free_strv(d->samples[i].docs, d->samples[i].n_pos + d->samples[i].n_neg);
    }
    free(d->samples);
    free(d->path);
    free(d);
}

/* Copies borrowed strings a[0..n) into dst starting at dst[at]. */
static int copy_into(char **dst, size_t at, const char **a, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!(dst[at + i] = cm_strdup(a[i]))) return CM_ERR_NOMEM;
    return CM_OK;
}

static int read_sample(const cm_records *r, const cJSON *obj, cm_rerank_sample *s, int *keep) {
    const char **pos = NULL, **neg = NULL, **qs = NULL;
    size_t np = 0, nn = 0, nq = 0;
    int rc = CM_OK;
    *keep = 0;
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(obj, "query");
    if (cJSON_IsArray(q)) {
        if ((rc = cm_rec_strings(r, obj, "query", &qs, &nq))) goto done;
        if (nq == 0) {
            rc = cm_rec_error(r, "query", "empty list (expected a string or a non-empty list of strings)");
            goto done;
        }
    } else if (!cJSON_IsString(q)) {
        rc = cm_rec_error(r, "query",
                          q ? "expected a string or a list of strings"
                            : "missing (expected a string or a list of strings)");
        goto done;
    }
    if ((rc = cm_rec_strings(r, obj, "positive", &pos, &np))) goto done;
    if ((rc = cm_rec_strings(r, obj, "negative", &neg, &nn))) goto done;
    if (np == 0 || nn == 0) goto done; /* dropped, as MTEB drops it */
    memset(s, 0, sizeof *s);
    s->n_queries = cJSON_IsArray(q) ? nq : 1;
    s->queries = cm_calloc(s->n_queries, sizeof *s->queries);
    s->docs = cm_calloc(np + nn, sizeof *s->docs);
    if (!s->queries || !s->docs) { rc = CM_ERR_NOMEM; goto fail; }
    if (cJSON_IsArray(q)) rc = copy_into(s->queries, 0, qs, nq);
    else if (!(s->queries[0] = cm_strdup(q->valuestring))) rc = CM_ERR_NOMEM;
    if (rc) goto fail;
    s->n_pos = np;
    s->n_neg = nn;
    if ((rc = copy_into(s->docs, 0, pos, np)) || (rc = copy_into(s->docs, np, neg, nn))) goto fail;
    *keep = 1;
    goto done;
fail:
    free_strv(s->queries, s->n_queries);
    free_strv(s->docs, np + nn);
    memset(s, 0, sizeof *s);
done:
    free(pos);
    free(neg);
    free(qs);
    return rc;
}

int cm_rerank_data_load(cm_rerank_data **out, const char *dir, const char *subset, const char *split) {
    *out = NULL;
    cm_rerank_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    int rc = cm_data_find_split(dir, subset, split, &d->path);
    cm_records *r = NULL;
    if (!rc) rc = cm_data_open(&r, d->path);
    size_t cap = 0;
    cJSON *obj;
    while (!rc && (rc = cm_records_next(r, &obj)) == 1) {
        rc = CM_OK;
        if (cm_array_reserve(d->samples, cap, d->n_samples + 1)) { rc = CM_ERR_NOMEM; break; }
        int keep;
        if ((rc = read_sample(r, obj, &d->samples[d->n_samples], &keep))) break;
        if (keep) d->n_samples++;
        else d->n_dropped++;
    }
    cm_records_close(r);
    if (rc < 0) {
        cm_rerank_data_free(d);
        return rc;
    }
    if (d->n_samples == 0) {
        rc = cm_error(CM_ERR_FORMAT, "%s: no sample with both positive and negative documents "
                      "(expected records {\"query\", \"positive\": [...], \"negative\": [...]})", d->path);
        cm_rerank_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}
