/*
 * test_store.c: the vector store (engine/store, cmteb/store.h): the on-disk
 * format byte for byte, the persisted index across rebuilds and reopenings,
 * float16 rows against IEEE half values, a NaN row found when read (not on
 * open) and named, a torn tail ignored and overwritten, two writers, a
 * damaged head and a foreign tag refused.
 *
 * Also the helper of tests/e2e/store_kill.sh: `test_store append DIR N` adds
 * rows key_of(i) -> row_of(i) from the committed count up to N in commits of
 * 1..40 rows (small index generations), `test_store verify DIR` checks that
 * every committed row i holds row_of(i) under key_of(i) and prints the count.
 */
#include "check.h"
#include "cmteb/store.h"

#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char *tmpdir(const char *name) {
    const char *base = getenv("CMTEB_TMP") ? getenv("CMTEB_TMP") : "/tmp";
    char *d = cm_asprintf("%s/test_store_%s_%d", base, name, (int)getpid());
    char *cmd = cm_asprintf("rm -rf '%s'", d);
    if (system(cmd) != 0) fprintf(stderr, "cannot clean %s\n", d);
    free(cmd);
    return d;
}

static void rmdir_r(const char *d) {
    char *cmd = cm_asprintf("rm -rf '%s'", d);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", d);
    free(cmd);
}

static cm_store_key key_of(size_t i) {
    char t[32];
    snprintf(t, sizeof t, "text %zu", i);
    return cm_store_key_text((int)(i % 3) - 1, NULL, t);
}

static void row_of(size_t i, float *v, size_t dim) {
    for (size_t j = 0; j < dim; j++) v[j] = (float)i + 0.25f * (float)j;
}

static size_t file_size(const char *dir, const char *name) {
    char *p = cm_path_join(dir, name);
    FILE *f = fopen(p, "rb");
    free(p);
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    fclose(f);
    return (size_t)l;
}

static void append_bytes(const char *dir, const char *name, size_t n) {
    char *p = cm_path_join(dir, name);
    FILE *f = fopen(p, "ab");
    free(p);
    for (size_t i = 0; f && i < n; i++) fputc(0xab, f);
    if (f) fclose(f);
}

/* Every key of rows [0, n) found at its row with its vector. */
static void check_rows(const cm_store *s, size_t n, size_t dim) {
    float v[16], w[16];
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        size_t r = (size_t)-1;
        if (!cm_store_find(s, key_of(i), &r) || r != i || cm_store_read(s, r, 1, v) != CM_OK) { bad++; continue; }
        row_of(i, w, dim);
        if (memcmp(v, w, dim * sizeof *v)) bad++;
    }
    CHECK(bad == 0);
    size_t r;
    CHECK(!cm_store_find(s, key_of(n + 1000000), &r));
}

static void test_format_and_index(void) {
    char *d = tmpdir("fmt");
    enum { DIM = 5, N = 1000 };
    cm_store_params p = cm_store_default_params();
    p.dim = DIM;
    p.writable = 1;
    p.tag = "model-x";
    p.index_every = 100;   /* several index generations */
    cm_store *s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    float v[DIM];
    for (size_t i = 0; s && i < N; i++) {
        row_of(i, v, DIM);
        cm_store_key k = key_of(i);
        size_t row;
        CHECK_OK(cm_store_add(s, v, &k, 1, &row));
        if (row != i) CHECK(row == i);
        if (i % 77 == 76) CHECK_OK(cm_store_commit(s));
    }
    if (s) {
        check_rows(s, N, DIM);   /* staged rows are found and read too */
        CHECK_OK(cm_store_commit(s));
        CHECK(cm_store_rows(s) == N && cm_store_keys(s) == N);
    }
    cm_store_close(s);
    /* the files as documented */
    CHECK(file_size(d, "rows.bin") == 64 + (size_t)N * DIM * 4);
    CHECK(file_size(d, "keys.bin") == (size_t)N * 24);
    char *hp = cm_path_join(d, "head"), *buf = NULL;
    size_t len = 0;
    CHECK_OK(cm_read_file(hp, &buf, &len));
    if (buf) {
        uint64_t dim, rows, keys, tl, sum;
        memcpy(&dim, buf + 16, 8);
        memcpy(&rows, buf + 24, 8);
        memcpy(&keys, buf + 32, 8);
        memcpy(&tl, buf + 56, 8);
        memcpy(&sum, buf + len - 8, 8);
        CHECK(!memcmp(buf, "CMTBSTO1", 8) && dim == DIM && rows == N && keys == N && tl == 7);
        CHECK(!memcmp(buf + 64, "model-x", 7) && len == 64 + 7 + 8 && sum == cm_hash64(buf, len - 8, 0));
    }
    free(buf);
    free(hp);
    char *rp = cm_path_join(d, "rows.bin");
    FILE *f = fopen(rp, "rb");
    float r7[DIM], w7[DIM];
    CHECK(f && fseek(f, 64 + 7 * DIM * 4, SEEK_SET) == 0 && fread(r7, 4, DIM, f) == DIM);
    if (f) fclose(f);
    row_of(7, w7, DIM);
    CHECK(!memcmp(r7, w7, sizeof r7));
    free(rp);
    /* reopen read-only, mapped and with pread */
    p.writable = 0;
    for (int mapped = 0; mapped < 2; mapped++) {
        p.map_max = mapped ? (size_t)1 << 30 : 0;
        s = NULL;
        CHECK_OK(cm_store_open(&s, d, &p));
        if (s) check_rows(s, N, DIM);
        if (s) CHECK(cm_store_add(s, v, NULL, 0, NULL) != CM_OK);   /* read-only */
        /* rows lent from the map: the row's own bytes; read with pread: not lent */
        const float *lent = NULL;
        int vr = s ? cm_store_view(s, 7, &lent) : CM_ERR_ARG;
        CHECK(mapped ? vr == CM_OK && lent && !memcmp(lent, w7, sizeof w7) : vr == CM_ERR_UNSUPPORTED && !lent);
        if (s) CHECK(cm_store_view(s, N, &lent) == CM_ERR_UNSUPPORTED);   /* past the end */
        cm_store_close(s);
    }
    /* another tag or dim is refused, naming what was expected */
    p.tag = "model-y";
    s = NULL;
    CHECK(cm_store_open(&s, d, &p) == CM_ERR_FORMAT && strstr(cm_last_error(), "expected 'model-y'"));
    p.tag = NULL;
    p.dim = 6;
    CHECK(cm_store_open(&s, d, &p) == CM_ERR_FORMAT && strstr(cm_last_error(), "expected 6"));
    /* a damaged head is an error, never a silently empty store */
    append_bytes(d, "head", 1);
    p.dim = 0;
    CHECK(cm_store_open(&s, d, &p) == CM_ERR_FORMAT && strstr(cm_last_error(), "head"));
    rmdir_r(d);
    free(d);
}

static void test_f16(void) {
    char *d = tmpdir("f16");
    cm_store_params p = cm_store_default_params();
    p.dim = 8;
    p.dtype = CM_STORE_F16;
    p.writable = 1;
    cm_store *s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    if (!s) { free(d); return; }
    /* IEEE binary16 values (numpy.float16 gives the same): 1/3 -> 0.333251953125, 65504 max, 65520 -> inf
     * (rounds up past the max), 2^-24 smallest subnormal, 2^-26 -> 0, 1 + 2^-11 ties to even -> 1 */
    float in[8] = {0.5f, -1.25f, 1.0f / 3.0f, 65504.0f, 5.9604644775390625e-08f, 1.4901161193847656e-08f,
                   1.00048828125f, -1024.0f};
    float want[8] = {0.5f, -1.25f, 0.333251953125f, 65504.0f, 5.9604644775390625e-08f, 0.0f, 1.0f, -1024.0f};
    cm_store_key k = cm_store_key_text(0, NULL, "half");
    CHECK_OK(cm_store_add(s, in, &k, 1, NULL));
    CHECK_OK(cm_store_commit(s));
    cm_store_close(s);
    CHECK(file_size(d, "rows.bin") == 64 + 16);
    p.writable = 0;
    p.dim = 0;
    for (int mapped = 0; mapped < 2; mapped++) {
        p.map_max = mapped ? (size_t)1 << 30 : 0;
        s = NULL;
        CHECK_OK(cm_store_open(&s, d, &p));
        float out[8] = {0};
        size_t row;
        CHECK(s && cm_store_find(s, k, &row) && row == 0);
        CHECK(s && cm_store_get_dtype(s) == CM_STORE_F16 && cm_store_dim(s) == 8);
        if (s) CHECK_OK(cm_store_read(s, 0, 1, out));
        for (int j = 0; j < 8; j++) CHECK(out[j] == want[j]);
        const float *lent = NULL;
        if (s) CHECK(cm_store_view(s, 0, &lent) == CM_ERR_UNSUPPORTED && !lent);   /* float16: no float32 to lend */
        cm_store_close(s);
    }
    /* 65520 rounds to infinity: stored, then refused when read */
    p.writable = 1;
    s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    in[3] = 65520.0f;
    if (s) CHECK_OK(cm_store_add(s, in, NULL, 0, NULL));
    float out[8];
    CHECK(s && cm_store_read(s, 1, 1, out) == CM_ERR_NUMERIC &&
          strstr(cm_last_error(), "value 11 is Inf (row 1, column 3"));
    cm_store_close(s);
    rmdir_r(d);
    free(d);
}

static void test_nan_and_torn_tail(void) {
    char *d = tmpdir("nan");
    enum { DIM = 4 };
    cm_store_params p = cm_store_default_params();
    p.dim = DIM;
    p.writable = 1;
    cm_store *s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    if (!s) { free(d); return; }
    float v[DIM];
    for (size_t i = 0; i < 10; i++) {
        row_of(i, v, DIM);
        if (i == 6) v[3] = NAN;
        cm_store_key k = key_of(i);
        CHECK_OK(cm_store_add(s, v, &k, 1, NULL));
    }
    CHECK_OK(cm_store_commit(s));
    cm_store_close(s);
    /* opening does not look at values; reading the bad row names it */
    p.writable = 0;
    s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    float out[10 * DIM];
    if (s) {
        CHECK_OK(cm_store_read(s, 0, 6, out));
        CHECK_OK(cm_store_set_label(s, "vectors.npy"));
        CHECK(cm_store_read(s, 4, 4, out) == CM_ERR_NUMERIC);
        CHECK(strstr(cm_last_error(), "vectors.npy: value 27 is NaN (row 6, column 3") != NULL);
        CHECK(cm_store_read(s, 9, 2, out) == CM_ERR_ARG);
        const float *lent = NULL;   /* lending checks the row as reading does, with the same message */
        CHECK(cm_store_view(s, 6, &lent) == CM_ERR_NUMERIC && !lent);
        CHECK(strstr(cm_last_error(), "vectors.npy: value 27 is NaN (row 6, column 3") != NULL);
        CHECK(cm_store_view(s, 5, &lent) == CM_OK && lent);
    }
    cm_store_close(s);
    /* a writer killed after writing rows and keys but before the head: the tail is ignored */
    append_bytes(d, "rows.bin", 3 * DIM * 4 + 5);
    append_bytes(d, "keys.bin", 24 * 2 + 7);
    s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    size_t r;
    CHECK(s && cm_store_rows(s) == 10 && cm_store_keys(s) == 10 && cm_store_find(s, key_of(9), &r) && r == 9);
    CHECK(s && !cm_store_find(s, key_of(10), &r));
    cm_store_close(s);
    /* the next commit overwrites the torn tail */
    p.writable = 1;
    s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    for (size_t i = 10; s && i < 20; i++) {
        row_of(i, v, DIM);
        cm_store_key k = key_of(i);
        CHECK_OK(cm_store_add(s, v, &k, 1, NULL));
    }
    if (s) CHECK_OK(cm_store_commit(s));
    cm_store_close(s);
    p.writable = 0;
    s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    if (s) {
        CHECK(cm_store_rows(s) == 20);
        CHECK_OK(cm_store_read(s, 10, 10, out));
        float w[DIM];
        row_of(13, w, DIM);
        CHECK(!memcmp(out + 3 * DIM, w, sizeof w));
        CHECK(cm_store_find(s, key_of(19), &r) && r == 19);
    }
    cm_store_close(s);
    rmdir_r(d);
    free(d);
}

/* Two handles appending in turn: each commit lands after the other's rows. */
static void test_two_writers(void) {
    char *d = tmpdir("two");
    enum { DIM = 3 };
    cm_store_params p = cm_store_default_params();
    p.dim = DIM;
    p.writable = 1;
    p.index_every = 5;
    cm_store *a = NULL, *b = NULL;
    CHECK_OK(cm_store_open(&a, d, &p));
    CHECK_OK(cm_store_open(&b, d, &p));
    if (!a || !b) { cm_store_close(a); cm_store_close(b); free(d); return; }
    float v[DIM];
    for (size_t round = 0; round < 6; round++) {
        cm_store *w = round % 2 ? b : a;
        for (size_t j = 0; j < 4; j++) {
            size_t i = 1000 + round * 4 + j;
            row_of(i, v, DIM);
            cm_store_key k = key_of(i);
            CHECK_OK(cm_store_add(w, v, &k, 1, NULL));
        }
        CHECK_OK(cm_store_commit(w));
    }
    cm_store_close(a);
    cm_store_close(b);
    p.writable = 0;
    cm_store *s = NULL;
    CHECK_OK(cm_store_open(&s, d, &p));
    size_t bad = 0;
    for (size_t i = 1000; s && i < 1024; i++) {
        size_t r;
        float out[DIM], w[DIM];
        row_of(i, w, DIM);
        if (!cm_store_find(s, key_of(i), &r) || r != i - 1000 || cm_store_read(s, r, 1, out) ||
            memcmp(out, w, sizeof w))
            bad++;
    }
    CHECK(s && cm_store_rows(s) == 24 && bad == 0);
    cm_store_close(s);
    rmdir_r(d);
    free(d);
}

enum { KDIM = 48 };

static int helper_append(const char *dir, size_t n) {
    cm_store_params p = cm_store_default_params();
    p.dim = KDIM;
    p.writable = 1;
    p.index_every = 300;
    cm_store *s = NULL;
    if (cm_store_open(&s, dir, &p)) { fprintf(stderr, "append: %s\n", cm_last_error()); return 1; }
    float v[KDIM];
    srand((unsigned)getpid());
    size_t batch = 1 + (size_t)rand() % 40, i = cm_store_rows(s);
    int rc = CM_OK;
    for (; i < n && !rc; i++) {
        row_of(i, v, KDIM);
        cm_store_key k = key_of(i);
        rc = cm_store_add(s, v, &k, 1, NULL);
        if (!rc && cm_store_staged(s) >= batch) { rc = cm_store_commit(s); batch = 1 + (size_t)rand() % 40; }
    }
    if (!rc) rc = cm_store_commit(s);
    if (rc) fprintf(stderr, "append: %s\n", cm_last_error());
    cm_store_close(s);
    return rc ? 1 : 0;
}

static int helper_verify(const char *dir) {
    cm_store_params p = cm_store_default_params();
    cm_store *s = NULL;
    if (cm_store_open(&s, dir, &p)) { printf("verify: open failed: %s\n", cm_last_error()); return 1; }
    size_t n = cm_store_rows(s), bad = 0, r;
    float v[KDIM], w[KDIM];
    for (size_t i = 0; i < n; i++) {
        row_of(i, w, KDIM);
        if (!cm_store_find(s, key_of(i), &r) || r != i || cm_store_read(s, r, 1, v) || memcmp(v, w, sizeof v)) bad++;
    }
    if (cm_store_find(s, key_of(n), &r)) bad++;
    if (cm_store_keys(s) != n || cm_store_dim(s) != KDIM) bad++;
    printf("rows %zu bad %zu\n", n, bad);
    cm_store_close(s);
    return bad ? 1 : 0;
}

/* cm_store_copy_from: two stores' keys and rows gathered into a third (the merge of sharded runs): every key
 * at a row holding its vector, a key both hold copied once (the first store's row), widths checked. */
static void test_copy_from(void) {
    char *a = tmpdir("copy_a"), *b = tmpdir("copy_b"), *c = tmpdir("copy_c"), *w = tmpdir("copy_w");
    cm_store_params p = cm_store_default_params();
    p.dim = 4;
    p.writable = 1;
    cm_store *sa = NULL, *sb = NULL, *sc = NULL, *sw = NULL;
    CHECK_OK(cm_store_open(&sa, a, &p));
    CHECK_OK(cm_store_open(&sb, b, &p));
    float v[4];
    for (size_t i = 0; i < 300; i++) {   /* a: keys 0..299; b: keys 200..599 (200..299 with other values) */
        row_of(i, v, 4);
        cm_store_key k = key_of(i);
        CHECK_OK(cm_store_add(sa, v, &k, 1, NULL));
    }
    for (size_t i = 200; i < 600; i++) {
        row_of(i + (i < 300 ? 7777 : 0), v, 4);
        cm_store_key k = key_of(i);
        CHECK_OK(cm_store_add(sb, v, &k, 1, NULL));
    }
    CHECK_OK(cm_store_commit(sa));
    CHECK_OK(cm_store_commit(sb));
    CHECK_OK(cm_store_open(&sc, c, &p));
    CHECK_OK(cm_store_copy_from(sc, sa));
    CHECK_OK(cm_store_copy_from(sc, sb));
    CHECK_OK(cm_store_reindex(sc));
    CHECK(cm_store_rows(sc) == 600 && cm_store_keys(sc) == 600);
    size_t bad = 0;
    for (size_t i = 0; i < 600; i++) {
        size_t r;
        float want[4];
        row_of(i, want, 4);   /* keys 200..299: a's rows, copied first */
        if (!cm_store_find(sc, key_of(i), &r) || cm_store_read(sc, r, 1, v) || memcmp(v, want, sizeof v)) bad++;
    }
    CHECK(bad == 0);
    p.dim = 8;
    CHECK_OK(cm_store_open(&sw, w, &p));
    CHECK(cm_store_copy_from(sw, sa) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "width 4") != NULL);
    cm_store_close(sa); cm_store_close(sb); cm_store_close(sc); cm_store_close(sw);
    rmdir_r(a); rmdir_r(b); rmdir_r(c); rmdir_r(w);
    free(a); free(b); free(c); free(w);
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "append")) return helper_append(argv[2], (size_t)strtoull(argv[3], NULL, 10));
    if (argc == 3 && !strcmp(argv[1], "verify")) return helper_verify(argv[2]);
    /* the cache's keys: role, instruction and text all matter */
    cm_store_key k1 = cm_store_key_text(0, NULL, "a"), k2 = cm_store_key_text(1, NULL, "a");
    cm_store_key k3 = cm_store_key_text(0, "x", "a"), k4 = cm_store_key_text(0, NULL, "a");
    CHECK((k1.lo != k2.lo || k1.hi != k2.hi) && (k1.lo != k3.lo || k1.hi != k3.hi));
    CHECK(k1.lo == k4.lo && k1.hi == k4.hi);
    test_format_and_index();
    test_f16();
    test_nan_and_torn_tail();
    test_two_writers();
    test_copy_from();
    return check_report();
}
