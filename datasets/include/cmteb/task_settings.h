/*
 * task_settings.h: task types, their typed settings and the schema that maps
 * a task's "settings" JSON object onto them.
 *
 * Every task type has a settings struct (cm_sts_settings, ...) and a schema:
 * one cm_setting_schema per accepted key, saying the JSON kind it must have,
 * its range or choices and where it goes in the struct. cm_task_settings_parse
 * starts from the type's defaults (cm_task_default_settings), checks every key
 * of the JSON object against the schema (an unknown key or a bad value is an
 * error "WHERE: field 'settings.KEY': expected ...") and fills the struct.
 * datasets/task.c does this once when a task is parsed (catalog, demo and
 * --task-file tasks), so evaluators (tasks/) read typed fields only.
 * README.md "Task files" lists the settings per type.
 *
 * Ownership: string fields borrow from the settings JSON they were parsed
 * from (a cm_task keeps it in settings_json); string arrays (cm_setting_strs)
 * are allocated by cm_task_settings_parse and released by
 * cm_task_settings_free.
 */
#ifndef CMTEB_TASK_SETTINGS_H
#define CMTEB_TASK_SETTINGS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cm_task_type {
    CM_TASK_CLASSIFICATION = 0,
    CM_TASK_CLUSTERING,
    CM_TASK_PAIRCLASSIFICATION,
    CM_TASK_RERANKING,
    CM_TASK_RETRIEVAL,
    CM_TASK_STS,
    CM_TASK_SUMMARIZATION,
    CM_TASK_TYPE_COUNT
} cm_task_type;

#define CM_MAX_K_VALUES 32

/* An integer-array setting (k_values). */
typedef struct cm_setting_ints {
    size_t n;
    long   v[CM_MAX_K_VALUES];
} cm_setting_ints;

/* A string-array setting (subsets); v is owned by the settings, the strings
 * borrow from the settings JSON. */
typedef struct cm_setting_strs {
    size_t       n;
    const char **v;
} cm_setting_strs;

typedef enum cm_clustering_protocol {
    CM_CLUSTERING_V1 = 0,   /* MTEB v1 AbsTaskClustering */
    CM_CLUSTERING_FAST = 1, /* MTEB 2 ClusteringFast */
} cm_clustering_protocol;

/* "v1" or "fast"; CM_ERR_ARG ("... expected v1 or fast") otherwise. */
int         cm_clustering_protocol_parse(const char *s, cm_clustering_protocol *out);
const char *cm_clustering_protocol_name(cm_clustering_protocol p);

/* Classification (tasks/classification/classification.c). */
typedef struct cm_classification_settings {
    long        n_experiments;       /* 10 */
    long        samples_per_label;   /* 8 */
    long        test_subsample;      /* 0: no cap on the eval split */
    long        test_subsample_seed; /* 42 */
    long        seed;                /* 42: the undersampling RandomState */
    long        max_iter;            /* 100: logistic regression iterations */
    const char *train_split;         /* "train" */
    const char *text_field;          /* "text" */
    const char *label_field;         /* "label" */
} cm_classification_settings;

/* Clustering (tasks/clustering/clustering.c). */
typedef struct cm_clustering_settings {
    int         protocol;                  /* cm_clustering_protocol: v1 */
    long        batch_size;                /* 500: v1 MiniBatchKMeans batch */
    long        seed;                      /* 42 */
    const char *text_field;                /* "sentences" */
    const char *label_field;               /* "labels" */
    long        max_size;                  /* 100000: fast, pooled documents kept */
    long        max_documents_per_cluster; /* 16384: fast, documents per bootstrap round */
    long        n_bootstrap;               /* 10: fast, rounds per level */
    long        fast_batch_size;           /* 512: fast, MiniBatchKMeans batch */
    long        max_depth;                 /* 0: every label level */
    long        max_document_to_embed;     /* 0: none */
    double      max_fraction_of_documents_to_embed; /* 0.04; NAN: none (null, or only
                                                       max_document_to_embed was set) */
} cm_clustering_settings;

/* Reranking (tasks/reranking/reranking.c). */
typedef struct cm_reranking_settings {
    long mrr_at_k;    /* 10 */
    int  multi_query; /* false; informational: list-valued queries are read as such either way */
} cm_reranking_settings;

/* Retrieval (tasks/retrieval/retrieval.c). */
typedef struct cm_retrieval_settings {
    cm_setting_ints k_values;             /* 1, 3, 5, 10, 20, 100, 1000 */
    long            corpus_chunk_size;    /* 50000 */
    int             ignore_identical_ids; /* true */
    cm_setting_strs subsets;              /* none: the data folder itself */
    int             aggregate;            /* 0: "mean" over subsets (the only one) */
} cm_retrieval_settings;

/* STS (tasks/sts/sts.c). */
typedef struct cm_sts_settings {
    double      min_score, max_score; /* 0, 5 */
    const char *sentence1_field;      /* NULL: datasets/sts_data.h's defaults */
    const char *sentence2_field;
    const char *score_field;
} cm_sts_settings;

/* Summarization (tasks/summarization/summarization.c). */
typedef struct cm_summarization_settings {
    double min_score, max_score; /* 0, 5 */
    int    v1_pvalue_bug;        /* false */
} cm_summarization_settings;

/* A task's typed settings; the member is the task's type (PairClassification
 * has no settings). */
typedef union cm_task_settings {
    cm_classification_settings classification;
    cm_clustering_settings     clustering;
    cm_reranking_settings      reranking;
    cm_retrieval_settings      retrieval;
    cm_sts_settings            sts;
    cm_summarization_settings  summarization;
} cm_task_settings;

typedef enum cm_setting_kind {
    CM_SETTING_NUMBER,  /* double, in [lo, hi] ((lo, hi] with CM_SETTING_LO_OPEN) */
    CM_SETTING_INT,     /* long, an integer in [lo, hi] */
    CM_SETTING_BOOL,    /* int, true or false */
    CM_SETTING_STRING,  /* const char *, non-empty */
    CM_SETTING_ENUM,    /* int, the index of the string among choices */
    CM_SETTING_INTS,    /* cm_setting_ints, 1 to CM_MAX_K_VALUES integers in [lo, hi] */
    CM_SETTING_STRINGS, /* cm_setting_strs, a non-empty array of non-empty strings */
} cm_setting_kind;

enum {
    CM_SETTING_NULLABLE = 1, /* NUMBER: null allowed, stored as NAN */
    CM_SETTING_LO_OPEN = 2,  /* NUMBER: lo itself excluded */
};

typedef struct cm_setting_schema {
    const char         *key;
    cm_setting_kind     kind;
    double              lo, hi;  /* NUMBER, INT, INTS: the accepted range */
    const char *const  *choices; /* ENUM: NULL-terminated names */
    unsigned            flags;   /* CM_SETTING_NULLABLE, CM_SETTING_LO_OPEN */
    size_t              offset;  /* of the field in the type's settings struct */
} cm_setting_schema;

/* What a task type is: its name, the main score its results carry by
 * default, and its settings schema. */
typedef struct cm_task_type_info {
    cm_task_type             type;
    const char              *name;               /* "STS", "Retrieval", ... */
    const char              *default_main_score; /* "cosine_spearman", "ndcg_at_10", ... */
    const cm_setting_schema *settings;
    size_t                   settings_size;
} cm_task_type_info;

/* The info of every type, indexed by cm_task_type; static, never freed. */
extern const cm_task_type_info cm_task_types[CM_TASK_TYPE_COUNT];

/* The defaults of type t's settings (by value; nothing to free). */
cm_task_settings cm_task_default_settings(cm_task_type t);

/* Fills *out from the settings object json (NULL: all defaults), checking it
 * against type t's schema; errors name where ("FILE: task NAME") and the
 * field. json must outlive *out (strings borrow from it). On error *out holds
 * nothing to free. */
int cm_task_settings_parse(cm_task_type t, const cJSON *json, const char *where, cm_task_settings *out);
/* Releases what cm_task_settings_parse allocated in s (NULL ok). */
void cm_task_settings_free(cm_task_type t, cm_task_settings *s);

#ifdef __cplusplus
}
#endif
#endif
