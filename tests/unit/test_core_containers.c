/*
 * test_core_containers.c: the core containers (core/containers.c, core/util.c):
 *   - cm_array_push / cm_array_reserve grow geometrically, keep the elements,
 *     and on a failed allocation (the hook of core/util.c) return
 *     CM_ERR_NOMEM with the array, its count and capacity unchanged;
 *   - cm_array_reserve2 / 3 / _n grow parallel arrays together; when the
 *     allocation of the second (or third) array fails, the capacity is
 *     unchanged and every array is valid with its elements;
 *   - cm_strmap put / get / insertn with borrowed and copied keys, keys that
 *     are not NUL-terminated (prefixes of one buffer, embedded NULs, the
 *     empty key), replace vs keep semantics, and growth to 100k keys checked
 *     against a reference (a sorted array searched by bsearch); a failed
 *     allocation while growing or copying a key leaves the map unchanged;
 *   - cm_str's sticky error: after an injected failure every append returns
 *     the error and the text stays as it was; cm_alloc_failures counts it;
 *   - cm_l2_normalize_rows (four rows side by side) against one row at a time
 *     written here (a float64 sum of squares in order, a float64 division per
 *     value): the same bits for 0..9 rows (every tail), dims 1, 7 and 384,
 *     zero rows (left as they are), values near 1e30 and 1e-30.
 */
#include "check.h"
#include "fault.h"
#include "cmteb/array.h"
#include "cmteb/strmap.h"

#include <math.h>
#include <string.h>

static void test_array(void) {
    int *a = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 1000; i++) {
        size_t before = cap;
        CHECK_OK(cm_array_push(a, n, cap, i * 3));
        if (cap != before) CHECK(before == 0 ? cap == 8 : cap == 2 * before);   /* x2, at least 8 */
    }
    CHECK(n == 1000 && cap == 1024);
    int ok = 1;
    for (int i = 0; i < 1000; i++) ok &= a[i] == i * 3;
    CHECK(ok);
    CHECK_OK(cm_array_reserve(a, cap, 1000));   /* already room: no change */
    CHECK(cap == 1024);
    CHECK_OK(cm_array_reserve(a, cap, 5000));
    CHECK(cap == 8192 && n == 1000);

    /* A failing push at the capacity boundary: CM_ERR_NOMEM, nothing changed. */
    while (n < cap) CHECK_OK(cm_array_push(a, n, cap, -1));
    int *before_ptr = a;
    size_t before_n = n, before_cap = cap;
    size_t failures = cm_alloc_failures();
    fault_arm(1);
    int rc = cm_array_push(a, n, cap, 42);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM);
    CHECK(a == before_ptr && n == before_n && cap == before_cap);
    CHECK(cm_alloc_failures() == failures + 1);
    CHECK(a[0] == 0 && a[999] == 2997 && a[n - 1] == -1);
    fault_arm(1);
    rc = cm_array_reserve(a, cap, cap + 1);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && a == before_ptr && cap == before_cap);
    CHECK_OK(cm_array_push(a, n, cap, 42));   /* and it works afterwards */
    CHECK(n == before_n + 1 && a[n - 1] == 42);
    /* An impossible size is refused, not wrapped around. */
    CHECK(cm_array_reserve(a, cap, SIZE_MAX / 2) == CM_ERR_NOMEM && a && cap == 2 * before_cap);
    free(a);

    /* From empty, a failed first push leaves NULL / 0 / 0. */
    double *d = NULL;
    size_t dn = 0, dcap = 0;
    fault_arm(1);
    rc = cm_array_push(d, dn, dcap, 1.5);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && d == NULL && dn == 0 && dcap == 0);
}

/* Parallel arrays: grown together; a failure of any one leaves the capacity
 * as it was and every array valid (the earlier ones possibly moved). */
static void test_array_parallel(void) {
    int *a = NULL;
    double *b = NULL;
    size_t n = 0, cap = 0;
    for (int i = 0; i < 100; i++) {
        size_t before = cap;
        CHECK_OK(cm_array_reserve2(a, b, cap, n + 1));
        if (cap != before) CHECK(before == 0 ? cap == 8 : cap == 2 * before);
        a[n] = i;
        b[n] = i / 2.0;
        n++;
    }
    CHECK(n == 100 && cap == 128);
    CHECK_OK(cm_array_reserve2(a, b, cap, 128));   /* room already: nothing moves */
    CHECK(cap == 128);
    while (n < cap) { a[n] = (int)n; b[n] = n / 2.0; n++; }
    for (long k = 1; k <= 2; k++) {   /* the first array's allocation fails, then the second's */
        double *b_before = b;
        size_t failures = cm_alloc_failures();
        fault_arm(k);
        int rc = cm_array_reserve2(a, b, cap, cap + 1);
        fault_disarm();
        CHECK(rc == CM_ERR_NOMEM && cap == 128 && b == b_before);
        CHECK(cm_alloc_failures() == failures + 1);
        int ok = 1;
        for (size_t i = 0; i < n; i++) ok &= a[i] == (int)i && b[i] == i / 2.0;
        CHECK(ok);
    }
    CHECK_OK(cm_array_reserve2(a, b, cap, cap + 1));   /* and it works afterwards */
    CHECK(cap == 256 && a[127] == 127 && b[127] == 63.5);
    a[255] = 1;
    b[255] = 2;
    free(a);
    free(b);

    /* From empty, the second array failing: the first holds a block, the
     * second is still NULL, the capacity 0; both free as usual. */
    int *x = NULL;
    float *y = NULL;
    unsigned char *z = NULL;
    size_t xcap = 0;
    fault_arm(2);
    int rc = cm_array_reserve3(x, y, z, xcap, 5);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && xcap == 0 && y == NULL && z == NULL);
    fault_arm(3);   /* the third */
    rc = cm_array_reserve3(x, y, z, xcap, 5);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && xcap == 0 && x && y && z == NULL);
    CHECK_OK(cm_array_reserve3(x, y, z, xcap, 5));
    CHECK(xcap == 8 && x && y && z);
    x[7] = 1; y[7] = 2; z[7] = 3;
    free(x);
    free(y);
    free(z);

    /* A run-time element size (rows of dim floats) through cm_array_reserve_n. */
    enum { DIM = 5 };
    uint64_t *keys = NULL;
    float *rows = NULL;
    size_t rcap = 0;
    size_t elem[2] = {sizeof *keys, DIM * sizeof *rows};
    for (size_t i = 0; i < 20; i++) {
        CHECK_OK(cm_array_reserve_n(&rcap, i + 1, 2, (void *const[]){&keys, &rows}, elem));
        keys[i] = i;
        for (size_t d = 0; d < DIM; d++) rows[i * DIM + d] = (float)(i * DIM + d);
    }
    CHECK(rcap == 32 && keys[19] == 19 && rows[19 * DIM + DIM - 1] == 19 * DIM + DIM - 1);
    CHECK(cm_array_reserve_n(&rcap, SIZE_MAX / 8, 2, (void *const[]){&keys, &rows}, elem) == CM_ERR_NOMEM);
    CHECK(rcap == 32 && keys[0] == 0);
    free(keys);
    free(rows);
}

static void test_strmap_basic(int copy) {
    cm_strmap_params p = cm_strmap_default_params();
    p.copy_keys = copy;
    cm_strmap *m = NULL;
    CHECK_OK(cm_strmap_init(&m, &p));
    if (!m) return;
    /* Keys that are prefixes of one buffer, not NUL-terminated at their ends. */
    char buf[] = "abcdef";
    for (size_t l = 0; l <= 6; l++) CHECK(cm_strmap_putn(m, buf, l, 100 + l) == 1);   /* l = 0: the empty key */
    CHECK(cm_strmap_count(m) == 7);
    uint64_t v = 0;
    for (size_t l = 0; l <= 6; l++) CHECK(cm_strmap_getn(m, buf, l, &v) == 1 && v == 100 + l);
    CHECK(cm_strmap_get(m, "abc", &v) == 1 && v == 103);
    CHECK(cm_strmap_get(m, "", &v) == 1 && v == 100);
    CHECK(cm_strmap_get(m, "abcdefg", NULL) == 0);
    CHECK(cm_strmap_get(m, "b", NULL) == 0);
    /* Embedded NULs are part of the key. */
    CHECK(cm_strmap_putn(m, "x\0y", 3, 7) == 1);
    CHECK(cm_strmap_putn(m, "x\0z", 3, 8) == 1);
    CHECK(cm_strmap_getn(m, "x\0y", 3, &v) == 1 && v == 7);
    CHECK(cm_strmap_getn(m, "x\0z", 3, &v) == 1 && v == 8);
    CHECK(cm_strmap_get(m, "x", NULL) == 0);
    /* put replaces, insertn keeps and reports the value present. */
    CHECK(cm_strmap_put(m, "abc", 5) == 0);
    CHECK(cm_strmap_get(m, "abc", &v) == 1 && v == 5);
    v = 99;
    CHECK(cm_strmap_insertn(m, "abc", 3, &v) == 0 && v == 5);
    CHECK(cm_strmap_get(m, "abc", &v) == 1 && v == 5);
    v = 99;
    CHECK(cm_strmap_insertn(m, "new", 3, &v) == 1 && v == 99);
    CHECK(cm_strmap_count(m) == 10);
    /* Copied keys do not depend on the caller's buffer; borrowed ones do. */
    char tmp[] = "temp";
    CHECK(cm_strmap_put(m, tmp, 1) == 1);
    tmp[0] = 'T';
    CHECK(cm_strmap_get(m, "temp", NULL) == copy);
    cm_strmap_free(m);
    cm_strmap_free(NULL);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* 100k keys, some repeated; the map against a sorted reference. */
static void test_strmap_growth(int copy) {
    enum { N = 100000 };
    cm_strmap_params p = cm_strmap_default_params();
    p.copy_keys = copy;
    cm_strmap *m = NULL;
    CHECK_OK(cm_strmap_init(&m, &p));
    char *text = cm_malloc((size_t)N * 16);   /* key i at text + 16 i, no NUL between keys */
    uint64_t *ids = cm_malloc((size_t)N * sizeof *ids), *ref = cm_malloc((size_t)N * sizeof *ref);
    size_t *lens = cm_malloc((size_t)N * sizeof *lens);
    if (!m || !text || !ids || !ref || !lens) { CHECK(0); goto out; }
    uint64_t x = 88172645463325252ULL;
    for (size_t i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        ids[i] = i % 7 == 6 ? ids[i / 2] : x % 1000000007ULL;   /* repeats */
        char b[24];
        int l = snprintf(b, sizeof b, "k%llu", (unsigned long long)ids[i]);
        memset(text + 16 * i, '#', 16);
        memcpy(text + 16 * i, b, (size_t)l);
        lens[i] = (size_t)l;
    }
    /* reference: distinct ids, sorted */
    memcpy(ref, ids, (size_t)N * sizeof *ref);
    qsort(ref, N, sizeof *ref, cmp_u64);
    size_t nd = 0;
    for (size_t i = 0; i < N; i++)
        if (!nd || ref[nd - 1] != ref[i]) ref[nd++] = ref[i];
    size_t news = 0, errors = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t v = ids[i];
        int r = cm_strmap_insertn(m, text + 16 * i, lens[i], &v);
        if (r < 0) errors++;
        news += r == 1;
        if (v != ids[i]) errors++;
    }
    CHECK(errors == 0);
    CHECK(news == nd && cm_strmap_count(m) == nd);
    size_t wrong = 0;
    for (size_t i = 0; i < N; i++) {
        uint64_t v = 0;
        if (cm_strmap_getn(m, text + 16 * i, lens[i], &v) != 1 || v != ids[i]) wrong++;
        if (cm_strmap_getn(m, text + 16 * i, lens[i] + 1, NULL) != 0) wrong++;   /* with a '#' more: absent */
    }
    CHECK(wrong == 0);
    /* ids absent from the reference are absent from the map */
    size_t absent = 0, false_hits = 0;
    for (uint64_t id = 0; absent < 1000; id += 9973) {
        if (bsearch(&id, ref, nd, sizeof *ref, cmp_u64)) continue;
        absent++;
        char b[24];
        snprintf(b, sizeof b, "k%llu", (unsigned long long)id);
        false_hits += cm_strmap_get(m, b, NULL);
    }
    CHECK(false_hits == 0);

    /* Failures: fill to the growth threshold, then fail the table's
     * allocation (and, with copied keys, the key's): the map is unchanged. */
    enum { FILL = 220000 };
    char *pool = cm_malloc((size_t)FILL * 48);   /* borrowed keys must stay put */
    for (long k = 1; k <= 2 && pool; k++) {
        if (k == 2 && !copy) break;
        size_t count = cm_strmap_count(m);
        char *key = pool;
        int rc = 0;
        for (uint64_t j = 0; j < FILL; j++) {   /* insert until an insert fails */
            key = pool + 48 * j;
            snprintf(key, 48, "fill-%ld-%llu", k, (unsigned long long)j);
            fault_arm(k);
            rc = cm_strmap_put(m, key, j);
            fault_disarm();
            if (rc < 0) break;
            CHECK(rc == 1);
            count++;
        }
        CHECK(rc == CM_ERR_NOMEM);
        CHECK(cm_strmap_count(m) == count && cm_strmap_get(m, key, NULL) == 0);
        CHECK(cm_strmap_put(m, key, 1) == 1);   /* unhooked, it goes in */
        uint64_t v = 0;
        CHECK(cm_strmap_getn(m, text, lens[0], &v) == 1 && v == ids[0]);
    }
    CHECK(pool != NULL);
    cm_strmap_free(m);   /* before the pool its borrowed keys live in */
    m = NULL;
    free(pool);
out:
    cm_strmap_free(m);
    free(text);
    free(ids);
    free(ref);
    free(lens);
}

static void test_str_sticky(void) {
    cm_str b = {0};
    CHECK(cm_str_error(&b) == CM_OK);
    CHECK_OK(cm_str_append(&b, "hello"));
    CHECK_OK(cm_str_printf(&b, " %d", 42));
    CHECK(b.s && !strcmp(b.s, "hello 42") && b.len == 8);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t failures = cm_alloc_failures();
    fault_arm(1);   /* the next growth fails */
    int rc = cm_str_append(&b, big);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && cm_str_error(&b) == CM_ERR_NOMEM);
    CHECK(cm_alloc_failures() == failures + 1);
    CHECK(!strcmp(b.s, "hello 42") && b.len == 8);
    /* Sticky: later appends, even small ones that would fit, change nothing. */
    CHECK(cm_str_append(&b, "!") == CM_ERR_NOMEM);
    CHECK(cm_str_appendn(&b, "abc", 2) == CM_ERR_NOMEM);
    CHECK(cm_str_printf(&b, "%s", "more") == CM_ERR_NOMEM);
    CHECK(!strcmp(b.s, "hello 42") && b.len == 8 && cm_str_error(&b) == CM_ERR_NOMEM);
    /* cm_str_free resets it to a usable empty builder. */
    cm_str_free(&b);
    CHECK(cm_str_error(&b) == CM_OK && b.s == NULL && b.len == 0);
    CHECK_OK(cm_str_append(&b, "again"));
    CHECK(!strcmp(b.s, "again"));
    cm_str_free(&b);
    /* A failure on the very first append (printf path): error, no text. */
    fault_arm(1);
    rc = cm_str_printf(&b, "%d", 7);
    fault_disarm();
    CHECK(rc == CM_ERR_NOMEM && b.s == NULL && b.len == 0 && cm_str_error(&b) == CM_ERR_NOMEM);
    cm_str_free(&b);
}

static void normalize_ref(float *x, size_t n, size_t d) {
    for (size_t i = 0; i < n; i++) {
        float *r = x + i * d;
        double s = 0;
        for (size_t j = 0; j < d; j++) s += (double)r[j] * r[j];
        double nn = sqrt(s);
        if (nn > 0)
            for (size_t j = 0; j < d; j++) r[j] = (float)(r[j] / nn);
    }
}

static void test_normalize(void) {
    uint64_t r = 0x9E3779B97F4A7C15ull;
    const size_t dims[] = {1, 7, 384};
    size_t differ = 0, cases = 0;
    for (size_t di = 0; di < 3; di++)
        for (size_t n = 0; n <= 9; n++) {
            const size_t d = dims[di];
            const size_t m = n * d > 0 ? n * d : 1;
            float *a = malloc(m * sizeof *a), *b = malloc(m * sizeof *b);
            for (size_t i = 0; i < n * d; i++) {
                r ^= r << 13; r ^= r >> 7; r ^= r << 17;
                double u = (double)(r >> 11) / 9007199254740992.0 - 0.5;
                a[i] = (float)(u * (i % 5 == 0 ? 1e30 : i % 5 == 1 ? 1e-30 : 1.0));
            }
            if (n > 2)
                for (size_t j = 0; j < d; j++) a[2 * d + j] = 0.0f;   /* a zero row */
            memcpy(b, a, n * d * sizeof *a);
            cm_l2_normalize_rows(a, n, d);
            normalize_ref(b, n, d);
            differ += n > 0 && memcmp(a, b, n * d * sizeof *a) != 0;
            cases++;
            free(a);
            free(b);
        }
    if (differ) fprintf(stderr, "cm_l2_normalize_rows: %zu of %zu cases differ from one row at a time\n", differ, cases);
    CHECK(differ == 0);
}

int main(void) {
    test_normalize();
    test_array();
    test_array_parallel();
    test_strmap_basic(0);
    test_strmap_basic(1);
    test_strmap_growth(0);
    test_strmap_growth(1);
    test_str_sticky();
    return check_report();
}
