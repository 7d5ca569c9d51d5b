/*
 * test_topk_select.c: the quickselect that cuts topk.c's candidate buffers
 * (select_best, static in tasks/retrieval/topk.c, compiled into this test with
 * its heapsort fallback forced early), against qsort of the same entries:
 *   - after select_best(n, k) the first k entries are exactly the k best by
 *     (score desc, id desc by strcmp) as a set, and entry k - 1 is the worst
 *     of them (the new threshold);
 *   - scores drawn from 3, 50 and 10^6 values (heavy ties decided by id, and
 *     nearly none), ids whose strcmp order is not their numeric order,
 *     sizes 2..3000 with k from 1 to n - 1, inputs sorted both ways;
 *   - quickselect rounds limited to 64 (the build's), 2 and 0 (heapsort from
 *     the start), so the fallback path is checked against the same reference;
 *   - the radix selection in front of it (select_best proper) from 256 entries
 *     (the build's) and from 2 (so small sizes take it too), on those scores
 *     and on scores like the search's (a narrow band of small positive and
 *     negative values, -0.0 and +0.0 among them, and a band just around a
 *     power of two), where it decides by digits and meets ties only inside
 *     its last bucket; a count of how often each path ran makes sure the
 *     radix path is taken, and taken to its sorted bucket.
 */
#define CM_TOPK_SELECT_ROUNDS select_rounds
#include <stddef.h>
static int select_rounds = 64;
#define CM_TOPK_RADIX_MIN radix_min
static size_t radix_min = 256;
static size_t paths[4];
#define CM_TOPK_PATH(p) (paths[p]++)
#include "tasks/retrieval/topk.c"

#include "check.h"

static uint64_t rs = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(uint32_t n) {
    rs ^= rs >> 12; rs ^= rs << 25; rs ^= rs >> 27;
    return (uint32_t)(((rs * 2685821657736338717ull) >> 33) % n);
}

static const cm_topk_heaps *ref_h;
/* The reference order, written here: score descending, then id descending (strcmp), on (score, doc) float pairs. */
static int cmp_ref(const void *a, const void *b) {
    const float *x = a, *y = b;
    uint32_t dx, dy;
    memcpy(&dx, x + 1, 4);
    memcpy(&dy, y + 1, 4);
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return strcmp(ref_h->pool + ref_h->off[dy], ref_h->pool + ref_h->off[dx]);
}

int main(void) {
    enum { MAXN = 3000 };
    /* ids: "i<permuted number>", so strcmp order differs from doc order */
    static char pool[MAXN * 12];
    static size_t off[MAXN];
    size_t len = 0;
    for (size_t i = 0; i < MAXN; i++) {
        off[i] = len;
        len += (size_t)snprintf(pool + len, 12, "i%zu", (i * 7919) % MAXN) + 1;
    }
    cm_topk_heaps h;
    memset(&h, 0, sizeof h);
    h.pool = pool;
    h.off = off;
    ref_h = &h;
    static float s[MAXN], ref[MAXN * 2];
    static uint32_t d[MAXN];
    /* levels: scores drawn from that many values; 0: search-like floats, 1: around 0.25 = 2^-2, 2: signed zeros,
     * 4: one score (ties only) */
    const uint32_t levels[] = {3, 50, 1000000, 0, 1, 2, 4};
    const size_t sizes[] = {2, 17, 18, 100, 1000, 2000, 3000};
    const int rounds[] = {64, 2, 0};
    const size_t radix_mins[] = {256, 2};
    size_t cases = 0;
    for (size_t mi = 0; mi < 2; mi++)
    for (size_t ri = 0; ri < sizeof rounds / sizeof *rounds; ri++)
        for (size_t li = 0; li < sizeof levels / sizeof *levels; li++)
            for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
                for (int order = 0; order < 3; order++) {
                    select_rounds = rounds[ri];
                    radix_min = radix_mins[mi];
                    size_t n = sizes[si];
                    size_t ks[] = {1, n / 3 ? n / 3 : 1, n / 2 ? n / 2 : 1, n - 1};
                    for (size_t ki = 0; ki < 4; ki++) {
                        size_t k = ks[ki];
                        if (k < 1 || k >= n) continue;
                        for (size_t i = 0; i < n; i++) {   /* distinct documents, random scores */
                            const uint32_t lv = levels[li];
                            if (lv == 0)        /* the search's: unit vectors' inner products near a threshold */
                                s[i] = ((float)rnd(1u << 24) / 16777216.0f - 0.3f) * 0.4f;
                            else if (lv == 1)   /* straddling an exponent boundary */
                                s[i] = 0.25f + ((float)rnd(1u << 20) / 1048576.0f - 0.5f) * 1e-3f;
                            else if (lv == 4)
                                s[i] = 0.5f;
                            else if (lv == 2)   /* -0.0, +0.0 and a few tiny values of both signs */
                                s[i] = (float)((int)rnd(5) - 2) * (rnd(2) ? 1e-30f : 0.0f) * (rnd(2) ? 1.0f : -1.0f);
                            else
                                s[i] = (float)rnd(lv) / 7.0f - 3.0f;
                            d[i] = (uint32_t)i;
                        }
                        if (order) {   /* presorted best first (1) or worst first (2) */
                            for (size_t i = 0; i < n; i++) { ref[2 * i] = s[i]; memcpy(&ref[2 * i + 1], &d[i], 4); }
                            qsort(ref, n, 2 * sizeof(float), cmp_ref);
                            for (size_t i = 0; i < n; i++) {
                                size_t at = order == 1 ? i : n - 1 - i;
                                s[at] = ref[2 * i];
                                memcpy(&d[at], &ref[2 * i + 1], 4);
                            }
                        }
                        for (size_t i = 0; i < n; i++) { ref[2 * i] = s[i]; memcpy(&ref[2 * i + 1], &d[i], 4); }
                        qsort(ref, n, 2 * sizeof(float), cmp_ref);
                        select_best(&h, s, d, n, k);
                        /* the first k are the reference's first k (as a set: sort them), the k-th is the worst */
                        static float got[MAXN * 2];
                        for (size_t i = 0; i < k; i++) { got[2 * i] = s[i]; memcpy(&got[2 * i + 1], &d[i], 4); }
                        qsort(got, k, 2 * sizeof(float), cmp_ref);
                        int same = !memcmp(got, ref, k * 2 * sizeof(float));
                        uint32_t dk;
                        memcpy(&dk, &ref[2 * (k - 1) + 1], 4);
                        int worst = s[k - 1] == ref[2 * (k - 1)] && d[k - 1] == dk;
                        if (!same || !worst)
                            fprintf(stderr, "rounds %d levels %u n %zu k %zu order %d: set %s, k-th %s\n", rounds[ri],
                                    levels[li], n, k, order, same ? "ok" : "WRONG", worst ? "ok" : "WRONG");
                        CHECK(same && worst);
                        cases++;
                    }
                }
    printf("paths: %zu small, %zu one score, %zu tied bucket, %zu radix\n", paths[0], paths[1], paths[2], paths[3]);
    CHECK(paths[0] > 0 && paths[1] > 0 && paths[2] > 0 && paths[3] > 0);
    printf("select_best: %zu cases (ties by id, presorted inputs, heapsort fallback) equal to qsort\n", cases);
    return check_report();
}
