/*
 * vocab.c: model outputs (cm_tok_pieces) and the string -> id hash map
 * (cm_tok_vocab) of tokenizer.h.
 */
#include "engine/tokenizer/tokenizer.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- cm_tok_pieces ----------------------------------------------------- */

int cm_tok_pieces_push(cm_tok_pieces *p, int32_t id, uint32_t start, uint32_t end) {
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 32;
        int32_t *ni = cm_realloc(p->ids, nc * sizeof *ni);
        if (!ni) return CM_ERR_NOMEM;
        p->ids = ni;
        cm_tok_span *ns = cm_realloc(p->span, nc * sizeof *ns);
        if (!ns) return CM_ERR_NOMEM;
        p->span = ns;
        p->cap = nc;
    }
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

/* ---- cm_tok_vocab: open addressing, linear probing -------------------- */

typedef struct vslot {
    char    *s;     /* NULL = empty */
    uint32_t len;
    int32_t  id;
    uint64_t h;
} vslot;

struct cm_tok_vocab {
    vslot *slots;
    size_t cap;    /* power of two */
    size_t count;
};

static uint64_t vhash(const char *s, size_t len) { return cm_hash64(s, len, 0x9E3779B97F4A7C15ull); }

int cm_tok_vocab_new(cm_tok_vocab **out, size_t expected) {
    *out = NULL;
    cm_tok_vocab *v = cm_calloc(1, sizeof *v);
    if (!v) return CM_ERR_NOMEM;
    size_t cap = 64;
    while (cap < expected * 2 + 16) cap *= 2;
    v->slots = cm_calloc(cap, sizeof *v->slots);
    if (!v->slots) {
        free(v);
        return CM_ERR_NOMEM;
    }
    v->cap = cap;
    *out = v;
    return CM_OK;
}

static vslot *vfind(const cm_tok_vocab *v, const char *s, size_t len, uint64_t h) {
    size_t mask = v->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        vslot *sl = &v->slots[i];
        if (!sl->s) return sl;
        if (sl->h == h && sl->len == len && !memcmp(sl->s, s, len)) return sl;
    }
}

int cm_tok_vocab_put(cm_tok_vocab *v, const char *s, size_t len, int32_t id) {
    if ((v->count + 1) * 2 > v->cap) {
        size_t nc = v->cap * 2;
        vslot *ns = cm_calloc(nc, sizeof *ns);
        if (!ns) return CM_ERR_NOMEM;
        vslot *old = v->slots;
        size_t oc = v->cap;
        v->slots = ns;
        v->cap = nc;
        for (size_t i = 0; i < oc; i++)
            if (old[i].s) *vfind(v, old[i].s, old[i].len, old[i].h) = old[i];
        free(old);
    }
    uint64_t h = vhash(s, len);
    vslot *sl = vfind(v, s, len, h);
    if (sl->s) {
        sl->id = id;
        return CM_OK;
    }
    sl->s = cm_strndup(s, len);
    if (!sl->s) return CM_ERR_NOMEM;
    sl->len = (uint32_t)len;
    sl->id = id;
    sl->h = h;
    v->count++;
    return CM_OK;
}

int32_t cm_tok_vocab_get(const cm_tok_vocab *v, const char *s, size_t len) {
    const vslot *sl = vfind(v, s, len, vhash(s, len));
    return sl->s ? sl->id : -1;
}

size_t cm_tok_vocab_count(const cm_tok_vocab *v) { return v->count; }

void cm_tok_vocab_free(cm_tok_vocab *v) {
    if (!v) return;
    for (size_t i = 0; i < v->cap; i++) free(v->slots[i].s);
    free(v->slots);
    free(v);
}
