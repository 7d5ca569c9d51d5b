/*
 * test_dec_archs.c: the architectures of issue 15 (decoder side) against the
 * float64 torch reference (tests/reference/ref_t5_gemma.py ->
 * tests/fixtures/dec/): Gemma 3 (bidirectional, layer_types, sliding window
 * 5, softcapping, linear rope_scaling on global layers, BF16, no "model."
 * prefix; and a causal one from sliding_window_pattern with exact GELU, F32),
 * T5 encoders (relu v1.0 with d_kv * heads != d_model and log buckets; gated
 * gelu v1.1, BF16), Llama 3.1 rope_scaling llama3 and dynamic (texts longer
 * than max_position_embeddings), Qwen2's max_window_layers.
 *
 * For every case (4 texts x query/document) and both attention masks: the
 * final hidden states of the longest text (longer than every window), the
 * last-token, mean and mean-without-instruction poolings; tolerance max
 * |c - ref| <= 1e-4 * max |ref| per vector. The folder's tokenizer gives the
 * reference ids; one packed batch equals one-by-one; 1 and 2 threads. For the
 * sentence-transformers folders (gemma3_tiny, t5_tiny) the whole pipeline
 * through cm_hf_encode (prompts of config_sentence_transformers.json, mean
 * pooling, two or one Dense modules, Normalize). Plus config errors naming
 * the field.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/arch/model.h"
#include "engine/hf/hf_model.h"
#include "engine/tokenizer/tokenizer.h"

#include <math.h>
#include <string.h>

static double worst_rel;

/* max |got - want| / max |want|, INFINITY when the lengths differ */
static double rel_err(const float *got, const cJSON *want, size_t n) {
    if (!cJSON_IsArray(want) || (size_t)cJSON_GetArraySize(want) != n) return INFINITY;
    double mx = 0, md = 0;
    size_t i = 0;
    for (const cJSON *v = want->child; v; v = v->next, i++) {
        double w = v->valuedouble;
        if (fabs(w) > mx) mx = fabs(w);
        if (fabs(got[i] - w) > md) md = fabs(got[i] - w);
    }
    return mx > 0 ? md / mx : md;
}

static void check_vec(const char *model, const char *what, size_t i, const char *attn, const float *got,
                      const cJSON *want, size_t n) {
    double r = rel_err(got, want, n);
    if (r > worst_rel) worst_rel = r;
    if (!(r <= 1e-4)) fprintf(stderr, "%s %s %zu %s: relative error %.3g\n", model, what, i, attn, r);
    CHECK(r <= 1e-4);
}

static cJSON *read_json(const char *dir, const char *name) {
    char p[4300];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    char *txt = NULL;
    size_t len;
    CHECK_OK(cm_read_file(p, &txt, &len));
    cJSON *j = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    CHECK(j != NULL);
    return j;
}

static void ids_of(const cJSON *arr, int32_t **ids, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(arr);
    *ids = malloc(*n * sizeof **ids);
    size_t i = 0;
    for (const cJSON *v = arr->child; v; v = v->next) (*ids)[i++] = (int32_t)v->valueint;
}

static const cJSON *jget(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

/* The forward pass and generic poolings of one fixture folder, both masks, 1 and 2 threads. */
static void run_forward(const char *dir, const char *name, const cJSON *config, const cJSON *exp) {
    const cm_hf_arch *arch = NULL;
    CHECK_OK(cm_hf_arch_find(config, dir, &arch));
    cm_safetensors *st = NULL;
    cm_hf_config cfg;
    void *state = NULL;
    cm_tokenizer *tok = NULL;
    CHECK_OK(cm_st_open(&st, dir));
    if (arch) CHECK_OK(arch->read_config(config, dir, &cfg));
    if (arch && st) CHECK_OK(arch->load(&state, &cfg, config, st, dir));
    CHECK_OK(cm_tokenizer_load(&tok, dir));
    if (!state || !tok) goto done;
    size_t h = (size_t)cfg.hidden;
    const cJSON *cases = jget(exp, "cases");
    /* the folder's tokenizer gives the reference ids */
    const char *eos = jget(exp, "eos_text")->valuestring;
    for (const cJSON *c = cases->child; c; c = c->next) {
        const cJSON *ins = jget(c, "instruction");
        char *prefix = cJSON_IsString(ins) ? cm_asprintf("Instruct: %s\nQuery: ", ins->valuestring) : cm_strdup("");
        const char *text = cJSON_GetArrayItem(jget(exp, "texts"), jget(c, "text")->valueint)->valuestring;
        char *full = cm_asprintf("%s%s%s", prefix, text, eos);
        cm_tok_encoding e = {0};
        cm_tok_options o = cm_tok_default_options();
        CHECK_OK(cm_tokenizer_encode(tok, full, &o, &e));
        int32_t *ids;
        size_t n;
        ids_of(jget(c, "ids"), &ids, &n);
        CHECK(e.n == n && memcmp(e.ids, ids, n * sizeof *ids) == 0);
        free(ids);
        free(prefix);
        free(full);
        cm_tok_encoding_free(&e);
    }
    for (int threads = 1; threads <= 2; threads++)
        for (int causal = 0; causal <= 1; causal++) {
            const char *attn = causal ? "causal" : "bidirectional";
            cm_hf_batch b = {0};
            size_t long_case = 0, i = 0;
            for (const cJSON *c = cases->child; c; c = c->next, i++) {
                int32_t *ids;
                size_t n;
                ids_of(jget(c, "ids"), &ids, &n);
                CHECK_OK(cm_hf_batch_add(&b, ids, n, (size_t)jget(c, "n_instr")->valueint));
                free(ids);
                if (jget(jget(jget(c, "outputs"), attn), "hidden")) long_case = i;
            }
            float *H = malloc(b.n_tokens * h * sizeof(float)), *out = malloc(b.n_seqs * h * sizeof(float));
            cm_hf_forward_opts fo = {causal ? CM_ATTN_CAUSAL : CM_ATTN_BIDIRECTIONAL, threads};
            CHECK_OK(arch->forward(state, &b, &fo, H));
            struct { const char *key; cm_pool_kind kind; int excl; } pools[] = {
                {"last", CM_POOL_LAST, 0}, {"mean", CM_POOL_MEAN, 0}, {"mean_excl", CM_POOL_MEAN, 1}};
            for (size_t k = 0; k < sizeof pools / sizeof pools[0]; k++) {
                cm_pool_spec ps = {pools[k].kind, pools[k].excl, 0};
                CHECK_OK(cm_hf_pool(&b, H, h, &ps, out));
                i = 0;
                for (const cJSON *c = cases->child; c; c = c->next, i++)
                    check_vec(name, pools[k].key, i, attn, out + i * h, jget(jget(jget(c, "outputs"), attn),
                                                                            pools[k].key), h);
            }
            const cJSON *hid = jget(jget(jget(cJSON_GetArrayItem(cases, (int)long_case), "outputs"), attn), "hidden");
            CHECK((size_t)cJSON_GetArraySize(hid) == b.length[long_case] && b.length[long_case] > 24);
            size_t r = 0;
            for (const cJSON *row = hid ? hid->child : NULL; row; row = row->next, r++)
                check_vec(name, "hidden row", r, attn, H + (b.offset[long_case] + r) * h, row, h);
            /* one sequence alone gives the rows it has inside the packed batch */
            cm_hf_batch one = {0};
            CHECK_OK(cm_hf_batch_add(&one, b.ids + b.offset[long_case], b.length[long_case], 0));
            float *H1 = malloc(one.n_tokens * h * sizeof(float));
            CHECK_OK(arch->forward(state, &one, &fo, H1));
            double md = 0;
            for (size_t t = 0; t < one.n_tokens * h; t++) {
                double dd = fabs(H1[t] - H[b.offset[long_case] * h + t]);
                md = dd > md ? dd : md;
            }
            CHECK(md < 1e-4);
            free(H1);
            cm_hf_batch_free(&one);
            free(H);
            free(out);
            cm_hf_batch_free(&b);
        }
    printf("%-15s %d cases x 2 masks x 2 thread counts, worst relative error so far %.3g\n", name,
           cJSON_GetArraySize(cases), worst_rel);
done:
    if (state) arch->free(state);
    cm_tokenizer_free(tok);
    cm_st_free(st);
}

/* The sentence-transformers pipeline of the folder (cm_hf_encode) against st_cases. */
static void run_st(const char *dir, const char *name, const cJSON *exp) {
    const cJSON *stc = jget(exp, "st_cases");
    if (!stc) return;
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    p.threads = 2;
    cm_hf_model *m = NULL;
    CHECK_OK(cm_hf_model_load(&m, dir, &p, 1));
    if (!m) return;
    size_t d = (size_t)cm_hf_model_config(m)->out_dim;
    const cJSON *jt = jget(exp, "texts");
    size_t n = (size_t)cJSON_GetArraySize(jt), i = 0;
    const char **texts = calloc(n, sizeof *texts);
    for (const cJSON *t = jt->child; t; t = t->next) texts[i++] = t->valuestring;
    for (const cJSON *c = stc->child; c; c = c->next) {
        cm_role role = !strcmp(jget(c, "role")->valuestring, "query") ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
        /* the prompt of config_sentence_transformers.json, tokenized as the reference did */
        i = 0;
        for (const cJSON *row = jget(c, "ids")->child; row && i < n; row = row->next, i++) {
            char *full = NULL;
            size_t plen;
            CHECK_OK(cm_hf_model_format(m, texts[i], role, NULL, &full, &plen));
            cm_tok_encoding e = {0};
            cm_tok_options o = cm_tok_default_options();
            CHECK_OK(cm_tokenizer_encode(cm_hf_model_tokenizer(m), full, &o, &e));
            int32_t *ids;
            size_t k;
            ids_of(row, &ids, &k);
            CHECK(e.n == k && memcmp(e.ids, ids, k * sizeof *ids) == 0);
            free(ids);
            free(full);
            cm_tok_encoding_free(&e);
        }
        float *out = calloc(n * d, sizeof *out);
        CHECK_OK(cm_hf_encode(m, texts, n, role, NULL, out));
        i = 0;
        for (const cJSON *v = jget(c, "vectors")->child; v && i < n; v = v->next, i++)
            check_vec(name, "sentence-transformers vector", i, jget(c, "role")->valuestring, out + i * d, v, d);
        free(out);
    }
    printf("%-15s sentence-transformers pipeline (prompts, mean, %zu Dense, Normalize): %zu-d vectors\n", name,
           cm_hf_model_dense(m, &(const cm_dense *){NULL}), d);
    free(texts);
    cm_hf_model_free(m);
}

static void run_model(const char *name) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/dec/%s", check_env("CMTEB_SRC"), name);
    cJSON *config = read_json(dir, "config.json"), *exp = read_json(dir, "expected.json.gz");
    if (config && exp) {
        run_forward(dir, name, config, exp);
        run_st(dir, name, exp);
    }
    cJSON_Delete(config);
    cJSON_Delete(exp);
}

static void check_config_errors(void) {
    static const struct { const char *json, *want; } bad[] = {
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4}}",
         "'yarn' is not supported"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8}}",
         "original_max_position_embeddings"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"rope_scaling\": {\"type\": \"linear\"}}", "factor"},
        {"{\"model_type\": \"gemma3_text\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"head_dim\": 16, \"intermediate_size\": 8, \"vocab_size\": 10, \"layer_types\": [\"sliding_attention\"]}",
         "layer_types"},
        {"{\"model_type\": \"gemma3_text\", \"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"head_dim\": 16, \"intermediate_size\": 8, \"vocab_size\": 10, \"layer_types\": [\"local\"]}",
         "layer_types"},
        {"{\"model_type\": \"gemma3_text\", \"hidden_size\": 64, \"num_hidden_layers\": 1, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"hidden_activation\": \"silu\"}", "hidden_activation"},
        {"{\"model_type\": \"t5\", \"d_model\": 32, \"d_kv\": 8, \"d_ff\": 64, \"num_layers\": 2, \"num_heads\": 4, "
         "\"vocab_size\": 10, \"feed_forward_proj\": \"gated-swish\"}", "feed_forward_proj"},
        {"{\"model_type\": \"t5\", \"d_model\": 32, \"d_ff\": 64, \"num_layers\": 2, \"num_heads\": 4, "
         "\"vocab_size\": 10}", "d_kv"},
        {"{\"model_type\": \"t5\", \"d_model\": 32, \"d_kv\": 8, \"d_ff\": 64, \"num_layers\": 2, \"num_heads\": 4, "
         "\"vocab_size\": 10, \"relative_attention_num_buckets\": 1}", "relative_attention_num_buckets"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *c = cJSON_Parse(bad[i].json);
        const cm_hf_arch *arch = NULL;
        CHECK_OK(cm_hf_arch_find(c, "/models/x", &arch));
        cm_hf_config cfg;
        int rc = arch ? arch->read_config(c, "/models/x", &cfg) : CM_OK;
        CHECK(rc != CM_OK);
        CHECK((strstr(cm_last_error(), bad[i].want) && strstr(cm_last_error(), "/models/x/config.json")) ||
              (fprintf(stderr, "case %zu: %s\n", i, cm_last_error()), 0));
        cJSON_Delete(c);
    }
}

int main(void) {
    check_config_errors();
    static const char *const models[] = {"gemma3_tiny",  "gemma3_pattern", "t5_tiny",     "t5_gated",
                                         "llama31_tiny", "llama_dynamic",  "qwen2_window"};
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) run_model(models[i]);
    printf("worst relative error %.3g (tolerance 1e-4)\n", worst_rel);
    return check_report();
}
