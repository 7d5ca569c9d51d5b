/*
 * test_decoder.c: the decoder forward pass and poolings against the float64
 * torch reference (tests/reference/ref_dec_models.py -> tests/fixtures/dec/):
 * Mistral (BF16, causal sliding window 6), Qwen2 (q/k/v biases, rope_theta
 * 1e6, sharded, use_sliding_window false), Llama (explicit head_dim != hidden
 * / heads, F32 weights) and NV-Embed (bidirectional Mistral + latent
 * attention, 3 shards), Qwen3 (per-head q/k RMSNorm, explicit head_dim). For every case (4 texts x query/document, with the
 * "Instruct: ...\nQuery: " prefix and the EOS for queries) and both attention
 * masks: the final hidden states (first text), last-token, mean, mean without
 * the instruction tokens, and NV-Embed's latent pooling with and without the
 * instruction. Tolerance: max |c - ref| <= 1e-4 * max |ref| per vector.
 * Also: the folder's tokenizer reproduces the reference ids and n_instr;
 * one packed batch of all cases gives the same vectors as one-by-one; the
 * thread count does not change results beyond rounding; config errors.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/arch/decoder.h"
#include "engine/arch/model.h"
#include "engine/tokenizer/tokenizer.h"

#include <math.h>
#include <string.h>

static double worst_rel;

/* max |got - want| / max |want| */
static double rel_err(const float *got, const cJSON *want, size_t n) {
    double mx = 0, md = 0;
    size_t i = 0;
    for (const cJSON *v = want->child; v && i < n; v = v->next, i++) {
        double w = v->valuedouble;
        if (fabs(w) > mx) mx = fabs(w);
        if (fabs(got[i] - w) > md) md = fabs(got[i] - w);
    }
    if ((size_t)cJSON_GetArraySize(want) != n) return INFINITY;
    return mx > 0 ? md / mx : md;
}

static void check_vec(const char *model, const char *what, size_t case_i, const char *attn, const float *got,
                      const cJSON *want, size_t n) {
    double r = rel_err(got, want, n);
    if (r > worst_rel) worst_rel = r;
    if (!(r <= 1e-4)) fprintf(stderr, "%s case %zu %s %s: relative error %.3g\n", model, case_i, attn, what, r);
    CHECK(r <= 1e-4);
}

typedef struct loaded {
    cJSON *config, *exp;
    cm_safetensors *st;
    cm_hf_config cfg;
    void *state;
    cm_tokenizer *tok;
} loaded;

static int load_model(const char *name, loaded *L) {
    memset(L, 0, sizeof *L);
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/dec/%s", check_env("CMTEB_SRC"), name);
    char *txt = NULL;
    size_t len;
    snprintf(p, sizeof p, "%s/config.json", dir);
    CHECK_OK(cm_read_file(p, &txt, &len));
    L->config = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    snprintf(p, sizeof p, "%s/expected.json.gz", dir);
    txt = NULL;
    CHECK_OK(cm_read_file(p, &txt, &len));
    L->exp = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    CHECK(L->config && L->exp);
    if (!L->config || !L->exp) return -1;
    CHECK_OK(cm_st_open(&L->st, dir));
    CHECK_OK(cm_hf_arch_decoder.read_config(L->config, dir, &L->cfg));
    if (!L->st) return -1;
    CHECK_OK(cm_hf_arch_decoder.load(&L->state, &L->cfg, L->config, L->st, dir));
    CHECK_OK(cm_tokenizer_load(&L->tok, dir));
    return L->state && L->tok ? 0 : -1;
}

static void unload(loaded *L) {
    if (L->state) cm_hf_arch_decoder.free(L->state);
    cm_tokenizer_free(L->tok);
    cm_st_free(L->st);
    cJSON_Delete(L->config);
    cJSON_Delete(L->exp);
}

static void ids_of(const cJSON *arr, int32_t **ids, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(arr);
    *ids = malloc(*n * sizeof **ids);
    size_t i = 0;
    for (const cJSON *v = arr->child; v; v = v->next) (*ids)[i++] = (int32_t)v->valueint;
}

/* The reference's text formatting through our tokenizer gives the same ids and n_instr. */
static void check_tokens(const loaded *L, const cJSON *c) {
    const cJSON *texts = cJSON_GetObjectItemCaseSensitive(L->exp, "texts");
    const char *eos = cJSON_GetObjectItemCaseSensitive(L->exp, "eos_text")->valuestring;
    const char *text = cJSON_GetArrayItem(texts, cJSON_GetObjectItemCaseSensitive(c, "text")->valueint)->valuestring;
    const cJSON *ins = cJSON_GetObjectItemCaseSensitive(c, "instruction");
    char *prefix = cJSON_IsString(ins) ? cm_asprintf("Instruct: %s\nQuery: ", ins->valuestring) : cm_strdup("");
    char *full = cm_asprintf("%s%s%s", prefix, text, eos);
    cm_tok_encoding e = {0};
    cm_tok_options o = cm_tok_default_options();
    CHECK_OK(cm_tokenizer_encode(L->tok, full, &o, &e));
    int32_t *ids;
    size_t n;
    ids_of(cJSON_GetObjectItemCaseSensitive(c, "ids"), &ids, &n);
    CHECK(e.n == n && memcmp(e.ids, ids, n * sizeof *ids) == 0);
    o.add_special_tokens = 0;
    CHECK_OK(cm_tokenizer_encode(L->tok, prefix, &o, &e));
    CHECK((double)e.n == cJSON_GetObjectItemCaseSensitive(c, "n_instr")->valuedouble);
    free(ids);
    free(prefix);
    free(full);
    cm_tok_encoding_free(&e);
}

static void run_model(const char *name) {
    loaded L;
    if (load_model(name, &L) != 0) { unload(&L); return; }
    size_t h = (size_t)L.cfg.hidden;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(L.exp, "cases");
    int is_nv = !strcmp(L.cfg.model_type, "nvembed");
    for (int threads = 1; threads <= 2; threads++) {
        for (int causal = 0; causal <= 1; causal++) {
            const char *attn = causal ? "causal" : "bidirectional";
            /* all cases packed in one batch */
            cm_hf_batch b = {0};
            size_t nc = 0;
            for (const cJSON *c = cases->child; c; c = c->next, nc++) {
                int32_t *ids;
                size_t n;
                ids_of(cJSON_GetObjectItemCaseSensitive(c, "ids"), &ids, &n);
                CHECK_OK(cm_hf_batch_add(&b, ids, n, (size_t)cJSON_GetObjectItemCaseSensitive(c, "n_instr")->valueint));
                free(ids);
                if (threads == 1 && causal == 0) check_tokens(&L, c);
            }
            float *H = malloc(b.n_tokens * h * sizeof(float));
            float *out = malloc(b.n_seqs * h * sizeof(float));
            cm_hf_forward_opts fo = {causal ? CM_ATTN_CAUSAL : CM_ATTN_BIDIRECTIONAL, threads};
            CHECK_OK(cm_hf_arch_decoder.forward(L.state, &b, &fo, H));
            struct { const char *key; cm_pool_kind kind; int excl; } pools[] = {
                {"last", CM_POOL_LAST, 0}, {"mean", CM_POOL_MEAN, 0}, {"mean_excl", CM_POOL_MEAN, 1},
                {"latent", CM_POOL_LATENT, 1}, {"latent_incl", CM_POOL_LATENT, 0}};
            for (size_t k = 0; k < sizeof pools / sizeof pools[0]; k++) {
                if (pools[k].kind == CM_POOL_LATENT && !is_nv) continue;
                if (pools[k].kind == CM_POOL_LATENT) {
                    CHECK_OK(cm_hf_arch_decoder.pool_latent(L.state, &b, H, pools[k].excl, threads, out));
                } else {
                    cm_pool_spec ps = {pools[k].kind, pools[k].excl, 0};
                    CHECK_OK(cm_hf_pool(&b, H, h, &ps, out));
                }
                size_t i = 0;
                for (const cJSON *c = cases->child; c; c = c->next, i++) {
                    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "outputs"), attn);
                    check_vec(name, pools[k].key, i, attn, out + i * h, cJSON_GetObjectItemCaseSensitive(o, pools[k].key), h);
                }
            }
            /* final hidden states of the first case */
            const cJSON *o0 = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(cases->child, "outputs"), attn);
            const cJSON *hid = cJSON_GetObjectItemCaseSensitive(o0, "hidden");
            CHECK((size_t)cJSON_GetArraySize(hid) == b.length[0]);
            size_t r = 0;
            for (const cJSON *row = hid ? hid->child : NULL; row; row = row->next, r++)
                check_vec(name, "hidden row", r, attn, H + r * h, row, h);
            /* one sequence alone gives the same rows as inside the packed batch */
            cm_hf_batch one = {0};
            CHECK_OK(cm_hf_batch_add(&one, b.ids + b.offset[1], b.length[1], b.n_instr[1]));
            float *H1 = malloc(one.n_tokens * h * sizeof(float));
            CHECK_OK(cm_hf_arch_decoder.forward(L.state, &one, &fo, H1));
            double md = 0;
            for (size_t t = 0; t < one.n_tokens * h; t++) {
                double dd = fabs(H1[t] - H[b.offset[1] * h + t]);
                md = dd > md ? dd : md;
            }
            CHECK(md < 1e-4);
            free(H1);
            cm_hf_batch_free(&one);
            free(H);
            free(out);
            cm_hf_batch_free(&b);
        }
    }
    printf("%s: %zu cases x 2 masks x 2 thread counts, worst relative error so far %.3g\n", name,
           (size_t)cJSON_GetArraySize(cases), worst_rel);
    unload(&L);
}

static void check_config_errors(void) {
    static const struct { const char *json, *want; } bad[] = {
        {"{\"model_type\": \"mistral\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"num_key_value_heads\": 3, \"intermediate_size\": 8, \"vocab_size\": 10}", "num_key_value_heads"},
        {"{\"model_type\": \"llama\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"rope_scaling\": {\"rope_type\": \"llama3\"}}", "rope_scaling"},
        {"{\"model_type\": \"mistral\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"hidden_act\": \"gelu\"}", "hidden_act"},
        {"{\"model_type\": \"nvembed\", \"hidden_size\": 64}", "text_config"},
        {"{\"model_type\": \"mistral\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8}", "vocab_size"},
        {"{\"model_type\": \"qwen2\", \"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, "
         "\"intermediate_size\": 8, \"vocab_size\": 10, \"use_sliding_window\": true, \"layer_types\": "
         "[\"full_attention\"]}", "layer_types"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *c = cJSON_Parse(bad[i].json);
        cm_hf_config cfg;
        int rc = cm_hf_arch_decoder.read_config(c, "/models/x", &cfg);
        CHECK(rc != CM_OK);
        CHECK((strstr(cm_last_error(), bad[i].want) && strstr(cm_last_error(), "/models/x/config.json")) ||
              (fprintf(stderr, "case %zu: %s\n", i, cm_last_error()), 0));
        cJSON_Delete(c);
    }
}

int main(void) {
    check_config_errors();
    run_model("mistral_tiny");
    run_model("qwen2_tiny");
    run_model("llama_tiny");
    run_model("nvembed_tiny");
    run_model("qwen3_tiny");
    printf("worst relative error %.3g (tolerance 1e-4)\n", worst_rel);
    return check_report();
}
