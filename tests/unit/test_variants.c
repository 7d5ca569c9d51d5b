/*
 * test_variants.c: cmteb/variants.h over tests/fixtures/hf/bert-tiny: two
 * variants (mean, cls) share one backbone pass per text, with the in-memory
 * stash and with caches, and each variant's vectors equal a separate
 * encoder with that pooling bit for bit; cm_encoder_encode_pools on a
 * backend without it and cm_pool_check on a bad name fail cleanly.
 */
#include "check.h"

#include "cmteb/variants.h"

#include <string.h>

static const char *texts[] = {
    "A man is playing a guitar.", "hello world", "The quick brown fox jumps over the lazy dog.",
    "naïve café", "hello world",   /* a repeat: de-duplicated by the embedder */
};
enum { N = sizeof texts / sizeof texts[0], UNIQUE = 4 };

/* The vectors a separate encoder with this pooling gives (through an
 * embedder, as `cmteb run` does: the same de-duplicated batches). */
static float *solo(const char *spec, const char *pooling, size_t *dim) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.pooling = pooling;
    ep.quiet = 1;
    cm_encoder *e = NULL;
    CHECK_OK(cm_encoder_init(&e, spec, &ep));
    if (!e) return NULL;
    *dim = cm_encoder_dim(e);
    float *out = cm_malloc(N * *dim * sizeof *out);
    cm_embedder_params mp = cm_embedder_default_params();
    mp.quiet = 1;
    cm_embedder *emb = NULL;
    CHECK_OK(cm_embedder_init(&emb, e, &mp));
    if (emb) CHECK_OK(cm_embed(emb, texts, N, CM_ROLE_QUERY, NULL, "solo", out));
    cm_embedder_free(emb);
    cm_encoder_free(e);
    return out;
}

static void check_variants(const char *spec, const char *cache_dir) {
    const char *poolings[2] = {"mean", "cls"};
    cm_variant_def defs[2];
    for (int k = 0; k < 2; k++) {
        defs[k] = cm_variant_default_def();
        defs[k].name = poolings[k];
        defs[k].spec = k ? "pooling=cls" : "pooling=mean";
        defs[k].params.pooling = poolings[k];
    }
    cm_variants_params p = cm_variants_default_params();
    p.model_spec = spec;
    p.model_name = "test/bert-tiny";
    p.cache_dir = cache_dir;
    p.quiet = 1;
    cm_variants *vs = NULL;
    CHECK_OK(cm_variants_init(&vs, defs, 2, &p));
    if (!vs) return;
    CHECK(cm_variants_count(vs) == 2);
    CHECK(cm_variants_group(vs, 0) == 0 && cm_variants_group(vs, 1) == 0);
    CHECK(!strcmp(cm_variants_model_name(vs), "test/bert-tiny"));
    CHECK(!strcmp(cm_embedder_info(cm_variants_embedder(vs, 1))->name, "test/bert-tiny-cls"));
    for (int k = 0; k < 2; k++) {
        size_t dim = 0;
        float *want = solo(spec, poolings[k], &dim);
        float *got = cm_malloc(N * dim * sizeof *got);
        CHECK(want && got && cm_embedder_dim(cm_variants_embedder(vs, (size_t)k)) == dim);
        CHECK_OK(cm_variants_ready(vs, (size_t)k));
        CHECK_OK(cm_embed(cm_variants_embedder(vs, (size_t)k), texts, N, CM_ROLE_QUERY, NULL, "test", got));
        CHECK(want && got && memcmp(want, got, N * dim * sizeof *got) == 0);
        free(want);
        free(got);
    }
    cm_variants_end_task(vs);
    cm_variants_stats st = cm_variants_get_stats(vs);
    CHECK(st.n_groups == 1 && st.n_models == 1);
    CHECK(st.forwarded == UNIQUE);       /* one pass per text, not one per variant */
    CHECK(st.separate == 2 * UNIQUE);
    if (st.forwarded != UNIQUE || st.separate != 2 * UNIQUE)
        fprintf(stderr, "forwarded %zu, separate %zu\n", st.forwarded, st.separate);
    cm_variants_free(vs);
}

static void remove_dir(const char *dir) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
}

int main(void) {
    char spec[4096], cache[4096];
    snprintf(spec, sizeof spec, "hf:%s/tests/fixtures/hf/bert-tiny", check_env("CMTEB_SRC"));
    snprintf(cache, sizeof cache, "%s/test_variants_cache", check_env("CMTEB_TMP"));
    check_variants(spec, NULL);    /* --no-cache: the in-memory stash */
    remove_dir(cache);
    check_variants(spec, cache);   /* siblings' vectors through their caches */
    remove_dir(cache);

    /* Two variants with one name; a backend without encode_pools; a bad pooling. */
    cm_variant_def d[2] = {cm_variant_default_def(), cm_variant_default_def()};
    d[0].name = d[1].name = "a";
    cm_variants_params p = cm_variants_default_params();
    p.model_spec = spec;
    p.quiet = 1;
    cm_variants *vs = NULL;
    CHECK(cm_variants_init(&vs, d, 2, &p) == CM_ERR_ARG && !vs);
    cm_encoder *h = NULL;
    CHECK_OK(cm_encoder_init(&h, "hash:16", NULL));
    float buf[16];
    float *outs[1] = {buf};
    cm_pool_params pp = cm_pool_default_params();
    const char *one[] = {"x"};
    CHECK(h && cm_encoder_encode_pools(h, one, 1, CM_ROLE_QUERY, NULL, &pp, 1, outs) == CM_ERR_UNSUPPORTED);
    cm_encoder_free(h);
    CHECK(cm_pool_check("median") == CM_ERR_ARG);
    CHECK(cm_pool_check(NULL) == CM_OK && cm_pool_check("weightedmean") == CM_OK);
    return check_report();
}
