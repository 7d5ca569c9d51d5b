/*
 * test_cpu_dtype.c: `--dtype bf16` and `--dtype int8` of the CPU engine
 * against its fp32 vectors on every model folder of tests/fixtures/hf and
 * tests/fixtures/dec that has weights (BERT, BERT with BF16 shards, BERT +
 * two Dense modules, MPNet, RoBERTa, NomicBert, JinaBert, ModernBERT, Llama,
 * Mistral, Qwen2/3, Gemma 3, T5, NV-Embed's latent attention).
 *
 * For each model and both roles (documents; queries with an instruction):
 * the three dtypes encode the same texts through cm_hf_encode_multi with the
 * model's default pooling and, for NV-Embed, mean pooling too; per text,
 * cosine(bf16, fp32) >= 0.999 and cosine(int8, fp32) >= 0.99 (issue #18's
 * bars). Also: an explicit `fp32` gives the default's bytes, the three
 * fingerprints (the embedding cache's key) differ, cm_hf_model_dtype names
 * the dtype, and the low-precision vectors are not the fp32 ones (the
 * dtype reached the products: a test that could not fail otherwise).
 */
#include "check.h"
#include "fixture_models.h"

#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <math.h>
#include <string.h>

static const char *const TEXTS[] = {
    "hello",
    "A man is playing a guitar on the street.",
    "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm windowsill, and far away a "
    "train whistles twice before it disappears into the long dark tunnel under the snowy mountains of the north; "
    "nobody on the platform notices, because everyone is reading the same newspaper about the same old election.",
    "Short one, with punctuation: yes!",
    "Stocks fell sharply today as investors weighed the central bank's decision on interest rates.",
};
enum { NT = sizeof TEXTS / sizeof TEXTS[0] };
static const char *const INSTRUCTION = "Given a question, retrieve passages that answer it";

static double worst[3] = {1.0, 1.0, 1.0};   /* per dtype: worst cosine to fp32 */

static double cosine(const float *a, const float *b, size_t d) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < d; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

static int load(const char *dir, const char *dtype, cm_hf_model **m) {
    cm_encoder_params ep = cm_encoder_default_params();
    ep.device = "cpu";
    ep.dtype = dtype;
    ep.threads = 2;
    return cm_hf_model_load(m, dir, &ep, 1);
}

static void run_model(const char *dir, const char *name) {
    static const char *const dtypes[] = {NULL, "bf16", "int8", "fp32"};
    cm_hf_model *m[4] = {0};
    for (int k = 0; k < 4; k++) {
        CHECK_OK(load(dir, dtypes[k], &m[k]));
        if (!m[k]) {
            for (int j = 0; j < k; j++) cm_hf_model_free(m[j]);
            return;
        }
    }
    CHECK(!strcmp(cm_hf_model_dtype(m[0]), "fp32"));
    CHECK(!strcmp(cm_hf_model_dtype(m[1]), "bf16"));
    CHECK(!strcmp(cm_hf_model_dtype(m[2]), "int8"));
    CHECK(!strcmp(cm_hf_model_dtype(m[3]), "fp32"));
    CHECK(strcmp(cm_hf_model_fingerprint(m[0]), cm_hf_model_fingerprint(m[1])) != 0);
    CHECK(strcmp(cm_hf_model_fingerprint(m[0]), cm_hf_model_fingerprint(m[2])) != 0);
    CHECK(strcmp(cm_hf_model_fingerprint(m[1]), cm_hf_model_fingerprint(m[2])) != 0);
    CHECK(!strcmp(cm_hf_model_fingerprint(m[0]), cm_hf_model_fingerprint(m[3])));
    size_t d = cm_hf_model_settings(m[0])->dim;
    cm_pool_spec pools[2] = {{.kind = CM_POOL_DEFAULT, .normalize = -1}, {.kind = CM_POOL_MEAN, .normalize = 1}};
    size_t np = strstr(name, "nvembed") ? 2 : 1;
    for (int role = 0; role < 2; role++) {
        cm_role r = role ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
        const char *instr = role ? INSTRUCTION : NULL;
        float *v[4][2] = {{0}};
        int ok = 1;
        for (int k = 0; k < 4 && ok; k++) {
            for (size_t p = 0; p < np; p++) v[k][p] = cm_calloc(NT * d, sizeof(float));
            int rc = cm_hf_encode_multi(m[k], TEXTS, NT, r, instr, pools, np, v[k]);
            CHECK_OK(rc);
            ok = rc == CM_OK;
        }
        for (size_t p = 0; ok && p < np; p++) {
            CHECK(!memcmp(v[0][p], v[3][p], NT * d * sizeof(float)));   /* --dtype fp32 = the default */
            for (int k = 1; k <= 2; k++) {
                double bar = k == 1 ? 0.999 : 0.99, lo = 1.0;
                for (size_t t = 0; t < NT; t++) {
                    double c = cosine(v[k][p] + t * d, v[0][p] + t * d, d);
                    lo = c < lo ? c : lo;
                    if (c < bar)
                        fprintf(stderr, "%s %s pool %zu role %d text %zu: cosine %.6f < %.3f\n", name,
                                k == 1 ? "bf16" : "int8", p, role, t, c, bar);
                    CHECK(c >= bar);
                }
                worst[k] = lo < worst[k] ? lo : worst[k];
                CHECK(memcmp(v[k][p], v[0][p], NT * d * sizeof(float)) != 0);   /* the dtype did something */
                printf("  %-5s %s pool %zu: worst cosine %.6f\n", k == 1 ? "bf16" : "int8",
                       role ? "queries  " : "documents", p, lo);
            }
        }
        for (int k = 0; k < 4; k++)
            for (size_t p = 0; p < np; p++) free(v[k][p]);
    }
    for (int k = 0; k < 4; k++) cm_hf_model_free(m[k]);
}

int main(void) {
    size_t models = fixture_models_each(run_model);
    CHECK(models >= 15);
    printf("%zu models; worst cosine to fp32: bf16 %.6f, int8 %.6f\n", models, worst[1], worst[2]);
    return check_report();
}
