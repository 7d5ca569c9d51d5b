/*
 * regex.h: a small backtracking regular-expression matcher over
 * Unicode code points, enough for the Split / ByteLevel patterns found in
 * tokenizer.json files (GPT-2, Llama 3, Qwen2, GPT-4o style). It follows
 * Oniguruma's semantics (leftmost match; alternatives tried in order; greedy
 * quantifiers that backtrack). Supported syntax: literals and escapes (\r \n \t
 * \f \v \xHH \x{H..} \uHHHH and escaped punctuation), classes [...] and [^...]
 * with ranges, \s \S \d \D \w \W \p{..} \P{..} (general categories), '.',
 * groups (...) (?:...) (?i:...), lookahead (?=...) (?!...), alternation, and
 * the quantifiers ? * + {m} {m,} {m,n} (greedy, or lazy with a trailing ?).
 * Anything else is an error naming the pattern and the offset.
 *
 * Ownership: cm_bpe_regex_compile allocates *out; cm_bpe_regex_free releases
 * it (NULL is fine). Matching borrows the subject.
 */
#ifndef CMTEB_ENGINE_TEXT_REGEX_H
#define CMTEB_ENGINE_TEXT_REGEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct cm_bpe_regex cm_bpe_regex;

int  cm_bpe_regex_compile(const char *pattern, cm_bpe_regex **out);
void cm_bpe_regex_free(cm_bpe_regex *r);

/* Finds the leftmost non-empty match in s[from..n) (code points). Returns 1
 * and sets *mstart and *mend (end exclusive) when found, 0 otherwise. */
int cm_bpe_regex_find(const cm_bpe_regex *r, const uint32_t *s, size_t n, size_t from,
                      size_t *mstart, size_t *mend);

#endif
