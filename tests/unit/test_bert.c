/*
 * test_bert.c: the native BERT-family forward pass and poolings against a
 * PyTorch reference (tests/reference/ref_bert_models.py: padded batches in
 * float64, HF architecture math, ids from HF tokenizers) for five small
 * random-weight models in the hub layout: bert-tiny (F32, sentence-
 * transformers mean + Normalize, prompts), bert-tiny-bf16 (BF16, sharded,
 * vocab.txt only, gelu_new, "bert." prefix), roberta-tiny (F16, RoBERTa
 * positions, CLS), mpnet-tiny (relative position bias), bert-tiny-dense
 * (two sentence-transformers Dense modules, F32 tanh and BF16 identity
 * without bias, between pooling and Normalize). Each case (pooling
 * cls/mean/last/weightedmean/max/mean_sqrt_len, causal attention, truncation, prompt and
 * instruction exclusion) must match to 1e-4 relative. Also: results do not
 * depend on batch size or thread count, several poolings share one forward
 * pass, the fingerprint follows settings, and the fast erf/exp are accurate.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/hf/hf_model.h"
#include "engine/nn/ops.h"

#include <math.h>
#include <string.h>

static double rel_err(const float *a, const cJSON *rows, size_t n, size_t d) {
    double maxd = 0, maxv = 1e-30;
    size_t i = 0;
    for (const cJSON *r = rows->child; r && i < n; r = r->next, i++) {
        size_t j = 0;
        for (const cJSON *v = r->child; v && j < d; v = v->next, j++) {
            double diff = fabs((double)a[i * d + j] - v->valuedouble);
            if (diff > maxd) maxd = diff;
            if (fabs(v->valuedouble) > maxv) maxv = fabs(v->valuedouble);
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
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(cm_read_file(exp_path, &text, &len));
    cJSON *exp = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(exp != NULL);
    if (!exp) return;
    const cJSON *jt = cJSON_GetObjectItemCaseSensitive(exp, "texts");
    size_t n = (size_t)cJSON_GetArraySize(jt);
    const char **texts = calloc(n, sizeof *texts);
    size_t i = 0;
    for (const cJSON *t = jt->child; t; t = t->next) texts[i++] = t->valuestring;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(exp, "cases");
    double worst = 0;
    for (const cJSON *c = cases->child; c; c = c->next) {
        const char *cname = jstr(c, "name");
        cm_encoder_params p = cm_encoder_default_params();
        p.quiet = 1;
        p.threads = 2;
        if (strcmp(cname, "default") != 0) {
            p.pooling = jstr(c, "pooling");
            p.normalize = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "normalize"));
            p.pool_instruction = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "exclude_instr")) ? 0 : 1;
            p.attention = jstr(c, "attention");
            p.max_length = cJSON_GetObjectItemCaseSensitive(c, "max_length")->valueint;
            p.query_template = jstr(c, "query_template");
        }
        cm_hf_model *m = NULL;
        CHECK_OK(cm_hf_model_load(&m, dir, &p, 1));
        if (!m) continue;
        size_t d = (size_t)cm_hf_model_config(m)->out_dim;
        cm_role role = !strcmp(jstr(c, "role"), "query") ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
        const char *instr = jstr(c, "instruction");
        /* token ids */
        const cJSON *ids = cJSON_GetObjectItemCaseSensitive(c, "ids");
        cm_tok_encoding enc = {0};
        cm_tok_options o = cm_tok_default_options();
        o.max_length = cm_hf_model_settings(m)->max_length;
        i = 0;
        int ids_ok = 1;
        for (const cJSON *row = ids->child; row && i < n; row = row->next, i++) {
            char *full = NULL;
            size_t plen;
            CHECK_OK(cm_hf_model_format(m, texts[i], role, instr, &full, &plen));
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
        CHECK_OK(cm_hf_encode(m, texts, n, role, instr, out));
        double e = rel_err(out, cJSON_GetObjectItemCaseSensitive(c, "vectors"), n, d);
        if (e > worst) worst = e;
        if (e > 1e-4) fprintf(stderr, "%s/%s: relative error %.3g\n", name, cname, e);
        CHECK(e <= 1e-4);
        free(out);
        cm_hf_model_free(m);
    }
    printf("%-16s %d cases, worst relative error %.3g\n", name, cJSON_GetArraySize(cases), worst);
    free(texts);
    cJSON_Delete(exp);
}

/* The model in dir twice: *a encodes one text per batch on one thread, *b
 * default batches on two threads (caller frees both; NULL on failure). */
static void load_serial_and_parallel(const char *dir, cm_hf_model **a, cm_hf_model **b) {
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    p.threads = 1;
    p.batch_size = 1;
    CHECK_OK(cm_hf_model_load(a, dir, &p, 1));
    p.threads = 2;
    p.batch_size = 0;
    CHECK_OK(cm_hf_model_load(b, dir, &p, 1));
}

/* Batch size, thread count and batch composition do not change a text's vector. */
static void check_invariance(const char *fixdir) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/mpnet-tiny", fixdir);
    const char *texts[] = {"short", "a somewhat longer sentence about cats and dogs", "hello world", "x",
                           "the quick brown fox jumps over the lazy dog again and again and again", "short"};
    size_t n = sizeof texts / sizeof texts[0];
    cm_hf_model *a = NULL, *b = NULL;
    load_serial_and_parallel(dir, &a, &b);
    if (!a || !b) goto done;
    size_t d = (size_t)cm_hf_model_config(a)->out_dim;
    float *va = calloc(n * d, sizeof(float)), *vb = calloc(n * d, sizeof(float)), *vc = calloc(d, sizeof(float));
    CHECK_OK(cm_hf_encode(a, texts, n, CM_ROLE_DOCUMENT, NULL, va));
    CHECK_OK(cm_hf_encode(b, texts, n, CM_ROLE_DOCUMENT, NULL, vb));
    CHECK_OK(cm_hf_encode(b, texts + 1, 1, CM_ROLE_DOCUMENT, NULL, vc));   /* alone */
    double md = 0;
    for (size_t k = 0; k < n * d; k++) md = fmax(md, fabs(va[k] - vb[k]));
    for (size_t k = 0; k < d; k++) md = fmax(md, fabs(vc[k] - vb[d + k]));
    printf("batch/thread invariance: max abs diff %.3g\n", md);
    CHECK(md < 1e-5);
    for (size_t k = 0; k < d; k++) CHECK(va[k] == va[5 * d + k]);   /* duplicate text, same vector */
    /* several poolings, one forward pass: each equals its own single run */
    cm_pool_spec ps[3] = {{CM_POOL_CLS, 0, 0}, {CM_POOL_MEAN, 0, 1}, {CM_POOL_LAST, 0, 0}};
    float *o0 = calloc(n * d, sizeof(float)), *o1 = calloc(n * d, sizeof(float)), *o2 = calloc(n * d, sizeof(float));
    float *outs[3] = {o0, o1, o2};
    CHECK_OK(cm_hf_encode_multi(b, texts, n, CM_ROLE_DOCUMENT, NULL, ps, 3, outs));
    CHECK(memcmp(o1, vb, n * d * sizeof(float)) == 0);   /* mpnet-tiny default = mean + L2 */
    double nrm = 0;
    for (size_t k = 0; k < d; k++) nrm += (double)o0[k] * o0[k];
    CHECK(fabs(nrm - 1.0) > 1e-3);   /* CLS not normalised */
    for (size_t s = 0; s < n; s++) CHECK(memcmp(o0 + s * d, o2 + s * d, d * sizeof(float)) != 0);
    free(o0); free(o1); free(o2);
    free(va); free(vb); free(vc);
done:
    cm_hf_model_free(a);
    cm_hf_model_free(b);
}

/* A batch of many texts runs as spans of ~256 tokens spread over threads
 * (bert.c); the vectors equal those of one text per batch on one thread.
 * 96 texts of 1-40 words make about 2,000 tokens: 8 spans or more, enough
 * for the span-parallel path with 2 threads. */
static void check_span_parallel(const char *fixdir) {
    static const char *const words[] = {"the", "cat", "sat", "on", "a", "mat", "while", "dogs", "barked",
                                        "loudly", "at", "strangers", "walking", "by", "quickly", "tonight"};
    enum { N = 96 };
    char *texts[N];
    for (int i = 0; i < N; i++) {
        int nw = 1 + (i * 37) % 40;
        texts[i] = calloc(1, 16 * (size_t)nw + 1);
        for (int w = 0; w < nw; w++) {
            strcat(texts[i], words[(i + w * 7) % 16]);
            if (w + 1 < nw) strcat(texts[i], " ");
        }
    }
    const char *const models[] = {"bert-tiny", "roberta-tiny", "mpnet-tiny"};
    for (size_t mi = 0; mi < 3; mi++) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/%s", fixdir, models[mi]);
        cm_hf_model *a = NULL, *b = NULL;
        load_serial_and_parallel(dir, &a, &b);
        if (a && b) {
            size_t d = (size_t)cm_hf_model_config(a)->out_dim;
            float *va = calloc(N * d, sizeof(float)), *vb = calloc(N * d, sizeof(float));
            CHECK_OK(cm_hf_encode(a, (const char **)texts, N, CM_ROLE_DOCUMENT, NULL, va));
            CHECK_OK(cm_hf_encode(b, (const char **)texts, N, CM_ROLE_DOCUMENT, NULL, vb));
            double md = 0, mx = 0;
            for (size_t k = 0; k < N * d; k++) {
                md = fmax(md, fabs(va[k] - vb[k]));
                mx = fmax(mx, fabs(va[k]));
            }
            printf("%-12s span-parallel vs one text per batch: max abs diff %.3g (max |v| %.3g)\n", models[mi], md,
                   mx);
            CHECK(mx > 0.01);
            CHECK(md < 1e-5);
            free(va);
            free(vb);
        }
        cm_hf_model_free(a);
        cm_hf_model_free(b);
    }
    for (int i = 0; i < N; i++) free(texts[i]);
}

static void check_fingerprint(const char *fixdir) {
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/bert-tiny", fixdir);
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    cm_hf_model *a = NULL, *b = NULL, *c = NULL;
    CHECK_OK(cm_hf_model_load(&a, dir, &p, 1));
    CHECK_OK(cm_hf_model_load(&b, dir, &p, 1));
    p.pooling = "cls";
    CHECK_OK(cm_hf_model_load(&c, dir, &p, 1));
    if (a && b && c) {
        CHECK(!strcmp(cm_hf_model_fingerprint(a), cm_hf_model_fingerprint(b)));
        CHECK(strcmp(cm_hf_model_fingerprint(a), cm_hf_model_fingerprint(c)) != 0);
    }
    cm_hf_model_free(a);
    cm_hf_model_free(b);
    cm_hf_model_free(c);
    /* different weights, same settings */
    char d2[4200];
    snprintf(d2, sizeof d2, "%s/bert-tiny-bf16", fixdir);
    cm_encoder_params q = cm_encoder_default_params();
    q.quiet = 1;
    CHECK_OK(cm_hf_model_load(&a, dir, &q, 1));
    CHECK_OK(cm_hf_model_load(&b, d2, &q, 1));
    if (a && b) CHECK(strcmp(cm_hf_model_fingerprint(a), cm_hf_model_fingerprint(b)) != 0);
    cm_hf_model_free(a);
    cm_hf_model_free(b);
}

static void check_errors(const char *fixdir) {
    cm_hf_model *m = NULL;
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    CHECK(cm_hf_model_load(&m, "/nonexistent/model", &p, 1) == CM_ERR_NOTFOUND);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/bert-tiny", fixdir);
    p.pooling = "median";
    CHECK(cm_hf_model_load(&m, dir, &p, 1) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "median") != NULL);
    p.pooling = NULL;
    p.max_length = 100000;
    CHECK(cm_hf_model_load(&m, dir, &p, 1) == CM_ERR_ARG);
    CHECK(m == NULL);
}

static void check_fast_math(void) {
    double me = 0, mx = 0;
    for (double x = -6; x <= 6; x += 1e-3) {
        me = fmax(me, fabs(cm_fast_erff((float)x) - erf(x)));
        float xf = (float)(x * 10);
        if (x < 5) mx = fmax(mx, fabs(cm_fast_expf(xf) - exp((double)xf)) / exp((double)xf));
    }
    printf("fast erf max abs error %.3g, fast exp max rel error %.3g\n", me, mx);
    CHECK(me < 5e-7);
    CHECK(mx < 5e-7);
}

int main(void) {
    char fix[4096];
    snprintf(fix, sizeof fix, "%s/tests/fixtures/hf", check_env("CMTEB_SRC"));
    check_fast_math();
    check_model(fix, "bert-tiny");
    check_model(fix, "bert-tiny-bf16");
    check_model(fix, "roberta-tiny");
    check_model(fix, "mpnet-tiny");
    check_model(fix, "bert-tiny-dense");
    check_invariance(fix);
    check_span_parallel(fix);
    check_fingerprint(fix);
    check_errors(fix);
    return check_report();
}
