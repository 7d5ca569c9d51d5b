/*
 * records.c: streaming records from jsonl(.gz), json and csv/tsv files (see records.h).
 *
 * Line numbers are physical lines of the (decompressed) file, 1-based, so an
 * error points at what an editor shows:
 * - jsonl: the record's line; blank lines are skipped but counted.
 * - json:  the line where an array item (or the single object) starts; the
 *          array is parsed one item at a time, so only one item's tree lives
 *          in memory at once (the file text itself is read whole).
 * - csv/tsv: the line where the row starts (a quoted field may span lines);
 *          errors also name the data row ("row 3" = third row after the
 *          header). Fields are kept exactly as written: no space trimming, as
 *          Python's csv module and pandas do; quotes follow RFC 4180.
 * A UTF-8 byte order mark at the start of any format is skipped; CRLF line
 * ends are accepted everywhere.
 */
#include "cmteb/records.h"
#include "cmteb/array.h"
#include "cmteb/log.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <csv.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

typedef enum { FMT_JSONL, FMT_JSON, FMT_CSV, FMT_SOURCE } rec_format;

/* A parsed CSV row waiting to be handed out, with where it came from. */
typedef struct {
    cJSON *obj;
    size_t line;   /* physical line the row starts on */
    size_t row;    /* data row number, 1 = first row after the header */
} csv_row;

struct cm_records {
    char      *path;
    rec_format fmt;
    gzFile     gz;
    size_t     line;        /* line of the record handed out last */
    cJSON     *cur;         /* the record handed out last (owned) */
    /* jsonl and csv: the current physical line */
    char      *buf;
    size_t     cap;
    size_t     phys_line;   /* lines read so far */
    /* json */
    char      *text;        /* whole file, NUL-terminated */
    size_t     text_len;
    const char *pos;        /* parse position */
    size_t     pos_line;    /* line number at pos */
    int        is_array;
    size_t     n_items;     /* items handed out so far */
    int        json_done;
    /* csv */
    struct csv_parser csv;
    int        csv_ready;
    char     **header;
    size_t     n_header;
    int        have_header;
    char     **fields;      /* fields of the row being parsed */
    size_t     n_fields, cap_fields;
    size_t     row_start;   /* line the row in progress started on; 0: none */
    size_t     data_rows;   /* data rows completed */
    csv_row   *queue;       /* completed rows waiting to be handed out */
    size_t     q_head, q_len, q_cap;
    int        eof;
    int        err;
    int        utf8_warned;   /* invalid UTF-8 was reported for this file */
    cm_records_source src;    /* FMT_SOURCE */
};

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static int is_bom(const char *p) {
    return (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF;
}

/* libcsv trims spaces and tabs around unquoted fields by default; we keep them. */
static int csv_no_space(unsigned char c) {
    (void)c;
    return 0;
}

static int open_json(cm_records *r);

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
                     ? cm_error(CM_ERR_UNSUPPORTED,
                                "%s: parquet is not supported yet (convert it to JSON Lines, "
                                "e.g. with pandas: pd.read_parquet(f).to_json(out, orient='records', lines=True))",
                                path)
                     : cm_error(CM_ERR_FORMAT,
                                "%s: unknown file type (expected .jsonl, .jsonl.gz, .json, .csv or .tsv)", path);
        free(base);
        cm_records_close(r);
        return rc;
    }
    int tsv = ends_with(base, ".tsv") || ends_with(base, ".txt");
    free(base);
    if (r->fmt == FMT_JSON) {
        int rc = open_json(r);
        if (rc) { cm_records_close(r); return rc; }
        *out = r;
        return CM_OK;
    }
    errno = 0;
    r->gz = gzopen(path, "rb");
    if (!r->gz) {
        int rc = cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
        cm_records_close(r);
        return rc;
    }
    gzbuffer(r->gz, 1 << 17);
    if (r->fmt == FMT_CSV) {
        if (csv_init(&r->csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL) != 0) { cm_records_close(r); return CM_ERR_NOMEM; }
        r->csv_ready = 1;
        csv_set_space_func(&r->csv, csv_no_space);
        if (tsv) csv_set_delim(&r->csv, '\t');
    }
    *out = r;
    return CM_OK;
}

int cm_records_open_source(cm_records **out, const char *name, cm_records_source src) {
    *out = NULL;
    cm_records *r = cm_calloc(1, sizeof *r);
    if (!r || !(r->path = cm_strdup(name))) {
        free(r);
        if (src.close) src.close(src.ctx);
        return CM_ERR_NOMEM;
    }
    r->fmt = FMT_SOURCE;
    r->src = src;
    *out = r;
    return CM_OK;
}

static int next_source(cm_records *r, cJSON **obj) {
    size_t line = 0;
    int rc = r->src.next(r->src.ctx, obj, &line);
    if (rc == 1) {
        r->cur = *obj;
        r->line = line;
    } else {
        *obj = NULL;
    }
    return rc;
}

/* Offset of the first byte that is not well-formed UTF-8 in s[0..n), or n. */
static size_t utf8_bad(const char *s, size_t n) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {   /* eight ASCII bytes at once: the common case (this check was a quarter of a read) */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) { i += 8; continue; }
        }
        unsigned char c = p[i];
        if (c < 0x80) { i++; continue; }
        size_t k = c >= 0xC2 && c <= 0xDF ? 1 : c >= 0xE0 && c <= 0xEF ? 2 : c >= 0xF0 && c <= 0xF4 ? 3 : 0;
        if (!k || i + k >= n) return i;   /* needs bytes i+1 .. i+k */
        unsigned char lo = c == 0xE0 ? 0xA0 : c == 0xF0 ? 0x90 : 0x80, hi = c == 0xED ? 0x9F : c == 0xF4 ? 0x8F : 0xBF;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t j = 2; j <= k; j++)
            if ((p[i + j] & 0xC0) != 0x80) return i;
        i += k + 1;
    }
    return n;
}

/* Invalid UTF-8 is used as it is, but said once per file, with its first line. */
static void check_utf8(cm_records *r, const char *s, size_t n, size_t line) {
    if (r->utf8_warned) return;
    size_t at = utf8_bad(s, n);
    if (at == n) return;
    for (size_t i = 0; i < at; i++) line += s[i] == '\n';
    r->utf8_warned = 1;
    cm_log(CM_LOG_WARN, "%s:%zu: invalid UTF-8 (the first in this file; such bytes are kept as they are)", r->path,
           line);
}

/* ---- physical lines (jsonl, csv) ------------------------------------------- */
/* Reads one line into r->buf (NUL-terminated, the line end kept); returns 1,
 * 0 at end of file, <0 on error. *len is the byte count. */
static int read_line(cm_records *r, size_t *len) {
    size_t n = 0;
    for (;;) {
        if (r->cap - n < 2) CM_TRY(cm_array_reserve(r->buf, r->cap, cm_array_first(n + 2, 1 << 16)));
        size_t room = r->cap - n;
        if (room > 1u << 30) room = 1u << 30;
        if (!gzgets(r->gz, r->buf + n, (int)room)) {
            int err;
            const char *msg = gzerror(r->gz, &err);
            if (err != Z_OK && err != Z_STREAM_END)
                return cm_error(CM_ERR_IO, "%s:%zu: read failed: %s", r->path, r->phys_line + 1, msg);
            /* zlib ignores bytes after the last gzip member: an error, not a silent end */
            if (n == 0 && !gzdirect(r->gz)) CM_TRY(cm_gz_check_end(r->path, (uint64_t)gztell(r->gz)));
            if (n == 0) return 0;
            break;
        }
        n += strlen(r->buf + n);
        if (n > 0 && r->buf[n - 1] == '\n') break;
        if (gzeof(r->gz)) break;
    }
    r->phys_line++;
    check_utf8(r, r->buf, n, r->phys_line);
    *len = n;
    return 1;
}

/* ---- U+0000 ----------------------------------------------------------------- */
/* cJSON decodes the escape \u0000 into a NUL inside a string, which every C
 * consumer reads as the string's end ("apple pie\u0000 zebra" would embed as
 * "apple pie"): a record holding one is an error naming the member it is in.
 * s[0..n) is a record that parsed as JSON, so backslashes occur only in strings. */
static int check_nul_escape(const cm_records *r, const char *s, size_t n) {
    if (!memmem(s, n, "\\u0000", 6)) return CM_OK;   /* the common case: one fast search */
    const char *key = "?";
    size_t key_len = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '"') continue;
        size_t start = ++i;
        int nul = 0;
        for (; i < n && s[i] != '"'; i++)
            if (s[i] == '\\') {
                if (i + 5 < n && !memcmp(s + i + 1, "u0000", 5)) nul = 1;
                i++;   /* the escaped character */
            }
        size_t j = i + 1;
        while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r')) j++;
        if (j < n && s[j] == ':') { key = s + start; key_len = i - start; }   /* a member's name */
        if (nul)
            return cm_error(CM_ERR_FORMAT, "%s:%zu: field '%.*s': contains U+0000 (NUL), which would cut the text "
                            "there; remove it from the data", r->path, r->line, (int)(key_len < 80 ? key_len : 80),
                            key);
    }
    return CM_OK;
}

/* ---- jsonl ---------------------------------------------------------------- */
static int next_jsonl(cm_records *r, cJSON **obj) {
    for (;;) {
        size_t len;
        int got = read_line(r, &len);
        if (got <= 0) return got;
        while (len > 0 && (r->buf[len - 1] == '\n' || r->buf[len - 1] == '\r')) r->buf[--len] = '\0';
        r->line = r->phys_line;
        char *p = r->buf;
        if (r->line == 1 && len >= 3 && is_bom(p)) p += 3;
        while (*p == ' ' || *p == '\t') p++;
        if (!*p) continue; /* blank lines are allowed */
        const char *end = NULL;
        /* the length includes the NUL: cJSON's end-of-input check wants it */
        r->cur = cJSON_ParseWithLengthOpts(p, len - (size_t)(p - r->buf) + 1, &end, 1);
        if (!r->cur) {
            size_t col = end ? (size_t)(end - r->buf) + 1 : 1;
            return cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON near column %zu (expected one JSON object per line)",
                            r->path, r->line, col);
        }
        if (!cJSON_IsObject(r->cur))
            return cm_error(CM_ERR_FORMAT, "%s:%zu: expected a JSON object, found another JSON value", r->path,
                            r->line);
        CM_TRY(check_nul_escape(r, p, len - (size_t)(p - r->buf)));
        *obj = r->cur;
        return 1;
    }
}

/* ---- json ----------------------------------------------------------------- */
/* Moves r->pos to p, counting the newlines passed. */
static void json_advance(cm_records *r, const char *p) {
    for (const char *q = r->pos; q < p; q++) r->pos_line += *q == '\n';
    r->pos = p;
}

static void json_skip_ws(cm_records *r) {
    const char *p = r->pos;
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    json_advance(r, p);
}

static int json_invalid(cm_records *r, const char *err_at, const char *expected) {
    if (err_at && err_at >= r->pos && err_at <= r->text + r->text_len) json_advance(r, err_at);
    return cm_error(CM_ERR_FORMAT, "%s:%zu: invalid JSON (expected %s)", r->path, r->pos_line, expected);
}

static int open_json(cm_records *r) {
    CM_TRY(cm_read_file(r->path, &r->text, &r->text_len));
    check_utf8(r, r->text, r->text_len, 1);
    r->pos = r->text;
    r->pos_line = 1;
    if (r->text_len >= 3 && is_bom(r->text)) r->pos += 3;
    json_skip_ws(r);
    if (!*r->pos)
        return cm_error(CM_ERR_FORMAT, "%s: empty file (expected a JSON object or an array of objects)", r->path);
    if (*r->pos == '[') {
        r->is_array = 1;
        json_advance(r, r->pos + 1);
    }
    return CM_OK;
}

static int next_json(cm_records *r, cJSON **obj) {
    if (r->json_done) return 0;
    const char *end_of_text = r->text + r->text_len;
    if (!r->is_array) {
        r->json_done = 1;
        r->line = r->pos_line;
        const char *end = NULL;
        r->cur = cJSON_ParseWithLengthOpts(r->pos, (size_t)(end_of_text - r->pos) + 1, &end, 1); /* + the NUL */
        if (!r->cur) return json_invalid(r, end, "a JSON object or an array of objects");
        if (!cJSON_IsObject(r->cur))
            return cm_error(CM_ERR_FORMAT, "%s:%zu: expected a JSON object or an array of objects", r->path, r->line);
        CM_TRY(check_nul_escape(r, r->pos, (size_t)(end_of_text - r->pos)));
        *obj = r->cur;
        return 1;
    }
    json_skip_ws(r);
    if (*r->pos == ']') {
        json_advance(r, r->pos + 1);
        json_skip_ws(r);
        r->json_done = 1;
        if (r->pos < end_of_text)
            return cm_error(CM_ERR_FORMAT, "%s:%zu: unexpected text after the closing ']' of the array", r->path,
                            r->pos_line);
        return 0;
    }
    if (r->n_items > 0) {
        if (*r->pos != ',') return json_invalid(r, r->pos, "',' or ']' after an array item");
        json_advance(r, r->pos + 1);
        json_skip_ws(r);
    }
    if (r->pos >= end_of_text) return json_invalid(r, r->pos, "an array item or ']'; the file ends inside the array");
    r->line = r->pos_line;
    const char *end = NULL;
    r->cur = cJSON_ParseWithLengthOpts(r->pos, (size_t)(end_of_text - r->pos), &end, 0);
    if (!r->cur) return json_invalid(r, end, "a JSON object as array item");
    r->n_items++;
    if (!cJSON_IsObject(r->cur))
        return cm_error(CM_ERR_FORMAT, "%s:%zu: array item %zu: expected a JSON object", r->path, r->line, r->n_items);
    CM_TRY(check_nul_escape(r, r->pos, (size_t)(end - r->pos)));
    json_advance(r, end);
    *obj = r->cur;
    return 1;
}

/* ---- csv ------------------------------------------------------------------ */
static void csv_field_cb(void *s, size_t len, void *data) {
    cm_records *r = data;
    if (r->err) return;
    if (cm_array_reserve(r->fields, r->cap_fields, r->n_fields + 1)) { r->err = CM_ERR_NOMEM; return; }
    char *f = s ? cm_strndup(s, len) : cm_strdup("");
    if (!f) { r->err = CM_ERR_NOMEM; return; }
    r->fields[r->n_fields++] = f;
}

static void free_fields(cm_records *r) {
    for (size_t i = 0; i < r->n_fields; i++) free(r->fields[i]);
    r->n_fields = 0;
}

static void csv_row_cb(int c, void *data) {
    (void)c;
    cm_records *r = data;
    size_t line = r->row_start ? r->row_start : r->phys_line;
    r->row_start = 0;
    if (r->err) { free_fields(r); return; }
    size_t nf = r->n_fields;
    if (!r->have_header) {
        r->header = r->fields;
        r->n_header = nf;
        r->fields = NULL;
        r->n_fields = r->cap_fields = 0;
        r->have_header = 1;
        if (nf && strlen(r->header[0]) >= 3 && is_bom(r->header[0]))
            memmove(r->header[0], r->header[0] + 3, strlen(r->header[0] + 3) + 1);
        return;
    }
    r->data_rows++;
    if (nf != r->n_header) {
        r->err = cm_error(CM_ERR_FORMAT, "%s:%zu: row %zu: expected %zu fields as in the header line, found %zu",
                          r->path, line, r->data_rows, r->n_header, nf);
        free_fields(r);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    if (!o) { r->err = CM_ERR_NOMEM; free_fields(r); return; }
    for (size_t i = 0; i < nf; i++) {
        cJSON *v = cJSON_CreateString(r->fields[i]);
        if (!v || !cJSON_AddItemToObject(o, r->header[i], v)) {
            cJSON_Delete(v);
            cJSON_Delete(o);
            r->err = CM_ERR_NOMEM;
            free_fields(r);
            return;
        }
    }
    free_fields(r);
    if (r->q_head + r->q_len == r->q_cap) {
        if (r->q_head > 0) {
            memmove(r->queue, r->queue + r->q_head, r->q_len * sizeof *r->queue);
            r->q_head = 0;
        } else if (cm_array_reserve(r->queue, r->q_cap, r->q_cap + 1)) {
            r->err = CM_ERR_NOMEM;
            cJSON_Delete(o);
            return;
        }
    }
    r->queue[r->q_head + r->q_len++] = (csv_row){o, line, r->data_rows};
}

static int csv_parse_error(cm_records *r) {
    return cm_error(CM_ERR_FORMAT, "%s:%zu: %s", r->path, r->row_start ? r->row_start : r->phys_line,
                    csv_strerror(csv_error(&r->csv)));
}

static int next_csv(cm_records *r, cJSON **obj) {
    while (r->q_len == 0 && !r->eof && !r->err) {
        size_t len;
        int got = read_line(r, &len);
        if (got < 0) return got;
        if (got == 0) {
            r->eof = 1;
            /* Strict only here: an opening quote never closed is an error,
             * while stray quotes inside unquoted fields stay literal. */
            csv_set_opts(&r->csv, CSV_APPEND_NULL | CSV_EMPTY_IS_NULL | CSV_STRICT | CSV_STRICT_FINI);
            if (csv_fini(&r->csv, csv_field_cb, csv_row_cb, r) != 0) {
                if (csv_error(&r->csv) == CSV_EPARSE)
                    return cm_error(CM_ERR_FORMAT, "%s:%zu: a quoted field is never closed (expected a closing '\"' "
                                    "before the end of the file)", r->path, r->row_start ? r->row_start : r->phys_line);
                return csv_parse_error(r);
            }
            break;
        }
        const char *p = r->buf;
        if (r->phys_line == 1 && len >= 3 && is_bom(p)) { p += 3; len -= 3; }
        int blank = len == 0 || p[0] == '\n' || (p[0] == '\r' && (len == 1 || p[1] == '\n'));
        if (!r->row_start && !blank) r->row_start = r->phys_line;
        if (csv_parse(&r->csv, p, len, csv_field_cb, csv_row_cb, r) != len) return csv_parse_error(r);
    }
    if (r->err) return r->err;
    if (r->q_len == 0) return 0;
    csv_row row = r->queue[r->q_head++];
    r->q_len--;
    r->cur = row.obj;
    r->line = row.line;
    *obj = r->cur;
    return 1;
}

int cm_records_next(cm_records *r, cJSON **obj) {
    *obj = NULL;
    cJSON_Delete(r->cur);
    r->cur = NULL;
    switch (r->fmt) {
    case FMT_JSONL: return next_jsonl(r, obj);
    case FMT_JSON:  return next_json(r, obj);
    case FMT_SOURCE: return next_source(r, obj);
    default:        return next_csv(r, obj);
    }
}

size_t cm_records_line(const cm_records *r) { return r->line; }
const char *cm_records_path(const cm_records *r) { return r->path; }

void cm_records_close(cm_records *r) {
    if (!r) return;
    if (r->gz) gzclose(r->gz);
    if (r->fmt == FMT_SOURCE && r->src.close) r->src.close(r->src.ctx);
    cJSON_Delete(r->cur);
    free(r->buf);
    free(r->text);
    if (r->csv_ready) csv_free(&r->csv);
    for (size_t i = 0; i < r->n_header; i++) free(r->header[i]);
    free(r->header);
    free_fields(r);
    free(r->fields);
    for (size_t i = 0; i < r->q_len; i++) cJSON_Delete(r->queue[r->q_head + i].obj);
    free(r->queue);
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
        const char *s = v->valuestring;
        while (*s == ' ' || *s == '\t') s++;
        double d = strtod(s, &end);
        while (*end == ' ' || *end == '\t' || *end == '\r') end++;
        if (end != s && !*end && !errno) { *out = d; return CM_OK; }
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

