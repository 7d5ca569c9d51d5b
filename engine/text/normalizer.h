/*
 * normalizer.h: the tokenizer.json normalizers, as small vtables over
 * aligned text (aligned.h), following huggingface/tokenizers semantics:
 *
 *   bert_normalizers.c  BertNormalizer, Lowercase, NFD, StripAccents, Strip,
 *                       and the Sequence wrapper
 *   normalizers.c       Prepend, Replace (String or Regex, regex.h), NFC, NFKC, NFKD, Nmt
 *   nfc.c               NFC/NFKC/NFKD with per-byte alignment (tables in nfc_tables.c,
 *                       nfkc_tables.c: generated from Debian python3's unicodedata)
 *   precompiled.c       Precompiled (SentencePiece's precompiled_charsmap)
 *
 * Each type has a JSON constructor (j is the component's object, path the
 * tokenizer.json path for messages); engine/tokenizer/components.c maps the
 * "type" strings to them. An implementation embeds cm_tok_normalizer as its
 * FIRST member and casts.
 *
 * Ownership: constructors allocate *out; the caller releases it with
 * (*out)->free(*out). The normalizer and pre-tokenizer run separately on
 * each stretch of text between added tokens, as in HF.
 */
#ifndef CMTEB_ENGINE_TEXT_NORMALIZER_H
#define CMTEB_ENGINE_TEXT_NORMALIZER_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "engine/text/aligned.h"

typedef struct cm_tok_normalizer cm_tok_normalizer;
struct cm_tok_normalizer {
    /* Rewrites s in place (or into a scratch string then swaps). */
    int  (*normalize)(const cm_tok_normalizer *self, cm_tok_nstr *s);
    void (*free)(cm_tok_normalizer *self);
};

/* A JSON constructor: builds the normalizer j describes into *out. */
typedef int (*cm_tok_normalizer_ctor)(cm_tok_normalizer **out, const cJSON *j, const char *path);

typedef struct cm_tok_bert_norm_opts {
    int clean_text;            /* default 1 */
    int handle_chinese_chars;  /* default 1 */
    int strip_accents;         /* -1 = follow lowercase (JSON null), 0, 1 */
    int lowercase;             /* default 1 */
} cm_tok_bert_norm_opts;
/* Allocates a BertNormalizer with options o. */
int cm_tok_bert_normalizer_new(cm_tok_normalizer **out, cm_tok_bert_norm_opts o);
/* Wraps items[0..n) into a Sequence normalizer; takes ownership of the items
 * (released, with the array's contents, on failure too; the array itself
 * stays the caller's). */
int cm_tok_norm_sequence_new(cm_tok_normalizer **out, cm_tok_normalizer *const *items, size_t n);

/* JSON constructors, one per tokenizer.json normalizer type. */
int cm_tok_norm_bert_json(cm_tok_normalizer **out, const cJSON *j, const char *path);         /* BertNormalizer */
int cm_tok_norm_lowercase_json(cm_tok_normalizer **out, const cJSON *j, const char *path);    /* Lowercase */
int cm_tok_norm_nfd_json(cm_tok_normalizer **out, const cJSON *j, const char *path);          /* NFD */
int cm_tok_norm_strip_accents_json(cm_tok_normalizer **out, const cJSON *j, const char *path);/* StripAccents */
int cm_tok_norm_strip_json(cm_tok_normalizer **out, const cJSON *j, const char *path);        /* Strip */
int cm_tok_norm_prepend_json(cm_tok_normalizer **out, const cJSON *j, const char *path);      /* Prepend */
int cm_tok_norm_replace_json(cm_tok_normalizer **out, const cJSON *j, const char *path);      /* Replace */
int cm_tok_norm_nfc_json(cm_tok_normalizer **out, const cJSON *j, const char *path);          /* NFC */
int cm_tok_norm_nfkc_json(cm_tok_normalizer **out, const cJSON *j, const char *path);         /* NFKC */
int cm_tok_norm_nfkd_json(cm_tok_normalizer **out, const cJSON *j, const char *path);         /* NFKD */
int cm_tok_norm_nmt_json(cm_tok_normalizer **out, const cJSON *j, const char *path);          /* Nmt */
int cm_tok_norm_precompiled_json(cm_tok_normalizer **out, const cJSON *j, const char *path);  /* Precompiled */

/* NFC of in into out (out cleared first); each output character is aligned
 * to the union of the original spans of the characters it came from. */
int cm_bpe_nfc(const cm_tok_nstr *in, cm_tok_nstr *out);
/* NFKC / NFKD of in into out, aligned the same way. */
int cm_bpe_nfkc(const cm_tok_nstr *in, cm_tok_nstr *out);
int cm_bpe_nfkd(const cm_tok_nstr *in, cm_tok_nstr *out);

/* Reads a "pattern" field {"String": s} or {"Regex": r}; *pat borrowed from j.
 * owner names the component for messages ("pre_tokenizer Split"). */
int cm_bpe_json_pattern(const cJSON *j, const char *path, const char *owner, const char **pat, int *is_regex);

#endif
