/*
 * vocab.c: model outputs (cm_tok_pieces) and the string -> id hash map
 * (cm_tok_vocab, over cm_strmap) of tokenizer.h.
 */
#include "engine/tokenizer/tokenizer.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/strmap.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- cm_tok_pieces ----------------------------------------------------- */

int cm_tok_pieces_push(cm_tok_pieces *p, int32_t id, uint32_t start, uint32_t end) {
    if (p->n == p->cap) CM_TRY(cm_array_reserve2(p->ids, p->span, p->cap, cm_array_first(p->n + 1, 32)));
    p->ids[p->n] = id;
    p->span[p->n].start = start;
    p->span[p->n].end = end;
    p->n++;
    return CM_OK;
}

void cm_tok_pieces_free(cm_tok_pieces *p) {
    free(p->ids);
    free(p->span);
    memset(p, 0, sizeof *p);
}

/* ---- cm_tok_vocab: a cm_strmap with copied keys ----------------------- */

int cm_tok_vocab_new(cm_tok_vocab **out, size_t expected) {
    cm_strmap_params p = cm_strmap_default_params();
    p.expected = expected;
    p.copy_keys = 1;
    return cm_strmap_init(out, &p);
}

int cm_tok_vocab_put(cm_tok_vocab *v, const char *s, size_t len, int32_t id) {
    int rc = cm_strmap_putn(v, s, len, (uint64_t)(uint32_t)id);
    return rc < 0 ? rc : CM_OK;
}

int32_t cm_tok_vocab_get(const cm_tok_vocab *v, const char *s, size_t len) {
    uint64_t id;
    return cm_strmap_getn(v, s, len, &id) ? (int32_t)(uint32_t)id : -1;
}

size_t cm_tok_vocab_count(const cm_tok_vocab *v) { return cm_strmap_count(v); }

void cm_tok_vocab_free(cm_tok_vocab *v) { cm_strmap_free(v); }
