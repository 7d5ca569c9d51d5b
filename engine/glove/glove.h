/*
 * glove.h: word-vector tables (GloVe text files, converted once to a
 * memory-mapped binary) and sentence-transformers' WhitespaceTokenizer rules.
 * See glove_backend.c for the exact semantics and the binary format.
 *
 * Ownership: cm_glove_load allocates the table; cm_glove_free releases it.
 */
#ifndef CMTEB_ENGINE_GLOVE_H
#define CMTEB_ENGINE_GLOVE_H

#include <stddef.h>

typedef struct cm_glove cm_glove;

int    cm_glove_load(cm_glove **out, const char *path, int quiet);
void   cm_glove_free(cm_glove *g);
size_t cm_glove_dim(const cm_glove *g);
size_t cm_glove_size(const cm_glove *g);
/* Index of a word (exact bytes) or -1. */
long   cm_glove_lookup(const cm_glove *g, const char *w, size_t len);
const float *cm_glove_vector(const cm_glove *g, size_t i);   /* (dim), borrowed */
/* The vocabulary index a whitespace token maps to, or -1 when dropped.
 * scratch holds at least 3*len+8 bytes. */
long   cm_glove_token(const cm_glove *g, const char *tok, size_t len, char *scratch);
/* Mean of the kept tokens' vectors of text into out (dim). */
int    cm_glove_embed(const cm_glove *g, const char *text, float *out);

/* sentence-transformers' ENGLISH_STOP_WORDS (stopwords.c). */
int    cm_glove_is_stopword(const char *w, size_t len);
/* Lowercases UTF-8 as Python's str.lower() into out (room for 3*len bytes);
 * returns the length written. */
size_t cm_utf8_lower(const char *s, size_t len, char *out);

#endif
