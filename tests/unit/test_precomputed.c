/*
 * test_precomputed.c: the precomputed backend's lookups on several threads
 * (engine/precomputed, requests of 8,192 texts and more) give the sequential
 * loop's outcome: every vector in its place, through the embedder's direct
 * path (no repeats) and its copying path (repeats); with missing texts the
 * count of all of them and the first one in request order named; with two
 * non-finite rows the error of the first text in request order, whichever
 * thread met it first. Each case runs with 1 and 4 threads and the messages
 * must be equal; and each runs through cm_embed, through cm_embed_view lending
 * the store's rows (no copy) and through cm_embed_view with an embedding cache
 * (rows in the caller's buffer): the same vectors and messages.
 */
#include "check.h"

#include <omp.h>
#include <string.h>
#include <unistd.h>

#define N   20000   /* texts in the store */
#define DIM 8

static float value(size_t row, size_t j) { return (float)row + 0.125f * (float)j; }

static char *make_dir(void) {
    const char *base = getenv("CMTEB_TMP") ? getenv("CMTEB_TMP") : "/tmp";
    char *d = cm_asprintf("%s/test_precomputed_%d", base, (int)getpid());
    char *cmd = cm_asprintf("rm -rf '%s' && mkdir -p '%s'", d, d);
    if (system(cmd) != 0) fprintf(stderr, "cannot make %s\n", d);
    free(cmd);
    return d;
}

/* texts.jsonl "t0".."t{N-1}" and their vectors; rows nan1 and nan2 (when < N) hold a NaN in column 3 */
static void write_store(const char *dir, size_t nan1, size_t nan2) {
    char *p = cm_path_join(dir, "texts.jsonl");
    FILE *f = fopen(p, "w");
    for (size_t i = 0; i < N; i++) fprintf(f, "{\"text\": \"t%zu\"}\n", i);
    fclose(f);
    free(p);
    float *x = malloc((size_t)N * DIM * sizeof *x);
    for (size_t i = 0; i < N; i++)
        for (size_t j = 0; j < DIM; j++) x[i * DIM + j] = value(i, j);
    if (nan1 < N) x[nan1 * DIM + 3] = NAN;
    if (nan2 < N) x[nan2 * DIM + 3] = NAN;
    p = cm_path_join(dir, "embeddings.npy");
    CHECK_OK(cm_npy_write_f32(p, x, N, DIM));
    free(p);
    free(x);
    char *cmd = cm_asprintf("rm -rf '%s/.cmteb-store'", dir);   /* the index is rebuilt for the new rows */
    if (system(cmd) != 0) fprintf(stderr, "cannot clean %s\n", dir);
    free(cmd);
}

/* How embed() asks: cm_embed; cm_embed_view with no buffer (the rows must be lent: the store's map); with a
 * buffer and an embedding cache (which rules lending out: the rows must be the buffer's). */
enum { VIA_EMBED, VIA_VIEW, VIA_VIEW_CACHED };
static int via = VIA_EMBED;
static char *cache_dir;

/* embeds texts[0..n) with `threads` threads (as `via` says) into out; returns the status and leaves the message
 * in msg */
static int embed(const char *dir, const char *const *texts, size_t n, int threads, float *out, char *msg,
                 size_t cap) {
    omp_set_num_threads(threads);
    char *spec = cm_asprintf("precomputed:%s", dir);
    cm_encoder_params ep = cm_encoder_default_params();
    ep.quiet = 1;
    cm_encoder *enc = NULL;
    int rc = cm_encoder_init(&enc, spec, &ep);
    free(spec);
    cm_embedder *e = NULL;
    cm_embedder_params pp = cm_embedder_default_params();
    pp.quiet = 1;
    if (via == VIA_VIEW_CACHED) {   /* a fresh cache each time: every text reaches the store, as without one */
        char *rm = cm_asprintf("rm -rf '%s'", cache_dir);
        if (system(rm) != 0) fprintf(stderr, "cannot clean %s\n", cache_dir);
        free(rm);
        pp.cache_dir = cache_dir;
    }
    if (!rc) rc = cm_embedder_init(&e, enc, &pp);
    if (!rc && via == VIA_EMBED) rc = cm_embed(e, texts, n, CM_ROLE_QUERY, NULL, "test", out);
    if (!rc && via != VIA_EMBED) {
        const float **rows = malloc(n * sizeof *rows);
        float *buf = via == VIA_VIEW_CACHED ? malloc(n * DIM * sizeof *buf) : NULL;
        rc = cm_embed_view(e, texts, n, CM_ROLE_QUERY, NULL, "test", buf, rows);
        for (size_t i = 0; !rc && i < n; i++) {
            int in_buf = buf && rows[i] >= buf && rows[i] < buf + n * DIM;
            CHECK(via == VIA_VIEW ? !in_buf : rows[i] == buf + i * DIM);
            memcpy(out + i * DIM, rows[i], DIM * sizeof *out);
        }
        free(rows);
        free(buf);
    }
    snprintf(msg, cap, "%s", rc ? cm_last_error() : "");
    cm_embedder_free(e);
    cm_encoder_free(enc);
    return rc;
}

static void run_cases(const char *dir);

int main(void) {
    char *dir = make_dir();
    cache_dir = cm_path_join(dir, "cache");
    for (via = VIA_EMBED; via <= VIA_VIEW_CACHED; via++) run_cases(dir);
    char *cmd = cm_asprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    free(cmd);
    free(cache_dir);
    free(dir);
    return check_report();
}

/* Every case through the current `via`: the vectors, messages and statuses must not depend on it. */
static void run_cases(const char *dir) {
    char **names = malloc((size_t)N * sizeof *names);
    for (size_t i = 0; i < N; i++) names[i] = cm_asprintf("t%zu", i);
    const size_t n = 16384;
    const char **req = malloc(n * sizeof *req);
    float *out = malloc(n * DIM * sizeof *out);
    char m1[2048], m4[2048];

    /* all present, request in reverse store order: every vector where it belongs */
    write_store(dir, N, N);
    for (size_t i = 0; i < n; i++) req[i] = names[N - 1 - i];
    for (int t = 1; t <= 4; t += 3) {
        memset(out, 0, n * DIM * sizeof *out);
        CHECK_OK(embed(dir, (const char *const *)req, n, t, out, m1, sizeof m1));
        int good = 1;
        for (size_t i = 0; i < n && good; i++)
            for (size_t j = 0; j < DIM; j++) good &= out[i * DIM + j] == value(N - 1 - i, j);
        CHECK(good);
    }
    /* repeats (the embedder's copying path): each text's vector, also for the repeated ones */
    for (size_t i = 0; i < n; i++) req[i] = names[(i * 7) % 9001];
    CHECK_OK(embed(dir, (const char *const *)req, n, 4, out, m1, sizeof m1));
    int good = 1;
    for (size_t i = 0; i < n && good; i++)
        for (size_t j = 0; j < DIM; j++) good &= out[i * DIM + j] == value((i * 7) % 9001, j);
    CHECK(good);

    /* missing texts at request positions 9000, 300 and 15000: all three counted, position 300's named */
    for (size_t i = 0; i < n; i++) req[i] = names[i];
    req[9000] = "absent A";
    req[300] = "absent B";
    req[15000] = "absent C";
    CHECK(embed(dir, (const char *const *)req, n, 1, out, m1, sizeof m1) == CM_ERR_NOTFOUND);
    CHECK(embed(dir, (const char *const *)req, n, 4, out, m4, sizeof m4) == CM_ERR_NOTFOUND);
    CHECK(strstr(m1, "3 of 16384 requested query texts are not in texts.jsonl, e.g. \"absent B\"") != NULL);
    CHECK(!strcmp(m1, m4));
    if (strcmp(m1, m4)) fprintf(stderr, "1 thread: %s\n4 threads: %s\n", m1, m4);

    /* NaN rows 12000 and 2000, requested at positions 12000 and 14000: text t12000's row is named */
    write_store(dir, 12000, 2000);
    for (size_t i = 0; i < n; i++) req[i] = names[i];
    req[14000] = names[2000];
    req[2000] = names[19000];
    req[500] = "absent D";   /* a non-finite row wins over missing texts, as in the sequential loop */
    CHECK(embed(dir, (const char *const *)req, n, 1, out, m1, sizeof m1) == CM_ERR_NUMERIC);
    CHECK(embed(dir, (const char *const *)req, n, 4, out, m4, sizeof m4) == CM_ERR_NUMERIC);
    CHECK(strstr(m1, "query text \"t12000\" (texts.jsonl line 12001)") != NULL);
    CHECK(strstr(m1, "value 96003 is NaN (row 12000, column 3") != NULL);
    CHECK(!strcmp(m1, m4));
    if (strcmp(m1, m4) || !strstr(m1, "t12000")) fprintf(stderr, "1 thread: %s\n4 threads: %s\n", m1, m4);

    for (size_t i = 0; i < N; i++) free(names[i]);
    free(names);
    free(req);
    free(out);
}
