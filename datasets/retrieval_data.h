/*
 * retrieval_data.h: the BEIR layout retrieval tasks come in, as MTEB reads it.
 *
 *   DIR/corpus.jsonl[.gz]      {"_id", "title" (optional), "text"}
 *   DIR/queries.jsonl[.gz]     {"_id", "text"}
 *   DIR/qrels/SPLIT.tsv        header "query-id  corpus-id  score" (also .jsonl/.csv)
 *
 * (any file cm_data_find_split finds under those names). The qrels decide
 * which queries count: queries are filtered to those in the qrels (BEIR's
 * GenericDataLoader and m1.12's HFDataLoader); rows with score 0 are kept;
 * a later row for the same (query, document) overrides an earlier one, as a
 * Python dict does. Ids may be strings or integers in the files.
 *
 * The corpus is streamed (cm_corpus_reader) so that a large corpus is never
 * held in memory; each document's text is MTEB's
 * (title + " " + text).strip(), or text.strip() without a title.
 *
 * Ownership: cm_retrieval_data_load allocates everything it returns and
 * cm_retrieval_data_free releases it (NULL is fine). A corpus reader owns the
 * batch it hands out until the next call or cm_corpus_close.
 */
#ifndef CMTEB_DATASETS_RETRIEVAL_DATA_H
#define CMTEB_DATASETS_RETRIEVAL_DATA_H

#include <stddef.h>

/* One judged (qrels) document of a query. */
typedef struct cm_judged {
    const char *doc;   /* borrowed */
    int         rel;
} cm_judged;


/* Sorts judged documents by id and drops duplicates, keeping the LAST row of
 * each id (a later qrels row overrides, as a Python dict does); *n becomes the
 * new count. The array is reordered in place. CM_OK or CM_ERR_NOMEM. */
int cm_judged_normalize(cm_judged *judged, size_t *n);

typedef struct cm_retrieval_query {
    char      *id;
    char      *text;      /* NULL when the queries file has no such id */
    cm_judged *judged;    /* (n_judged), sorted by document id, unique; strings owned by the data */
    size_t     n_judged;
} cm_retrieval_query;

typedef struct cm_retrieval_data {
    cm_retrieval_query *queries;   /* (n_queries), in first-appearance order of the qrels */
    size_t              n_queries;
    size_t              n_with_text;
    size_t              n_qrels_rows;
    char               *corpus_path;
    char               *queries_path;
    char               *qrels_path;
    struct arena_block *arena;     /* storage of the judged document ids (private) */
} cm_retrieval_data;

/* Loads the qrels of split and the texts of their queries from dir, and
 * locates the corpus file (not read here). */
int  cm_retrieval_data_load(cm_retrieval_data **out, const char *dir, const char *split);
void cm_retrieval_data_free(cm_retrieval_data *d);

/* MTEB's corpus text: (title + " " + text).strip() when title is non-NULL,
 * else text.strip(), with Python's str.strip() set of whitespace (ASCII
 * whitespace, \x1c-\x1f, U+0085, U+00A0 and the Unicode spaces). Caller frees. */
char *cm_corpus_text(const char *title, const char *text);

typedef struct cm_corpus_reader cm_corpus_reader;

typedef struct cm_corpus_params {
    int read_ahead;   /* 1 (default): a thread of the reader parses the next batch while the caller works on the
                       * current one; 0: every batch is read on the caller's thread, in cm_corpus_next */
} cm_corpus_params;

cm_corpus_params cm_corpus_default_params(void);
/* Opens a corpus file for streaming; params NULL: the defaults. *out: close with cm_corpus_close. */
int  cm_corpus_open(cm_corpus_reader **out, const char *path, const cm_corpus_params *params);
/* Reads up to max documents: *ids and *texts (*n of each) are owned by the
 * reader and valid until the next call. *n == 0 at the end of the file. */
int  cm_corpus_next(cm_corpus_reader *r, size_t max, const char *const **ids, const char *const **texts, size_t *n);
/* Documents read so far. */
size_t cm_corpus_count(const cm_corpus_reader *r);
void cm_corpus_close(cm_corpus_reader *r);

/* Counts the documents of a corpus file (one streaming pass, texts not kept). */
int  cm_corpus_count_file(const char *path, size_t *n);

#endif
