/*
 * test_gpu_parity.c: the CUDA engine (engine/cuda, gpu.h) against the CPU
 * engine on every model folder of tests/fixtures/hf and tests/fixtures/dec
 * that has weights (BERT, BERT with BF16 shards, BERT + two Dense modules,
 * MPNet's relative bias, RoBERTa positions, Llama with head_dim != h/heads,
 * Mistral's sliding window, Qwen2 biases, Qwen3 q/k norm, NV-Embed's latent
 * attention).
 *
 * For each model, both attention masks (bidirectional, causal) and both
 * roles (documents; queries with an instruction, so n_instr > 0): the CPU
 * vectors come from cm_hf_encode_multi (the engine's own path: tokenize,
 * forward, pool, Dense, L2); the GPU vectors from one cm_gpu_model_encode
 * over a batch holding the same token ids (tokenized here with the rules of
 * cm_hf_encode_multi: the formatted text truncated to max_length, n_instr =
 * tokens of the prompt prefix minus one), for every pooling kind with and
 * without the instruction tokens and with and without L2 (latent: NV-Embed
 * only). Tolerances: FP32 replica max |gpu - cpu| <= 1e-4 * max |cpu| per
 * vector (TF32 off); BF16 and FP16 replicas cosine >= 0.999 per vector.
 * Also: weight bytes ordered by dtype, batch bytes growing with the batch,
 * latent pooling refused on a model without the layer.
 *
 * Exit 77 (skipped) when the build has no CUDA or no GPU is visible.
 */
#include "check.h"
#include "fixture_models.h"

#include "cmteb/util.h"
#include "engine/cuda/gpu.h"
#include "engine/hf/hf_model.h"
#include "engine/tokenizer/tokenizer.h"

#include <math.h>
#include <string.h>

static const char *const TEXTS[] = {
    "hello",
    "A man is playing a guitar on the street.",
    "The quick brown fox jumps over the lazy dog while the cat sleeps on the warm windowsill, and far away a "
    "train whistles twice before it disappears into the long dark tunnel under the snowy mountains of the north; "
    "nobody on the platform notices, because everyone is reading the same newspaper about the same old election.",
    "Short one, with punctuation: yes!",
};
enum { NT = sizeof TEXTS / sizeof TEXTS[0] };
static const char *const INSTRUCTION = "Given a question, retrieve passages that answer it";

static double worst_fp32, worst_cos = 1.0;

/* The batch cm_hf_encode_multi builds for texts (in input order, unsorted). */
static int make_batch(const cm_hf_model *m, cm_role role, const char *instruction, cm_hf_batch *b) {
    const cm_tokenizer *tok = cm_hf_model_tokenizer(m);
    cm_tok_encoding enc = {0}, penc = {0};
    cm_tok_options opt = cm_tok_default_options();
    opt.max_length = cm_hf_model_settings(m)->max_length;
    int rc = CM_OK;
    for (size_t i = 0; rc == CM_OK && i < NT; i++) {
        char *full = NULL;
        size_t plen = 0, n_instr = 0;
        rc = cm_hf_model_format(m, TEXTS[i], role, instruction, &full, &plen);
        if (rc == CM_OK && plen) {
            char *prefix = cm_strndup(full, plen);
            cm_tok_options po = cm_tok_default_options();
            rc = prefix ? cm_tokenizer_encode(tok, prefix, &po, &penc) : CM_ERR_NOMEM;
            n_instr = penc.n ? penc.n - 1 : 0;
            free(prefix);
        }
        if (rc == CM_OK) rc = cm_tokenizer_encode(tok, full, &opt, &enc);
        if (rc == CM_OK) rc = cm_hf_batch_add(b, enc.ids, enc.n, n_instr);
        free(full);
    }
    cm_tok_encoding_free(&enc);
    cm_tok_encoding_free(&penc);
    return rc;
}

static void compare(const char *what, cm_gpu_dtype dt, const float *gpu, const float *cpu, size_t n, size_t d) {
    for (size_t i = 0; i < n; i++) {
        const float *g = gpu + i * d, *c = cpu + i * d;
        double mx = 0, md = 0, gg = 0, cc = 0, gc = 0;
        for (size_t j = 0; j < d; j++) {
            mx = fmax(mx, fabs(c[j]));
            md = fmax(md, fabs((double)g[j] - c[j]));
            gg += (double)g[j] * g[j];
            cc += (double)c[j] * c[j];
            gc += (double)g[j] * c[j];
        }
        if (dt == CM_GPU_FP32) {
            double r = mx > 0 ? md / mx : md;
            worst_fp32 = fmax(worst_fp32, r);
            if (!(r <= 1e-4)) fprintf(stderr, "%s fp32 text %zu: relative error %.3g\n", what, i, r);
            CHECK(r <= 1e-4);
        } else {
            double cs = gg > 0 && cc > 0 ? gc / sqrt(gg * cc) : (gg == cc ? 1.0 : 0.0);
            worst_cos = fmin(worst_cos, cs);
            if (!(cs >= 0.999)) fprintf(stderr, "%s %s text %zu: cosine %.6f\n", what, dt == CM_GPU_BF16 ? "bf16" :
                                        "fp16", i, cs);
            CHECK(cs >= 0.999);
        }
    }
}

static void run_model(const char *dir, const char *name) {
    static const char *const attn_names[] = {"bidirectional", "causal"};
    static const cm_gpu_dtype dts[] = {CM_GPU_FP32, CM_GPU_BF16, CM_GPU_FP16};
    for (int ai = 0; ai < 2; ai++) {
        cm_encoder_params ep = cm_encoder_default_params();
        ep.quiet = 1;
        ep.threads = 2;
        ep.device = "cpu";   /* the reference: the CPU engine */
        ep.attention = attn_names[ai];
        ep.query_template = "Instruct: {instruction}\nQuery: ";
        cm_hf_model *m = NULL;
        CHECK_OK(cm_hf_model_load(&m, dir, &ep, 1));
        if (!m) return;
        const cm_hf_config *cfg = cm_hf_model_config(m);
        size_t od = (size_t)cfg->out_dim;
        int latent = cm_hf_model_arch(m)->pool_latent && !strcmp(cfg->model_type, "nvembed");
        cm_pool_spec ps[16];
        size_t np = 0;
        static const cm_pool_kind kinds[] = {CM_POOL_CLS, CM_POOL_MEAN, CM_POOL_LAST, CM_POOL_WEIGHTEDMEAN,
                                             CM_POOL_MAX, CM_POOL_MEAN_SQRT};
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            for (int ex = 0; ex <= 1; ex++) ps[np++] = (cm_pool_spec){kinds[k], ex, ex};   /* normalize with ex */
        if (latent) {
            ps[np++] = (cm_pool_spec){CM_POOL_LATENT, 1, 1};
            ps[np++] = (cm_pool_spec){CM_POOL_LATENT, 0, 0};
        }
        float *cpu[2][16], *gpu[16];
        cm_hf_batch bs[2] = {{0}, {0}};
        for (int role = 0; role < 2; role++) {   /* the CPU's vectors and the batches, documents then queries */
            cm_role r = role ? CM_ROLE_QUERY : CM_ROLE_DOCUMENT;
            const char *ins = role ? INSTRUCTION : NULL;
            for (size_t k = 0; k < np; k++) cpu[role][k] = calloc(NT * od, sizeof(float));
            CHECK_OK(cm_hf_encode_multi(m, TEXTS, NT, r, ins, ps, np, cpu[role]));
            CHECK_OK(make_batch(m, r, ins, &bs[role]));
        }
        int any_instr = 0;
        for (size_t s = 0; s < bs[1].n_seqs; s++) any_instr |= bs[1].n_instr[s] > 0;
        CHECK(any_instr);
        for (size_t k = 0; k < np; k++) gpu[k] = calloc(NT * od, sizeof(float));
        size_t wb[3] = {0, 0, 0};
        int refused = 0;
        cm_attn_kind ak = ai ? CM_ATTN_CAUSAL : CM_ATTN_BIDIRECTIONAL;
        for (size_t di = 0; di < sizeof dts / sizeof dts[0]; di++) {
            int wrc = cm_gpu_weight_bytes(m, dts[di], &wb[di]);
            if (wrc == CM_ERR_UNSUPPORTED) {   /* an architecture the CUDA engine refuses by design (CPU only) */
                if (di == 0) printf("skip %s: %s\n", name, cm_last_error());
                CHECK(strstr(cm_last_error(), "CUDA engine does not run") != NULL);
                refused = 1;
                break;
            }
            CHECK_OK(wrc);
            cm_gpu_model *g = NULL;
            CHECK_OK(cm_gpu_model_load(&g, m, 0, dts[di]));
            if (!g) continue;
            size_t nb = bs[0].n_tokens;
            CHECK(cm_gpu_batch_bytes(g, nb, NT, 64) > 0);
            CHECK(cm_gpu_batch_bytes(g, 2 * nb, NT, 64) > cm_gpu_batch_bytes(g, nb, NT, 64));
            for (int role = 0; role < 2; role++) {
                for (size_t k = 0; k < np; k++) memset(gpu[k], 0, NT * od * sizeof(float));
                CHECK_OK(cm_gpu_model_encode(g, &bs[role], ak, ps, np, gpu));
                for (size_t k = 0; k < np; k++) {
                    char what[512];
                    snprintf(what, sizeof what, "%s %s %s %s excl=%d norm=%d", name, attn_names[ai],
                             role ? "query" : "document", cm_pool_name(ps[k].kind), ps[k].exclude_instr,
                             ps[k].normalize);
                    compare(what, dts[di], gpu[k], cpu[role][k], NT, od);
                }
            }
            if (!latent) {   /* latent pooling needs the layer */
                cm_pool_spec lp = {CM_POOL_LATENT, 0, 0};
                CHECK(cm_gpu_model_encode(g, &bs[0], ak, &lp, 1, gpu) == CM_ERR_ARG);
            }
            cm_gpu_model_free(g);
        }
        CHECK(refused || (wb[0] > wb[1] && wb[1] == wb[2]));   /* fp32 > bf16 == fp16 */
        for (size_t k = 0; k < np; k++) {
            free(cpu[0][k]);
            free(cpu[1][k]);
            free(gpu[k]);
        }
        cm_hf_batch_free(&bs[0]);
        cm_hf_batch_free(&bs[1]);
        cm_hf_model_free(m);
    }
}

int main(void) {
    if (!cm_gpu_built()) SKIP("built without CUDA");
    int n = 0;
    CHECK_OK(cm_gpu_count(&n));
    if (n == 0) SKIP("no GPU visible");
    cm_gpu_device dev;
    CHECK_OK(cm_gpu_device_info(0, &dev));
    printf("device 0: %s, sm_%d%d, %zu MiB\n", dev.name, dev.cc_major, dev.cc_minor, dev.mem_total >> 20);
    size_t models = fixture_models_each(run_model);
    CHECK(models >= 10);
    printf("%zu models; worst fp32 relative error %.3g, worst bf16/fp16 cosine %.6f\n", models, worst_fp32,
           worst_cos);
    return check_report();
}
