/*
 * clustering_data.c: reads clustering splits in MTEB's set layout or the
 * flat one-document-per-row layout (see clustering_data.h).
 */
#include "datasets/clustering_data.h"
#include "datasets/classification_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_free(cm_cluster_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->texts[i]);
    free(s->texts);
    free(s->labels);
    free(s->n_labels);
}

void cm_clustering_data_free(cm_clustering_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_sets; i++) set_free(&d->sets[i]);
    free(d->sets);
    free(d->path);
    free(d);
}

static int is_delimited(const char *path) { return strstr(path, ".csv") || strstr(path, ".tsv"); }

/* One row of the set layout -> a set. Label ids come from the table shared
 * by all sets (so the sets can be pooled); n_labels counts those in the set. */
static int read_set(cm_records *r, cJSON *obj, const char *tf, const char *lf, int numeric_strings,
                    cm_label_table *t, cm_cluster_set *s) {
    cJSON *txt = cJSON_GetObjectItemCaseSensitive(obj, tf), *lab = cJSON_GetObjectItemCaseSensitive(obj, lf);
    if (!cJSON_IsArray(txt)) return cm_rec_error(r, tf, "expected an array of strings (one cluster set per row)");
    if (!cJSON_IsArray(lab)) return cm_rec_error(r, lf, "expected an array of labels as long as the sentences");
    size_t n = (size_t)cJSON_GetArraySize(txt);
    if ((size_t)cJSON_GetArraySize(lab) != n) {
        char msg[160];
        snprintf(msg, sizeof msg, "has %d labels for %zu sentences (expected one label per sentence)",
                 cJSON_GetArraySize(lab), n);
        return cm_rec_error(r, lf, msg);
    }
    if (n == 0) return cm_rec_error(r, tf, "an empty cluster set (expected at least one sentence)");
    s->depth = 1;
    s->texts = cm_calloc(n, sizeof *s->texts);
    s->labels = cm_malloc(n * sizeof *s->labels);
    s->n_labels = cm_calloc(1, sizeof *s->n_labels);
    if (!s->texts || !s->labels || !s->n_labels) return CM_ERR_NOMEM;
    int rc = CM_OK;
    cJSON *a = txt->child;
    const cJSON *b = lab->child;
    for (size_t i = 0; i < n; i++, a = a->next, b = b->next) {
        if (!cJSON_IsString(a)) {
            char msg[120];
            snprintf(msg, sizeof msg, "item %zu is not a string (expected an array of strings)", i);
            rc = cm_rec_error(r, tf, msg);
            break;
        }
        if (cm_label_table_add(t, b, numeric_strings, &s->labels[i])) {
            char msg[120];
            snprintf(msg, sizeof msg, "item %zu: expected a number or a string", i);
            rc = cm_rec_error(r, lf, msg);
            break;
        }
        s->texts[i] = a->valuestring;   /* detached from the record (cJSON allocates strings with malloc) */
        a->valuestring = NULL;
        s->n = i + 1;
    }
    if (!rc) {
        char *seen = cm_calloc(cm_label_table_count(t), 1);
        if (!seen) return CM_ERR_NOMEM;
        for (size_t i = 0; i < n; i++)
            if (!seen[s->labels[i]]) { seen[s->labels[i]] = 1; s->n_labels[0]++; }
        free(seen);
    }
    return rc;
}

/* Flat layout: all rows into one set, with label levels. */
typedef struct {
    cm_cluster_set  *s;
    size_t           cap;
    cm_label_table **levels;   /* one table per level */
    int              n_levels;
    int             *lab;      /* (cap, max levels seen) grown as needed */
    int              lab_depth;
} flat_acc;

static int flat_add(flat_acc *f, cm_records *r, const cJSON *obj, const char *tf, const char *lf, int numeric_strings) {
    const char *text;
    CM_TRY(cm_rec_string(r, obj, tf, &text));
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(obj, lf);
    if (!lab || cJSON_IsNull(lab)) return cm_rec_error(r, lf, "missing (expected a label or a list of labels)");
    int depth = cJSON_IsArray(lab) ? cJSON_GetArraySize(lab) : 1;
    if (depth == 0) return cm_rec_error(r, lf, "an empty list (expected at least one label)");
    cm_cluster_set *s = f->s;
    if (depth > f->lab_depth || s->n == f->cap) {
        size_t cap = s->n == f->cap ? (f->cap ? 2 * f->cap : 1024) : f->cap;
        int nd = depth > f->lab_depth ? depth : f->lab_depth;
        int *nl = cm_malloc(cap * (size_t)nd * sizeof *nl);
        if (!nl) return CM_ERR_NOMEM;
        for (size_t i = 0; i < s->n; i++)
            for (int l = 0; l < nd; l++)
                nl[i * (size_t)nd + (size_t)l] = l < f->lab_depth ? f->lab[i * (size_t)f->lab_depth + (size_t)l] : -1;
        free(f->lab);
        f->lab = nl;
        f->lab_depth = nd;
        char **nt = cm_realloc(s->texts, cap * sizeof *nt);
        if (!nt) return CM_ERR_NOMEM;
        s->texts = nt;
        f->cap = cap;
    }
    while (f->n_levels < depth) {
        cm_label_table **nl = cm_realloc(f->levels, (size_t)(f->n_levels + 1) * sizeof *nl);
        if (!nl) return CM_ERR_NOMEM;
        f->levels = nl;
        f->levels[f->n_levels] = NULL;
        CM_TRY(cm_label_table_init(&f->levels[f->n_levels]));
        f->n_levels++;
    }
    int *row = f->lab + s->n * (size_t)f->lab_depth;
    for (int l = 0; l < f->lab_depth; l++) row[l] = -1;
    for (int l = 0; l < depth; l++) {
        const cJSON *v = cJSON_IsArray(lab) ? cJSON_GetArrayItem(lab, l) : lab;
        if (cm_label_table_add(f->levels[l], v, numeric_strings, &row[l]))
            return cm_rec_error(r, lf, "expected a number, a string or a list of them");
    }
    if (!(s->texts[s->n] = cm_strdup(text))) return CM_ERR_NOMEM;
    s->n++;
    return CM_OK;
}

int cm_clustering_data_load(cm_clustering_data **out, const char *folder, const char *subset, const char *split,
                            const char *text_field, const char *label_field) {
    *out = NULL;
    const char *tf = text_field ? text_field : "sentences", *lf = label_field ? label_field : "labels";
    cm_clustering_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    int rc = cm_data_find_split(folder, subset, split, &d->path);
    cm_records *r = NULL;
    if (!rc) rc = cm_data_open(&r, d->path);
    int numeric_strings = d->path && is_delimited(d->path), layout = -1;
    size_t cap = 0;
    flat_acc f = {0};
    cm_label_table *shared = NULL;
    if (!rc) rc = cm_label_table_init(&shared);
    cJSON *obj;
    while (!rc && (rc = cm_records_next(r, &obj)) == 1) {
        rc = CM_OK;
        if (layout < 0) {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, tf);
            if (cJSON_IsArray(t)) layout = 0;
            else if (cJSON_IsString(t)) layout = 1;
            else {
                rc = cm_rec_error(r, tf, "expected an array of strings (a cluster set) or a string (one document)");
                break;
            }
            d->flat = layout;
            if (layout == 1) {
                if (!(d->sets = cm_calloc(1, sizeof *d->sets))) { rc = CM_ERR_NOMEM; break; }
                d->n_sets = 1;
                f.s = &d->sets[0];
            }
        }
        if (layout == 0) {
            if (cm_array_reserve(d->sets, cap, d->n_sets + 1)) { rc = CM_ERR_NOMEM; break; }
            memset(&d->sets[d->n_sets], 0, sizeof *d->sets);
            d->n_sets++;
            rc = read_set(r, obj, tf, lf, numeric_strings, shared, &d->sets[d->n_sets - 1]);
        } else {
            if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(obj, tf))) {
                rc = cm_rec_error(r, tf, "expected a string (rows of this file are single documents)");
                break;
            }
            rc = flat_add(&f, r, obj, tf, lf, numeric_strings);
        }
    }
    cm_records_close(r);
    if (rc > 0) rc = CM_OK;
    if (!rc && layout == 1) {
        cm_cluster_set *s = f.s;
        s->depth = f.lab_depth;
        s->labels = f.lab;
        f.lab = NULL;
        s->n_labels = cm_calloc((size_t)f.n_levels, sizeof *s->n_labels);
        if (!s->n_labels) rc = CM_ERR_NOMEM;
        for (int l = 0; !rc && l < f.n_levels; l++) s->n_labels[l] = (int)cm_label_table_count(f.levels[l]);
    }
    cm_label_table_free(shared);
    free(f.lab);
    for (int l = 0; l < f.n_levels; l++) cm_label_table_free(f.levels[l]);
    free(f.levels);
    if (!rc && d->n_sets == 0) rc = cm_error(CM_ERR_FORMAT, "%s: split '%s' has no rows", d->path, split);
    if (rc) {
        cm_clustering_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}
