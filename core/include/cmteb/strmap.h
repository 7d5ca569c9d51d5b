/*
 * strmap.h: a hash map from byte strings to 64-bit values (indices, ids,
 * counts), open addressing with linear probing.
 *
 * Keys are (pointer, length) pairs and need not be NUL-terminated. By default
 * the map borrows them (they must outlive the map: typically strings owned by
 * the data the map indexes); with copy_keys it keeps its own copies. Keys of
 * 4 GiB or more are refused (CM_ERR_ARG) and never found.
 *
 * Ownership: cm_strmap_init allocates, cm_strmap_free releases (NULL ok).
 */
#ifndef CMTEB_STRMAP_H
#define CMTEB_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cm_strmap cm_strmap;

typedef struct cm_strmap_params {
    size_t expected;   /* entries expected (sizes the table; it grows anyway) */
    int    copy_keys;  /* 1: the map copies keys; 0 (default): borrows them */
} cm_strmap_params;

cm_strmap_params cm_strmap_default_params(void);

int  cm_strmap_init(cm_strmap **out, const cm_strmap_params *params);
void cm_strmap_free(cm_strmap *m);

/* Sets key -> value (replacing an existing value). Returns 1 when the key was
 * new, 0 when it was replaced, CM_ERR_NOMEM on failure (map unchanged). */
int  cm_strmap_putn(cm_strmap *m, const char *key, size_t len, uint64_t value);
int  cm_strmap_put(cm_strmap *m, const char *key, uint64_t value);
/* Like putn, but keeps an existing value: *value receives the value now in the
 * map (the old one when present). 1 new, 0 present, CM_ERR_NOMEM. */
int  cm_strmap_insertn(cm_strmap *m, const char *key, size_t len, uint64_t *value);
/* 1 and *value set when present, 0 when absent (value may be NULL). */
int  cm_strmap_getn(const cm_strmap *m, const char *key, size_t len, uint64_t *value);
int  cm_strmap_get(const cm_strmap *m, const char *key, uint64_t *value);
size_t cm_strmap_count(const cm_strmap *m);

#ifdef __cplusplus
}
#endif
#endif
