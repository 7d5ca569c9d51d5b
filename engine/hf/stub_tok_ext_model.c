/*
 * stub_tok_ext_model.c: placeholder for the cm_tok_ext_model hook (tokenizer.h)
 * until engine/hf/tokenizer_bpe*.c (issue 6) defines it; says plainly that the
 * component type is not supported yet.
 * H5: delete this file in the commit that adds your cm_tok_ext_model.
 */
#include "engine/hf/tokenizer.h"
#include "cmteb/status.h"

static const char *type_of(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    return cJSON_IsString(t) ? t->valuestring : "?";
}

int cm_tok_ext_model(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    return cm_error(CM_ERR_UNSUPPORTED, "%s: tokenizer model type '%s' is not supported yet (BPE and "
                    "Unigram tokenizers arrive with the decoder engine)", path, type_of(j));
}
