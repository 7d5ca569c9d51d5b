/*
 * pyrandom.c: CPython's random.Random on MT19937: seeding from an integer
 * (init_by_array over its 32-bit words), getrandbits, _randbelow (rejection
 * on bit_length bits), sample (pool or set method, chosen by CPython's own
 * size rule) and choices without weights (floor(random() * n)).
 */
#include "tasks/random/random.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cm_py_seed(cm_mt19937 *st, uint64_t seed) {
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    cm_mt_seed_array(st, key, key[1] ? 2 : 1);
}

uint64_t cm_py_getrandbits(cm_mt19937 *st, int k) {
    if (k <= 32) return cm_mt_next32(st) >> (32 - k);
    /* Little-endian words; the last (most significant) one is truncated. */
    uint64_t lo = cm_mt_next32(st);
    uint64_t hi = cm_mt_next32(st) >> (64 - k);
    return lo | (hi << 32);
}

static int bit_length(uint64_t n) {
    int b = 0;
    while (n) { b++; n >>= 1; }
    return b;
}

uint64_t cm_py_randbelow(cm_mt19937 *st, uint64_t n) {
    int k = bit_length(n);
    uint64_t r = cm_py_getrandbits(st, k);
    while (r >= n) r = cm_py_getrandbits(st, k);
    return r;
}

/* Open-addressing set of size_t for the set method of sample. */
typedef struct { size_t *slot; size_t cap; } idx_set;
#define EMPTY_SLOT ((size_t)-1)

static int set_insert(idx_set *s, size_t v) {   /* 1 inserted, 0 present */
    size_t i = (size_t)((v * 0x9E3779B97F4A7C15ULL) >> 7) & (s->cap - 1);
    while (s->slot[i] != EMPTY_SLOT) {
        if (s->slot[i] == v) return 0;
        i = (i + 1) & (s->cap - 1);
    }
    s->slot[i] = v;
    return 1;
}

int cm_py_sample(cm_mt19937 *st, size_t n, size_t k, size_t *out) {
    CM_ASSERT(k <= n);
    size_t setsize = 21;
    if (k > 5) setsize += (size_t)pow(4.0, ceil(log((double)k * 3.0) / log(4.0)));
    if (n <= setsize) {
        size_t *pool = cm_malloc((n ? n : 1) * sizeof *pool);
        if (!pool) return CM_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) pool[i] = i;
        for (size_t i = 0; i < k; i++) {
            size_t j = (size_t)cm_py_randbelow(st, n - i);
            out[i] = pool[j];
            pool[j] = pool[n - i - 1];
        }
        free(pool);
        return CM_OK;
    }
    idx_set s;
    s.cap = 16;
    while (s.cap < 2 * k + 2) s.cap <<= 1;
    s.slot = cm_malloc(s.cap * sizeof *s.slot);
    if (!s.slot) return CM_ERR_NOMEM;
    memset(s.slot, 0xff, s.cap * sizeof *s.slot);
    for (size_t i = 0; i < k; i++) {
        size_t j = (size_t)cm_py_randbelow(st, n);
        while (!set_insert(&s, j)) j = (size_t)cm_py_randbelow(st, n);
        out[i] = j;
    }
    free(s.slot);
    return CM_OK;
}

void cm_py_choices(cm_mt19937 *st, size_t n, size_t k, size_t *out) {
    double dn = (double)n;
    for (size_t i = 0; i < k; i++) out[i] = (size_t)floor(cm_mt_next_double(st) * dn);
}
