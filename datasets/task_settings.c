/* task_settings.c: task types and the schemas of their settings (see task_settings.h). */
#include "cmteb/task_settings.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG 1e12 /* the largest integer setting accepted */

static const char *const protocol_names[] = {"v1", "fast", NULL};
static const char *const aggregate_names[] = {"mean", NULL};

int cm_clustering_protocol_parse(const char *s, cm_clustering_protocol *out) {
    for (int i = 0; protocol_names[i]; i++)
        if (!strcmp(s, protocol_names[i])) { *out = (cm_clustering_protocol)i; return CM_OK; }
    return cm_error(CM_ERR_ARG, "clustering protocol '%s' is not known (expected v1 or fast)", s);
}

const char *cm_clustering_protocol_name(cm_clustering_protocol p) {
    return (unsigned)p < 2 ? protocol_names[p] : "unknown";
}

#define NUM(T, k) {#k, CM_SETTING_NUMBER, -HUGE_VAL, HUGE_VAL, NULL, 0, offsetof(T, k)}
#define INT(T, k, lo) {#k, CM_SETTING_INT, lo, BIG, NULL, 0, offsetof(T, k)}
#define BOOL(T, k) {#k, CM_SETTING_BOOL, 0, 0, NULL, 0, offsetof(T, k)}
#define STR(T, k) {#k, CM_SETTING_STRING, 0, 0, NULL, 0, offsetof(T, k)}

static const cm_setting_schema classification_schema[] = {
    INT(cm_classification_settings, n_experiments, 1),
    INT(cm_classification_settings, samples_per_label, 1),
    INT(cm_classification_settings, test_subsample, 1),
    INT(cm_classification_settings, test_subsample_seed, 0),
    {"seed", CM_SETTING_INT, 0, 4294967295.0, NULL, 0, offsetof(cm_classification_settings, seed)},
    INT(cm_classification_settings, max_iter, 1),
    STR(cm_classification_settings, train_split),
    STR(cm_classification_settings, text_field),
    STR(cm_classification_settings, label_field),
};

static const cm_setting_schema clustering_schema[] = {
    {"protocol", CM_SETTING_ENUM, 0, 0, protocol_names, 0, offsetof(cm_clustering_settings, protocol)},
    INT(cm_clustering_settings, batch_size, 1),
    INT(cm_clustering_settings, seed, 0),
    STR(cm_clustering_settings, text_field),
    STR(cm_clustering_settings, label_field),
    INT(cm_clustering_settings, max_size, 1),
    INT(cm_clustering_settings, max_documents_per_cluster, 1),
    INT(cm_clustering_settings, n_bootstrap, 1),
    INT(cm_clustering_settings, fast_batch_size, 1),
    INT(cm_clustering_settings, max_depth, 1),
    INT(cm_clustering_settings, max_document_to_embed, 1),
    {"max_fraction_of_documents_to_embed", CM_SETTING_NUMBER, 0, 1, NULL, CM_SETTING_NULLABLE | CM_SETTING_LO_OPEN,
     offsetof(cm_clustering_settings, max_fraction_of_documents_to_embed)},
};

static const cm_setting_schema reranking_schema[] = {
    INT(cm_reranking_settings, mrr_at_k, 1),
    BOOL(cm_reranking_settings, multi_query),
};

static const cm_setting_schema retrieval_schema[] = {
    {"k_values", CM_SETTING_INTS, 1, 1e7, NULL, 0, offsetof(cm_retrieval_settings, k_values)},
    INT(cm_retrieval_settings, corpus_chunk_size, 1),
    BOOL(cm_retrieval_settings, ignore_identical_ids),
    {"subsets", CM_SETTING_STRINGS, 0, 0, NULL, 0, offsetof(cm_retrieval_settings, subsets)},
    {"aggregate", CM_SETTING_ENUM, 0, 0, aggregate_names, 0, offsetof(cm_retrieval_settings, aggregate)},
};

static const cm_setting_schema sts_schema[] = {
    NUM(cm_sts_settings, min_score),
    NUM(cm_sts_settings, max_score),
    STR(cm_sts_settings, sentence1_field),
    STR(cm_sts_settings, sentence2_field),
    STR(cm_sts_settings, score_field),
};

static const cm_setting_schema summarization_schema[] = {
    NUM(cm_summarization_settings, min_score),
    NUM(cm_summarization_settings, max_score),
    BOOL(cm_summarization_settings, v1_pvalue_bug),
};

#define N(a) (sizeof a / sizeof a[0])

const cm_task_type_info cm_task_types[CM_TASK_TYPE_COUNT] = {
    {CM_TASK_CLASSIFICATION, "Classification", "accuracy", classification_schema, N(classification_schema)},
    {CM_TASK_CLUSTERING, "Clustering", "v_measure", clustering_schema, N(clustering_schema)},
    {CM_TASK_PAIRCLASSIFICATION, "PairClassification", "cosine_ap", NULL, 0},
    {CM_TASK_RERANKING, "Reranking", "map", reranking_schema, N(reranking_schema)},
    {CM_TASK_RETRIEVAL, "Retrieval", "ndcg_at_10", retrieval_schema, N(retrieval_schema)},
    {CM_TASK_STS, "STS", "cosine_spearman", sts_schema, N(sts_schema)},
    {CM_TASK_SUMMARIZATION, "Summarization", "cosine_spearman", summarization_schema, N(summarization_schema)},
};

cm_task_settings cm_task_default_settings(cm_task_type t) {
    cm_task_settings s;
    memset(&s, 0, sizeof s);
    switch (t) {
    case CM_TASK_CLASSIFICATION:
        s.classification.n_experiments = 10;
        s.classification.samples_per_label = 8;
        s.classification.test_subsample_seed = 42;
        s.classification.seed = 42;
        s.classification.max_iter = 100;
        s.classification.train_split = "train";
        s.classification.text_field = "text";
        s.classification.label_field = "label";
        break;
    case CM_TASK_CLUSTERING:
        s.clustering.protocol = CM_CLUSTERING_V1;
        s.clustering.batch_size = 500;
        s.clustering.seed = 42;
        s.clustering.text_field = "sentences";
        s.clustering.label_field = "labels";
        s.clustering.max_size = 100000;
        s.clustering.max_documents_per_cluster = 16384;
        s.clustering.n_bootstrap = 10;
        s.clustering.fast_batch_size = 512;
        s.clustering.max_fraction_of_documents_to_embed = 0.04;
        break;
    case CM_TASK_RERANKING:
        s.reranking.mrr_at_k = 10;
        break;
    case CM_TASK_RETRIEVAL: {
        static const long k[] = {1, 3, 5, 10, 20, 100, 1000};
        memcpy(s.retrieval.k_values.v, k, sizeof k);
        s.retrieval.k_values.n = N(k);
        s.retrieval.corpus_chunk_size = 50000;
        s.retrieval.ignore_identical_ids = 1;
        break;
    }
    case CM_TASK_STS:
        s.sts.max_score = 5;
        break;
    case CM_TASK_SUMMARIZATION:
        s.summarization.max_score = 5;
        break;
    default:
        break;
    }
    return s;
}

/* What a schema entry expects, for error messages. */
static void describe(const cm_setting_schema *e, char *buf, size_t size) {
    switch (e->kind) {
    case CM_SETTING_NUMBER:
        if (isinf(e->lo) && isinf(e->hi)) snprintf(buf, size, "a number");
        else snprintf(buf, size, "a number in %c%g, %g]", e->flags & CM_SETTING_LO_OPEN ? '(' : '[', e->lo, e->hi);
        if (e->flags & CM_SETTING_NULLABLE) snprintf(buf + strlen(buf), size - strlen(buf), " or null");
        break;
    case CM_SETTING_INT:
        if (e->lo == 1 && e->hi >= BIG) snprintf(buf, size, "a positive integer");
        else if (e->hi >= BIG) snprintf(buf, size, "an integer >= %g", e->lo);
        else snprintf(buf, size, "an integer from %.0f to %.0f", e->lo, e->hi);
        break;
    case CM_SETTING_BOOL: snprintf(buf, size, "true or false"); break;
    case CM_SETTING_STRING: snprintf(buf, size, "a string"); break;
    case CM_SETTING_ENUM: {
        size_t n = 0;
        for (int i = 0; e->choices[i]; i++) n++;
        snprintf(buf, size, "%s", n > 1 ? "" : "\"");
        for (size_t i = 0; i < n; i++)
            snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
                     e->choices[i]);
        if (n <= 1) snprintf(buf + strlen(buf), size - strlen(buf), "\"");
        break;
    }
    case CM_SETTING_INTS: snprintf(buf, size, "an array of positive integers"); break;
    case CM_SETTING_STRINGS: snprintf(buf, size, "a non-empty array of strings"); break;
    }
}

static int is_int_in(const cJSON *v, double lo, double hi) {
    return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi && v->valuedouble == floor(v->valuedouble);
}

static int bad_value(const cm_setting_schema *e, const cJSON *v, const char *where) {
    char want[160];
    describe(e, want, sizeof want);
    char *found = cJSON_PrintUnformatted(v);
    int rc = cm_error(CM_ERR_FORMAT, "%s: field 'settings.%s': expected %s%s%.60s", where, e->key, want,
                      found ? ", found " : "", found ? found : "");
    cJSON_free(found);
    return rc;
}

/* Stores v into the field e describes. */
static int set_one(const cm_setting_schema *e, const cJSON *v, const char *where, char *base) {
    void *field = base + e->offset;
    const cJSON *it;
    switch (e->kind) {
    case CM_SETTING_NUMBER:
        if ((e->flags & CM_SETTING_NULLABLE) && cJSON_IsNull(v)) { *(double *)field = NAN; return CM_OK; }
        if (!cJSON_IsNumber(v) || v->valuedouble > e->hi || v->valuedouble < e->lo ||
            ((e->flags & CM_SETTING_LO_OPEN) && v->valuedouble == e->lo))
            return bad_value(e, v, where);
        *(double *)field = v->valuedouble;
        return CM_OK;
    case CM_SETTING_INT:
        if (!is_int_in(v, e->lo, e->hi)) return bad_value(e, v, where);
        *(long *)field = (long)v->valuedouble;
        return CM_OK;
    case CM_SETTING_BOOL:
        if (!cJSON_IsBool(v)) return bad_value(e, v, where);
        *(int *)field = cJSON_IsTrue(v);
        return CM_OK;
    case CM_SETTING_STRING:
        if (!cJSON_IsString(v) || !v->valuestring[0]) return bad_value(e, v, where);
        *(const char **)field = v->valuestring;
        return CM_OK;
    case CM_SETTING_ENUM:
        for (int i = 0; cJSON_IsString(v) && e->choices[i]; i++)
            if (!strcmp(v->valuestring, e->choices[i])) { *(int *)field = i; return CM_OK; }
        return bad_value(e, v, where);
    case CM_SETTING_INTS: {
        cm_setting_ints *out = field;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) return bad_value(e, v, where);
        cJSON_ArrayForEach(it, v) if (!is_int_in(it, e->lo, e->hi)) return bad_value(e, v, where);
        if (cJSON_GetArraySize(v) > CM_MAX_K_VALUES)
            return cm_error(CM_ERR_FORMAT, "%s: field 'settings.%s': expected an array of 1 to %d positive integers",
                            where, e->key, CM_MAX_K_VALUES);
        out->n = 0;
        cJSON_ArrayForEach(it, v) out->v[out->n++] = (long)it->valuedouble;
        return CM_OK;
    }
    case CM_SETTING_STRINGS: {
        cm_setting_strs *out = field;
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) return bad_value(e, v, where);
        cJSON_ArrayForEach(it, v) if (!cJSON_IsString(it) || !it->valuestring[0]) return bad_value(e, v, where);
        const char **arr = cm_calloc((size_t)cJSON_GetArraySize(v), sizeof *arr);
        if (!arr) return CM_ERR_NOMEM;
        out->n = 0;
        out->v = arr;
        cJSON_ArrayForEach(it, v) arr[out->n++] = it->valuestring;
        return CM_OK;
    }
    }
    return CM_ERR_INTERNAL;
}

/* Checks that involve several fields. */
static int check_together(cm_task_type t, const cJSON *json, const char *where, cm_task_settings *s) {
    double lo = 0, hi = 1;
    if (t == CM_TASK_STS) lo = s->sts.min_score, hi = s->sts.max_score;
    if (t == CM_TASK_SUMMARIZATION) lo = s->summarization.min_score, hi = s->summarization.max_score;
    if (!(lo < hi))
        return cm_error(CM_ERR_FORMAT, "%s: field 'settings.max_score': expected more than min_score (%g), found %g",
                        where, lo, hi);
    if (t == CM_TASK_CLUSTERING) {
        cm_clustering_settings *c = &s->clustering;
        int has_frac = cJSON_GetObjectItemCaseSensitive(json, "max_fraction_of_documents_to_embed") != NULL;
        /* a task that sets the count means it, as MTEB's per-task overrides do */
        if (c->max_document_to_embed > 0 && !has_frac) c->max_fraction_of_documents_to_embed = NAN;
        if (c->max_document_to_embed > 0 && !isnan(c->max_fraction_of_documents_to_embed))
            return cm_error(CM_ERR_FORMAT, "%s: set only one of settings.max_document_to_embed and "
                            "settings.max_fraction_of_documents_to_embed", where);
    }
    return CM_OK;
}

int cm_task_settings_parse(cm_task_type t, const cJSON *json, const char *where, cm_task_settings *out) {
    *out = cm_task_default_settings(t);
    if ((unsigned)t >= CM_TASK_TYPE_COUNT) return cm_error(CM_ERR_ARG, "%s: unknown task type %d", where, (int)t);
    const cm_task_type_info *info = &cm_task_types[t];
    const cJSON *it;
    int rc = CM_OK;
    cJSON_ArrayForEach(it, json) {
        const cm_setting_schema *e = NULL;
        for (size_t i = 0; i < info->settings_size && !e; i++)
            if (!strcmp(info->settings[i].key, it->string)) e = &info->settings[i];
        if (!e) {
            cm_str known = {0};
            for (size_t i = 0; i < info->settings_size; i++)
                cm_str_printf(&known, "%s%s", i ? ", " : "", info->settings[i].key);
            rc = cm_error(CM_ERR_FORMAT, "%s: field 'settings.%s': not a %s setting (expected %s)", where, it->string,
                          info->name, known.s ? known.s : "no settings");
            cm_str_free(&known);
            break;
        }
        if ((rc = set_one(e, it, where, (char *)out))) break;
    }
    if (!rc) rc = check_together(t, json, where, out);
    if (rc) cm_task_settings_free(t, out);
    return rc;
}

void cm_task_settings_free(cm_task_type t, cm_task_settings *s) {
    if (!s || (unsigned)t >= CM_TASK_TYPE_COUNT) return;
    const cm_task_type_info *info = &cm_task_types[t];
    for (size_t i = 0; i < info->settings_size; i++)
        if (info->settings[i].kind == CM_SETTING_STRINGS) {
            cm_setting_strs *v = (cm_setting_strs *)((char *)s + info->settings[i].offset);
            free((void *)v->v);
            v->v = NULL;
            v->n = 0;
        }
}
