/*
 * parquet.c: parquet files as a record stream, through DuckDB's C API loaded
 * at run time (see formats.h).
 *
 * Why DuckDB and dlopen: Debian 12 ships no Arrow/Parquet library; DuckDB
 * reads parquet completely (every encoding and codec, nested list/struct
 * columns) and its libduckdb.so comes from the npm registry
 * (@duckdb/node-bindings-linux-x64, installed by scripts/setup.sh into
 * scripts/duckdb). Loading it on first use keeps the build and every
 * other format independent of it; without it, opening a parquet file is an
 * error that says how to get it.
 *
 * Each row is converted by DuckDB to one JSON object (to_json of the row:
 * lists become arrays, structs objects, NULL null) and parsed with cJSON, so
 * the loaders see the same objects a JSON Lines file of the same data gives.
 * Limits: the whole result is materialised by DuckDB (fine for the MTEB
 * parquet files, SummEval's is 1 MB); 64-bit integers above 2^53 lose
 * precision as in any JSON reader.
 */
#include "datasets/formats/formats.h"
#include "datasets/formats/duckdb_api.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CMTEB_DUCKDB_DEFAULT
#define CMTEB_DUCKDB_DEFAULT ""
#endif

/* ---- the library ------------------------------------------------------------ */
static struct {
    duckdb_state (*open)(const char *, duckdb_database *);
    void (*close)(duckdb_database *);
    duckdb_state (*connect)(duckdb_database, duckdb_connection *);
    void (*disconnect)(duckdb_connection *);
    duckdb_state (*query)(duckdb_connection, const char *, duckdb_result *);
    const char *(*result_error)(duckdb_result *);
    void (*destroy_result)(duckdb_result *);
    duckdb_data_chunk (*fetch_chunk)(duckdb_result);
    idx_t (*chunk_size)(duckdb_data_chunk);
    duckdb_vector (*chunk_vector)(duckdb_data_chunk, idx_t);
    void *(*vector_data)(duckdb_vector);
    uint64_t *(*vector_validity)(duckdb_vector);
    void (*destroy_chunk)(duckdb_data_chunk *);
} api;
static int   api_ok;
static char  api_why[1024];
static pthread_once_t api_once = PTHREAD_ONCE_INIT;

static void *try_open(const char *path, char *tried, size_t cap) {
    if (!path || !*path) return NULL;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        size_t len = strlen(tried);
        snprintf(tried + len, cap - len, "%s%s", len ? "; " : "", dlerror());
    }
    return h;
}

static void api_load(void) {
    char tried[768] = "";
    void *h = try_open(getenv("CMTEB_DUCKDB_LIB"), tried, sizeof tried);
    if (!h) h = try_open(CMTEB_DUCKDB_DEFAULT, tried, sizeof tried);
    if (!h) h = try_open("libduckdb.so", tried, sizeof tried);
    if (!h) {
        snprintf(api_why, sizeof api_why, "DuckDB's libduckdb.so was not found (%s)", tried);
        return;
    }
    struct { void **fn; const char *name; } syms[] = {
        {(void **)&api.open, "duckdb_open"},
        {(void **)&api.close, "duckdb_close"},
        {(void **)&api.connect, "duckdb_connect"},
        {(void **)&api.disconnect, "duckdb_disconnect"},
        {(void **)&api.query, "duckdb_query"},
        {(void **)&api.result_error, "duckdb_result_error"},
        {(void **)&api.destroy_result, "duckdb_destroy_result"},
        {(void **)&api.fetch_chunk, "duckdb_fetch_chunk"},
        {(void **)&api.chunk_size, "duckdb_data_chunk_get_size"},
        {(void **)&api.chunk_vector, "duckdb_data_chunk_get_vector"},
        {(void **)&api.vector_data, "duckdb_vector_get_data"},
        {(void **)&api.vector_validity, "duckdb_vector_get_validity"},
        {(void **)&api.destroy_chunk, "duckdb_destroy_data_chunk"},
    };
    for (size_t i = 0; i < sizeof syms / sizeof syms[0]; i++) {
        *syms[i].fn = dlsym(h, syms[i].name);
        if (!*syms[i].fn) {
            snprintf(api_why, sizeof api_why, "libduckdb.so lacks %s (DuckDB 1.1 or newer is needed)", syms[i].name);
            return;
        }
    }
    api_ok = 1;
}

int cm_parquet_available(void) {
    pthread_once(&api_once, api_load);
    return api_ok;
}

/* ---- the record source ------------------------------------------------------ */
typedef struct {
    char             *path;
    duckdb_database   db;
    duckdb_connection con;
    duckdb_result     res;
    int               have_res;
    duckdb_data_chunk chunk;
    idx_t             chunk_n, chunk_i;
    size_t            row;
} pq_source;

static void pq_close(void *ctx) {
    pq_source *s = ctx;
    if (!s) return;
    if (s->chunk) api.destroy_chunk(&s->chunk);
    if (s->have_res) api.destroy_result(&s->res);
    if (s->con) api.disconnect(&s->con);
    if (s->db) api.close(&s->db);
    free(s->path);
    free(s);
}

static int pq_next(void *ctx, cJSON **obj, size_t *line) {
    pq_source *s = ctx;
    *obj = NULL;
    while (!s->chunk || s->chunk_i >= s->chunk_n) {
        if (s->chunk) api.destroy_chunk(&s->chunk);
        s->chunk = api.fetch_chunk(s->res);
        if (!s->chunk) {
            const char *e = api.result_error(&s->res);
            if (e && *e)
                return cm_error(CM_ERR_FORMAT, "%s: parquet read failed after row %zu: %s", s->path, s->row, e);
            return 0;
        }
        s->chunk_n = api.chunk_size(s->chunk);
        s->chunk_i = 0;
        if (s->chunk_n == 0) {
            api.destroy_chunk(&s->chunk);
            return 0;
        }
    }
    duckdb_vector v = api.chunk_vector(s->chunk, 0);
    const duckdb_string_t *strs = api.vector_data(v);
    const uint64_t *valid = api.vector_validity(v);
    idx_t i = s->chunk_i++;
    s->row++;
    *line = s->row;
    if (valid && !(valid[i / 64] >> (i % 64) & 1))
        return cm_error(CM_ERR_FORMAT, "%s: row %zu is NULL (expected a record)", s->path, s->row);
    const duckdb_string_t *st = &strs[i];
    uint32_t len = st->value.inlined.length;
    const char *data = len <= 12 ? st->value.inlined.inlined : st->value.pointer.ptr;
    cJSON *o = cJSON_ParseWithLength(data, len);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return cm_error(CM_ERR_FORMAT, "%s: row %zu: DuckDB's JSON of the row did not parse as an object", s->path,
                        s->row);
    }
    *obj = o;
    return 1;
}

/* PAR1 at both ends, with room for a footer length between. */
static int check_magic(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return cm_error(CM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[4] = {0}, tail[4] = {0};
    long size = -1;
    int ok = fread(head, 1, 4, f) == 4 && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 12 &&
             fseek(f, -4, SEEK_END) == 0 && fread(tail, 1, 4, f) == 4;
    fclose(f);
    if (!ok || memcmp(head, "PAR1", 4) || memcmp(tail, "PAR1", 4))
        return cm_error(CM_ERR_FORMAT, "%s: not a parquet file (expected the magic bytes PAR1 at the start and the "
                        "end of a file of at least 12 bytes%s)", path, size >= 0 && size < 12 ? "; it is shorter" : "");
    return CM_OK;
}

int cm_parquet_open(cm_records **out, const char *path) {
    *out = NULL;
    CM_TRY(check_magic(path));
    if (!cm_parquet_available())
        return cm_error(CM_ERR_UNSUPPORTED, "%s: reading parquet needs DuckDB: %s. Run scripts/setup.sh (it installs "
                        "the npm package @duckdb/node-bindings-linux-x64 into scripts/duckdb) or set "
                        "CMTEB_DUCKDB_LIB=/path/to/libduckdb.so", path, api_why);
    /* DuckDB globs its path argument: a file name with glob characters would name other files. */
    if (strpbrk(path, "*?[{"))
        return cm_error(CM_ERR_ARG, "%s: parquet path has a glob character (*?[{), which DuckDB would expand; "
                        "rename the file or its folder", path);
    pq_source *s = cm_calloc(1, sizeof *s);
    if (!s || !(s->path = cm_strdup(path))) {
        free(s);
        return CM_ERR_NOMEM;
    }
    int rc = CM_OK;
    cm_str sql = {0};
    if (api.open(NULL, &s->db) != DuckDBSuccess || api.connect(s->db, &s->con) != DuckDBSuccess) {
        rc = cm_error(CM_ERR_IO, "%s: could not start an in-memory DuckDB", path);
        goto fail;
    }
    /* one thread keeps row order trivially; never fetch extensions from the network */
    static const char *const setup[] = {"SET threads=1", "SET autoinstall_known_extensions=false",
                                        "SET autoload_known_extensions=false"};
    for (size_t i = 0; i < sizeof setup / sizeof setup[0]; i++) (void)api.query(s->con, setup[i], NULL);
    if (cm_str_append(&sql, "SELECT CAST(to_json(t) AS VARCHAR) FROM read_parquet('")) { rc = CM_ERR_NOMEM; goto fail; }
    for (const char *p = path; *p; p++)
        if ((*p == '\'' ? cm_str_append(&sql, "''") : cm_str_printf(&sql, "%c", *p))) { rc = CM_ERR_NOMEM; goto fail; }
    if (cm_str_append(&sql, "') AS t")) { rc = CM_ERR_NOMEM; goto fail; }
    s->have_res = 1;
    if (api.query(s->con, sql.s, &s->res) != DuckDBSuccess) {
        const char *e = api.result_error(&s->res);
        rc = cm_error(CM_ERR_FORMAT, "%s: DuckDB could not read it as parquet: %s", path, e ? e : "unknown error");
        goto fail;
    }
    cm_str_free(&sql);
    cm_records_source src = {s, pq_next, pq_close};
    return cm_records_open_source(out, path, src);
fail:
    cm_str_free(&sql);
    pq_close(s);
    return rc;
}
