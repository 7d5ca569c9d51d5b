/* pairclass_data.c: loads sentence pairs with 0/1 labels (see pairclass_data.h). */
#include "datasets/pairclass_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cm_pair_data_free(cm_pair_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n; i++) {
        free(d->sent1 ? d->sent1[i] : NULL);
        free(d->sent2 ? d->sent2[i] : NULL);
    }
    free(d->sent1);
    free(d->sent2);
    free(d->labels);
    free(d->path);
    free(d);
}

/* A 0/1 label from a number, bool or numeric string; -1 if it is none of those. */
static int label_of(const cJSON *v) {
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? 1 : 0;
    if (cJSON_IsNumber(v)) return v->valuedouble == 0 ? 0 : v->valuedouble == 1 ? 1 : -1;
    if (cJSON_IsString(v)) return !strcmp(v->valuestring, "0") ? 0 : !strcmp(v->valuestring, "1") ? 1 : -1;
    return -1;
}

static const char *first_field(const cJSON *obj, const char *a, const char *b) {
    return cJSON_GetObjectItemCaseSensitive(obj, a) ? a : b;
}

/* Room for need pairs; cap holds the capacities of sent1, sent2 and labels. */
static int grow(cm_pair_data *d, size_t need, size_t *cap) {
    if (cm_array_reserve(d->sent1, cap[0], need) || cm_array_reserve(d->sent2, cap[1], need) ||
        cm_array_reserve(d->labels, cap[2], need))
        return CM_ERR_NOMEM;
    return CM_OK;
}

static int read_lists(cm_pair_data *d, const cm_records *r, const cJSON *obj, size_t *cap) {
    const char *f1 = first_field(obj, "sent1", "sentence1"), *f2 = first_field(obj, "sent2", "sentence2");
    const char *fl = first_field(obj, "labels", "label");
    const char **a = NULL, **b = NULL;
    size_t na = 0, nb = 0;
    int rc = cm_rec_strings(r, obj, f1, &a, &na);
    if (!rc) rc = cm_rec_strings(r, obj, f2, &b, &nb);
    const cJSON *lab = cJSON_GetObjectItemCaseSensitive(obj, fl);
    if (!rc && !cJSON_IsArray(lab)) rc = cm_rec_error(r, fl, "expected an array of 0/1 labels");
    if (!rc && (na != nb || (size_t)cJSON_GetArraySize(lab) != na)) {
        char msg[160];
        snprintf(msg, sizeof msg, "expected as many labels as pairs (%s has %zu, %s has %zu, %s has %d)", f1, na, f2,
                 nb, fl, cJSON_GetArraySize(lab));
        rc = cm_rec_error(r, fl, msg);
    }
    if (!rc) rc = grow(d, na, cap);
    const cJSON *li = !rc ? lab->child : NULL;   /* walked in step (cJSON_GetArrayItem is O(i)) */
    for (size_t i = 0; i < na && !rc; i++, li = li->next) {
        int l = label_of(li);
        if (l < 0) {
            char msg[80];
            snprintf(msg, sizeof msg, "item %zu: expected a 0/1 label", i);
            rc = cm_rec_error(r, fl, msg);
            break;
        }
        d->sent1[d->n] = cm_strdup(a[i]);
        d->sent2[d->n] = cm_strdup(b[i]);
        d->labels[d->n] = l;
        if (!d->sent1[d->n] || !d->sent2[d->n]) {
            free(d->sent1[d->n]);
            free(d->sent2[d->n]);
            rc = CM_ERR_NOMEM;
            break;
        }
        d->n++;
    }
    free(a);
    free(b);
    return rc;
}

/* One pair per row. */
static int read_row(cm_pair_data *d, const cm_records *r, const cJSON *obj, size_t *cap) {
    const char *f1 = first_field(obj, "sentence1", "sent1"), *f2 = first_field(obj, "sentence2", "sent2");
    const char *fl = first_field(obj, "label", "labels");
    const char *a, *b;
    CM_TRY(cm_rec_string(r, obj, f1, &a));
    CM_TRY(cm_rec_string(r, obj, f2, &b));
    int l = label_of(cJSON_GetObjectItemCaseSensitive(obj, fl));
    if (l < 0) return cm_rec_error(r, fl, "expected a 0/1 label");
    CM_TRY(grow(d, d->n + 1, cap));
    d->sent1[d->n] = cm_strdup(a);
    d->sent2[d->n] = cm_strdup(b);
    d->labels[d->n] = l;
    if (!d->sent1[d->n] || !d->sent2[d->n]) {
        free(d->sent1[d->n]);
        free(d->sent2[d->n]);
        return CM_ERR_NOMEM;
    }
    d->n++;
    return CM_OK;
}

int cm_pair_data_load(cm_pair_data **out, const char *dir, const char *subset, const char *split) {
    *out = NULL;
    cm_pair_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    int rc = cm_data_find_split(dir, subset, split, &d->path);
    cm_records *r = NULL;
    if (!rc) rc = cm_data_open(&r, d->path);
    size_t cap[3] = {0, 0, 0}, row = 0;
    int lists = 0;
    cJSON *obj;
    while (!rc && (rc = cm_records_next(r, &obj)) == 1) {
        rc = CM_OK;
        if (row == 0) {
            const cJSON *s1 = cJSON_GetObjectItemCaseSensitive(obj, first_field(obj, "sent1", "sentence1"));
            lists = cJSON_IsArray(s1);
        }
        if (lists && row > 0) d->extra_rows++; /* v1 reads row 0 only */
        else rc = lists ? read_lists(d, r, obj, cap) : read_row(d, r, obj, cap);
        row++;
    }
    cm_records_close(r);
    if (rc >= 0 && d->n == 0)
        rc = cm_error(CM_ERR_FORMAT,
                      "%s: no sentence pairs (expected {\"sent1\": [...], \"sent2\": [...], \"labels\": [...]})",
                      d->path ? d->path : dir);
    if (rc < 0) {
        cm_pair_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}
