/*
 * fuzz_tokenizer.c: libFuzzer harness for tokenizer.json loading
 * (engine/tokenizer/, cm_tokenizer_load_json): the input is the file; a
 * tokenizer that loads then encodes a few texts, with and without truncation.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz_write("tokenizer.json", data, size);
    char path[4096];
    cm_tokenizer *t = NULL;
    if (cm_tokenizer_load_json(&t, fz_path(path, "tokenizer.json")) == CM_OK) {
        static const char *const texts[] = {"Hello, world!", "", "  the QUICK brown fox  ", "caf\xc3\xa9 na\xc3\xafve",
                                            "\xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 12345", "[CLS] a\xff\xfe b"};
        cm_tok_encoding enc = {0};
        cm_tok_options o = cm_tok_default_options();
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
            o.max_length = i % 2 ? 4 : 0;
            o.add_special_tokens = i != 2;
            if (cm_tokenizer_encode(t, texts[i], &o, &enc) == CM_OK)
                for (size_t k = 0; k < enc.n; k++) (void)cm_tokenizer_id_to_token(t, enc.ids[k]);
        }
        cm_tok_encoding_free(&enc);
        (void)cm_tokenizer_token_to_id(t, "[UNK]");
    }
    cm_tokenizer_free(t);
    return 0;
}
