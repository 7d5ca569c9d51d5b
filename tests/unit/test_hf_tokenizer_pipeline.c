/*
 * test_hf_tokenizer_pipeline.c: tokenizer.json components beyond BERT's
 * defaults against HF tokenizers (fixture from tests/reference/
 * ref_tok_wordpiece.js): Sequence[NFD, Lowercase, StripAccents, Strip]
 * normalizer, Sequence[WhitespaceSplit] pre-tokenizer, BertProcessing, a
 * short max_input_chars_per_word, and added tokens with lstrip/rstrip,
 * single_word and normalized options; plus offsets and error messages.
 */
#include "check.h"

#include "cmteb/util.h"
#include "engine/tokenizer/tokenizer.h"

#include <string.h>

static int same(const cm_tok_encoding *e, const cJSON *arr) {
    if ((size_t)cJSON_GetArraySize(arr) != e->n) return 0;
    size_t i = 0;
    for (const cJSON *v = arr->child; v; v = v->next, i++)
        if (v->valueint != e->ids[i]) return 0;
    return 1;
}

int main(void) {
    char dir[4096], p[4200];
    snprintf(dir, sizeof dir, "%s/tests/fixtures/hf/pipeline-tok", check_env("CMTEB_SRC"));
    snprintf(p, sizeof p, "%s/tokenizer.json.gz", dir);
    cm_tokenizer *t = NULL;
    CHECK_OK(cm_tokenizer_load_json(&t, p));
    snprintf(p, sizeof p, "%s/expected.json", dir);
    char *text = NULL;
    size_t len = 0;
    CHECK_OK(cm_read_file(p, &text, &len));
    cJSON *exp = text ? cJSON_Parse(text) : NULL;
    free(text);
    CHECK(t && cJSON_IsArray(exp));
    if (!t || !exp) return check_report();
    cm_tok_encoding e = {0};
    cm_tok_options o = cm_tok_default_options();
    int n = 0;
    for (const cJSON *c = exp->child; c; c = c->next, n++) {
        const char *s = cJSON_GetObjectItemCaseSensitive(c, "text")->valuestring;
        o.add_special_tokens = 1;
        CHECK_OK(cm_tokenizer_encode(t, s, &o, &e));
        int ok = same(&e, cJSON_GetObjectItemCaseSensitive(c, "ids"));
        o.add_special_tokens = 0;
        CHECK_OK(cm_tokenizer_encode(t, s, &o, &e));
        ok &= same(&e, cJSON_GetObjectItemCaseSensitive(c, "plain"));
        if (!ok) fprintf(stderr, "mismatch for [%s]\n", s);
        CHECK(ok);
    }
    printf("%d texts compared\n", n);
    /* offsets point into the original text, through NFD and added-token stripping */
    o.add_special_tokens = 1;
    const char *s = "  Héllo <ent> x";
    CHECK_OK(cm_tokenizer_encode(t, s, &o, &e));
    CHECK(e.n >= 4 && e.special[0] && e.offsets[0].start == 0 && e.offsets[0].end == 0);
    CHECK(e.offsets[1].start == 2 && e.offsets[1].end == 8);   /* "Héllo" incl. the 2-byte é */
    CHECK(e.ids[2] == cm_tokenizer_token_to_id(t, "<ent>") && e.special[2]);
    CHECK(e.offsets[2].start == 8 && e.offsets[2].end == 15);  /* lstrip/rstrip absorbed the spaces */
    cm_tok_encoding_free(&e);
    cm_tokenizer_free(t);
    cJSON_Delete(exp);

    /* errors name the file and the field */
    char bad[4200];
    snprintf(bad, sizeof bad, "%s/bad-tokenizer.json", check_env("CMTEB_TMP")[0] ? check_env("CMTEB_TMP") : "/tmp");
    const char *j1 = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0}, \"unk_token\": \"[UNK]\"}}";
    CHECK_OK(cm_write_file_atomic(bad, j1, strlen(j1)));
    CHECK(cm_tokenizer_load_json(&t, bad) == CM_ERR_FORMAT && strstr(cm_last_error(), "unk_token"));
    const char *j2 = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"normalizer\": {\"type\": \"Bogus\"}}";
    CHECK_OK(cm_write_file_atomic(bad, j2, strlen(j2)));
    CHECK(cm_tokenizer_load_json(&t, bad) != CM_OK && strstr(cm_last_error(), "Bogus"));
    const char *j3 = "{\"model\": 3}";
    CHECK_OK(cm_write_file_atomic(bad, j3, strlen(j3)));
    CHECK(cm_tokenizer_load_json(&t, bad) == CM_ERR_FORMAT && strstr(cm_last_error(), "'model'"));
    const char *j4 = "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"[UNK]\": 0}}, \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"[CLS]\"}}], \"special_tokens\": {}}}";
    CHECK_OK(cm_write_file_atomic(bad, j4, strlen(j4)));
    CHECK(cm_tokenizer_load_json(&t, bad) == CM_ERR_FORMAT && strstr(cm_last_error(), "[CLS]"));
    CHECK(t == NULL);
    return check_report();
}
