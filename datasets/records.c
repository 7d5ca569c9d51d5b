/* records.c: streaming records from jsonl(.gz), json and csv/tsv files (see dataset.h). */
#include "cmteb/dataset.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef enum { FMT_JSONL, FMT_JSON, FMT_CSV } rec_format;

struct cm_records {
    char      *path;
    rec_format fmt;
    gzFile     gz;
    size_t     line;        /* line (jsonl) or row (csv) of the current record */
    cJSON     *cur;         /* the record handed out last (owned) */
    /* jsonl */
    char      *buf;
    size_t     cap;
    /* json */
    cJSON     *root;
    cJSON     *next_item;
    int        single_done;
    /* csv */
    struct csv_parser csv;
    char     **header;
    size_t     n_header;
    int        have_header;
    char     **fields;      /* fields of the row being parsed */
    size_t     n_fields, cap_fields;
    cJSON    **queue;       /* completed rows waiting to be handed out */
    size_t     q_head, q_len, q_cap;
    size_t     rows_done;
    int        eof;
    int        err;
};

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int cm_records_open(cm_records **out, const char *path) {
    *out = NULL;
    cm_records *r = cm_calloc(1, sizeof *r);
    if (!r) return CM_ERR_NOMEM;
    r->path = cm_strdup(path);
    char *base = cm_strdup(path);
    if (!r->path || !base) { free(base); cm_records_close(r); return CM_ERR_NOMEM; }
    if (ends_with(base, ".gz")) base[strlen(base) - 3] = '\0';
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) r->fmt = FMT_JSONL;
    else if (ends_with(base, ".json")) r->fmt = FMT_JSON;
    else if (ends_with(base, ".csv") || ends_with(base, ".tsv") || ends_with(base, ".txt")) r->fmt = FMT_CSV;
    else {
        int rc = ends_with(base, ".parquet")
                     ? cm_error(CM_ERR_UNSUPPORTED, "%s: parquet is not supported yet (convert it to JSON Lines, "
                                "e.g. with pandas: pd.read_parquet(f).to_json(out, orient='records', lines=True))", path)
                     : cm_error(CM_ERR_FORMAT, "%s: unknown file type (expected .jsonl, .jsonl.gz, .json, .csv or .tsv)", path);
        free(base);
        cm_records_close(r);
        return rc;
    }
    int tsv = ends_with(base, ".tsv") || ends_with(base, ".txt");
    free(base);
    r->gz = gzopen(path, "rb");
    if (!r->gz) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
        cm_records_close(r);
        return rc;
    }
    gzbuffer(r->gz, 1 << 17);
    if (r->fmt == FMT_JSON) {
        gzclose(r->gz);
        r->gz = NULL;
        char *text = NULL;
        int rc = cm_read_file(path, &text, NULL);
        if (rc) { cm_records_close(r); return rc; }
        const char *end = NULL;
        r->root = cJSON_ParseWithOpts(text, &end, 1);
        if (!r->root) {
            size_t line = 1;
            for (const char *p = text; end && p < end; p++) line += *p == '\n';
            free(text);
            rc = cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON", path, line);
            cm_records_close(r);
            return rc;
        }
        free(text);
        r->next_item = cJSON_IsArray(r->root) ? r->root->child : NULL;
        r->line = 1;
    } else if (r->fmt == FMT_CSV) {
        if (csv_init(&r->csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) { cm_records_close(r); return CM_ERR_NOMEM; }
        r->have_header = 0;
        if (tsv) csv_set_delim(&r->csv, '\t');
    }
    *out = r;
    return CM_OK;
}

/* ---- jsonl ---------------------------------------------------------------- */
/* Reads one line (without the newline) into r->buf; returns 1, 0 at EOF, <0. */
static int read_line(cm_records *r, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (r->cap - n < 2 || !r->buf) {
            size_t cap = r->cap ? r->cap * 2 : 1 << 16;
            char *nb = cm_realloc(r->buf, cap);
            if (!nb) return CM_ERR_NOMEM;
            r->buf = nb;
            r->cap = cap;
        }
        if (!gzgets(r->gz, r->buf + n, (int)(r->cap - n > 1u << 30 ? 1u << 30 : r->cap - n))) {
            int err;
            const char *msg = gzerror(r->gz, &err);
            if (err != Z_OK && err != Z_STREAM_END)
                return cm_error(CM_ERR_IO, "%s:%zu: read failed: %s", r->path, r->line + 1, msg);
            if (n == 0) return 0;
            break;
        }
        n += strlen(r->buf + n);
        if (n > 0 && r->buf[n - 1] == '\n') break;
    }
    while (n > 0 && (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r')) r->buf[--n] = '\0';
    *len = n;
    return 1;
}

static int next_jsonl(cm_records *r, cJSON **obj) {
    for (;;) {
        size_t len;
        int got = read_line(r, &len);
        if (got <= 0) return got;
        r->line++;
        const char *p = r->buf;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) continue; /* blank lines are allowed */
        if (r->line == 1 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF)
            p += 3; /* UTF-8 BOM */
        const char *end = NULL;
        r->cur = cJSON_ParseWithOpts(p, &end, 1);
        if (!r->cur) {
            size_t col = end ? (size_t)(end - r->buf) + 1 : 1;
            return cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON near column %zu (expected one JSON object per line)",
                            r->path, r->line, col);
        }
        if (!cJSON_IsObject(r->cur))
            return cm_error(CM_ERR_FORMAT, "%s:%zu: expected a JSON object, found another JSON value", r->path, r->line);
        *obj = r->cur;
        return 1;
    }
}

/* ---- json ----------------------------------------------------------------- */
static int next_json(cm_records *r, cJSON **obj) {
    if (cJSON_IsArray(r->root)) {
        cJSON *it = r->next_item;
        if (!it) return 0;
        r->next_item = it->next;
        r->line++;
        if (!cJSON_IsObject(it))
            return cm_error(CM_ERR_FORMAT, "%s: item %zu: expected a JSON object", r->path, r->line - 1);
        *obj = it;
        return 1;
    }
    if (r->single_done) return 0;
    r->single_done = 1;
    if (!cJSON_IsObject(r->root)) return cm_error(CM_ERR_FORMAT, "%s: expected a JSON object or an array of objects", r->path);
    *obj = r->root;
    return 1;
}

/* ---- csv ------------------------------------------------------------------ */
static void csv_field_cb(void *s, size_t len, void *data) {
    cm_records *r = data;
    if (r->err) return;
    if (r->n_fields == r->cap_fields) {
        size_t cap = r->cap_fields ? r->cap_fields * 2 : 16;
        char **nf = realloc(r->fields, cap * sizeof *nf);
        if (!nf) { r->err = cm_error(CM_ERR_NOMEM, "out of memory reading %s", r->path); return; }
        r->fields = nf;
        r->cap_fields = cap;
    }
    r->fields[r->n_fields++] = s ? cm_strndup(s, len) : cm_strdup("");
}

static void csv_row_cb(int c, void *data) {
    (void)c;
    cm_records *r = data;
    if (r->err) return;
    size_t nf = r->n_fields;
    r->n_fields = 0;
    r->rows_done++;
    if (!r->have_header) {
        r->header = r->fields;
        r->n_header = nf;
        r->fields = NULL;
        r->cap_fields = 0;
        r->have_header = 1;
        /* strip a UTF-8 BOM from the first header name */
        if (nf && (unsigned char)r->header[0][0] == 0xEF) memmove(r->header[0], r->header[0] + 3, strlen(r->header[0] + 3) + 1);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) { r->err = CM_ERR_NOMEM; return; }
    if (nf != r->n_header) {
        r->err = cm_error(CM_ERR_FORMAT, "%s:%zu: expected %zu fields as in the header line, found %zu",
                          r->path, r->rows_done, r->n_header, nf);
        cJSON_Delete(o);
        for (size_t i = 0; i < nf; i++) free(r->fields[i]);
        return;
    }
    for (size_t i = 0; i < nf; i++) {
        cJSON_AddItemToObject(o, r->header[i], cJSON_CreateString(r->fields[i] ? r->fields[i] : ""));
        free(r->fields[i]);
    }
    if (r->q_head + r->q_len == r->q_cap) {
        if (r->q_head > 0) {
            memmove(r->queue, r->queue + r->q_head, r->q_len * sizeof *r->queue);
            r->q_head = 0;
        } else {
            size_t cap = r->q_cap ? r->q_cap * 2 : 256;
            cJSON **nq = realloc(r->queue, cap * sizeof *nq);
            if (!nq) { r->err = CM_ERR_NOMEM; cJSON_Delete(o); return; }
            r->queue = nq;
            r->q_cap = cap;
        }
    }
    /* the row number goes in with the object so errors can name it */
    cJSON_AddItemToObject(o, "\x01row", cJSON_CreateNumber((double)r->rows_done));
    r->queue[r->q_head + r->q_len++] = o;
}

static int next_csv(cm_records *r, cJSON **obj) {
    while (r->q_len == 0 && !r->eof) {
        char chunk[1 << 16];
        int n = gzread(r->gz, chunk, sizeof chunk);
        if (n < 0) {
            int e;
            return cm_error(CM_ERR_IO, "%s: read failed: %s", r->path, gzerror(r->gz, &e));
        }
        if (n == 0) {
            r->eof = 1;
            if (csv_fini(&r->csv, csv_field_cb, csv_row_cb, r) != 0)
                return cm_error(CM_ERR_FORMAT, "%s:%zu: %s", r->path, r->rows_done + 1, csv_strerror(csv_error(&r->csv)));
        } else if (csv_parse(&r->csv, chunk, (size_t)n, csv_field_cb, csv_row_cb, r) != (size_t)n) {
            return cm_error(CM_ERR_FORMAT, "%s:%zu: %s", r->path, r->rows_done + 1, csv_strerror(csv_error(&r->csv)));
        }
        if (r->err) return r->err;
    }
    if (r->err) return r->err;
    if (r->q_len == 0) return 0;
    r->cur = r->queue[r->q_head++];
    r->q_len--;
    cJSON *row = cJSON_DetachItemFromObject(r->cur, "\x01row");
    r->line = row ? (size_t)row->valuedouble : r->line + 1;
    cJSON_Delete(row);
    *obj = r->cur;
    return 1;
}

int cm_records_next(cm_records *r, cJSON **obj) {
    *obj = NULL;
    if (r->fmt != FMT_JSON) {
        cJSON_Delete(r->cur);
        r->cur = NULL;
    }
    switch (r->fmt) {
    case FMT_JSONL: return next_jsonl(r, obj);
    case FMT_JSON:  return next_json(r, obj);
    default:        return next_csv(r, obj);
    }
}

size_t cm_records_line(const cm_records *r) { return r->line; }
const char *cm_records_path(const cm_records *r) { return r->path; }

void cm_records_close(cm_records *r) {
    if (!r) return;
    if (r->gz) gzclose(r->gz);
    if (r->fmt != FMT_JSON) cJSON_Delete(r->cur);
    cJSON_Delete(r->root);
    free(r->buf);
    if (r->fmt == FMT_CSV) {
        csv_free(&r->csv);
        for (size_t i = 0; i < r->n_header; i++) free(r->header[i]);
        free(r->header);
        for (size_t i = 0; i < r->n_fields; i++) free(r->fields[i]);
        free(r->fields);
        for (size_t i = 0; i < r->q_len; i++) cJSON_Delete(r->queue[r->q_head + i]);
        free(r->queue);
    }
    free(r->path);
    free(r);
}

/* ---- field access ---------------------------------------------------------- */
int cm_rec_error(const cm_records *r, const char *field, const char *msg) {
    return cm_error(CM_ERR_FORMAT, "%s:%zu: field '%s': %s", r->path, r->line, field, msg);
}

int cm_rec_string(const cm_records *r, const cJSON *obj, const char *field, const char **out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v) return cm_rec_error(r, field, "missing (expected a string)");
    if (!cJSON_IsString(v)) return cm_rec_error(r, field, "expected a string");
    *out = v->valuestring;
    return CM_OK;
}

int cm_rec_number(const cm_records *r, const cJSON *obj, const char *field, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v) return cm_rec_error(r, field, "missing (expected a number)");
    if (cJSON_IsNumber(v)) { *out = v->valuedouble; return CM_OK; }
    if (cJSON_IsString(v)) {
        char *end;
        errno = 0;
        double d = strtod(v->valuestring, &end);
        while (*end == ' ') end++;
        if (end != v->valuestring && !*end && !errno) { *out = d; return CM_OK; }
        char msg[200];
        snprintf(msg, sizeof msg, "expected a number, found \"%.60s\"", v->valuestring);
        return cm_rec_error(r, field, msg);
    }
    if (cJSON_IsBool(v)) { *out = cJSON_IsTrue(v) ? 1 : 0; return CM_OK; }
    return cm_rec_error(r, field, "expected a number");
}

int cm_rec_strings(const cm_records *r, const cJSON *obj, const char *field, const char ***items, size_t *n) {
    *items = NULL;
    *n = 0;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, field);
    if (!v) return cm_rec_error(r, field, "missing (expected an array of strings)");
    if (!cJSON_IsArray(v)) return cm_rec_error(r, field, "expected an array of strings");
    size_t len = (size_t)cJSON_GetArraySize(v);
    const char **a = cm_calloc(len + 1, sizeof *a);
    if (!a) return CM_ERR_NOMEM;
    size_t k = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
        if (!cJSON_IsString(it)) {
            free(a);
            char msg[100];
            snprintf(msg, sizeof msg, "item %zu is not a string (expected an array of strings)", k);
            return cm_rec_error(r, field, msg);
        }
        a[k++] = it->valuestring;
    }
    *items = a;
    *n = k;
    return CM_OK;
}

/* ---- locating a split ------------------------------------------------------ */
static const char *const exts[] = {".jsonl", ".jsonl.gz", ".json", ".json.gz", ".csv", ".csv.gz", ".tsv", ".tsv.gz", NULL};

static char *try_base(const char *dir, const char *name) {
    for (int i = 0; exts[i]; i++) {
        char *p = cm_asprintf("%s/%s%s", dir, name, exts[i]);
        if (p && cm_file_exists(p)) return p;
        free(p);
    }
    return NULL;
}

#include <dirent.h>
/* DIR/data/SPLIT-00000-of-00001.jsonl style names, or parquet (reported). */
static char *try_prefixed(const char *dir, const char *split, int *saw_parquet) {
    DIR *d = opendir(dir);
    if (!d) return NULL;
    struct dirent *e;
    char *found = NULL;
    size_t ls = strlen(split);
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, split, ls) != 0 || (e->d_name[ls] != '-' && e->d_name[ls] != '.')) continue;
        if (ends_with(e->d_name, ".parquet")) { *saw_parquet = 1; continue; }
        for (int i = 0; exts[i] && !found; i++)
            if (ends_with(e->d_name, exts[i])) found = cm_asprintf("%s/%s", dir, e->d_name);
    }
    closedir(d);
    return found;
}

int cm_data_find_split(const char *dir, const char *subset, const char *split, char **path) {
    *path = NULL;
    if (!cm_dir_exists(dir))
        return cm_error(CM_ERR_NOTFOUND, "%s: data folder not found (download the dataset there, e.g. "
                        "huggingface-cli download --repo-type dataset REPO --local-dir %s)", dir, dir);
    int parquet = 0;
    char *cands[4] = {0};
    int nc = 0;
    if (subset) {
        cands[nc++] = cm_path_join(dir, subset);
        char *ds = cm_asprintf("%s/data/%s", dir, subset);
        cands[nc++] = ds;
    }
    cands[nc++] = cm_strdup(dir);
    cands[nc++] = cm_path_join(dir, "data");
    char *found = NULL;
    for (int i = 0; i < nc && !found; i++) {
        if (!cands[i]) continue;
        found = try_base(cands[i], split);
        if (!found) found = try_prefixed(cands[i], split, &parquet);
    }
    for (int i = 0; i < nc; i++) free(cands[i]);
    if (found) {
        *path = found;
        return CM_OK;
    }
    if (parquet)
        return cm_error(CM_ERR_UNSUPPORTED, "%s: split '%s'%s%s is only available as parquet, which is not supported yet "
                        "(convert it to JSON Lines, e.g. pd.read_parquet(f).to_json('%s.jsonl', orient='records', lines=True))",
                        dir, split, subset ? " of subset " : "", subset ? subset : "", split);
    return cm_error(CM_ERR_NOTFOUND, "%s: no file for split '%s'%s%s (looked for %s%s%s.jsonl, .jsonl.gz, .json, .csv, .tsv)",
                    dir, split, subset ? " of subset " : "", subset ? subset : "", subset ? subset : "", subset ? "/" : "", split);
}
