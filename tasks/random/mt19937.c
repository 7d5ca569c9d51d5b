/*
 * mt19937.c: the Mersenne Twister MT19937 exactly as numpy's legacy
 * RandomState and CPython's random module run it (same seeding routines,
 * same tempering, same 53-bit doubles), so that every draw matches theirs.
 */
#include "tasks/random/random.h"

#define MT_N 624
#define MT_M 397
#define MT_MATRIX_A 0x9908b0dfU
#define MT_UPPER 0x80000000U
#define MT_LOWER 0x7fffffffU

void cm_mt_seed(cm_mt19937 *st, uint32_t seed) {
    st->key[0] = seed;
    for (int i = 1; i < MT_N; i++) {
        uint32_t prev = st->key[i - 1];
        st->key[i] = 1812433253U * (prev ^ (prev >> 30)) + (uint32_t)i;
    }
    st->pos = MT_N;
}

void cm_mt_seed_array(cm_mt19937 *st, const uint32_t *key, size_t n) {
    cm_mt_seed(st, 19650218U);
    uint32_t *mt = st->key;
    size_t i = 1, j = 0;
    size_t k = MT_N > n ? MT_N : n;
    for (; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525U)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
        if (j >= n) j = 0;
    }
    for (k = MT_N - 1; k; k--) {
        mt[i] = (mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941U)) - (uint32_t)i;
        i++;
        if (i >= MT_N) { mt[0] = mt[MT_N - 1]; i = 1; }
    }
    mt[0] = 0x80000000U; /* the most significant bit is 1: a non-zero initial state */
    st->pos = MT_N;
}

/* Regenerates the whole block of 624 words. */
static void mt_refill(cm_mt19937 *st) {
    uint32_t *mt = st->key;
    int i;
    for (i = 0; i < MT_N - MT_M; i++) {
        uint32_t y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
        mt[i] = mt[i + MT_M] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    }
    for (; i < MT_N - 1; i++) {
        uint32_t y = (mt[i] & MT_UPPER) | (mt[i + 1] & MT_LOWER);
        mt[i] = mt[i + (MT_M - MT_N)] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    }
    uint32_t y = (mt[MT_N - 1] & MT_UPPER) | (mt[0] & MT_LOWER);
    mt[MT_N - 1] = mt[MT_M - 1] ^ (y >> 1) ^ ((y & 1U) ? MT_MATRIX_A : 0U);
    st->pos = 0;
}

uint32_t cm_mt_next32(cm_mt19937 *st) {
    if (st->pos >= MT_N) mt_refill(st);
    uint32_t y = st->key[st->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680U;
    y ^= (y << 15) & 0xefc60000U;
    y ^= y >> 18;
    return y;
}

double cm_mt_next_double(cm_mt19937 *st) {
    uint32_t a = cm_mt_next32(st) >> 5, b = cm_mt_next32(st) >> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
}
