/*
 * classification_data.c: the label table (values interned, then numbered in
 * numpy.unique order) and the loader of classification splits (see
 * classification_data.h).
 */
#include "datasets/classification_data.h"
#include "cmteb/array.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- label table ------------------------------------------------------------ */
typedef struct {
    int    is_num;
    double num;
    char  *name;    /* text form; the key for strings */
} label_value;

struct cm_label_table {
    label_value *v;
    size_t       n, cap;
    cm_strmap   *nums, *strs;   /* key text -> id; numbers keyed by num_key */
};

int cm_label_table_init(cm_label_table **out) {
    cm_strmap_params p = cm_strmap_default_params();
    p.copy_keys = 1;
    cm_label_table *t = cm_calloc(1, sizeof *t);
    if (t && (cm_strmap_init(&t->nums, &p) || cm_strmap_init(&t->strs, &p))) {
        cm_label_table_free(t);
        t = NULL;
    }
    *out = t;
    return t ? CM_OK : CM_ERR_NOMEM;
}

void cm_label_table_free(cm_label_table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) free(t->v[i].name);
    free(t->v);
    cm_strmap_free(t->nums);
    cm_strmap_free(t->strs);
    free(t);
}

size_t cm_label_table_count(const cm_label_table *t) { return t->n; }
const char *cm_label_table_name(const cm_label_table *t, int id) {
    return id >= 0 && (size_t)id < t->n ? t->v[id].name : "?";
}

/* A number's text: integers below 1e15 exactly, others round-trip (%.17g),
 * so equal numbers, and only they, share it. */
static void num_text(double num, char buf[64]) {
    if (num == floor(num) && fabs(num) < 1e15) snprintf(buf, 64, "%.0f", num);
    else snprintf(buf, 64, "%.17g", num);
}

/* The map key of a number: its text, with -0.0 as 0.0 (they are equal). */
static void num_key(double num, char buf[64]) { num_text(num == 0 ? 0.0 : num, buf); }

/* A string that is wholly a finite number (CSV fields). */
static int parse_number(const char *s, double *out) {
    if (!*s) return 0;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || !isfinite(d) || end == s) return 0;
    *out = d;
    return 1;
}

int cm_label_table_add(cm_label_table *t, const cJSON *v, int numeric_strings, int *id) {
    int is_num;
    double num = 0;
    char numbuf[64];
    const char *name;
    if (cJSON_IsNumber(v) || cJSON_IsBool(v)) {
        is_num = 1;
        num = cJSON_IsNumber(v) ? v->valuedouble : (cJSON_IsTrue(v) ? 1.0 : 0.0);
    } else if (cJSON_IsString(v)) {
        is_num = numeric_strings && parse_number(v->valuestring, &num);
    } else {
        return cm_error(CM_ERR_FORMAT, "a label must be a number or a string");
    }
    char key[64];
    if (is_num) {
        num_text(num, numbuf);
        num_key(num, key);
        name = numbuf;
    } else {
        name = v->valuestring;
    }
    cm_strmap *map = is_num ? t->nums : t->strs;
    const char *k = is_num ? key : name;
    uint64_t found;
    if (cm_strmap_get(map, k, &found)) {
        *id = (int)found;
        return CM_OK;
    }
    CM_TRY(cm_array_reserve(t->v, t->cap, cm_array_first(t->n + 1, 32)));
    label_value *lv = &t->v[t->n];
    lv->is_num = is_num;
    lv->num = num;
    if (!(lv->name = cm_strdup(name))) return CM_ERR_NOMEM;
    int rc = cm_strmap_put(map, k, t->n);
    if (rc < 0) {
        free(lv->name);
        return rc;
    }
    *id = (int)t->n++;
    return CM_OK;
}

static int cmp_value(const void *a, const void *b) {
    const label_value *x = a, *y = b;
    if (x->is_num) return (x->num > y->num) - (x->num < y->num);
    return strcmp(x->name, y->name);
}

int cm_label_table_sort(cm_label_table *t, int **remap) {
    *remap = NULL;
    size_t n_num = 0;
    for (size_t i = 0; i < t->n; i++) n_num += (size_t)t->v[i].is_num;
    if (n_num && n_num < t->n) {
        const char *a = NULL, *b = NULL;
        for (size_t i = 0; i < t->n; i++) {
            if (t->v[i].is_num && !a) a = t->v[i].name;
            if (!t->v[i].is_num && !b) b = t->v[i].name;
        }
        return cm_error(CM_ERR_FORMAT, "labels mix numbers and strings (e.g. %s and \"%s\"); use one kind", a, b);
    }
    /* Sort (value, old id) pairs. */
    typedef struct { label_value v; int old; } pair;
    pair *p = cm_malloc((t->n ? t->n : 1) * sizeof *p);
    int *map = cm_malloc((t->n ? t->n : 1) * sizeof *map);
    if (!p || !map) { free(p); free(map); return CM_ERR_NOMEM; }
    for (size_t i = 0; i < t->n; i++) { p[i].v = t->v[i]; p[i].old = (int)i; }
    qsort(p, t->n, sizeof *p, cmp_value);   /* values are distinct: order is total */
    for (size_t i = 0; i < t->n; i++) {
        t->v[i] = p[i].v;
        map[p[i].old] = (int)i;
    }
    free(p);
    for (size_t i = 0; i < t->n; i++) {   /* renumber: replacing a value allocates nothing */
        char key[64];
        if (t->v[i].is_num) num_key(t->v[i].num, key);
        cm_strmap_put(t->v[i].is_num ? t->nums : t->strs, t->v[i].is_num ? key : t->v[i].name, i);
    }
    *remap = map;
    return CM_OK;
}

/* ---- splits -------------------------------------------------------------------- */
cm_clf_data_params cm_clf_data_default_params(void) {
    cm_clf_data_params p = {NULL, "train", "test", "text", "label", 1};
    return p;
}

static void split_free(cm_clf_split *s) {
    for (size_t i = 0; i < s->n; i++) free(s->texts[i]);
    free(s->texts);
    free(s->labels);
    free(s->path);
    memset(s, 0, sizeof *s);
}

void cm_clf_data_free(cm_clf_data *d) {
    if (!d) return;
    split_free(&d->train);
    split_free(&d->eval);
    cm_label_table_free(d->labels);
    free(d);
}

static int is_delimited(const char *path) {
    return strstr(path, ".csv") != NULL || strstr(path, ".tsv") != NULL;
}

static int load_split(cm_clf_split *s, const char *folder, const char *subset, const char *split,
                      const cm_clf_data_params *p, cm_label_table *labels, int with_texts) {
    CM_TRY(cm_data_find_split(folder, subset, split, &s->path));
    cm_records *r = NULL;
    CM_TRY(cm_data_open(&r, s->path));
    int numeric_strings = is_delimited(s->path), rc = CM_OK;
    size_t cap_t = 0, cap_l = 0;
    cJSON *obj;
    while ((rc = cm_records_next(r, &obj)) == 1) {
        const char *text;
        if ((rc = cm_rec_string(r, obj, p->text_field, &text))) break;
        const cJSON *lab = cJSON_GetObjectItemCaseSensitive(obj, p->label_field);
        if (!lab || cJSON_IsNull(lab)) {
            rc = cm_rec_error(r, p->label_field, "missing (expected a number or a string)");
            break;
        }
        if (cm_array_reserve(s->texts, cap_t, s->n + 1) || cm_array_reserve(s->labels, cap_l, s->n + 1)) {
            rc = CM_ERR_NOMEM;
            break;
        }
        int id;
        if ((rc = cm_label_table_add(labels, lab, numeric_strings, &id))) {
            rc = cm_rec_error(r, p->label_field, "expected a number or a string");
            break;
        }
        s->texts[s->n] = NULL;
        if (with_texts && !(s->texts[s->n] = cm_strdup(text))) { rc = CM_ERR_NOMEM; break; }
        s->labels[s->n++] = id;
    }
    cm_records_close(r);
    if (rc < 0) return rc;
    if (s->n == 0) return cm_error(CM_ERR_FORMAT, "%s: split '%s' has no rows", s->path, split);
    return CM_OK;
}

int cm_clf_split_load_texts(cm_clf_split *s, const char *text_field, const unsigned char *want) {
    cm_records *r = NULL;
    CM_TRY(cm_data_open(&r, s->path));
    size_t i = 0;
    int rc;
    cJSON *obj;
    while ((rc = cm_records_next(r, &obj)) == 1) {
        if (i >= s->n) break;
        if (want[i] && !s->texts[i]) {
            const char *text;
            if ((rc = cm_rec_string(r, obj, text_field, &text))) break;
            if (!(s->texts[i] = cm_strdup(text))) { rc = CM_ERR_NOMEM; break; }
        }
        i++;
    }
    if (rc == 1 || (rc == 0 && i != s->n))
        rc = cm_error(CM_ERR_FORMAT, "%s: the file changed while it was read (expected %zu rows)", s->path, s->n);
    cm_records_close(r);
    return rc;
}

int cm_clf_data_load(cm_clf_data **out, const char *folder, const cm_clf_data_params *params) {
    *out = NULL;
    cm_clf_data_params p = params ? *params : cm_clf_data_default_params();
    cm_clf_data_params dflt = cm_clf_data_default_params();
    if (!p.train_split) p.train_split = dflt.train_split;
    if (!p.eval_split) p.eval_split = dflt.eval_split;
    if (!p.text_field) p.text_field = dflt.text_field;
    if (!p.label_field) p.label_field = dflt.label_field;
    cm_clf_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    int rc = cm_label_table_init(&d->labels);
    if (!rc) rc = load_split(&d->train, folder, p.subset, p.train_split, &p, d->labels, p.train_texts);
    if (!rc) rc = load_split(&d->eval, folder, p.subset, p.eval_split, &p, d->labels, 1);
    int *remap = NULL;
    if (!rc && (rc = cm_label_table_sort(d->labels, &remap)))
        rc = cm_error_wrap(rc, "%s and %s: field '%s'", d->train.path, d->eval.path, p.label_field);
    if (!rc) {
        for (size_t i = 0; i < d->train.n; i++) d->train.labels[i] = remap[d->train.labels[i]];
        for (size_t i = 0; i < d->eval.n; i++) d->eval.labels[i] = remap[d->eval.labels[i]];
    }
    free(remap);
    if (rc) {
        cm_clf_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}
