/*
 * aligned.c: aligned strings (cm_tok_nstr) and word lists (cm_tok_words)
 * (see aligned.h).
 */
#include "engine/text/aligned.h"

#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- cm_tok_nstr ------------------------------------------------------- */

static int nstr_reserve(cm_tok_nstr *s, size_t need) {
    if (need + 1 <= s->cap) return CM_OK;
    size_t nc = s->cap ? s->cap : 64;
    while (nc < need + 1) nc *= 2;
    char *ns = cm_realloc(s->s, nc);
    if (!ns) return CM_ERR_NOMEM;
    s->s = ns;
    cm_tok_span *na = cm_realloc(s->align, nc * sizeof *na);
    if (!na) return CM_ERR_NOMEM;
    s->align = na;
    s->cap = nc;
    return CM_OK;
}

int cm_tok_nstr_append(cm_tok_nstr *s, const char *bytes, size_t n, cm_tok_span span) {
    CM_TRY(nstr_reserve(s, s->len + n));
    memcpy(s->s + s->len, bytes, n);
    for (size_t i = 0; i < n; i++) s->align[s->len + i] = span;
    s->len += n;
    s->s[s->len] = '\0';
    return CM_OK;
}

void cm_tok_nstr_clear(cm_tok_nstr *s) {
    s->len = 0;
    if (s->s) s->s[0] = '\0';
}

void cm_tok_nstr_free(cm_tok_nstr *s) {
    free(s->s);
    free(s->align);
    memset(s, 0, sizeof *s);
}

void cm_tok_nstr_swap(cm_tok_nstr *a, cm_tok_nstr *b) {
    cm_tok_nstr t = *a;
    *a = *b;
    *b = t;
}

/* ---- cm_tok_words ------------------------------------------------------ */

int cm_tok_words_add(cm_tok_words *w, const char *bytes, size_t n, const cm_tok_span *align, cm_tok_span span) {
    if (w->n + 2 > w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 32;
        size_t *no = cm_realloc(w->off, nc * sizeof *no);
        if (!no) return CM_ERR_NOMEM;
        w->off = no;
        w->cap = nc;
    }
    if (w->n == 0) w->off[0] = w->s.len;
    CM_TRY(nstr_reserve(&w->s, w->s.len + n));
    memcpy(w->s.s + w->s.len, bytes, n);
    for (size_t i = 0; i < n; i++) w->s.align[w->s.len + i] = align ? align[i] : span;
    w->s.len += n;
    w->s.s[w->s.len] = '\0';
    w->n++;
    w->off[w->n] = w->s.len;
    return CM_OK;
}

void cm_tok_words_clear(cm_tok_words *w) {
    cm_tok_nstr_clear(&w->s);
    w->n = 0;
    if (w->off) w->off[0] = 0;
}

void cm_tok_words_free(cm_tok_words *w) {
    cm_tok_nstr_free(&w->s);
    free(w->off);
    memset(w, 0, sizeof *w);
}
