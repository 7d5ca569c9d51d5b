/*
 * aligned.h: text with alignment, the currency of the tokenizer pipeline
 * (engine/tokenizer/tokenizer.h): a UTF-8 string whose every byte remembers
 * the byte range of the original text it came from, and word lists made of
 * such strings. Normalizers (normalizer.h) rewrite a cm_tok_nstr;
 * pre-tokenizers map a cm_tok_words to another.
 *
 * Ownership: the structs are caller-owned (zero-initialise them); the
 * functions grow their arrays; *_free releases them and leaves the struct
 * zeroed.
 */
#ifndef CMTEB_ENGINE_TEXT_ALIGNED_H
#define CMTEB_ENGINE_TEXT_ALIGNED_H

#include <stddef.h>
#include <stdint.h>

#include "cmteb/tokenizer.h"

/* cm_tok_span (a byte range of the input text) is public: cmteb/tokenizer.h. */

/* A UTF-8 string being normalized, with, for every byte, the range of the
 * original text it came from (a byte produced from the original character
 * at [a, b) carries {a, b}; inserted bytes carry the range of the character
 * they were inserted next to). */
typedef struct cm_tok_nstr {
    char        *s;      /* NUL-terminated, owned */
    cm_tok_span *align;  /* (len) owned */
    size_t       len, cap;
} cm_tok_nstr;

/* Appends n bytes, each aligned to span. */
int  cm_tok_nstr_append(cm_tok_nstr *s, const char *bytes, size_t n, cm_tok_span span);
/* Empties s, keeping its arrays for reuse. */
void cm_tok_nstr_clear(cm_tok_nstr *s);
/* Releases s's arrays. */
void cm_tok_nstr_free(cm_tok_nstr *s);
/* Swaps contents (used to build a transformed copy then replace). */
void cm_tok_nstr_swap(cm_tok_nstr *a, cm_tok_nstr *b);

/* The words a pre-tokenizer produces: word i is text[off[i] .. off[i+1])
 * with per-byte alignment in s.align. Pre-tokenizers map a word list to a
 * new word list (so Sequence composes). */
typedef struct cm_tok_words {
    cm_tok_nstr s;       /* all words concatenated */
    size_t     *off;     /* (n + 1) word boundaries in s */
    size_t      n, cap;
} cm_tok_words;

/* Appends one word (n bytes with per-byte spans, align may be NULL for
 * "all bytes aligned to span"). */
int  cm_tok_words_add(cm_tok_words *w, const char *bytes, size_t n, const cm_tok_span *align, cm_tok_span span);
/* Empties w, keeping its arrays for reuse. */
void cm_tok_words_clear(cm_tok_words *w);
/* Releases w's arrays. */
void cm_tok_words_free(cm_tok_words *w);

#endif
