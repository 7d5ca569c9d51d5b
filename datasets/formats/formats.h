/*
 * formats.h: readers for the file formats beyond core's records.h (JSON
 * Lines, JSON, CSV/TSV) that the pinned MTEB(eng, v1) revisions hold, each
 * giving a cm_records stream so the loaders read them like any other file:
 *
 *   parquet.c      parquet, through DuckDB's C API loaded at run time
 *   tar.c          one member of a (gzipped) tarball, through libarchive
 *   script_rows.c  the row mappings of the hub loading scripts cmteb
 *                  implements (AmazonCounterfactual TSVs, MASSIVE tarball)
 *
 * cm_data_open (dataset.h) dispatches on the path or the locator that
 * cm_data_find_split returned. A locator is FILE#cmteb:READER:ARGS; the
 * readers are listed in dataset.h.
 *
 * Ownership: cm_records from these are closed with cm_records_close; buffers
 * returned by cm_tar_read_member are the caller's (free).
 */
#ifndef CMTEB_DATASETS_FORMATS_H
#define CMTEB_DATASETS_FORMATS_H

#include <stddef.h>

#include "cmteb/records.h"

/* 1 when DuckDB's libduckdb.so could be loaded (CMTEB_DUCKDB_LIB, the
 * build's scripts/duckdb copy, or the system's), else 0. */
int cm_parquet_available(void);
/* Rows of a parquet file as JSON objects (one per row, columns as keys, in
 * file order); the line of a record is its 1-based row number. Errors: bad
 * magic (CM_ERR_FORMAT), DuckDB missing (CM_ERR_UNSUPPORTED, says how to get
 * it), DuckDB's own message for a damaged file. */
int cm_parquet_open(cm_records **out, const char *path);

/* Reads the member named member (exact path inside the archive) of a tar,
 * tar.gz, tar.bz2 or tar.xz file into *data (NUL-terminated, *len bytes
 * without the NUL; caller frees). Errors name the archive: not found, not an
 * archive, truncated or damaged, member absent (with the members seen that
 * look closest), member larger than max_bytes. */
int cm_tar_read_member(const char *archive, const char *member, size_t max_bytes, char **data, size_t *len);

/* The loading-script readers behind a locator's "#cmteb:" part (spec is the
 * text after it). */
int cm_script_open(cm_records **out, const char *file, const char *spec);

#endif
