/*
 * random.h: the random streams the learning evaluators must reproduce bit for
 * bit, so that cmteb draws the very same samples as the Python reference:
 *
 *   - numpy's MT19937 and the legacy numpy.random.RandomState methods that
 *     MTEB and scikit-learn call: seeding (an int, or an array of words),
 *     random_sample/uniform, randint (masked rejection), shuffle/permutation
 *     (Fisher-Yates with legacy random_interval) and choice without
 *     replacement (a permutation, then the first k);
 *   - CPython's random.Random over the same MT19937 (seeding from an int,
 *     random(), getrandbits, _randbelow, sample, choices), which MTEB's
 *     ClusteringFast protocol uses;
 *   - numpy's PCG64 Generator (SeedSequence seeding, integers/shuffle/
 *     permutation/choice without replacement) that Hugging Face datasets'
 *     train_test_split(stratify_by_column=...) draws from (pcg64.c).
 *
 * All state lives in caller-owned structs (no allocation, no globals), so a
 * stream can sit on the stack: cm_mt19937 st; cm_mt_seed(&st, 42);
 */
#ifndef CMTEB_TASKS_RANDOM_H
#define CMTEB_TASKS_RANDOM_H

#include <stddef.h>
#include <stdint.h>

/* ---- mt19937.c: the generator ---------------------------------------------- */
typedef struct cm_mt19937 {
    uint32_t key[624];
    int      pos;
} cm_mt19937;

/* RandomState(seed) for an integer seed (numpy's legacy seeding: init_genrand). */
void     cm_mt_seed(cm_mt19937 *st, uint32_t seed);
/* RandomState([w0, w1, ...]) and CPython's random.seed: init_by_array. */
void     cm_mt_seed_array(cm_mt19937 *st, const uint32_t *key, size_t n);
uint32_t cm_mt_next32(cm_mt19937 *st);
/* A double in [0, 1) from two draws (53 bits): random_sample / random.random(). */
double   cm_mt_next_double(cm_mt19937 *st);

/* ---- legacy.c: numpy.random.RandomState methods ---------------------------- */
/* random_interval(max): uniform in [0, max] by masking and rejection. */
uint64_t cm_rs_interval(cm_mt19937 *st, uint64_t max);
/* randint(low, high): uniform in [low, high) as legacy randint draws it
 * (int64 dtype, masked rejection); high > low. */
int64_t  cm_rs_randint(cm_mt19937 *st, int64_t low, int64_t high);
/* uniform(low, high) = low + (high - low) * random_sample(). */
double   cm_rs_uniform(cm_mt19937 *st, double low, double high);
/* shuffle(a) of n indices in place (Fisher-Yates, last to first). */
void     cm_rs_shuffle(cm_mt19937 *st, size_t *a, size_t n);
/* permutation(n) into out[0..n). */
void     cm_rs_permutation(cm_mt19937 *st, size_t n, size_t *out);
/* choice(n, k, replace=False) into out[0..k); work holds n indices
 * (caller-allocated scratch, size n). */
void     cm_rs_choice_noreplace(cm_mt19937 *st, size_t n, size_t k, size_t *work, size_t *out);

/* ---- pyrandom.c: CPython's random.Random ----------------------------------- */
/* random.Random(seed) for a non-negative integer seed. */
void     cm_py_seed(cm_mt19937 *st, uint64_t seed);
/* getrandbits(k) for 1 <= k <= 64. */
uint64_t cm_py_getrandbits(cm_mt19937 *st, int k);
/* _randbelow(n) for n >= 1. */
uint64_t cm_py_randbelow(cm_mt19937 *st, uint64_t n);
/* random.sample(range(n), k) into out[0..k). Allocates scratch (n or k
 * entries); returns 0 or CM_ERR_NOMEM. */
int      cm_py_sample(cm_mt19937 *st, size_t n, size_t k, size_t *out);
/* random.choices(range(n), k=k) into out[0..k). */
void     cm_py_choices(cm_mt19937 *st, size_t n, size_t k, size_t *out);

/* ---- pcg64.c: numpy.random.default_rng(seed) --------------------------------- */
typedef struct cm_pcg64 {
    unsigned __int128 state, inc;
    int      has_uint32;
    uint32_t uinteger;
} cm_pcg64;

/* default_rng(seed) for a non-negative integer seed (SeedSequence -> PCG64). */
void     cm_pcg_seed(cm_pcg64 *g, uint64_t seed);
uint64_t cm_pcg_next64(cm_pcg64 *g);
uint32_t cm_pcg_next32(cm_pcg64 *g);
/* Generator.integers(0, max, endpoint=True): Lemire's bounded draw. */
uint64_t cm_pcg_bounded(cm_pcg64 *g, uint64_t max);
/* Generator.shuffle / permutation(n) of n indices. */
void     cm_pcg_shuffle(cm_pcg64 *g, size_t *a, size_t n);
void     cm_pcg_permutation(cm_pcg64 *g, size_t n, size_t *out);
/* Generator.choice(n, k, replace=False) (shuffle=True) as positions into
 * range(n), out[0..k). Allocates scratch; returns 0 or CM_ERR_NOMEM. */
int      cm_pcg_choice_noreplace(cm_pcg64 *g, size_t n, size_t k, size_t *out);

#endif
