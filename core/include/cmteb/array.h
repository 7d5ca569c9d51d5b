/*
 * array.h: growable arrays of any element type, for the "pointer, count,
 * capacity" triples cmteb keeps everywhere.
 *
 *   cm_judged *items = NULL; size_t n = 0, cap = 0;
 *   CM_TRY(cm_array_push(items, n, cap, j));          // append one
 *   CM_TRY(cm_array_reserve(items, cap, n + extra));  // room for extra more
 *   free(items);
 *
 * Capacity grows geometrically (x2, at least 8 elements); the count is the
 * caller's. On failure the array is unchanged and CM_ERR_NOMEM is returned
 * (the last error says how many bytes).
 *
 * Ownership: the array is the caller's; release it with free().
 */
#ifndef CMTEB_ARRAY_H
#define CMTEB_ARRAY_H

#include <stddef.h>

#include "cmteb/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Grows the array *pp (any T **, passed as void *) of elem-byte elements so
 * that it holds at least need elements; *cap is its capacity. */
int cm_array_reserve_(void *pp, size_t *cap, size_t need, size_t elem);

/* Room for at least `need` elements in `arr` (an lvalue T *), capacity `cap`
 * (an lvalue size_t). CM_OK or CM_ERR_NOMEM. */
#define cm_array_reserve(arr, cap, need) cm_array_reserve_(&(arr), &(cap), (need), sizeof *(arr))

/* Appends x to arr[0..n), n and cap lvalues. CM_OK or CM_ERR_NOMEM. */
#define cm_array_push(arr, n, cap, x)                                                   \
    ((n) < (cap) || cm_array_reserve((arr), (cap), (n) + 1) == 0 ? ((arr)[(n)++] = (x), 0) \
                                                                   : CM_ERR_NOMEM)

#ifdef __cplusplus
}
#endif
#endif
