/*
 * aligned.c: aligned strings (cm_tok_nstr) and word lists (cm_tok_words)
 * (see aligned.h).
 */
#include "engine/text/aligned.h"

#include "cmteb/array.h"
#include "cmteb/status.h"
#include "cmteb/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- cm_tok_nstr ------------------------------------------------------- */

/* Room for need bytes and the NUL (align grows with s, one capacity). */
static int nstr_reserve(cm_tok_nstr *s, size_t need) {
    if (need + 1 <= s->cap) return CM_OK;
    return cm_array_reserve2(s->s, s->align, s->cap, cm_array_first(need + 1, 64));
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
    if (w->n + 2 > w->cap) CM_TRY(cm_array_reserve(w->off, w->cap, cm_array_first(w->n + 2, 32)));
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
