/*
 * fuzz_hf_config.c: libFuzzer harness for a model folder's JSON files
 * (engine/hf/: config.json and the sentence-transformers module files),
 * loaded with cm_hf_model_load(weights = 0). The input is NUL-separated:
 * config.json, modules.json, sentence_bert_config.json, 1_Pooling/config.json,
 * config_sentence_transformers.json (a missing part: no such file). The
 * folder's tokenizer.json is the fixed one of tests/fixtures/hf/bert-tiny.
 */
#include "fuzz_common.h"

#include "cmteb/status.h"
#include "cmteb/util.h"
#include "engine/hf/hf_model.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const files[] = {"m/config.json", "m/modules.json", "m/sentence_bert_config.json",
                                    "m/1_Pooling/config.json", "m/config_sentence_transformers.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready;
    if (!ready) {
        char *tok = NULL;
        size_t len = 0;
        if (cm_read_file(CMTEB_SOURCE_DIR "/tests/fixtures/hf/bert-tiny/tokenizer.json", &tok, &len) != CM_OK) {
            fprintf(stderr, "fuzz_hf_config: %s\n", cm_last_error());
            abort();
        }
        fz_write("m/tokenizer.json", tok, len);
        free(tok);
        ready = 1;
    }
    fz_write_parts(data, size, files, sizeof files / sizeof *files);
    char dir[4096];
    cm_encoder_params p = cm_encoder_default_params();
    p.quiet = 1;
    p.threads = 1;
    cm_hf_model *m = NULL;
    (void)cm_hf_model_load(&m, fz_path(dir, "m"), &p, 0);
    cm_hf_model_free(m);
    return 0;
}
