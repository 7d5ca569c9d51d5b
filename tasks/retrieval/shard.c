/* shard.c: corpus slices, per-shard hits files and their top-k merge (see shard.h). */
#include "tasks/retrieval/shard.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HITS_MAGIC "cmteb-shard-hits 1"

void cm_shard_slice(size_t n_docs, size_t grid, size_t i, size_t n, size_t *lo, size_t *hi) {
    if (!grid) grid = 1;
    size_t n_units = n_docs / grid + (n_docs % grid != 0);
    /* units (n_units * i) / n without overflow */
    unsigned __int128 a = (unsigned __int128)n_units * i, b = (unsigned __int128)n_units * (i + 1);
    size_t ua = n ? (size_t)(a / n) : 0, ub = n ? (size_t)(b / n) : n_units;
    *lo = ua * grid < n_docs ? ua * grid : n_docs;
    *hi = ub * grid < n_docs ? ub * grid : n_docs;
}

size_t cm_shard_clip(size_t i, size_t n_shards, size_t n_docs, size_t grid, size_t *seen, const char *const **ids,
                     const char *const **texts, size_t n) {
    size_t lo, hi, first = *seen;
    cm_shard_slice(n_docs, grid, i, n_shards, &lo, &hi);
    *seen += n;
    size_t a = first < lo ? lo : first, b = first + n < hi ? first + n : hi;
    if (a >= b) return 0;
    *ids += a - first;
    *texts += a - first;
    return b - a;
}

char *cm_shard_hits_path(const char *prefix, const char *subset, const char *split) {
    return subset ? cm_asprintf("%s.%s.%s.hits", prefix, subset, split) : cm_asprintf("%s.%s.hits", prefix, split);
}

/* CM_OK when id can stand in a hits line (no tab or line break). */
static int check_id(const char *id, const char *what, const char *path) {
    if (strpbrk(id, "\t\n\r"))
        return cm_error(CM_ERR_FORMAT, "%s: %s id '%.40s' holds a tab or line break; sharded runs cannot record it",
                        path, what, id);
    return CM_OK;
}

int cm_shard_hits_write(const char *path, const cm_search *s, const char *const *qids, size_t nq, size_t top_k,
                        size_t i, size_t n, size_t lo, size_t hi) {
    cm_str b = {0};
    cm_str_printf(&b, "%s\nshard %zu %zu docs %zu %zu top_k %zu queries %zu\n", HITS_MAGIC, i, n, lo, hi, top_k, nq);
    int rc = CM_OK;
    for (size_t q = 0; q < nq && !rc; q++) {
        const char *const *ids;
        const float *sc;
        size_t k = cm_search_hits(s, q, &ids, &sc);
        if ((rc = check_id(qids[q], "query", path))) break;
        cm_str_printf(&b, "q %s\t%zu\n", qids[q], k);
        for (size_t j = 0; j < k && !rc; j++) {
            rc = check_id(ids[j], "document", path);
            cm_str_printf(&b, "%a\t%s\n", (double)sc[j], ids[j]);
        }
    }
    cm_str_printf(&b, "end\n");
    if (!rc) rc = cm_str_error(&b);
    char *dir = rc ? NULL : cm_path_dirname(path);
    if (!rc) rc = dir ? cm_mkdir_p(dir) : CM_ERR_NOMEM;
    if (!rc) rc = cm_write_file_atomic(path, b.s, b.len);
    free(dir);
    cm_str_free(&b);
    return rc;
}

/* ---- reading and merging ---------------------------------------------------- */
typedef struct {
    float       score;
    const char *id;
} sh_hit;

typedef struct {
    const char *path;
    char   *buf;
    size_t  shard, of, lo, hi, top_k, nq;
    sh_hit *hits;
    size_t *qstart;   /* (nq + 1) offsets into hits */
} sh_file;

struct cm_shard_hits {
    size_t       nq, k;
    char       **bufs;     /* the files' text, which the ids point into */
    size_t       n_bufs;
    const char **ids;      /* (nq, k) */
    float       *scores;   /* (nq, k) */
    size_t      *n;        /* (nq) */
};

/* Cuts the next line out of *p (NUL-terminating it); NULL at the end. */
static char *next_line(char **p, size_t *line) {
    if (!*p || !**p) return NULL;
    char *s = *p, *e = strchr(s, '\n');
    if (e) {
        *e = '\0';
        *p = e + 1;
    } else {
        *p = s + strlen(s);
    }
    (*line)++;
    return s;
}

static int bad_line(const sh_file *f, size_t line, const char *expected) {
    return cm_error(CM_ERR_FORMAT, "%s:%zu: expected %s (a hits file of cmteb run --shard; rerun that shard if "
                    "it was cut short)", f->path, line, expected);
}

/* Parses f->buf (owned by f) against the queries qids. */
static int parse_file(sh_file *f, const char *const *qids, size_t nq) {
    char *p = f->buf, *l;
    size_t line = 0;
    if (!(l = next_line(&p, &line)) || strcmp(l, HITS_MAGIC)) return bad_line(f, line, "'" HITS_MAGIC "'");
    if (!(l = next_line(&p, &line)) ||
        sscanf(l, "shard %zu %zu docs %zu %zu top_k %zu queries %zu", &f->shard, &f->of, &f->lo, &f->hi, &f->top_k,
               &f->nq) != 6 || f->of == 0 || f->shard >= f->of || f->lo > f->hi)
        return bad_line(f, line, "'shard I N docs LO HI top_k K queries NQ' with I < N and LO <= HI");
    if (f->nq != nq)
        return cm_error(CM_ERR_FORMAT, "%s: %zu queries, but the task's data has %zu: the shards ran on other data",
                        f->path, f->nq, nq);
    /* count the hit lines first: one allocation */
    size_t n_lines = 0;
    for (const char *c = p; *c; c++) n_lines += *c == '\n';
    f->hits = cm_malloc((n_lines ? n_lines : 1) * sizeof *f->hits);
    f->qstart = cm_calloc(nq + 1, sizeof *f->qstart);
    if (!f->hits || !f->qstart) return CM_ERR_NOMEM;
    size_t nh = 0;
    for (size_t q = 0; q < nq; q++) {
        if (!(l = next_line(&p, &line)) || strncmp(l, "q ", 2)) return bad_line(f, line, "'q <query id>\\t<hits>'");
        char *tab = strrchr(l, '\t');
        if (!tab) return bad_line(f, line, "'q <query id>\\t<hits>'");
        *tab = '\0';
        if (strcmp(l + 2, qids[q]))
            return cm_error(CM_ERR_FORMAT, "%s:%zu: query '%.60s', expected '%.60s' (query %zu of the task's data): "
                            "the shards ran on other data", f->path, line, l + 2, qids[q], q);
        char *end;
        errno = 0;
        unsigned long long k = strtoull(tab + 1, &end, 10);
        if (errno || *end || end == tab + 1 || k > f->top_k) return bad_line(f, line, "a hit count up to top_k");
        f->qstart[q] = nh;
        for (unsigned long long j = 0; j < k; j++) {
            if (!(l = next_line(&p, &line)) || !(tab = strchr(l, '\t')))
                return bad_line(f, line, "'<score>\\t<doc id>'");
            *tab = '\0';
            errno = 0;
            double v = strtod(l, &end);
            if (errno || *end || end == l) return bad_line(f, line, "a score (hexadecimal float)");
            f->hits[nh].score = (float)v;
            f->hits[nh].id = tab + 1;
            nh++;
        }
    }
    f->qstart[nq] = nh;
    if (!(l = next_line(&p, &line)) || strcmp(l, "end") || next_line(&p, &line))
        return bad_line(f, line, "'end' as the last line");
    return CM_OK;
}

/* The single run's order: score descending, then id descending. */
static int cmp_hit(const void *a, const void *b) {
    const sh_hit *x = a, *y = b;
    if (x->score > y->score) return -1;
    if (x->score < y->score) return 1;
    return strcmp(y->id, x->id);
}

void cm_shard_hits_free(cm_shard_hits *h) {
    if (!h) return;
    for (size_t i = 0; i < h->n_bufs; i++) free(h->bufs[i]);
    free(h->bufs);
    free(h->ids);
    free(h->scores);
    free(h->n);
    free(h);
}

/* Checks that files are shards 0..n-1 (sorting them by index) of one corpus and top_k. */
static int check_set(sh_file *f, size_t n, size_t top_k) {
    for (size_t i = 0; i < n; i++) {
        if (f[i].of != n)
            return cm_error(CM_ERR_FORMAT, "%s: shard %zu of %zu, but %zu shard folders were given", f[i].path,
                            f[i].shard, f[i].of, n);
        if (f[i].top_k != top_k)
            return cm_error(CM_ERR_FORMAT, "%s: top_k %zu, expected %zu (max of the task's k_values)", f[i].path,
                            f[i].top_k, top_k);
        for (size_t j = 0; j < i; j++)
            if (f[j].shard == f[i].shard)
                return cm_error(CM_ERR_FORMAT, "%s and %s are both shard %zu of %zu", f[j].path, f[i].path,
                                f[i].shard, n);
    }
    for (size_t i = 0; i < n; i++)   /* order by shard index (n is small) */
        for (size_t j = i + 1; j < n; j++)
            if (f[j].shard < f[i].shard) {
                sh_file t = f[i];
                f[i] = f[j];
                f[j] = t;
            }
    for (size_t i = 0; i < n; i++)
        if (f[i].lo != (i ? f[i - 1].hi : 0))
            return cm_error(CM_ERR_FORMAT, "%s: documents [%zu, %zu) do not follow shard %zu's [%zu, %zu): the shards "
                            "read different corpora", f[i].path, f[i].lo, f[i].hi, i ? i - 1 : 0,
                            i ? f[i - 1].lo : 0, i ? f[i - 1].hi : 0);
    return CM_OK;
}

int cm_shard_hits_read(cm_shard_hits **out, const char *const *paths, size_t n_paths, const char *const *qids,
                       size_t nq, size_t top_k) {
    *out = NULL;
    if (!n_paths) return cm_error(CM_ERR_ARG, "shard merge: no hits files");
    cm_shard_hits *h = cm_calloc(1, sizeof *h);
    sh_file *f = cm_calloc(n_paths, sizeof *f);
    sh_hit *tmp = NULL;
    int rc = (h && f) ? CM_OK : CM_ERR_NOMEM;
    if (!rc) {
        h->nq = nq;
        h->k = top_k;
        h->bufs = cm_calloc(n_paths, sizeof *h->bufs);
        h->ids = cm_calloc((nq ? nq : 1) * (top_k ? top_k : 1), sizeof *h->ids);
        h->scores = cm_calloc((nq ? nq : 1) * (top_k ? top_k : 1), sizeof *h->scores);
        h->n = cm_calloc(nq ? nq : 1, sizeof *h->n);
        if (!h->bufs || !h->ids || !h->scores || !h->n) rc = CM_ERR_NOMEM;
    }
    for (size_t i = 0; i < n_paths && !rc; i++) {
        f[i].path = paths[i];
        if (!cm_file_exists(paths[i])) {
            rc = cm_error(CM_ERR_NOTFOUND, "%s: no hits file (did that shard finish this task?)", paths[i]);
            break;
        }
        if ((rc = cm_read_file(paths[i], &f[i].buf, NULL))) break;
        h->bufs[h->n_bufs++] = f[i].buf;   /* the handle owns the text from here */
        rc = parse_file(&f[i], qids, nq);
    }
    if (!rc) rc = check_set(f, n_paths, top_k);
    size_t most = 0;
    for (size_t q = 0; q < nq && !rc; q++) {
        size_t tot = 0;
        for (size_t i = 0; i < n_paths; i++) tot += f[i].qstart[q + 1] - f[i].qstart[q];
        if (tot > most) most = tot;
    }
    if (!rc && !(tmp = cm_malloc((most ? most : 1) * sizeof *tmp))) rc = CM_ERR_NOMEM;
    for (size_t q = 0; q < nq && !rc; q++) {
        size_t m = 0;
        for (size_t i = 0; i < n_paths; i++)
            for (size_t j = f[i].qstart[q]; j < f[i].qstart[q + 1]; j++) tmp[m++] = f[i].hits[j];
        qsort(tmp, m, sizeof *tmp, cmp_hit);
        size_t keep = m < top_k ? m : top_k;
        for (size_t j = 0; j < keep; j++) {
            h->ids[q * top_k + j] = tmp[j].id;
            h->scores[q * top_k + j] = tmp[j].score;
        }
        h->n[q] = keep;
    }
    free(tmp);
    for (size_t i = 0; f && i < n_paths; i++) {
        free(f[i].hits);
        free(f[i].qstart);
    }
    free(f);
    if (rc) {
        cm_shard_hits_free(h);
        return rc;
    }
    *out = h;
    return CM_OK;
}

size_t cm_shard_hits_get(const cm_shard_hits *h, size_t q, const char *const **doc_ids, const float **scores) {
    CM_ASSERT(q < h->nq);
    *doc_ids = h->ids + q * h->k;
    *scores = h->scores + q * h->k;
    return h->n[q];
}
