/* summarization_data.c: loads texts with human and machine summaries and relevance scores (see summarization_data.h).
 */
#include "datasets/summarization_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void free_strv(char **v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void free_item(cm_summ_item *it) {
    free(it->id);
    free_strv(it->human, it->n_human);
    free_strv(it->machine, it->n_machine);
    free(it->relevance);
}

void cm_summ_data_free(cm_summ_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) free_item(&d->items[i]);
    free(d->items);
    free(d->path);
    free(d);
}

static char **dup_strv(const char **a, size_t n) {
    char **v = cm_calloc(n ? n : 1, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < n; i++)
        if (!(v[i] = cm_strdup(a[i]))) {
            free_strv(v, i);
            return NULL;
        }
    return v;
}

static int read_item(const cm_records *r, const cJSON *obj, size_t index, cm_summ_item *it) {
    memset(it, 0, sizeof *it);
    const char **h = NULL, **m = NULL;
    size_t nh = 0, nm = 0;
    int rc = cm_rec_strings(r, obj, "human_summaries", &h, &nh);
    if (!rc) rc = cm_rec_strings(r, obj, "machine_summaries", &m, &nm);
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(obj, "relevance");
    if (!rc && !cJSON_IsArray(rel))
        rc = cm_rec_error(r, "relevance",
                          rel ? "expected an array of numbers" : "missing (expected an array of numbers)");
    if (!rc && (size_t)cJSON_GetArraySize(rel) != nm) {
        char msg[120];
        snprintf(msg, sizeof msg, "expected one score per machine summary (%zu), found %d", nm,
                 cJSON_GetArraySize(rel));
        rc = cm_rec_error(r, "relevance", msg);
    }
    if (!rc && nh == 0) rc = cm_rec_error(r, "human_summaries", "empty (expected at least one human summary)");
    if (!rc) {
        it->n_human = nh;
        it->n_machine = nm;
        it->human = dup_strv(h, nh);
        it->machine = dup_strv(m, nm);
        it->relevance = cm_malloc((nm ? nm : 1) * sizeof *it->relevance);
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
        if (cJSON_IsString(id)) it->id = cm_strdup(id->valuestring);
        else if (cJSON_IsNumber(id)) it->id = cm_asprintf("%.17g", id->valuedouble);
        else it->id = cm_asprintf("%zu", index);
        if (!it->human || !it->machine || !it->relevance || !it->id) rc = CM_ERR_NOMEM;
    }
    for (size_t i = 0; !rc && i < nm; i++) {
        const cJSON *v = cJSON_GetArrayItem(rel, (int)i);
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            char msg[80];
            snprintf(msg, sizeof msg, "item %zu: expected a number", i);
            rc = cm_rec_error(r, "relevance", msg);
        } else {
            it->relevance[i] = v->valuedouble;
        }
    }
    free(h);
    free(m);
    if (rc) {
        free_item(it);
        memset(it, 0, sizeof *it);
    }
    return rc;
}

int cm_summ_data_load(cm_summ_data **out, const char *dir, const char *subset, const char *split) {
    *out = NULL;
    cm_summ_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    int rc = cm_data_find_split(dir, subset, split, &d->path);
    cm_records *r = NULL;
    if (!rc) rc = cm_data_open(&r, d->path);
    size_t cap = 0;
    cJSON *obj;
    while (!rc && (rc = cm_records_next(r, &obj)) == 1) {
        rc = CM_OK;
        if (cm_array_reserve(d->items, cap, d->n + 1)) { rc = CM_ERR_NOMEM; break; }
        if ((rc = read_item(r, obj, d->n, &d->items[d->n]))) break;
        d->n++;
    }
    cm_records_close(r);
    if (rc >= 0 && d->n == 0)
        rc = cm_error(CM_ERR_FORMAT,
                      "%s: no records (expected {\"human_summaries\", \"machine_summaries\", \"relevance\"})",
                      d->path ? d->path : dir);
    if (rc < 0) {
        cm_summ_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}
