/* train_data.c: reads train-pooler's training sources and mines hard negatives (train_data.h). */
#include "eval/cli/train_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmteb/array.h"
#include "cmteb/log.h"
#include "cmteb/records.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

void cm_train_set_free(cm_train_set *s) {
    for (size_t i = 0; i < s->n; i++) free(s->texts[i]);
    free(s->texts); free(s->roles); free(s->ex); free(s->n_neg);
    cm_strmap_free(s->index);
    memset(s, 0, sizeof *s);
}

/* The position of (role, text) in the set, added when new. */
static int intern(cm_train_set *s, const char *text, cm_role role, size_t *at) {
    if (!s->index) {
        cm_strmap_params sp = cm_strmap_default_params();
        sp.copy_keys = 1;
        CM_TRY(cm_strmap_init(&s->index, &sp));
    }
    size_t len = strlen(text);
    char *key = cm_malloc(len + 2);
    if (!key) return CM_ERR_NOMEM;
    key[0] = role == CM_ROLE_QUERY ? 'q' : 'd';
    memcpy(key + 1, text, len + 1);
    uint64_t v = 0;
    int rc = CM_OK;
    if (cm_strmap_getn(s->index, key, len + 1, &v)) {
        *at = (size_t)v;
    } else if ((rc = cm_array_reserve2(s->texts, s->roles, s->cap, s->n + 1)) == CM_OK) {
        if (!(s->texts[s->n] = cm_strdup(text))) rc = CM_ERR_NOMEM;
        else {
            s->roles[s->n] = role;
            rc = cm_strmap_putn(s->index, key, len + 1, s->n) < 0 ? CM_ERR_NOMEM : CM_OK;
            if (rc == CM_OK) *at = s->n++;
            else free(s->texts[s->n]);
        }
    }
    free(key);
    return rc;
}

static int add_example(cm_train_set *s, size_t q, size_t pos) {
    CM_TRY(cm_array_reserve2(s->ex, s->n_neg, s->cap_ex, s->n_ex + 1));
    memset(&s->ex[s->n_ex], 0, sizeof s->ex[0]);
    s->ex[s->n_ex].q = q;
    s->ex[s->n_ex].pos = pos;
    s->n_neg[s->n_ex++] = 0;
    return CM_OK;
}

/* A source before interning: queries and their positives/negatives as strings into a document pool. */
typedef struct source {
    char  **docs;        /* the pool mining searches (owned) */
    size_t  n_docs, cap_docs;
    char  **queries;     /* (n_pairs) borrowed from qtexts */
    size_t *pos;         /* (n_pairs) doc index of the positive */
    size_t  n_pairs, cap_pairs;
    size_t *given;       /* (n_pairs * CM_POOLER_MAX_NEG) given negatives (doc index), count in n_given */
    size_t *n_given;
    char  **qtexts;      /* owned query strings */
    size_t  n_q, cap_q;
} source;

static void source_free(source *s) {
    for (size_t i = 0; i < s->n_docs; i++) free(s->docs[i]);
    for (size_t i = 0; i < s->n_q; i++) free(s->qtexts[i]);
    free(s->docs); free(s->queries); free(s->pos); free(s->given); free(s->n_given); free(s->qtexts);
}

static int push_doc(source *s, const char *text, size_t *at) {
    CM_TRY(cm_array_reserve(s->docs, s->cap_docs, s->n_docs + 1));
    if (!(s->docs[s->n_docs] = cm_strdup(text))) return CM_ERR_NOMEM;
    *at = s->n_docs++;
    return CM_OK;
}

static int push_pair(source *s, const char *q, size_t pos) {
    size_t cap = s->cap_pairs;
    CM_TRY(cm_array_reserve3(s->queries, s->pos, s->n_given, cap, s->n_pairs + 1));
    if (cap != s->cap_pairs || !s->given) {
        size_t *g = cm_realloc(s->given, cap * CM_POOLER_MAX_NEG * sizeof(size_t));
        if (!g) return CM_ERR_NOMEM;
        s->given = g;
    }
    s->cap_pairs = cap;
    s->queries[s->n_pairs] = (char *)q;
    s->pos[s->n_pairs] = pos;
    s->n_given[s->n_pairs++] = 0;
    return CM_OK;
}

static int own_query(source *s, const char *q, char **out) {
    CM_TRY(cm_array_reserve(s->qtexts, s->cap_q, s->n_q + 1));
    if (!(s->qtexts[s->n_q] = cm_strdup(q))) return CM_ERR_NOMEM;
    *out = s->qtexts[s->n_q++];
    return CM_OK;
}

/* MTEB's corpus text: (title + " " + text).strip() */
static char *corpus_text(const char *title, const char *text) {
    char *j = title && *title ? cm_asprintf("%s %s", title, text) : cm_strdup(text);
    if (!j) return NULL;
    size_t b = 0, e = strlen(j);
    while (b < e && (j[b] == ' ' || j[b] == '\n' || j[b] == '\t')) b++;
    while (e > b && (j[e - 1] == ' ' || j[e - 1] == '\n' || j[e - 1] == '\t')) e--;
    memmove(j, j + b, e - b);
    j[e - b] = '\0';
    return j;
}

static int read_beir(const char *arg, size_t limit, source *s) {
    char *dir = cm_strdup(arg);
    if (!dir) return CM_ERR_NOMEM;
    char *hash = strchr(dir, '#');
    const char *split = "train";
    if (hash) {
        *hash = '\0';
        split = hash + 1;
    }
    int rc = CM_OK;
    if (!strcmp(split, "test"))
        rc = cm_error(CM_ERR_ARG, "beir:%s: refusing split 'test' as training data (it is the split MTEB evaluates); "
                      "train on 'train' (or 'dev')", dir);
    char *qpath = rc ? NULL : cm_path_join(dir, "queries.jsonl");
    char *cpath = rc ? NULL : cm_path_join(dir, "corpus.jsonl");
    char *rel = rc ? NULL : cm_asprintf("qrels/%s.tsv", split), *rpath = rel ? cm_path_join(dir, rel) : NULL;
    if (rc == CM_OK && (!qpath || !cpath || !rpath)) rc = CM_ERR_NOMEM;
    if (rc == CM_OK && !cm_file_exists(rpath))
        rc = cm_error(CM_ERR_NOTFOUND, "%s: not found (beir:DIR[#SPLIT] needs qrels/SPLIT.tsv)", rpath);
    cm_strmap *qmap = NULL, *dmap = NULL;
    cm_strmap_params sp = cm_strmap_default_params();
    sp.copy_keys = 1;   /* ids borrowed from records that the next read frees */
    if (rc == CM_OK) rc = cm_strmap_init(&qmap, &sp);
    if (rc == CM_OK) rc = cm_strmap_init(&dmap, &sp);
    char **qs = NULL;
    size_t nq = 0, capq = 0;
    cm_records *r = NULL;
    cJSON *o = NULL;
    int k = 0;
    if (rc == CM_OK && (rc = cm_records_open(&r, qpath)) == CM_OK) {
        while (rc == CM_OK && (k = cm_records_next(r, &o)) == 1) {
            const char *id = NULL, *t = NULL;
            if ((rc = cm_rec_string(r, o, "_id", &id)) || (rc = cm_rec_string(r, o, "text", &t))) break;
            if ((rc = cm_array_reserve(qs, capq, nq + 1))) break;
            if (!(qs[nq] = cm_strdup(t))) rc = CM_ERR_NOMEM;
            else rc = cm_strmap_put(qmap, id, nq++) < 0 ? CM_ERR_NOMEM : CM_OK;
        }
        if (rc == CM_OK && k < 0) rc = k;
        cm_records_close(r);
    }
    if (rc == CM_OK && (rc = cm_records_open(&r, cpath)) == CM_OK) {
        while (rc == CM_OK && (k = cm_records_next(r, &o)) == 1) {
            const char *id = NULL, *t = NULL, *title = NULL;
            if ((rc = cm_rec_string(r, o, "_id", &id)) || (rc = cm_rec_string(r, o, "text", &t))) break;
            const cJSON *tt = cJSON_GetObjectItemCaseSensitive(o, "title");
            if (cJSON_IsString(tt)) title = tt->valuestring;
            char *full = corpus_text(title, t);
            size_t at = 0;
            rc = full ? push_doc(s, full, &at) : CM_ERR_NOMEM;
            free(full);
            if (rc == CM_OK) rc = cm_strmap_put(dmap, id, at) < 0 ? CM_ERR_NOMEM : CM_OK;
        }
        if (rc == CM_OK && k < 0) rc = k;
        cm_records_close(r);
    }
    if (rc == CM_OK && (rc = cm_records_open(&r, rpath)) == CM_OK) {
        while (rc == CM_OK && (k = cm_records_next(r, &o)) == 1 && (!limit || s->n_pairs < limit)) {
            const char *qid = NULL, *did = NULL;
            double score = 0;
            if ((rc = cm_rec_string(r, o, "query-id", &qid)) || (rc = cm_rec_string(r, o, "corpus-id", &did))) break;
            const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "score");
            if (cJSON_IsString(sc)) score = atof(sc->valuestring);
            else if (cJSON_IsNumber(sc)) score = sc->valuedouble;
            else { rc = cm_rec_error(r, "score", "expected a number"); break; }
            uint64_t qi = 0, di = 0;
            if (score <= 0) continue;
            if (!cm_strmap_get(qmap, qid, &qi)) { rc = cm_rec_error(r, "query-id", "not in queries.jsonl"); break; }
            if (!cm_strmap_get(dmap, did, &di)) { rc = cm_rec_error(r, "corpus-id", "not in corpus.jsonl"); break; }
            char *q = NULL;
            rc = own_query(s, qs[qi], &q);
            if (rc == CM_OK) rc = push_pair(s, q, (size_t)di);
        }
        if (rc == CM_OK && k < 0) rc = k;
        cm_records_close(r);
    }
    for (size_t i = 0; i < nq; i++) free(qs[i]);
    free(qs);
    cm_strmap_free(qmap);
    cm_strmap_free(dmap);
    free(qpath); free(cpath); free(rel); free(rpath); free(dir);
    return rc;
}

static int read_jsonl(const char *path, size_t limit, source *s) {
    cm_records *r = NULL;
    CM_TRY(cm_records_open(&r, path));
    cJSON *o = NULL;
    int k = 0, rc = CM_OK;
    while (rc == CM_OK && (!limit || s->n_pairs < limit) && (k = cm_records_next(r, &o)) == 1) {
        const char *q = NULL, *p = NULL;
        if ((rc = cm_rec_string(r, o, "query", &q)) || (rc = cm_rec_string(r, o, "positive", &p))) break;
        const cJSON *negs = cJSON_GetObjectItemCaseSensitive(o, "negatives");
        if (negs && !cJSON_IsArray(negs)) { rc = cm_rec_error(r, "negatives", "expected an array of strings"); break; }
        char *qq = NULL;
        size_t at = 0;
        if ((rc = own_query(s, q, &qq)) || (rc = push_doc(s, p, &at)) || (rc = push_pair(s, qq, at))) break;
        size_t pi = s->n_pairs - 1;
        for (const cJSON *n = negs ? negs->child : NULL; rc == CM_OK && n; n = n->next) {
            if (!cJSON_IsString(n)) { rc = cm_rec_error(r, "negatives", "expected an array of strings"); break; }
            if (s->n_given[pi] == CM_POOLER_MAX_NEG) break;
            if ((rc = push_doc(s, n->valuestring, &at)) == CM_OK)
                s->given[pi * CM_POOLER_MAX_NEG + s->n_given[pi]++] = at;
        }
    }
    if (rc == CM_OK && k < 0) rc = k;
    cm_records_close(r);
    return rc;
}

/* Mining: the backbone's mean-pooled vectors of the pairs' queries and of the pool; per pair, the given
 * negatives first, then the best-scoring documents that are not a positive of that query text and score below
 * the positive's score minus the margin. */
static int mine(source *s, cm_pooler_backbone *bb, const cm_train_mining *mp, size_t **negs, size_t **n_negs) {
    size_t d = (size_t)cm_pooler_backbone_dim(bb), np = s->n_pairs, nd = s->n_docs;
    *negs = cm_calloc(np * CM_POOLER_MAX_NEG + 1, sizeof(size_t));
    *n_negs = cm_calloc(np + 1, sizeof(size_t));
    float *qv = cm_malloc(np * d * sizeof(float) + 1), *dv = cm_malloc(nd * d * sizeof(float) + 1);
    float *sc = cm_malloc(nd * sizeof(float) + 1);
    int rc = *negs && *n_negs && qv && dv && sc ? CM_OK : CM_ERR_NOMEM;
    int need = 0;   /* the backbone pass only when some pair lacks given negatives */
    for (size_t i = 0; i < np && !need; i++) need = s->n_given[i] < mp->k;
    if (rc == CM_OK && need) {
        cm_log(CM_LOG_INFO, "mining hard negatives for %zu pairs among %zu documents", np, nd);
        rc = cm_pooler_backbone_mean(bb, (const char *const *)s->queries, np, CM_ROLE_QUERY, mp->instruction, qv);
        if (rc == CM_OK) rc = cm_pooler_backbone_mean(bb, (const char *const *)s->docs, nd, CM_ROLE_DOCUMENT, NULL, dv);
    }
    for (size_t i = 0; rc == CM_OK && i < np; i++) {
        size_t *out = *negs + i * CM_POOLER_MAX_NEG, c = 0;
        for (size_t g = 0; g < s->n_given[i] && c < mp->k; g++) out[c++] = s->given[i * CM_POOLER_MAX_NEG + g];
        if (c >= mp->k) { (*n_negs)[i] = c; continue; }
        for (size_t j = 0; j < nd; j++) sc[j] = (float)cm_dot(qv + i * d, dv + j * d, d);
        float ps = sc[s->pos[i]];
        /* every positive of this query text is excluded (a query can have several) */
        for (size_t q = 0; q < np; q++)
            if (s->queries[q] == s->queries[i] || !strcmp(s->queries[q], s->queries[i])) sc[s->pos[q]] = -INFINITY;
        for (size_t j = 0; j < nd; j++)
            if (sc[j] > ps - mp->margin) sc[j] = -INFINITY;   /* likely false negatives */
        for (size_t g = 0; g < c; g++) sc[out[g]] = -INFINITY;
        while (c < mp->k) {
            size_t best = nd;
            for (size_t j = 0; j < nd; j++)
                if (sc[j] > -INFINITY && (best == nd || sc[j] > sc[best])) best = j;
            if (best == nd) break;
            out[c++] = best;
            sc[best] = -INFINITY;
        }
        (*n_negs)[i] = c;
    }
    free(qv); free(dv); free(sc);
    return rc;
}

int cm_train_set_add(cm_train_set *set, const char *spec, cm_pooler_backbone *bb, const cm_train_mining *mp) {
    source s;
    memset(&s, 0, sizeof s);
    int rc;
    if (!strncmp(spec, "beir:", 5)) rc = read_beir(spec + 5, mp->limit, &s);
    else if (!strncmp(spec, "jsonl:", 6)) rc = read_jsonl(spec + 6, mp->limit, &s);
    else rc = cm_error(CM_ERR_ARG, "--train %s: expected beir:DIR[#SPLIT] or jsonl:FILE", spec);
    if (rc == CM_OK && !s.n_pairs) rc = cm_error(CM_ERR_FORMAT, "--train %s: no (query, positive) pairs", spec);
    size_t *negs = NULL, *n_negs = NULL;
    if (rc == CM_OK) rc = mine(&s, bb, mp, &negs, &n_negs);
    size_t dropped = 0;
    for (size_t i = 0; rc == CM_OK && i < s.n_pairs; i++) {
        size_t q = 0, p = 0;
        if (n_negs[i] < mp->k) {   /* the positive scores near the bottom: too few candidates outside the margin */
            dropped++;
            continue;
        }
        if ((rc = intern(set, s.queries[i], CM_ROLE_QUERY, &q)) ||
            (rc = intern(set, s.docs[s.pos[i]], CM_ROLE_DOCUMENT, &p)) || (rc = add_example(set, q, p)))
            break;
        size_t e = set->n_ex - 1;
        for (size_t j = 0; rc == CM_OK && j < n_negs[i]; j++) {
            size_t at = 0;
            rc = intern(set, s.docs[negs[i * CM_POOLER_MAX_NEG + j]], CM_ROLE_DOCUMENT, &at);
            set->ex[e].neg[j] = at;
        }
        set->n_neg[e] = n_negs[i];
    }
    if (rc == CM_OK && dropped == s.n_pairs)
        rc = cm_error(CM_ERR_FORMAT, "--train %s: no example has the %zu hard negatives asked for outside the margin "
                      "(lower --negatives or --margin)", spec, mp->k);
    else if (rc == CM_OK && dropped)
        cm_log(CM_LOG_WARN, "--train %s: %zu of %zu examples left out: fewer than %zu documents score below the "
               "positive's score minus the margin", spec, dropped, s.n_pairs, mp->k);
    free(negs); free(n_negs);
    source_free(&s);
    return rc;
}
