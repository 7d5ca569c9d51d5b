/*
 * components.c: the tables from tokenizer.json component "type" strings to
 * constructors, and the dispatchers that use them (see tokenizer.h). A new
 * normalizer, pre-tokenizer or model type is one row here plus its
 * constructor; the "not supported" messages list the rows.
 */
#include "engine/tokenizer/tokenizer.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int norm_sequence_json(cm_tok_normalizer **out, const cJSON *j, const char *path);
static int pretok_sequence_json(cm_tok_pretok **out, const cJSON *j, const char *path);

const cm_tok_normalizer_type cm_tok_normalizer_types[] = {
    {"BertNormalizer", cm_tok_norm_bert_json},
    {"Lowercase", cm_tok_norm_lowercase_json},
    {"StripAccents", cm_tok_norm_strip_accents_json},
    {"NFD", cm_tok_norm_nfd_json},
    {"NFC", cm_tok_norm_nfc_json},
    {"NFKC", cm_tok_norm_nfkc_json},
    {"NFKD", cm_tok_norm_nfkd_json},
    {"Precompiled", cm_tok_norm_precompiled_json},
    {"Nmt", cm_tok_norm_nmt_json},
    {"Strip", cm_tok_norm_strip_json},
    {"Prepend", cm_tok_norm_prepend_json},
    {"Replace", cm_tok_norm_replace_json},
    {"Sequence", norm_sequence_json},
    {NULL, NULL},
};

const cm_tok_pretok_type cm_tok_pretok_types[] = {
    {"BertPreTokenizer", cm_tok_pretok_bert_json},
    {"WhitespaceSplit", cm_tok_pretok_whitespace_split_json},
    {"Metaspace", cm_tok_pretok_metaspace_json},
    {"ByteLevel", cm_tok_pretok_bytelevel_json},
    {"Split", cm_tok_pretok_split_json},
    {"Digits", cm_tok_pretok_digits_json},
    {"Sequence", pretok_sequence_json},
    {NULL, NULL},
};

const cm_tok_model_type cm_tok_model_types[] = {
    {"WordPiece", cm_tok_model_wordpiece_json},
    {"BPE", cm_tok_model_bpe_json},
    {"Unigram", cm_tok_model_unigram_json},
    {NULL, NULL},
};

static const char *jtype(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
    return cJSON_IsString(t) ? t->valuestring : NULL;
}

/* "A, B, C" from a table's type column (rows of stride bytes, type first). */
static void type_list(char *buf, size_t cap, const void *table, size_t stride) {
    size_t len = 0;
    buf[0] = '\0';
    for (const char *row = table; *(const char *const *)row; row += stride) {
        int w = snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", *(const char *const *)row);
        if (w < 0 || (size_t)w >= cap - len) break;
        len += (size_t)w;
    }
}

static int unsupported(const char *path, const char *kind, const char *type, const void *table, size_t stride,
                       const char *extra) {
    char list[512];
    type_list(list, sizeof list, table, stride);
    return cm_error(CM_ERR_UNSUPPORTED, "%s: %s type '%s' is not supported (supported: %s%s)", path, kind, type, list,
                    extra);
}

int cm_tok_normalizer_from_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: normalizer: expected an object with a \"type\" string", path);
    for (const cm_tok_normalizer_type *t = cm_tok_normalizer_types; t->type; t++)
        if (!strcmp(t->type, type)) return t->make(out, j, path);
    return unsupported(path, "normalizer", type, cm_tok_normalizer_types, sizeof cm_tok_normalizer_types[0], "");
}

int cm_tok_pretok_from_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer: expected an object with a \"type\" string", path);
    for (const cm_tok_pretok_type *t = cm_tok_pretok_types; t->type; t++)
        if (!strcmp(t->type, type)) return t->make(out, j, path);
    return unsupported(path, "pre_tokenizer", type, cm_tok_pretok_types, sizeof cm_tok_pretok_types[0], "");
}

int cm_tok_model_from_json(cm_tok_model **out, const cJSON *j, const char *path) {
    *out = NULL;
    const char *type = jtype(j);
    const cJSON *vocab = cJSON_GetObjectItemCaseSensitive(j, "vocab");
    if (!type && cJSON_IsObject(vocab) && cJSON_GetObjectItemCaseSensitive(j, "continuing_subword_prefix"))
        type = "WordPiece";   /* some files omit the type */
    if (!type) return cm_error(CM_ERR_FORMAT, "%s: model: expected an object with a \"type\" string", path);
    for (const cm_tok_model_type *t = cm_tok_model_types; t->type; t++)
        if (!strcmp(t->type, type)) return t->make(out, j, path);
    return unsupported(path, "tokenizer model", type, cm_tok_model_types, sizeof cm_tok_model_types[0], "");
}

/* ---- Sequence: built from the tables, recursively --------------------- */

static int norm_sequence_json(cm_tok_normalizer **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "normalizers");
    if (!cJSON_IsArray(arr))
        return cm_error(CM_ERR_FORMAT, "%s: normalizer Sequence: expected \"normalizers\": [...]", path);
    size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
    cm_tok_normalizer **items = cm_calloc(n ? n : 1, sizeof *items);
    if (!items) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (const cJSON *it = arr->child; it && rc == CM_OK; it = it->next)
        if ((rc = cm_tok_normalizer_from_json(&items[k], it, path)) == CM_OK) k++;
    if (rc == CM_OK) rc = cm_tok_norm_sequence_new(out, items, k);
    else
        for (size_t i = 0; i < k; i++) items[i]->free(items[i]);
    free(items);
    return rc;
}

static int pretok_sequence_json(cm_tok_pretok **out, const cJSON *j, const char *path) {
    *out = NULL;
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(j, "pretokenizers");
    if (!cJSON_IsArray(arr))
        return cm_error(CM_ERR_FORMAT, "%s: pre_tokenizer Sequence: expected \"pretokenizers\": [...]", path);
    size_t n = (size_t)cJSON_GetArraySize(arr), k = 0;
    cm_tok_pretok **items = cm_calloc(n ? n : 1, sizeof *items);
    if (!items) return CM_ERR_NOMEM;
    int rc = CM_OK;
    for (const cJSON *it = arr->child; it && rc == CM_OK; it = it->next)
        if ((rc = cm_tok_pretok_from_json(&items[k], it, path)) == CM_OK) k++;
    if (rc == CM_OK) rc = cm_tok_pretok_sequence_new(out, items, k);
    else
        for (size_t i = 0; i < k; i++) items[i]->free(items[i]);
    free(items);
    return rc;
}
