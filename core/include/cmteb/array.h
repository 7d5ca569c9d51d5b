/*
 * array.h: growable arrays of any element type, for the "pointer, count,
 * capacity" triples cmteb keeps everywhere.
 *
 *   cm_judged *items = NULL; size_t n = 0, cap = 0;
 *   CM_TRY(cm_array_push(items, n, cap, j));          // append one
 *   CM_TRY(cm_array_reserve(items, cap, n + extra));  // room for extra more
 *   free(items);
 *
 * Parallel arrays that share one count and capacity (ids[i], offsets[i], ...)
 * grow together:
 *
 *   CM_TRY(cm_array_reserve2(ids, offsets, cap, n + 1));
 *
 * Capacity grows geometrically (x2, at least 8 elements); the count is the
 * caller's. On failure the array is unchanged and CM_ERR_NOMEM is returned
 * (the last error says how many bytes); with parallel arrays, each one is
 * valid and keeps its elements (some may have been moved to a larger block)
 * and the capacity is unchanged.
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

/* Grows k parallel arrays sharing the capacity *cap to hold at least need
 * elements: arrays[i] points at the i-th array's pointer (a T **), elem[i] is
 * its element size in bytes (a run-time size such as dim floats is fine). */
int cm_array_reserve_n(size_t *cap, size_t need, size_t k, void *const *arrays, const size_t *elem);

/* Room for `need` elements in two (three) parallel arrays, lvalue pointers
 * sharing the lvalue capacity `cap`. CM_OK or CM_ERR_NOMEM. */
#define cm_array_reserve2(a, b, cap, need)                                                   \
    cm_array_reserve_n(&(cap), (need), 2, (void *const[]){&(a), &(b)},                      \
                       (const size_t[]){sizeof *(a), sizeof *(b)})
#define cm_array_reserve3(a, b, c, cap, need)                                                \
    cm_array_reserve_n(&(cap), (need), 3, (void *const[]){&(a), &(b), &(c)},                \
                       (const size_t[]){sizeof *(a), sizeof *(b), sizeof *(c)})

/* need, or first when that is more: the first capacity of a short-lived array
 * that usually ends up larger than 8 (per-text buffers), to skip regrowing. */
static inline size_t cm_array_first(size_t need, size_t first) { return need > first ? need : first; }

/* Appends x to arr[0..n), n and cap lvalues. CM_OK or CM_ERR_NOMEM. */
#define cm_array_push(arr, n, cap, x)                                                   \
    ((n) < (cap) || cm_array_reserve((arr), (cap), (n) + 1) == 0 ? ((arr)[(n)++] = (x), 0) \
                                                                   : CM_ERR_NOMEM)

#ifdef __cplusplus
}
#endif
#endif
