/* retrieval_data.c: BEIR-layout qrels, queries and a streaming corpus reader (see retrieval_data.h). */
#include "datasets/retrieval_data.h"
#include "cmteb/array.h"
#include "cmteb/strmap.h"
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- Python's str.strip() ------------------------------------------------- */
/* Length of the whitespace character at s (0 if none), in UTF-8. */
static size_t ws_len(const unsigned char *s, const unsigned char *end) {
    if (s >= end) return 0;
    unsigned char c = s[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c == 0xc2 && s + 1 < end && (s[1] == 0x85 || s[1] == 0xa0)) return 2;
    if (c == 0xe1 && s + 2 < end && s[1] == 0x9a && s[2] == 0x80) return 3;           /* U+1680 */
    if (c == 0xe2 && s + 2 < end && s[1] == 0x80 && (s[2] <= 0x8a || s[2] == 0xa8 || s[2] == 0xa9 || s[2] == 0xaf))
        return s[2] >= 0x80 ? 3 : 0; /* U+2000-200A, 2028, 2029, 202F */
    if (c == 0xe2 && s + 2 < end && s[1] == 0x81 && s[2] == 0x9f) return 3;           /* U+205F */
    if (c == 0xe3 && s + 2 < end && s[1] == 0x80 && s[2] == 0x80) return 3;           /* U+3000 */
    return 0;
}

/* Whitespace ending exactly at end: its length (0 if none). */
static size_t ws_len_back(const unsigned char *start, const unsigned char *end) {
    for (size_t l = 1; l <= 3; l++)
        if (end - start >= (ptrdiff_t)l && ws_len(end - l, end) == l) return l;
    return 0;
}

static char *py_strip(const char *s, size_t len) {
    const unsigned char *a = (const unsigned char *)s, *b = a + len;
    size_t w;
    while ((w = ws_len(a, b)) > 0) a += w;
    while (b > a && (w = ws_len_back(a, b)) > 0) b -= w;
    return cm_strndup((const char *)a, (size_t)(b - a));
}

char *cm_corpus_text(const char *title, const char *text) {
    if (!title) return py_strip(text, strlen(text));
    size_t lt = strlen(title), lx = strlen(text);
    char *joined = cm_malloc(lt + lx + 2);
    if (!joined) return NULL;
    memcpy(joined, title, lt);
    joined[lt] = ' ';
    memcpy(joined + lt + 1, text, lx + 1);
    char *out = py_strip(joined, lt + lx + 1);
    free(joined);
    return out;
}

/* ---- ids ----------------------------------------------------------------- */
/* A record's id field as a string: a JSON string, or an integer written in
 * decimal (some hub files store numeric ids). buf holds the formatted number. */
static int rec_id(const cm_records *r, const cJSON *obj, const char *field, char *buf, size_t cap, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (cJSON_IsString(v)) {
        *out = v->valuestring;
        return CM_OK;
    }
    if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9.0e15) {
        snprintf(buf, cap, "%.0f", v->valuedouble);
        *out = buf;
        return CM_OK;
    }
    return cm_rec_error(r, field, v ? "expected a string or integer id" : "missing (expected a string or integer id)");
}

/* First present field among names (qrels files spell the columns two ways). */
static const char *pick_field(const cJSON *obj, const char *a, const char *b) {
    return cJSON_GetObjectItemCaseSensitive(obj, a) || !cJSON_GetObjectItemCaseSensitive(obj, b) ? a : b;
}

/* Index of id among the n queries (m maps query ids to indices), or n when absent. */
static size_t idmap_find(const cm_strmap *m, size_t n, const char *id) {
    uint64_t v;
    return cm_strmap_get(m, id, &v) ? (size_t)v : n;
}

/* ---- a string arena for the judged document ids ------------------------------
 * (duplicates dropped by cm_judged_normalize need no freeing one by one) */
typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    char data[];
} arena_block;

static char *arena_strdup(arena_block **head, const char *s) {
    size_t len = strlen(s) + 1;
    if (!*head || (*head)->cap - (*head)->used < len) {
        size_t cap = len > 65536 ? len : 65536;
        arena_block *b = cm_malloc(sizeof *b + cap);
        if (!b) return NULL;
        b->next = *head;
        b->used = 0;
        b->cap = cap;
        *head = b;
    }
    char *p = (*head)->data + (*head)->used;
    memcpy(p, s, len);
    (*head)->used += len;
    return p;
}

static void arena_free(arena_block *b) {
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
}

/* ---- loading ----------------------------------------------------------------- */
void cm_retrieval_data_free(cm_retrieval_data *d) {
    if (!d) return;
    for (size_t i = 0; i < d->n_queries; i++) {
        cm_retrieval_query *q = &d->queries[i];
        free(q->id);
        free(q->text);
        free(q->judged);
    }
    arena_free(d->arena);
    free(d->queries);
    free(d->corpus_path);
    free(d->queries_path);
    free(d->qrels_path);
    free(d);
}

typedef struct {
    size_t cap_q;   /* capacity of d->queries */
    size_t cap_cj;  /* capacity of cap_j */
    size_t *cap_j;  /* per query */
} growth;

static int add_qrel(cm_retrieval_data *d, cm_strmap *m, growth *g, const char *qid, const char *doc, int rel) {
    size_t qi = idmap_find(m, d->n_queries, qid);
    if (qi == d->n_queries) {
        if (cm_array_reserve(d->queries, g->cap_q, d->n_queries + 1) ||
            cm_array_reserve(g->cap_j, g->cap_cj, d->n_queries + 1))
            return CM_ERR_NOMEM;
        cm_retrieval_query *q = &d->queries[d->n_queries];
        memset(q, 0, sizeof *q);
        g->cap_j[d->n_queries] = 0;
        if (!(q->id = cm_strdup(qid))) return CM_ERR_NOMEM;
        /* the key borrows q->id, which lives as long as the data */
        if (cm_strmap_put(m, q->id, d->n_queries) < 0) { free(q->id); q->id = NULL; return CM_ERR_NOMEM; }
        d->n_queries++;
    }
    cm_retrieval_query *q = &d->queries[qi];
    if (cm_array_reserve(q->judged, g->cap_j[qi], q->n_judged + 1)) return CM_ERR_NOMEM;
    char *dup = arena_strdup(&d->arena, doc);
    if (!dup) return CM_ERR_NOMEM;
    q->judged[q->n_judged].doc = dup;
    q->judged[q->n_judged++].rel = rel;
    return CM_OK;
}

static int load_qrels(cm_retrieval_data *d, cm_strmap *m) {
    cm_records *r = NULL;
    CM_TRY(cm_data_open(&r, d->qrels_path));
    growth g = {0, 0, NULL};
    int rc;
    cJSON *obj;
    char qbuf[32], dbuf[32];
    while ((rc = cm_records_next(r, &obj)) == 1) {
        const char *qid = NULL, *doc = NULL;
        double score;
        if ((rc = rec_id(r, obj, pick_field(obj, "query-id", "query_id"), qbuf, sizeof qbuf, &qid))) break;
        if ((rc = rec_id(r, obj, pick_field(obj, "corpus-id", "corpus_id"), dbuf, sizeof dbuf, &doc))) break;
        if ((rc = cm_rec_number(r, obj, "score", &score))) break;
        if (!isfinite(score) || fabs(score) > 1e9) {
            rc = cm_rec_error(r, "score", "expected an integer relevance");
            break;
        }
        if ((rc = add_qrel(d, m, &g, qid, doc, (int)score))) break; /* int(score), as MTEB reads it */
        d->n_qrels_rows++;
    }
    cm_records_close(r);
    free(g.cap_j);
    if (rc < 0) return rc;
    if (d->n_queries == 0)
        return cm_error(CM_ERR_FORMAT, "%s: no qrels rows (expected query-id, corpus-id, score)", d->qrels_path);
    for (size_t i = 0; i < d->n_queries; i++)
        CM_TRY(cm_judged_normalize(d->queries[i].judged, &d->queries[i].n_judged));
    return CM_OK;
}

static int load_queries(cm_retrieval_data *d, const cm_strmap *m) {
    cm_records *r = NULL;
    CM_TRY(cm_data_open(&r, d->queries_path));
    int rc;
    cJSON *obj;
    char buf[32];
    while ((rc = cm_records_next(r, &obj)) == 1) {
        const char *id = NULL, *text = NULL;
        if ((rc = rec_id(r, obj, "_id", buf, sizeof buf, &id))) break;
        size_t qi = idmap_find(m, d->n_queries, id);
        if (qi == d->n_queries) continue; /* not in this split's qrels */
        if ((rc = cm_rec_string(r, obj, "text", &text))) break;
        cm_retrieval_query *q = &d->queries[qi];
        if (!q->text) d->n_with_text++;
        free(q->text);
        if (!(q->text = cm_strdup(text))) { rc = CM_ERR_NOMEM; break; }
    }
    cm_records_close(r);
    return rc < 0 ? rc : CM_OK;
}

int cm_retrieval_data_load(cm_retrieval_data **out, const char *dir, const char *split) {
    *out = NULL;
    cm_retrieval_data *d = cm_calloc(1, sizeof *d);
    if (!d) return CM_ERR_NOMEM;
    cm_strmap *m = NULL;
    int rc = cm_strmap_init(&m, NULL);
    if (rc) { free(d); return rc; }
    char *qrels_dir = cm_path_join(dir, "qrels");
    if (!qrels_dir) { rc = CM_ERR_NOMEM; goto done; }
    if (!cm_dir_exists(dir)) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: data folder not found (expected a BEIR layout: corpus.jsonl, "
                      "queries.jsonl, qrels/%s.tsv)", dir, split);
        goto done;
    }
    if (!cm_dir_exists(qrels_dir)) {
        rc = cm_error(CM_ERR_NOTFOUND, "%s: no qrels folder (expected %s/qrels/%s.tsv in the BEIR layout)", dir, dir,
                      split);
        goto done;
    }
    if ((rc = cm_data_find_split(qrels_dir, NULL, split, &d->qrels_path))) goto done;
    if ((rc = cm_data_find_split(dir, NULL, "queries", &d->queries_path))) {
        rc = cm_error_wrap(rc, "retrieval queries");
        goto done;
    }
    if ((rc = cm_data_find_split(dir, NULL, "corpus", &d->corpus_path))) {
        rc = cm_error_wrap(rc, "retrieval corpus");
        goto done;
    }
    if ((rc = load_qrels(d, m))) goto done;
    if ((rc = load_queries(d, m))) goto done;
done:
    free(qrels_dir);
    cm_strmap_free(m);
    if (rc) {
        cm_retrieval_data_free(d);
        return rc;
    }
    *out = d;
    return CM_OK;
}

/* ---- the corpus, streamed ------------------------------------------------------
 * A thread of the reader parses the next batch while the caller embeds and searches the current one (the parse
 * is serial work: with it on the caller's thread, the other cores waited for it at every batch). Two batches
 * take turns: the thread fills one while the caller holds the other; the caller's batch goes back to the thread
 * at the caller's next call, when it has handed all of it out. The thread stops at the end of the file or at the
 * first bad record, whose error (its message copied from the thread) the caller gets in the batch's place, as
 * when it read the batch itself: the records before it in that batch are dropped. */
enum { BATCH_FREE, BATCH_FILLING, BATCH_FULL };

typedef struct {
    char **ids, **texts;   /* (n) owned */
    size_t n, cap;
    int    state;          /* BATCH_* */
    int    rc;             /* CM_OK, or the error that ended the file's reading */
    int    eof;            /* the file ended after these records */
    char   msg[2048];      /* rc's message */
} corpus_batch;

struct cm_corpus_reader {
    cm_corpus_params p;
    cm_records     *rec;       /* read by the thread only, once started */
    corpus_batch    b[2];
    size_t          bmax;      /* records per batch: the first call's max */
    int             next;      /* the batch the caller takes next */
    corpus_batch   *cur;       /* the batch being handed out, or NULL */
    size_t          off;       /* records of cur handed out */
    size_t          count;
    int             started, quit;
    int             ended;     /* the caller has taken the file's last batch */
    pthread_t       th;
    pthread_mutex_t mu;
    pthread_cond_t  cv;
};

static void clear_batch(corpus_batch *b) {
    for (size_t i = 0; i < b->n; i++) {
        free(b->ids[i]);
        free(b->texts[i]);
    }
    b->n = 0;
}

/* Reads up to max records into b: CM_OK, or an error (b then holds what came before). */
static int fill_batch(cm_records *rec, corpus_batch *b, size_t max, int *eof) {
    *eof = 0;
    if (max > b->cap) {
        char **ni = cm_realloc(b->ids, max * sizeof *ni);
        if (!ni) return CM_ERR_NOMEM;
        b->ids = ni;
        char **nt = cm_realloc(b->texts, max * sizeof *nt);
        if (!nt) return CM_ERR_NOMEM;
        b->texts = nt;
        b->cap = max;
    }
    int rc = CM_OK, got = 1;   /* got: cm_records_next's last answer (0 at the end of the file) */
    cJSON *obj;
    char buf[32];
    while (b->n < max && (rc = got = cm_records_next(rec, &obj)) == 1) {
        const char *id = NULL, *text = NULL, *title = NULL;
        if ((rc = rec_id(rec, obj, "_id", buf, sizeof buf, &id))) break;
        if ((rc = cm_rec_string(rec, obj, "text", &text))) break;
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(obj, "title");
        if (cJSON_IsString(t)) title = t->valuestring;
        else if (t && !cJSON_IsNull(t)) { rc = cm_rec_error(rec, "title", "expected a string or null"); break; }
        b->ids[b->n] = cm_strdup(id);
        b->texts[b->n] = cm_corpus_text(title, text);
        if (!b->ids[b->n] || !b->texts[b->n]) {
            free(b->ids[b->n]);
            free(b->texts[b->n]);
            rc = CM_ERR_NOMEM;
            break;
        }
        b->n++;
    }
    if (rc < 0) return rc;
    *eof = got == 0;
    return CM_OK;
}

/* fill_batch into b, its outcome kept in b (rc, eof, and rc's message, which is this thread's); on an error the
 * records before it are dropped, as the caller never gets them. */
static void load_batch(cm_records *rec, corpus_batch *b, size_t max) {
    int eof = 0;
    b->rc = fill_batch(rec, b, max, &eof);
    b->eof = eof;
    if (b->rc) {
        snprintf(b->msg, sizeof b->msg, "%s", cm_last_error());
        clear_batch(b);
    }
}

static void *reader_main(void *arg) {
    cm_corpus_reader *r = arg;
    for (int i = 0;; i ^= 1) {
        corpus_batch *b = &r->b[i];
        pthread_mutex_lock(&r->mu);
        while (b->state != BATCH_FREE && !r->quit) pthread_cond_wait(&r->cv, &r->mu);
        if (r->quit) {
            pthread_mutex_unlock(&r->mu);
            return NULL;
        }
        b->state = BATCH_FILLING;
        pthread_mutex_unlock(&r->mu);
        load_batch(r->rec, b, r->bmax);
        const int last = b->rc || b->eof;
        pthread_mutex_lock(&r->mu);
        b->state = BATCH_FULL;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (last) return NULL;
    }
}

cm_corpus_params cm_corpus_default_params(void) {
    cm_corpus_params p = {1};
    return p;
}

int cm_corpus_open(cm_corpus_reader **out, const char *path, const cm_corpus_params *params) {
    *out = NULL;
    cm_corpus_reader *r = cm_calloc(1, sizeof *r);
    if (!r) return CM_ERR_NOMEM;
    r->p = params ? *params : cm_corpus_default_params();
    int rc = cm_data_open(&r->rec, path);
    if (rc) {
        free(r);
        return rc;
    }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    *out = r;
    return CM_OK;
}

/* cm_corpus_next without read-ahead: the batch is read here, into b[0]; an error stays in b[0] and is returned
 * again at every later call, as with read-ahead. */
static int next_here(cm_corpus_reader *r, size_t max) {
    corpus_batch *b = &r->b[0];
    if (r->cur && r->off == r->cur->n) {
        clear_batch(r->cur);
        r->cur = NULL;
    }
    if (!b->rc && !r->cur && !r->ended) {
        load_batch(r->rec, b, max);
        r->ended = b->eof;
        if (!b->rc && b->n > 0) {
            r->cur = b;
            r->off = 0;
        }
    }
    return b->rc ? cm_error(b->rc, "%s", b->msg) : CM_OK;
}

/* Hands out up to max of the current batch's records not handed out yet (none when there is no batch). */
static void hand_out(cm_corpus_reader *r, size_t max, const char *const **ids, const char *const **texts,
                     size_t *n) {
    if (!r->cur) return;
    size_t m = r->cur->n - r->off < max ? r->cur->n - r->off : max;
    *ids = (const char *const *)r->cur->ids + r->off;
    *texts = (const char *const *)r->cur->texts + r->off;
    *n = m;
    r->off += m;
    r->count += m;
}

int cm_corpus_next(cm_corpus_reader *r, size_t max, const char *const **ids, const char *const **texts, size_t *n) {
    *n = 0;
    if (max == 0) return CM_OK;
    if (!r->p.read_ahead) {
        int rc = next_here(r, max);
        if (!rc) hand_out(r, max, ids, texts, n);
        return rc;
    }
    if (!r->started) {
        r->bmax = max;
        if (pthread_create(&r->th, NULL, reader_main, r) != 0)
            return cm_error(CM_ERR_INTERNAL, "cannot start the corpus reader's thread");
        r->started = 1;
    }
    pthread_mutex_lock(&r->mu);
    if (r->cur && r->off == r->cur->n) {   /* all handed out: back to the thread */
        clear_batch(r->cur);
        r->cur->state = BATCH_FREE;
        r->cur = NULL;
        pthread_cond_broadcast(&r->cv);
    }
    int rc = CM_OK;
    if (!r->cur && !r->ended) {
        corpus_batch *b = &r->b[r->next];
        while (b->state != BATCH_FULL) pthread_cond_wait(&r->cv, &r->mu);
        if (b->rc) {
            rc = cm_error(b->rc, "%s", b->msg);   /* and again at every later call: the thread has stopped */
        } else {
            r->ended = b->eof;   /* the thread has stopped: nothing after this batch */
            if (b->n > 0) {
                r->cur = b;
                r->off = 0;
                r->next ^= 1;
            }
        }
    }
    pthread_mutex_unlock(&r->mu);
    if (!rc) hand_out(r, max, ids, texts, n);
    return rc;
}

size_t cm_corpus_count(const cm_corpus_reader *r) { return r->count; }

void cm_corpus_close(cm_corpus_reader *r) {
    if (!r) return;
    if (r->started) {
        pthread_mutex_lock(&r->mu);
        r->quit = 1;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        pthread_join(r->th, NULL);
    }
    for (int i = 0; i < 2; i++) {
        clear_batch(&r->b[i]);
        free(r->b[i].ids);
        free(r->b[i].texts);
    }
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    cm_records_close(r->rec);
    free(r);
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int cm_corpus_count_file(const char *path, size_t *n) {
    *n = 0;
    if (ends_with(path, ".jsonl") || ends_with(path, ".jsonl.gz")) {
        /* Count non-blank lines without parsing them. */
        gzFile f = gzopen(path, "rb");
        if (!f) return cm_error(CM_ERR_IO, "%s: cannot open", path);
        gzbuffer(f, 1 << 17);
        static const size_t bufsz = 1 << 16;
        char *buf = cm_malloc(bufsz);
        if (!buf) {
            gzclose(f);
            return CM_ERR_NOMEM;
        }
        int content = 0, got;   /* content: the current line has a character other than ' ', '\t', '\r' */
        while ((got = gzread(f, buf, (unsigned)bufsz)) > 0) {
            const char *p = buf, *end = buf + got;
            while (p < end) {
                if (!content) {   /* a line's leading blanks; then it is blank ('\n') or it counts */
                    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
                    if (p == end) break;
                    if (*p == '\n') {
                        p++;
                        continue;
                    }
                    content = 1;
                }
                const char *nl = memchr(p, '\n', (size_t)(end - p));   /* the rest of a counted line: skipped */
                if (!nl) break;
                (*n)++;
                content = 0;
                p = nl + 1;
            }
        }
        *n += (size_t)content;
        int err = 0;
        if (got < 0) gzerror(f, &err);
        gzclose(f);
        free(buf);
        return got < 0 ? cm_error(CM_ERR_IO, "%s: read failed", path) : CM_OK;
    }
    cm_records *r = NULL;
    CM_TRY(cm_data_open(&r, path));
    cJSON *obj;
    int rc;
    while ((rc = cm_records_next(r, &obj)) == 1) (*n)++;
    cm_records_close(r);
    return rc < 0 ? rc : CM_OK;
}

/* ---- qrels normalisation --------------------------------------------------- */
/* A judged row with its input position, so that the sort keeps the last duplicate. */
typedef struct {
    cm_judged j;
    size_t    pos;
} judged_pos;

static int cmp_judged_pos(const void *a, const void *b) {
    const judged_pos *x = a, *y = b;
    int c = strcmp(x->j.doc, y->j.doc);
    if (c) return c;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

int cm_judged_normalize(cm_judged *judged, size_t *n) {
    if (*n < 2) return CM_OK;
    judged_pos *tmp = cm_malloc(*n * sizeof *tmp);
    if (!tmp) return CM_ERR_NOMEM;
    for (size_t i = 0; i < *n; i++) {
        tmp[i].j = judged[i];
        tmp[i].pos = i;
    }
    qsort(tmp, *n, sizeof *tmp, cmp_judged_pos);
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (i + 1 < *n && !strcmp(tmp[i].j.doc, tmp[i + 1].j.doc)) continue; /* a later row overrides */
        judged[k++] = tmp[i].j;
    }
    free(tmp);
    *n = k;
    return CM_OK;
}
