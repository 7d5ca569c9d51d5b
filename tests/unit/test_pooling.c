/*
 * test_pooling.c: the generic poolings of engine/arch/model.c on a packed
 * batch with hand-computed expectations: CLS (first token), last token,
 * mean, sentence-transformers' weighted mean (weights 1..L), leaving
 * instruction tokens out (and the whole-sequence fallback when nothing is
 * left), L2 normalisation, pooling-name parsing, and batch bookkeeping.
 */
#include "check.h"

#include "engine/arch/model.h"

#include <string.h>

int main(void) {
    cm_hf_batch b = {0};
    int32_t s0[3] = {5, 6, 7}, s1[2] = {8, 9};
    CHECK_OK(cm_hf_batch_add(&b, s0, 3, 1));
    CHECK_OK(cm_hf_batch_add(&b, s1, 2, 5));   /* n_instr clamps to the length */
    CHECK(cm_hf_batch_add(&b, s1, 0, 0) == CM_ERR_ARG);
    CHECK(b.n_seqs == 2 && b.n_tokens == 5 && b.offset[1] == 3 && b.length[1] == 2 && b.n_instr[1] == 2);
    CHECK(b.ids[3] == 8);
    /* hidden (5 tokens, d = 2): token t = (t + 1, -(t + 1)) */
    float h[10];
    for (int t = 0; t < 5; t++) {
        h[2 * t] = (float)(t + 1);
        h[2 * t + 1] = (float)-(t + 1);
    }
    float out[4];
    cm_pool_spec p = {CM_POOL_CLS, 0, 0};
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK(out[0] == 1 && out[1] == -1 && out[2] == 4 && out[3] == -4);
    p.kind = CM_POOL_LAST;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK(out[0] == 3 && out[2] == 5);
    p.kind = CM_POOL_MEAN;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK_NEAR(out[0], 2.0, 1e-6);      /* (1+2+3)/3 */
    CHECK_NEAR(out[2], 4.5, 1e-6);      /* (4+5)/2 */
    p.exclude_instr = 1;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK_NEAR(out[0], 2.5, 1e-6);      /* (2+3)/2: first token left out */
    CHECK_NEAR(out[2], 4.5, 1e-6);      /* everything was instruction: whole sequence */
    p.kind = CM_POOL_WEIGHTEDMEAN;
    p.exclude_instr = 0;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK_NEAR(out[0], (1 * 1 + 2 * 2 + 3 * 3) / 6.0, 1e-6);
    CHECK_NEAR(out[2], (1 * 4 + 2 * 5) / 3.0, 1e-6);
    p.exclude_instr = 1;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK_NEAR(out[0], (2 * 2 + 3 * 3) / 5.0, 1e-6);   /* weights keep their positions */
    p.kind = CM_POOL_MEAN;
    p.exclude_instr = 0;
    p.normalize = 1;
    CHECK_OK(cm_hf_pool(&b, h, 2, &p, out));
    CHECK_NEAR(out[0], 1 / sqrt(2.0), 1e-6);
    CHECK_NEAR(out[1], -1 / sqrt(2.0), 1e-6);
    p.kind = CM_POOL_LATENT;
    CHECK(cm_hf_pool(&b, h, 2, &p, out) == CM_ERR_ARG);

    cm_pool_kind k;
    CHECK_OK(cm_pool_parse("lasttoken", &k));
    CHECK(k == CM_POOL_LAST);
    CHECK_OK(cm_pool_parse("weightedmean", &k));
    CHECK(k == CM_POOL_WEIGHTEDMEAN);
    CHECK_OK(cm_pool_parse("max_tokens", &k));
    CHECK(k == CM_POOL_MAX);
    CHECK_OK(cm_pool_parse("mean_sqrt_len_tokens", &k));
    CHECK(k == CM_POOL_MEAN_SQRT);
    CHECK(!strcmp(cm_pool_name(CM_POOL_MEAN_SQRT), "mean_sqrt_len"));
    CHECK(cm_pool_parse("median", &k) == CM_ERR_ARG);
    CHECK(strstr(cm_last_error(), "cls, mean, last, weightedmean, max, mean_sqrt_len") != NULL);
    CHECK(!strcmp(cm_pool_name(CM_POOL_MEAN), "mean"));

    cm_hf_batch_clear(&b);
    CHECK(b.n_seqs == 0 && b.n_tokens == 0);
    cm_hf_batch_free(&b);
    cm_hf_batch_free(NULL);
    return check_report();
}
