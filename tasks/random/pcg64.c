/*
 * pcg64.c: numpy.random.default_rng(seed): SeedSequence entropy mixing,
 * PCG64 (128-bit LCG, XSL-RR output, 32-bit draws served from halves of a
 * 64-bit draw), and the Generator methods Hugging Face datasets' stratified
 * split uses: permutation/shuffle (random_interval masking on 32-bit draws)
 * and choice(replace=False), which numpy implements as Floyd's algorithm
 * plus a Lemire shuffle, or as a partial "tail" shuffle when the population
 * exceeds 10000 and the sample is over 1/50 of it.
 */
#include "tasks/random/random.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;

#define PCG_MULT (((u128)2549297995355413924ULL << 64) | (u128)4865540595714422341ULL)

/* SeedSequence(seed).generate_state(4, uint64). */
static void seed_sequence_state(uint64_t seed, uint64_t out[4]) {
    const uint32_t INIT_A = 0x43b0d7e5U, MULT_A = 0x931e8875U, INIT_B = 0x8b51f9ddU, MULT_B = 0x58f38dedU;
    const uint32_t MIX_L = 0xca01f9ddU, MIX_R = 0x4973f715U;
    uint32_t entropy[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    size_t n_ent = entropy[1] ? 2 : 1;
    uint32_t pool[4], hc = INIT_A;
#define HASHMIX(v, out)            \
    do {                           \
        uint32_t hv_ = (v) ^ hc;   \
        hc *= MULT_A;              \
        hv_ *= hc;                 \
        hv_ ^= hv_ >> 16;          \
        (out) = hv_;               \
    } while (0)
#define MIX(x, y, out)                          \
    do {                                        \
        uint32_t r_ = MIX_L * (x) - MIX_R * (y); \
        r_ ^= r_ >> 16;                         \
        (out) = r_;                             \
    } while (0)
    for (int i = 0; i < 4; i++) HASHMIX((size_t)i < n_ent ? entropy[i] : 0U, pool[i]);
    for (int s = 0; s < 4; s++)
        for (int d = 0; d < 4; d++)
            if (s != d) {
                uint32_t h;
                HASHMIX(pool[s], h);
                MIX(pool[d], h, pool[d]);
            }
    /* entropy beyond the pool size (never: at most 2 words) would mix in here */
#undef HASHMIX
#undef MIX
    uint32_t words[8], hb = INIT_B;
    for (int i = 0; i < 8; i++) {
        uint32_t v = pool[i % 4] ^ hb;
        hb *= MULT_B;
        v *= hb;
        v ^= v >> 16;
        words[i] = v;
    }
    for (int i = 0; i < 4; i++) out[i] = (uint64_t)words[2 * i] | ((uint64_t)words[2 * i + 1] << 32);
}

static void pcg_step(cm_pcg64 *g) { g->state = g->state * PCG_MULT + g->inc; }

void cm_pcg_seed(cm_pcg64 *g, uint64_t seed) {
    uint64_t v[4];
    seed_sequence_state(seed, v);
    u128 initstate = ((u128)v[0] << 64) | v[1];
    u128 initseq = ((u128)v[2] << 64) | v[3];
    g->state = 0;
    g->inc = (initseq << 1) | 1;
    pcg_step(g);
    g->state += initstate;
    pcg_step(g);
    g->has_uint32 = 0;
    g->uinteger = 0;
}

uint64_t cm_pcg_next64(cm_pcg64 *g) {
    pcg_step(g);
    uint64_t v = (uint64_t)(g->state >> 64) ^ (uint64_t)g->state;
    unsigned rot = (unsigned)(g->state >> 122);
    return (v >> rot) | (v << ((64 - rot) & 63));
}

uint32_t cm_pcg_next32(cm_pcg64 *g) {
    if (g->has_uint32) {
        g->has_uint32 = 0;
        return g->uinteger;
    }
    uint64_t next = cm_pcg_next64(g);
    g->has_uint32 = 1;
    g->uinteger = (uint32_t)(next >> 32);
    return (uint32_t)next;
}

uint64_t cm_pcg_bounded(cm_pcg64 *g, uint64_t max) {
    if (max == 0) return 0;
    if (max == 0xffffffffULL) return cm_pcg_next32(g);
    if (max < 0xffffffffULL) {
        uint32_t rng = (uint32_t)max, excl = rng + 1;
        uint64_t m = (uint64_t)cm_pcg_next32(g) * excl;
        uint32_t left = (uint32_t)m;
        if (left < excl) {
            uint32_t threshold = (UINT32_MAX - rng) % excl;
            while (left < threshold) {
                m = (uint64_t)cm_pcg_next32(g) * excl;
                left = (uint32_t)m;
            }
        }
        return m >> 32;
    }
    if (max == UINT64_MAX) return cm_pcg_next64(g);
    /* 64-bit Lemire */
    uint64_t excl = max + 1;
    u128 m = (u128)cm_pcg_next64(g) * excl;
    uint64_t left = (uint64_t)m;
    if (left < excl) {
        uint64_t threshold = (UINT64_MAX - max) % excl;
        while (left < threshold) {
            m = (u128)cm_pcg_next64(g) * excl;
            left = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

/* random_interval on the Generator's bit stream (used by shuffle). */
static uint64_t pcg_interval(cm_pcg64 *g, uint64_t max) {
    if (max == 0) return 0;
    uint64_t mask = max, v;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    if (max <= 0xffffffffULL) {
        while ((v = (cm_pcg_next32(g) & mask)) > max) {}
    } else {
        while ((v = (cm_pcg_next64(g) & mask)) > max) {}
    }
    return v;
}

void cm_pcg_shuffle(cm_pcg64 *g, size_t *a, size_t n) {
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)pcg_interval(g, i);
        size_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

void cm_pcg_permutation(cm_pcg64 *g, size_t n, size_t *out) {
    for (size_t i = 0; i < n; i++) out[i] = i;
    cm_pcg_shuffle(g, out, n);
}

/* Lemire-bounded shuffle of a[first..n) (numpy's _shuffle_int). */
static void shuffle_int(cm_pcg64 *g, size_t *a, size_t n, size_t first) {
    for (size_t i = n; i-- > first;) {
        size_t j = (size_t)cm_pcg_bounded(g, i);
        size_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int cm_pcg_choice_noreplace(cm_pcg64 *g, size_t n, size_t k, size_t *out) {
    CM_ASSERT(k <= n);
    if (k == 0) return CM_OK;
    if (n > 10000 && k > n / 50) {
        size_t *idx = cm_malloc(n * sizeof *idx);
        if (!idx) return CM_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) idx[i] = i;
        shuffle_int(g, idx, n, n - k > 1 ? n - k : 1);
        memcpy(out, idx + (n - k), k * sizeof *out);
        free(idx);
        return CM_OK;
    }
    /* Floyd's algorithm; membership in a hash set (numpy sizes it 1.2 k). */
    size_t cap = 16;
    while (cap < 2 * k + 2) cap <<= 1;
    size_t *set = cm_malloc(cap * sizeof *set);
    if (!set) return CM_ERR_NOMEM;
    memset(set, 0xff, cap * sizeof *set);
    for (size_t j = n - k; j < n; j++) {
        size_t val = (size_t)cm_pcg_bounded(g, j), pick = val;
        for (int pass = 0; pass < 2; pass++) {
            size_t i = (size_t)((pick * 0x9E3779B97F4A7C15ULL) >> 7) & (cap - 1);
            while (set[i] != (size_t)-1 && set[i] != pick) i = (i + 1) & (cap - 1);
            if (set[i] == (size_t)-1) {
                set[i] = pick;
                break;
            }
            pick = j; /* val already taken: take j, which never is */
        }
        out[j - (n - k)] = pick;
    }
    free(set);
    shuffle_int(g, out, k, 1);
    return CM_OK;
}
