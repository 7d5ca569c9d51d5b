/*
 * duckdb_api.h: the handful of DuckDB C API declarations parquet.c uses.
 *
 * DuckDB's duckdb.h is not shipped by the npm package that provides
 * libduckdb.so (@duckdb/node-bindings-linux-x64), and cmteb loads the library
 * at run time (dlopen), so these are declared here, copied in shape from
 * DuckDB's documented C API (duckdb.org/docs/clients/c: query, data chunks,
 * vectors; stable since DuckDB 1.0). Only types are declared: the functions
 * are looked up with dlsym into the pointer table in parquet.c, whose
 * signatures must match these:
 *
 *   duckdb_state      duckdb_open(const char *path, duckdb_database *out);
 *   void              duckdb_close(duckdb_database *db);
 *   duckdb_state      duckdb_connect(duckdb_database db, duckdb_connection *out);
 *   void              duckdb_disconnect(duckdb_connection *con);
 *   duckdb_state      duckdb_query(duckdb_connection con, const char *sql, duckdb_result *out);
 *   const char       *duckdb_result_error(duckdb_result *result);
 *   void              duckdb_destroy_result(duckdb_result *result);
 *   duckdb_data_chunk duckdb_fetch_chunk(duckdb_result result);        (by value)
 *   idx_t             duckdb_data_chunk_get_size(duckdb_data_chunk chunk);
 *   duckdb_vector     duckdb_data_chunk_get_vector(duckdb_data_chunk chunk, idx_t col);
 *   void             *duckdb_vector_get_data(duckdb_vector v);
 *   uint64_t         *duckdb_vector_get_validity(duckdb_vector v);    (NULL: all valid)
 *   void              duckdb_destroy_data_chunk(duckdb_data_chunk *chunk);
 */
#ifndef CMTEB_DATASETS_DUCKDB_API_H
#define CMTEB_DATASETS_DUCKDB_API_H

#include <stdint.h>

typedef uint64_t idx_t;
typedef enum { DuckDBSuccess = 0, DuckDBError = 1 } duckdb_state;

typedef struct _duckdb_database { void *internal_ptr; } *duckdb_database;
typedef struct _duckdb_connection { void *internal_ptr; } *duckdb_connection;
typedef struct _duckdb_data_chunk { void *internal_ptr; } *duckdb_data_chunk;
typedef struct _duckdb_vector { void *internal_ptr; } *duckdb_vector;

/* The caller allocates it; DuckDB fills it (the deprecated_* fields are not read here). */
typedef struct {
    idx_t deprecated_column_count;
    idx_t deprecated_row_count;
    idx_t deprecated_rows_changed;
    void *deprecated_columns;
    char *deprecated_error_message;
    void *internal_data;
} duckdb_result;

/* A VARCHAR value in a vector: inlined when length <= 12, else a pointer. */
typedef struct {
    union {
        struct { uint32_t length; char prefix[4]; char *ptr; } pointer;
        struct { uint32_t length; char inlined[12]; } inlined;
    } value;
} duckdb_string_t;

#endif
