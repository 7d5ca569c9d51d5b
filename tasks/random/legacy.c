/*
 * legacy.c: the numpy.random.RandomState methods MTEB and scikit-learn call,
 * drawing from MT19937 in exactly numpy's order: bounded integers by masking
 * and rejection (never Lemire's method, which only the new Generator uses),
 * Fisher-Yates shuffles from the last element down, choice without
 * replacement as the head of a permutation.
 */
#include "tasks/random/random.h"

/* Smallest all-ones mask covering max. */
static uint64_t mask_for(uint64_t max) {
    uint64_t m = max;
    m |= m >> 1;
    m |= m >> 2;
    m |= m >> 4;
    m |= m >> 8;
    m |= m >> 16;
    m |= m >> 32;
    return m;
}

static uint64_t next64(cm_mt19937 *st) {
    uint64_t hi = cm_mt_next32(st);
    return (hi << 32) | cm_mt_next32(st);
}

uint64_t cm_rs_interval(cm_mt19937 *st, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = mask_for(max), v;
    if (max <= 0xffffffffULL) {
        while ((v = (cm_mt_next32(st) & mask)) > max) {}
    } else {
        while ((v = (next64(st) & mask)) > max) {}
    }
    return v;
}

int64_t cm_rs_randint(cm_mt19937 *st, int64_t low, int64_t high) {
    uint64_t rng = (uint64_t)(high - 1) - (uint64_t)low;
    if (rng == 0) return low;
    if (rng == 0xffffffffULL) return low + (int64_t)cm_mt_next32(st);
    if (rng < 0xffffffffULL) {
        uint64_t mask = mask_for(rng), v;
        while ((v = (cm_mt_next32(st) & mask)) > rng) {}
        return low + (int64_t)v;
    }
    if (rng == UINT64_MAX) return low + (int64_t)next64(st);
    uint64_t mask = mask_for(rng), v;
    while ((v = (next64(st) & mask)) > rng) {}
    return low + (int64_t)v;
}

double cm_rs_uniform(cm_mt19937 *st, double low, double high) {
    return low + (high - low) * cm_mt_next_double(st);
}

void cm_rs_shuffle(cm_mt19937 *st, size_t *a, size_t n) {
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)cm_rs_interval(st, i);
        size_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void cm_rs_permutation(cm_mt19937 *st, size_t n, size_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = i;
    cm_rs_shuffle(st, out, n);
}

void cm_rs_choice_noreplace(cm_mt19937 *st, size_t n, size_t k, size_t *work, size_t *out) {
    cm_rs_permutation(st, n, work);
    for (size_t i = 0; i < k; i++) out[i] = work[i];
}
