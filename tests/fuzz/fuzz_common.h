/*
 * fuzz_common.h: helpers the libFuzzer harnesses (tests/fuzz/fuzz_*.c) share:
 * a per-process scratch folder under $CMTEB_TMP (or /tmp), removed at exit;
 * writing the input (or a part of it) to a file there; and splitting an input
 * into NUL-separated parts for parsers that read several files at once.
 */
#ifndef CMTEB_FUZZ_COMMON_H
#define CMTEB_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The scratch folder (created on first use). */
const char *fz_dir(void);
/* fz_dir()/rel into buf (which holds at least 4096 bytes); returns buf. */
char *fz_path(char *buf, const char *rel);
/* Writes size bytes to fz_dir()/rel, creating its folder; aborts on I/O errors. */
void fz_write(const char *rel, const void *data, size_t size);
/* Removes fz_dir()/rel when it exists. */
void fz_remove(const char *rel);

typedef struct fz_part { const uint8_t *data; size_t size; } fz_part;
/* Splits data at NUL bytes into at most max parts (the last takes the rest);
 * returns how many parts there are. */
size_t fz_split(const uint8_t *data, size_t size, fz_part *parts, size_t max);
/* Splits data at NUL bytes into n parts written to fz_dir()/files[i]; the
 * files with no part are removed. n is at most 16. */
void fz_write_parts(const uint8_t *data, size_t size, const char *const *files, size_t n);

/* With $FZ_DEBUG set, prints rc and cm_last_error() to stderr (checking that seeds parse); returns rc. */
int fz_debug_rc(int rc);

/* Splits data into n parts by lengths: n - 1 little-endian uint16 lengths
 * first, then the parts in order, the last taking the rest (parts past the
 * end are empty). For binary files, where NUL bytes are data. n is at most 16. */
void fz_split_len(const uint8_t *data, size_t size, fz_part *parts, size_t n);

#endif
