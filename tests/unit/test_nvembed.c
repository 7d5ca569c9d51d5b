/*
 * test_nvembed.c: NV-Embed end to end through the hf backend (hf_model.c +
 * the decoder arch + latent attention + the BPE tokenizer) on the tiny
 * random-weight NV-Embed checkpoint (tests/fixtures/dec/nvembed_tiny, 3
 * shards, BF16): texts as documents (no instruction) and as queries with
 * the instruction in NV-Embed's template, EOS appended by the arch, the
 * instruction tokens left out of the latent pooling's mean, bidirectional
 * mask, L2-normalised output; compared with the float64 torch reference
 * (tests/reference/ref_dec_models.py) at 1e-4 relative. Also several
 * poolings from one forward pass (cm_hf_encode_multi), the public encoder
 * API (cm_encoder_init "hf:PATH"), and that a latent pooling request on a
 * model without the layer is an error that says so.
 */
#include "check.h"

#include "cmteb/encoder.h"
#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <math.h>
#include <string.h>

static double worst;

static void cmp(const char *what, size_t i, const float *got, const cJSON *want, size_t n) {
    double mx = 0, md = 0;
    size_t k = 0;
    CHECK((size_t)cJSON_GetArraySize(want) == n);
    for (const cJSON *v = want ? want->child : NULL; v && k < n; v = v->next, k++) {
        mx = fmax(mx, fabs(v->valuedouble));
        md = fmax(md, fabs(got[k] - v->valuedouble));
    }
    double r = mx > 0 ? md / mx : md;
    worst = fmax(worst, r);
    if (!(r <= 1e-4)) fprintf(stderr, "%s text %zu: relative error %.3g\n", what, i, r);
    CHECK(r <= 1e-4);
}

int main(void) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/dec/nvembed_tiny", check_env("CMTEB_SRC"));
    snprintf(p, sizeof p, "%s/expected.json.gz", dir);
    char *txt = NULL;
    size_t len;
    CHECK_OK(cm_read_file(p, &txt, &len));
    cJSON *exp = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    if (!exp) return check_report();
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(exp, "texts");
    const char *instruction = cJSON_GetObjectItemCaseSensitive(exp, "instruction")->valuestring;
    size_t nt = (size_t)cJSON_GetArraySize(texts);
    const char **tv = calloc(nt, sizeof *tv);
    for (size_t i = 0; i < nt; i++) tv[i] = cJSON_GetArrayItem(texts, (int)i)->valuestring;

    cm_encoder_params ep = cm_encoder_default_params();
    ep.pooling = "latent";
    ep.normalize = 1;
    ep.pool_instruction = 0;
    ep.query_template = "Instruct: {instruction}\nQuery: ";
    ep.threads = 2;
    ep.quiet = 1;
    cm_hf_model *m = NULL;
    CHECK_OK(cm_hf_model_load(&m, dir, &ep, 1));
    if (!m) return check_report();
    CHECK(cm_hf_model_config(m)->out_dim == 64);
    CHECK(cm_hf_model_settings(m)->attention == CM_ATTN_BIDIRECTIONAL);   /* NV-Embed removes the causal mask */

    size_t d = 64;
    float *out[4];
    for (int k = 0; k < 4; k++) out[k] = calloc(nt * d, sizeof(float));
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(exp, "cases");
    for (int role = 0; role < 2; role++) {
        cm_role r = role ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
        /* latent (default), latent with the instruction kept, mean without it, last token: one forward pass */
        cm_pool_spec ps[4] = {{CM_POOL_DEFAULT, -1, -1}, {CM_POOL_LATENT, 0, 1}, {CM_POOL_MEAN, 1, 0}, {CM_POOL_LAST, 0, 0}};
        CHECK_OK(cm_hf_encode_multi(m, tv, nt, r, role ? instruction : NULL, ps, 4, out));
        for (const cJSON *c = cases->child; c; c = c->next) {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "role")->valuestring, role ? "query" : "document")) continue;
            size_t i = (size_t)cJSON_GetObjectItemCaseSensitive(c, "text")->valueint;
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "outputs"), "bidirectional");
            cmp("latent", i, out[0] + i * d, cJSON_GetObjectItemCaseSensitive(o, "latent"), d);
            cmp("latent_incl", i, out[1] + i * d, cJSON_GetObjectItemCaseSensitive(o, "latent_incl"), d);
            cmp("mean_excl", i, out[2] + i * d, cJSON_GetObjectItemCaseSensitive(o, "mean_excl"), d);
            cmp("last", i, out[3] + i * d, cJSON_GetObjectItemCaseSensitive(o, "last"), d);
            CHECK(fabs(cm_norm(out[0] + i * d, d) - 1.0) < 1e-5);
        }
    }
    cm_hf_model_free(m);

    /* the public encoder API gives the same query vectors */
    cm_encoder *e = NULL;
    char spec[4200];
    snprintf(spec, sizeof spec, "hf:%s", dir);
    CHECK_OK(cm_encoder_init(&e, spec, &ep));
    if (e) {
        CHECK(cm_encoder_dim(e) == d);
        float *v = calloc(nt * d, sizeof(float));
        CHECK_OK(cm_encoder_encode(e, tv, nt, CM_ROLE_QUERY, instruction, v));
        for (const cJSON *c = cases->child; c; c = c->next) {
            if (strcmp(cJSON_GetObjectItemCaseSensitive(c, "role")->valuestring, "query")) continue;
            size_t i = (size_t)cJSON_GetObjectItemCaseSensitive(c, "text")->valueint;
            const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "outputs"), "bidirectional");
            cmp("encoder api latent", i, v + i * d, cJSON_GetObjectItemCaseSensitive(o, "latent"), d);
        }
        free(v);
        cm_encoder_free(e);
    }

    /* no flags at all: the arch's defaults (latent pooling, instruction excluded, L2 norm, bidirectional,
     * NV-Embed's query template) give the same query vectors */
    {
        cm_encoder_params dp = cm_encoder_default_params();
        dp.quiet = 1;
        cm_hf_model *md = NULL;
        CHECK_OK(cm_hf_model_load(&md, dir, &dp, 1));
        if (md) {
            float *v = calloc(nt * d, sizeof(float)), *dv = calloc(nt * d, sizeof(float));
            CHECK_OK(cm_hf_encode(md, tv, nt, CM_ROLE_QUERY, instruction, v));
            CHECK_OK(cm_hf_encode(md, tv, nt, CM_ROLE_DOCUMENT, instruction, dv));   /* documents: no instruction */
            for (const cJSON *c = cases->child; c; c = c->next) {
                int q = !strcmp(cJSON_GetObjectItemCaseSensitive(c, "role")->valuestring, "query");
                size_t i = (size_t)cJSON_GetObjectItemCaseSensitive(c, "text")->valueint;
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "outputs"), "bidirectional");
                cmp(q ? "defaults query" : "defaults document", i, (q ? v : dv) + i * d,
                    cJSON_GetObjectItemCaseSensitive(o, "latent"), d);
            }
            free(v);
            free(dv);
        }
        cm_hf_model_free(md);
    }

    /* latent pooling on a decoder without the layer: a clear error */
    snprintf(dir, sizeof dir, "%s/tests/fixtures/dec/mistral_tiny", check_env("CMTEB_SRC"));
    m = NULL;
    int rc = cm_hf_model_load(&m, dir, &ep, 1);
    if (rc == CM_OK) {
        float *v = calloc(nt * d, sizeof(float));
        rc = cm_hf_encode(m, tv, nt, CM_ROLE_DOCUMENT, NULL, v);
        free(v);
    }
    CHECK(rc != CM_OK && strstr(cm_last_error(), "latent"));
    cm_hf_model_free(m);

    printf("worst relative error %.3g (tolerance 1e-4)\n", worst);
    for (int k = 0; k < 4; k++) free(out[k]);
    free(tv);
    cJSON_Delete(exp);
    return check_report();
}
