/*
 * test_latent.c: NV-Embed latent-attention pooling (latent.c) on the tiny
 * checkpoint tests/fixtures/dec/nvembed_tiny: the latents' K/V precomputed at
 * load equal LayerNorm_ctx(latents) . Wkv^T recomputed here in double from the
 * checkpoint; the pool mask rules (n_instr = 0 with exclusion = no exclusion;
 * a sequence that is all instruction falls back to all its tokens); a
 * sequence pooled alone equals the same sequence inside a packed batch, also
 * across the 64-token chunks the pooling works in; output L2 norm 1; and
 * thread count invariance.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/arch/decoder.h"
#include "engine/arch/latent.h"

#include <math.h>
#include <string.h>

static double maxdiff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

int main(void) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/dec/nvembed_tiny", check_env("CMTEB_SRC"));
    snprintf(p, sizeof p, "%s/config.json", dir);
    char *txt = NULL;
    size_t len;
    CHECK_OK(cm_read_file(p, &txt, &len));
    cJSON *config = txt ? cJSON_Parse(txt) : NULL;
    free(txt);
    cm_safetensors *st = NULL;
    CHECK_OK(cm_st_open(&st, dir));
    cm_hf_config cfg;
    cm_decoder *m = NULL;
    if (config) CHECK_OK(cm_hf_arch_decoder.read_config(config, dir, &cfg));
    if (config && st) CHECK_OK(cm_decoder_load(&m, &cfg, config, st, dir));
    if (!m) return check_report();
    const cm_latent *l = m->latent;
    CHECK(l && l->r == 16 && l->heads == 8 && l->dh == 8 && l->d == 64);

    /* K/V of the latents: double-precision recomputation from the checkpoint */
    {
        float *lat = NULL, *g = NULL, *b = NULL, *wkv = NULL;
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "latent_attention_model.latents"), &lat));
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "latent_attention_model.cross_attend_blocks.0.norm_context.weight"), &g));
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "latent_attention_model.cross_attend_blocks.0.norm_context.bias"), &b));
        CHECK_OK(cm_st_to_f32(cm_st_find(st, "latent_attention_model.cross_attend_blocks.0.fn.to_kv.weight"), &wkv));
        size_t d = 64, r = 16, kvw = 128;
        double worst = 0, scale = 0;
        for (size_t i = 0; lat && g && b && wkv && i < r; i++) {
            double mu = 0, var = 0, ln[64];
            for (size_t j = 0; j < d; j++) mu += lat[i * d + j];
            mu /= (double)d;
            for (size_t j = 0; j < d; j++) var += (lat[i * d + j] - mu) * (lat[i * d + j] - mu);
            var /= (double)d;
            for (size_t j = 0; j < d; j++) ln[j] = (lat[i * d + j] - mu) / sqrt(var + 1e-5) * g[j] + b[j];
            for (size_t o = 0; o < kvw; o++) {
                double s = 0;
                for (size_t j = 0; j < d; j++) s += ln[j] * wkv[o * d + j];
                worst = fmax(worst, fabs(s - l->kv[i * kvw + o]));
                scale = fmax(scale, fabs(s));
            }
        }
        CHECK(worst <= 1e-5 * scale);
        printf("latent K/V precompute: max abs error %.3g (max |kv| %.3g)\n", worst, scale);
        free(lat); free(g); free(b); free(wkv);
    }

    /* a packed batch: short, long (150 tokens, crosses the 64-token chunks), all-instruction */
    int32_t ids[150];
    for (int i = 0; i < 150; i++) ids[i] = 1 + (i * 37) % 999;
    cm_hf_batch bt = {0};
    CHECK_OK(cm_hf_batch_add(&bt, ids, 9, 4));
    CHECK_OK(cm_hf_batch_add(&bt, ids + 3, 150 - 3, 20));
    CHECK_OK(cm_hf_batch_add(&bt, ids + 7, 6, 6));       /* all instruction -> all tokens */
    CHECK_OK(cm_hf_batch_add(&bt, ids + 11, 12, 0));
    size_t d = 64;
    float *H = malloc(bt.n_tokens * d * sizeof(float));
    float *ex = malloc(bt.n_seqs * d * sizeof(float)), *in = malloc(bt.n_seqs * d * sizeof(float));
    CHECK_OK(cm_decoder_forward(m, &bt, 0, 2, H));
    CHECK_OK(cm_latent_pool(l, &bt, H, 1, 2, ex));
    CHECK_OK(cm_latent_pool(l, &bt, H, 0, 2, in));
    CHECK(maxdiff(ex + 2 * d, in + 2 * d, d) < 1e-6);    /* all-instruction sequence: whole sequence */
    CHECK(maxdiff(ex + 3 * d, in + 3 * d, d) < 1e-6);    /* n_instr 0 */
    CHECK(maxdiff(ex, in, d) > 1e-3);                    /* the exclusion does something */
    for (size_t s = 0; s < bt.n_seqs; s++) CHECK(fabs(cm_norm(ex + s * d, d) - 1.0) < 1e-5);
    float *one = malloc(d * sizeof(float)), *ex1 = malloc(bt.n_seqs * d * sizeof(float));
    for (size_t s = 0; s < bt.n_seqs; s++) {
        cm_hf_batch b1 = {0};
        CHECK_OK(cm_hf_batch_add(&b1, bt.ids + bt.offset[s], bt.length[s], bt.n_instr[s]));
        CHECK_OK(cm_latent_pool(l, &b1, H + bt.offset[s] * d, 1, 1, one));
        CHECK(maxdiff(one, ex + s * d, d) < 1e-6);
        cm_hf_batch_free(&b1);
    }
    CHECK_OK(cm_latent_pool(l, &bt, H, 1, 1, ex1));
    CHECK(maxdiff(ex1, ex, bt.n_seqs * d) < 1e-6);
    free(one); free(ex1); free(H); free(ex); free(in);
    cm_hf_batch_free(&bt);
    cm_decoder_free(m);
    cm_st_free(st);
    cJSON_Delete(config);
    return check_report();
}
