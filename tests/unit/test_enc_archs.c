/*
 * test_enc_archs.c: the NomicBert, JinaBert and ModernBERT forward passes
 * (engine/arch/enc.c, nomic.c, jina.c, modernbert.c) against a PyTorch
 * reference (tests/reference/ref_enc_models.py: float64, padded batches,
 * the architectures' math written from their descriptions, ids from HF
 * tokenizers) on three small random-weight models in the hub layout:
 * nomic-tiny (rotary, SwiGLU, prompts, mean + Normalize), jina-tiny (ALiBi
 * with 6 heads, GLU MLP, F16 weights, model_type "bert"), modernbert-tiny
 * (pre-norm, global/local attention with a window of 8 on texts of up to
 * 118 tokens, two RoPE thetas, "model." prefix, CLS + Normalize). Every
 * case (folder default, each generic pooling, prompt exclusion, --dim
 * truncation with and without renormalisation) must match to 1e-4
 * relative. Also: --dim through the encoder API (width, results name,
 * fingerprint, bad values), batch invariance, clear config errors.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <math.h>
#include <string.h>

static double rel_err(const float *a, const cJSON *rows, size_t n, size_t d) {
    double maxd = 0, maxv = 1e-30;
    size_t i = 0;
    for (const cJSON *r = rows->child; r && i < n; r = r->next, i++) {
        size_t j = 0;
        CHECK((size_t)cJSON_GetArraySize(r) == d);
        for (const cJSON *v = r->child; v && j < d; v = v->next, j++) {
            maxd = fmax(maxd, fabs((double)a[i * d + j] - v->valuedouble));
            maxv = fmax(maxv, fabs(v->valuedouble));
        }
    }
    return maxd / maxv;
}

static const char *jstr(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check_model(const char *fixdir, const char *name) {
    char dir[4200], exp_path[4300];
    snprintf(dir, sizeof dir, "%s/%s", fixdir, name);
    snprintf(exp_path, sizeof exp_path, "%s/expected.json", dir);
    cJSON *exp = check_load_json(exp_path);
    CHECK(exp != NULL);
    if (!exp) return;
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(exp, "texts");
    size_t n = (size_t)cJSON_GetArraySize(jt), i = 0;
    const char **texts = calloc(n, sizeof *texts);
    for (const cJSON *t = jt->child; t; t = t->next) texts[i++] = t->valuestring;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(exp, "cases");
    double worst = 0;
    int n_cases = 0;
    for (const cJSON *c = cases->child; c; c = c->next, n_cases++) {
        const char *cname = jstr(c, "name");
        cm_encoder_params p = cm_encoder_default_params();
        p.quiet = 1;
        p.threads = 2;
        if (strcmp(cname, "default") != 0) {
            p.pooling = jstr(c, "pooling");
            p.normalize = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "normalize"));
            p.pool_instruction = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "exclude_instr")) ? 0 : 1;
        }
        p.dim = cJSON_GetObjectItemCaseSensitive(c, "dim")->valueint;
        cm_hf_model *m = NULL;
        CHECK_OK(cm_hf_model_load(&m, dir, &p, 1));
        if (!m) continue;
        size_t d = cm_hf_model_settings(m)->dim;
        CHECK(d == (p.dim ? (size_t)p.dim : (size_t)cm_hf_model_config(m)->out_dim));
        cm_role role = !strcmp(jstr(c, "role"), "query") ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
        /* the reference's token ids are the engine's */
        cm_tok_encoding enc = {0};
        cm_tok_options o = cm_tok_default_options();
        o.max_length = cm_hf_model_settings(m)->max_length;
        int ids_ok = 1;
        i = 0;
        for (const cJSON *row = cJSON_GetObjectItemCaseSensitive(c, "ids")->child; row && i < n; row = row->next) {
            char *full = NULL;
            size_t plen;
            CHECK_OK(cm_hf_model_format(m, texts[i++], role, NULL, &full, &plen));
            CHECK_OK(cm_tokenizer_encode(cm_hf_model_tokenizer(m), full, &o, &enc));
            free(full);
            size_t k = 0;
            int same = (size_t)cJSON_GetArraySize(row) == enc.n;
            for (const cJSON *v = row->child; same && v; v = v->next, k++) same = v->valueint == enc.ids[k];
            ids_ok &= same;
        }
        CHECK(ids_ok);
        cm_tok_encoding_free(&enc);
        float *out = calloc(n * d, sizeof *out);
        CHECK_OK(cm_hf_encode(m, texts, n, role, NULL, out));
        double e = rel_err(out, cJSON_GetObjectItemCaseSensitive(c, "vectors"), n, d);
        worst = fmax(worst, e);
        if (!(e <= 1e-4)) fprintf(stderr, "%s/%s: relative error %.3g\n", name, cname, e);
        CHECK(e <= 1e-4);
        free(out);
        cm_hf_model_free(m);
    }
    printf("%-16s %d cases, worst relative error %.3g\n", name, n_cases, worst);
    CHECK(n_cases >= 9);
    free(texts);
    cJSON_Delete(exp);
}

/* --dim through the public encoder API: width, name suffix, fingerprint, errors. */
static void check_dim_api(const char *fixdir) {
    char spec[4200];
    snprintf(spec, sizeof spec, "hf:%s/nomic-tiny", fixdir);
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    cm_encoder *full = NULL, *cut = NULL, *bad = NULL;
    CHECK_OK(cm_encoder_init(&full, spec, &p));
    p.dim = 16;
    CHECK_OK(cm_encoder_init(&cut, spec, &p));
    if (full && cut) {
        const cm_encoder_info *a = cm_encoder_get_info(full), *b = cm_encoder_get_info(cut);
        CHECK(a->dim == 64 && b->dim == 16);
        CHECK(!strcmp(a->name, "cmteb-fixtures/nomic-tiny"));
        CHECK(!strcmp(b->name, "cmteb-fixtures/nomic-tiny-dim16"));
        CHECK(strcmp(a->fingerprint, b->fingerprint) != 0);
        const char *texts[] = {"A man is playing a guitar.", "hello"};
        float va[2 * 64], vb[2 * 16];
        CHECK_OK(cm_encoder_encode(full, texts, 2, CM_ROLE_QUERY, NULL, va));
        CHECK_OK(cm_encoder_encode(cut, texts, 2, CM_ROLE_QUERY, NULL, vb));
        for (int r = 0; r < 2; r++) {   /* the prefix of the full vector, renormalised */
            double nn = 0, dd = 0;
            for (int j = 0; j < 16; j++) nn += (double)va[r * 64 + j] * va[r * 64 + j];
            for (int j = 0; j < 16; j++) dd = fmax(dd, fabs(va[r * 64 + j] / sqrt(nn) - vb[r * 16 + j]));
            CHECK(dd < 1e-6);
        }
    }
    p.dim = 65;   /* wider than the model */
    CHECK(cm_encoder_init(&bad, spec, &p) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "--dim 65") != NULL);
    p.dim = 16;   /* a backend without --dim */
    CHECK(cm_encoder_init(&bad, "hash:64", &p) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "--dim") != NULL);
    cm_encoder_free(full);
    cm_encoder_free(cut);
}

/* One text per batch on one thread equals a whole batch on two threads
 * (long texts take the sgemm attention path, short ones the row kernel). */
static void check_invariance(const char *fixdir, const char *name) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/%s", fixdir, name);
    const char *texts[] = {"short", "the quick brown fox jumps over the lazy dog again and again and again and the "
                           "cat sat on the mat while the dogs barked loudly at strangers walking by quickly",
                           "hello world", "a somewhat longer sentence about cats and dogs"};
    size_t n = 4;
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    p.threads = 1;
    p.batch_size = 1;
    cm_hf_model *a = NULL, *b = NULL;
    CHECK_OK(cm_hf_model_load(&a, dir, &p, 1));
    p.threads = 2;
    p.batch_size = 0;
    CHECK_OK(cm_hf_model_load(&b, dir, &p, 1));
    if (a && b) {
        size_t d = cm_hf_model_settings(a)->dim;
        float *va = calloc(n * d, sizeof(float)), *vb = calloc(n * d, sizeof(float));
        CHECK_OK(cm_hf_encode(a, texts, n, CM_ROLE_DOCUMENT, NULL, va));
        CHECK_OK(cm_hf_encode(b, texts, n, CM_ROLE_DOCUMENT, NULL, vb));
        double md = 0;
        for (size_t k = 0; k < n * d; k++) md = fmax(md, fabs(va[k] - vb[k]));
        printf("%-16s batch/thread invariance: max abs diff %.3g\n", name, md);
        CHECK(md < 1e-5);
        free(va);
        free(vb);
    }
    cm_hf_model_free(a);
    cm_hf_model_free(b);
}

/* A copy of fixture `name` with one config.json field replaced (json text)
 * must fail to load naming that field. */
static void check_config_error(const char *fixdir, const char *tmp, const char *name, const char *field,
                               const char *json) {
    char src[4200], dst[4200];
    snprintf(dst, sizeof dst, "%s/%s-bad", tmp, name);
    CHECK_OK(cm_mkdir_p(dst));
    static const char *const files[] = {"config.json", "tokenizer.json"};
    for (int f = 0; f < 2; f++) {
        char *text = NULL;
        size_t len = 0;
        snprintf(src, sizeof src, "%s/%s/%s", fixdir, name, files[f]);
        CHECK_OK(cm_read_file(src, &text, &len));
        if (f == 0 && text) {
            cJSON *j = cJSON_Parse(text);
            cJSON_DeleteItemFromObjectCaseSensitive(j, field);
            cJSON_AddItemToObject(j, field, cJSON_Parse(json));
            free(text);
            text = cJSON_Print(j);
            len = strlen(text);
            cJSON_Delete(j);
        }
        char out[4300];
        snprintf(out, sizeof out, "%s/%s", dst, files[f]);
        FILE *fp = fopen(out, "wb");
        CHECK(fp != NULL);
        if (fp) {
            fwrite(text, 1, len, fp);
            fclose(fp);
        }
        free(text);
    }
    cm_hf_model *m = NULL;
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    int rc = cm_hf_model_load(&m, dst, &p, 0);
    CHECK(rc != CM_OK);
    CHECK(strstr(cm_last_error(), field) != NULL);
    if (rc == CM_OK || !strstr(cm_last_error(), field)) fprintf(stderr, "%s %s: %s\n", name, field, cm_last_error());
    cm_hf_model_free(m);
}

int main(void) {
    const char *src = getenv("CMTEB_SRC");
    char fixdir[4096];
    snprintf(fixdir, sizeof fixdir, "%s/tests/fixtures/hf", src ? src : ".");
    char probe[4200];
    snprintf(probe, sizeof probe, "%s/nomic-tiny/expected.json", fixdir);
    if (!cm_file_exists(probe)) SKIP("fixtures missing (tests/reference/ref_enc_models.py)");
    check_model(fixdir, "nomic-tiny");
    check_model(fixdir, "jina-tiny");
    check_model(fixdir, "modernbert-tiny");
    check_dim_api(fixdir);
    check_invariance(fixdir, "modernbert-tiny");
    check_invariance(fixdir, "jina-tiny");
    const char *tmp = getenv("CMTEB_TMP");
    char tdir[4096];
    snprintf(tdir, sizeof tdir, "%s/test_enc_archs", tmp ? tmp : "/tmp");
    check_config_error(fixdir, tdir, "nomic-tiny", "rotary_scaling_factor", "2.0");
    check_config_error(fixdir, tdir, "nomic-tiny", "activation_function", "\"gelu\"");
    check_config_error(fixdir, tdir, "jina-tiny", "feed_forward_type", "\"original\"");
    check_config_error(fixdir, tdir, "modernbert-tiny", "global_attn_every_n_layers", "0");
    return check_report();
}
