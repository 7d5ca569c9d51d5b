/*
 * test_tokenizer_wordpiece.c: token ids of the C WordPiece pipeline against
 * Hugging Face `tokenizers` (fixture written by
 * tests/reference/ref_tok_wordpiece.js with a real bert-base-uncased
 * vocabulary): ~10k texts from STS-B, SICK-R, Banking77, Amazon
 * counterfactual and SciFact (read from $CMTEB_SHARED/data by reference)
 * plus hand-made hard cases (accents, CJK, emoji, control characters, long
 * words, special tokens in text). Checks tokenizer.json uncased and cased,
 * without special tokens, truncation to 16, and the vocab.txt loader.
 */
#include "check.h"

#include "cmteb/records.h"
#include "cmteb/util.h"
#include "engine/tokenizer/tokenizer.h"

#include <string.h>

static int same_ids(const cm_tok_encoding *e, const cJSON *arr) {
    if (!cJSON_IsArray(arr) || (size_t)cJSON_GetArraySize(arr) != e->n) return 0;
    size_t i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++)
        if ((int32_t)v->valueint != e->ids[i]) return 0;
    return 1;
}

static void show(const char *what, const char *text, const cm_tok_encoding *e, const cJSON *arr) {
    char *exp = cJSON_PrintUnformatted(arr);
    fprintf(stderr, "MISMATCH %s for text [%.200s]\n  expected %s\n  got     [", what, text, exp ? exp : "?");
    for (size_t i = 0; i < e->n; i++) fprintf(stderr, "%s%d", i ? "," : "", e->ids[i]);
    fprintf(stderr, "]\n");
    free(exp);
}

int main(void) {
    const char *src = check_env("CMTEB_SRC");
    char fix[4096], data[4096];
    snprintf(fix, sizeof fix, "%s/tests/fixtures/hf", src);
    snprintf(data, sizeof data, "%s/data", check_env("CMTEB_SHARED"));
    int have_data = cm_dir_exists(data);

    char p1[4200], p2[4200], p3[4200], p4[4200];
    snprintf(p1, sizeof p1, "%s/bert-uncased-tok/tokenizer.json.gz", fix);
    snprintf(p2, sizeof p2, "%s/bert-cased-tok/tokenizer.json.gz", fix);
    snprintf(p3, sizeof p3, "%s/bert-uncased-tok/vocab.txt.gz", fix);
    snprintf(p4, sizeof p4, "%s/tok_wordpiece_expected.jsonl.gz", fix);
    cm_tokenizer *unc = NULL, *cas = NULL, *voc = NULL;
    CHECK_OK(cm_tokenizer_load_json(&unc, p1));
    CHECK_OK(cm_tokenizer_load_json(&cas, p2));
    CHECK_OK(cm_tokenizer_load_vocab(&voc, p3, 1));
    if (!unc || !cas || !voc) return check_report();
    CHECK(cm_tokenizer_vocab_size(unc) == 30522);
    CHECK(cm_tokenizer_num_special(unc) == 2);
    CHECK(cm_tokenizer_token_to_id(unc, "[CLS]") == 101);
    CHECK(!strcmp(cm_tokenizer_id_to_token(unc, 1996), "the"));
    CHECK(!strcmp(cm_tokenizer_model_type(unc), "WordPiece"));

    cm_records *r = NULL;
    CHECK_OK(cm_records_open(&r, p4));
    if (!r) return check_report();
    cm_records *srcr = NULL;
    char cur_src[512] = "";
    long cur_row = -1;
    cJSON *row = NULL;
    cm_tok_encoding e = {0};
    size_t n_texts = 0, n_tokens = 0, n_bad = 0, n_skipped = 0;
    cJSON *obj;
    int rc;
    while ((rc = cm_records_next(r, &obj)) == 1) {
        const cJSON *jt = cJSON_GetObjectItemCaseSensitive(obj, "text");
        const char *text = NULL;
        if (cJSON_IsString(jt)) {
            text = jt->valuestring;
        } else {
            if (!have_data) { n_skipped++; continue; }
            const char *s = cJSON_GetObjectItemCaseSensitive(obj, "src")->valuestring;
            long want = (long)cJSON_GetObjectItemCaseSensitive(obj, "row")->valuedouble;
            const char *field = cJSON_GetObjectItemCaseSensitive(obj, "field")->valuestring;
            if (strcmp(s, cur_src) != 0) {
                cm_records_close(srcr);
                srcr = NULL;
                char path[4700];
                snprintf(path, sizeof path, "%s/%s", data, s);
                CHECK_OK(cm_records_open(&srcr, path));
                if (!srcr) break;
                snprintf(cur_src, sizeof cur_src, "%s", s);
                cur_row = -1;
            }
            while (cur_row < want) {
                if (cm_records_next(srcr, &row) != 1) { row = NULL; break; }
                cur_row++;
            }
            const cJSON *f = row ? cJSON_GetObjectItemCaseSensitive(row, field) : NULL;
            CHECK(cJSON_IsString(f));
            if (!cJSON_IsString(f)) continue;
            text = f->valuestring;
            CHECK((double)strlen(text) == cJSON_GetObjectItemCaseSensitive(obj, "len")->valuedouble);
        }
        n_texts++;
        int bad = 0;
        cm_tok_options o = cm_tok_default_options();
        CHECK_OK(cm_tokenizer_encode(unc, text, &o, &e));
        n_tokens += e.n;
        if (!same_ids(&e, cJSON_GetObjectItemCaseSensitive(obj, "uncased"))) {
            if (n_bad < 15) show("uncased", text, &e, cJSON_GetObjectItemCaseSensitive(obj, "uncased"));
            bad = 1;
        }
        CHECK_OK(cm_tokenizer_encode(voc, text, &o, &e));
        if (!same_ids(&e, cJSON_GetObjectItemCaseSensitive(obj, "uncased"))) {
            if (n_bad < 15) show("vocab.txt", text, &e, cJSON_GetObjectItemCaseSensitive(obj, "uncased"));
            bad = 1;
        }
        CHECK_OK(cm_tokenizer_encode(cas, text, &o, &e));
        if (!same_ids(&e, cJSON_GetObjectItemCaseSensitive(obj, "cased"))) {
            if (n_bad < 15) show("cased", text, &e, cJSON_GetObjectItemCaseSensitive(obj, "cased"));
            bad = 1;
        }
        o.add_special_tokens = 0;
        CHECK_OK(cm_tokenizer_encode(unc, text, &o, &e));
        if (!same_ids(&e, cJSON_GetObjectItemCaseSensitive(obj, "plain"))) {
            if (n_bad < 15) show("plain", text, &e, cJSON_GetObjectItemCaseSensitive(obj, "plain"));
            bad = 1;
        }
        o.add_special_tokens = 1;
        o.max_length = 16;
        CHECK_OK(cm_tokenizer_encode(unc, text, &o, &e));
        if (!same_ids(&e, cJSON_GetObjectItemCaseSensitive(obj, "trunc"))) {
            if (n_bad < 15) show("trunc16", text, &e, cJSON_GetObjectItemCaseSensitive(obj, "trunc"));
            bad = 1;
        }
        n_bad += (size_t)bad;
        CHECK(!bad);
    }
    CHECK(rc == 0);
    printf("compared %zu texts (%zu tokens uncased), %zu mismatched, %zu skipped (no shared data)\n", n_texts,
           n_tokens, n_bad, n_skipped);
    cm_records_close(srcr);
    cm_records_close(r);
    cm_tok_encoding_free(&e);
    cm_tokenizer_free(unc);
    cm_tokenizer_free(cas);
    cm_tokenizer_free(voc);
    if (check_failed_ == 0 && !have_data) SKIP("shared/data absent: only the hand-made cases were compared");
    return check_report();
}
