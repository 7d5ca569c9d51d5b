/*
 * records.h: streaming readers for the file formats MTEB datasets come in.
 *
 * cm_records reads one record at a time from JSON Lines (.jsonl, .jsonl.gz),
 * a JSON file holding one object or an array of objects (.json), or
 * delimited text with a header line (.csv, .tsv, gzipped or not, via libcsv);
 * a CSV/TSV row becomes an object of string fields keyed by the header.
 * Errors carry "file:line: what was expected". The line is the JSON Lines
 * record's line, the line a JSON array item starts on, or the line a CSV
 * row starts on (with "row N" when quoted newlines make them differ).
 *
 * Ownership: cm_records_open allocates the reader and cm_records_close frees
 * it (NULL is fine). The object cm_records_next hands out is owned by the
 * reader and valid until the next call: copy (or detach) what you keep.
 */
#ifndef CMTEB_RECORDS_H
#define CMTEB_RECORDS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_records cm_records;

int    cm_records_open(cm_records **out, const char *path);

/* A record source another layer implements (parquet, a tar member, a loading
 * script's mapping): next() returns 1 with *obj (a new object the reader
 * takes) and *line (1-based, for messages), 0 at the end, <0 on error (with
 * cm_error set); close() releases ctx. */
typedef struct cm_records_source {
    void *ctx;
    int  (*next)(void *ctx, cJSON **obj, size_t *line);
    void (*close)(void *ctx);
} cm_records_source;
/* A reader over src, named name in messages; it owns src.ctx from here on,
 * even when it fails. */
int    cm_records_open_source(cm_records **out, const char *name, cm_records_source src);
/* 1 and *obj set: a record; 0: end of file; <0: error (message names file:line). */
int    cm_records_next(cm_records *r, cJSON **obj);
size_t cm_records_line(const cm_records *r);     /* line of the last record (1-based) */
const char *cm_records_path(const cm_records *r);
void   cm_records_close(cm_records *r);

/* Field access with file:line errors. *out is borrowed from obj. */
int cm_rec_string(const cm_records *r, const cJSON *obj, const char *field, const char **out);
/* A number, or a string holding a number (CSV). */
int cm_rec_number(const cm_records *r, const cJSON *obj, const char *field, double *out);
/* An array of strings; *items is a new array of borrowed pointers (caller frees the array). */
int cm_rec_strings(const cm_records *r, const cJSON *obj, const char *field, const char ***items, size_t *n);
/* Records a CM_ERR_FORMAT "path:line: field 'f': msg" error and returns it. */
int cm_rec_error(const cm_records *r, const char *field, const char *msg);

#ifdef __cplusplus
}
#endif
#endif
